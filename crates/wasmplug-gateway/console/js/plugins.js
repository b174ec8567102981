// The plugins page: every plugin with its versions, weights or rules, breaker state,
// live calls/s, error rate by class, p50/p99, instances, memory high-water, fuel, its
// functions and its grants (secrets masked by the gateway). Live cells update on every
// tick of the stream; the page reloads the overview when the registry reports a change.

import { el, pluginHref, setText } from './dom.js';
import * as fmt from './format.js';

const COLUMNS = [
  ['version', 'Version'], ['weight', 'Weight'], ['breaker', 'Breaker'], ['calls', 'Calls'],
  ['calls_per_s', 'Calls/s'], ['error_rate', 'Error rate'], ['errors', 'Errors by class'],
  ['p50', 'p50'], ['p99', 'p99'], ['instances', 'Instances live/idle'],
  ['memory', 'Memory high-water'], ['fuel', 'Fuel'],
];

/** The text of each live cell of a version row. */
export function liveCells(live) {
  return {
    weight: `${live.weight}`,
    breaker: live.breaker,
    calls: fmt.count(live.calls),
    calls_per_s: fmt.rate(live.calls_per_s),
    error_rate: fmt.percent(live.error_rate),
    errors: fmt.errorClasses(live.errors),
    p50: fmt.ms(live.p50_ms),
    p99: fmt.ms(live.p99_ms),
    instances: `${live.instances[0]} / ${live.instances[1]}`,
    memory: fmt.bytes(live.memory_high_water),
    fuel: fmt.count(live.fuel_consumed),
  };
}

/** Updates the rows of `root` from a tick. */
export function applyTick(root, tick) {
  for (const v of tick.versions) {
    const row = [...root.querySelectorAll('tr[data-version]')]
      .find((r) => r.dataset.plugin === v.plugin && r.dataset.version === v.version);
    if (!row) continue;
    for (const [field, text] of Object.entries(liveCells(v))) {
      setText(row.querySelector(`[data-field="${field}"]`), text);
    }
    row.dataset.breaker = v.breaker;
    const last = row.nextElementSibling?.classList.contains('last-error') ? row.nextElementSibling : null;
    if (last && v.last_error) setText(last.querySelector('.message'), `${v.last_error.class}: ${v.last_error.message}`);
  }
}

export function versionTable(plugin) {
  const head = el('tr', {}, COLUMNS.map(([, label]) => el('th', { text: label })));
  const rows = [];
  for (const v of plugin.versions) {
    const cells = liveCells(v.live);
    rows.push(el('tr', { data: { plugin: plugin.name, version: v.version, breaker: v.live.breaker } },
      COLUMNS.map(([field]) => (field === 'version'
        ? el('td', { class: 'version', text: v.version + (plugin.current === v.version ? ' (current)' : '') })
        : el('td', { data: { field }, text: cells[field] })))));
    rows.push(el('tr', { class: 'last-error', hidden: !v.live.last_error },
      el('td', { colspan: COLUMNS.length },
        el('span', { class: 'label', text: 'last error ' }),
        el('span', { class: 'message', text: v.live.last_error ? `${v.live.last_error.class}: ${v.live.last_error.message}` : '' }))));
  }
  return el('table', { class: 'versions' }, el('thead', {}, head), el('tbody', {}, rows));
}

function routing(plugin) {
  if (!plugin.rules) {
    const weights = plugin.versions.map((v) => `${v.version}: ${v.weight}`).join(', ');
    return el('p', { class: 'routing' }, el('span', { class: 'label', text: 'Weights ' }), weights);
  }
  const rules = (plugin.rules.rules ?? []).map((r) => el('li', { text: `${r.name} → ${r.to} ${JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !['name', 'to'].includes(k))))}` }));
  return el('div', { class: 'routing' }, el('span', { class: 'label', text: 'Rules ' }),
    el('ol', {}, rules), el('span', { text: `default: ${JSON.stringify(plugin.rules.default ?? {})}` }));
}

function grants(v) {
  const g = v.grants ?? {};
  const list = (title, items) => el('div', {}, el('span', { class: 'label', text: `${title} ` }),
    items && items.length ? items.join(', ') : 'none');
  return el('div', { class: 'grants' },
    el('div', {}, el('span', { class: 'label', text: 'Functions ' }), (v.functions ?? []).join(', ')),
    list('fs', g.fs), list('env', g.env), list('net', g.net),
    list('config', (v.config_keys ?? []).map((k) => `${k} = ••••`)),
    el('div', {}, el('span', { class: 'label', text: 'Limits ' }),
      Object.entries(v.limits ?? {}).filter(([, x]) => x !== null).map(([k, x]) => `${k} ${x}`).join(' · ')));
}

export function pluginCard(plugin) {
  const serving = plugin.versions.find((v) => v.version === plugin.current) ?? plugin.versions.at(-1);
  return el('section', { class: 'card plugin', data: { plugin: plugin.name } },
    el('h2', {}, el('a', { href: pluginHref(plugin.name), class: 'plugin-name', text: plugin.name }),
      plugin.current ? el('span', { class: 'badge', text: `serving ${plugin.current}` }) : el('span', { class: 'badge warn', text: 'no traffic' }),
      plugin.degraded ? el('span', { class: 'badge bad', text: `degraded: ${plugin.degraded.failed} failed` }) : null,
      plugin.rollback_to ? el('span', { class: 'badge', text: `rollback → ${plugin.rollback_to}` }) : null),
    el('p', { class: 'description', text: plugin.description || '(no description)' }),
    plugin.degraded ? el('p', { class: 'error degraded', text: `${plugin.degraded.class}: ${plugin.degraded.reason}` }) : null,
    routing(plugin),
    versionTable(plugin),
    serving ? el('details', {}, el('summary', { text: `Functions, grants and limits (${serving.version})` }), grants(serving)) : null);
}

export function pluginsPage(root, ctx) {
  const list = el('div', { id: 'plugins' });
  const status = el('p', { class: 'muted', text: 'Loading…' });
  root.append(el('h1', { text: 'Plugins' }),
    el('p', { class: 'muted', text: 'Calls/s, error rate and p50/p99 are over the last 10 seconds; calls, errors by class, memory and fuel since each version loaded.' }),
    status, list);
  let timer = null;

  async function refresh() {
    try {
      const overview = await ctx.get('/console/api/overview');
      list.replaceChildren(...overview.plugins.map(pluginCard));
      setText(status, overview.plugins.length === 0 ? 'No plugins loaded.' : `${overview.plugins.length} plugins`);
    } catch (e) {
      setText(status, `Cannot load the plugins: ${e.message}`);
    }
  }
  refresh();
  return {
    refresh,
    onTick(tick) { applyTick(list, tick); },
    onEvent() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    },
    unmount() { clearTimeout(timer); },
  };
}
