package wasmplug

import (
	"encoding/binary"
	"unsafe"
)

//go:wasmimport wasmplug kv_get
func hostKVGet(key unsafe.Pointer, keyLen uint32, slot unsafe.Pointer) int32

//go:wasmimport wasmplug kv_set
func hostKVSet(key unsafe.Pointer, keyLen uint32, value unsafe.Pointer, valueLen uint32, slot unsafe.Pointer) int32

//go:wasmimport wasmplug kv_delete
func hostKVDelete(key unsafe.Pointer, keyLen uint32, slot unsafe.Pointer) int32

//go:wasmimport wasmplug kv_list
func hostKVList(prefix unsafe.Pointer, prefixLen uint32, slot unsafe.Pointer) int32

// KVGet reads key from the plugin's key-value store: the value and true, or false when
// the key is missing. Quota and store failures are *Error values from the host.
func KVGet(key string) ([]byte, bool, error) {
	ptr, size := stringArg(key)
	return HostBytes(hostKVGet(ptr, size, SlotPtr()))
}

// KVSet writes key = value. A refused write (a quota) changes nothing and is an *Error.
func KVSet(key string, value []byte) error {
	kp, ks := stringArg(key)
	vp, vs := bytesArg(value)
	_, _, err := HostBytes(hostKVSet(kp, ks, vp, vs, SlotPtr()))
	return err
}

// KVDelete deletes key and says whether it existed.
func KVDelete(key string) (bool, error) {
	ptr, size := stringArg(key)
	status := hostKVDelete(ptr, size, SlotPtr())
	_, _, err := HostBytes(status)
	return status == StatusOK, err
}

// KVList returns the keys that start with prefix, in byte order (at most 1000).
func KVList(prefix string) ([]string, error) {
	ptr, size := stringArg(prefix)
	buf, _, err := HostBytes(hostKVList(ptr, size, SlotPtr()))
	if err != nil {
		return nil, err
	}
	var keys []string
	for len(buf) >= 4 {
		n := binary.LittleEndian.Uint32(buf)
		if uint32(len(buf)-4) < n {
			break
		}
		keys = append(keys, string(buf[4:4+n]))
		buf = buf[4+n:]
	}
	return keys, nil
}
