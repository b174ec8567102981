// Run with: wasmplug build . && wasmplug run plugin.toml greet --input world
package main

import (
	"strings"

	"example.invalid/wasmplug"
)

// greet greets the input name with the configured greeting.
//
//go:wasmexport greet
func greet(ptr, size uint32) uint64 {
	return wasmplug.String(ptr, size, func(name string) (string, error) {
		name = strings.TrimSpace(name)
		if name == "" {
			return "", wasmplug.Errorf(1, "name must not be empty")
		}
		greeting, ok := wasmplug.Config("greeting")
		if !ok {
			greeting = "Hello"
		}
		return greeting + ", " + name + "!", nil
	})
}

func main() {}
