//! Standard `wasi:http/proxy` components (`kind = "wasi-http"`): a fresh instance per
//! request, the request streamed into `wasi:http/incoming-handler.handle` and its response
//! streamed back, under the plugin's limits and deadline; outgoing requests through the
//! plugin's allow-list ([`hooks::HttpHooks`], the `send_request` hook).
//!
//! Invariants: the handler runs on the same async call path as every plugin call (fibers,
//! the slow lane after a tick, the epoch deadline armed once for the whole request, body
//! streaming included); a request never reuses an instance; at most `instances.max`
//! requests of one plugin run at once (then waiters up to `acquire_timeout`, then `Busy`).

pub(crate) mod hooks;
mod serve;

pub use serve::HttpBody;
pub(crate) use serve::serve;

/// The function name a `wasi-http` plugin lists (metrics, routing): its one entry point.
pub const HTTP_FUNCTION: &str = "handle";

/// Most bytes of request header names and values a `wasi:http` handler is given; a request
/// with more is refused with [`crate::Error::InputTooLarge`] before an instance is made.
pub const MAX_REQUEST_HEADER_BYTES: u64 = 64 * 1024;

/// Whether a component's exports make it a `wasi:http/proxy` handler.
pub(crate) fn is_proxy(world: &super::ComponentInfo) -> bool {
    world
        .exports
        .iter()
        .any(|e| e.name.starts_with("wasi:http/incoming-handler@0.2"))
}
