// Run with: wasmplug run examples/plugins/greet-assemblyscript/plugin.toml greet --input world
//
// The greet example in AssemblyScript: `greet` turns a name into "<greeting>, <name>!".
// The greeting is the `greeting` key of the plugin configuration, "Hello" by default. An
// empty name is an error value with code 1.
import * as wasmplug from "./wasmplug";
export { allocate, deallocate } from "./wasmplug";

/** Error code for an empty name. */
const EMPTY_NAME = 1;

export function greet(ptr: u32, len: u32): u64 {
  return wasmplug.text(ptr, len, (input: string): string => {
    const name = input.trim();
    if (name.length == 0) return wasmplug.fail("name must not be empty", EMPTY_NAME);
    const greeting = wasmplug.config("greeting");
    return (greeting === null ? "Hello" : greeting) + ", " + name + "!";
  });
}
