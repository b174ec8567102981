;; Hostile: writes through a read-only mount (fd 3). Input: the path.
;; `create`: path_open with O_CREAT|O_TRUNC and write rights, then fd_write;
;; `overwrite`: opens an existing file with O_TRUNC and write rights, then fd_write;
;; `write_ro_fd`: opens with read rights only, then calls fd_write on that fd anyway.
;; On success the output is the line written; a WASI errno becomes a guest error value.
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
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
  ;; open(path, oflags, rights) then fd_write the line; scratch: fd at 0, iovec at 8, count at 16
  (func $open_write (param $path i32) (param $path_len i32) (param $oflags i32) (param $rights i64) (result i64)
    (local $errno i32)
    (local.set $errno
      (call $path_open (i32.const 3) (i32.const 0) (local.get $path) (local.get $path_len)
        (local.get $oflags) (local.get $rights) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $errno)
      (then (call $set_error (i32.const 256) (i32.const 9) (local.get $errno)) (return (i64.const 0))))
    (i32.store (i32.const 8) (i32.const 288))
    (i32.store (i32.const 12) (i32.const 28))
    (local.set $errno (call $fd_write (i32.load (i32.const 0)) (i32.const 8) (i32.const 1) (i32.const 16)))
    (if (local.get $errno)
      (then (call $set_error (i32.const 272) (i32.const 8) (local.get $errno)) (return (i64.const 0))))
    ;; output: the line, as many bytes as were written (288 << 32 | count)
    (i64.or (i64.const 0x0000012000000000) (i64.extend_i32_u (i32.load (i32.const 16)))))
  ;; oflags: CREAT = 1, TRUNC = 8; rights: FD_READ = 2, FD_WRITE = 64
  (func (export "create") (param $ptr i32) (param $len i32) (result i64)
    (call $open_write (local.get $ptr) (local.get $len) (i32.const 9) (i64.const 64)))
  (func (export "overwrite") (param $ptr i32) (param $len i32) (result i64)
    (call $open_write (local.get $ptr) (local.get $len) (i32.const 8) (i64.const 64)))
  (func (export "write_ro_fd") (param $ptr i32) (param $len i32) (result i64)
    (call $open_write (local.get $ptr) (local.get $len) (i32.const 0) (i64.const 2)))
  (data (i32.const 256) "path_open")
  (data (i32.const 272) "fd_write")
  (data (i32.const 288) "written by a hostile plugin\n")
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-write-readonly\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "create\noverwrite\nwrite_ro_fd\n")
)
