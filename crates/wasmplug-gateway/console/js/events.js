// The events page: the registry's event stream live (loaded, rejected, rolled back,
// breaker opened/closed, ...), newest first, filterable by plugin. Event texts (reasons
// come from plugins and their error messages) are rendered as text.

import { el, setText } from './dom.js';
import * as fmt from './format.js';

/** One line describing an event's details. */
export function describe(e) {
  switch (e.event) {
    case 'loaded': return `${e.version} (sha256 ${String(e.sha256).slice(0, 12)}…)`;
    case 'rejected': return `${e.class}: ${e.reason}`;
    case 'degraded': return `${e.failed} failed, ${e.serving} serves: ${e.reason}`;
    case 'rolled_back': return `${e.from} → ${e.to}: ${e.reason}`;
    case 'weights_changed': return (e.weights ?? []).map(([v, w]) => `${v}: ${w}`).join(', ');
    case 'version_removed': return e.version;
    case 'breaker': return `${e.version} ${e.state}`;
    default: return '';
  }
}

export function eventsPage(root, ctx) {
  const filter = el('select', { id: 'event-filter' }, el('option', { value: '', text: 'all plugins' }));
  const list = el('ol', { id: 'events', class: 'history' });
  const status = el('p', { class: 'muted' });
  root.append(el('h1', { text: 'Events' }),
    el('p', {}, el('label', { for: 'event-filter', text: 'Plugin ' }), filter), status, list);

  const row = (e) => el('li', { class: `event ${e.event}`, data: { event: e.event, plugin: e.plugin ?? '' } },
    el('time', { text: fmt.time(e.at) }), ' ', el('strong', { text: e.event }), ' ',
    el('span', { class: 'plugin', text: e.plugin ?? '' }), ' ', el('span', { class: 'detail', text: describe(e) }));

  async function load() {
    const plugin = filter.value;
    const query = plugin ? `?plugin=${encodeURIComponent(plugin)}` : '';
    try {
      const { events } = await ctx.get(`/console/api/events${query}`);
      list.replaceChildren(...events.reverse().map(row));
      setText(status, events.length ? `${events.length} events (newest first; the gateway keeps the last 1000)` : 'No events yet.');
    } catch (e) {
      setText(status, `Cannot load the events: ${e.message}`);
    }
  }

  async function plugins() {
    try {
      const { plugins: all } = await ctx.get('/console/api/overview');
      const names = new Set(all.map((p) => p.name));
      for (const option of filter.querySelectorAll('option')) if (option.value) names.add(option.value);
      const selected = filter.value;
      filter.replaceChildren(el('option', { value: '', text: 'all plugins' }),
        ...[...names].sort().map((n) => el('option', { value: n, text: n, selected: n === selected })));
    } catch (e) { /* the list still works unfiltered */ }
  }

  filter.addEventListener('change', load);
  plugins().then(load);
  return {
    refresh: load,
    onEvent(e) {
      if (filter.value && e.plugin !== filter.value) return;
      list.prepend(row(e));
    },
  };
}
