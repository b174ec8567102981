package wasmplug

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// The host functions (docs/abi.md section 5).

//go:wasmimport wasmplug set_error
func hostSetError(ptr unsafe.Pointer, size uint32, code int32)

//go:wasmimport wasmplug panic
func hostPanic(ptr unsafe.Pointer, size uint32)

//go:wasmimport wasmplug log
func hostLog(level int32, ptr unsafe.Pointer, size uint32)

//go:wasmimport wasmplug config_get
func hostConfigGet(ptr unsafe.Pointer, size uint32, slot unsafe.Pointer) int32

// Statuses of host functions.
const (
	StatusOK    int32 = 0 // the slot holds the result
	StatusNone  int32 = 1 // there is no value
	StatusError int32 = 2 // the slot holds an error message
)

// slot is the 8-byte result slot passed to host functions. A package variable, not a
// local: its address must not change while the host, calling back into `allocate`,
// writes it.
var slot uint64

// SlotPtr is the result slot to pass as the last argument of an application host
// function; read the reply with HostBytes or HostScalar right after the call.
func SlotPtr() unsafe.Pointer { return unsafe.Pointer(&slot) }

// Arg is the (pointer, length) pair of b for a host function's parameters.
func Arg(b []byte) (unsafe.Pointer, uint32) { return bytesArg(b) }

// StringArg is the (pointer, length) pair of s for a host function's parameters.
func StringArg(s string) (unsafe.Pointer, uint32) { return stringArg(s) }

// HostBytes reads the reply of a host function that returned status: the buffer (nil,
// false for StatusNone), or the host's error value as an *Error.
func HostBytes(status int32) ([]byte, bool, error) {
	s := slot
	slot = 0
	buf := take(uint32(s), uint32(s>>32))
	switch status {
	case StatusOK:
		return buf, true, nil
	case StatusNone:
		return nil, false, nil
	case StatusError:
		return nil, false, &Error{Message: string(buf)}
	default:
		return nil, false, &Error{Message: fmt.Sprintf("host returned unknown status %d", status)}
	}
}

// HostScalar reads the reply of a host function that returns a scalar in the slot
// (i32/i64 values, or f64 bits: use math.Float64frombits).
func HostScalar(status int32) (uint64, error) {
	if status == StatusError {
		_, _, err := HostBytes(status)
		return 0, err
	}
	s := slot
	slot = 0
	return s, nil
}

func setError(message string, code int32) {
	ptr, size := stringArg(message)
	hostSetError(ptr, size, code)
}

// Panic ends the call as a trap whose message is message; it does not return.
func Panic(message string) {
	ptr, size := stringArg(message)
	hostPanic(ptr, size)
	for {
	}
}

// Log levels.
const (
	LevelTrace int32 = 0
	LevelDebug int32 = 1
	LevelInfo  int32 = 2
	LevelWarn  int32 = 3
	LevelError int32 = 4
)

// Log writes one line to the host's log at level.
func Log(level int32, message string) {
	ptr, size := stringArg(message)
	hostLog(level, ptr, size)
}

// Logf formats and logs one line at level.
func Logf(level int32, format string, args ...any) { Log(level, fmt.Sprintf(format, args...)) }

// Config returns the configuration value of key (plugin.toml's [config] table).
func Config(key string) (string, bool) {
	ptr, size := stringArg(key)
	value, ok, err := HostBytes(hostConfigGet(ptr, size, SlotPtr()))
	if err != nil || !ok {
		return "", false
	}
	return string(value), true
}

// OnInit, when set (in a package init function or a variable initialiser), is called once
// per instance with the whole configuration; an error fails the instance's creation (and
// so the plugin's load).
var OnInit func(config map[string]string) error

//go:wasmexport init
func exportInit(ptr, size uint32) (packed uint64) {
	defer recoverPanic()
	input := take(ptr, size)
	if OnInit == nil {
		return 0
	}
	config := map[string]string{}
	if err := json.Unmarshal(input, &config); err != nil {
		return finish(nil, &Error{Message: "config is not a JSON object of strings: " + err.Error()})
	}
	return finish(nil, OnInit(config))
}
