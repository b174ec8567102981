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
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::Linker;

use crate::epoch::EpochClock;
use crate::error::{Error, Result};
use crate::host::HostState;

/// Default maximum wasm stack per call (the wasmtime default).
pub const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;

/// Settings of an [`Engine`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EngineConfig {
    /// Enables fuel metering so plugins can set a `fuel` limit. Metering costs a little on
    /// every call, so it is off by default.
    pub fuel: bool,
    /// Maximum wasm stack of one call, in bytes. By default 512 KiB.
    pub max_wasm_stack: usize,
}

impl EngineConfig {
    /// The engine settings that `limits` need: fuel metering if a fuel limit is set, and the
    /// limit's stack size.
    pub fn for_limits(limits: &crate::Limits) -> EngineConfig {
        EngineConfig {
            fuel: limits.fuel.is_some(),
            max_wasm_stack: usize::try_from(limits.stack.bytes()).unwrap_or(usize::MAX),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            fuel: false,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
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
    linker: Linker<HostState>,
    config: EngineConfig,
    clock: Arc<EpochClock>,
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
            .max_wasm_stack(config.max_wasm_stack);
        let wasmtime = wasmtime::Engine::new(&wt).map_err(engine_err)?;
        let linker = crate::host::linker(&wasmtime).map_err(engine_err)?;
        let clock = EpochClock::start(wasmtime.clone()).map_err(|e| Error::Engine {
            message: format!("cannot start the epoch ticker thread: {e}"),
        })?;
        Ok(Engine {
            inner: Arc::new(Inner {
                wasmtime,
                linker,
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

    pub(crate) fn linker(&self) -> &Linker<HostState> {
        &self.inner.linker
    }

    /// Epoch ticks from now until a call armed now with `timeout` must stop.
    pub(crate) fn deadline_ticks(&self, timeout: Duration) -> u64 {
        self.inner.clock.deadline_ticks(timeout)
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
