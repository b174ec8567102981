//! The shared wasmtime engine, its host-function linker and its epoch ticker.
//!
//! One [`Engine`] compiles and runs every plugin of a process (clone it freely: it is a
//! handle). It owns:
//! - a `wasmtime::Engine` with epoch interruption on, so each call gets its own deadline
//!   measured in ticks of [`crate::EPOCH_TICK`]; one plugin's deadline never affects another's,
//!   because deadlines are per store and the shared epoch counter only ever moves forward;
//! - the ticker thread that advances the epoch (stopped when the last handle is dropped);
//! - the [`wasmtime::Linker`] with the wasmplug host functions and WASI, built once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::Linker;

use crate::cache::CacheOutcome;
use crate::epoch::EpochClock;
use crate::error::{Error, Result};
use crate::host::{Flavour, HostState};

/// Default maximum wasm stack per call (the wasmtime default).
pub const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;

/// Stack left to host code on a call's fiber, above the guest's `max_wasm_stack`.
///
/// Every call runs on a fiber stack of `max_wasm_stack + HOST_STACK_HEADROOM` bytes
/// (wasmtime's `async_stack_size`). The guest may use up to `max_wasm_stack` of it (deeper
/// recursion traps with `StackOverflow`); what is left is for the host functions the guest
/// calls, which run on the same stack: WASI, the built-ins (their blocking work, kv and
/// HTTP, runs on other threads; on the fiber they only copy and (de)serialise), and the
/// application's functions. 1.5 MiB is the headroom of wasmtime's own defaults (a 2 MiB
/// async stack over a 512 KiB wasm stack), kept for any `stack` limit.
///
/// Arithmetic with the pooling allocator: one stack per call in flight, at most
/// `total_instances` of them (`total_stacks` = `total_instances`, 512 by default), so
/// `512 x (512 KiB + 1.5 MiB)` = 1 GiB of address space is reserved for stacks (plus a
/// guard page each), next to the ~2 TiB of memory slots. Physical memory is only what calls
/// touch; stacks are reused without being zeroed or returned to the kernel
/// (`async_stack_zeroing` off: compiled wasm never reads a stack slot it did not write), so
/// a reused stack takes no page faults.
pub const HOST_STACK_HEADROOM: usize = 1536 * 1024;

/// Settings of an [`Engine`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EngineConfig {
    /// Enables fuel metering so plugins can set a `fuel` limit. Metering costs a little on
    /// every call, so it is off by default.
    pub fuel: bool,
    /// Maximum wasm stack of one call, in bytes. By default 512 KiB.
    pub max_wasm_stack: usize,
    /// Pre-reserved instance slots (wasmtime's pooling allocator), which make creating an
    /// instance cheap enough for `per-call` isolation. `None` allocates on demand. By
    /// default `Some(PoolingConfig::default())`.
    pub pooling: Option<PoolingConfig>,
    /// Directory of the compiled-module cache; `None` (the default) compiles every time.
    pub cache_dir: Option<PathBuf>,
}

/// Sizing of the pooling allocator. Each slot reserves address space, not memory:
///
/// - a table slot reserves `table_elements` × 8 bytes (8 MiB by default, 4 GiB for 512);
/// - a linear-memory slot reserves 4 GiB (so 32-bit wasm needs no bounds checks) plus a
///   32 MiB guard region; `total_instances = 512` therefore reserves about
///   512 × 4.03 GiB ≈ 2 TiB of virtual address space per engine, out of the 128 TiB a
///   64-bit Linux process has. Physical memory is used only for pages a guest touches,
///   and is bounded per instance by `Limits::memory`;
/// - memory images are mapped copy-on-write, so a new instance shares the module's
///   initial data pages until it writes to them;
/// - when a slot is reused, the pages the previous instance dirtied (found with Linux's
///   `PAGEMAP_SCAN`, 6.7+), up to `keep_resident` bytes, are restored in place instead of
///   being returned to the kernel, so the next instance takes no page faults on them; the
///   rest is returned. Without `PAGEMAP_SCAN` the first `keep_resident` bytes are zeroed in
///   place. The cost is up to `keep_resident` bytes resident per idle slot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolingConfig {
    /// Instances (and memories, and tables) that can exist at once across all plugins of
    /// the engine. By default 512.
    pub total_instances: u32,
    /// Bytes of each memory and table slot kept resident between uses. By default 1 MiB.
    pub keep_resident: usize,
    /// Most elements one table can hold (each slot reserves 8 bytes per element of
    /// address space: 8 MiB by default). Growth past it fails like growth past
    /// `Limits::memory`. By default 1 Mi elements.
    pub table_elements: usize,
}

impl Default for PoolingConfig {
    fn default() -> Self {
        PoolingConfig {
            total_instances: 512,
            keep_resident: 1024 * 1024,
            table_elements: 1 << 20,
        }
    }
}

impl EngineConfig {
    /// The engine settings that `limits` need: fuel metering if a fuel limit is set, and the
    /// limit's stack size.
    pub fn for_limits(limits: &crate::Limits) -> EngineConfig {
        EngineConfig {
            fuel: limits.fuel.is_some(),
            max_wasm_stack: usize::try_from(limits.stack.bytes()).unwrap_or(usize::MAX),
            ..EngineConfig::default()
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            fuel: false,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            pooling: Some(PoolingConfig::default()),
            cache_dir: None,
        }
    }
}

/// A handle to the engine that compiles and runs plugins.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    wasmtime: wasmtime::Engine,
    /// The linkers of core modules, by [`Flavour`]: async, sync.
    linkers: [Linker<HostState>; 2],
    /// The linker of component plugins (WASI 0.2 and `wasmplug:plugin/host`).
    component_linker: wasmtime::component::Linker<HostState>,
    config: EngineConfig,
    clock: Arc<EpochClock>,
    /// This engine's part of every cache key (see [`crate::cache::CacheTag`]), computed once.
    cache_tag: crate::cache::CacheTag,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.clock.stop();
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Engine {
    /// Creates an engine with `config`.
    ///
    /// # Errors
    /// [`Error::Engine`] if wasmtime rejects the configuration or the ticker thread cannot
    /// be started.
    pub fn new(config: EngineConfig) -> Result<Engine> {
        let engine_err = |e: wasmtime::Error| Error::Engine {
            message: format!("{e:#}"),
        };
        let mut wt = wasmtime::Config::new();
        wt.epoch_interruption(true)
            .consume_fuel(config.fuel)
            .max_wasm_stack(config.max_wasm_stack)
            .async_stack_size(config.max_wasm_stack.saturating_add(HOST_STACK_HEADROOM));
        if let Some(pooling) = &config.pooling {
            let mut pool = wasmtime::PoolingAllocationConfig::new();
            pool.total_core_instances(pooling.total_instances)
                .total_memories(pooling.total_instances)
                .total_tables(pooling.total_instances)
                // One fiber stack per call in flight (see `HOST_STACK_HEADROOM`).
                .total_stacks(pooling.total_instances)
                .linear_memory_keep_resident(pooling.keep_resident)
                .table_keep_resident(pooling.keep_resident)
                .table_elements(pooling.table_elements)
                // Reset only the pages a guest actually dirtied (Linux 6.7+ PAGEMAP_SCAN;
                // elsewhere the first `keep_resident` bytes are memset as before).
                .pagemap_scan(wasmtime::Enabled::Auto);
            wt.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let wasmtime = wasmtime::Engine::new(&wt).map_err(engine_err)?;
        let linker = |flavour| crate::host::linker(&wasmtime, flavour).map_err(engine_err);
        let linkers = [linker(Flavour::Async)?, linker(Flavour::Sync)?];
        let component_linker = crate::component::linker(&wasmtime).map_err(engine_err)?;
        let clock = EpochClock::start(wasmtime.clone()).map_err(|e| Error::Engine {
            message: format!("cannot start the epoch ticker thread: {e}"),
        })?;
        Ok(Engine {
            inner: Arc::new(Inner {
                cache_tag: crate::cache::CacheTag::of(&wasmtime),
                wasmtime,
                linkers,
                component_linker,
                config,
                clock,
            }),
        })
    }

    /// The process-wide engine with the default [`EngineConfig`], created on first use.
    ///
    /// # Panics
    /// If the default configuration cannot be set up (wasmtime unsupported on this
    /// platform, or no thread can be spawned).
    pub fn shared() -> Engine {
        Engine::shared_for(&EngineConfig::default()).expect("default engine")
    }

    /// The process-wide engine for `config`, created on first use. Plugins whose limits need
    /// fuel metering or a different stack size get their own shared engine this way.
    ///
    /// # Errors
    /// As [`Engine::new`].
    pub fn shared_for(config: &EngineConfig) -> Result<Engine> {
        static SHARED: OnceLock<Mutex<HashMap<EngineConfig, Engine>>> = OnceLock::new();
        let mut engines = SHARED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = engines.get(config) {
            return Ok(engine.clone());
        }
        let engine = Engine::new(config.clone())?;
        engines.insert(config.clone(), engine.clone());
        Ok(engine)
    }

    /// Checks that this engine can enforce `limits` (fuel needs metering; the stack size is
    /// an engine setting).
    ///
    /// # Errors
    /// [`Error::Engine`] naming the mismatch.
    pub fn check_limits(&self, limits: &crate::Limits) -> Result<()> {
        if limits.fuel.is_some() && !self.config().fuel {
            return Err(Error::Engine {
                message: "the plugin sets a `fuel` limit but this engine does not meter fuel; create it with `EngineConfig { fuel: true, .. }` or let the builder pick the shared engine".into(),
            });
        }
        let stack = usize::try_from(limits.stack.bytes()).unwrap_or(usize::MAX);
        if stack != self.config().max_wasm_stack {
            return Err(Error::Engine {
                message: format!(
                    "the plugin's `stack` limit is {} bytes but this engine's is {}; create the engine with a matching `max_wasm_stack` or let the builder pick the shared engine",
                    stack,
                    self.config().max_wasm_stack
                ),
            });
        }
        Ok(())
    }

    /// This engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    pub(crate) fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner.wasmtime
    }

    /// The core-module linker of `flavour`.
    pub(crate) fn linker(&self, flavour: Flavour) -> &Linker<HostState> {
        match flavour {
            Flavour::Async => &self.inner.linkers[0],
            Flavour::Sync => &self.inner.linkers[1],
        }
    }

    pub(crate) fn component_linker(&self) -> &wasmtime::component::Linker<HostState> {
        &self.inner.component_linker
    }

    /// Whether the compiled-module cache has an entry for the module with this sha256.
    pub(crate) fn is_cached(&self, sha256: &[u8; 32]) -> bool {
        self.inner
            .config
            .cache_dir
            .as_deref()
            .is_some_and(|dir| crate::cache::has_entry(dir, &self.inner.cache_tag, sha256))
    }

    /// The module cached under `key`, if the cache has a sound entry for it.
    pub(crate) fn cached(&self, key: &[u8; 32]) -> Option<wasmtime::Module> {
        let dir = self.inner.config.cache_dir.as_deref()?;
        crate::cache::lookup(&self.inner.wasmtime, &self.inner.cache_tag, dir, key)
    }

    /// Compiles the component `bytes` (whose sha256 is `sha256`), through the cache if
    /// configured.
    pub(crate) fn compile_component(
        &self,
        bytes: &[u8],
        sha256: &[u8; 32],
    ) -> wasmtime::Result<(wasmtime::component::Component, CacheOutcome)> {
        crate::cache::compile_component(
            &self.inner.wasmtime,
            &self.inner.cache_tag,
            self.inner.config.cache_dir.as_deref(),
            bytes,
            sha256,
        )
    }

    /// Compiles `bytes` (whose sha256 is `sha256`), through the module cache if configured.
    pub(crate) fn compile(
        &self,
        bytes: &[u8],
        sha256: &[u8; 32],
    ) -> wasmtime::Result<(wasmtime::Module, CacheOutcome)> {
        crate::cache::compile(
            &self.inner.wasmtime,
            &self.inner.cache_tag,
            self.inner.config.cache_dir.as_deref(),
            bytes,
            sha256,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_engine_is_one_engine() {
        let a = Engine::shared();
        let b = Engine::shared();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
    }
}
