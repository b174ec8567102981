//! The ABI v1 call protocol (docs/abi.md section 3) on one store: input into a guest
//! buffer, the call, the output out of guest memory, the output buffer freed; the clock and
//! fuel armed once for all of it, and every failure mapped to a typed [`Error`].

use wasmtime::Store;

use super::compiled::CompiledPlugin;
use super::instance::{Exports, PluginFn, instantiate_err};
use super::trap::{CallFacts, classify};
use crate::abi::{self, memory};
use crate::clock::Stamp;
use crate::error::{Error, Result};
use crate::host::{HostState, enter};

/// Ticks before an async caller's call first checks in (then every tick): a call that
/// runs longer than this is a slow one and leaves the async worker.
const INLINE_SLICE_TICKS: u64 = 1;

/// Runs one function call of the ABI protocol.
pub(crate) async fn invoke(
    store: &mut Store<HostState>,
    exports: &Exports,
    compiled: &CompiledPlugin,
    function: &str,
    func: &PluginFn,
    input: &[u8],
) -> Result<Vec<u8>> {
    let max_input = compiled.limits().max_input.bytes();
    let len = u32::try_from(input.len())
        .ok()
        .filter(|l| u64::from(*l) <= max_input)
        .ok_or(Error::InputTooLarge {
            size: input.len() as u64,
            limit: max_input,
        })?;
    let start = arm(store, compiled)?;
    let ptr = if len == 0 {
        0
    } else {
        let result = enter(&mut *store, &exports.allocate, len).await;
        let ptr = checked(store, compiled, abi::EXPORT_ALLOCATE, start, result)?;
        if ptr == 0 {
            return Err(Error::GuestAllocFailed {
                plugin: compiled.name().to_string(),
                function: function.to_string(),
                len: u64::from(len),
            });
        }
        let data = exports.memory.data_mut(&mut *store);
        let size = data.len() as u64;
        memory::write(data, ptr, input).ok_or(Error::MemoryOutOfBounds {
            function: function.to_string(),
            what: "input buffer from allocate",
            ptr: u64::from(ptr),
            len: u64::from(len),
            memory_size: size,
        })?;
        ptr
    };
    let result = enter(&mut *store, func, (ptr, len)).await;
    let packed = checked(store, compiled, function, start, result)?;
    if let Some((message, code)) = store.data_mut().guest_error.take() {
        return Err(Error::Guest {
            function: function.to_string(),
            message,
            code: (code != 0).then_some(code),
        });
    }
    let (out_ptr, out_len) = abi::unpack(packed);
    if out_len == 0 {
        return Ok(Vec::new());
    }
    let max_output = compiled.limits().max_output.bytes();
    if u64::from(out_len) > max_output {
        return Err(Error::OutputTooLarge {
            function: function.to_string(),
            size: u64::from(out_len),
            limit: max_output,
        });
    }
    let data = exports.memory.data(&*store);
    let output = memory::read(data, out_ptr, out_len)
        .ok_or(Error::MemoryOutOfBounds {
            function: function.to_string(),
            what: "returned output",
            ptr: u64::from(out_ptr),
            len: u64::from(out_len),
            memory_size: data.len() as u64,
        })?
        .to_vec();
    let result = enter(&mut *store, &exports.deallocate, (out_ptr, out_len)).await;
    checked(store, compiled, abi::EXPORT_DEALLOCATE, start, result)?;
    Ok(output)
}

/// Starts the clock of one call: arms the deadline and fuel budget once for everything
/// the call runs (allocate, the function, deallocate). An async caller's call checks in
/// after [`INLINE_SLICE_TICKS`] already, to yield.
pub(crate) fn arm(store: &mut Store<HostState>, compiled: &CompiledPlugin) -> Result<Stamp> {
    let limits = compiled.limits();
    let start = Stamp::now();
    store.set_epoch_deadline(first_deadline(store, compiled));
    if compiled.engine().config().fuel {
        let budget = limits.fuel.unwrap_or(u64::MAX);
        store
            .set_fuel(budget)
            .map_err(|e| instantiate_err(compiled, e))?;
    }
    let state = store.data_mut();
    state.memory.reset_refusal();
    state.guest_error = None;
    state.call_started = start;
    Ok(start)
}

/// The deadline a call (or an instantiation) is first armed with, in ticks.
pub(crate) fn first_deadline(store: &Store<HostState>, compiled: &CompiledPlugin) -> u64 {
    match store.data().slice {
        Some(_) => compiled.deadline_ticks().min(INLINE_SLICE_TICKS),
        None => compiled.deadline_ticks(),
    }
}

/// Maps the outcome of `function` (part of the call armed at `start`) to a typed error.
pub(crate) fn checked<R>(
    store: &mut Store<HostState>,
    compiled: &CompiledPlugin,
    function: &str,
    start: Stamp,
    result: wasmtime::Result<R>,
) -> Result<R> {
    result.map_err(|err| {
        let limits = compiled.limits();
        let fuel_consumed = match (compiled.engine().config().fuel, limits.fuel) {
            (true, Some(budget)) => budget - store.get_fuel().unwrap_or(0),
            _ => 0,
        };
        classify(
            err,
            &CallFacts {
                function,
                elapsed: start.elapsed(),
                timeout: limits.timeout,
                fuel_consumed,
                memory_limit: store.data().memory.limit(),
                memory_refused: store.data().memory.refused(),
            },
        )
    })
}
