// Run with: wasmplug run examples/plugins/json-transformer-assemblyscript/plugin.toml execute --input '{"request_id":"r1","parameters":{"a":1}}'
//
// The json-transformer example in AssemblyScript: the `execute` function of the original
// Go + wazero design (docs/abi.md section 6). Input is a PluginContext, output a
// PluginResult: the parameters with `_request_id` and `_processed` added, in their
// original order, written compactly (json.ts). Invalid input is reported in the result
// (`"success": false`), not as an error value.
import * as wasmplug from "./wasmplug";
import { Members, Out, Reader, ascii } from "./json";
export { allocate, deallocate } from "./wasmplug";

function isKey(key: u8[], name: string): bool {
  if (key.length != name.length) return false;
  for (let i = 0; i < key.length; i++) if (<i32>key[i] != name.charCodeAt(i)) return false;
  return true;
}

/** The transformed parameters, or null with the reason in `r.error`. */
function transform(r: Reader): Out | null {
  const params = new Members();
  let requestId: u8[] | null = null;
  if (!r.expect(0x7b, "expected a PluginContext object")) return null;
  r.ws();
  if (r.peek() == 0x7d) r.pos++;
  else {
    while (true) {
      const key = r.str();
      if (key === null || !r.expect(0x3a, "expected `:`")) return null;
      r.ws();
      if (isKey(key, "request_id")) {
        requestId = r.str();
        if (requestId === null) return null;
      } else if (isKey(key, "parameters")) {
        params.keys = [];
        params.values = [];
        if (!r.members(params)) return null;
      } else if (!r.value(new Out())) {
        return null; // headers and unknown fields are checked and skipped
      }
      r.ws();
      if (r.atEnd()) { r.fail("EOF while parsing an object"); return null; }
      if (r.peek() == 0x7d) { r.pos++; break; }
      if (!r.expect(0x2c, "expected `,` or `}`")) return null;
    }
  }
  r.ws();
  if (!r.atEnd()) { r.fail("trailing characters"); return null; }
  if (requestId === null) { r.error = "missing field `request_id`"; return null; }
  const id = new Out();
  id.str(requestId);
  params.set(ascii("_request_id"), id.bytes);
  params.set(ascii("_processed"), ascii("true"));
  const out = new Out();
  params.write(out);
  return out;
}

export function execute(ptr: u32, len: u32): u64 {
  return wasmplug.bytes(ptr, len, (input: Uint8Array): Uint8Array => {
    const r = new Reader(input);
    const data = transform(r);
    const out = new Out();
    if (data !== null) {
      out.ascii("{\"success\":true,\"data\":");
      out.append(data.bytes);
    } else {
      out.ascii("{\"success\":false,\"data\":null,\"error\":");
      const e = r.error;
      out.str(ascii(e === null ? "invalid input" : e));
    }
    out.byte(0x7d);
    const bytes = new Uint8Array(out.bytes.length);
    for (let i = 0; i < out.bytes.length; i++) bytes[i] = out.bytes[i];
    return bytes;
  });
}
