// wasmplug — the wasmplug guest kit for AssemblyScript 0.28 (guest ABI v1, docs/abi.md).
//
// A complete plugin (`index.ts`, with this file next to it as `wasmplug.ts`):
//
//     import * as wasmplug from "./wasmplug";
//     export { allocate, deallocate } from "./wasmplug";
//
//     export function greet(ptr: u32, len: u32): u64 {
//       return wasmplug.text(ptr, len, (name: string): string => {
//         if (name.length == 0) return wasmplug.fail("name must not be empty", 1);
//         const greeting = wasmplug.config("greeting");
//         return (greeting === null ? "Hello" : greeting) + ", " + name + "!";
//       });
//     }
//
// Build: `wasmplug build` (asc cannot emit custom sections: `wasmplug build` writes them
// from plugin.toml), which runs
//   asc index.ts -O3 --runtime incremental --noAssert --use abort=wasmplug/abort -o plugin.wasm
// `--use abort=...` routes `abort` (what `throw` and failed assertions call) to this kit,
// which reports it through the host's `wasmplug.panic`; without it the module imports
// `env.abort`, which the host refuses.
//
// What the kit does:
// - `allocate` / `deallocate` (re-export them from your entry file: only the entry file's
//   exports reach the module) use `heap.alloc` / `heap.free`, memory the garbage collector
//   does not manage, so a buffer stays valid until the host frees it;
// - `bytes` and `text` run one plugin function: copy the input into a managed value,
//   call your function, copy its output into a buffer for the host. `fail(message, code)`
//   records an error value (the host sees Error::Guest) and returns "" to return;
// - `config`, `log`, `kvGet`, `kvSet`, `kvDelete`, `kvList`, `httpRequest` wrap the host
//   functions and return a `Reply` (status OK / NONE / ERROR and the bytes), as
//   `takeReply` does for an application's own host functions (declare them with
//   `@external("module", "name")` and pass `slotPtr()` as the last argument).

// ---- the raw ABI: host imports (module `wasmplug`) ------------------------------------------

// @ts-ignore: decorator
@external("wasmplug", "set_error")
declare function host_set_error(msg: usize, len: u32, code: i32): void;
// @ts-ignore: decorator
@external("wasmplug", "panic")
declare function host_panic(msg: usize, len: u32): void;
// @ts-ignore: decorator
@external("wasmplug", "log")
declare function host_log(level: i32, msg: usize, len: u32): void;
// @ts-ignore: decorator
@external("wasmplug", "config_get")
declare function host_config_get(key: usize, len: u32, out: usize): i32;
// @ts-ignore: decorator
@external("wasmplug", "kv_get")
declare function host_kv_get(key: usize, len: u32, out: usize): i32;
// @ts-ignore: decorator
@external("wasmplug", "kv_set")
declare function host_kv_set(key: usize, keyLen: u32, value: usize, valueLen: u32, out: usize): i32;
// @ts-ignore: decorator
@external("wasmplug", "kv_delete")
declare function host_kv_delete(key: usize, len: u32, out: usize): i32;
// @ts-ignore: decorator
@external("wasmplug", "kv_list")
declare function host_kv_list(prefix: usize, len: u32, out: usize): i32;
// @ts-ignore: decorator
@external("wasmplug", "http_request")
declare function host_http_request(head: usize, headLen: u32, body: usize, bodyLen: u32, out: usize): i32;

// ---- memory ---------------------------------------------------------------------------------

/** `allocate(len)`: an unmanaged buffer of at least `len` bytes, never 0 unless out of memory. */
export function allocate(len: u32): u32 {
  return <u32>heap.alloc(<usize>(len == 0 ? 1 : len));
}

/** `deallocate(ptr, len)`: frees a buffer from `allocate`. */
export function deallocate(ptr: u32, len: u32): void {
  if (ptr != 0) heap.free(<usize>ptr);
}

/** Copies the buffer at (ptr, len) into a managed array and frees it. */
function take(ptr: u32, len: u32): Uint8Array {
  const out = new Uint8Array(<i32>len);
  if (len != 0) memory.copy(out.dataStart, <usize>ptr, <usize>len);
  if (ptr != 0) heap.free(<usize>ptr);
  return out;
}

/** Copies `out` into a buffer for the host and packs its (ptr, len). */
function give(out: Uint8Array): u64 {
  const len = <u32>out.length;
  if (len == 0) return 0;
  const ptr = allocate(len);
  if (ptr == 0) panic("out of memory");
  memory.copy(<usize>ptr, out.dataStart, <usize>len);
  return (<u64>ptr << 32) | <u64>len;
}

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

// ---- errors and panics ------------------------------------------------------------------

let pendingMessage: string | null = null;
let pendingCode: i32 = 0;

/** Records an error value (the host sees Error::Guest with `message` and `code`) and returns
 * "": `return wasmplug.fail("...", 1);` from a string function. */
export function fail(message: string, code: i32 = 0): string {
  pendingMessage = message;
  pendingCode = code;
  return "";
}

/** As `fail`, for a bytes function. */
export function failBytes(message: string, code: i32 = 0): Uint8Array {
  fail(message, code);
  return new Uint8Array(0);
}

/** Ends the call as a trap carrying `message`. */
export function panic(message: string): void {
  const b = utf8(message);
  host_panic(b.dataStart, <u32>b.length);
  unreachable();
}

/** The `abort` of this module (`--use abort=wasmplug/abort`): `throw` and failed
 * assertions end the call as a trap with their message and place. */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message === null ? "abort" : message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  panic(text);
}

function finish(out: Uint8Array): u64 {
  const message = pendingMessage;
  if (message !== null) {
    pendingMessage = null;
    const b = utf8(message);
    host_set_error(b.dataStart, <u32>b.length, pendingCode);
    return 0;
  }
  return give(out);
}

// ---- plugin functions -------------------------------------------------------------------

/** Runs plugin function `f` over the input bytes. Use it in the exported wrapper:
 *     export function echo(ptr: u32, len: u32): u64 { return wasmplug.bytes(ptr, len, (b: Uint8Array): Uint8Array => b); } */
export function bytes(ptr: u32, len: u32, f: (input: Uint8Array) => Uint8Array): u64 {
  return finish(f(take(ptr, len)));
}

/** Runs `f` over the input as text; input that is not valid UTF-8 is an error value. */
export function text(ptr: u32, len: u32, f: (input: string) => string): u64 {
  const input = take(ptr, len);
  const bad = utf8ErrorAt(input);
  if (bad >= 0) {
    return finish(failBytes("input is not valid UTF-8: invalid byte 0x" + input[bad].toString(16).padStart(2, "0") + " at index " + bad.toString()));
  }
  return finish(utf8(f(String.UTF8.decodeUnsafe(input.dataStart, <usize>input.length))));
}

/** The index of the first byte of `b` that is not part of valid UTF-8, or -1. */
export function utf8ErrorAt(b: Uint8Array): i32 {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = <u32>b[i];
    const len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n || (len == 2 && c < 0xc2)) return i;
    let cp: u32 = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (let k = 1; k < len; k++) {
      const d = <u32>b[i + k];
      if ((d & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return i;
    i += len;
  }
  return -1;
}

// ---- host functions ---------------------------------------------------------------------

/** Statuses of host functions (docs/abi.md 5.1). */
export const OK: i32 = 0;
export const NONE: i32 = 1;
export const ERROR: i32 = 2;

/** The 8-byte result slot (unmanaged memory: its address never changes). */
const slot: usize = heap.alloc(8);

/** The result slot to pass as the last argument of an application's host function. */
export function slotPtr(): usize {
  store<u64>(slot, 0);
  return slot;
}

/** The reply of a host function: its status and the bytes (the value, or the message of
 * an ERROR). */
export class Reply {
  constructor(public status: i32, public bytes: Uint8Array) {}
  get ok(): bool { return this.status == OK; }
  get none(): bool { return this.status == NONE; }
  get failed(): bool { return this.status == ERROR; }
  text(): string { return String.UTF8.decodeUnsafe(this.bytes.dataStart, <usize>this.bytes.length); }
}

/** Reads the slot after a host function returned `status` (buffers come back as bytes). */
export function takeReply(status: i32): Reply {
  const value = load<u64>(slot);
  store<u64>(slot, 0);
  return new Reply(status, take(<u32>value, <u32>(value >> 32)));
}

/** Reads the slot after a host function that returns a scalar: its bits (f64: use
 * `reinterpret<f64>(bits)`), or throws for an ERROR. */
export function takeScalar(status: i32): u64 {
  if (status == ERROR) {
    panic("host function failed: " + takeReply(status).text());
  }
  const value = load<u64>(slot);
  store<u64>(slot, 0);
  return value;
}

/** Log levels. */
export const TRACE: i32 = 0;
export const DEBUG: i32 = 1;
export const INFO: i32 = 2;
export const WARN: i32 = 3;
export const LOG_ERROR: i32 = 4;

/** One line in the host's log. */
export function log(level: i32, message: string): void {
  const b = utf8(message);
  host_log(level, b.dataStart, <u32>b.length);
}

/** A configuration value (plugin.toml's `[config]`), or null. */
export function config(key: string): string | null {
  const k = utf8(key);
  const reply = takeReply(host_config_get(k.dataStart, <u32>k.length, slotPtr()));
  return reply.ok ? reply.text() : null;
}

/** Reads `key` from the plugin's key-value store: OK with the value, NONE, or ERROR. */
export function kvGet(key: Uint8Array): Reply {
  return takeReply(host_kv_get(key.dataStart, <u32>key.length, slotPtr()));
}

/** Writes `key` = `value`: OK, or ERROR (a quota) with the message. */
export function kvSet(key: Uint8Array, value: Uint8Array): Reply {
  return takeReply(host_kv_set(key.dataStart, <u32>key.length, value.dataStart, <u32>value.length, slotPtr()));
}

/** Deletes `key`: OK if it existed, NONE if not, or ERROR. */
export function kvDelete(key: Uint8Array): Reply {
  return takeReply(host_kv_delete(key.dataStart, <u32>key.length, slotPtr()));
}

/** The keys starting with `prefix` (at most 1000, in byte order), or null on ERROR. */
export function kvList(prefix: Uint8Array): Uint8Array[] | null {
  const reply = takeReply(host_kv_list(prefix.dataStart, <u32>prefix.length, slotPtr()));
  if (reply.failed) return null;
  const keys: Uint8Array[] = [];
  const b = reply.bytes;
  let i = 0;
  while (i + 4 <= b.length) {
    const n = <i32>load<u32>(b.dataStart + <usize>i);
    if (i + 4 + n > b.length) break;
    keys.push(b.slice(i + 4, i + 4 + n));
    i += 4 + n;
  }
  return keys;
}

/** An HTTP response: the head JSON (`{"status":200,"headers":[...]}`) and the body. */
export class HttpResponse {
  constructor(public head: string, public body: Uint8Array) {}
}

/** An outbound HTTP request (`head` is JSON `{"method","url","headers"}`); null on ERROR,
 * with the host's message in `lastError`. */
export let lastError: string = "";
export function httpRequest(head: string, body: Uint8Array): HttpResponse | null {
  const h = utf8(head);
  const reply = takeReply(host_http_request(h.dataStart, <u32>h.length, body.dataStart, <u32>body.length, slotPtr()));
  if (!reply.ok || reply.bytes.length < 4) {
    lastError = reply.text();
    return null;
  }
  const b = reply.bytes;
  const n = <i32>load<u32>(b.dataStart);
  const headBytes = b.slice(4, 4 + n);
  return new HttpResponse(String.UTF8.decodeUnsafe(headBytes.dataStart, <usize>headBytes.length), b.slice(4 + n));
}
