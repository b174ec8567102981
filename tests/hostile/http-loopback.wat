;; Hostile: asks the host for http://127.0.0.1:9/ (a host-local service) without any
;; grant. The host refuses with an error value before any connection is made.
(module
  (import "wasmplug" "http_request" (func $http (param i32 i32 i32 i32 i32) (result i32)))
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
    (local $status i32)
    (local.set $status (call $http (i32.const 0) (i32.const 29) (i32.const 0) (i32.const 0) (i32.const 512)))
    (if (i32.eq (local.get $status) (i32.const 2))
      (then
        ;; Hand the host's error message back as ours.
        (call $set_error (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const 99))
        (return (i64.const 0))))
    (i64.const 0))
  (data (i32.const 0) "{\"url\":\"http://127.0.0.1:9/\"}")
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-http-loopback\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
