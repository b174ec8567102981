//! The shared wasmtime engine, its host-function linker and its epoch ticker.
//!
//! One [`Engine`] compiles and runs every plugin of a process (clone it freely: it is a
//! handle). It owns:
//! - a `wasmtime::Engine` with epoch interruption on, so each call gets its own deadline
//!   measured in ticks of [`EPOCH_TICK`]; one plugin's deadline never affects another's,
//!   because deadlines are per store and the shared epoch counter only ever moves forward;
//! - the ticker thread that advances the epoch (stopped when the last handle is dropped);
//! - the [`wasmtime::Linker`] with the wasmplug host functions and WASI, built once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::Linker;

use crate::error::{Error, Result};
use crate::host::HostState;

/// Granularity of call deadlines: the epoch advances once per tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Default maximum wasm stack per call (the wasmtime default).
pub const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;

/// Settings of an [`Engine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Enables fuel metering so plugins can set a `fuel` limit. Metering costs a little on
    /// every call, so it is off by default.
    pub fuel: bool,
    /// Maximum wasm stack of one call, in bytes. By default 512 KiB.
    pub max_wasm_stack: usize,
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
    stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
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
        let stop = Arc::new(AtomicBool::new(false));
        let ticker_engine = wasmtime.clone();
        let ticker_stop = stop.clone();
        std::thread::Builder::new()
            .name("wasmplug-epoch".into())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })
            .map_err(|e| Error::Engine {
                message: format!("cannot start the epoch ticker thread: {e}"),
            })?;
        Ok(Engine {
            inner: Arc::new(Inner {
                wasmtime,
                linker,
                config,
                stop,
            }),
        })
    }

    /// The process-wide engine with the default [`EngineConfig`], created on first use.
    ///
    /// # Panics
    /// If the default configuration cannot be set up (wasmtime unsupported on this
    /// platform, or no thread can be spawned).
    pub fn shared() -> Engine {
        static SHARED: OnceLock<Engine> = OnceLock::new();
        SHARED
            .get_or_init(|| Engine::new(EngineConfig::default()).expect("default engine"))
            .clone()
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

    /// Number of epoch ticks that cover `timeout` (rounded up, plus one so a deadline
    /// never fires early because the call started just before a tick).
    pub(crate) fn deadline_ticks(timeout: Duration) -> u64 {
        let tick = EPOCH_TICK.as_nanos();
        (timeout.as_nanos().div_ceil(tick) as u64).saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_and_adds_a_tick() {
        assert_eq!(Engine::deadline_ticks(Duration::ZERO), 1);
        assert_eq!(Engine::deadline_ticks(Duration::from_micros(1)), 2);
        assert_eq!(Engine::deadline_ticks(Duration::from_secs(1)), 1001);
    }

    #[test]
    fn shared_engine_is_one_engine() {
        let a = Engine::shared();
        let b = Engine::shared();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
    }
}
