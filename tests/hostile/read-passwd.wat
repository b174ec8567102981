;; Hostile: reads the host's password file through WASI although nothing was granted.
;; Input: one byte, the directory fd to resolve against (3 is the first preopen when one is
;; granted; 0..=2 are stdio), then the path (`/etc/passwd`, `etc/passwd`, ...).
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
  (memory (export "memory") 2)
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
  ;; Opens `path` under directory fd `dirfd` (following symlinks, read rights only) and
  ;; returns up to 64 KiB of it; a WASI errno becomes a guest error value with that code.
  ;; Scratch: opened fd at 0, iovec at 8, byte count at 16; read buffer at 64 KiB.
  (func $open_read (param $dirfd i32) (param $path i32) (param $path_len i32) (result i64)
    (local $errno i32)
    (local.set $errno
      (call $path_open (local.get $dirfd) (i32.const 1) (local.get $path) (local.get $path_len)
        (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $errno)
      (then (call $set_error (i32.const 256) (i32.const 9) (local.get $errno)) (return (i64.const 0))))
    (i32.store (i32.const 8) (i32.const 65536))
    (i32.store (i32.const 12) (i32.const 65536))
    (local.set $errno (call $fd_read (i32.load (i32.const 0)) (i32.const 8) (i32.const 1) (i32.const 16)))
    (if (local.get $errno)
      (then (call $set_error (i32.const 272) (i32.const 7) (local.get $errno)) (return (i64.const 0))))
    (i64.or (i64.const 0x0001000000000000) (i64.extend_i32_u (i32.load (i32.const 16)))))
  (data (i32.const 256) "path_open")
  (data (i32.const 272) "fd_read")
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.eqz (local.get $len)) (then (unreachable)))
    (call $open_read (i32.load8_u (local.get $ptr))
      (i32.add (local.get $ptr) (i32.const 1)) (i32.sub (local.get $len) (i32.const 1))))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-read-passwd\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\n")
)
