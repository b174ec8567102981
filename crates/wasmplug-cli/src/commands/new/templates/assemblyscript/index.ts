// Run with: wasmplug build . && wasmplug run plugin.toml greet --input world
import * as wasmplug from "./wasmplug";
export { allocate, deallocate } from "./wasmplug";

/** Greets the input name with the configured greeting. */
export function greet(ptr: u32, len: u32): u64 {
  return wasmplug.text(ptr, len, (input: string): string => {
    const name = input.trim();
    if (name.length == 0) return wasmplug.fail("name must not be empty", 1);
    const greeting = wasmplug.config("greeting");
    return (greeting === null ? "Hello" : greeting) + ", " + name + "!";
  });
}
