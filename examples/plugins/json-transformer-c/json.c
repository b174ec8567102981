/* See json.h. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmplug.h"

void json_put(json_buf *b, const void *data, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + len) cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) wasmplug_panic("out of memory");
        b->cap = cap;
    }
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
}

void json_put_string(json_buf *b, const uint8_t *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    json_put(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        }
        if (esc) {
            json_put(b, esc, 2);
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            json_put(b, u, 6);
        } else {
            json_put(b, &c, 1);
        }
    }
    json_put(b, "\"", 1);
}

static int fail(json_reader *r, const char *what) {
    if (!r->error[0]) snprintf(r->error, sizeof r->error, "%s at byte %ld", what, (long)(r->p - r->start));
    return -1;
}

void json_skip_ws(json_reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

int json_expect(json_reader *r, char c, const char *what) {
    json_skip_ws(r);
    if (r->p >= r->end) return fail(r, "EOF while parsing");
    if (*r->p != c) return fail(r, what);
    r->p++;
    return 0;
}

static int hex4(json_reader *r, uint32_t *out) {
    if (r->end - r->p < 4) return fail(r, "EOF while parsing a string");
    *out = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = *r->p++;
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) return fail(r, "invalid escape");
        *out = *out << 4 | (uint32_t)v;
    }
    return 0;
}

static void put_utf8(json_buf *b, uint32_t cp) {
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (uint8_t)cp; n = 1; }
    else if (cp < 0x800) { u[0] = 0xc0 | cp >> 6; u[1] = 0x80 | (cp & 63); n = 2; }
    else if (cp < 0x10000) { u[0] = 0xe0 | cp >> 12; u[1] = 0x80 | (cp >> 6 & 63); u[2] = 0x80 | (cp & 63); n = 3; }
    else { u[0] = 0xf0 | cp >> 18; u[1] = 0x80 | (cp >> 12 & 63); u[2] = 0x80 | (cp >> 6 & 63); u[3] = 0x80 | (cp & 63); n = 4; }
    json_put(b, u, n);
}

int json_read_string(json_reader *r, json_buf *out) {
    if (json_expect(r, '"', "expected a string")) return -1;
    const uint8_t *run = r->p;
    for (;;) {
        if (r->p >= r->end) return fail(r, "EOF while parsing a string");
        uint8_t c = *r->p;
        if (c == '"' || c == '\\') {
            json_put(out, run, (size_t)(r->p - run));
            r->p++;
            if (c == '"') break;
            if (r->p >= r->end) return fail(r, "EOF while parsing a string");
            uint8_t e = *r->p++;
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char decoded[] = "\"\\/\b\f\n\r\t";
                json_put(out, &decoded[simple - "\"\\/bfnrt"], 1);
            } else if (e == 'u') {
                uint32_t cp;
                if (hex4(r, &cp)) return -1;
                if (cp >= 0xd800 && cp < 0xdc00) {
                    uint32_t low;
                    if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') return fail(r, "lone leading surrogate in hex escape");
                    r->p += 2;
                    if (hex4(r, &low)) return -1;
                    if (low < 0xdc00 || low > 0xdfff) return fail(r, "lone leading surrogate in hex escape");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return fail(r, "lone trailing surrogate in hex escape");
                }
                put_utf8(out, cp);
            } else {
                return fail(r, "invalid escape");
            }
            run = r->p;
        } else if (c < 0x20) {
            return fail(r, "control character (\\u0000-\\u001F) found while parsing a string");
        } else {
            r->p++;
        }
    }
    if (wasmplug_utf8_error_at(out->data, out->len) >= 0) return fail(r, "invalid unicode code point");
    return 0;
}

static int read_number(json_reader *r, json_buf *out) {
    const uint8_t *s = r->p;
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p >= r->end) return fail(r, "EOF while parsing a value");
    if (*r->p == '0') r->p++;
    else if (*r->p >= '1' && *r->p <= '9') while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    else return fail(r, "invalid number");
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9') return fail(r, "invalid number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9') return fail(r, "invalid number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    }
    json_put(out, s, (size_t)(r->p - s));
    return 0;
}

static int literal(json_reader *r, const char *word, json_buf *out) {
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return fail(r, "expected value");
    r->p += n;
    json_put(out, word, n);
    return 0;
}

int json_read_value(json_reader *r, json_buf *out) {
    json_skip_ws(r);
    if (r->p >= r->end) return fail(r, "EOF while parsing a value");
    switch (*r->p) {
    case '{': {
        json_members m = {0};
        int rc = json_read_members(r, &m);
        if (rc == 0) json_write_members(out, &m);
        json_members_free(&m);
        return rc;
    }
    case '[': {
        r->p++;
        json_put(out, "[", 1);
        json_skip_ws(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            json_put(out, "]", 1);
            return 0;
        }
        for (int first = 1;; first = 0) {
            if (!first) json_put(out, ",", 1);
            if (json_read_value(r, out)) return -1;
            json_skip_ws(r);
            if (r->p >= r->end) return fail(r, "EOF while parsing a list");
            if (*r->p == ']') break;
            if (*r->p != ',') return fail(r, "expected `,` or `]`");
            r->p++;
        }
        r->p++;
        json_put(out, "]", 1);
        return 0;
    }
    case '"': {
        json_buf s = {0};
        int rc = json_read_string(r, &s);
        if (rc == 0) json_put_string(out, s.data, s.len);
        free(s.data);
        return rc;
    }
    case 't': return literal(r, "true", out);
    case 'f': return literal(r, "false", out);
    case 'n': return literal(r, "null", out);
    default: return read_number(r, out);
    }
}

void json_members_set(json_members *m, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len) {
    for (size_t i = 0; i < m->len; i++) {
        if (m->keys[i].len == key_len && memcmp(m->keys[i].data, key, key_len) == 0) {
            m->values[i].len = 0;
            json_put(&m->values[i], value, value_len);
            return;
        }
    }
    if (m->len == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->keys = realloc(m->keys, m->cap * sizeof *m->keys);
        m->values = realloc(m->values, m->cap * sizeof *m->values);
        if (!m->keys || !m->values) wasmplug_panic("out of memory");
    }
    m->keys[m->len] = (json_buf){0};
    m->values[m->len] = (json_buf){0};
    json_put(&m->keys[m->len], key, key_len);
    json_put(&m->values[m->len], value, value_len);
    m->len++;
}

int json_read_members(json_reader *r, json_members *m) {
    if (json_expect(r, '{', "expected an object")) return -1;
    json_skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        json_buf key = {0}, value = {0};
        int rc = json_read_string(r, &key);
        if (rc == 0) rc = json_expect(r, ':', "expected `:`");
        if (rc == 0) rc = json_read_value(r, &value);
        if (rc == 0) json_members_set(m, key.data, key.len, value.data, value.len);
        free(key.data);
        free(value.data);
        if (rc) return -1;
        json_skip_ws(r);
        if (r->p >= r->end) return fail(r, "EOF while parsing an object");
        if (*r->p == '}') break;
        if (*r->p != ',') return fail(r, "expected `,` or `}`");
        r->p++;
    }
    r->p++;
    return 0;
}

void json_write_members(json_buf *b, const json_members *m) {
    json_put(b, "{", 1);
    for (size_t i = 0; i < m->len; i++) {
        if (i) json_put(b, ",", 1);
        json_put_string(b, m->keys[i].data, m->keys[i].len);
        json_put(b, ":", 1);
        json_put(b, m->values[i].data, m->values[i].len);
    }
    json_put(b, "}", 1);
}

void json_members_free(json_members *m) {
    for (size_t i = 0; i < m->len; i++) {
        free(m->keys[i].data);
        free(m->values[i].data);
    }
    free(m->keys);
    free(m->values);
    *m = (json_members){0};
}
