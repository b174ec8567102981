/*
 * wasmplug.h — the wasmplug guest kit for C (guest ABI v1, docs/abi.md). Header only.
 *
 * A complete plugin (build: `wasmplug build`, or by hand:
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wl,--strip-debug -o greet.wasm greet.c):
 *
 *     #include "wasmplug.h"
 *
 *     WASMPLUG_PLUGIN("greet", "1.0.0", "Greets people", "me")
 *
 *     static wasmplug_result greet(wasmplug_bytes input) {
 *         if (input.len == 0) return wasmplug_error("name must not be empty", 1);
 *         return wasmplug_ok_printf("Hello, %.*s!", (int)input.len, (const char *)input.ptr);
 *     }
 *     WASMPLUG_FUNCTION(greet)
 *
 * What the kit does:
 * - WASMPLUG_PLUGIN writes the `wasmplug.abi` and `wasmplug.meta` custom sections (with a
 *   top-level `__asm__` block: `__attribute__((section))` would make a data segment, not a
 *   custom section) and defines the `allocate`/`deallocate` exports over malloc/free. Use
 *   it exactly once per plugin. Its strings must not contain `"` or `\`.
 * - WASMPLUG_FUNCTION(f) exports `f` with the ABI signature `(ptr, len) -> packed` and adds
 *   "f\n" to the `wasmplug.functions` section (the linker concatenates the fragments).
 *   Your function gets the input bytes (`ptr` is NULL when `len` is 0); the kit frees them
 *   after it returns, unless the result hands the same buffer back as its output.
 * - Results: wasmplug_ok(ptr, len) hands over a malloc'd buffer; wasmplug_ok_copy /
 *   wasmplug_ok_str / wasmplug_ok_printf copy; wasmplug_ok_empty() is no output;
 *   wasmplug_error(msg, code) / wasmplug_error_printf(code, fmt, ...) are error values
 *   (the host sees Error::Guest with the message and code).
 * - wasmplug_panic(msg) ends the call as a trap carrying `msg` (Error::Trap, kind Panic);
 *   WASMPLUG_ASSERT(cond) panics with the condition's text and line.
 * - Host functions (docs/abi.md section 5): wasmplug_log, wasmplug_config, wasmplug_kv_get,
 *   wasmplug_kv_set, wasmplug_kv_delete, wasmplug_kv_list, wasmplug_http_request. Each
 *   returns a wasmplug_status; buffers they give back are yours (wasmplug_free them). On
 *   WASMPLUG_ERROR the buffer holds the host's error message.
 * - Application host functions: declare the import with WASMPLUG_IMPORT("module", "name")
 *   and the wasm parameters of docs/abi.md 5.3 followed by `uint64_t *slot`, then read the
 *   slot with wasmplug_slot_bytes / wasmplug_slot_f64 / wasmplug_slot_i64.
 *
 * Build flags: `--target=wasm32-wasi` (clang ≥ 18 also accepts `wasm32-wasip1`) and
 * `-mexec-model=reactor` (a library, not a command: the module exports `_initialize`, not
 * `_start`), with Debian's `clang lld wasi-libc libclang-rt-14-dev-wasm32`.
 */
#ifndef WASMPLUG_H
#define WASMPLUG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the raw ABI: host imports (module `wasmplug`) ---------------------------------- */

#define WASMPLUG_IMPORT(module, name) \
    __attribute__((import_module(module), import_name(name)))

WASMPLUG_IMPORT("wasmplug", "set_error")
void wasmplug__set_error(const uint8_t *msg, uint32_t len, int32_t code);
WASMPLUG_IMPORT("wasmplug", "panic")
__attribute__((noreturn)) void wasmplug__panic(const uint8_t *msg, uint32_t len);
WASMPLUG_IMPORT("wasmplug", "log")
void wasmplug__log(int32_t level, const uint8_t *msg, uint32_t len);
WASMPLUG_IMPORT("wasmplug", "config_get")
int32_t wasmplug__config_get(const uint8_t *key, uint32_t len, uint64_t *slot);
WASMPLUG_IMPORT("wasmplug", "kv_get")
int32_t wasmplug__kv_get(const uint8_t *key, uint32_t len, uint64_t *slot);
WASMPLUG_IMPORT("wasmplug", "kv_set")
int32_t wasmplug__kv_set(const uint8_t *key, uint32_t key_len, const uint8_t *value,
                         uint32_t value_len, uint64_t *slot);
WASMPLUG_IMPORT("wasmplug", "kv_delete")
int32_t wasmplug__kv_delete(const uint8_t *key, uint32_t len, uint64_t *slot);
WASMPLUG_IMPORT("wasmplug", "kv_list")
int32_t wasmplug__kv_list(const uint8_t *prefix, uint32_t len, uint64_t *slot);
WASMPLUG_IMPORT("wasmplug", "http_request")
int32_t wasmplug__http_request(const uint8_t *head, uint32_t head_len, const uint8_t *body,
                               uint32_t body_len, uint64_t *slot);

/* ---- types ----------------------------------------------------------------------------- */

/* A byte buffer. Buffers the kit gives you are malloc'd and yours: free with wasmplug_free. */
typedef struct {
    uint8_t *ptr;
    uint32_t len;
} wasmplug_bytes;

/* The status of a host function (docs/abi.md 5.1). */
typedef enum {
    WASMPLUG_OK = 0,    /* the value is in the buffer / slot */
    WASMPLUG_NONE = 1,  /* no value (missing key) */
    WASMPLUG_ERROR = 2, /* the buffer holds the host's error message */
} wasmplug_status;

/* Log levels of wasmplug_log. */
enum { WASMPLUG_TRACE = 0, WASMPLUG_DEBUG = 1, WASMPLUG_INFO = 2, WASMPLUG_WARN = 3, WASMPLUG_LOG_ERROR = 4 };

/* The result of a plugin function: an output buffer or an error value. Build it with the
   wasmplug_ok* / wasmplug_error* functions. */
typedef struct {
    uint8_t *ptr;     /* output (owned) or error message */
    uint32_t len;
    int32_t code;     /* error code (0: none) */
    uint8_t is_error; /* 1: an error value */
    uint8_t owned;    /* 1: ptr was malloc'd and the kit frees it */
} wasmplug_result;

static inline void wasmplug_free(wasmplug_bytes b) { free(b.ptr); }

/* ---- results -------------------------------------------------------------------------- */

/* Output of `len` bytes at `ptr`, a malloc'd buffer (or the input) that the host takes. */
static inline wasmplug_result wasmplug_ok(uint8_t *ptr, uint32_t len) {
    wasmplug_result r = {ptr, len, 0, 0, 1};
    return r;
}

static inline wasmplug_result wasmplug_ok_empty(void) { return wasmplug_ok(NULL, 0); }

static inline wasmplug_result wasmplug_ok_copy(const void *data, size_t len) {
    if (len == 0) return wasmplug_ok_empty();
    uint8_t *p = (uint8_t *)malloc(len);
    if (!p) wasmplug__panic((const uint8_t *)"out of memory", 13);
    memcpy(p, data, len);
    return wasmplug_ok(p, (uint32_t)len);
}

static inline wasmplug_result wasmplug_ok_str(const char *s) { return wasmplug_ok_copy(s, strlen(s)); }

/* Formats into a new buffer (the NUL terminator is not part of the output). */
static inline wasmplug_bytes wasmplug_vprintf(const char *fmt, va_list args) {
    va_list again;
    va_copy(again, args);
    int n = vsnprintf(NULL, 0, fmt, args);
    wasmplug_bytes b = {NULL, 0};
    if (n > 0) {
        b.ptr = (uint8_t *)malloc((size_t)n + 1);
        if (!b.ptr) wasmplug__panic((const uint8_t *)"out of memory", 13);
        vsnprintf((char *)b.ptr, (size_t)n + 1, fmt, again);
        b.len = (uint32_t)n;
    }
    va_end(again);
    return b;
}

__attribute__((format(printf, 1, 2))) static inline wasmplug_result wasmplug_ok_printf(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    wasmplug_bytes b = wasmplug_vprintf(fmt, args);
    va_end(args);
    return wasmplug_ok(b.ptr, b.len);
}

/* Formats into a new malloc'd buffer (yours: wasmplug_free it). */
__attribute__((format(printf, 1, 2))) static inline wasmplug_bytes wasmplug_printf(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    wasmplug_bytes b = wasmplug_vprintf(fmt, args);
    va_end(args);
    return b;
}

/* An error value with a static (or longer-lived) message; `code` 0 means no code. */
static inline wasmplug_result wasmplug_error(const char *message, int32_t code) {
    wasmplug_result r = {(uint8_t *)message, (uint32_t)strlen(message), code, 1, 0};
    return r;
}

/* An error value whose message is the buffer `message` (taken: the kit frees it). */
static inline wasmplug_result wasmplug_error_bytes(wasmplug_bytes message, int32_t code) {
    wasmplug_result r = {message.ptr, message.len, code, 1, 1};
    return r;
}

__attribute__((format(printf, 2, 3))) static inline wasmplug_result wasmplug_error_printf(int32_t code, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    wasmplug_bytes b = wasmplug_vprintf(fmt, args);
    va_end(args);
    return wasmplug_error_bytes(b, code);
}

/* ---- panics ----------------------------------------------------------------------------- */

/* Ends the call as a trap whose message is `message` (never returns). */
__attribute__((noreturn)) static inline void wasmplug_panic(const char *message) {
    wasmplug__panic((const uint8_t *)message, (uint32_t)strlen(message));
}

/* Ends the call as a trap with a formatted message (never returns). */
__attribute__((noreturn, format(printf, 1, 2))) static inline void wasmplug_panicf(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    wasmplug_bytes b = wasmplug_vprintf(fmt, args);
    va_end(args);
    wasmplug__panic(b.ptr, b.len);
}

#define WASMPLUG_STR2(x) #x
#define WASMPLUG_STR(x) WASMPLUG_STR2(x)
#define WASMPLUG_ASSERT(cond)                                                            \
    do {                                                                                 \
        if (!(cond)) wasmplug_panic("assertion failed: " #cond " at " __FILE__ ":" WASMPLUG_STR(__LINE__)); \
    } while (0)

/* ---- text ------------------------------------------------------------------------------- */

/* The index of the first byte of `b` that is not part of valid UTF-8, or -1 if all is. */
static inline long wasmplug_utf8_error_at(const uint8_t *b, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = b[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > len || (n == 2 && c < 0xc2)) return (long)i;
        uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
        for (size_t k = 1; k < n; k++) {
            if ((b[i + k] & 0xc0) != 0x80) return (long)i;
            cp = (cp << 6) | (b[i + k] & 0x3fu);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return (long)i;
        i += n;
    }
    return -1;
}

/* 1 when `input` is valid UTF-8; otherwise 0, and *error is the error value to return
   ("input is not valid UTF-8: ...", as every wasmplug kit words it). */
static inline int wasmplug_check_utf8(wasmplug_bytes input, wasmplug_result *error) {
    long at = wasmplug_utf8_error_at(input.ptr, input.len);
    if (at < 0) return 1;
    wasmplug_bytes m = wasmplug_printf("input is not valid UTF-8: invalid byte 0x%02x at index %ld", input.ptr[at], at);
    *error = wasmplug_error_bytes(m, 0);
    return 0;
}

/* ---- host functions --------------------------------------------------------------------- */

/* The buffer named by a result slot: ptr in bytes 0..4, len in bytes 4..8. */
static inline wasmplug_bytes wasmplug_slot_bytes(uint64_t slot) {
    wasmplug_bytes b = {(uint8_t *)(uintptr_t)(uint32_t)slot, (uint32_t)(slot >> 32)};
    return b;
}
static inline int64_t wasmplug_slot_i64(uint64_t slot) { return (int64_t)slot; }
static inline double wasmplug_slot_f64(uint64_t slot) {
    double d;
    memcpy(&d, &slot, sizeof d);
    return d;
}

static inline wasmplug_status wasmplug__reply(int32_t status, uint64_t slot, wasmplug_bytes *out) {
    wasmplug_bytes b = wasmplug_slot_bytes(slot);
    if (out) *out = b;
    else free(b.ptr);
    return (wasmplug_status)status;
}

/* One log line at `level` (WASMPLUG_INFO, ...). */
static inline void wasmplug_log(int32_t level, const char *message) {
    wasmplug__log(level, (const uint8_t *)message, (uint32_t)strlen(message));
}

/* A configuration value (the plugin.toml [config] table): OK with the value, or NONE. */
static inline wasmplug_status wasmplug_config(const char *key, wasmplug_bytes *value) {
    uint64_t slot = 0;
    int32_t status = wasmplug__config_get((const uint8_t *)key, (uint32_t)strlen(key), &slot);
    return wasmplug__reply(status, slot, value);
}

/* kv: OK with the value, NONE for a missing key, ERROR with the host's message. */
static inline wasmplug_status wasmplug_kv_get(const void *key, size_t key_len, wasmplug_bytes *value) {
    uint64_t slot = 0;
    int32_t status = wasmplug__kv_get((const uint8_t *)key, (uint32_t)key_len, &slot);
    return wasmplug__reply(status, slot, value);
}

/* kv: OK, or ERROR (a quota, ...) with the message in *error (pass NULL to ignore it). */
static inline wasmplug_status wasmplug_kv_set(const void *key, size_t key_len, const void *value,
                                              size_t value_len, wasmplug_bytes *error) {
    uint64_t slot = 0;
    int32_t status = wasmplug__kv_set((const uint8_t *)key, (uint32_t)key_len, (const uint8_t *)value,
                                      (uint32_t)value_len, &slot);
    return wasmplug__reply(status, slot, error);
}

/* kv: OK if the key existed, NONE if not, ERROR with the message. */
static inline wasmplug_status wasmplug_kv_delete(const void *key, size_t key_len, wasmplug_bytes *error) {
    uint64_t slot = 0;
    int32_t status = wasmplug__kv_delete((const uint8_t *)key, (uint32_t)key_len, &slot);
    return wasmplug__reply(status, slot, error);
}

/* kv: the keys starting with `prefix`, encoded as `len: u32 LE` + key bytes each. */
static inline wasmplug_status wasmplug_kv_list(const void *prefix, size_t prefix_len, wasmplug_bytes *keys) {
    uint64_t slot = 0;
    int32_t status = wasmplug__kv_list((const uint8_t *)prefix, (uint32_t)prefix_len, &slot);
    return wasmplug__reply(status, slot, keys);
}

/* An outbound HTTP request. `head` is JSON {"method","url","headers"}; on OK *response is
   `head_len: u32 LE`, the response head JSON {"status","headers"}, then the body. */
static inline wasmplug_status wasmplug_http_request(const char *head, const void *body, size_t body_len,
                                                    wasmplug_bytes *response) {
    uint64_t slot = 0;
    int32_t status = wasmplug__http_request((const uint8_t *)head, (uint32_t)strlen(head),
                                            (const uint8_t *)body, (uint32_t)body_len, &slot);
    return wasmplug__reply(status, slot, response);
}

/* ---- exports ----------------------------------------------------------------------------- */

/* Finishes a plugin function call: reports an error value or packs the output. */
static inline int64_t wasmplug__finish(wasmplug_bytes input, wasmplug_result r) {
    if (input.ptr && input.ptr != r.ptr) free(input.ptr);
    if (r.is_error) {
        wasmplug__set_error(r.ptr, r.len, r.code);
        if (r.owned) free(r.ptr);
        return 0;
    }
    if (r.len == 0) {
        if (r.owned) free(r.ptr);
        return 0;
    }
    return (int64_t)(((uint64_t)(uintptr_t)r.ptr << 32) | (uint64_t)r.len);
}

/* The custom sections, as assembler directives (this is what makes them custom sections). */
#define WASMPLUG__SECTION(name, bytes) \
    __asm__(".section .custom_section." name ",\"\",@\n.ascii \"" bytes "\"\n.text\n")

/* Exports `fn` (a `wasmplug_result fn(wasmplug_bytes input)`) as plugin function `fn`. */
#define WASMPLUG_FUNCTION(fn) WASMPLUG_FUNCTION_AS(fn, fn)

/* Exports `fn` as plugin function `name` (a bare identifier, e.g. a C keyword-free name). */
#define WASMPLUG_FUNCTION_AS(name, fn)                                                   \
    __attribute__((export_name(#name))) int64_t wasmplug__export_##name(uint8_t *wasmplug__ptr, \
                                                                         uint32_t wasmplug__len) { \
        wasmplug_bytes wasmplug__input = {wasmplug__len ? wasmplug__ptr : NULL, wasmplug__len}; \
        return wasmplug__finish(wasmplug__input, fn(wasmplug__input));                   \
    }                                                                                    \
    WASMPLUG__SECTION("wasmplug.functions", #name "\\n");

/* The plugin's identity and the memory exports. Once per plugin. */
#define WASMPLUG_PLUGIN(name, version, description, author)                              \
    WASMPLUG__SECTION("wasmplug.abi", "\\001\\000\\000\\000");                           \
    WASMPLUG__SECTION("wasmplug.meta", "{\\\"name\\\":\\\"" name "\\\",\\\"version\\\":\\\"" version \
                      "\\\",\\\"description\\\":\\\"" description "\\\",\\\"author\\\":\\\"" author "\\\"}"); \
    __attribute__((export_name("allocate"))) uint8_t *wasmplug__allocate(uint32_t len) { \
        return (uint8_t *)malloc(len ? len : 1);                                         \
    }                                                                                    \
    __attribute__((export_name("deallocate"))) void wasmplug__deallocate(uint8_t *ptr, uint32_t len) { \
        (void)len;                                                                       \
        free(ptr);                                                                       \
    }

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_H */
