//! The `guest_memory` target's guest: a tiny module whose `allocate`, `run`, `set_error`
//! and `panic` arguments are fuzzer-chosen constants, and a model of what the host must
//! answer for them.
//!
//! The model follows docs/abi.md: the input is copied to `allocate`'s buffer (refused if
//! it does not fit), `run`'s packed `(ptr << 32) | len` is checked against `max_output` and
//! then against the memory, `set_error` / `panic` messages are read in bounds or refused.
//! Memory starts as [`pattern`] bytes in the first KiB and zeros after.

use arbitrary::Arbitrary;
use wasmplug::abi::MAX_ERROR_MESSAGE_LEN;

/// Bytes of the data segment at address 0.
pub const PATTERN_LEN: usize = 1024;

/// Byte `i` of the data segment.
pub fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31).wrapping_add(7)) as u8
}

/// A guest pointer, as an absolute value or relative to the end of memory.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Ptr {
    /// This address.
    Abs(u32),
    /// `memory size - len + delta` (wrapping): ranges around the end of memory.
    FromEnd(i16),
    /// Small addresses (inside the data segment).
    Low(u16),
}

impl Ptr {
    /// The address for a buffer of `len` bytes in a memory of `memory_size` bytes.
    pub fn resolve(self, memory_size: u64, len: u32) -> u32 {
        match self {
            Ptr::Abs(p) => p,
            Ptr::FromEnd(delta) => (memory_size as u32)
                .wrapping_sub(len)
                .wrapping_add(delta as i32 as u32),
            Ptr::Low(p) => u32::from(p),
        }
    }
}

/// A guest length: small, or any `u32`.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Len {
    /// Up to 64 KiB.
    Small(u16),
    /// Any value.
    Any(u32),
}

impl Len {
    /// The length.
    pub fn get(self) -> u32 {
        match self {
            Len::Small(l) => u32::from(l),
            Len::Any(l) => l,
        }
    }
}

/// What `run` returns.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Output {
    /// The raw packed value.
    Packed(u64),
    /// A `(ptr, len)` range.
    Range(Ptr, Len),
    /// The input buffer itself.
    Input,
}

/// One fuzz case: the guest's answers, the call and the limits.
#[derive(Debug, Clone, Arbitrary)]
pub struct Plan {
    /// Initial memory pages (0..=3 used).
    pub pages: u8,
    /// What `allocate` returns.
    pub alloc: Ptr,
    /// What `run` returns.
    pub output: Output,
    /// `set_error(ptr, len, code)` before returning.
    pub set_error: Option<(Ptr, Len, i32)>,
    /// `panic(ptr, len)` before returning (after `set_error`).
    pub panic: Option<(Ptr, Len)>,
    /// The input bytes.
    pub input: Vec<u8>,
    /// `max_input` in bytes (0..=511 used).
    pub max_input: u16,
    /// `max_output` in bytes.
    pub max_output: u32,
    /// Instances are reused between calls.
    pub reuse: bool,
    /// Calls made (1..=3 used); every one must give the same answer.
    pub calls: u8,
}

/// The answer the host must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The output bytes.
    Output(Vec<u8>),
    /// `Error::InputTooLarge`.
    InputTooLarge,
    /// `Error::GuestAllocFailed`.
    AllocFailed,
    /// `Error::MemoryOutOfBounds` for this buffer.
    OutOfBounds(&'static str),
    /// `Error::Guest` with this message and code.
    Guest(String, Option<i32>),
    /// `Error::Trap { kind: Panic }` with this message.
    Panic(String),
    /// `Error::OutputTooLarge`.
    OutputTooLarge,
}

/// The resolved constants of a plan.
struct Resolved {
    memory_size: u64,
    alloc: u32,
    set_error: Option<(u32, u32, i32)>,
    panic: Option<(u32, u32)>,
    packed: u64,
}

impl Plan {
    /// Initial pages of memory.
    pub fn pages(&self) -> u32 {
        u32::from(self.pages % 4)
    }

    /// `max_input`.
    pub fn max_input(&self) -> u64 {
        u64::from(self.max_input % 512)
    }

    /// Number of calls to make.
    pub fn calls(&self) -> usize {
        usize::from(self.calls % 3) + 1
    }

    fn resolve(&self) -> Resolved {
        let memory_size = u64::from(self.pages()) * 65536;
        let input_len = self.input.len() as u32;
        let alloc = self.alloc.resolve(memory_size, input_len);
        let range = |(p, l): (Ptr, Len)| {
            let l = l.get();
            (p.resolve(memory_size, l), l)
        };
        let packed = match self.output {
            Output::Packed(v) => v,
            Output::Range(p, l) => {
                let (p, l) = range((p, l));
                (u64::from(p) << 32) | u64::from(l)
            }
            Output::Input => (u64::from(alloc) << 32) | u64::from(input_len),
        };
        Resolved {
            memory_size,
            alloc,
            set_error: self.set_error.map(|(p, l, c)| {
                let (p, l) = range((p, l));
                (p, l, c)
            }),
            panic: self.panic.map(range),
            packed,
        }
    }

    /// The module, in WebAssembly text.
    pub fn wat(&self) -> String {
        let r = self.resolve();
        let pages = self.pages();
        let data = if pages > 0 {
            let bytes: String = (0..PATTERN_LEN)
                .map(|i| format!("\\{:02x}", pattern(i)))
                .collect();
            format!("(data (i32.const 0) \"{bytes}\")")
        } else {
            String::new()
        };
        let set_error = r.set_error.map_or(String::new(), |(p, l, c)| {
            format!(
                "(call $set_error (i32.const {}) (i32.const {}) (i32.const {c}))",
                p as i32, l as i32
            )
        });
        let panic = r.panic.map_or(String::new(), |(p, l)| {
            format!(
                "(call $panic (i32.const {}) (i32.const {}))",
                p as i32, l as i32
            )
        });
        format!(
            r#"(module
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
  (import "wasmplug" "panic" (func $panic (param i32 i32)))
  (memory (export "memory") {pages})
  {data}
  (func (export "allocate") (param i32) (result i32) (i32.const {alloc}))
  (func (export "deallocate") (param i32 i32))
  (func (export "run") (param i32 i32) (result i64)
    {set_error}
    {panic}
    (i64.const {packed}))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{{\"name\":\"fuzz-guest-memory\",\"version\":\"0.1.0\"}}")
  (@custom "wasmplug.functions" "run\n"))"#,
            alloc = r.alloc as i32,
            packed = r.packed as i64,
        )
    }

    /// What the host must answer to one call of `run` with [`Plan::input`].
    pub fn expected(&self) -> Expected {
        let r = self.resolve();
        let input = &self.input;
        if input.len() as u64 > self.max_input() {
            return Expected::InputTooLarge;
        }
        let mut memory = vec![0u8; r.memory_size as usize];
        for (i, b) in memory.iter_mut().take(PATTERN_LEN).enumerate() {
            *b = pattern(i);
        }
        let fits = |ptr: u32, len: u32| u64::from(ptr) + u64::from(len) <= r.memory_size;
        if !input.is_empty() {
            if r.alloc == 0 {
                return Expected::AllocFailed;
            }
            if !fits(r.alloc, input.len() as u32) {
                return Expected::OutOfBounds("input buffer from allocate");
            }
            let start = r.alloc as usize;
            memory[start..start + input.len()].copy_from_slice(input);
        }
        let message = |ptr: u32, len: u32| {
            let bytes = &memory[ptr as usize..ptr as usize + len as usize];
            String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ERROR_MESSAGE_LEN)]).into_owned()
        };
        let mut guest_error = None;
        if let Some((ptr, len, code)) = r.set_error {
            if !fits(ptr, len) {
                return Expected::OutOfBounds("error message");
            }
            guest_error = Some((message(ptr, len), (code != 0).then_some(code)));
        }
        if let Some((ptr, len)) = r.panic {
            if !fits(ptr, len) {
                return Expected::OutOfBounds("panic message");
            }
            return Expected::Panic(message(ptr, len));
        }
        if let Some((message, code)) = guest_error {
            return Expected::Guest(message, code);
        }
        let (ptr, len) = ((r.packed >> 32) as u32, r.packed as u32);
        if len == 0 {
            return Expected::Output(Vec::new());
        }
        if u64::from(len) > u64::from(self.max_output) {
            return Expected::OutputTooLarge;
        }
        if !fits(ptr, len) {
            return Expected::OutOfBounds("returned output");
        }
        Expected::Output(memory[ptr as usize..ptr as usize + len as usize].to_vec())
    }
}

/// What the host answered, in the model's terms (`None`: an error the model has no
/// place for, which the target reports as a failure).
pub fn observed(result: &wasmplug::Result<Vec<u8>>) -> Option<Expected> {
    use wasmplug::{Error, TrapKind};
    Some(match result {
        Ok(out) => Expected::Output(out.clone()),
        Err(Error::InputTooLarge { .. }) => Expected::InputTooLarge,
        Err(Error::GuestAllocFailed { .. }) => Expected::AllocFailed,
        Err(Error::MemoryOutOfBounds { what, .. }) => Expected::OutOfBounds(what),
        Err(Error::Guest { message, code, .. }) => Expected::Guest(message.clone(), *code),
        Err(Error::Trap {
            kind: TrapKind::Panic,
            message,
            ..
        }) => Expected::Panic(message.clone()),
        Err(Error::OutputTooLarge { .. }) => Expected::OutputTooLarge,
        Err(_) => return None,
    })
}
