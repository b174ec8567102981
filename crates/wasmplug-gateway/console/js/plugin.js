// One plugin's page: live per-version charts, the versions table, weights with sliders,
// actions (roll back, reload, unload, upload) each confirmed first and answered with the
// API's answer, and the plugin's reload / rejection history with reasons.

import { el, setText } from './dom.js';
import { Charts } from './charts.js';
import { describe } from './events.js';
import * as fmt from './format.js';
import { applyTick, versionTable } from './plugins.js';

const HISTORY = ['loaded', 'rejected', 'degraded', 'rolled_back', 'unloaded', 'version_removed',
  'weights_changed', 'routing_changed', 'breaker'];

/** Base64 of an ArrayBuffer, in chunks (modules can be megabytes). */
function base64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function pluginPage(root, ctx, name) {
  const path = `/v1/admin/plugins/${encodeURIComponent(name)}`;
  const title = el('h1', {}, el('a', { href: '#/plugins', class: 'crumb', text: 'Plugins' }), ' / ', el('span', { id: 'plugin-title', text: name }));
  const description = el('p', { class: 'description', id: 'plugin-description' });
  const status = el('p', { class: 'muted' });
  const chartBox = el('div', { class: 'charts', id: 'charts' });
  const table = el('div', { id: 'versions' });
  const weights = el('div', { id: 'weights', class: 'weights' });
  const answer = el('pre', { id: 'answer', class: 'answer', hidden: true });
  const history = el('ol', { id: 'history', class: 'history' });
  const manifestInput = el('input', { type: 'file', id: 'upload-manifest', accept: '.toml,text/plain' });
  const moduleInput = el('input', { type: 'file', id: 'upload-module', accept: '.wasm,.wat,application/wasm' });

  const actions = el('div', { class: 'actions' },
    el('button', { id: 'action-rollback', type: 'button', onclick: () => act('Roll back', 'POST', `${path}/rollback`, `Send all traffic of ${name} back to the version that served before the latest deploy?`) }, 'Roll back'),
    el('button', { id: 'action-reload', type: 'button', onclick: () => act('Reload', 'POST', `${path}/reload`, `Reload ${name} from its manifest on disk?`) }, 'Reload'),
    el('button', { id: 'action-unload', type: 'button', class: 'danger', onclick: () => act('Unload', 'DELETE', path, `Unload ${name}? Its files stay on disk; in-flight calls finish.`) }, 'Unload'));
  const upload = el('div', { class: 'upload' },
    el('label', { for: 'upload-manifest', text: 'plugin.toml ' }), manifestInput,
    el('label', { for: 'upload-module', text: ' module (.wasm / .wat) ' }), moduleInput,
    el('button', { id: 'action-upload', type: 'button', onclick: uploadVersion }, 'Upload version'));

  root.append(title, description, status,
    el('h2', { text: 'Last 15 minutes' }), chartBox,
    el('h2', { text: 'Versions' }), table,
    el('h2', { text: 'Weights' }), weights,
    el('h2', { text: 'Actions' }), actions, upload,
    el('h3', { text: 'Answer of the gateway' }), answer,
    el('h2', { text: 'Reload and rejection history' }), history);

  const charts = new Charts(chartBox);
  let plugin = null;
  let timer = null;

  function showAnswer(label, result) {
    answer.hidden = false;
    const error = result.json?.error;
    answer.className = `answer ${result.ok ? 'ok' : 'bad'}`;
    answer.dataset.status = String(result.status);
    answer.dataset.class = error?.class ?? '';
    const head = `${label}: HTTP ${result.status}`;
    setText(answer, error
      ? `${head}\n${error.class}: ${error.message}`
      : `${head}\n${JSON.stringify(result.json, null, 2)}`);
  }

  async function act(label, method, url, question, body) {
    if (!(await ctx.confirm(question))) return;
    try {
      showAnswer(label, await ctx.request(method, url, body));
    } catch (e) {
      showAnswer(label, { ok: false, status: 0, json: { error: { class: 'network', message: e.message } } });
    }
    refresh();
  }

  async function uploadVersion() {
    const [manifest, module] = [manifestInput.files[0], moduleInput.files[0]];
    if (!manifest || !module) {
      showAnswer('Upload', { ok: false, status: 0, json: { error: { class: 'missing_file', message: 'choose a plugin.toml and a module first' } } });
      return;
    }
    const body = { manifest: await manifest.text(), wasm_base64: base64(await module.arrayBuffer()) };
    await act('Upload', 'PUT', path, `Upload ${module.name} (${fmt.bytes(module.size)}) with ${manifest.name} as a new version of ${name}?`, body);
  }

  // Sliders the operator moved and did not apply yet are left alone by refreshes.
  let dirty = false;

  function renderWeights() {
    const current = [...weights.querySelectorAll('input.weight')].map((s) => s.dataset.version);
    const versions = plugin.versions.map((v) => v.version);
    if (current.join() === versions.join()) {
      if (dirty) return;
      for (const v of plugin.versions) {
        weights.querySelector(`input[data-version="${CSS.escape(v.version)}"]`).value = String(v.weight);
        setText(weights.querySelector(`output[data-version="${CSS.escape(v.version)}"]`), v.weight);
      }
      return;
    }
    dirty = false;
    const sliders = plugin.versions.map((v) => {
      const output = el('output', { id: `weight-value-${v.version}`, data: { version: v.version }, text: String(v.weight) });
      const slider = el('input', {
        type: 'range', min: 0, max: 100, step: 1, value: v.weight, id: `weight-${v.version}`,
        class: 'weight', data: { version: v.version },
        oninput: (e) => { dirty = true; setText(output, e.target.value); },
      });
      return el('div', { class: 'weight-row' }, el('label', { for: slider.id, text: v.version }), slider, output);
    });
    const apply = el('button', {
      id: 'apply-weights', type: 'button', class: 'primary',
      onclick: async () => {
        const body = { weights: Object.fromEntries([...weights.querySelectorAll('input.weight')].map((s) => [s.dataset.version, Number(s.value)])) };
        const text = Object.entries(body.weights).map(([v, w]) => `${v}: ${w}`).join(', ');
        dirty = false;
        await act('Weights', 'PUT', `${path}/weights`, `Set the weights of ${name} to ${text}?`, body);
      },
    }, 'Apply weights');
    weights.replaceChildren(...sliders, apply);
  }

  function addHistory(entry) {
    if (!HISTORY.includes(entry.event)) return;
    const item = el('li', { class: `event ${entry.event}`, data: { event: entry.event } },
      el('time', { text: fmt.time(entry.at) }), ' ', el('strong', { text: entry.event }), ' ', describe(entry));
    history.prepend(item);
  }

  async function refresh() {
    try {
      const overview = await ctx.get('/console/api/overview');
      plugin = overview.plugins.find((p) => p.name === name) ?? null;
      if (!plugin) {
        setText(status, `${name} is not loaded.`);
        table.replaceChildren();
        weights.replaceChildren();
        return;
      }
      setText(description, plugin.description || '(no description)');
      setText(status, [plugin.current ? `serving ${plugin.current}` : 'no traffic',
        plugin.rollback_to ? `rollback goes to ${plugin.rollback_to}` : null,
        plugin.degraded ? `degraded: ${plugin.degraded.failed} failed (${plugin.degraded.class}: ${plugin.degraded.reason})` : null,
        plugin.rules ? 'rollout rules set' : null].filter(Boolean).join(' · '));
      table.replaceChildren(versionTable(plugin));
      renderWeights();
    } catch (e) {
      setText(status, `Cannot load ${name}: ${e.message}`);
    }
  }

  async function start() {
    await refresh();
    try {
      charts.load(await ctx.get(`/console/api/plugins/${encodeURIComponent(name)}/series`));
    } catch (e) { /* not loaded: the status says so */ }
    try {
      const { events } = await ctx.get(`/console/api/events?plugin=${encodeURIComponent(name)}`);
      for (const entry of events) addHistory(entry);
    } catch (e) { /* shown by the status line */ }
  }
  start();

  return {
    refresh,
    onTick(tick) {
      applyTick(table, tick);
      if (plugin) charts.push(tick, name);
    },
    onEvent(entry) {
      if (entry.plugin !== name) return;
      addHistory(entry);
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    },
    unmount() { clearTimeout(timer); charts.destroy(); },
  };
}
