;; Hostile component: `call` asks WASI for a new stdout stream in an endless loop, never
;; dropping one, to grow the host's resource table. wasmplug caps it (10,000 entries): a trap.
(component
  (import "wasi:io/streams@0.2.0" (instance $streams
    (export "output-stream" (type (sub resource)))))
  (alias export $streams "output-stream" (type $os))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $os (type $os2))
    (type $own (own $os2))
    (export "get-stdout" (func (result $own)))))
  (core func $get (canon lower (func $stdout "get-stdout")))
  (core module $m
    (import "host" "get-stdout" (func $get (result i32)))
    (@custom "wasmplug.abi" "\01\00\00\00")
    (@custom "wasmplug.meta" "{\"name\":\"resource-flood\",\"version\":\"1.0.0\"}")
    (@custom "wasmplug.functions" "run\n")
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "init") (param i32 i32) (result i32) (i32.const 0))
    (func (export "call") (param i32 i32 i32 i32) (result i32)
      (loop $l (drop (call $get)) (br $l))
      (i32.const 16)))
  (core instance $i (instantiate $m (with "host" (instance (export "get-stdout" (func $get))))))
  (type $error (record (field "message" string) (field "code" (option s32))))
  (export $plugin-error "plugin-error" (type $error))
  (func (export "init")
    (param "config" (list (tuple string string)))
    (result (result (error $plugin-error)))
    (canon lift (core func $i "init") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func (export "call")
    (param "function" string) (param "input" (list u8))
    (result (result (list u8) (error $plugin-error)))
    (canon lift (core func $i "call") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
