;; Hostile: returns an in-bounds output as large as the caller asks (input = length, u32 LE),
;; growing memory first; used to go past `max_output`. The bytes are 'B'.
(module
  (memory (export "memory") 1)
  ;; Bump allocator as in tests/guests/wat/echo.wat: grows memory when a request does not fit.
  (global $heap (mut i32) (i32.const 1024))
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
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32) (local $pages i32)
    (local.set $n (i32.load (local.get $ptr)))
    ;; output at 64 KiB; pages needed to hold 64 KiB + n, rounded up
    (local.set $pages (i32.add (i32.const 1)
      (i32.shr_u (i32.add (local.get $n) (i32.const 65535)) (i32.const 16))))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (unreachable)))))
    (memory.fill (i32.const 65536) (i32.const 66) (local.get $n))
    (i64.or (i64.const 0x0001000000000000) (i64.extend_i32_u (local.get $n))))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-big-output\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
