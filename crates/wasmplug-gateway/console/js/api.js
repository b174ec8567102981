// Talking to the gateway. The admin token lives in this tab's sessionStorage and travels
// only in the `Authorization: Bearer` header, never in a URL (which is also why the live
// stream is read with fetch: EventSource cannot send headers).

const KEY = 'wasmplug.console.token';

export const session = {
  get token() { return sessionStorage.getItem(KEY); },
  set(token) { sessionStorage.setItem(KEY, token); },
  clear() { sessionStorage.removeItem(KEY); },
};

let onUnauthorized = () => {};

/** What to do when the gateway stops accepting the token (401/403). */
export function whenUnauthorized(f) { onUnauthorized = f; }

/**
 * One request. Resolves to `{ok, status, json}` whatever the status (the console shows
 * the API's answer, errors included); rejects only when the gateway cannot be reached.
 */
export async function request(method, path, body, token = session.token) {
  const headers = { Authorization: `Bearer ${token}` };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, {
    method, headers, body: payload, cache: 'no-store', credentials: 'omit', redirect: 'error',
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { text }; }
  if ((response.status === 401 || response.status === 403)
      && json?.error?.class !== 'cross_origin' && token === session.token) {
    onUnauthorized(json?.error?.message ?? `HTTP ${response.status}`);
  }
  return { ok: response.ok, status: response.status, json };
}

/** A GET whose failure is an exception. */
export async function get(path) {
  const answer = await request('GET', path);
  if (!answer.ok) {
    const error = answer.json?.error;
    throw new Error(error ? `${error.class}: ${error.message}` : `HTTP ${answer.status}`);
  }
  return answer.json;
}

/**
 * Reads the live stream until it ends or `signal` aborts, calling `onEvent(kind, data)`
 * for every server-sent event.
 */
export async function stream(onEvent, signal) {
  const response = await fetch('/console/api/stream', {
    headers: { Authorization: `Bearer ${session.token}`, Accept: 'text/event-stream' },
    cache: 'no-store', credentials: 'omit', signal,
  });
  if (!response.ok) {
    if (response.status === 401 || response.status === 403) onUnauthorized(`HTTP ${response.status}`);
    throw new Error(`stream: HTTP ${response.status}`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let kind = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) kind = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(kind, JSON.parse(data.join('\n')));
    }
  }
}
