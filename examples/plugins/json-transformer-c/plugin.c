/* Run with: wasmplug run examples/plugins/json-transformer-c/plugin.toml execute --input '{"request_id":"r1","parameters":{"a":1}}'
 *
 * The json-transformer example in C: the `execute` function of the original Go + wazero
 * design (docs/abi.md section 6). Input is a PluginContext, output a PluginResult: the
 * parameters with `_request_id` and `_processed` added, in their original order, written
 * compactly (json.c). Invalid input is reported in the result (`"success": false`), not as
 * an error value. */
#include "json.h"
#include "wasmplug.h"

WASMPLUG_PLUGIN("json-transformer-c", "1.0.0",
                "Port of the Go plugin example: tags request parameters with the request id (C)", "wasmplug")

static int is_key(const json_buf *key, const char *name) {
    return key->len == strlen(name) && memcmp(key->data, name, key->len) == 0;
}

/* Parses the PluginContext and writes the transformed parameters to `data`. */
static int transform(json_reader *r, json_buf *data) {
    json_members params = {0};
    json_buf request_id = {0};
    int have_id = 0, rc = json_expect(r, '{', "expected a PluginContext object");
    json_skip_ws(r);
    if (rc == 0 && r->p < r->end && *r->p == '}') r->p++;
    else while (rc == 0) {
        json_buf key = {0}, skipped = {0};
        rc = json_read_string(r, &key);
        if (rc == 0) rc = json_expect(r, ':', "expected `:`");
        if (rc == 0) {
            json_skip_ws(r);
            if (is_key(&key, "request_id")) {
                request_id.len = 0;
                rc = json_read_string(r, &request_id);
                have_id = 1;
            } else if (is_key(&key, "parameters")) {
                json_members_free(&params);
                rc = json_read_members(r, &params);
            } else {
                rc = json_read_value(r, &skipped); /* headers and unknown fields */
            }
        }
        free(key.data);
        free(skipped.data);
        if (rc) break;
        json_skip_ws(r);
        if (r->p >= r->end) { rc = json_expect(r, '}', ""); break; }
        if (*r->p == '}') { r->p++; break; }
        rc = json_expect(r, ',', "expected `,` or `}`");
    }
    if (rc == 0) {
        json_skip_ws(r);
        if (r->p != r->end) rc = json_expect(r, '\0', "trailing characters");
    }
    if (rc == 0 && !have_id) {
        snprintf(r->error, sizeof r->error, "missing field `request_id`");
        rc = -1;
    }
    if (rc == 0) {
        json_buf id = {0};
        json_put_string(&id, request_id.data, request_id.len);
        json_members_set(&params, (const uint8_t *)"_request_id", 11, id.data, id.len);
        json_members_set(&params, (const uint8_t *)"_processed", 10, (const uint8_t *)"true", 4);
        json_write_members(data, &params);
        free(id.data);
    }
    free(request_id.data);
    json_members_free(&params);
    return rc;
}

static wasmplug_result execute(wasmplug_bytes input) {
    json_reader r = {input.ptr, input.ptr, input.ptr + input.len, {0}};
    json_buf data = {0}, out = {0};
    if (transform(&r, &data) == 0) {
        json_put(&out, "{\"success\":true,\"data\":", 23);
        json_put(&out, data.data, data.len);
        json_put(&out, "}", 1);
    } else {
        json_put(&out, "{\"success\":false,\"data\":null,\"error\":", 37);
        json_put_string(&out, (const uint8_t *)r.error, strlen(r.error));
        json_put(&out, "}", 1);
    }
    free(data.data);
    return wasmplug_ok(out.data, (uint32_t)out.len);
}
WASMPLUG_FUNCTION(execute)
