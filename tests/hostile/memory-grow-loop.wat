;; Hostile: a memory bomb. `run` grows linear memory one page at a time and fills every new
;; page (so the memory is really resident) until `memory.grow` returns -1, then traps.
;; `grow` is the obeyed twin: input = pages to add (u32 LE); returns the new size in pages.
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
  (func (export "run") (param i32 i32) (result i64)
    (local $old i32)
    (loop $more
      (local.set $old (memory.grow (i32.const 1)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then (unreachable)))
      (memory.fill (i32.shl (local.get $old) (i32.const 16)) (i32.const 0xAA) (i32.const 65536))
      (br $more))
    (i64.const 0))
  (func (export "grow") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.eq (memory.grow (i32.load (local.get $ptr))) (i32.const -1)) (then (unreachable)))
    (i32.store (i32.const 0) (memory.size))
    (i64.const 4))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"hostile-memory-grow-loop\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "run\ngrow\n")
)
