package wasmplug

import "unsafe"

// live holds every buffer that belongs to the host or is on its way to the guest:
// allocated by the host through `allocate` and not taken yet, or handed to the host as an
// output and not freed yet. Holding them here keeps the garbage collector from reusing
// memory the host still reads or writes; Go's collector does not move objects, so an
// address stays valid while the buffer is referenced.
var live = map[uint32][]byte{}

//go:wasmexport allocate
func allocate(size uint32) uint32 {
	if size == 0 {
		size = 1 // a valid, distinct address; deallocate(ptr, 0) frees it
	}
	buf := make([]byte, size)
	ptr := uint32(uintptr(unsafe.Pointer(&buf[0])))
	live[ptr] = buf
	return ptr
}

//go:wasmexport deallocate
func deallocate(ptr, size uint32) {
	delete(live, ptr)
}

// take turns a buffer the host allocated into a Go slice owned by the garbage collector.
func take(ptr, size uint32) []byte {
	if size == 0 {
		delete(live, ptr)
		return nil
	}
	buf, ok := live[ptr]
	if !ok || uint32(len(buf)) < size {
		Panic("wasmplug: the host passed a buffer this guest did not allocate")
	}
	delete(live, ptr)
	return buf[:size:size]
}

func takeInput(ptr, size uint32) []byte { return take(ptr, size) }

// giveOutput keeps out alive for the host and packs its address and length.
func giveOutput(out []byte) uint64 {
	if len(out) == 0 {
		return 0
	}
	ptr := uint32(uintptr(unsafe.Pointer(&out[0])))
	if held, ok := live[ptr]; !ok || len(held) < len(out) {
		live[ptr] = out
	}
	return uint64(ptr)<<32 | uint64(uint32(len(out)))
}

// bytesArg is the (pointer, length) of b for a host function.
func bytesArg(b []byte) (unsafe.Pointer, uint32) {
	if len(b) == 0 {
		return nil, 0
	}
	return unsafe.Pointer(&b[0]), uint32(len(b))
}

// stringArg is the (pointer, length) of s for a host function.
func stringArg(s string) (unsafe.Pointer, uint32) {
	if len(s) == 0 {
		return nil, 0
	}
	return unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}
