;; A hand-written component of the wasmplug:plugin world (wit/plugin/plugin.wit), for the
;; component tests and the hostile suite. `call` dispatches on the first byte of the
;; function name:
;;   echo   returns its input              spin   loops forever
;;   grow   grows memory until refused     big    returns all of its memory as output
;;   xlen   returns a length past memory   fail   error value "nope" with code 7
;; Result areas (canonical ABI): `init` returns at 0 (ok), `call` at 16 (tag, payload at 20).
(component
  (core module $m
    (@custom "wasmplug.abi" "\01\00\00\00")
    (@custom "wasmplug.meta" "{\"name\":\"component-probe\",\"version\":\"1.0.0\"}")
    (@custom "wasmplug.functions" "echo\nspin\ngrow\nbig\nxlen\nfail\n")
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (local.set $p
        (i32.and
          (i32.sub (i32.add (global.get $bump) (local.get $align)) (i32.const 1))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $size)))
      (block $ok
        (loop $more
          (br_if $ok (i32.le_u (global.get $bump)
                               (i32.mul (memory.size) (i32.const 65536))))
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
          (br $more)))
      (local.get $p))
    (func (export "init") (param i32 i32) (result i32)
      (i32.store8 (i32.const 0) (i32.const 0))
      (i32.const 0))
    (func (export "call") (param $fp i32) (param $fl i32) (param $ip i32) (param $il i32) (result i32)
      (local $c i32)
      (local.set $c (i32.load8_u (local.get $fp)))
      (i32.store8 (i32.const 16) (i32.const 0))
      (if (i32.eq (local.get $c) (i32.const 0x73)) ;; s: spin
        (then (loop $l (br $l))))
      (if (i32.eq (local.get $c) (i32.const 0x67)) ;; g: grow until refused, then trap
        (then
          (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
          unreachable))
      (if (i32.eq (local.get $c) (i32.const 0x62)) ;; b: all of memory as output
        (then
          (i32.store (i32.const 20) (i32.const 0))
          (i32.store (i32.const 24) (i32.mul (memory.size) (i32.const 65536)))
          (return (i32.const 16))))
      (if (i32.eq (local.get $c) (i32.const 0x78)) ;; x: a length past memory
        (then
          (i32.store (i32.const 20) (i32.const 0))
          (i32.store (i32.const 24) (i32.const 0x7fff0000))
          (return (i32.const 16))))
      (if (i32.eq (local.get $c) (i32.const 0x66)) ;; f: error value "nope", code 7
        (then
          (i32.store8 (i32.const 16) (i32.const 1))
          (i32.store (i32.const 48) (i32.const 0x65706f6e))
          (i32.store (i32.const 20) (i32.const 48))
          (i32.store (i32.const 24) (i32.const 4))
          (i32.store8 (i32.const 28) (i32.const 1))
          (i32.store (i32.const 32) (i32.const 7))
          (return (i32.const 16))))
      ;; echo
      (i32.store (i32.const 20) (local.get $ip))
      (i32.store (i32.const 24) (local.get $il))
      (i32.const 16)))
  (core instance $i (instantiate $m))
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
