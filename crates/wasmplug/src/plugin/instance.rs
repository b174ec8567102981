//! One live plugin instance: its store, the typed functions it needs (resolved once when it
//! is created), and its deadline callback.
//!
//! An [`Instance`] serves one call at a time. After any error that
//! [`Error::poisons_instance`] it must be dropped by the caller. Every guest entry is a
//! wasmtime `*_async` call on a fiber (see [`super::drive`] for who polls it). The store's
//! epoch callback decides at each tick: past the call's timeout, interrupt; for a call made
//! by an async caller, mark the slice used and yield to the runtime; otherwise continue to
//! the deadline.
//!
//! An instance is of one of two kinds, fixed by the plugin (see [`Pre`]): a core module
//! (ABI v1, `super::invoke`) or a component (`crate::component`). Both share the store
//! set-up (limiter, fuel, epoch callback), the clock arming and the error mapping; the pool
//! and the drivers only use [`Instance::new`], [`Instance::call`], [`Instance::take_stdio`]
//! and [`Instance::usage`].

use wasmtime::component::{ComponentNamedList, Lift, Lower};
use wasmtime::{Memory, Store, TypedFunc, UpdateDeadline};

use super::compiled::{CompiledPlugin, ModulePre, Pre};
use super::invoke::{arm, checked, invoke};
use crate::abi;
use crate::capability::Captured;
use crate::clock::Stamp;
use crate::component::{self, ComponentExports, ExportLookup, Outcome};
use crate::epoch::{MAX_DEADLINE_TICKS, timeout_ticks};
use crate::error::{Error, Result};
use crate::host::{Flavour, HostState, enter};

pub(crate) type PluginFn = TypedFunc<(u32, u32), i64>;

pub(crate) struct Instance {
    store: Store<HostState>,
    /// Boxed so that an `Instance` stays small: the pool moves instances in and out on
    /// every call.
    entry: Entry,
}

/// The entry points of an instance, by kind.
enum Entry {
    Module(Box<Exports>),
    Component(Box<ComponentExports>),
}

/// The exports a call uses, resolved once. Kept apart from the store so that a call can
/// borrow a function while it drives the store (no per-call handle clones).
pub(crate) struct Exports {
    /// The wasmtime instance (for snapshotting its state, see `super::preinit`).
    pub(crate) instance: wasmtime::Instance,
    pub(crate) memory: Memory,
    pub(crate) allocate: TypedFunc<u32, u32>,
    pub(crate) deallocate: TypedFunc<(u32, u32), ()>,
    /// Indexed like `PluginInterface::functions`.
    pub(crate) functions: Vec<PluginFn>,
}

/// The function `export` (named `name`) of `instance`, typed: what
/// `wasmtime::Instance::get_typed_func` does, by index instead of by name.
fn typed_func<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
    store: &mut Store<HostState>,
    instance: wasmtime::Instance,
    export: &Option<wasmtime::ModuleExport>,
    name: &str,
) -> wasmtime::Result<TypedFunc<P, R>> {
    let func = export
        .as_ref()
        .and_then(|export| instance.get_module_export(&mut *store, export))
        .and_then(wasmtime::Extern::into_func)
        .ok_or_else(|| wasmtime::format_err!("failed to find function export `{name}`"))?;
    func.typed(&*store)
        .map_err(|e| e.context(format!("failed to convert function `{name}` to given type")))
}

/// The store's epoch callback (see the module docs). The epoch only triggers a check: the
/// call's real elapsed time decides (see `crate::epoch`), so a catch-up burst of ticks never
/// ends a call early.
fn on_epoch(state: &HostState) -> UpdateDeadline {
    let left = match state.call_timeout {
        None => None,
        // A lower bound of the real time passed: never stops a call early.
        Some(timeout) => match timeout.checked_sub(state.call_started.elapsed_at_most()) {
            Some(left) if !left.is_zero() => Some(left),
            _ => return UpdateDeadline::Interrupt,
        },
    };
    match &state.slice {
        Some(slice) => {
            slice.set();
            UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
        }
        None => UpdateDeadline::Continue(left.map_or(MAX_DEADLINE_TICKS, timeout_ticks)),
    }
}

impl Instance {
    /// Instantiates `compiled` and, unless it starts from a pre-initialised snapshot, runs
    /// `_initialize` and `init`.
    /// A core module's instance is of `flavour`; a component's is always async.
    pub(crate) async fn new(
        compiled: &CompiledPlugin,
        slice: Option<&super::drive::SliceUsed>,
        flavour: Flavour,
    ) -> Result<Instance> {
        match compiled.pre() {
            Pre::Module(pre) => {
                let initialize = !compiled.preinitialized();
                Instance::from_pre(compiled, pre, initialize, slice, flavour).await
            }
            Pre::Component(pre) => Instance::component(compiled, pre, slice).await,
            // Served per request by `Plugin::handle_http`, never through `call`.
            Pre::Http(_) => Err(Error::FunctionNotFound {
                plugin: compiled.name().to_string(),
                function: crate::component::http::HTTP_FUNCTION.to_string(),
                available: Vec::new(),
            }),
        }
    }

    /// Instantiates a component and runs its `init` with the configuration.
    async fn component(
        compiled: &CompiledPlugin,
        pre: &wasmtime::component::InstancePre<HostState>,
        slice: Option<&super::drive::SliceUsed>,
    ) -> Result<Instance> {
        let mut store = new_store(compiled, slice, true, Flavour::Async)?;
        let exports = component::instantiate(&mut store, pre)
            .await
            .map_err(|e| instantiate_failed(compiled, &store, e))?;
        let mut this = Instance {
            store,
            entry: Entry::Component(Box::new(exports)),
        };
        let Entry::Component(exports) = &this.entry else {
            unreachable!("just built");
        };
        let config: Vec<(String, String)> = compiled
            .config()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let start = arm(&mut this.store, compiled)?;
        this.store.data_mut().function = compiled.services().init_index();
        let result = component::init(&mut this.store, exports, &config).await;
        checked(&mut this.store, compiled, abi::EXPORT_INIT, start, result)?
            .map_err(|(message, code)| guest_error(abi::EXPORT_INIT, message, code))?;
        Ok(this)
    }

    /// Instantiates `pre` (the plugin's own module, or the instrumented one a snapshot is
    /// taken from) in `flavour` with `compiled`'s limits and grants; `initialize` runs
    /// `_initialize` and `init`.
    pub(crate) async fn from_pre(
        compiled: &CompiledPlugin,
        pre: &ModulePre,
        initialize: bool,
        slice: Option<&super::drive::SliceUsed>,
        flavour: Flavour,
    ) -> Result<Instance> {
        let mut store = new_store(compiled, slice, false, flavour)?;
        let instance = match flavour {
            Flavour::Async => pre.get(flavour).instantiate_async(&mut store).await,
            Flavour::Sync => pre.get(flavour).instantiate(&mut store),
        }
        .map_err(|e| instantiate_failed(compiled, &store, e))?;
        let indices = pre.exports();
        let memory = indices
            .memory
            .as_ref()
            .and_then(|export| instance.get_module_export(&mut store, export))
            .ok_or_else(|| Error::MissingExport {
                name: abi::EXPORT_MEMORY.into(),
                expected: "see docs/abi.md".into(),
            })?
            .into_memory()
            .ok_or_else(|| Error::invalid_plugin("`memory` is not a memory"))?;
        let typed_err = |e: wasmtime::Error| instantiate_err(compiled, e);
        let allocate = typed_func(
            &mut store,
            instance,
            &indices.allocate,
            abi::EXPORT_ALLOCATE,
        )
        .map_err(typed_err)?;
        let deallocate = typed_func(
            &mut store,
            instance,
            &indices.deallocate,
            abi::EXPORT_DEALLOCATE,
        )
        .map_err(typed_err)?;
        let functions = compiled
            .interface()
            .function_exports
            .iter()
            .zip(&indices.functions)
            .map(|(name, export)| typed_func(&mut store, instance, export, name))
            .collect::<wasmtime::Result<Vec<PluginFn>>>()
            .map_err(typed_err)?;
        let mut this = Instance {
            store,
            entry: Entry::Module(Box::new(Exports {
                instance,
                memory,
                allocate,
                deallocate,
                functions,
            })),
        };
        if !initialize {
            return Ok(this);
        }
        if compiled.interface().has_initialize {
            let f: TypedFunc<(), ()> = typed_func(
                &mut this.store,
                instance,
                &indices.initialize,
                abi::EXPORT_INITIALIZE,
            )
            .map_err(typed_err)?;
            let start = arm(&mut this.store, compiled)?;
            this.store.data_mut().function = compiled.services().init_index() + 1;
            let result = enter(&mut this.store, &f, ()).await;
            checked(
                &mut this.store,
                compiled,
                abi::EXPORT_INITIALIZE,
                start,
                result,
            )?;
        }
        if compiled.interface().has_init {
            let init: PluginFn =
                typed_func(&mut this.store, instance, &indices.init, abi::EXPORT_INIT)
                    .map_err(typed_err)?;
            this.store.data_mut().function = compiled.services().init_index();
            let Entry::Module(exports) = &this.entry else {
                unreachable!("just built");
            };
            invoke(
                &mut this.store,
                exports,
                compiled,
                abi::EXPORT_INIT,
                &init,
                compiled.init_config(),
            )
            .await?;
        }
        Ok(this)
    }

    /// The store and the wasmtime instance of a core module, for snapshotting.
    pub(crate) fn parts(&mut self) -> Option<(&mut Store<HostState>, wasmtime::Instance)> {
        match &self.entry {
            Entry::Module(exports) => Some((&mut self.store, exports.instance)),
            Entry::Component(_) => None,
        }
    }

    /// How this instance is entered (see [`Flavour`]).
    pub(crate) fn flavour(&self) -> Flavour {
        self.store.data().flavour
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
    /// `slice` is set for an async caller: the call then yields at every epoch tick and
    /// marks it (see [`super::drive::Lane`]).
    pub(crate) async fn call(
        &mut self,
        compiled: &CompiledPlugin,
        index: usize,
        input: &[u8],
        request_id: Option<&std::sync::Arc<str>>,
        slice: Option<&super::drive::SliceUsed>,
    ) -> Result<Vec<u8>> {
        let state = self.store.data_mut();
        state.function = index;
        state.request_id = request_id.cloned();
        state.slice = slice.cloned();
        state.export = None;
        let function = &compiled.interface().functions[index];
        match &self.entry {
            Entry::Module(exports) => {
                invoke(
                    &mut self.store,
                    exports,
                    compiled,
                    function,
                    &exports.functions[index],
                    input,
                )
                .await
            }
            Entry::Component(exports) => {
                call_component(&mut self.store, exports, compiled, function, input).await
            }
        }
    }
}

/// A call of a component's own typed export `export` (see `Plugin::call_export`), armed
/// and checked like a plugin function's call.
pub(crate) struct ExportCall<'a> {
    pub(crate) export: &'a str,
    pub(crate) request_id: Option<&'a std::sync::Arc<str>>,
    pub(crate) slice: Option<&'a super::drive::SliceUsed>,
}

impl Instance {
    /// Calls the component's typed export `call.export` with `params`.
    pub(crate) async fn call_export<P, R>(
        &mut self,
        compiled: &CompiledPlugin,
        call: ExportCall<'_>,
        params: P,
    ) -> Result<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let export = call.export;
        let refuse = |reason: &str| Error::TypedExport {
            plugin: compiled.name().to_string(),
            export: export.to_string(),
            reason: reason.to_string(),
        };
        let Entry::Component(exports) = &self.entry else {
            return Err(refuse(
                "it is a core module; typed exports are a component feature (docs/components.md)",
            ));
        };
        if export == "init" || export == "call" {
            return Err(refuse(
                "`init` and `call` are the plugin protocol; use `Plugin::call`",
            ));
        }
        let func = match component::typed_export::<P, R>(&mut self.store, exports, export) {
            Ok(func) => func,
            Err(ExportLookup::Type(message)) => return Err(refuse(&message)),
            Err(ExportLookup::Missing) => {
                return Err(Error::FunctionNotFound {
                    plugin: compiled.name().to_string(),
                    function: export.to_string(),
                    available: compiled
                        .component()
                        .map(|c| c.typed_exports.clone())
                        .unwrap_or_default(),
                });
            }
        };
        let state = self.store.data_mut();
        state.request_id = call.request_id.cloned();
        state.slice = call.slice.cloned();
        state.export = Some(std::sync::Arc::from(export));
        let start = arm(&mut self.store, compiled)?;
        let state = self.store.data_mut();
        let deadline =
            crate::host_fn::Services::call_deadline(state.call_started, state.call_timeout);
        state.set_http_deadline(deadline);
        let result = func.call_async(&mut self.store, params).await;
        checked(&mut self.store, compiled, export, start, result)
    }
}

/// One call of a component's `call` export, armed and checked like a core module's call.
async fn call_component(
    store: &mut Store<HostState>,
    exports: &ComponentExports,
    compiled: &CompiledPlugin,
    function: &str,
    input: &[u8],
) -> Result<Vec<u8>> {
    let limits = compiled.limits();
    let max_input = limits.max_input.bytes();
    if input.len() as u64 > max_input {
        return Err(Error::InputTooLarge {
            size: input.len() as u64,
            limit: max_input,
        });
    }
    let max_output = limits.max_output.bytes();
    let start = arm(store, compiled)?;
    let state = store.data_mut();
    let deadline = crate::host_fn::Services::call_deadline(state.call_started, state.call_timeout);
    state.set_http_deadline(deadline);
    let result = component::call(store, exports, function, input, max_output).await;
    match checked(store, compiled, function, start, result)? {
        Outcome::Output(output) => Ok(output),
        Outcome::Guest(message, code) => Err(guest_error(function, message, code)),
        Outcome::TooLarge(size) => Err(Error::OutputTooLarge {
            function: function.to_string(),
            size,
            limit: max_output,
        }),
    }
}

/// A guest's error value (a component's `plugin-error`), its message cut like a core
/// module's `set_error`.
fn guest_error(function: &str, mut message: String, code: Option<i32>) -> Error {
    if message.len() > abi::MAX_ERROR_MESSAGE_LEN {
        let mut end = abi::MAX_ERROR_MESSAGE_LEN;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    Error::Guest {
        function: function.to_string(),
        message,
        code,
    }
}

/// A store for one instance of `compiled`: its limits, grants and WASI flavour, the memory
/// limiter, fuel and the epoch callback, armed for instantiation; entered in `flavour`.
pub(super) fn new_store(
    compiled: &CompiledPlugin,
    slice: Option<&super::drive::SliceUsed>,
    component: bool,
    flavour: Flavour,
) -> Result<Store<HostState>> {
    let limits = compiled.limits();
    let engine = compiled.engine().config();
    let max_table = engine.pooling.as_ref().map(|p| p.table_elements);
    let state = HostState::new(
        component,
        limits,
        max_table,
        compiled.capabilities(),
        compiled.env(),
        compiled.services().clone(),
    )?;
    let mut store = Store::new(compiled.engine().wasmtime(), state);
    store.limiter(|s| &mut s.memory);
    store.data_mut().slice = slice.cloned();
    store.data_mut().flavour = flavour;
    if compiled.engine().config().fuel {
        store
            .set_fuel(u64::MAX)
            .map_err(|e| instantiate_err(compiled, e))?;
    }
    store.epoch_deadline_callback(|ctx| Ok(on_epoch(ctx.data())));
    // Instantiation runs the start function and data initialisers: keep it under the
    // deadline too.
    store.data_mut().call_started = Stamp::now();
    store.set_epoch_deadline(super::invoke::first_deadline(&store, compiled));
    Ok(store)
}

/// An instantiation failure, naming the memory limit when that was the cause.
pub(super) fn instantiate_failed(
    compiled: &CompiledPlugin,
    store: &Store<HostState>,
    e: wasmtime::Error,
) -> Error {
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
}

pub(crate) fn instantiate_err(compiled: &CompiledPlugin, e: wasmtime::Error) -> Error {
    Error::Instantiate {
        plugin: compiled.name().to_string(),
        message: format!("{e:#}"),
    }
}
