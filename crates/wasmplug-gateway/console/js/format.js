// Number and time formats of the console.

export function rate(x) {
  if (x === null || x === undefined) return '–';
  return x >= 100 ? `${x.toFixed(0)}/s` : `${x.toFixed(1)}/s`;
}

export function percent(x) {
  if (x === null || x === undefined) return '–';
  return `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;
}

export function ms(x) {
  if (x === null || x === undefined) return '–';
  if (x < 1) return `${(x * 1000).toFixed(0)} µs`;
  return x < 100 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`;
}

export function bytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function count(n) {
  return (n ?? 0).toLocaleString('en-US');
}

export function time(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

/** `{"guest": 3, "trap": 1}` as `guest 3 · trap 1`. */
export function errorClasses(errors) {
  const entries = Object.entries(errors ?? {});
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ${v}`).join(' · ');
}

/** Semver-ish ordering of version strings, oldest first. */
export function byVersion(a, b) {
  const parts = (v) => v.split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    if (x[i] === y[i]) continue;
    if (x[i] === undefined) return -1;
    if (y[i] === undefined) return 1;
    return typeof x[i] === typeof y[i] ? (x[i] < y[i] ? -1 : 1) : (typeof x[i] === 'number' ? -1 : 1);
  }
  return 0;
}
