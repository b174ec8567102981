/* Run with: wasmplug build . && wasmplug run plugin.toml greet --input world */
#include <ctype.h>

#include "wasmplug.h"

WASMPLUG_PLUGIN("{{name}}", "0.1.0", "A wasmplug plugin written in C", "")

/* Greets the input name with the configured greeting. */
static wasmplug_result greet(wasmplug_bytes input) {
    wasmplug_result error;
    if (!wasmplug_check_utf8(input, &error)) return error;
    const uint8_t *start = input.ptr, *end = input.ptr + input.len;
    while (start < end && isspace(*start)) start++;
    while (end > start && isspace(end[-1])) end--;
    if (start == end) return wasmplug_error("name must not be empty", 1);
    wasmplug_bytes greeting;
    wasmplug_result r;
    if (wasmplug_config("greeting", &greeting) == WASMPLUG_OK) {
        r = wasmplug_ok_printf("%.*s, %.*s!", (int)greeting.len, (const char *)greeting.ptr, (int)(end - start),
                               (const char *)start);
        wasmplug_free(greeting);
    } else {
        r = wasmplug_ok_printf("Hello, %.*s!", (int)(end - start), (const char *)start);
    }
    return r;
}
WASMPLUG_FUNCTION(greet)
