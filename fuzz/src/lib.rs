//! Shared pieces of the wasmplug fuzz targets (`fuzz_targets/*.rs`, run by
//! `scripts/fuzz.sh`; see `docs/fuzzing.md`).
//!
//! Invariants every target checks, beyond "no panic, no crash, no hang":
//! - every failure is a [`wasmplug::Error`] whose class and message can be rendered;
//! - load errors happen at load, call errors at call ([`check_call_error`]);
//! - targets with a model of the expected result (guest memory, host-function arguments)
//!   compare the library's answer with it.
//!
//! The engines here are small (a pool of [`POOL_INSTANCES`] slots) and every plugin runs
//! with tiny limits ([`tiny_limits`]), so one input costs milliseconds.

pub mod guest;
pub mod hostcalls;
pub mod smith;

use std::sync::OnceLock;
use std::time::Duration;

use wasmplug::{ByteSize, Engine, EngineConfig, Error, Limits, PoolingConfig};

/// Instance slots of the fuzz engines' pooling allocator.
pub const POOL_INSTANCES: u32 = 32;

/// Wasm stack of every fuzzed plugin (the engines are built for this value).
pub const STACK: ByteSize = ByteSize(256 * 1024);

/// The engine for fuzzed plugins: with fuel metering (`fuel = true`) or without.
pub fn engine(fuel: bool) -> &'static Engine {
    static PLAIN: OnceLock<Engine> = OnceLock::new();
    static METERED: OnceLock<Engine> = OnceLock::new();
    let cell = if fuel { &METERED } else { &PLAIN };
    cell.get_or_init(|| {
        Engine::new(EngineConfig {
            fuel,
            max_wasm_stack: STACK.bytes() as usize,
            pooling: Some(PoolingConfig {
                total_instances: POOL_INSTANCES,
                ..PoolingConfig::default()
            }),
            cache_dir: None,
        })
        .expect("the fuzz engine")
    })
}

/// Limits small enough that a hostile module is stopped within milliseconds: 1 MiB of
/// memory, a 50 ms deadline, the given fuel (metered engines only), small buffers.
pub fn tiny_limits(fuel: Option<u64>) -> Limits {
    Limits {
        memory: ByteSize::mib(1),
        timeout: Some(Duration::from_millis(50)),
        fuel,
        stack: STACK,
        max_input: ByteSize::kib(64),
        max_output: ByteSize::kib(64),
        max_module_size: ByteSize::mib(1),
        max_stdio: ByteSize::kib(4),
        max_http_response: ByteSize::kib(4),
        max_kv_key: ByteSize(64),
        max_kv_value: ByteSize::kib(1),
        max_kv_total: ByteSize::kib(16),
        log_lines_per_second: 10,
    }
}

/// Checks an error from loading a plugin: it renders, and it is not one that only a call
/// can produce.
pub fn check_load_error(e: &Error) {
    render(e);
    assert!(
        !matches!(
            e,
            Error::FunctionNotFound { .. }
                | Error::InputTooLarge { .. }
                | Error::OutputTooLarge { .. }
                | Error::Busy { .. }
                | Error::Json { .. }
        ),
        "a load failed with a call error: {e:?}"
    );
}

/// Checks an error from calling a loaded plugin: it renders and is a call-time class
/// (never a manifest, module or engine error).
pub fn check_call_error(e: &Error) {
    render(e);
    assert!(
        !e.is_load_error() || matches!(e, Error::Instantiate { .. }),
        "a call failed with a load error: {e:?}"
    );
}

fn render(e: &Error) {
    assert!(!e.class().is_empty());
    assert!(!e.to_string().is_empty(), "empty message for {e:?}");
}
