// docs/abi.md by hand, in Go: allocate/deallocate keep buffers alive until the host frees
// them; the sections are written by `wasmplug build` from plugin.toml.
package main

import "unsafe"

var live = map[uint32][]byte{}

//go:wasmimport wasmplug set_error
func setError(ptr unsafe.Pointer, size uint32, code int32)

//go:wasmexport allocate
func allocate(size uint32) uint32 {
	buf := make([]byte, size+1)
	ptr := uint32(uintptr(unsafe.Pointer(&buf[0])))
	live[ptr] = buf
	return ptr
}

//go:wasmexport deallocate
func deallocate(ptr, size uint32) { delete(live, ptr) }

//go:wasmexport shout
func shout(ptr, size uint32) uint64 {
	if size == 0 {
		msg := "nothing to shout"
		setError(unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)), 7)
		return 0
	}
	buf := live[ptr][:size]
	for i, c := range buf {
		if c >= 'a' && c <= 'z' {
			buf[i] = c - 32
		}
	}
	// Still in `live`: the host reads it, then frees it with deallocate.
	return uint64(ptr)<<32 | uint64(size)
}

func main() {}
