;; A complete wasmplug plugin written by hand: no guest kit, no toolchain but `wat`.
;; Functions: `echo` returns its input, `greet` returns "Hello, <input>!",
;; `fail` reports a guest error value with code 42.
(module
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; Bump allocator: memory is never reused, which is fine for a short-lived
  ;; instance; it grows the memory when a request does not fit.
  (global $heap (mut i32) (i32.const 1024))
  (func $allocate (export "allocate") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32) (local $pages i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    ;; pages needed to hold `end`, rounded up
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "deallocate") (param $ptr i32) (param $len i32))
  ;; (ptr << 32) | len
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))
  ;; The input buffer is the guest's once the call starts: echo hands it back.
  (func (export "echo") (param $ptr i32) (param $len i32) (result i64)
    (call $pack (local.get $ptr) (local.get $len)))
  (func (export "greet") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32) (local $out_len i32)
    (local.set $out_len (i32.add (local.get $len) (i32.const 8)))
    (local.set $out (call $allocate (local.get $out_len)))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (memory.copy (local.get $out) (i32.const 32) (i32.const 7))
    (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 7))) (i32.const 33))
    (call $pack (local.get $out) (local.get $out_len)))
  (func (export "fail") (param $ptr i32) (param $len i32) (result i64)
    (call $set_error (i32.const 16) (i32.const 13) (i32.const 42))
    (i64.const 0))
  (data (i32.const 16) "invalid input")
  (data (i32.const 32) "Hello, ")
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"wat-echo\",\"version\":\"1.0.0\",\"description\":\"echo, greet and fail in hand-written WAT\",\"author\":\"wasmplug\"}")
  (@custom "wasmplug.functions" "echo\ngreet\nfail\n")
)
