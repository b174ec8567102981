//! The `host_args` target's guest: a straight line of host-function calls (built-in and
//! application-registered) with fuzzer-chosen pointers, lengths and scalars over a memory
//! holding fuzzer-chosen bytes, and a model of how the call must end.
//!
//! Memory is 2 pages, fixed: the fuzzer's bytes at address 0, the guest's bump allocator
//! (which host functions use for their results) in the second page, returning 0 when
//! full. The model knows which ranges each host function reads, in which order, so it
//! predicts where the call must stop with `MemoryOutOfBounds`, a panic or an abort, and
//! checks that nothing in bounds is refused.

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use wasmplug::{CallContext, HostError, HostFunctions, Json};

/// Memory size of the guest (2 pages, not growable).
pub const MEMORY_SIZE: u64 = 2 * 65536;
/// Where the guest's allocator starts.
pub const HEAP_START: u32 = 65536;
/// Most fuzzer bytes placed at address 0.
pub const MAX_DATA: usize = 4096;

/// A `(ptr, len)` argument.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Range {
    /// Where.
    pub ptr: crate::guest::Ptr,
    /// How long.
    pub len: crate::guest::Len,
}

/// One host-function call.
#[derive(Debug, Clone, Arbitrary)]
pub enum Call {
    /// `wasmplug::log(level, msg)`.
    Log(i32, Range),
    /// `wasmplug::config_get(key, out)`.
    ConfigGet(Range, crate::guest::Ptr),
    /// `wasmplug::kv_get(key, out)`.
    KvGet(Range, crate::guest::Ptr),
    /// `wasmplug::kv_set(key, value, out)`.
    KvSet(Range, Range, crate::guest::Ptr),
    /// `wasmplug::kv_delete(key, out)`.
    KvDelete(Range, crate::guest::Ptr),
    /// `wasmplug::kv_list(prefix, out)`.
    KvList(Range, crate::guest::Ptr),
    /// `wasmplug::http_request(head, body, out)` (no destination is granted).
    Http(Range, Range, crate::guest::Ptr),
    /// `wasmplug::set_error(msg, code)`.
    SetError(Range, i32),
    /// `wasmplug::panic(msg)`.
    Panic(Range),
    /// `fz::bytes(Vec<u8>) -> Vec<u8>` (echo).
    Bytes(Range, crate::guest::Ptr),
    /// `fz::text(String, String) -> String` (concatenation).
    Text(Range, Range, crate::guest::Ptr),
    /// `fz::json(Json<Value>) -> Json<Value>` (echo).
    Json(Range, crate::guest::Ptr),
    /// `fz::scalars(i32, i64, f32, f64, bool) -> u64` ([`scalars`]).
    Scalars(i32, i64, u32, u64, i32, crate::guest::Ptr),
    /// `fz::abort(i32) -> ()`: aborts the call when odd, an error value when even.
    Abort(i32, crate::guest::Ptr),
    /// `fz::async_bytes(Vec<u8>) -> Vec<u8>` (async echo).
    AsyncBytes(Range, crate::guest::Ptr),
}

/// One fuzz case.
#[derive(Debug, Clone, Arbitrary)]
pub struct Plan {
    /// Bytes at address 0 (the first [`MAX_DATA`] used).
    pub data: Vec<u8>,
    /// The calls, in order (the first 16 used).
    pub calls: Vec<Call>,
    /// Config values the plugin can read.
    pub config: Vec<(String, String)>,
}

/// How the call must end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Success; with `Some(bytes)` the output is known exactly.
    Ok(Option<Vec<u8>>),
    /// An error value set with `set_error`.
    Guest,
    /// A bad pointer.
    OutOfBounds,
    /// The guest panicked.
    Panic,
    /// `fz::abort` ended the call.
    Abort,
    /// The model cannot tell (a later argument of a function that may stop reading early
    /// is out of bounds): anything typed is accepted.
    Unknown,
}

/// The value `fz::scalars` returns.
pub fn scalars(a: i32, b: i64, c: f32, d: f64, e: bool) -> u64 {
    u64::from(a as u32)
        ^ (b as u64).rotate_left(7)
        ^ u64::from(c.to_bits())
        ^ d.to_bits()
        ^ u64::from(e)
}

/// The application's host functions of the target's guest (module `fz`).
pub fn functions() -> HostFunctions {
    static FUNCTIONS: OnceLock<HostFunctions> = OnceLock::new();
    FUNCTIONS
        .get_or_init(|| {
            let mut f = HostFunctions::new();
            f.func(
                "fz",
                "bytes",
                |_: &CallContext, b: Vec<u8>| -> Result<Vec<u8>, HostError> { Ok(b) },
            )
            .expect("fz::bytes");
            f.func(
                "fz",
                "text",
                |_: &CallContext, a: String, b: String| -> Result<String, HostError> { Ok(a + &b) },
            )
            .expect("fz::text");
            f.func(
                "fz",
                "json",
                |_: &CallContext,
                 v: Json<serde_json::Value>|
                 -> Result<Json<serde_json::Value>, HostError> { Ok(v) },
            )
            .expect("fz::json");
            f.func(
                "fz",
                "scalars",
                |_: &CallContext,
                 a: i32,
                 b: i64,
                 c: f32,
                 d: f64,
                 e: bool|
                 -> Result<u64, HostError> { Ok(scalars(a, b, c, d, e)) },
            )
            .expect("fz::scalars");
            f.func(
                "fz",
                "abort",
                |_: &CallContext, code: i32| -> Result<(), HostError> {
                    if code % 2 != 0 {
                        Err(HostError::abort(format!("abort {code}")))
                    } else {
                        Err(HostError::new(format!("error value {code}")))
                    }
                },
            )
            .expect("fz::abort");
            f.func_async(
                "fz",
                "async_bytes",
                |_: CallContext, b: Vec<u8>| async move { Ok::<_, HostError>(b) },
            )
            .expect("fz::async_bytes");
            f
        })
        .clone()
}

/// A call's ranges in the order the host reads them (the result slot first), and whether
/// the host always reads all of them.
fn ranges(call: &Call) -> (Vec<(u32, u32)>, bool) {
    let r = |r: &Range| {
        let len = r.len.get();
        (r.ptr.resolve(MEMORY_SIZE, len), len)
    };
    let slot = |p: &crate::guest::Ptr| (p.resolve(MEMORY_SIZE, 8), 8);
    match call {
        Call::Log(_, m) | Call::SetError(m, _) | Call::Panic(m) => (vec![r(m)], true),
        Call::ConfigGet(k, o)
        | Call::KvGet(k, o)
        | Call::KvDelete(k, o)
        | Call::KvList(k, o)
        | Call::Bytes(k, o)
        | Call::AsyncBytes(k, o) => (vec![slot(o), r(k)], true),
        Call::KvSet(k, v, o) | Call::Http(k, v, o) => (vec![slot(o), r(k), r(v)], true),
        Call::Text(a, b, o) => (vec![slot(o), r(a), r(b)], false),
        Call::Json(v, o) => (vec![slot(o), r(v)], true),
        Call::Scalars(.., o) | Call::Abort(_, o) => (vec![slot(o)], true),
    }
}

fn fits((ptr, len): (u32, u32)) -> bool {
    u64::from(ptr) + u64::from(len) <= MEMORY_SIZE
}

impl Plan {
    /// The calls used.
    pub fn calls(&self) -> &[Call] {
        &self.calls[..self.calls.len().min(16)]
    }

    /// The bytes at address 0.
    pub fn data(&self) -> &[u8] {
        &self.data[..self.data.len().min(MAX_DATA)]
    }

    /// How the call must end. `Ok(Some(_))` only when the last call's result is known: the
    /// 8 bytes of `fz::scalars`, or the echo of bytes no earlier call could have changed.
    pub fn expected(&self) -> Expected {
        let mut guest_error = false;
        let mut slots: Vec<(u32, u32)> = Vec::new();
        for call in self.calls() {
            let (ranges, reads_all) = ranges(call);
            if !fits(ranges[0]) {
                return Expected::OutOfBounds;
            }
            if ranges.iter().any(|r| !fits(*r)) {
                return if reads_all {
                    Expected::OutOfBounds
                } else {
                    Expected::Unknown
                };
            }
            match call {
                Call::Panic(_) => return Expected::Panic,
                Call::Abort(code, _) if code % 2 != 0 => return Expected::Abort,
                Call::SetError(..) => guest_error = true,
                _ => {}
            }
            if !matches!(call, Call::Log(..) | Call::SetError(..) | Call::Panic(..)) {
                slots.push(ranges[0]);
            }
        }
        if guest_error {
            return Expected::Guest;
        }
        Expected::Ok(self.known_output(&slots))
    }

    fn known_output(&self, slots: &[(u32, u32)]) -> Option<Vec<u8>> {
        let last = self.calls().last()?;
        match last {
            Call::Scalars(a, b, c, d, e, _) => Some(
                scalars(*a, *b, f32::from_bits(*c), f64::from_bits(*d), *e != 0)
                    .to_le_bytes()
                    .to_vec(),
            ),
            Call::Bytes(..) | Call::AsyncBytes(..) => {
                let (ptr, len) = ranges(last).0[1];
                let end = u64::from(ptr) + u64::from(len);
                let earlier = &slots[..slots.len() - 1];
                let touched = earlier.iter().any(|&(p, l)| {
                    u64::from(p) < end && u64::from(ptr) < u64::from(p) + u64::from(l)
                });
                if len == 0 {
                    return Some(Vec::new());
                }
                if touched || end > u64::from(HEAP_START) {
                    return None;
                }
                let mut memory = vec![0u8; HEAP_START as usize];
                memory[..self.data().len()].copy_from_slice(self.data());
                Some(memory[ptr as usize..end as usize].to_vec())
            }
            _ => None,
        }
    }

    /// The module, in WebAssembly text. `run` makes the calls, then returns the buffer the
    /// last call left in its result slot (for `fz::scalars`: the slot itself).
    pub fn wat(&self) -> String {
        let mut body = String::new();
        let c = |v: u32| format!("(i32.const {})", v as i32);
        let range = |r: &Range| {
            let len = r.len.get();
            format!("{} {}", c(r.ptr.resolve(MEMORY_SIZE, len)), c(len))
        };
        let slot = |p: &crate::guest::Ptr| c(p.resolve(MEMORY_SIZE, 8));
        for call in self.calls() {
            let line = match call {
                Call::Log(level, m) => format!("(call $log {} {})", c(*level as u32), range(m)),
                Call::ConfigGet(k, o) => {
                    format!("(drop (call $config_get {} {}))", range(k), slot(o))
                }
                Call::KvGet(k, o) => format!("(drop (call $kv_get {} {}))", range(k), slot(o)),
                Call::KvSet(k, v, o) => {
                    format!(
                        "(drop (call $kv_set {} {} {}))",
                        range(k),
                        range(v),
                        slot(o)
                    )
                }
                Call::KvDelete(k, o) => {
                    format!("(drop (call $kv_delete {} {}))", range(k), slot(o))
                }
                Call::KvList(k, o) => format!("(drop (call $kv_list {} {}))", range(k), slot(o)),
                Call::Http(h, b, o) => {
                    format!("(drop (call $http {} {} {}))", range(h), range(b), slot(o))
                }
                Call::SetError(m, code) => {
                    format!("(call $set_error {} {})", range(m), c(*code as u32))
                }
                Call::Panic(m) => format!("(call $panic {})", range(m)),
                Call::Bytes(b, o) => format!("(drop (call $bytes {} {}))", range(b), slot(o)),
                Call::Text(a, b, o) => {
                    format!("(drop (call $text {} {} {}))", range(a), range(b), slot(o))
                }
                Call::Json(v, o) => format!("(drop (call $json {} {}))", range(v), slot(o)),
                Call::Scalars(a, b, f, d, e, o) => format!(
                    "(drop (call $scalars {} (i64.const {b}) (f32.reinterpret_i32 {}) (f64.reinterpret_i64 (i64.const {})) {} {}))",
                    c(*a as u32),
                    c(*f),
                    *d as i64,
                    c(*e as u32),
                    slot(o)
                ),
                Call::Abort(code, o) => {
                    format!("(drop (call $abort {} {}))", c(*code as u32), slot(o))
                }
                Call::AsyncBytes(b, o) => {
                    format!("(drop (call $async_bytes {} {}))", range(b), slot(o))
                }
            };
            body.push_str(&line);
            body.push('\n');
        }
        let result = match self.calls().last() {
            Some(Call::Scalars(.., o)) => format!(
                "(i64.or (i64.shl (i64.extend_i32_u {}) (i64.const 32)) (i64.const 8))",
                slot(o)
            ),
            Some(Call::Bytes(_, o) | Call::AsyncBytes(_, o)) => {
                format!("(i64.rotl (i64.load {}) (i64.const 32))", slot(o))
            }
            _ => "(i64.const 0)".to_string(),
        };
        let data: String = self.data().iter().map(|b| format!("\\{b:02x}")).collect();
        format!(
            r#"(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (import "wasmplug" "config_get" (func $config_get (param i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_get" (func $kv_get (param i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_set" (func $kv_set (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_delete" (func $kv_delete (param i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_list" (func $kv_list (param i32 i32 i32) (result i32)))
  (import "wasmplug" "http_request" (func $http (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
  (import "wasmplug" "panic" (func $panic (param i32 i32)))
  (import "fz" "bytes" (func $bytes (param i32 i32 i32) (result i32)))
  (import "fz" "text" (func $text (param i32 i32 i32 i32 i32) (result i32)))
  (import "fz" "json" (func $json (param i32 i32 i32) (result i32)))
  (import "fz" "scalars" (func $scalars (param i32 i64 f32 f64 i32 i32) (result i32)))
  (import "fz" "abort" (func $abort (param i32 i32) (result i32)))
  (import "fz" "async_bytes" (func $async_bytes (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2 2)
  (data (i32.const 0) "{data}")
  (global $heap (mut i32) (i32.const {HEAP_START}))
  (func (export "allocate") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (if (i64.gt_u (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $len)))
                  (i64.const {MEMORY_SIZE}))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $len)))
    (local.get $ptr))
  (func (export "deallocate") (param i32 i32))
  (func (export "run") (param i32 i32) (result i64)
{body}    {result})
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{{\"name\":\"fuzz-host-args\",\"version\":\"0.1.0\"}}")
  (@custom "wasmplug.functions" "run\n"))"#
        )
    }
}
