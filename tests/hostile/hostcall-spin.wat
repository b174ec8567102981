;; Hostile: an endless loop of host calls (`log` at trace level, dropped by the filter),
;; so the guest spends its time in the host rather than in wasm. The test drives it from
;; async code and cancels the call by dropping its future.
(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
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
  (data (i32.const 16) "spin")
  (func (export "run") (param i32 i32) (result i64)
    (loop $forever
      (call $log (i32.const 0) (i32.const 16) (i32.const 4))
      (br $forever))
    (i64.const 0))
  (func (export "ok") (param i32 i32) (result i64) (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-hostcall-spin\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\nok\n")
)
