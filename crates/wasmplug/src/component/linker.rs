//! The component linker of an engine: all of WASI 0.2 (deny-by-default: a store's
//! `WasiCtx` holds exactly the plugin's grants), `wasi:http` (outgoing requests through the
//! allow-list hook) and the `wasmplug:plugin/host` interface.

use wasmtime::component::{HasSelf, Linker};

use super::bindings;
use crate::host::HostState;

/// Builds the component linker shared by all component plugins of an engine.
pub(crate) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    // Outgoing requests go through the store's `send_request` hook (the allow-list).
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    bindings::wasmplug::plugin::host::add_to_linker::<HostState, HasSelf<HostState>>(
        &mut linker,
        |s| s,
    )?;
    Ok(linker)
}
