;; Follows the ABI except that it does not export `allocate` (host fixture).
(module
  (memory (export "memory") 1)
  (func (export "deallocate") (param i32 i32))
  (func (export "run") (param i32 i32) (result i64) (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"no-allocate\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
