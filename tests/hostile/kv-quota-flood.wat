;; Hostile: writes 1 MiB values under new keys until the host says no, hoping to fill the
;; host's disk. Its namespace's total quota refuses the write that would pass it.
(module
  (import "wasmplug" "kv_set" (func $kv_set (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; Bump allocator as in tests/guests/wat/echo.wat: grows memory when a request does not fit.
  (global $heap (mut i32) (i32.const 4096))
  (func $allocate (export "allocate") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32) (local $pages i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "deallocate") (param $ptr i32) (param $len i32))
  (func (export "run") (param i32 i32) (result i64)
    (local $i i32) (local $status i32)
    (drop (memory.grow (i32.const 17)))
    (loop $again
      (i32.store (i32.const 0) (local.get $i))
      (local.set $status (call $kv_set (i32.const 0) (i32.const 4) (i32.const 65536) (i32.const 1048576) (i32.const 256)))
      (if (i32.eq (local.get $status) (i32.const 2))
        (then
          (call $set_error (i32.load (i32.const 256)) (i32.load (i32.const 260)) (local.get $i))
          (return (i64.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 100000))))
    (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-kv-quota-flood\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
