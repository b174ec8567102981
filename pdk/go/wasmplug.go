// Package wasmplug is the wasmplug guest kit for Go (guest ABI v1, docs/abi.md): write
// plain Go functions over []byte, string or JSON values, get a WebAssembly plugin.
//
// A complete plugin:
//
//	package main
//
//	import "example.invalid/wasmplug"
//
//	//go:wasmexport greet
//	func greet(ptr, size uint32) uint64 {
//		return wasmplug.String(ptr, size, func(name string) (string, error) {
//			if name == "" {
//				return "", wasmplug.Errorf(1, "name must not be empty")
//			}
//			greeting, _ := wasmplug.Config("greeting")
//			return greeting + ", " + name + "!", nil
//		})
//	}
//
//	func main() {}
//
// Build it with `wasmplug build` (which runs `GOOS=wasip1 GOARCH=wasm go build
// -buildmode=c-shared -o plugin.wasm .` and then writes the custom sections from
// plugin.toml: the Go compiler cannot emit them). Go >= 1.24 is needed for
// //go:wasmexport.
//
// What the kit does:
//   - exports `allocate`, `deallocate` and `init`; a buffer handed to the host stays
//     referenced (so the garbage collector keeps it) until the host frees it;
//   - Bytes, String and JSON run one plugin function: they take the input, convert it,
//     call your function, and hand the output to the host, or report the error as an
//     error value (with the code of an *Error, else 0);
//   - a panic in your function is recovered and reported through the host's
//     `wasmplug.panic`, so the host sees a trap whose message is the panic text;
//   - Config, Log*, KV*, HTTPRequest wrap the host functions, and HostBytes / HostScalar
//     read the reply of an application's own host function.
package wasmplug

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is an error value with a code: returned by a plugin function, the host sees
// Error::Guest with this message and code. Any other error is reported with code 0.
type Error struct {
	Message string
	Code    int32
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a code and a formatted message.
func Errorf(code int32, format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Code: code}
}

// Bytes runs plugin function f on the input bytes. Use it in the //go:wasmexport wrapper:
//
//	//go:wasmexport echo
//	func echo(ptr, size uint32) uint64 { return wasmplug.Bytes(ptr, size, Echo) }
func Bytes(ptr, size uint32, f func([]byte) ([]byte, error)) (packed uint64) {
	defer recoverPanic()
	out, err := f(takeInput(ptr, size))
	return finish(out, err)
}

// String runs f on the input as text. Input that is not valid UTF-8 is an error value.
func String(ptr, size uint32, f func(string) (string, error)) (packed uint64) {
	defer recoverPanic()
	input := takeInput(ptr, size)
	if !utf8.Valid(input) {
		return finish(nil, &Error{Message: "input is not valid UTF-8: " + invalidAt(input)})
	}
	out, err := f(string(input))
	return finish([]byte(out), err)
}

// JSON runs f on the input decoded as JSON into In, and encodes its Out as JSON (without
// HTML escaping or a trailing newline). Input that does not decode is an error value.
func JSON[In, Out any](ptr, size uint32, f func(In) (Out, error)) (packed uint64) {
	defer recoverPanic()
	var in In
	if err := json.Unmarshal(takeInput(ptr, size), &in); err != nil {
		return finish(nil, &Error{Message: "invalid JSON input: " + err.Error()})
	}
	out, err := f(in)
	if err != nil {
		return finish(nil, err)
	}
	encoded, err := MarshalJSON(out)
	if err != nil {
		return finish(nil, &Error{Message: "output is not valid JSON: " + err.Error()})
	}
	return finish(encoded, nil)
}

// MarshalJSON encodes v like encoding/json, without HTML escaping or a trailing newline.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// finish hands the output to the host, or reports err as an error value.
func finish(out []byte, err error) uint64 {
	if err != nil {
		var e *Error
		code := int32(0)
		if errors.As(err, &e) {
			code = e.Code
		}
		setError(err.Error(), code)
		return 0
	}
	return giveOutput(out)
}

// recoverPanic reports a panic of the plugin function as a trap with the panic's text.
func recoverPanic() {
	if r := recover(); r != nil {
		Panic(fmt.Sprintf("panicked: %v", r))
	}
}

func invalidAt(b []byte) string {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Sprintf("invalid byte 0x%02x at index %d", b[i], i)
		}
		i += n
	}
	return "invalid UTF-8"
}
