//! # wasmplug
//!
//! A host for third-party WebAssembly plugins: load `.wasm` plugins written in any language,
//! call their functions with bytes or JSON, and keep them inside a sandbox the host
//! controls. A plugin that traps, loops or returns garbage pointers produces a typed
//! [`Error`]; the host keeps running.
//!
//! ```no_run
//! use wasmplug::Plugin;
//!
//! # fn main() -> wasmplug::Result<()> {
//! // Compile once (manifest, .wasm or .wat), call many times, from any thread.
//! let plugin = Plugin::load("examples/plugins/greet/plugin.toml")?;
//! let hello = plugin.call("greet", b"world")?;
//! assert_eq!(hello, b"Hello, world!");
//!
//! // JSON in, JSON out.
//! let transformer = Plugin::load("examples/plugins/json-transformer/plugin.toml")?;
//! let out: serde_json::Value = transformer.call_json(
//!     "execute",
//!     &serde_json::json!({"request_id": "r1", "headers": {}, "parameters": {"a": "b"}}),
//! )?;
//! assert_eq!(out["data"]["_processed"], true);
//! # Ok(()) }
//! ```
//!
//! ## Concepts
//! - [`Engine`]: one per process ([`Engine::shared`]); compiles modules, runs the epoch
//!   ticker that enforces call deadlines, holds the host-function linker.
//! - [`Manifest`]: a `plugin.toml` (name, version, module path, sha256 pin, config, limits).
//! - [`CompiledPlugin`]: a module checked against the guest ABI and compiled; no guest code
//!   has run yet.
//! - [`Plugin`]: a cloneable, thread-safe handle that instantiates the compiled plugin and
//!   calls it. Broken instances are discarded, never reused.
//! - [`abi`]: the guest ABI v1 (`docs/abi.md`); [`ModuleInfo`] reads a module without
//!   running it (this is what `wasmplug inspect` prints).
//! - [`Limits`]: memory, timeout, fuel and size caps.
//! - [`Capabilities`]: deny-by-default grants of directories ([`FsMount`]), environment
//!   variables ([`EnvGrant`]) and outbound destinations ([`NetPattern`]). See
//!   `docs/security.md` for the sandbox model.
//! - [`Registry`]: named plugins with versions, weighted / sticky / pinned routing, circuit
//!   breakers, automatic canary rollback, metrics (through the `metrics` facade) and hot
//!   reload of a plugin directory ([`Registry::watch`]).
//! - [`host_fn`]: what plugins can ask of their host (`log`, `config_get`, a key-value store
//!   ([`KvStore`]), allow-listed HTTP ([`HttpClient`])) and the application's own typed
//!   functions ([`HostFunctions`]), configured together in a [`HostConfig`].
//! - [`component`]: component-model plugins (the `wasmplug:plugin` WIT world, a second
//!   instance kind behind the same [`Plugin`]); `docs/components.md`. A component's own
//!   typed exports are called with [`Plugin::call_export`], typed with the [`wasmtime`]
//!   version re-exported here (for `wasmtime::component::bindgen!` in the embedder).

pub mod abi;
mod breaker;
mod build;
mod cache;
mod call_stats;
mod capability;
mod clock;
pub mod component;
pub mod contract;
pub mod dirs;
mod engine;
mod epoch;
mod error;
mod file;
mod host;
pub mod host_fn;
mod limits;
mod manifest;
mod metrics;
mod name;
mod plugin;
mod policy;
mod registry;
mod requirements;
mod toml_error;
pub mod trust;
mod units;

/// The wasmtime this crate is built on: the types of [`Plugin::call_export`]'s parameters
/// and results (`wasmtime::component::{ComponentType, Lift, Lower}`, `bindgen!`), so that
/// an embedder uses the same version.
pub use wasmtime;

pub use abi::{ModuleInfo, PluginInterface, PluginMeta};
pub use breaker::{BreakerConfig, BreakerState};
pub use build::{BuildSpec, GuestLanguage};
pub use cache::CacheOutcome;
pub use call_stats::{CallStats, LATENCY_BUCKETS, LastError, MAX_LAST_ERROR, latency_quantile};
pub use capability::{Capabilities, EnvGrant, FsMode, FsMount, NetPattern};
pub use component::PluginKind;
pub use contract::Contract;
pub use engine::{
    DEFAULT_MAX_WASM_STACK, Engine, EngineConfig, HOST_STACK_HEADROOM, PoolingConfig,
};
pub use epoch::EPOCH_TICK;
pub use error::{Error, Frame, Result, TrapKind};
pub use file::{MAX_MANIFEST_SIZE, read_module_file};
pub use host_fn::{
    CallContext, HostConfig, HostError, HostFunctions, HttpClient, HttpConfig, Json, KvStore,
    RedisOptions,
};
pub use limits::{Limits, MAX_TIMEOUT};
pub use manifest::{MANIFEST_FILE, Manifest};
pub use name::{MAX_NAME_LEN, PluginName};
pub use plugin::{CallOutput, CompiledPlugin, Lease, Plugin, PluginBuilder, PluginSource};
pub use policy::{InstancePolicy, Isolation};
pub use registry::store::oci;
pub use registry::sync;
pub use registry::{
    Bucket, CallOptions, CanaryConfig, DefaultRoute, Equals, PluginStatus, Registry,
    RegistryConfig, RegistryEvent, Route, RoutedOutput, RoutingRules, Rule, VersionStatus, Watcher,
    bucket_of,
};
pub use requirements::{PLUGIN_API_VERSION, Requirements};
pub use toml_error::toml_error_message;
pub use trust::TrustPolicy;
pub use units::{ByteSize, parse_duration};
