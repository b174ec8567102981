// Building DOM nodes without ever parsing HTML: every string becomes a text node or an
// attribute value, so text that comes from plugins (names, descriptions, error messages)
// cannot turn into markup. Nothing in the console uses innerHTML.

/** Creates `<tag>` with properties and children (strings become text nodes). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'data') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  return append(node, children);
}

/** Appends children: nodes as they are, anything else as text. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Sets a node's text, if it changed. */
export function setText(node, text) {
  const value = String(text);
  if (node && node.textContent !== value) node.textContent = value;
}

/** The link to a plugin's page (names are validated by the gateway; encoded anyway). */
export function pluginHref(name) {
  return `#/plugin/${encodeURIComponent(name)}`;
}
