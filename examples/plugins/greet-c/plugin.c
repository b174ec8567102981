/* Run with: wasmplug run examples/plugins/greet-c/plugin.toml greet --input world
 *
 * The greet example in C: `greet` turns a name into "<greeting>, <name>!". The greeting is
 * the `greeting` key of the plugin configuration, "Hello" by default. An empty name is an
 * error value with code 1. */
#include <ctype.h>

#include "wasmplug.h"

WASMPLUG_PLUGIN("greet-c", "1.0.0", "Greets people, with a configurable greeting (C)", "wasmplug")

/* Error code for an empty name. */
#define EMPTY_NAME 1

static wasmplug_result greet(wasmplug_bytes input) {
    wasmplug_result error;
    if (!wasmplug_check_utf8(input, &error)) return error;
    const uint8_t *start = input.ptr, *end = input.ptr + input.len;
    while (start < end && isspace(*start)) start++;
    while (end > start && isspace(end[-1])) end--;
    if (start == end) return wasmplug_error("name must not be empty", EMPTY_NAME);
    wasmplug_bytes greeting;
    if (wasmplug_config("greeting", &greeting) != WASMPLUG_OK) greeting = (wasmplug_bytes){NULL, 0};
    const char *g = greeting.ptr ? (const char *)greeting.ptr : "Hello";
    size_t glen = greeting.ptr ? greeting.len : 5, nlen = (size_t)(end - start);
    /* "<greeting>, <name>!" with memcpy: a name may hold NUL bytes. */
    uint8_t *out = malloc(glen + nlen + 3);
    if (!out) wasmplug_panic("out of memory");
    memcpy(out, g, glen);
    memcpy(out + glen, ", ", 2);
    memcpy(out + glen + 2, start, nlen);
    out[glen + 2 + nlen] = '!';
    wasmplug_free(greeting);
    return wasmplug_ok(out, (uint32_t)(glen + nlen + 3));
}
WASMPLUG_FUNCTION(greet)
