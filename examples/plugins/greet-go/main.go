// Run with: wasmplug run examples/plugins/greet-go/plugin.toml greet --input world
//
// The greet example in Go: `greet` turns a name into "<greeting>, <name>!". The greeting
// is the `greeting` key of the plugin configuration, "Hello" by default. An empty name is
// an error value with code 1.
package main

import (
	"strings"

	"example.invalid/wasmplug"
)

// emptyName is the error code for an empty name.
const emptyName = 1

//go:wasmexport greet
func greet(ptr, size uint32) uint64 {
	return wasmplug.String(ptr, size, func(name string) (string, error) {
		name = strings.TrimSpace(name)
		if name == "" {
			return "", wasmplug.Errorf(emptyName, "name must not be empty")
		}
		greeting, ok := wasmplug.Config("greeting")
		if !ok {
			greeting = "Hello"
		}
		return greeting + ", " + name + "!", nil
	})
}

func main() {}
