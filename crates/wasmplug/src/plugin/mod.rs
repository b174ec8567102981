//! [`Plugin`]: a loaded plugin, callable from any thread.
//!
//! A `Plugin` is a cheap, cloneable handle (`Send + Sync`) around a [`CompiledPlugin`] and
//! a bounded pool of instances. A call takes an instance (a fresh one in `per-call`
//! isolation, an idle one in `reuse`), runs the ABI call protocol, and gives the instance
//! back, unless the call trapped, timed out, hit a limit or broke the ABI: such an instance is
//! dropped, so no call ever observes another's broken state. When `instances.max` calls are
//! in flight, the next waits up to `acquire_timeout`, then fails with [`Error::Busy`]
//! (at once when `instances.max_waiting` calls wait already).
//!
//! One call path: every call runs the same async `Instance::call` (the ABI protocol on one
//! instance). The sync API (`call_sync`, and [`Lease`]) takes its instance from the pool
//! without a future when one is idle and drives the call on the calling thread; the async
//! API (`run_call`) runs acquire and call inline on the caller's task (see [`drive`]).

mod builder;
mod compiled;
mod drive;
mod exports;
mod http_instance;
mod instance;
mod invoke;
mod lease;
mod link_errors;
mod pool;
mod preinit;
mod trap;

pub use builder::PluginBuilder;
pub use compiled::{CompiledPlugin, PluginSource};
pub(crate) use drive::{SliceUsed, block_on};
pub(crate) use http_instance::HttpInstance;
pub use lease::Lease;

/// Drives `future` inline until its guest uses up a slice, then on the slow lane.
pub(crate) fn lane<T: Send + 'static>(
    future: std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>,
    slice: SliceUsed,
) -> drive::Lane<T> {
    drive::Lane::new(future, slice)
}

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::abi::PluginMeta;
use crate::capability::Captured;
use crate::error::{Error, Result};
use crate::host::Flavour;
use instance::Instance;
use pool::Pool;

/// A call's outcome with what it wrote and used (`output` empty; the outcome is the first
/// value): what [`Plugin::call_report`] returns.
pub(crate) type CallReport = (Result<Vec<u8>>, CallOutput);

/// The result of [`Plugin::call_captured`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOutput {
    /// The function's output bytes.
    pub output: Vec<u8>,
    /// What the guest wrote to stdout (at most `max_stdio` bytes).
    pub stdout: Vec<u8>,
    /// What the guest wrote to stderr (at most `max_stdio` bytes).
    pub stderr: Vec<u8>,
    /// Stdout bytes dropped because of the cap.
    pub stdout_dropped: u64,
    /// Stderr bytes dropped because of the cap.
    pub stderr_dropped: u64,
    /// Fuel the call consumed, when the plugin has a `fuel` limit.
    pub fuel_consumed: Option<u64>,
    /// Bytes of linear memory and tables the instance held after the call (its high-water
    /// mark, since wasm memory never shrinks).
    pub memory_bytes: u64,
}

/// One call made from a synchronous caller: function number `index` of the plugin, driven
/// on this thread in `flavour`.
struct SyncCall<'a> {
    index: usize,
    input: &'a [u8],
    request_id: Option<&'a Arc<str>>,
    flavour: Flavour,
}

impl SyncCall<'_> {
    /// Runs the call on `instance`; returns the outcome `finish` makes of its result, and
    /// whether the instance is still usable (no error that poisons it).
    fn run<T>(
        self,
        compiled: &CompiledPlugin,
        instance: &mut Instance,
        finish: impl FnOnce(&CompiledPlugin, usize, &mut Instance, Result<Vec<u8>>) -> T,
    ) -> (T, bool) {
        let result = {
            let call = instance.call(compiled, self.index, self.input, self.request_id, None);
            drive::block_on_in(std::pin::pin!(call), self.flavour)
        };
        let usable = !matches!(&result, Err(e) if e.poisons_instance());
        (finish(compiled, self.index, instance, result), usable)
    }
}

/// A finished call's report: its outcome, and what the guest wrote (also logged) and used.
fn report(
    compiled: &CompiledPlugin,
    index: usize,
    instance: &mut Instance,
    result: Result<Vec<u8>>,
) -> CallReport {
    let (stdout, stderr) = drain_stdio(compiled, index, instance);
    let (fuel_consumed, memory_bytes) = instance.usage(compiled);
    (
        result,
        CallOutput {
            output: Vec::new(),
            stdout: stdout.data,
            stderr: stderr.data,
            stdout_dropped: stdout.dropped,
            stderr_dropped: stderr.dropped,
            fuel_consumed,
            memory_bytes,
        },
    )
}

/// Takes what the guest wrote to stdout and stderr during the call of function `index`,
/// and logs it.
fn drain_stdio(
    compiled: &CompiledPlugin,
    index: usize,
    instance: &mut Instance,
) -> (Captured, Captured) {
    let (stdout, stderr) = instance.take_stdio();
    if !stdout.is_empty() || !stderr.is_empty() {
        let function = compiled.interface().functions[index].as_str();
        log_stdio(compiled.name(), function, "stdout", &stdout);
        log_stdio(compiled.name(), function, "stderr", &stderr);
    }
    (stdout, stderr)
}

fn log_stdio(plugin: &str, function: &str, stream: &str, captured: &Captured) {
    if captured.is_empty() {
        return;
    }
    tracing::info!(
        target: "wasmplug::guest",
        plugin,
        function,
        stream,
        dropped = captured.dropped,
        "{}",
        String::from_utf8_lossy(&captured.data).trim_end()
    );
}

/// A loaded plugin. Clone it to share it; all clones use the same instances.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    compiled: CompiledPlugin,
    pool: Pool,
    /// Requests of a `wasi:http` plugin in flight (each on its own fresh instance).
    http_permits: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("compiled", &self.inner.compiled)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Loads a plugin from a `plugin.toml`, `.wasm` or `.wat` path with default settings.
    /// See [`PluginBuilder`] for config, limits and engine choice.
    ///
    /// # Errors
    /// Any load error, see [`PluginBuilder::load`].
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin> {
        PluginBuilder::new().load(path)
    }

    /// A builder for plugins with non-default settings.
    pub fn builder() -> PluginBuilder {
        PluginBuilder::new()
    }

    /// Creates a plugin from its compiled form. With `instances.preinit` (the default) one
    /// instance runs `_initialize` and `init` and is snapshotted, and every instance starts
    /// from the snapshot (see [`crate::InstancePolicy::preinit`]); then `instances.min`
    /// instances (at least one) are created right away, so that a plugin whose `init` fails
    /// never loads.
    ///
    /// # Errors
    /// [`Error::Instantiate`], or the [`Error::Guest`] / [`Error::Trap`] of `init`.
    pub fn new(compiled: CompiledPlugin) -> Result<Plugin> {
        let compiled = preinit::preinitialize(&compiled)?;
        let warm = drive::block_on(async {
            let mut warm = Vec::new();
            if let compiled::Pre::Http(pre) = compiled.pre() {
                // One instance per request: instantiate one now so a broken one never loads.
                // No slice: this runs under `block_on`, which must not yield to a runtime.
                HttpInstance::new(&compiled, pre, None).await?;
                return Ok(warm);
            }
            for _ in 0..compiled.policy().min.max(1) {
                warm.push(Instance::new(&compiled, None, Flavour::Async).await?);
            }
            Ok::<_, Error>(warm)
        })?;
        let max = compiled
            .policy()
            .max
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        Ok(Plugin {
            inner: Arc::new(Inner {
                pool: Pool::new(compiled.policy().max, warm),
                http_permits: Arc::new(tokio::sync::Semaphore::new(max)),
                compiled,
            }),
        })
    }

    /// Calls plugin function `function` with `input` and returns its output bytes.
    ///
    /// # Errors
    /// [`Error::FunctionNotFound`], [`Error::InputTooLarge`], [`Error::Guest`] (the plugin
    /// reported an error value), [`Error::Trap`], [`Error::Timeout`],
    /// [`Error::MemoryLimit`], [`Error::OutOfFuel`], [`Error::MemoryOutOfBounds`],
    /// [`Error::OutputTooLarge`], or [`Error::Instantiate`] if a fresh instance was needed
    /// and could not be created.
    pub fn call(&self, function: &str, input: &[u8]) -> Result<Vec<u8>> {
        let index = self.function_index(function)?;
        self.call_sync(index, input, None, |compiled, index, instance, result| {
            drain_stdio(compiled, index, instance);
            result
        })?
    }

    /// Like [`Plugin::call`], and also returns what the guest wrote to stdout and stderr
    /// during the call (each capped at [`crate::Limits::max_stdio`]). Whatever the guest
    /// writes is also logged through `tracing` (target `wasmplug::guest`, at `info`) with the
    /// plugin's name, whether the call succeeded or not.
    ///
    /// # Errors
    /// As [`Plugin::call`].
    pub fn call_captured(&self, function: &str, input: &[u8]) -> Result<CallOutput> {
        self.call_inner(function, input, None)
    }

    /// Like [`Plugin::call_captured`], on behalf of request `request_id`: host functions see
    /// it ([`crate::CallContext::request_id`]) and the plugin's log lines carry it.
    ///
    /// # Errors
    /// As [`Plugin::call`].
    pub fn call_with_request_id(
        &self,
        function: &str,
        input: &[u8],
        request_id: Option<&str>,
    ) -> Result<CallOutput> {
        let id: Option<Arc<str>> = request_id.map(Arc::from);
        self.call_inner(function, input, id.as_ref())
    }

    fn call_inner(
        &self,
        function: &str,
        input: &[u8],
        request_id: Option<&Arc<str>>,
    ) -> Result<CallOutput> {
        let index = self.function_index(function)?;
        self.call_index(index, input, request_id)
    }

    /// The index of `function` in [`Plugin::functions`].
    pub(crate) fn function_index(&self, function: &str) -> Result<usize> {
        let compiled = &self.inner.compiled;
        let functions = &compiled.interface().functions;
        // Names are short: a byte loop beats a `memcmp` call per candidate.
        let same = |f: &String| {
            f.len() == function.len() && f.bytes().zip(function.bytes()).all(|(a, b)| a == b)
        };
        functions
            .iter()
            .position(same)
            .ok_or_else(|| Error::FunctionNotFound {
                plugin: compiled.name().to_string(),
                function: function.to_string(),
                available: functions.clone(),
            })
    }

    /// Calls function number `index` (from [`Plugin::function_index`]) on this thread.
    pub(crate) fn call_index(
        &self,
        index: usize,
        input: &[u8],
        request_id: Option<&Arc<str>>,
    ) -> Result<CallOutput> {
        Self::settle(self.call_index_report(index, input, request_id)?)
    }

    /// Like [`Plugin::call_index`], with what the call wrote and used even when it failed
    /// (the registry's metrics record a failed call's memory and fuel too).
    pub(crate) fn call_index_report(
        &self,
        index: usize,
        input: &[u8],
        request_id: Option<&Arc<str>>,
    ) -> Result<CallReport> {
        self.call_sync(index, input, request_id, report)
    }

    /// Calls function number `index` on this thread: takes an instance (waiting for one
    /// like any call, see [`pool`]), makes the call, gives the instance back. `finish`
    /// makes the outcome from the call's result while the instance is still at hand (for
    /// its stdio and usage). The error is the pool's, when no call was made.
    fn call_sync<T>(
        &self,
        index: usize,
        input: &[u8],
        request_id: Option<&Arc<str>>,
        finish: impl FnOnce(&CompiledPlugin, usize, &mut Instance, Result<Vec<u8>>) -> T,
    ) -> Result<T> {
        let compiled = &self.inner.compiled;
        let pool = &self.inner.pool;
        let flavour = self.sync_flavour();
        let mut slot = match pool.take_now(flavour) {
            Some(slot) => slot,
            None => {
                let acquire = std::pin::pin!(pool.acquire(compiled, None, flavour));
                drive::block_on_in(acquire, flavour)?
            }
        };
        let instance = match &mut slot.instance {
            Some(instance) => instance,
            empty => {
                let create = std::pin::pin!(pool.create(compiled, None, flavour));
                empty.insert(drive::block_on_in(create, flavour)?)
            }
        };
        let call = SyncCall {
            index,
            input,
            request_id,
            flavour,
        };
        let (outcome, usable) = call.run(compiled, instance, finish);
        pool.release(compiled, slot, usable);
        Ok(outcome)
    }

    /// The flavour of a synchronous call from this thread (see [`Flavour`]): plain entry on
    /// a thread outside any tokio runtime; inside one (a worker, where the sync flavour's
    /// WASI would panic, or a thread that entered a runtime's context) the async flavour,
    /// driven by [`drive::block_on`]. Components are always entered asynchronously.
    fn sync_flavour(&self) -> Flavour {
        let module = matches!(self.inner.compiled.pre(), compiled::Pre::Module(_));
        if module && tokio::runtime::Handle::try_current().is_err() {
            Flavour::Sync
        } else {
            Flavour::Async
        }
    }

    /// A call's report as its outcome: the output in the [`CallOutput`], or the error.
    pub(crate) fn settle((result, mut out): CallReport) -> Result<CallOutput> {
        out.output = result?;
        Ok(out)
    }

    /// Like [`Plugin::call_captured`], but what the guest wrote to stdout and stderr is
    /// returned even when the call fails (a Go guest's `panic: ...` text, for example):
    /// the second value's `output` is empty and the call's outcome is the first.
    ///
    /// # Errors
    /// The outer `Result` fails when no call was made ([`Error::FunctionNotFound`],
    /// [`Error::Busy`], [`Error::Instantiate`]); the inner one as [`Plugin::call`].
    pub fn call_report(
        &self,
        function: &str,
        input: &[u8],
    ) -> Result<(Result<Vec<u8>>, CallOutput)> {
        let index = self.function_index(function)?;
        self.call_sync(index, input, None, report)
    }

    /// Calls function number `index` from async code: inline on the caller's task, on the
    /// slow lane once the guest has run for a tick (see [`drive`]). Dropping the future
    /// cancels the call and discards its instance.
    pub(crate) async fn call_index_async(
        &self,
        index: usize,
        input: Vec<u8>,
        request_id: Option<Arc<str>>,
    ) -> Result<CallOutput> {
        Self::settle(
            self.call_index_async_report(index, input, request_id)
                .await?,
        )
    }

    /// Like [`Plugin::call_index_async`], with what the call wrote and used even when it
    /// failed.
    pub(crate) async fn call_index_async_report(
        &self,
        index: usize,
        input: Vec<u8>,
        request_id: Option<Arc<str>>,
    ) -> Result<CallReport> {
        let plugin = self.clone();
        let slice = SliceUsed::default();
        let mine = slice.clone();
        let call = async move {
            plugin
                .run_call(
                    index,
                    &input,
                    request_id.as_ref(),
                    Some(&mine),
                    Flavour::Async,
                )
                .await
        };
        drive::Lane::new(Box::pin(call), slice).await
    }

    /// The one call path: an instance from the pool, the ABI call, stdio and usage, the
    /// instance back (or discarded). The outer `Result` fails when no call was made; the
    /// call's own outcome comes with what it wrote and used, even when it failed.
    async fn run_call(
        &self,
        index: usize,
        input: &[u8],
        request_id: Option<&Arc<str>>,
        slice: Option<&SliceUsed>,
        flavour: Flavour,
    ) -> Result<CallReport> {
        let compiled = &self.inner.compiled;
        let mut slot = self.inner.pool.acquire(compiled, slice, flavour).await?;
        let instance = slot
            .instance
            .as_mut()
            .expect("an acquired slot has an instance");
        let result = instance
            .call(compiled, index, input, request_id, slice)
            .await;
        let report = report(compiled, index, instance, result);
        let usable = !matches!(&report.0, Err(e) if e.poisons_instance());
        self.inner.pool.release(compiled, slot, usable);
        Ok(report)
    }

    /// Calls `function` with `input` serialised as JSON and parses the output as JSON.
    ///
    /// # Errors
    /// As [`Plugin::call`], plus [`Error::Json`] when (de)serialisation fails.
    pub fn call_json<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        function: &str,
        input: &I,
    ) -> Result<O> {
        let json_err = |direction, source| Error::Json {
            function: function.to_string(),
            direction,
            source,
        };
        let bytes = serde_json::to_vec(input).map_err(|e| json_err("input", e))?;
        let output = self.call(function, &bytes)?;
        serde_json::from_slice(&output).map_err(|e| json_err("output", e))
    }

    /// Like [`Plugin::call`], for async code. The guest runs inline on the polling task
    /// (on a wasmtime fiber), without a thread hop; a call still running after an epoch
    /// tick or two moves to wasmplug's low-priority slow lane, so a spinning guest never
    /// holds an async worker for longer than that. Waiting for a free instance holds no
    /// thread. Dropping the future cancels the call (its instance is discarded). Works on
    /// any executor.
    ///
    /// # Errors
    /// As [`Plugin::call`].
    pub async fn call_async(&self, function: &str, input: Vec<u8>) -> Result<Vec<u8>> {
        let index = self.function_index(function)?;
        self.call_index_async(index, input, None)
            .await
            .map(|out| out.output)
    }

    /// Serves one HTTP request with a `wasi:http/proxy` plugin (`kind = "wasi-http"`): a
    /// fresh instance, the request streamed to its `incoming-handler`, its response
    /// returned as soon as the handler sets it (the body streams from the guest, under the
    /// plugin's deadline). At most `instances.max` requests run at once; the next waits up
    /// to `acquire_timeout`, then fails with [`Error::Busy`].
    ///
    /// # Errors
    /// [`Error::FunctionNotFound`] for a plugin that is not a `wasi:http` component,
    /// [`Error::Busy`], [`Error::Instantiate`], and the call's errors
    /// ([`Error::Timeout`], [`Error::Trap`], ...) when the handler ended without a response.
    pub async fn handle_http<B>(
        &self,
        request: http::Request<B>,
    ) -> Result<http::Response<crate::component::http::HttpBody>>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let compiled = &self.inner.compiled;
        let compiled::Pre::Http(pre) = compiled.pre() else {
            return Err(Error::FunctionNotFound {
                plugin: compiled.name().to_string(),
                function: crate::component::http::HTTP_FUNCTION.to_string(),
                available: compiled.interface().functions.clone(),
            });
        };
        let policy = compiled.policy();
        let permits = self.inner.http_permits.clone();
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let busy = Error::Busy {
                    plugin: compiled.name().to_string(),
                    max_instances: policy.max,
                    waited: policy.acquire_timeout,
                    waiting: 0,
                };
                let deadline = std::time::Instant::now() + policy.acquire_timeout;
                let Some(sleep) = drive::sleep_until(deadline) else {
                    return Err(busy);
                };
                let mut acquire = std::pin::pin!(permits.acquire_owned());
                let mut sleep = std::pin::pin!(sleep);
                std::future::poll_fn(|cx| {
                    if let std::task::Poll::Ready(permit) = acquire.as_mut().poll(cx) {
                        return std::task::Poll::Ready(permit.ok());
                    }
                    sleep.as_mut().poll(cx).map(|()| None)
                })
                .await
                .ok_or(busy)?
            }
        };
        crate::component::http::serve(compiled, pre, permit, request).await
    }

    /// How many handles to this plugin exist (this one, its clones, and those held by a
    /// registry or by calls in flight). When a registry drops a version, its last handle
    /// goes with its last call, and the instances with it.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// `(live, idle)`: instances that exist (busy or idle), and those idle right now.
    pub fn instance_counts(&self) -> (usize, usize) {
        self.inner.pool.counts()
    }

    /// `(async, sync)`: idle instances by how they are entered (tests of the two flavours).
    #[doc(hidden)]
    pub fn idle_by_flavour(&self) -> (usize, usize) {
        self.inner.pool.idle_by_flavour()
    }

    /// The plugin's metadata (name, version, description, author).
    pub fn meta(&self) -> &PluginMeta {
        self.inner.compiled.meta()
    }

    /// The plugin's callable functions.
    pub fn functions(&self) -> &[String] {
        &self.inner.compiled.interface().functions
    }

    /// The compiled form this plugin instantiates from.
    pub fn compiled(&self) -> &CompiledPlugin {
        &self.inner.compiled
    }
}
