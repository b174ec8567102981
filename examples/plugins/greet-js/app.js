// The `greet` example in JavaScript, as a component of the wasmplug:plugin world
// (wit/plugin/plugin.wit), built with componentize-js by `wasmplug build`.
//
// `greet` behaves like examples/plugins/greet: "<greeting>, <name>!", the greeting from the
// plugin's config through `host.config-get`, an empty name is error value 1. `sandbox`
// reports what the engine can see of its host (environment, files, network), for the tests
// that show a component gets nothing it was not granted.
//
// componentize-js maps the world's exports to this module's exports (`init`, `call`) and
// its `host` import to the `wasmplug:plugin/host@1.0.0` module. A `result` export returns
// its ok value and throws its error value: an object `{ message, code }` (`code` undefined
// for none).
import { configGet } from 'wasmplug:plugin/host@1.0.0';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function greet(input) {
  let name;
  try {
    name = utf8.decode(input).trim();
  } catch {
    throw { message: 'input is not valid UTF-8', code: undefined };
  }
  if (!name) {
    throw { message: 'name must not be empty', code: 1 };
  }
  const greeting = configGet('greeting') ?? 'Hello';
  return encoder.encode(`${greeting}, ${name}!`);
}

const errorName = (e) => `error: ${e?.name ?? typeof e}`;

async function sandbox() {
  // StarlingMonkey (the engine inside the component) has no `process`; any environment a
  // host passed would have to show up there.
  const seen = { env: { ...(globalThis.process?.env ?? {}) } };
  // Nor a file API (no `fs`; a dynamic `import()` of a module that does not exist goes
  // through the filesystem and traps in the WASI adapter, so it is not tried here).
  seen.root = globalThis.require || globalThis.Deno ? 'a file API exists' : 'error: no file API';
  // The network is `fetch`, over wasi:http; nothing is granted, so it must fail.
  try {
    await fetch('http://127.0.0.1:9/');
    seen.socket = 'connected';
  } catch (e) {
    seen.socket = errorName(e);
  }
  return encoder.encode(JSON.stringify(seen));
}

export function init(config) {}

export async function call(fn, input) {
  if (fn === 'greet') return greet(input);
  if (fn === 'sandbox') return await sandbox();
  throw { message: `no function \`${fn}\``, code: undefined };
}
