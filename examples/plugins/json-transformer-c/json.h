/* A small JSON reader for the json-transformer example: validates JSON text and rewrites
 * values compactly, objects keeping their key order, strings escaped as serde_json does
 * (so the output matches the Rust example's byte for byte). Numbers are copied as written. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer (malloc'd). */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} json_buf;

void json_put(json_buf *b, const void *data, size_t len);
void json_put_string(json_buf *b, const uint8_t *s, size_t len);

/* The reader: `error` is set (and stays set) by the first failure. */
typedef struct {
    const uint8_t *start, *p, *end;
    char error[160];
} json_reader;

void json_skip_ws(json_reader *r);
/* Reads one string into `out`, decoded (raw UTF-8). Returns 0 on success. */
int json_read_string(json_reader *r, json_buf *out);
/* Reads one value and writes it compactly to `out`. Returns 0 on success. */
int json_read_value(json_reader *r, json_buf *out);
/* Expects byte `c` (after whitespace). Returns 0 on success. */
int json_expect(json_reader *r, char c, const char *what);

/* The members of an object, in order; a repeated key keeps its first place and takes the
 * last value (as serde_json's ordered map). */
typedef struct {
    json_buf *keys, *values;
    size_t len, cap;
} json_members;

void json_members_set(json_members *m, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len);
/* Reads an object (its `{` next) into `m`. Returns 0 on success. */
int json_read_members(json_reader *r, json_members *m);
void json_write_members(json_buf *b, const json_members *m);
void json_members_free(json_members *m);

#endif
