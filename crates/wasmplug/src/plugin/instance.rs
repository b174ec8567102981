//! One live plugin instance and the ABI v1 call protocol (docs/abi.md section 3).
//!
//! An [`Instance`] owns its store and the typed functions it needs, resolved once when it is
//! created. It serves one call at a time. After any error that
//! [`Error::poisons_instance`] it must be dropped by the caller.

use wasmtime::{Memory, Store, TypedFunc, UpdateDeadline};

use super::compiled::CompiledPlugin;
use super::trap::{CallFacts, classify};
use crate::abi::{self, memory};
use crate::capability::Captured;
use crate::clock::Stamp;
use crate::epoch::timeout_ticks;
use crate::error::{Error, Result};
use crate::host::HostState;

type PluginFn = TypedFunc<(u32, u32), i64>;

pub(crate) struct Instance {
    store: Store<HostState>,
    /// Boxed so that an `Instance` is two pointers: the pool moves instances in and out
    /// on every call.
    exports: Box<Exports>,
}

/// The exports a call uses, resolved once. Kept apart from the store so that a call can
/// borrow a function while it drives the store (no per-call handle clones).
struct Exports {
    memory: Memory,
    allocate: TypedFunc<u32, u32>,
    deallocate: TypedFunc<(u32, u32), ()>,
    /// Indexed like `PluginInterface::functions`.
    functions: Vec<PluginFn>,
}

impl Instance {
    /// Instantiates `compiled`, runs `_initialize` and `init`.
    pub(crate) fn new(compiled: &CompiledPlugin) -> Result<Instance> {
        let limits = compiled.limits();
        let engine = compiled.engine().config();
        let max_table = engine.pooling.as_ref().map(|p| p.table_elements);
        let state = HostState::new(
            limits,
            max_table,
            compiled.capabilities(),
            compiled.env(),
            compiled.services().clone(),
        )?;
        let mut store = Store::new(compiled.engine().wasmtime(), state);
        store.limiter(|s| &mut s.memory);
        if compiled.engine().config().fuel {
            store
                .set_fuel(u64::MAX)
                .map_err(|e| instantiate_err(compiled, e))?;
        }
        // The epoch only triggers a check: the call's real elapsed time decides (see
        // `crate::epoch`), so a catch-up burst of ticks never ends a call early.
        store.epoch_deadline_callback(|ctx| {
            let state = ctx.data();
            let Some(timeout) = state.call_timeout else {
                return Ok(UpdateDeadline::Continue(u64::MAX / 2));
            };
            // A lower bound of the real time passed: never stops a call early.
            let elapsed = state.call_started.elapsed_at_most();
            Ok(match timeout.checked_sub(elapsed) {
                Some(left) if !left.is_zero() => UpdateDeadline::Continue(timeout_ticks(left)),
                _ => UpdateDeadline::Interrupt,
            })
        });
        // Instantiation runs the start function and data initialisers: keep it under the
        // deadline too.
        store.data_mut().call_started = Stamp::now();
        store.set_epoch_deadline(compiled.deadline_ticks());
        let instance = compiled.instance_pre().instantiate(&mut store).map_err(|e| {
            match store.data().memory.refused() {
                Some(attempted) => Error::Instantiate {
                    plugin: compiled.name().to_string(),
                    message: format!(
                        "its initial memory and tables need {attempted} bytes, over the memory limit of {} bytes; raise `memory`",
                        store.data().memory.limit()
                    ),
                },
                None => instantiate_err(compiled, e),
            }
        })?;
        let get = |store: &mut Store<HostState>, name: &str| {
            instance
                .get_export(&mut *store, name)
                .ok_or_else(|| Error::MissingExport {
                    name: name.into(),
                    expected: "see docs/abi.md".into(),
                })
        };
        let memory = get(&mut store, abi::EXPORT_MEMORY)?
            .into_memory()
            .ok_or_else(|| Error::invalid_plugin("`memory` is not a memory"))?;
        let typed_err = |e: wasmtime::Error| instantiate_err(compiled, e);
        let allocate = instance
            .get_typed_func(&mut store, abi::EXPORT_ALLOCATE)
            .map_err(typed_err)?;
        let deallocate = instance
            .get_typed_func(&mut store, abi::EXPORT_DEALLOCATE)
            .map_err(typed_err)?;
        let functions = compiled
            .interface()
            .function_exports
            .iter()
            .map(|export| instance.get_typed_func(&mut store, export))
            .collect::<wasmtime::Result<Vec<PluginFn>>>()
            .map_err(typed_err)?;
        let mut this = Instance {
            store,
            exports: Box::new(Exports {
                memory,
                allocate,
                deallocate,
                functions,
            }),
        };
        if compiled.interface().has_initialize {
            let f: TypedFunc<(), ()> = instance
                .get_typed_func(&mut this.store, abi::EXPORT_INITIALIZE)
                .map_err(typed_err)?;
            let start = arm(&mut this.store, compiled)?;
            this.store.data_mut().function = compiled.services().init_index() + 1;
            guarded(
                &mut this.store,
                compiled,
                abi::EXPORT_INITIALIZE,
                start,
                |store| f.call(store, ()),
            )?;
        }
        if compiled.interface().has_init {
            let init: PluginFn = instance
                .get_typed_func(&mut this.store, abi::EXPORT_INIT)
                .map_err(typed_err)?;
            this.store.data_mut().function = compiled.services().init_index();
            invoke(
                &mut this.store,
                &this.exports,
                compiled,
                abi::EXPORT_INIT,
                &init,
                compiled.init_config(),
            )?;
        }
        Ok(this)
    }

    /// Resource use of the last call: fuel consumed (when metered) and the bytes of memory
    /// and tables the instance holds.
    pub(crate) fn usage(&self, compiled: &CompiledPlugin) -> (Option<u64>, u64) {
        let fuel = compiled
            .limits()
            .fuel
            .filter(|_| compiled.engine().config().fuel);
        let consumed = fuel.map(|budget| budget - self.store.get_fuel().unwrap_or(0));
        (consumed, self.store.data().memory.used())
    }

    /// Takes the stdout / stderr the guest wrote since the last call.
    pub(crate) fn take_stdio(&mut self) -> (Captured, Captured) {
        let state = self.store.data();
        (state.stdout.take(), state.stderr.take())
    }

    /// Calls plugin function number `index` with `input`, on behalf of `request_id`.
    pub(crate) fn call(
        &mut self,
        compiled: &CompiledPlugin,
        index: usize,
        input: &[u8],
        request_id: Option<&std::sync::Arc<str>>,
    ) -> Result<Vec<u8>> {
        let state = self.store.data_mut();
        state.function = index;
        state.request_id = request_id.cloned();
        invoke(
            &mut self.store,
            &self.exports,
            compiled,
            &compiled.interface().functions[index],
            &self.exports.functions[index],
            input,
        )
    }
}

/// Runs one function call of the ABI protocol: input into a guest buffer, the call, the
/// output out of guest memory, the output buffer freed.
fn invoke(
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
        let ptr = guarded(store, compiled, abi::EXPORT_ALLOCATE, start, |s| {
            exports.allocate.call(s, len)
        })?;
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
    let packed = guarded(store, compiled, function, start, |s| {
        func.call(s, (ptr, len))
    })?;
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
    guarded(store, compiled, abi::EXPORT_DEALLOCATE, start, |s| {
        exports.deallocate.call(s, (out_ptr, out_len))
    })?;
    Ok(output)
}

/// Starts the clock of one call: arms the deadline and fuel budget once for everything
/// the call runs (allocate, the function, deallocate).
fn arm(store: &mut Store<HostState>, compiled: &CompiledPlugin) -> Result<Stamp> {
    let limits = compiled.limits();
    let start = Stamp::now();
    store.set_epoch_deadline(compiled.deadline_ticks());
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

/// Runs `f` (part of the call armed at `start`) and maps failures to typed errors.
fn guarded<R>(
    store: &mut Store<HostState>,
    compiled: &CompiledPlugin,
    function: &str,
    start: Stamp,
    f: impl FnOnce(&mut Store<HostState>) -> wasmtime::Result<R>,
) -> Result<R> {
    f(store).map_err(|err| {
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

fn instantiate_err(compiled: &CompiledPlugin, e: wasmtime::Error) -> Error {
    Error::Instantiate {
        plugin: compiled.name().to_string(),
        message: format!("{e:#}"),
    }
}
