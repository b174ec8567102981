//! Per-instance host state and the `wasmplug` host functions every plugin may import.
//!
//! The host functions themselves live in [`crate::host_fn`]; they read guest memory only
//! through [`crate::abi::memory`], so a bad pointer ends the call with a typed error, never
//! a host panic. WASI preview 1 is linked too, with a context that grants only what the
//! plugin's capabilities say.

use std::sync::Arc;

use wasmtime::Linker;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::capability::{Capabilities, Capture};
use crate::error::Result;
use crate::host_fn::{CallContext, Services};
use crate::limits::{Limits, MemoryAccountant};

/// Store data of one plugin instance.
#[doc(hidden)]
pub struct HostState {
    pub(crate) wasi: Wasi,
    pub(crate) memory: MemoryAccountant,
    /// The error value set by the guest during the current call.
    pub(crate) guest_error: Option<(String, i32)>,
    /// When the current call started, and its timeout (read by the deadline callback).
    pub(crate) call_started: crate::clock::Stamp,
    pub(crate) call_timeout: Option<std::time::Duration>,
    /// Captured stdout / stderr of the current call.
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
    /// What the host functions work with (shared by the plugin's instances).
    pub(crate) services: Arc<Services>,
    /// The function being called (index into the services' table) and its request id.
    pub(crate) function: usize,
    pub(crate) request_id: Option<Arc<str>>,
    /// The typed export being called, when it is one (`Plugin::call_export`): host
    /// functions see its name instead of `function`'s.
    pub(crate) export: Option<Arc<str>>,
    /// Set while an async caller's call runs: the epoch callback then yields at every tick
    /// and marks the call as slow (see `plugin::drive`).
    pub(crate) slice: Option<crate::plugin::SliceUsed>,
    /// How guest code is entered in this store (fixed when the store is created).
    pub(crate) flavour: Flavour,
}

/// How a store's guest code is entered and how its host functions wait.
///
/// Wasmtime requires `*_async` entry (a fiber per call) in a store whose linker defined
/// any async host function, which every call from async code needs (the gateway: a host
/// function must not block a worker). A synchronous caller on a plain thread has no worker
/// to protect: its instances come from a second linker whose host functions block the
/// calling thread instead, and are entered with wasmtime's plain `call` (no fiber, no
/// driver: the noop call in `docs/performance.md`). Each instance is of one flavour, fixed
/// at creation; the pool hands an instance only to callers of its flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// `*_async` entry on a fiber; host functions are awaited.
    Async,
    /// Plain entry on the calling thread; host functions block it.
    Sync,
}

/// The WASI context of an instance: preview 1 for a core module, 0.2 for a component. The
/// kind is fixed when the store is created (by the plugin's kind) and each linker only ever
/// sees stores of its own kind.
#[doc(hidden)]
pub enum Wasi {
    /// A core module's WASI preview 1.
    P1(Box<WasiP1Ctx>),
    /// A component's WASI 0.2 context and resource table.
    P2(Box<WasiP2>),
}

/// A component's WASI 0.2 state.
#[doc(hidden)]
pub struct WasiP2 {
    pub(crate) ctx: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) http: wasmtime_wasi_http::WasiHttpCtx,
    pub(crate) hooks: crate::component::http::hooks::HttpHooks,
}

impl Wasi {
    fn p1(&mut self) -> &mut WasiP1Ctx {
        match self {
            Wasi::P1(ctx) => ctx,
            Wasi::P2(_) => unreachable!("the core-module linker only runs core-module stores"),
        }
    }

    pub(crate) fn p2(&mut self) -> &mut WasiP2 {
        match self {
            Wasi::P2(p2) => p2,
            Wasi::P1(_) => unreachable!("the component linker only runs component stores"),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let p2 = self.wasi.p2();
        WasiCtxView {
            ctx: &mut p2.ctx,
            table: &mut p2.table,
        }
    }
}

impl wasmtime_wasi_http::WasiHttpView for HostState {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        let p2 = self.wasi.p2();
        wasmtime_wasi_http::WasiHttpCtxView {
            ctx: &mut p2.http,
            table: &mut p2.table,
            hooks: &mut p2.hooks,
        }
    }
}

impl HostState {
    /// Sets when a component's outgoing `wasi:http` requests must end (the request's or
    /// call's deadline).
    pub(crate) fn set_http_deadline(&mut self, deadline: std::time::Instant) {
        if let Wasi::P2(p2) = &mut self.wasi {
            p2.hooks.deadline = deadline;
        }
    }

    /// State for a new instance with exactly the granted capabilities; `component` picks
    /// the WASI flavour.
    pub(crate) fn new(
        component: bool,
        limits: &Limits,
        max_table_elements: Option<usize>,
        caps: &Capabilities,
        env: &[(String, String)],
        services: Arc<Services>,
    ) -> Result<HostState> {
        let cap = usize::try_from(limits.max_stdio.bytes()).unwrap_or(usize::MAX);
        let stdout = Capture::new(cap);
        let stderr = Capture::new(cap);
        let mut builder = caps.wasi_builder(env, &stdout, &stderr)?;
        let wasi = if component {
            Wasi::P2(Box::new(WasiP2 {
                ctx: builder.build(),
                table: {
                    let mut table = ResourceTable::new();
                    table.set_max_capacity(crate::limits::MAX_COMPONENT_RESOURCES);
                    table
                },
                http: wasmtime_wasi_http::WasiHttpCtx::new(),
                hooks: crate::component::http::hooks::HttpHooks {
                    services: services.clone(),
                    deadline: std::time::Instant::now(),
                },
            }))
        } else {
            Wasi::P1(Box::new(builder.build_p1()))
        };
        Ok(HostState {
            wasi,
            memory: if component {
                MemoryAccountant::new(limits.memory, max_table_elements).for_component()
            } else {
                MemoryAccountant::new(limits.memory, max_table_elements)
            },
            guest_error: None,
            call_started: crate::clock::Stamp::now(),
            call_timeout: limits.timeout,
            stdout,
            stderr,
            function: services.init_index(),
            services,
            request_id: None,
            export: None,
            slice: None,
            flavour: Flavour::Async,
        })
    }

    /// Who is calling, for host functions.
    pub(crate) fn context(&self) -> CallContext {
        CallContext {
            plugin: self.services.plugin.clone(),
            version: self.services.version.clone(),
            function: match &self.export {
                Some(export) => export.clone(),
                None => self.services.function(self.function),
            },
            request_id: self.request_id.clone(),
        }
    }
}

/// A host function ended the call; carried through wasmtime as the trap's error.
#[doc(hidden)]
#[derive(Debug, thiserror::Error)]
pub enum HostTrap {
    /// The guest called `wasmplug.panic`.
    #[error("guest panicked: {0}")]
    Panic(String),
    /// The guest passed a pointer/length outside its memory to a host function.
    #[error("{what} at {ptr}+{len} is outside guest memory of {memory_size} bytes")]
    OutOfBounds {
        /// What the range was for.
        what: &'static str,
        /// Start.
        ptr: u32,
        /// Length.
        len: u32,
        /// Memory size at the time.
        memory_size: usize,
    },
    /// The guest imports `memory`-reading host functions but exports no memory.
    #[error("the plugin exports no `memory`")]
    NoMemory,
    /// The guest exports no usable `allocate` for a host function's result.
    #[error("the plugin exports no `allocate (i32) -> i32` for a host function result")]
    NoAllocate,
    /// The guest's `allocate` returned 0 for a host function's result.
    #[error("`allocate` returned 0 for a host function result of {len} bytes")]
    AllocFailed {
        /// Requested size.
        len: u32,
    },
    /// A host function result over 4 GiB.
    #[error("a host function result of {len} bytes does not fit in guest memory")]
    ResultTooLarge {
        /// Its size.
        len: usize,
    },
    /// An async host function did not finish before the call's deadline.
    #[error("a host function did not finish before the call's deadline")]
    Deadline,
    /// An application host function aborted the call.
    #[error("host function `{function}` aborted the call: {message}")]
    Abort {
        /// `module::name` of the host function.
        function: String,
        /// Its message.
        message: String,
    },
}

/// Builds a linker shared by all plugins of an engine: WASI and the built-in host
/// functions, in `flavour`. Application host functions are added per plugin (see
/// [`crate::HostFunctions`]).
pub(crate) fn linker(
    engine: &wasmtime::Engine,
    flavour: Flavour,
) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    match flavour {
        // Async WASI: calls run on fibers, possibly on a tokio worker, where the sync
        // flavour's `block_on` would panic.
        Flavour::Async => {
            wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut HostState| s.wasi.p1())?
        }
        // Only ever entered from a thread outside any tokio runtime (see `Flavour`).
        Flavour::Sync => {
            wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| s.wasi.p1())?
        }
    }
    crate::host_fn::link_builtins(&mut linker, flavour)?;
    Ok(linker)
}

/// Calls `func` in the store's [`Flavour`]: `call_async` on a fiber, or the plain `call`.
/// The one way host code enters guest code, so both flavours run the same protocol.
pub(crate) async fn enter<S, P, R>(
    mut store: S,
    func: &wasmtime::TypedFunc<P, R>,
    params: P,
) -> wasmtime::Result<R>
where
    S: wasmtime::AsContextMut<Data = HostState>,
    P: wasmtime::WasmParams + Sync,
    R: wasmtime::WasmResults + Sync,
{
    match store.as_context_mut().data().flavour {
        Flavour::Sync => func.call(store, params),
        Flavour::Async => func.call_async(store, params).await,
    }
}
