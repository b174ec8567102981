//! A component plugin's entry points on one store: `init` and `call` of the
//! `wasmplug:plugin` world, looked up once per instance and run with `call_async`.
//!
//! The caller (`crate::plugin::instance`) arms the deadline and fuel and maps failures to
//! typed errors exactly as for a core module; this module only moves WIT values.

use wasmtime::Store;
use wasmtime::component::{InstancePre, TypedFunc, WasmList};

use super::bindings::wasmplug::plugin::types::PluginError;
use crate::host::HostState;

/// The exports a call uses, resolved and type-checked once per instance. `TypedFunc` is
/// covariant in its parameters, so the `'static` ones accept a call's borrowed input.
pub(crate) struct ComponentExports {
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
    Ok(ComponentExports { init, call })
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
