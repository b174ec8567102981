;; A second plugin using the kv store (for namespace isolation tests), plus calls that pass
;; bad pointers to host functions (each must end the call with a typed error, never touch
;; host memory).
;;   set(key)        kv_set(key, "peer"); returns the status as one byte ('0' + status)
;;   get(key)        kv_get(key); returns the value, or "none"
;;   oob_key         kv_get with a key pointer past the end of memory
;;   oob_slot        kv_get with the result slot past the end of memory
;;   oob_log         log with a message range that wraps 32 bits
;;   no_slot_space   config_get with the slot straddling the end of memory
(module
  (import "wasmplug" "kv_set" (func $kv_set (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_get" (func $kv_get (param i32 i32 i32) (result i32)))
  (import "wasmplug" "config_get" (func $config_get (param i32 i32 i32) (result i32)))
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "peer")
  (data (i32.const 32) "none")
  (global $heap (mut i32) (i32.const 1024))
  (func $allocate (export "allocate") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.add (local.get $ptr) (local.get $len)))
    (local.get $ptr))
  (func (export "deallocate") (param i32 i32))
  ;; The result slot lives at 64.
  (func (export "set") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32)
    (local.set $out (call $allocate (i32.const 1)))
    (i32.store8 (local.get $out)
      (i32.add (i32.const 48)
        (call $kv_set (local.get $ptr) (local.get $len) (i32.const 16) (i32.const 4) (i32.const 64))))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32)) (i64.const 1)))
  (func (export "get") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.ne (call $kv_get (local.get $ptr) (local.get $len) (i32.const 64)) (i32.const 0))
      (then (return (i64.or (i64.shl (i64.const 32) (i64.const 32)) (i64.const 4)))))
    ;; slot: ptr (low 32 bits) | len (high 32 bits) -> packed (ptr << 32) | len
    (i64.or
      (i64.shl (i64.extend_i32_u (i32.load (i32.const 64))) (i64.const 32))
      (i64.extend_i32_u (i32.load (i32.const 68)))))
  (func (export "oob_key") (param i32 i32) (result i64)
    (drop (call $kv_get (i32.const 0xFFFFFFF0) (i32.const 32) (i32.const 64)))
    (i64.const 0))
  (func (export "oob_slot") (param i32 i32) (result i64)
    (drop (call $kv_get (i32.const 16) (i32.const 4) (i32.const 0x7FFFFFF0)))
    (i64.const 0))
  (func (export "oob_log") (param i32 i32) (result i64)
    (call $log (i32.const 2) (i32.const 0xFFFFFFFF) (i32.const 2))
    (i64.const 0))
  (func (export "no_slot_space") (param i32 i32) (result i64)
    (drop (call $config_get (i32.const 16) (i32.const 4) (i32.const 65532)))
    (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{\"name\":\"kv-peer\",\"version\":\"0.1.0\"}")
  (@custom "wasmplug.functions" "set\nget\noob_key\noob_slot\noob_log\nno_slot_space\n")
)
