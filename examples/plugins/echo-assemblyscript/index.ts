// Run with: wasmplug run examples/plugins/echo-assemblyscript/plugin.toml echo --input hello
//
// The echo example in AssemblyScript: `echo` returns its input unchanged, `noop` does
// nothing (to measure call overhead), `len` returns the input length in decimal, and
// `panic` throws with its input as the message (the host sees a trap carrying that text).
import * as wasmplug from "./wasmplug";
export { allocate, deallocate } from "./wasmplug";

export function echo(ptr: u32, len: u32): u64 {
  return wasmplug.bytes(ptr, len, (input: Uint8Array): Uint8Array => input);
}

export function noop(ptr: u32, len: u32): u64 {
  return wasmplug.bytes(ptr, len, (input: Uint8Array): Uint8Array => new Uint8Array(0));
}

export function len(ptr: u32, len: u32): u64 {
  return wasmplug.bytes(ptr, len, (input: Uint8Array): Uint8Array => Uint8Array.wrap(String.UTF8.encode(input.length.toString())));
}

export function panic(ptr: u32, len: u32): u64 {
  return wasmplug.text(ptr, len, (message: string): string => {
    throw new Error("panicked: " + message);
  });
}
