// Hostile (Go): `run` starts 64 goroutines that spin in the Go scheduler forever
// (runtime.Gosched in a loop) and spins itself, so no goroutine ever blocks and the Go
// runtime never reports a deadlock: only the host's deadline stops it. `ok` answers at
// once (the obeyed half).
package main

import (
	"runtime"

	"example.invalid/wasmplug"
)

var spins uint64

//go:wasmexport run
func run(ptr, size uint32) uint64 {
	return wasmplug.Bytes(ptr, size, func([]byte) ([]byte, error) {
		for i := 0; i < 64; i++ {
			go func() {
				for {
					spins++
					runtime.Gosched()
				}
			}()
		}
		for {
			runtime.Gosched()
		}
	})
}

//go:wasmexport ok
func ok(ptr, size uint32) uint64 {
	return wasmplug.Bytes(ptr, size, func(input []byte) ([]byte, error) { return input, nil })
}

func main() {}
