;; Hostile: panics with a 16 MiB message, hoping the host keeps it all (in the error, the log,
;; the HTTP answer). The host cuts it at 64 KiB.
(module
  (import "wasmplug" "panic" (func $panic (param i32 i32)))
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
    (drop (memory.grow (i32.const 255)))
    (memory.fill (i32.const 0) (i32.const 0x42) (i32.const 0x1000000))
    (call $panic (i32.const 0) (i32.const 0x1000000))
    (unreachable))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-huge-panic-message\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
