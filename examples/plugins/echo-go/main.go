// Run with: wasmplug run examples/plugins/echo-go/plugin.toml echo --input hello
//
// The echo example in Go: `echo` returns its input unchanged, `noop` does nothing (to
// measure call overhead), `len` returns the input length in decimal, and `panic` panics
// with its input as the message (the host sees a trap carrying that text).
package main

import (
	"strconv"

	"example.invalid/wasmplug"
)

//go:wasmexport echo
func echo(ptr, size uint32) uint64 {
	return wasmplug.Bytes(ptr, size, func(input []byte) ([]byte, error) { return input, nil })
}

//go:wasmexport noop
func noop(ptr, size uint32) uint64 {
	return wasmplug.Bytes(ptr, size, func([]byte) ([]byte, error) { return nil, nil })
}

//go:wasmexport len
func length(ptr, size uint32) uint64 {
	return wasmplug.Bytes(ptr, size, func(input []byte) ([]byte, error) {
		return strconv.AppendInt(nil, int64(len(input)), 10), nil
	})
}

//go:wasmexport panic
func panics(ptr, size uint32) uint64 {
	return wasmplug.String(ptr, size, func(message string) (string, error) { panic(message) })
}

func main() {}
