// Per-version time-series charts over the gateway's samples (the last 15 minutes), drawn
// with the vendored uPlot. Series labels are version strings; uPlot renders labels with
// textContent.

import uPlot from '../vendor/uplot/uPlot.esm.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const KEEP = 900;

/** The charts of one plugin page: calls/s, errors/s, latency p50/p99. */
export class Charts {
  constructor(container) {
    this.container = container;
    this.plots = [];
    this.versions = [];
    this.data = { t: [], versions: {} };
  }

  /** Replaces everything with the API's series. */
  load(series) {
    this.data = { t: series.t.map((ms) => ms / 1000), versions: series.versions };
    this.rebuild(Object.keys(series.versions));
  }

  /** Appends one tick's points of `plugin`. */
  push(tick, plugin) {
    const points = tick.versions.filter((v) => v.plugin === plugin);
    const names = points.map((p) => p.version);
    if (names.some((n) => !this.versions.includes(n)) || this.versions.some((n) => !names.includes(n))) {
      for (const n of names) {
        if (!this.data.versions[n]) {
          const empty = () => this.data.t.map(() => null);
          this.data.versions[n] = { calls_per_s: empty(), errors_per_s: empty(), p50_ms: empty(), p99_ms: empty() };
        }
      }
      for (const n of Object.keys(this.data.versions)) if (!names.includes(n)) delete this.data.versions[n];
      this.data.t.push(tick.at / 1000);
      for (const n of names) this.pushPoint(n, points.find((p) => p.version === n).point);
      this.trim();
      this.rebuild(names);
      return;
    }
    this.data.t.push(tick.at / 1000);
    for (const n of this.versions) this.pushPoint(n, points.find((p) => p.version === n).point);
    this.trim();
    this.update();
  }

  pushPoint(version, p) {
    const s = this.data.versions[version];
    s.calls_per_s.push(p.calls_per_s);
    s.errors_per_s.push(p.errors_per_s);
    s.p50_ms.push(p.p50_ms);
    s.p99_ms.push(p.p99_ms);
  }

  trim() {
    const extra = this.data.t.length - KEEP;
    if (extra <= 0) return;
    this.data.t.splice(0, extra);
    for (const s of Object.values(this.data.versions)) for (const a of Object.values(s)) a.splice(0, extra);
  }

  specs() {
    const v = this.versions;
    const s = this.data.versions;
    const color = (i) => COLORS[i % COLORS.length];
    return [
      { title: 'Calls/s', series: v.map((n, i) => ({ label: n, stroke: color(i), values: () => s[n].calls_per_s })) },
      { title: 'Errors/s', series: v.map((n, i) => ({ label: n, stroke: color(i), values: () => s[n].errors_per_s })) },
      {
        title: 'Latency p50 / p99 (ms)',
        series: v.flatMap((n, i) => [
          { label: `${n} p50`, stroke: color(i), values: () => s[n].p50_ms },
          { label: `${n} p99`, stroke: color(i), dash: [6, 4], values: () => s[n].p99_ms },
        ]),
      },
    ];
  }

  rebuild(versions) {
    this.versions = [...versions];
    for (const p of this.plots) p.plot.destroy();
    this.plots = [];
    this.container.replaceChildren();
    const width = Math.max(320, Math.min(this.container.clientWidth || 900, 1200));
    for (const spec of this.specs()) {
      const holder = document.createElement('div');
      holder.className = 'chart';
      this.container.append(holder);
      const options = {
        title: spec.title,
        width,
        height: 180,
        // At least a minute wide (a lone sample would otherwise span years), at most what is kept.
        scales: { x: { time: true, range: (u, min, max) => [Math.min(min ?? max - 60, max - 60), max] } },
        axes: [{}, { size: 60 }],
        series: [{}, ...spec.series.map((x) => ({ label: x.label, stroke: x.stroke, width: 2, dash: x.dash, spanGaps: false }))],
      };
      const plot = new uPlot(options, this.columns(spec), holder);
      this.plots.push({ plot, spec });
    }
  }

  columns(spec) {
    return [this.data.t, ...spec.series.map((x) => x.values())];
  }

  update() {
    for (const { plot, spec } of this.plots) plot.setData(this.columns(spec));
  }

  destroy() {
    for (const p of this.plots) p.plot.destroy();
    this.plots = [];
  }
}
