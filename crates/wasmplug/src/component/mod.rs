//! Component-model plugins: the second instance kind behind [`crate::Plugin`].
//!
//! A component plugin targets the `wasmplug:plugin@1.0.0` world (`wit/plugin/plugin.wit`,
//! docs/components.md): it exports `init` and `call` and imports the host functions as the
//! `wasmplug:plugin/host` interface, whose methods are thin adapters over the same
//! implementation the core-module ABI uses ([`crate::host_fn`]). It may also import any of
//! WASI 0.2, which is linked deny-by-default with exactly the plugin's grants (the same
//! `WasiCtxBuilder` as a core module's WASI preview 1).
//!
//! Invariants: the kind is chosen once, when [`crate::CompiledPlugin`] compiles the bytes
//! (from their header, see [`is_component`]); a component instance runs every entry with
//! `call_async` on a fiber, in a store with the same limiter, epoch deadline and fuel as a
//! core module's, so the pool, the drivers and the error mapping are shared. Metadata comes
//! from the same `wasmplug.*` custom sections (in the component's core module), so nothing
//! runs guest code to inspect or validate a component.

mod host;
pub mod http;
mod info;
mod instance;
mod kind;
mod linker;

pub use info::{ComponentInfo, ComponentItem};
pub(crate) use info::{component_module_info, describe};
pub(crate) use instance::{
    ComponentExports, ExportLookup, Outcome, call, init, instantiate, typed_export,
};
pub use kind::PluginKind;
pub(crate) use linker::linker;

/// Bindings of the `wasmplug:plugin@1.0.0` world: the host interface's trait and the
/// types of the exports.
#[allow(missing_docs)]
pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../../wit/plugin",
        imports: {
            "wasmplug:plugin/host.panic": async | trappable,
            default: async,
        },
    });
}

/// Whether `bytes` (binary format) are a component rather than a core module.
pub fn is_component(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_component(bytes)
}
