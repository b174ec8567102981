// A small JSON reader for the json-transformer example: validates JSON text and rewrites
// values compactly, objects keeping their key order, strings escaped as serde_json does
// (so the output matches the Rust example's byte for byte). Numbers are copied as written.

/** A growable output buffer of bytes. */
export class Out {
  bytes: u8[] = [];
  byte(c: i32): void { this.bytes.push(<u8>c); }
  ascii(s: string): void { for (let i = 0; i < s.length; i++) this.bytes.push(<u8>s.charCodeAt(i)); }
  append(b: u8[]): void { for (let i = 0; i < b.length; i++) this.bytes.push(b[i]); }
  /** A JSON string holding the UTF-8 bytes `s`, escaped as serde_json does it. */
  str(s: u8[]): void {
    const hex = "0123456789abcdef";
    this.byte(0x22);
    for (let i = 0; i < s.length; i++) {
      const c = <i32>s[i];
      if (c == 0x22) this.ascii("\\\"");
      else if (c == 0x5c) this.ascii("\\\\");
      else if (c == 0x0a) this.ascii("\\n");
      else if (c == 0x0d) this.ascii("\\r");
      else if (c == 0x09) this.ascii("\\t");
      else if (c == 0x08) this.ascii("\\b");
      else if (c == 0x0c) this.ascii("\\f");
      else if (c < 0x20) { this.ascii("\\u00"); this.byte(hex.charCodeAt(c >> 4)); this.byte(hex.charCodeAt(c & 15)); }
      else this.byte(c);
    }
    this.byte(0x22);
  }
}

/** The members of an object, in order; a repeated key keeps its first place and takes the
 * last value (as serde_json's ordered map). */
export class Members {
  keys: u8[][] = [];
  values: u8[][] = [];
  set(key: u8[], value: u8[]): void {
    for (let i = 0; i < this.keys.length; i++) {
      if (same(this.keys[i], key)) { this.values[i] = value; return; }
    }
    this.keys.push(key);
    this.values.push(value);
  }
  write(out: Out): void {
    out.byte(0x7b);
    for (let i = 0; i < this.keys.length; i++) {
      if (i > 0) out.byte(0x2c);
      out.str(this.keys[i]);
      out.byte(0x3a);
      out.append(this.values[i]);
    }
    out.byte(0x7d);
  }
}

function same(a: u8[], b: u8[]): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

export function ascii(s: string): u8[] {
  const b: u8[] = [];
  for (let i = 0; i < s.length; i++) b.push(<u8>s.charCodeAt(i));
  return b;
}

/** The reader; `error` is set by the first failure (and the reader stops there). */
export class Reader {
  pos: i32 = 0;
  error: string | null = null;
  constructor(public b: Uint8Array) {}

  fail(what: string): bool {
    if (this.error === null) this.error = what + " at byte " + this.pos.toString();
    return false;
  }
  ws(): void {
    while (this.pos < this.b.length) {
      const c = this.b[this.pos];
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }
  atEnd(): bool { return this.pos >= this.b.length; }
  peek(): i32 { return this.atEnd() ? -1 : <i32>this.b[this.pos]; }
  expect(c: i32, what: string): bool {
    this.ws();
    if (this.atEnd()) return this.fail("EOF while parsing");
    if (<i32>this.b[this.pos] != c) return this.fail(what);
    this.pos++;
    return true;
  }

  hex4(): i32 {
    if (this.b.length - this.pos < 4) { this.fail("EOF while parsing a string"); return -1; }
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>this.b[this.pos++];
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) { this.fail("invalid escape"); return -1; }
      v = (v << 4) | d;
    }
    return v;
  }

  /** A string, decoded to UTF-8 bytes; null on failure. */
  str(): u8[] | null {
    if (!this.expect(0x22, "expected a string")) return null;
    const out: u8[] = [];
    while (true) {
      if (this.atEnd()) { this.fail("EOF while parsing a string"); return null; }
      const c = <i32>this.b[this.pos++];
      if (c == 0x22) break;
      if (c < 0x20) { this.fail("control character (\\u0000-\\u001F) found while parsing a string"); return null; }
      if (c != 0x5c) { out.push(<u8>c); continue; }
      if (this.atEnd()) { this.fail("EOF while parsing a string"); return null; }
      const e = <i32>this.b[this.pos++];
      if (e == 0x22 || e == 0x5c || e == 0x2f) out.push(<u8>e);
      else if (e == 0x62) out.push(8);
      else if (e == 0x66) out.push(12);
      else if (e == 0x6e) out.push(10);
      else if (e == 0x72) out.push(13);
      else if (e == 0x74) out.push(9);
      else if (e == 0x75) {
        let cp = this.hex4();
        if (cp < 0) return null;
        if (cp >= 0xd800 && cp < 0xdc00) {
          if (this.peek() != 0x5c || this.pos + 1 >= this.b.length || this.b[this.pos + 1] != 0x75) { this.fail("lone leading surrogate in hex escape"); return null; }
          this.pos += 2;
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) { this.fail("lone leading surrogate in hex escape"); return null; }
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) { this.fail("lone trailing surrogate in hex escape"); return null; }
        if (cp < 0x80) out.push(<u8>cp);
        else if (cp < 0x800) { out.push(<u8>(0xc0 | (cp >> 6))); out.push(<u8>(0x80 | (cp & 63))); }
        else if (cp < 0x10000) { out.push(<u8>(0xe0 | (cp >> 12))); out.push(<u8>(0x80 | ((cp >> 6) & 63))); out.push(<u8>(0x80 | (cp & 63))); }
        else { out.push(<u8>(0xf0 | (cp >> 18))); out.push(<u8>(0x80 | ((cp >> 12) & 63))); out.push(<u8>(0x80 | ((cp >> 6) & 63))); out.push(<u8>(0x80 | (cp & 63))); }
      } else { this.fail("invalid escape"); return null; }
    }
    const check = new Uint8Array(out.length);
    for (let i = 0; i < out.length; i++) check[i] = out[i];
    if (validUtf8(check) >= 0) { this.fail("invalid unicode code point"); return null; }
    return out;
  }

  digits(): i32 {
    const start = this.pos;
    while (!this.atEnd() && this.b[this.pos] >= 48 && this.b[this.pos] <= 57) this.pos++;
    return this.pos - start;
  }

  number(out: Out): bool {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) this.pos++;
    else if (this.peek() >= 0x31 && this.peek() <= 0x39) this.digits();
    else return this.fail(this.atEnd() ? "EOF while parsing a value" : "expected value");
    if (this.peek() == 0x2e) { this.pos++; if (this.digits() == 0) return this.fail("invalid number"); }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (this.digits() == 0) return this.fail("invalid number");
    }
    for (let i = start; i < this.pos; i++) out.byte(this.b[i]);
    return true;
  }

  literal(word: string, out: Out): bool {
    if (this.b.length - this.pos < word.length) return this.fail("expected value");
    for (let i = 0; i < word.length; i++) if (<i32>this.b[this.pos + i] != word.charCodeAt(i)) return this.fail("expected value");
    this.pos += word.length;
    out.ascii(word);
    return true;
  }

  /** Reads one value and writes it compactly. */
  value(out: Out): bool {
    this.ws();
    const c = this.peek();
    if (c < 0) return this.fail("EOF while parsing a value");
    if (c == 0x7b) {
      const m = new Members();
      if (!this.members(m)) return false;
      m.write(out);
      return true;
    }
    if (c == 0x5b) {
      this.pos++;
      out.byte(0x5b);
      this.ws();
      if (this.peek() == 0x5d) { this.pos++; out.byte(0x5d); return true; }
      for (let first = true; ; first = false) {
        if (!first) out.byte(0x2c);
        if (!this.value(out)) return false;
        this.ws();
        if (this.atEnd()) return this.fail("EOF while parsing a list");
        if (this.peek() == 0x5d) break;
        if (this.peek() != 0x2c) return this.fail("expected `,` or `]`");
        this.pos++;
      }
      this.pos++;
      out.byte(0x5d);
      return true;
    }
    if (c == 0x22) {
      const s = this.str();
      if (s === null) return false;
      out.str(s);
      return true;
    }
    if (c == 0x74) return this.literal("true", out);
    if (c == 0x66) return this.literal("false", out);
    if (c == 0x6e) return this.literal("null", out);
    return this.number(out);
  }

  /** Reads an object (its `{` next) into `m`. */
  members(m: Members): bool {
    if (!this.expect(0x7b, "expected an object")) return false;
    this.ws();
    if (this.peek() == 0x7d) { this.pos++; return true; }
    while (true) {
      const key = this.str();
      if (key === null || !this.expect(0x3a, "expected `:`")) return false;
      const value = new Out();
      if (!this.value(value)) return false;
      m.set(key, value.bytes);
      this.ws();
      if (this.atEnd()) return this.fail("EOF while parsing an object");
      if (this.peek() == 0x7d) break;
      if (this.peek() != 0x2c) return this.fail("expected `,` or `}`");
      this.pos++;
    }
    this.pos++;
    return true;
  }
}

/** The index of the first byte that is not valid UTF-8, or -1. */
export function validUtf8(b: Uint8Array): i32 {
  let i = 0;
  while (i < b.length) {
    const c = <u32>b[i];
    const n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > b.length || (n == 2 && c < 0xc2)) return i;
    let cp: u32 = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (let k = 1; k < n; k++) {
      const d = <u32>b[i + k];
      if ((d & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return i;
    i += n;
  }
  return -1;
}
