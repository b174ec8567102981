//! Host functions: what a plugin can ask its host for, and what an application can add.
//!
//! Built in (import module `wasmplug`, docs/abi.md section 5): `log`, `config_get`,
//! `kv_get` / `kv_set` / `kv_delete` / `kv_list` and `http_request`, next to the ABI's
//! `set_error` and `panic`. Applications register their own typed functions in their own
//! import modules with [`HostFunctions`].
//!
//! Every host function follows one calling convention (docs/abi.md section 5.1): inputs are
//! `(ptr, len)` pairs or scalars, the last parameter `out` points to an 8-byte *result slot*
//! in guest memory, and the `i32` result is a status: [`STATUS_OK`], [`STATUS_NONE`] or
//! [`STATUS_ERROR`]. A returned buffer is allocated through the guest's own `allocate`
//! export and belongs to the guest. Every pointer is bounds-checked; a bad one ends the call
//! with [`crate::Error::MemoryOutOfBounds`], never a host panic.

mod builtin;
mod context;
mod guest;
pub mod http;
pub mod kv;
mod log;
pub(crate) mod ops;
pub(crate) mod runtime;
mod services;
mod user;

pub use context::CallContext;
pub use http::{HttpClient, HttpConfig, HttpError, HttpLimits, HttpRequest, HttpResponse};
pub use kv::{KvBackend, KvError, KvNamespace, KvQuota, KvStore, RedisOptions};
pub use services::HostConfig;
pub use user::{
    HostArg, HostError, HostFunctions, HostReturn, IntoAsyncHostFn, IntoHostFn, Json, WasmType,
};

pub(crate) use builtin::{builtin_signature, link_builtins};
pub(crate) use services::Services;

/// Status: the call succeeded; the slot holds the result (a buffer or a scalar).
pub const STATUS_OK: i32 = 0;
/// Status: there is no value (missing config key, missing kv key); the slot is zero.
pub const STATUS_NONE: i32 = 1;
/// Status: the call failed with an error value; the slot holds a UTF-8 message buffer.
pub const STATUS_ERROR: i32 = 2;
