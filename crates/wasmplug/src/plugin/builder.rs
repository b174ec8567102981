//! [`PluginBuilder`]: how an application loads a plugin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Plugin;
use super::compiled::{CompileRequest, CompiledPlugin, PluginSource};
use crate::capability::{Capabilities, EnvGrant, FsMount, NetPattern};
use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::host_fn::{HostConfig, HostFunctions, KvStore};
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::policy::{InstancePolicy, Isolation};
use crate::requirements::Requirements;
use crate::trust::TrustPolicy;

/// Loads plugins. By default it uses [`Engine::shared`], the manifest's limits (or
/// [`Limits::default`] without a manifest) and the manifest's `[config]`.
///
/// ```no_run
/// # fn main() -> wasmplug::Result<()> {
/// let plugin = wasmplug::Plugin::builder()
///     .config("greeting", "Howdy")
///     .load("examples/plugins/greet/plugin.toml")?;
/// assert_eq!(plugin.call("greet", b"Ada")?, b"Howdy, Ada!");
/// # Ok(()) }
/// ```
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct PluginBuilder {
    engine: Option<Engine>,
    config: BTreeMap<String, String>,
    limits: Option<Limits>,
    policy: Option<InstancePolicy>,
    isolation: Option<Isolation>,
    cache_dir: Option<PathBuf>,
    /// Replaces the manifest's grants when set.
    capabilities: Option<Capabilities>,
    /// Added to the grants.
    extra: Capabilities,
    host: HostConfig,
    trust: TrustPolicy,
    /// The manifest's `[requires]` (set while compiling from a manifest).
    requires: Requirements,
}

impl PluginBuilder {
    /// A builder with the defaults described above.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `engine` instead of the shared one.
    pub fn engine(mut self, engine: &Engine) -> Self {
        self.engine = Some(engine.clone());
        self
    }

    /// Adds (or overrides) one configuration value handed to the plugin's `init`.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    /// Replaces the limits (those of the manifest, or the defaults) entirely.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Caches compiled modules in `dir` (see [`EngineConfig::cache_dir`]). Applies when the
    /// builder picks the shared engine, not to an engine given with
    /// [`PluginBuilder::engine`].
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Replaces the instance policy (that of the manifest, or the default).
    pub fn instances(mut self, policy: InstancePolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Sets only the isolation mode, keeping the rest of the instance policy.
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = Some(isolation);
        self
    }

    /// Replaces all grants (those of the manifest included) with `capabilities`.
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Grants a directory mount, in addition to the manifest's grants.
    pub fn allow_fs(mut self, mount: FsMount) -> Self {
        self.extra.fs.push(mount);
        self
    }

    /// Grants an environment variable, in addition to the manifest's grants.
    pub fn allow_env(mut self, grant: EnvGrant) -> Self {
        self.extra.env.push(grant);
        self
    }

    /// Allows an outbound destination, in addition to the manifest's grants.
    pub fn allow_net(mut self, pattern: NetPattern) -> Self {
        self.extra.net.push(pattern);
        self
    }

    /// Host functions, kv store and HTTP client of the application (replaces earlier
    /// [`PluginBuilder::host_functions`] / [`PluginBuilder::kv_store`] calls).
    pub fn host(mut self, host: HostConfig) -> Self {
        self.host = host;
        self
    }

    /// The application's own host functions the plugin may import.
    pub fn host_functions(mut self, functions: HostFunctions) -> Self {
        self.host.functions = functions;
        self
    }

    /// Directory of the persistent kv store (`kv.redb`), instead of
    /// [`HostConfig::default_data_dir`].
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.host.data_dir = Some(dir.into());
        self
    }

    /// The key-value store behind `kv_*` (by default the persistent store in
    /// [`HostConfig::default_data_dir`]).
    pub fn kv_store(mut self, store: KvStore) -> Self {
        self.host.kv = Some(store);
        self
    }

    /// Checks every module against `policy` before reading it (signatures, publishers;
    /// docs/trust.md). By default no policy: modules load signed or not.
    pub fn trust(mut self, policy: TrustPolicy) -> Self {
        self.trust = policy;
        self
    }

    /// Loads a plugin from a `plugin.toml` manifest, a `.wasm` module or a `.wat` text file
    /// (decided by the extension: `.toml` means manifest).
    ///
    /// # Errors
    /// Any load error: [`Error::FileNotFound`], [`Error::Manifest`],
    /// [`Error::ChecksumMismatch`], [`Error::InvalidWasm`], [`Error::MissingExport`],
    /// [`Error::AbiVersionMismatch`], [`Error::InvalidPlugin`], or an error from `init`.
    pub fn load(self, path: impl AsRef<Path>) -> Result<Plugin> {
        Plugin::new(self.compile(path)?)
    }

    /// Loads a plugin from module bytes (binary or text format).
    ///
    /// # Errors
    /// As [`PluginBuilder::load`].
    pub fn from_bytes(self, bytes: &[u8]) -> Result<Plugin> {
        Plugin::new(self.compile_bytes(bytes)?)
    }

    /// Loads a plugin described by an already parsed manifest (its `wasm` path must be
    /// usable from the current directory; [`Manifest::from_file`] makes it so).
    ///
    /// # Errors
    /// As [`PluginBuilder::load`].
    pub fn from_manifest(self, manifest: &Manifest, manifest_path: &Path) -> Result<Plugin> {
        Plugin::new(self.compile_manifest(manifest, manifest_path)?)
    }

    /// Like [`PluginBuilder::load`] but stops after compiling: no instance is created and
    /// no guest code runs.
    ///
    /// # Errors
    /// As [`PluginBuilder::load`], minus errors from `init`.
    pub fn compile(self, path: impl AsRef<Path>) -> Result<CompiledPlugin> {
        let path = path.as_ref();
        if path.extension().is_some_and(|e| e == "toml") {
            let manifest = Manifest::from_file(path)?;
            return self.compile_manifest(&manifest, path);
        }
        let limits = self.limits.clone().unwrap_or_default();
        let bytes = read_module(path, &limits)?;
        self.finish(
            &bytes,
            limits,
            InstancePolicy::default(),
            Capabilities::default(),
            PluginSource::File(path.to_path_buf()),
            None,
        )
    }

    /// Like [`PluginBuilder::from_bytes`] but stops after compiling.
    ///
    /// # Errors
    /// As [`PluginBuilder::from_bytes`], minus errors from `init`.
    pub fn compile_bytes(self, bytes: &[u8]) -> Result<CompiledPlugin> {
        let limits = self.limits.clone().unwrap_or_default();
        self.finish(
            bytes,
            limits,
            InstancePolicy::default(),
            Capabilities::default(),
            PluginSource::Bytes,
            None,
        )
    }

    fn compile_manifest(mut self, manifest: &Manifest, path: &Path) -> Result<CompiledPlugin> {
        let limits = self
            .limits
            .take()
            .unwrap_or_else(|| manifest.limits.clone());
        let bytes = read_module(&manifest.wasm, &limits)?;
        if let Some(expected) = &manifest.sha256 {
            let found = hex::encode(Sha256::digest(&bytes));
            if &found != expected {
                return Err(Error::ChecksumMismatch {
                    path: manifest.wasm.clone(),
                    expected: expected.clone(),
                    found,
                });
            }
        }
        let binary = crate::abi::to_binary(&bytes)?;
        if crate::component::is_component(&binary) != manifest.kind.is_component() {
            return Err(Error::invalid_plugin(format!(
                "plugin.toml says `kind = \"{}\"` but `{}` is a {}; fix `kind` or rebuild",
                manifest.kind,
                manifest.wasm.display(),
                if crate::component::is_component(&binary) {
                    "component"
                } else {
                    "core module"
                }
            )));
        }
        drop(binary);
        self.requires = manifest.requires.clone();
        let mut config = manifest.config.clone();
        config.append(&mut self.config);
        self.config = config;
        let expect = Some((manifest.name.to_string(), manifest.version.clone()));
        let caps = manifest.capabilities.clone();
        let policy = manifest.instances.clone();
        let compiled = self.finish(
            &bytes,
            limits,
            policy,
            caps,
            PluginSource::Manifest(path.to_path_buf()),
            expect,
        )?;
        let http = manifest.kind == crate::PluginKind::WasiHttp;
        if compiled.is_http() != http {
            return Err(Error::invalid_plugin(format!(
                "plugin.toml says `kind = \"{}\"` but `{}` is {}; fix `kind` or rebuild",
                manifest.kind,
                manifest.wasm.display(),
                if compiled.is_http() {
                    "a wasi:http/proxy component (`kind = \"wasi-http\"`)"
                } else {
                    "a wasmplug:plugin component (`kind = \"component\"`)"
                }
            )));
        }
        Ok(compiled)
    }

    /// Compiles with the effective grants: `declared` (from the manifest, or none) unless
    /// replaced by [`PluginBuilder::capabilities`], plus the `allow_*` grants.
    fn finish(
        self,
        bytes: &[u8],
        limits: Limits,
        declared_policy: InstancePolicy,
        declared: Capabilities,
        source: PluginSource,
        expect: Option<(String, semver::Version)>,
    ) -> Result<CompiledPlugin> {
        let mut policy = self.policy.unwrap_or(declared_policy);
        if let Some(isolation) = self.isolation {
            policy.isolation = isolation;
        }
        let mut capabilities = self.capabilities.unwrap_or(declared);
        capabilities.extend(self.extra);
        CompiledPlugin::compile(
            bytes,
            CompileRequest {
                engine: match self.engine {
                    Some(engine) => engine,
                    None => Engine::shared_for(&EngineConfig {
                        cache_dir: self.cache_dir,
                        ..EngineConfig::for_limits(&limits)
                    })?,
                },
                limits,
                policy,
                capabilities,
                config: self.config,
                source,
                expect,
                host: self.host,
                trust: self.trust,
                requires: self.requires,
            },
        )
    }
}

/// Reads a module file, refusing it before reading if it is over `max_module_size`.
fn read_module(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    crate::file::read_regular(
        path,
        crate::file::Kind::Module,
        limits.max_module_size.bytes(),
    )
}
