//! Sandbox flags shared by `run` and `inspect`: grants and limits that add to (or override)
//! what the manifest says.

use std::path::{Path, PathBuf};

use wasmplug::{
    ByteSize, Capabilities, EngineConfig, EnvGrant, FsMount, Limits, Manifest, NetPattern,
    PluginBuilder,
};

/// Grants and limits given on the command line.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SandboxArgs {
    /// Mount a host directory: HOST[:GUEST][:ro|rw] (read-only unless `:rw`). Repeatable.
    #[arg(long = "allow-fs", value_name = "HOST[:GUEST][:ro|rw]")]
    allow_fs: Vec<FsMount>,
    /// Grant an environment variable: NAME=VALUE, or NAME to pass the host's value. Repeatable.
    #[arg(long = "allow-env", value_name = "NAME[=VALUE]")]
    allow_env: Vec<EnvGrant>,
    /// Allow an outbound destination, e.g. https://api.example.com or http://*.internal:8080.
    #[arg(long = "allow-net", value_name = "URL_PATTERN")]
    allow_net: Vec<NetPattern>,
    /// Memory limit for all memories and tables of an instance, e.g. 32MiB.
    #[arg(long, value_name = "SIZE")]
    memory: Option<ByteSize>,
    /// Wall-clock limit per call, e.g. 500ms or 5s.
    #[arg(long, value_name = "DURATION", value_parser = wasmplug::parse_duration)]
    timeout: Option<std::time::Duration>,
    /// Instruction budget per call (enables fuel metering).
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Directory of the compiled-module cache [default: $WASMPLUG_CACHE_DIR, else
    /// $XDG_CACHE_HOME/wasmplug, else ~/.cache/wasmplug].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Compile without reading or writing the compiled-module cache.
    #[arg(long)]
    no_cache: bool,
    /// Directory of the plugins' persistent key-value store (`kv.redb`); by default
    /// $WASMPLUG_DATA_DIR, else ~/.local/share/wasmplug.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Extra configuration for the plugin's `init`, as KEY=VALUE (repeatable).
    #[arg(long = "config", short = 'c', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    config: Vec<(String, String)>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

impl SandboxArgs {
    /// The manifest's limits (or the defaults) with the flags applied.
    pub fn limits(&self, base: Limits) -> Limits {
        Limits {
            memory: self.memory.unwrap_or(base.memory),
            timeout: self.timeout.or(base.timeout),
            fuel: self.fuel.or(base.fuel),
            ..base
        }
    }

    /// The grants given by the flags.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            fs: self.allow_fs.clone(),
            env: self.allow_env.clone(),
            net: self.allow_net.clone(),
        }
    }

    /// The config values given by the flags.
    pub fn config(&self) -> &[(String, String)] {
        &self.config
    }

    /// The limits `plugin` runs with: its manifest's (or the defaults) with the flags applied.
    pub fn limits_for(&self, plugin: &Path) -> wasmplug::Result<Limits> {
        let base = if is_manifest(plugin) {
            Manifest::from_file(plugin)?.limits
        } else {
            Limits::default()
        };
        Ok(self.limits(base))
    }

    /// The engine settings a builder made by [`SandboxArgs::builder`] uses by default for
    /// `plugin` (what its limits need, and the cache directory).
    pub fn engine_config(&self, plugin: &Path) -> wasmplug::Result<EngineConfig> {
        Ok(EngineConfig {
            cache_dir: self.cache_dir(),
            ..EngineConfig::for_limits(&self.limits_for(plugin)?)
        })
    }

    /// A builder for `plugin` with the flags applied on top of its manifest.
    pub fn builder(&self, plugin: &Path) -> wasmplug::Result<PluginBuilder> {
        let mut builder = PluginBuilder::new().limits(self.limits_for(plugin)?);
        if let Some(dir) = self.cache_dir() {
            builder = builder.cache_dir(dir);
        }
        for mount in &self.allow_fs {
            builder = builder.allow_fs(mount.clone());
        }
        for grant in &self.allow_env {
            builder = builder.allow_env(grant.clone());
        }
        for pattern in &self.allow_net {
            builder = builder.allow_net(pattern.clone());
        }
        for (key, value) in &self.config {
            builder = builder.config(key, value);
        }
        if let Some(dir) = &self.data_dir {
            builder = builder.data_dir(dir);
        }
        Ok(builder)
    }
}

impl SandboxArgs {
    /// The cache directory to use, if any.
    fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        self.cache_dir
            .clone()
            .or_else(wasmplug::dirs::default_cache_dir)
    }
}

/// Whether `path` names a manifest (by extension).
pub fn is_manifest(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}
