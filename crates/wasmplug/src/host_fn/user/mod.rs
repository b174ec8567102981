//! [`HostFunctions`]: functions an application offers to its plugins.

mod typed;

pub use typed::{HostArg, HostReturn, IntoAsyncHostFn, IntoHostFn, Json, WasmType};

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use tokio::runtime::Handle;
use wasmtime::{Caller, FuncType, Linker, Val, ValType};

use super::context::CallContext;
use super::guest::Guest;
use super::runtime;
use crate::abi::{HOST_MODULE, WASI_MODULE};
use crate::error::{Error, Result};
use crate::host::{Flavour, HostState, HostTrap};
use crate::plugin::block_on;
use typed::{Args, HostFuture, Outcome};

/// The error of a host function: either an error **value** for the guest (its call of the
/// host function fails with this message, and the plugin decides what to do), or an
/// **abort** of the whole plugin call (the application gets
/// [`crate::Error::HostFunction`]).
///
/// Any `std::error::Error` converts into an error value, so `?` works in host functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    message: String,
    abort: bool,
}

impl HostError {
    /// An error value returned to the guest.
    pub fn new(message: impl Into<String>) -> HostError {
        HostError {
            message: message.into(),
            abort: false,
        }
    }

    /// Aborts the plugin call: the guest does not continue.
    pub fn abort(message: impl Into<String>) -> HostError {
        HostError {
            message: message.into(),
            abort: true,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this aborts the call rather than returning an error value.
    pub fn is_abort(&self) -> bool {
        self.abort
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for HostError {
    fn from(e: E) -> HostError {
        HostError::new(e.to_string())
    }
}

type SyncFn = dyn Fn(&CallContext, &mut Args<'_>) -> Outcome + Send + Sync;
type AsyncFn =
    dyn Fn(CallContext, &mut Args<'_>) -> std::result::Result<HostFuture, Outcome> + Send + Sync;

enum Body {
    Sync(Box<SyncFn>),
    Async { handle: Handle, start: Box<AsyncFn> },
}

struct Def {
    module: String,
    name: String,
    params: Vec<WasmType>,
    body: Body,
}

/// A set of host functions registered by the application. Cheap to clone; give it to
/// [`crate::HostConfig::functions`] (or [`crate::PluginBuilder::host_functions`]).
///
/// Guest convention (docs/abi.md section 5.3): the import takes the arguments' wasm
/// parameters followed by `out: i32`, a pointer to the 8-byte result slot, and returns an
/// `i32` status (0 ok, 2 error value with the message in the slot).
///
/// ```
/// use wasmplug::{CallContext, HostError, HostFunctions, Json};
///
/// # fn main() -> wasmplug::Result<()> {
/// let mut host = HostFunctions::new();
/// // Imported by guests as `myapp::add (i64, i64, out: i32) -> i32`.
/// host.func("myapp", "add", |_: &CallContext, a: i64, b: i64| -> Result<i64, HostError> {
///     a.checked_add(b).ok_or_else(|| HostError::new("overflow"))
/// })?;
/// // Strings and JSON cross as (ptr, len) buffers.
/// host.func("myapp", "whoami", |ctx: &CallContext| -> Result<String, HostError> {
///     Ok(format!("{} {}", ctx.plugin(), ctx.request_id().unwrap_or("-")))
/// })?;
/// // Async functions run on a tokio runtime; the plugin call waits without blocking it.
/// host.func_async("myapp", "lookup", |_: CallContext, id: u32| async move {
///     Ok::<_, HostError>(Json(serde_json::json!({ "id": id })))
/// })?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct HostFunctions {
    defs: Vec<Arc<Def>>,
    /// Declared versions of the application's modules (`[requires.host]` checks them).
    versions: BTreeMap<String, semver::Version>,
}

impl fmt::Debug for HostFunctions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.defs
                    .iter()
                    .map(|d| format!("{}::{}", d.module, d.name)),
            )
            .finish()
    }
}

impl HostFunctions {
    /// An empty set.
    pub fn new() -> HostFunctions {
        HostFunctions::default()
    }

    /// Registers a synchronous function `module::name`. It runs on the thread of the plugin
    /// call, inside the call's deadline (a host function cannot be interrupted: keep it
    /// short, or make it async).
    ///
    /// # Errors
    /// [`Error::HostFunctionDefinition`] for a reserved or empty module, an invalid name or
    /// a duplicate.
    pub fn func<A, R, F: IntoHostFn<A, R>>(
        &mut self,
        module: &str,
        name: &str,
        f: F,
    ) -> Result<&mut Self> {
        let body = Body::Sync(Box::new(move |ctx, args| f.invoke(ctx, args)));
        self.add(module, name, F::params(), body)
    }

    /// Registers an async function `module::name`. Its future runs on the tokio runtime
    /// current at registration (or on a small runtime owned by wasmplug when there is none);
    /// the plugin call waits for it up to the call's deadline, then ends with
    /// [`Error::Timeout`] and the future is dropped. Call such plugins with
    /// [`crate::Plugin::call_async`] (or from a thread outside the runtime): a plugin called
    /// synchronously on the only thread of a current-thread runtime would wait for a future
    /// that cannot run until its deadline.
    ///
    /// # Errors
    /// As [`HostFunctions::func`].
    pub fn func_async<A, R, F: IntoAsyncHostFn<A, R>>(
        &mut self,
        module: &str,
        name: &str,
        f: F,
    ) -> Result<&mut Self> {
        let handle = runtime::current_or_host()
            .map_err(|reason| Error::HostFunctionDefinition { reason })?;
        let start = Box::new(move |ctx, args: &mut Args<'_>| f.start(ctx, args));
        self.add(module, name, F::params(), Body::Async { handle, start })
    }

    fn add(
        &mut self,
        module: &str,
        name: &str,
        params: Vec<WasmType>,
        body: Body,
    ) -> Result<&mut Self> {
        let bad = |reason: String| Err(Error::HostFunctionDefinition { reason });
        if module.is_empty() || name.is_empty() {
            return bad("module and function names must not be empty".into());
        }
        if module == HOST_MODULE || module.starts_with("wasi") || module == WASI_MODULE {
            return bad(format!(
                "module `{module}` is reserved; use your application's own name"
            ));
        }
        if self.find(module, name).is_some() {
            return bad(format!("`{module}::{name}` is registered twice"));
        }
        self.defs.push(Arc::new(Def {
            module: module.to_string(),
            name: name.to_string(),
            params,
            body,
        }));
        Ok(self)
    }

    fn find(&self, module: &str, name: &str) -> Option<&Arc<Def>> {
        self.defs
            .iter()
            .find(|d| d.module == module && d.name == name)
    }

    /// Declares the version of application module `module`, which plugins may require
    /// (`[requires.host] shop = "^1"`, see [`crate::Requirements`]). Declaring it again
    /// replaces the version.
    ///
    /// # Errors
    /// [`Error::HostFunctionDefinition`] for a reserved or empty module name.
    pub fn module_version(&mut self, module: &str, version: semver::Version) -> Result<&mut Self> {
        if module.is_empty() || module == HOST_MODULE || module.starts_with("wasi") {
            return Err(Error::HostFunctionDefinition {
                reason: format!(
                    "cannot declare a version for module `{module}`: reserved or empty (the plugin API's own version is `wasmplug::PLUGIN_API_VERSION`)"
                ),
            });
        }
        self.versions.insert(module.to_string(), version);
        Ok(self)
    }

    /// The declared version of application module `module`, if any.
    pub fn module_version_of(&self, module: &str) -> Option<&semver::Version> {
        self.versions.get(module)
    }

    /// Whether no function is registered.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// The signature a guest must import `module::name` with, as `inspect` prints it
    /// (`func (i64, i64, i32) -> i32`), if the function is registered.
    pub fn signature(&self, module: &str, name: &str) -> Option<String> {
        self.find(module, name).map(|d| {
            let params: Vec<_> = d
                .params
                .iter()
                .chain(&[WasmType::I32])
                .map(|t| format!("{t:?}").to_lowercase())
                .collect();
            format!("func ({}) -> i32", params.join(", "))
        })
    }

    /// Checks a plugin's import of `module::name` with type `ty` against the registry.
    pub(crate) fn check_import(&self, module: &str, name: &str, ty: &str) -> Result<()> {
        let Some(expected) = self.signature(module, name) else {
            let registered: Vec<_> = self
                .defs
                .iter()
                .filter(|d| d.module == module)
                .map(|d| d.name.as_str())
                .collect();
            return Err(Error::invalid_plugin(format!(
                "unsupported import `{module}::{name}` ({ty}): the host registers no such function{}; plugins may import the `{HOST_MODULE}` host functions, `{WASI_MODULE}` and the application's registered host functions (see docs/abi.md)",
                if registered.is_empty() {
                    String::new()
                } else {
                    format!(" (`{module}` has: {})", registered.join(", "))
                }
            )));
        };
        if expected != ty {
            return Err(Error::invalid_plugin(format!(
                "import `{module}::{name}` has type `{ty}` but the host defines `{expected}`"
            )));
        }
        Ok(())
    }

    /// Defines every function in `linker`, in `flavour` (see [`Flavour`]).
    pub(crate) fn link(
        &self,
        linker: &mut Linker<HostState>,
        flavour: Flavour,
    ) -> wasmtime::Result<()> {
        for def in &self.defs {
            let params = def.params.iter().chain(&[WasmType::I32]).map(|t| match t {
                WasmType::I32 => ValType::I32,
                WasmType::I64 => ValType::I64,
                WasmType::F32 => ValType::F32,
                WasmType::F64 => ValType::F64,
            });
            let ty = FuncType::new(linker.engine(), params, [ValType::I32]);
            let (module, name) = (def.module.clone(), def.name.clone());
            let def = def.clone();
            // Both kinds wait in the async flavour: a result buffer is allocated by calling
            // back into the guest, which an async store only allows from async code.
            match flavour {
                Flavour::Async => {
                    linker.func_new_async(&module, &name, ty, move |c, vals, results| {
                        let def = def.clone();
                        Box::new(async move {
                            results[0] = Val::I32(run(&def, c, vals).await?);
                            Ok(())
                        })
                    })?;
                }
                Flavour::Sync => {
                    linker.func_new(&module, &name, ty, move |c, vals, results| {
                        results[0] = Val::I32(block_on(run(&def, c, vals))?);
                        Ok(())
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Runs one user host function for the guest.
async fn run(def: &Def, c: Caller<'_, HostState>, vals: &[Val]) -> wasmtime::Result<i32> {
    match def.body {
        Body::Sync(_) => call_sync(def, c, vals).await,
        Body::Async { .. } => call_async(def, c, vals).await,
    }
}

/// Runs one synchronous user host function for the guest (on the call's thread).
async fn call_sync(
    def: &Def,
    mut caller: Caller<'_, HostState>,
    vals: &[Val],
) -> wasmtime::Result<i32> {
    let (last, args) = vals.split_last().expect("the result slot parameter");
    let out = last.unwrap_i32() as u32;
    let mut guest = Guest::new(&mut caller)?;
    guest.check_slot(out)?;
    let ctx = guest.state().context();
    let outcome = {
        let mut args = Args {
            vals: args.iter(),
            memory: guest.memory_data(),
            position: 0,
        };
        match &def.body {
            Body::Sync(f) => f(&ctx, &mut args),
            Body::Async { .. } => unreachable!("dispatched on the body"),
        }
    };
    deliver(def, &mut guest, out, outcome).await
}

/// Runs one async user host function for the guest: its future runs on the runtime it was
/// registered with and the call awaits it (on its fiber, or parked on its thread in the
/// sync flavour), at most until the call's deadline.
async fn call_async(
    def: &Def,
    mut caller: Caller<'_, HostState>,
    vals: &[Val],
) -> wasmtime::Result<i32> {
    let (last, args) = vals.split_last().expect("the result slot parameter");
    let out = last.unwrap_i32() as u32;
    let Body::Async { handle, start } = &def.body else {
        unreachable!("dispatched on the body")
    };
    let started = {
        let guest = Guest::new(&mut caller)?;
        guest.check_slot(out)?;
        let state = guest.state();
        let deadline = super::Services::call_deadline(state.call_started, state.call_timeout);
        let mut args = Args {
            vals: args.iter(),
            memory: guest.memory_data(),
            position: 0,
        };
        start(state.context(), &mut args).map(|future| (future, deadline))
    };
    let outcome = match started {
        Err(outcome) => outcome,
        Ok((future, deadline)) => match runtime::run_on(handle, future, deadline).await {
            Ok(outcome) => outcome,
            Err(runtime::Stopped::Deadline) => Outcome::Trap(HostTrap::Deadline),
            Err(runtime::Stopped::Died) => {
                Outcome::Abort("the async host function panicked".into())
            }
        },
    };
    let mut guest = Guest::new(&mut caller)?;
    deliver(def, &mut guest, out, outcome).await
}

/// Hands a user host function's outcome to the guest (or ends the call).
async fn deliver(
    def: &Def,
    guest: &mut Guest<'_, '_>,
    out: u32,
    outcome: Outcome,
) -> wasmtime::Result<i32> {
    let reply = match outcome {
        Outcome::Reply(reply) => reply,
        Outcome::Trap(trap) => return Err(trap.into()),
        Outcome::Abort(message) => {
            return Err(HostTrap::Abort {
                function: format!("{}::{}", def.module, def.name),
                message,
            }
            .into());
        }
    };
    guest.reply(out, reply).await
}
