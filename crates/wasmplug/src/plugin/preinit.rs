//! Pre-initialised instances: `_initialize` and `init(config)` run once, at load, and every
//! later instance starts from a snapshot of the result.
//!
//! With wasmtime-wizer's split API: [`Wizer::instrument`] exports the module's globals and
//! memories; the host instantiates that module with the plugin's own limits and grants and
//! runs `_initialize` and `init(ptr, len)` itself (the normal ABI call, so `init` gets its
//! configuration like any instance); [`Wizer::snapshot`] then writes the initialised memory
//! and globals into a new module without `_initialize` and `init`. That module is compiled
//! and cached like any other, under a key of the module's sha256 and everything `init` could
//! see (its configuration, environment and mounts), so a cache hit skips all of it.
//!
//! What a snapshot freezes is documented on [`crate::InstancePolicy`] (`preinit`). A module
//! that cannot be snapshotted (table mutation, imported memory or globals, reference-typed
//! globals) keeps instantiating normally; the log says why. An `init` that fails fails the
//! load, as without pre-initialisation.

use sha2::{Digest, Sha256};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

use super::compiled::CompiledPlugin;
use super::drive::block_on;
use super::instance::Instance;
use crate::error::Result;
use crate::host::{Flavour, HostState};

/// The plugin instantiated from its snapshot, or as it was when it cannot be snapshotted.
///
/// # Errors
/// The error of `_initialize` or `init`.
pub(crate) fn preinitialize(compiled: &CompiledPlugin) -> Result<CompiledPlugin> {
    let Some(bytes) = compiled.preinit_source() else {
        return Ok(compiled.clone());
    };
    let key = cache_key(compiled);
    let engine = compiled.engine();
    let cached = engine.cached(&key);
    let hit = cached.is_some();
    let module = match cached {
        Some(module) => Some(module),
        None => take(compiled, bytes, &key)?,
    };
    let pre = module.and_then(|module| match compiled.link(&module) {
        Ok(pre) => Some(pre),
        Err(e) => fallback(compiled, &format!("{e:#}")),
    });
    if pre.is_some() {
        tracing::debug!(plugin = compiled.name(), cached = hit, "pre-initialised");
    }
    Ok(compiled.with_snapshot(pre))
}

/// Runs `_initialize` and `init` on the instrumented module and compiles the snapshot.
fn take(
    compiled: &CompiledPlugin,
    bytes: &[u8],
    key: &[u8; 32],
) -> Result<Option<wasmtime::Module>> {
    let mut wizer = Wizer::new();
    wizer.init_func(crate::abi::EXPORT_INIT);
    let (cx, instrumented) = match wizer.instrument(bytes) {
        Ok(v) => v,
        Err(e) => return Ok(fallback(compiled, &format!("{e:#}"))),
    };
    let engine = compiled.engine();
    let pre = match wasmtime::Module::new(engine.wasmtime(), &instrumented)
        .and_then(|m| compiled.link(&m))
    {
        Ok(pre) => pre,
        Err(e) => return Ok(fallback(compiled, &format!("{e:#}"))),
    };
    // Taken once at load, by whoever loads: the async flavour works on any thread.
    let flavour = Flavour::Async;
    let mut instance = block_on(Instance::from_pre(compiled, &pre, true, None, flavour))?;
    let Some((store, instance)) = instance.parts() else {
        return Ok(fallback(compiled, "not a core module"));
    };
    let snapshot = block_on(wizer.snapshot(&cx, &mut Live { store, instance }));
    let snapshot = match snapshot {
        Ok(s) => s,
        Err(e) => return Ok(fallback(compiled, &format!("{e:#}"))),
    };
    match engine.compile(&snapshot, key) {
        Ok((module, _)) => Ok(Some(module)),
        Err(e) => Ok(fallback(compiled, &format!("{e:#}"))),
    }
}

fn fallback<T>(compiled: &CompiledPlugin, why: &str) -> Option<T> {
    tracing::warn!(
        plugin = compiled.name(),
        "not pre-initialised (each instance runs `_initialize` and `init`): {why}"
    );
    None
}

/// The cache key of a snapshot: the module and everything its `init` could read.
fn cache_key(compiled: &CompiledPlugin) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"wasmplug preinit v1\0");
    h.update(compiled.sha256().as_bytes());
    h.update(compiled.init_config());
    for (name, value) in compiled.env() {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((value.len() as u64).to_le_bytes());
        h.update(value.as_bytes());
    }
    for mount in &compiled.capabilities().fs {
        h.update(mount.to_string().as_bytes());
        h.update(b"\0");
    }
    h.finalize().into()
}

/// An initialised instance as wizer reads it.
struct Live<'a> {
    store: &'a mut wasmtime::Store<HostState>,
    instance: wasmtime::Instance,
}

impl InstanceState for Live<'_> {
    async fn global_get(&mut self, name: &str, _: ValType) -> SnapshotVal {
        let global = self
            .instance
            .get_global(&mut *self.store, name)
            .expect("wizer exported this global");
        match global.get(&mut *self.store) {
            wasmtime::Val::I32(x) => SnapshotVal::I32(x),
            wasmtime::Val::I64(x) => SnapshotVal::I64(x),
            wasmtime::Val::F32(x) => SnapshotVal::F32(x),
            wasmtime::Val::F64(x) => SnapshotVal::F64(x),
            wasmtime::Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            // `instrument` refuses modules with reference-typed mutable globals.
            _ => unreachable!("wizer snapshots only numeric globals"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self
            .instance
            .get_memory(&mut *self.store, name)
            .expect("wizer exported this memory");
        contents(memory.data(&*self.store))
    }
}
