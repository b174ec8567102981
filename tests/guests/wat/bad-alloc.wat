;; `allocate` returns a garbage pointer near 4 GiB, far outside memory (host fixture).
(module
  (memory (export "memory") 1)
  (func (export "allocate") (param $len i32) (result i32)
    (i32.const 0xfffffff0))
  (func (export "deallocate") (param i32 i32))
  (func (export "run") (param i32 i32) (result i64) (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"bad-alloc\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
