//! A component plugin's entry points on one store: `init` and `call` of the
//! `wasmplug:plugin` world, looked up once per instance and run with `call_async`.
//!
//! The caller (`crate::plugin::instance`) arms the deadline and fuel and maps failures to
//! typed errors exactly as for a core module; this module only moves WIT values.

use wasmtime::Store;
use wasmtime::component::{ComponentNamedList, InstancePre, Lift, Lower, TypedFunc, WasmList};

use super::bindings::wasmplug::plugin::types::PluginError;
use crate::host::HostState;

/// The exports a call uses, resolved and type-checked once per instance. `TypedFunc` is
/// covariant in its parameters, so the `'static` ones accept a call's borrowed input.
pub(crate) struct ComponentExports {
    /// The instance, for the component's own typed exports ([`typed_export`]).
    instance: wasmtime::component::Instance,
    init: TypedFunc<InitParams<'static>, InitResults>,
    call: TypedFunc<CallParams<'static>, CallResults>,
}

/// What `call` returned.
pub(crate) enum Outcome {
    /// The output bytes.
    Output(Vec<u8>),
    /// The guest's error value: message and code.
    Guest(String, Option<i32>),
    /// An output of this many bytes, over the limit (not copied).
    TooLarge(u64),
}

type CallParams<'a> = (&'a str, &'a [u8]);
type CallResults = (Result<WasmList<u8>, PluginError>,);
type InitParams<'a> = (&'a [(String, String)],);
type InitResults = (Result<(), PluginError>,);

/// Instantiates `pre` in `store` and resolves `init` and `call`.
pub(crate) async fn instantiate(
    store: &mut Store<HostState>,
    pre: &InstancePre<HostState>,
) -> wasmtime::Result<ComponentExports> {
    let instance = pre.instantiate_async(&mut *store).await?;
    let lookup = |store: &mut Store<HostState>, name: &str| {
        instance
            .get_func(&mut *store, name)
            .ok_or_else(|| wasmtime::format_err!("the component exports no `{name}` function"))
    };
    let init = lookup(store, "init")?.typed(&*store)?;
    let call = lookup(store, "call")?.typed(&*store)?;
    Ok(ComponentExports {
        instance,
        init,
        call,
    })
}

/// Why [`typed_export`] found no function to call.
pub(crate) enum ExportLookup {
    /// No function exported under that name.
    Missing,
    /// The function's WIT type is not the Rust types' (wasmtime's type-check message).
    Type(String),
}

/// The function the component exports as `path` (`name` at the top level, or
/// `interface#name` in an exported interface), typed as `(P) -> R`.
pub(crate) fn typed_export<P, R>(
    store: &mut Store<HostState>,
    exports: &ComponentExports,
    path: &str,
) -> Result<TypedFunc<P, R>, ExportLookup>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    let instance = exports.instance;
    let index = match path.split_once('#') {
        None => instance.get_export_index(&mut *store, None, path),
        Some((interface, name)) => instance
            .get_export_index(&mut *store, None, interface)
            .and_then(|parent| instance.get_export_index(&mut *store, Some(&parent), name)),
    }
    .ok_or(ExportLookup::Missing)?;
    let func = instance
        .get_func(&mut *store, index)
        .ok_or(ExportLookup::Missing)?;
    func.typed::<P, R>(&*store)
        .map_err(|e| ExportLookup::Type(format!("{e:#}")))
}

/// Runs `init` with the plugin's configuration.
pub(crate) async fn init(
    store: &mut Store<HostState>,
    exports: &ComponentExports,
    config: &[(String, String)],
) -> wasmtime::Result<Result<(), (String, Option<i32>)>> {
    let (result,) = exports.init.call_async(&mut *store, (config,)).await?;
    Ok(result.map_err(|e| (e.message, e.code)))
}

/// Calls plugin function `function` with `input`; an output over `max_output` bytes is
/// refused before it is copied out of the guest.
pub(crate) async fn call(
    store: &mut Store<HostState>,
    exports: &ComponentExports,
    function: &str,
    input: &[u8],
    max_output: u64,
) -> wasmtime::Result<Outcome> {
    let (result,) = exports
        .call
        .call_async(&mut *store, (function, input))
        .await?;
    Ok(match result {
        Err(e) => Outcome::Guest(e.message, e.code),
        Ok(list) if list.len() as u64 > max_output => Outcome::TooLarge(list.len() as u64),
        Ok(list) => Outcome::Output(list.as_le_slice(&*store).to_vec()),
    })
}
