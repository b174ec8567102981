/* Run with: wasmplug run examples/plugins/echo-c/plugin.toml echo --input hello
 *
 * The echo example in C: `echo` returns its input unchanged (the input buffer is handed
 * back, no copy), `noop` does nothing (to measure call overhead), `len` returns the input
 * length in decimal, and `panic` panics with its input as the message. */
#include "wasmplug.h"

WASMPLUG_PLUGIN("echo-c", "1.0.0", "Returns its input unchanged; also a no-op, a length function and a panic (C)", "wasmplug")

static wasmplug_result echo(wasmplug_bytes input) { return wasmplug_ok(input.ptr, input.len); }
WASMPLUG_FUNCTION(echo)

static wasmplug_result noop(wasmplug_bytes input) {
    (void)input;
    return wasmplug_ok_empty();
}
WASMPLUG_FUNCTION(noop)

static wasmplug_result len(wasmplug_bytes input) { return wasmplug_ok_printf("%u", (unsigned)input.len); }
WASMPLUG_FUNCTION(len)

static wasmplug_result panics(wasmplug_bytes input) {
    wasmplug_panicf("panicked: %.*s", (int)input.len, (const char *)input.ptr);
}
WASMPLUG_FUNCTION_AS(panic, panics)
