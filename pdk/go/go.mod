module example.invalid/wasmplug

go 1.24
