// Run with: wasmplug run examples/plugins/counter-go/plugin.toml increment --input visits
//
// The counter example in Go, on the host's key-value store: `increment` adds one to the
// counter named by the input ("count" when empty) and returns the new value, `get`
// returns it ("0" when unset), `reset` deletes it. Values are stored as decimal text, so
// every language's counter reads the others' values. A store error (a quota) is passed on
// as an error value with code 2; a stored value that is not a number has code 3.
package main

import (
	"strconv"

	"example.invalid/wasmplug"
)

const (
	storeFailed = 2
	notANumber  = 3
)

func key(name string) string {
	if name == "" {
		name = "count"
	}
	return "counter/" + name
}

func read(key string) (uint64, error) {
	value, ok, err := wasmplug.KVGet(key)
	if err != nil {
		return 0, &wasmplug.Error{Message: err.Error(), Code: storeFailed}
	}
	if !ok {
		return 0, nil
	}
	n, perr := strconv.ParseUint(string(value), 10, 64)
	if perr != nil {
		return 0, wasmplug.Errorf(notANumber, "`%s` holds %q, not a number", key, value)
	}
	return n, nil
}

//go:wasmexport increment
func increment(ptr, size uint32) uint64 {
	return wasmplug.String(ptr, size, func(name string) (string, error) {
		k := key(name)
		n, err := read(k)
		if err != nil {
			return "", err
		}
		text := strconv.FormatUint(n+1, 10)
		if err := wasmplug.KVSet(k, []byte(text)); err != nil {
			return "", &wasmplug.Error{Message: err.Error(), Code: storeFailed}
		}
		return text, nil
	})
}

//go:wasmexport get
func get(ptr, size uint32) uint64 {
	return wasmplug.String(ptr, size, func(name string) (string, error) {
		n, err := read(key(name))
		return strconv.FormatUint(n, 10), err
	})
}

//go:wasmexport reset
func reset(ptr, size uint32) uint64 {
	return wasmplug.String(ptr, size, func(name string) (string, error) {
		if _, err := wasmplug.KVDelete(key(name)); err != nil {
			return "", &wasmplug.Error{Message: err.Error(), Code: storeFailed}
		}
		return "", nil
	})
}

func main() {}
