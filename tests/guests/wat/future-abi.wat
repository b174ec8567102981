;; Declares ABI version 2, which this host does not support (host fixture).
(module
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) (i32.const 16))
  (func (export "deallocate") (param i32 i32))
  (func (export "run") (param i32 i32) (result i64) (i64.const 0))
  (@custom "wasmplug.abi" "\02\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"future-abi\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
