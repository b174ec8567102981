//! A plugin checked against the ABI and compiled to machine code, ready to instantiate.
//!
//! Compilation happens once; every instance (and every [`crate::Plugin`] built from the same
//! [`CompiledPlugin`]) is created from the pre-linked form without compiling again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::{InstancePre, ModuleExport};

use crate::abi::{ModuleInfo, PluginInterface, PluginMeta};
use crate::cache::CacheOutcome;
use crate::capability::Capabilities;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::host::{Flavour, HostState};
use crate::host_fn::{HostConfig, Services};
use crate::limits::Limits;
use crate::policy::InstancePolicy;
use crate::requirements::Requirements;
use crate::trust::{Signer, TrustPolicy};

/// Where a plugin was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PluginSource {
    /// A `plugin.toml` manifest.
    Manifest(PathBuf),
    /// A module file (`.wasm` or `.wat`) without manifest.
    File(PathBuf),
    /// Bytes handed over by the application.
    Bytes,
}

/// A compiled, validated plugin. Cheap to clone.
#[derive(Clone)]
pub struct CompiledPlugin {
    inner: Arc<Inner>,
}

/// The pre-linked form instances are created from: the plugin's kind, chosen once here.
#[derive(Clone)]
pub(crate) enum Pre {
    /// A core module (ABI v1), linked in both flavours.
    Module(ModulePre),
    /// A component of the `wasmplug:plugin` world.
    Component(wasmtime::component::InstancePre<HostState>),
    /// A `wasi:http/proxy` component (`kind = "wasi-http"`).
    Http(wasmtime_wasi_http::p2::bindings::ProxyPre<HostState>),
}

/// A core module linked once per [`Flavour`] (see there for why there are two), with the
/// exports an instance uses.
#[derive(Clone)]
pub(crate) struct ModulePre {
    pres: [InstancePre<HostState>; 2],
    exports: Arc<ExportIndices>,
}

impl ModulePre {
    /// The pre-linked module of `flavour`.
    pub(crate) fn get(&self, flavour: Flavour) -> &InstancePre<HostState> {
        match flavour {
            Flavour::Async => &self.pres[0],
            Flavour::Sync => &self.pres[1],
        }
    }

    /// The exports every instance resolves, found once in the module.
    pub(crate) fn exports(&self) -> &ExportIndices {
        &self.exports
    }
}

/// The exports an instance resolves when it is created, as indices into the module:
/// looking an export up by name hashes the name, four times or more for every per-call
/// instance (`None`: the module lacks it; the instance reports that when it is created).
pub(crate) struct ExportIndices {
    pub(crate) memory: Option<ModuleExport>,
    pub(crate) allocate: Option<ModuleExport>,
    pub(crate) deallocate: Option<ModuleExport>,
    pub(crate) initialize: Option<ModuleExport>,
    pub(crate) init: Option<ModuleExport>,
    /// Indexed like `PluginInterface::function_exports`.
    pub(crate) functions: Vec<Option<ModuleExport>>,
}

impl ExportIndices {
    fn of(module: &wasmtime::Module, function_exports: &[String]) -> ExportIndices {
        let index = |name: &str| module.get_export_index(name);
        ExportIndices {
            memory: index(crate::abi::EXPORT_MEMORY),
            allocate: index(crate::abi::EXPORT_ALLOCATE),
            deallocate: index(crate::abi::EXPORT_DEALLOCATE),
            initialize: index(crate::abi::EXPORT_INITIALIZE),
            init: index(crate::abi::EXPORT_INIT),
            functions: function_exports.iter().map(|name| index(name)).collect(),
        }
    }
}

#[derive(Clone)]
struct Inner {
    engine: Engine,
    pre: Pre,
    /// A component's world (`None` for a core module).
    component: Option<crate::component::ComponentInfo>,
    interface: PluginInterface,
    info: ModuleInfo,
    limits: Limits,
    policy: InstancePolicy,
    capabilities: Capabilities,
    /// The guest's environment, resolved once from the grants.
    env: Vec<(String, String)>,
    config: BTreeMap<String, String>,
    init_config: Vec<u8>,
    source: PluginSource,
    sha256: String,
    cache: CacheOutcome,
    deadline_ticks: u64,
    services: Arc<Services>,
    /// Whether `instance_pre` is a pre-initialised snapshot (no `_initialize`/`init` per
    /// instance).
    preinitialized: bool,
    /// The module bytes, kept until a snapshot is taken (`instances.preinit`).
    preinit_source: Option<Arc<[u8]>>,
    /// The application's host functions, to link a snapshot like the module.
    host_functions: crate::host_fn::HostFunctions,
    requirements: Requirements,
    signer: Option<Signer>,
}

impl std::fmt::Debug for CompiledPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPlugin")
            .field("meta", &self.inner.interface.meta)
            .field("functions", &self.inner.interface.functions)
            .field("source", &self.inner.source)
            .finish_non_exhaustive()
    }
}

/// What [`CompiledPlugin::compile`] needs besides the bytes.
pub(crate) struct CompileRequest {
    pub engine: Engine,
    pub limits: Limits,
    pub policy: InstancePolicy,
    pub capabilities: Capabilities,
    pub config: BTreeMap<String, String>,
    pub source: PluginSource,
    /// Name and version the module must declare (from a manifest).
    pub expect: Option<(String, semver::Version)>,
    /// Host functions, kv store and HTTP client of the application.
    pub host: HostConfig,
    /// Which signatures are accepted (checked before anything else is read).
    pub trust: TrustPolicy,
    /// Requirements from the manifest (joined with those of `wasmplug.meta`).
    pub requires: Requirements,
}

impl CompiledPlugin {
    /// Checks `bytes` (binary or text format) and compiles them.
    pub(crate) fn compile(bytes: &[u8], req: CompileRequest) -> Result<CompiledPlugin> {
        let limit = req.limits.max_module_size.bytes();
        if bytes.len() as u64 > limit {
            return Err(Error::ModuleTooLarge {
                size: bytes.len() as u64,
                limit,
            });
        }
        let bytes = crate::abi::to_binary(bytes)?;
        let bytes = &bytes[..];
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let signer = crate::trust::verify_before_parse(
            &req.trust,
            bytes,
            req.expect.as_ref(),
            &hex::encode(sha256),
        )?;
        let is_component = crate::component::is_component(bytes);
        // A component is compiled first: its world says whether it is a wasmplug plugin
        // or a `wasi:http` handler (whose metadata is the manifest's).
        let compiled_component = if is_component {
            Some(compile_component(&req.engine, bytes, &sha256)?)
        } else {
            None
        };
        let (info, interface) = match &compiled_component {
            Some((_, world, _)) => {
                let info = crate::component::component_module_info(bytes)?;
                let interface = if crate::component::http::is_proxy(world) {
                    http_interface(req.expect.as_ref())?
                } else {
                    if !world.problems.is_empty() {
                        // Name the missing sections first when they are missing too.
                        PluginInterface::check_sections(&info, bytes)?;
                        return Err(Error::invalid_plugin(format!(
                            "not a wasmplug component: {}",
                            world.problems.join("; ")
                        )));
                    }
                    PluginInterface::check_sections(&info, bytes)?
                };
                (info, interface)
            }
            None => {
                // A cached module was compiled, and so fully validated, by wasmtime before:
                // skip validating its function bodies again (most of the parse time).
                let info = ModuleInfo::parse_with(bytes, !req.engine.is_cached(&sha256))?;
                let interface = PluginInterface::check(&info, bytes)?;
                (info, interface)
            }
        };
        if let Some((name, version)) = &req.expect {
            let meta = &interface.meta;
            if meta.name.as_str() != name || &meta.version != version {
                return Err(Error::invalid_plugin(format!(
                    "the manifest says `{name}` {version} but the module declares `{}` {}; rebuild the module or fix the manifest",
                    meta.name, meta.version
                )));
            }
        }
        let requirements = req.requires.merged(&interface.meta.requires);
        requirements.check(interface.meta.name.as_str(), &req.host.functions)?;
        let started = std::time::Instant::now();
        let link_err =
            |e: wasmtime::Error| super::link_errors::link_error(interface.meta.name.as_str(), &e);
        let (pre, cache, component) = if let Some((component, world, cache)) = compiled_component {
            let linker = req.engine.component_linker();
            let pre = linker.instantiate_pre(&component).map_err(|e| {
                Error::invalid_plugin(format!(
                    "the component imports something the host does not provide: {e:#}"
                ))
            })?;
            let pre = if crate::component::http::is_proxy(&world) {
                Pre::Http(
                    wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre).map_err(|e| {
                        Error::invalid_plugin(format!("not a wasi:http/proxy component: {e:#}"))
                    })?,
                )
            } else {
                Pre::Component(pre)
            };
            (pre, cache, Some(world))
        } else {
            let (module, cache) = req
                .engine
                .compile(bytes, &sha256)
                .map_err(|e| super::link_errors::compile_error(&e))?;
            for import in &info.imports {
                if import.module != crate::abi::HOST_MODULE
                    && import.module != crate::abi::WASI_MODULE
                {
                    req.host
                        .functions
                        .check_import(&import.module, &import.name, &import.ty)?;
                }
            }
            let pre = link(
                &req.engine,
                &req.host.functions,
                &module,
                &interface.function_exports,
            )
            .map_err(link_err)?;
            (Pre::Module(pre), cache, None)
        };
        req.limits.validate()?;
        req.engine.check_limits(&req.limits)?;
        req.policy.validate().map_err(Error::invalid_plugin)?;
        req.capabilities.validate()?;
        let env = req
            .capabilities
            .env
            .iter()
            .filter_map(|g| g.resolve())
            .collect();
        tracing::debug!(
            plugin = %interface.meta.name,
            cache = ?cache,
            elapsed = ?started.elapsed(),
            "compiled module"
        );
        let deadline_ticks = req.limits.timeout.map_or(
            crate::epoch::MAX_DEADLINE_TICKS,
            crate::epoch::timeout_ticks,
        );
        let init_config = serde_json::to_vec(&req.config).expect("string map serialises");
        let services = Arc::new(Services::new(
            &interface.meta,
            &interface.functions,
            &req.config,
            &req.limits,
            &req.capabilities.net,
            &req.host,
        ));
        // Nothing to snapshot for a module without start-up code.
        // Components are not snapshotted (wizer works on core modules): their instances
        // run `init` each (docs/components.md says what that costs).
        let preinit_source = (req.policy.preinit
            && !is_component
            && (interface.has_initialize || interface.has_init))
            .then(|| Arc::from(bytes));
        Ok(CompiledPlugin {
            inner: Arc::new(Inner {
                engine: req.engine,
                pre,
                component,
                interface,
                info,
                limits: req.limits,
                policy: req.policy.clone(),
                capabilities: req.capabilities,
                env,
                config: req.config,
                init_config,
                source: req.source,
                sha256: hex::encode(sha256),
                cache,
                deadline_ticks,
                services,
                preinitialized: false,
                preinit_source,
                host_functions: req.host.functions.clone(),
                requirements,
                signer,
            }),
        })
    }

    /// The plugin's metadata.
    pub fn meta(&self) -> &PluginMeta {
        &self.inner.interface.meta
    }

    /// The name of the plugin.
    pub fn name(&self) -> &str {
        self.inner.interface.meta.name.as_str()
    }

    /// The checked ABI interface: version, metadata, functions.
    pub fn interface(&self) -> &PluginInterface {
        &self.inner.interface
    }

    /// Static facts about the module (imports, exports, memories).
    pub fn module_info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    /// The limits applied to this plugin's instances and calls.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Epoch ticks of the deadline armed for each call (computed once).
    pub(crate) fn deadline_ticks(&self) -> u64 {
        self.inner.deadline_ticks
    }

    /// How instances are pooled and isolated.
    pub fn policy(&self) -> &InstancePolicy {
        &self.inner.policy
    }

    /// What the plugin is granted.
    pub fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }

    pub(crate) fn env(&self) -> &[(String, String)] {
        &self.inner.env
    }

    /// The configuration handed to `init`.
    pub fn config(&self) -> &BTreeMap<String, String> {
        &self.inner.config
    }

    /// Where the plugin came from.
    pub fn source(&self) -> &PluginSource {
        &self.inner.source
    }

    /// Whether compilation was served by the compiled-module cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.inner.cache
    }

    /// Lowercase hex sha256 of the (binary) module.
    pub fn sha256(&self) -> &str {
        &self.inner.sha256
    }

    /// What the plugin requires of its host (manifest and `wasmplug.meta` joined).
    pub fn requirements(&self) -> &Requirements {
        &self.inner.requirements
    }

    /// The trusted publisher whose signature was accepted, when a trust policy checked one.
    pub fn signer(&self) -> Option<&Signer> {
        self.inner.signer.as_ref()
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn pre(&self) -> &Pre {
        &self.inner.pre
    }

    /// A component's world: its imports and exports with their types (`None` for a core
    /// module).
    pub fn component(&self) -> Option<&crate::component::ComponentInfo> {
        self.inner.component.as_ref()
    }

    /// Whether this plugin is a component (rather than a core module).
    pub fn is_component(&self) -> bool {
        self.inner.component.is_some()
    }

    pub(crate) fn services(&self) -> &Arc<Services> {
        &self.inner.services
    }

    /// Whether instances start from a pre-initialised snapshot.
    pub(crate) fn preinitialized(&self) -> bool {
        self.inner.preinitialized
    }

    /// Whether instances start from a pre-initialised snapshot (`instances.preinit`, and
    /// the module could be snapshotted).
    pub fn is_preinitialized(&self) -> bool {
        self.inner.preinitialized
    }

    /// The module bytes, while a snapshot may still be taken.
    pub(crate) fn preinit_source(&self) -> Option<&Arc<[u8]>> {
        self.inner.preinit_source.as_ref()
    }

    /// Links `module` (a snapshot of this plugin) like the plugin's own module.
    pub(crate) fn link(&self, module: &wasmtime::Module) -> wasmtime::Result<ModulePre> {
        link(
            &self.inner.engine,
            &self.inner.host_functions,
            module,
            &self.inner.interface.function_exports,
        )
    }

    /// This plugin, instantiated from `pre` (a snapshot) from now on; `None` keeps the
    /// original (the module could not be snapshotted).
    pub(crate) fn with_snapshot(&self, pre: Option<ModulePre>) -> CompiledPlugin {
        let mut inner = Inner::clone(&self.inner);
        inner.preinit_source = None;
        if let Some(pre) = pre {
            inner.pre = Pre::Module(pre);
            inner.preinitialized = true;
        }
        CompiledPlugin {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn init_config(&self) -> &[u8] {
        &self.inner.init_config
    }
}

/// Compiles a component (through the cache) and describes its world.
fn compile_component(
    engine: &Engine,
    bytes: &[u8],
    sha256: &[u8; 32],
) -> Result<(
    wasmtime::component::Component,
    crate::component::ComponentInfo,
    CacheOutcome,
)> {
    let (component, cache) =
        engine
            .compile_component(bytes, sha256)
            .map_err(|e| Error::InvalidWasm {
                section: None,
                offset: None,
                message: format!("{e:#}"),
            })?;
    let world = crate::component::describe(engine.wasmtime(), &component);
    Ok((component, world, cache))
}

/// The interface of a `wasi:http` component: the manifest's name and version, one entry
/// point.
fn http_interface(expect: Option<&(String, semver::Version)>) -> Result<PluginInterface> {
    let Some((name, version)) = expect else {
        return Err(Error::invalid_plugin(
            "a wasi:http component carries no wasmplug metadata: load it through a plugin.toml (`kind = \"wasi-http\"`) that names it",
        ));
    };
    let name = crate::PluginName::new(name.clone()).map_err(Error::invalid_plugin)?;
    Ok(PluginInterface {
        abi_version: 1,
        meta: PluginMeta {
            name,
            version: version.clone(),
            description: String::new(),
            author: String::new(),
            requires: Default::default(),
        },
        functions: vec![crate::component::http::HTTP_FUNCTION.to_string()],
        function_exports: vec![crate::component::http::HTTP_FUNCTION.to_string()],
        has_init: false,
        has_initialize: false,
    })
}

/// Whether this compiled plugin is a `wasi:http` handler.
impl CompiledPlugin {
    /// Whether the plugin is a `wasi:http/proxy` component, served with
    /// [`crate::Plugin::handle_http`].
    pub fn is_http(&self) -> bool {
        matches!(self.inner.pre, Pre::Http(_))
    }
}

/// Links `module` with the engine's host functions and WASI, plus the application's, in
/// both flavours, and finds the exports its instances use (`function_exports`: the plugin
/// functions').
fn link(
    engine: &Engine,
    functions: &crate::host_fn::HostFunctions,
    module: &wasmtime::Module,
    function_exports: &[String],
) -> wasmtime::Result<ModulePre> {
    let link = |flavour| {
        let linker = engine.linker(flavour);
        if functions.is_empty() {
            linker.instantiate_pre(module)
        } else {
            let mut linker = linker.clone();
            functions.link(&mut linker, flavour)?;
            linker.instantiate_pre(module)
        }
    };
    Ok(ModulePre {
        pres: [link(Flavour::Async)?, link(Flavour::Sync)?],
        exports: Arc::new(ExportIndices::of(module, function_exports)),
    })
}
