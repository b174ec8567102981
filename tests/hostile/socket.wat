;; Hostile: tries the WASI preview 1 socket calls on whatever fd the caller names.
;; Input: two bytes, the operation (0 = sock_accept, 1 = sock_recv, 2 = sock_send) and the fd.
;; A WASI errno becomes a guest error value; success returns "socket call succeeded".
(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
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
    (local $op i32) (local $fd i32) (local $errno i32)
    (if (i32.ne (local.get $len) (i32.const 2)) (then (unreachable)))
    (local.set $op (i32.load8_u (local.get $ptr)))
    (local.set $fd (i32.load8_u (i32.add (local.get $ptr) (i32.const 1))))
    ;; one iovec at 8: 16 bytes at 512
    (i32.store (i32.const 8) (i32.const 512))
    (i32.store (i32.const 12) (i32.const 16))
    (block $called
      (if (i32.eqz (local.get $op))
        (then
          (local.set $errno (call $sock_accept (local.get $fd) (i32.const 0) (i32.const 0)))
          (br $called)))
      (if (i32.eq (local.get $op) (i32.const 1))
        (then
          (local.set $errno (call $sock_recv (local.get $fd) (i32.const 8) (i32.const 1)
            (i32.const 0) (i32.const 16) (i32.const 20)))
          (br $called)))
      (local.set $errno (call $sock_send (local.get $fd) (i32.const 8) (i32.const 1)
        (i32.const 0) (i32.const 16))))
    (if (local.get $errno)
      (then
        ;; message: the call's name, 16 bytes per entry at 256
        (call $set_error (i32.add (i32.const 256) (i32.shl (local.get $op) (i32.const 4)))
          (i32.load8_u (i32.add (i32.const 304) (local.get $op))) (local.get $errno))
        (return (i64.const 0))))
    (i64.const 0x0000014000000015))
  (data (i32.const 256) "sock_accept")
  (data (i32.const 272) "sock_recv")
  (data (i32.const 288) "sock_send")
  (data (i32.const 304) "\0b\09\09") ;; name lengths
  (data (i32.const 320) "socket call succeeded")
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-socket\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
