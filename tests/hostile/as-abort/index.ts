// Hostile (AssemblyScript): `run` throws with a 1 MiB message, so the kit's `abort` (what
// `throw` calls) hands the host a panic far over its 64 KiB message cap; `ok` echoes its
// input (the obeyed half).
import * as wasmplug from "./wasmplug";
export { allocate, deallocate } from "./wasmplug";

export function run(ptr: u32, len: u32): u64 {
  return wasmplug.bytes(ptr, len, (input: Uint8Array): Uint8Array => {
    if (input.length < 1 << 30) throw new Error("A".repeat(1 << 20));
    return input;
  });
}

export function ok(ptr: u32, len: u32): u64 {
  return wasmplug.bytes(ptr, len, (input: Uint8Array): Uint8Array => input);
}
