;; Hostile: its `deallocate` traps, so the host's cleanup of the output buffer fails after
;; the function returned. The call fails with the trap and the instance is discarded.
(module
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
  (func (export "deallocate") (param $ptr i32) (param $len i32) (unreachable))
  (func (export "run") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get 0)) (i64.const 32)) (i64.extend_i32_u (local.get 1))))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-deallocate-traps\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
