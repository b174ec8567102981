;; Hostile: `allocate` returns a buffer that straddles the end of memory by one byte
;; (ptr = memory size - len + 1), an off-by-one the host must catch before copying the input.
(module
  (memory (export "memory") 1)
  (func (export "allocate") (param $len i32) (result i32)
    (i32.add (i32.sub (i32.shl (memory.size) (i32.const 16)) (local.get $len)) (i32.const 1)))
  (func (export "deallocate") (param i32 i32))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-garbage-alloc\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
