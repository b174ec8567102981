/* Run with: wasmplug run examples/plugins/counter-c/plugin.toml increment --input visits
 *
 * The counter example in C, on the host's key-value store: `increment` adds one to the
 * counter named by the input ("count" when empty) and returns the new value, `get` returns
 * it ("0" when unset), `reset` deletes it. Values are stored as decimal text, so every
 * language's counter reads the others' values. A store error (a quota) is passed on as an
 * error value with code 2; a stored value that is not a number has code 3. */
#include <inttypes.h>

#include "wasmplug.h"

WASMPLUG_PLUGIN("counter-c", "1.0.0", "Counters in the host's key-value store (C)", "wasmplug")

#define STORE_FAILED 2
#define NOT_A_NUMBER 3

/* The kv key of the counter named by `input`: "counter/<name>". */
static wasmplug_bytes counter_key(wasmplug_bytes input) {
    static const char prefix[] = "counter/";
    const uint8_t *name = input.len ? input.ptr : (const uint8_t *)"count";
    size_t plen = sizeof prefix - 1, nlen = input.len ? input.len : 5;
    wasmplug_bytes key = {malloc(plen + nlen), (uint32_t)(plen + nlen)};
    if (!key.ptr) wasmplug_panic("out of memory");
    memcpy(key.ptr, prefix, plen);
    memcpy(key.ptr + plen, name, nlen);
    return key;
}

/* Reads the counter at `key` into *value; returns 0 or fills *error. */
static int read_counter(wasmplug_bytes key, uint64_t *value, wasmplug_result *error) {
    wasmplug_bytes stored;
    *value = 0;
    switch (wasmplug_kv_get(key.ptr, key.len, &stored)) {
    case WASMPLUG_NONE:
        return 0;
    case WASMPLUG_ERROR:
        *error = wasmplug_error_bytes(stored, STORE_FAILED);
        return -1;
    default:
        break;
    }
    int ok = stored.len > 0 && stored.len <= 20;
    for (uint32_t i = 0; ok && i < stored.len; i++) {
        uint8_t d = stored.ptr[i];
        if (d < '0' || d > '9' || *value > (UINT64_MAX - (d - '0')) / 10) ok = 0;
        else *value = *value * 10 + (uint64_t)(d - '0');
    }
    if (!ok) {
        *error = wasmplug_error_printf(NOT_A_NUMBER, "`%.*s` holds \"%.*s\", not a number", (int)key.len,
                                       (const char *)key.ptr, (int)stored.len, (const char *)stored.ptr);
    }
    wasmplug_free(stored);
    return ok ? 0 : -1;
}

static wasmplug_result increment(wasmplug_bytes input) {
    wasmplug_result r;
    if (!wasmplug_check_utf8(input, &r)) return r;
    wasmplug_bytes key = counter_key(input);
    uint64_t value;
    if (read_counter(key, &value, &r) == 0) {
        wasmplug_bytes text = wasmplug_printf("%" PRIu64, value + 1);
        wasmplug_bytes error;
        if (wasmplug_kv_set(key.ptr, key.len, text.ptr, text.len, &error) == WASMPLUG_OK) {
            r = wasmplug_ok(text.ptr, text.len);
        } else {
            wasmplug_free(text);
            r = wasmplug_error_bytes(error, STORE_FAILED);
        }
    }
    wasmplug_free(key);
    return r;
}
WASMPLUG_FUNCTION(increment)

static wasmplug_result get(wasmplug_bytes input) {
    wasmplug_result r;
    if (!wasmplug_check_utf8(input, &r)) return r;
    wasmplug_bytes key = counter_key(input);
    uint64_t value;
    if (read_counter(key, &value, &r) == 0) r = wasmplug_ok_printf("%" PRIu64, value);
    wasmplug_free(key);
    return r;
}
WASMPLUG_FUNCTION(get)

static wasmplug_result reset(wasmplug_bytes input) {
    wasmplug_result r;
    if (!wasmplug_check_utf8(input, &r)) return r;
    wasmplug_bytes key = counter_key(input);
    wasmplug_bytes error;
    if (wasmplug_kv_delete(key.ptr, key.len, &error) == WASMPLUG_ERROR) r = wasmplug_error_bytes(error, STORE_FAILED);
    else r = wasmplug_ok_empty();
    wasmplug_free(key);
    return r;
}
WASMPLUG_FUNCTION(reset)
