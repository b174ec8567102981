;; Hostile: logs one million lines in one call, hoping to flood the host's logs and stall it.
;; The per-plugin rate limit drops all but a burst; the call itself must finish normally.
(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
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
    (local $i i32)
    (loop $again
      (call $log (i32.const 2) (i32.const 0) (i32.const 20))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000000))))
    (i64.or (i64.shl (i64.const 0) (i64.const 32)) (i64.const 20)))
  (data (i32.const 0) "flooding the log....")
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-log-flood\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
