// Run with: wasmplug run examples/plugins/json-transformer-go/plugin.toml execute --input '{"request_id":"r1","parameters":{"a":1}}'
//
// The json-transformer example in Go: the `execute` function of the original Go + wazero
// design (docs/abi.md section 6). Input is a PluginContext, output a PluginResult: the
// parameters with `_request_id` and `_processed` added, in their original order (as the
// Rust example's serde_json with `preserve_order`), written compactly. Invalid input is
// reported in the result (`"success": false`), not as an error value. Numbers are copied
// as written (serde_json would rewrite `1e2` as `100.0`).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"example.invalid/wasmplug"
)

// member is one key of a JSON object and its value, already written compactly.
type member struct {
	key   string
	value []byte
}

//go:wasmexport execute
func execute(ptr, size uint32) uint64 {
	return wasmplug.Bytes(ptr, size, func(input []byte) ([]byte, error) {
		data, err := transform(input)
		var out bytes.Buffer
		if err != nil {
			out.WriteString(`{"success":false,"data":null,"error":`)
			writeString(&out, err.Error())
			out.WriteString("}")
			return out.Bytes(), nil
		}
		out.WriteString(`{"success":true,"data":`)
		out.Write(data)
		out.WriteString("}")
		return out.Bytes(), nil
	})
}

// transform returns the parameters object with `_request_id` and `_processed` set.
func transform(input []byte) ([]byte, error) {
	if !utf8.Valid(input) {
		// encoding/json would replace invalid UTF-8; serde_json refuses it.
		return nil, errors.New("invalid unicode code point")
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	if err := expectDelim(dec, '{', "a PluginContext object"); err != nil {
		return nil, err
	}
	var requestID *string
	var params []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		switch key {
		case "request_id":
			var id string
			if err := dec.Decode(&id); err != nil {
				return nil, fmt.Errorf("`request_id` must be a string: %w", err)
			}
			requestID = &id
		case "parameters":
			if params, err = readObject(dec); err != nil {
				return nil, fmt.Errorf("`parameters` must be an object: %w", err)
			}
		case "headers":
			var headers map[string]string
			if err := dec.Decode(&headers); err != nil {
				return nil, fmt.Errorf("`headers` must be an object of strings: %w", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing characters after the PluginContext object")
	}
	if requestID == nil {
		return nil, errors.New("missing field `request_id`")
	}
	var id bytes.Buffer
	writeString(&id, *requestID)
	params = set(params, "_request_id", id.Bytes())
	params = set(params, "_processed", []byte("true"))
	var out bytes.Buffer
	writeObject(&out, params)
	return out.Bytes(), nil
}

// set replaces key's value in place, or appends it (serde_json's ordered map does this).
func set(members []member, key string, value []byte) []member {
	for i := range members {
		if members[i].key == key {
			members[i].value = value
			return members
		}
	}
	return append(members, member{key, value})
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %s, found %v", what, tok)
	}
	return nil
}

// readObject reads an object whose `{` is next, keeping its keys in order.
func readObject(dec *json.Decoder) ([]member, error) {
	if err := expectDelim(dec, '{', "an object"); err != nil {
		return nil, err
	}
	members := []member{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var value bytes.Buffer
		if err := writeValue(dec, &value); err != nil {
			return nil, err
		}
		members = set(members, key, value.Bytes())
	}
	_, err := dec.Token() // `}`
	return members, err
}

// writeValue copies the next value compactly, objects in key order.
func writeValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			members := []member{}
			for dec.More() {
				keyTok, err := dec.Token()
				if err != nil {
					return err
				}
				var value bytes.Buffer
				if err := writeValue(dec, &value); err != nil {
					return err
				}
				members = set(members, keyTok.(string), value.Bytes())
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			writeObject(out, members)
		case '[':
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := writeValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte(']')
		}
	case string:
		writeString(out, v)
	case json.Number:
		out.WriteString(v.String())
	case bool:
		if v {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	}
	return nil
}

func writeObject(out *bytes.Buffer, members []member) {
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, m.key)
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
}

// writeString writes s as a JSON string escaped the way serde_json does it.
func writeString(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			out.WriteString(`\"`)
		case c == '\\':
			out.WriteString(`\\`)
		case c == '\n':
			out.WriteString(`\n`)
		case c == '\r':
			out.WriteString(`\r`)
		case c == '\t':
			out.WriteString(`\t`)
		case c == '\b':
			out.WriteString(`\b`)
		case c == '\f':
			out.WriteString(`\f`)
		case c < 0x20:
			out.WriteString(`\u00`)
			out.WriteByte(hex[c>>4])
			out.WriteByte(hex[c&15])
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte('"')
}

func main() {}
