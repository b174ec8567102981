module example.invalid/wasmplug/tests/hostile/go-scheduler-spin

go 1.24

require example.invalid/wasmplug v0.0.0

replace example.invalid/wasmplug => ../../../pdk/go
