//! Per-instance host state and the `wasmplug` host functions every plugin may import.
//!
//! The host functions of ABI v1 are `set_error(msg_ptr, msg_len, code)` and
//! `panic(msg_ptr, msg_len)` (see docs/abi.md section 5). Both read guest memory only
//! through [`crate::abi::memory`]; a bad pointer ends the call with a typed error, never a
//! host panic. WASI preview 1 is linked too, with a context that grants nothing.

use wasmtime::{Caller, Extern, Linker};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::abi::{self, HOST_MODULE, MAX_ERROR_MESSAGE_LEN, memory};
use crate::capability::{Capabilities, Capture};
use crate::error::Result;
use crate::limits::{Limits, MemoryAccountant};

/// Store data of one plugin instance.
pub(crate) struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) memory: MemoryAccountant,
    /// The error value set by the guest during the current call.
    pub(crate) guest_error: Option<(String, i32)>,
    /// When the current call started, and its timeout (read by the deadline callback).
    pub(crate) call_started: std::time::Instant,
    pub(crate) call_timeout: Option<std::time::Duration>,
    /// Captured stdout / stderr of the current call.
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
}

impl HostState {
    /// State for a new instance with exactly the granted capabilities.
    pub(crate) fn new(
        limits: &Limits,
        max_table_elements: Option<usize>,
        caps: &Capabilities,
        env: &[(String, String)],
    ) -> Result<HostState> {
        let cap = usize::try_from(limits.max_stdio.bytes()).unwrap_or(usize::MAX);
        let stdout = Capture::new(cap);
        let stderr = Capture::new(cap);
        let wasi = caps.wasi_builder(env, &stdout, &stderr)?.build_p1();
        Ok(HostState {
            wasi,
            memory: MemoryAccountant::new(limits.memory, max_table_elements),
            guest_error: None,
            call_started: std::time::Instant::now(),
            call_timeout: limits.timeout,
            stdout,
            stderr,
        })
    }
}

/// A host function ended the call; carried through wasmtime as the trap's error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostTrap {
    /// The guest called `wasmplug.panic`.
    #[error("guest panicked: {0}")]
    Panic(String),
    /// The guest passed a pointer/length outside its memory to a host function.
    #[error("{what} at {ptr}+{len} is outside guest memory of {memory_size} bytes")]
    OutOfBounds {
        what: &'static str,
        ptr: u32,
        len: u32,
        memory_size: usize,
    },
    /// The guest imports `memory`-reading host functions but exports no memory.
    #[error("the plugin exports no `memory`")]
    NoMemory,
}

/// Whether `name` is a host function of module `wasmplug` in ABI v1.
pub(crate) fn is_known_import(name: &str) -> bool {
    matches!(name, "set_error" | "panic")
}

/// Builds the linker shared by all plugins of an engine.
pub(crate) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi)?;
    linker.func_wrap(
        HOST_MODULE,
        "set_error",
        |mut caller: Caller<'_, HostState>,
         ptr: u32,
         len: u32,
         code: i32|
         -> wasmtime::Result<()> {
            let message = read_guest_string(&mut caller, "error message", ptr, len)?;
            caller.data_mut().guest_error = Some((message, code));
            Ok(())
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "panic",
        |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| -> wasmtime::Result<()> {
            let message = read_guest_string(&mut caller, "panic message", ptr, len)?;
            Err(HostTrap::Panic(message).into())
        },
    )?;
    Ok(linker)
}

/// Reads a UTF-8 (lossy) string of at most [`MAX_ERROR_MESSAGE_LEN`] bytes from the guest.
fn read_guest_string(
    caller: &mut Caller<'_, HostState>,
    what: &'static str,
    ptr: u32,
    len: u32,
) -> Result<String, HostTrap> {
    let Some(Extern::Memory(mem)) = caller.get_export(abi::EXPORT_MEMORY) else {
        return Err(HostTrap::NoMemory);
    };
    let data = mem.data(&caller);
    let bytes = memory::read(data, ptr, len).ok_or(HostTrap::OutOfBounds {
        what,
        ptr,
        len,
        memory_size: data.len(),
    })?;
    let kept = &bytes[..bytes.len().min(MAX_ERROR_MESSAGE_LEN)];
    Ok(String::from_utf8_lossy(kept).into_owned())
}
