// Run with: wasmplug run examples/plugins/counter-assemblyscript/plugin.toml increment --input visits
//
// The counter example in AssemblyScript, on the host's key-value store: `increment` adds
// one to the counter named by the input ("count" when empty) and returns the new value,
// `get` returns it ("0" when unset), `reset` deletes it. Values are stored as decimal
// text, so every language's counter reads the others' values. A store error (a quota) is
// passed on as an error value with code 2; a stored value that is not a number has code 3.
import * as wasmplug from "./wasmplug";
export { allocate, deallocate } from "./wasmplug";

const STORE_FAILED = 2;
const NOT_A_NUMBER = 3;

function key(name: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode("counter/" + (name.length == 0 ? "count" : name)));
}

/** The counter's value, or -1 after recording an error value. */
function read(k: Uint8Array): i64 {
  const reply = wasmplug.kvGet(k);
  if (reply.failed) {
    wasmplug.fail(reply.text(), STORE_FAILED);
    return -1;
  }
  if (reply.none) return 0;
  const text = reply.text();
  let value: u64 = 0;
  let ok = text.length > 0 && text.length <= 19;
  for (let i = 0; ok && i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) ok = false;
    else value = value * 10 + <u64>d;
  }
  if (!ok) {
    const name = String.UTF8.decodeUnsafe(k.dataStart, <usize>k.length);
    wasmplug.fail("`" + name + "` holds \"" + text + "\", not a number", NOT_A_NUMBER);
    return -1;
  }
  return <i64>value;
}

export function increment(ptr: u32, len: u32): u64 {
  return wasmplug.text(ptr, len, (name: string): string => {
    const k = key(name);
    const value = read(k);
    if (value < 0) return "";
    const text = (value + 1).toString();
    const reply = wasmplug.kvSet(k, Uint8Array.wrap(String.UTF8.encode(text)));
    if (reply.failed) return wasmplug.fail(reply.text(), STORE_FAILED);
    return text;
  });
}

export function get(ptr: u32, len: u32): u64 {
  return wasmplug.text(ptr, len, (name: string): string => {
    const value = read(key(name));
    return value < 0 ? "" : value.toString();
  });
}

export function reset(ptr: u32, len: u32): u64 {
  return wasmplug.text(ptr, len, (name: string): string => {
    const reply = wasmplug.kvDelete(key(name));
    if (reply.failed) return wasmplug.fail(reply.text(), STORE_FAILED);
    return "";
  });
}
