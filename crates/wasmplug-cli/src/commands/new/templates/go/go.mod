module {{name}}

go 1.24

require example.invalid/wasmplug v0.0.0

// The guest kit is a copy in ./wasmplug: the build needs no module download.
replace example.invalid/wasmplug => ./wasmplug
