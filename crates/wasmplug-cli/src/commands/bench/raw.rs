//! The `--baseline` of `wasmplug bench`: the same guest driven by bare wasmtime.
//!
//! What a user of bare wasmtime would write: one `Linker` with WASI preview 1 (an empty
//! context: no grants) and stubs for the `wasmplug` imports, an `InstancePre`, the typed
//! functions looked up once per instance, and the ABI v1 steps done by hand (allocate, write
//! the input, call, read the output, deallocate). No deadline, memory limiter, stdio capture
//! or pool. `crates/wasmplug/benches/common/mod.rs` has the same driver for `cargo bench`.

use std::path::Path;

use anyhow::Context;
use wasmtime::{Caller, Engine, InstancePre, Linker, Memory, Module, Store, TypedFunc};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

/// Store data of a raw instance.
pub struct RawState {
    wasi: WasiP1Ctx,
    /// Set by the `wasmplug.set_error` stub during a call.
    guest_error: bool,
}

type PluginFn = TypedFunc<(u32, u32), i64>;

/// How a raw call failed, named like `wasmplug::Error::class()`.
pub type RawError = &'static str;

/// A guest compiled and pre-linked by bare wasmtime.
pub struct RawPlugin {
    pre: InstancePre<RawState>,
    has_initialize: bool,
    has_init: bool,
    /// The `init` input (the plugin's configuration as JSON).
    config: Vec<u8>,
}

impl RawPlugin {
    /// Compiles `module` (`.wasm` or `.wat`) on a bare engine: wasmtime's defaults, or its
    /// default pooling allocator when `pooling` (with `slots` instances, memories and
    /// tables instead of its defaults when given).
    pub fn load(
        module: &Path,
        pooling: bool,
        slots: Option<u32>,
        config: Vec<u8>,
    ) -> anyhow::Result<RawPlugin> {
        let mut wt = wasmtime::Config::new();
        if pooling {
            let mut pool = wasmtime::PoolingAllocationConfig::default();
            if let Some(n) = slots {
                pool.total_core_instances(n)
                    .total_memories(n)
                    .total_tables(n);
            }
            wt.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wt).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let module = Module::from_file(&engine, module)
            .map_err(|e| anyhow::anyhow!("{e:#}"))
            .with_context(|| format!("raw wasmtime cannot compile `{}`", module.display()))?;
        let mut linker: Linker<RawState> = Linker::new(&engine);
        link(&mut linker).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        // Other host functions (config, kv, http, log, the application's) trap if called:
        // the baseline measures the guest's own work.
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let has = |name: &str| module.get_export(name).is_some();
        Ok(RawPlugin {
            has_initialize: has("_initialize"),
            has_init: has("init"),
            pre: linker
                .instantiate_pre(&module)
                .map_err(|e| anyhow::anyhow!("{e:#}"))?,
            config,
        })
    }

    /// A fresh instance, after `_initialize` and `init(config)`, ready to call `function`.
    pub fn instantiate(&self, function: &str) -> Result<RawInstance, RawError> {
        let wasi = WasiCtxBuilder::new().build_p1();
        let state = RawState {
            wasi,
            guest_error: false,
        };
        let mut store = Store::new(self.pre.module().engine(), state);
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|_| "instantiate")?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or("missing_export")?;
        let typed = |store: &mut Store<RawState>, name: &str| -> Result<PluginFn, RawError> {
            instance
                .get_typed_func(&mut *store, name)
                .or_else(|_| instance.get_typed_func(&mut *store, &format!("wasmplug:{name}")))
                .map_err(|_| "function_not_found")
        };
        let mut raw = RawInstance {
            allocate: instance
                .get_typed_func(&mut store, "allocate")
                .map_err(|_| "missing_export")?,
            deallocate: instance
                .get_typed_func(&mut store, "deallocate")
                .map_err(|_| "missing_export")?,
            func: typed(&mut store, function)?,
            memory,
            store,
        };
        if self.has_initialize {
            let f: TypedFunc<(), ()> = instance
                .get_typed_func(&mut raw.store, "_initialize")
                .map_err(|_| "export_type")?;
            f.call(&mut raw.store, ()).map_err(|_| "trap")?;
        }
        if self.has_init {
            let init = typed(&mut raw.store, "init")?;
            raw.invoke(init, &self.config)?;
        }
        Ok(raw)
    }
}

/// WASI preview 1 and stubs for the `wasmplug` imports.
fn link(linker: &mut Linker<RawState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |s: &mut RawState| &mut s.wasi)?;
    linker.func_wrap(
        "wasmplug",
        "set_error",
        |mut caller: Caller<'_, RawState>, _ptr: u32, _len: u32, _code: i32| {
            caller.data_mut().guest_error = true;
        },
    )?;
    linker.func_wrap(
        "wasmplug",
        "panic",
        |_: Caller<'_, RawState>, _ptr: u32, _len: u32| -> wasmtime::Result<()> {
            Err(wasmtime::format_err!("guest panicked"))
        },
    )?;
    Ok(())
}

/// One raw instance, ready to call its function.
pub struct RawInstance {
    store: Store<RawState>,
    memory: Memory,
    allocate: TypedFunc<u32, u32>,
    deallocate: TypedFunc<(u32, u32), ()>,
    func: PluginFn,
}

impl RawInstance {
    /// Calls the function with `input`, by the ABI v1 protocol.
    pub fn call(&mut self, input: &[u8]) -> Result<Vec<u8>, RawError> {
        self.invoke(self.func.clone(), input)
    }

    fn invoke(&mut self, func: PluginFn, input: &[u8]) -> Result<Vec<u8>, RawError> {
        let len = u32::try_from(input.len()).map_err(|_| "input_too_large")?;
        let ptr = if len == 0 {
            0
        } else {
            let ptr = self
                .allocate
                .call(&mut self.store, len)
                .map_err(|_| "trap")?;
            self.memory
                .write(&mut self.store, ptr as usize, input)
                .map_err(|_| "memory_out_of_bounds")?;
            ptr
        };
        let packed = func.call(&mut self.store, (ptr, len)).map_err(|_| "trap")?;
        if std::mem::take(&mut self.store.data_mut().guest_error) {
            return Err("guest");
        }
        let (out_ptr, out_len) = ((packed as u64 >> 32) as u32, packed as u32);
        if out_len == 0 {
            return Ok(Vec::new());
        }
        let mut out = vec![0; out_len as usize];
        self.memory
            .read(&self.store, out_ptr as usize, &mut out)
            .map_err(|_| "memory_out_of_bounds")?;
        self.deallocate
            .call(&mut self.store, (out_ptr, out_len))
            .map_err(|_| "trap")?;
        Ok(out)
    }
}
