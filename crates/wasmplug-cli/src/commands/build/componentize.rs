//! Turns a wasm32-wasip1 core module into a component (`kind = "component"` and
//! `"wasi-http"` projects): `wit-component` reads the world the bindings embedded
//! (`component-type` sections, from `wit-bindgen`) and adapts WASI preview 1 imports to
//! WASI 0.2 with the adapter of wasmtime's release (crate
//! `wasi-preview1-component-adapter-provider`): the reactor adapter for plugins, the proxy
//! adapter for `wasi:http/proxy` handlers. The module's other custom sections, the
//! `wasmplug.*` metadata among them, stay in the component's core module.

use anyhow::Context;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmplug::PluginKind;

/// The component of `core` for a project of `kind`.
pub fn componentize(core: &[u8], kind: PluginKind) -> anyhow::Result<Vec<u8>> {
    let adapter = match kind {
        PluginKind::WasiHttp => WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER,
        _ => WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    wit_component::ComponentEncoder::default()
        .module(core)
        .context("the module carries no component type (build it with wit-bindgen bindings)")?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
        .context("the WASI preview 1 adapter does not fit")?
        .validate(true)
        .encode()
        .context("cannot make a component of the module")
}
