//! The Rust plugin development kit (PDK) for [wasmplug](https://example.invalid/wasmplug)
//! plugins: write plain Rust functions, get a WebAssembly module that follows the wasmplug
//! guest ABI v1 (`docs/abi.md`).
//!
//! A plugin is a `cdylib` crate built for `wasm32-wasip1`:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! wasmplug-pdk = "0.1"
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use wasmplug_pdk::{Error, FnResult, Json, config, plugin_fn, plugin_meta};
//!
//! // Exactly once per plugin crate: ABI version, metadata, and the `allocate`,
//! // `deallocate` and `init` exports. Omitted keys come from Cargo.toml.
//! plugin_meta! {
//!     name: "greet",
//!     version: "1.0.0",
//!     description: "Greets people",
//!     author: "wasmplug",
//! }
//!
//! /// `String` in, `String` out. `Err` becomes a guest error value on the host.
//! #[plugin_fn]
//! fn greet(name: String) -> FnResult<String> {
//!     let name = name.trim();
//!     if name.is_empty() {
//!         return Err(Error::new("name must not be empty").with_code(1));
//!     }
//!     // `config` reads the `[config]` table of plugin.toml, passed to `init`.
//!     let greeting = config("greeting").unwrap_or_else(|| "Hello".to_string());
//!     Ok(format!("{greeting}, {name}!"))
//! }
//!
//! #[derive(Deserialize)]
//! struct Point {
//!     x: f64,
//!     y: f64,
//! }
//!
//! #[derive(Serialize)]
//! struct Norm {
//!     norm: f64,
//! }
//!
//! /// JSON in, JSON out: invalid JSON input is an error value naming the serde error.
//! #[plugin_fn]
//! fn norm(Json(p): Json<Point>) -> FnResult<Json<Norm>> {
//!     Ok(Json(Norm { norm: p.x.hypot(p.y) }))
//! }
//!
//! /// No input, no output.
//! #[plugin_fn]
//! fn health() -> FnResult<()> {
//!     Ok(())
//! }
//! # fn main() {}
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip1` and run it with
//! `wasmplug run plugin.toml greet --input world`.
//!
//! # What the PDK does for you
//!
//! - [`plugin_fn`] exports a wrapper `(ptr, len) -> packed` for the function, converts the
//!   input with [`FromInput`] and the output with [`IntoOutput`], reports `Err` values through
//!   the host's `wasmplug.set_error`, and lists the function in the `wasmplug.functions`
//!   custom section.
//! - [`plugin_meta!`] emits the `wasmplug.abi` and `wasmplug.meta` custom sections and the
//!   `allocate`, `deallocate` and `init` exports; `init` stores the configuration read by
//!   [`config`].
//! - A panic hook reports panics (`panicked at file:line:col: message`) through the host's
//!   `wasmplug.panic`, so the host's trap error carries the message.
//!
//! Return errors with [`Error`]: any [`std::error::Error`] converts into it with `?`, and
//! [`Error::with_code`] attaches a plugin-defined code.
//!
//! # Asking the host
//!
//! - [`config`]: configuration values (`wasmplug.config_get`).
//! - [`log`]: log lines into the host's logs, rate-limited by the host.
//! - [`kv`]: a persistent key-value store private to the plugin, with host-set quotas.
//! - [`http`]: outbound HTTP to the destinations granted in the manifest.
//! - [`host_fn`]: safe wrappers for the functions the embedding application registers.
//!
//! Every host call that can fail returns `Result<_, Error>`: refusals (quota, destination
//! not granted, upstream down) are error values the plugin handles, not traps.
//!
//! On targets other than `wasm32` the crate compiles (so workspaces can run `cargo test` and
//! `cargo clippy` on the host) but nothing is exported and the host functions are stand-ins:
//! [`kv`] is an in-memory map per thread, [`log`] prints to stderr, [`config`] reads the map
//! given to `init`, and [`http`] and [`host_fn`] wrappers return an error.

mod config;
mod error;
mod host;
pub mod hostcall;
pub mod http;
mod io;
mod json;
pub mod kv;
pub mod log;
mod memory;
mod panic_hook;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use config::{config, config_all};
pub use error::{Error, FnResult};
pub use io::{FromInput, IntoOutput};
pub use json::Json;
pub use wasmplug_pdk_macros::{host_fn, plugin_fn, plugin_meta};
