;; Hostile: `allocate` itself traps (`unreachable`) when the host asks for the input buffer.
(module
  (memory (export "memory") 1)
  (func (export "allocate") (param $len i32) (result i32)
    (unreachable))
  (func (export "deallocate") (param i32 i32))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-alloc-trap\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
