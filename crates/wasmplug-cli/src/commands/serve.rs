//! `wasmplug serve`: the HTTP gateway over a plugin directory (see docs/gateway.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use wasmplug::{Registry, RegistryConfig, TrustPolicy};
use wasmplug_gateway::{AdminToken, AppState, GatewayConfig};

/// Serve a directory of plugins over HTTP.
#[derive(Debug, clap::Args)]
pub struct Serve {
    /// Gateway config file (`wasmplug.toml`); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Plugin directory: one `<name>/plugin.toml` folder per plugin [default: examples/plugins].
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// Listening address [default: 127.0.0.1:8080]; port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    addr: Option<SocketAddr>,
    /// Do not watch the plugin directory for changes.
    #[arg(long)]
    no_watch: bool,
    /// File holding the admin bearer token (otherwise $WASMPLUG_ADMIN_TOKEN).
    #[arg(long, value_name = "FILE")]
    admin_token_file: Option<PathBuf>,
    /// Directory of the compiled-module cache [default: $WASMPLUG_CACHE_DIR, else
    /// $XDG_CACHE_HOME/wasmplug, else ~/.cache/wasmplug].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Compile without reading or writing the compiled-module cache.
    #[arg(long)]
    no_cache: bool,
    /// Directory of the plugins' persistent key-value store (`kv.redb`, opened when a plugin
    /// first uses it) [default: $WASMPLUG_DATA_DIR, else ~/.local/share/wasmplug].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl Serve {
    /// The configuration: the file (if any) with the flags applied.
    fn gateway_config(&self) -> anyhow::Result<GatewayConfig> {
        let mut config = match &self.config {
            Some(path) => GatewayConfig::from_file(path)?,
            None => GatewayConfig::default(),
        };
        if let Some(dir) = &self.plugins {
            config.plugin_dir = dir.clone();
        }
        if let Some(addr) = self.addr {
            config.addr = addr;
        }
        if self.no_watch || config.sync.is_some() {
            // With [sync] the shared state decides what serves: local file edits would make
            // this replica diverge (changes go through the admin API or the OCI registry).
            config.hot_reload = false;
        }
        if let Some(file) = &self.admin_token_file {
            config.admin.token_file = Some(file.clone());
        }
        if self.no_cache {
            config.cache_dir = None;
        } else if let Some(dir) = self.cache_dir.clone().or_else(|| config.cache_dir.clone()) {
            config.cache_dir = Some(dir);
        } else {
            config.cache_dir = wasmplug::dirs::default_cache_dir();
        }
        if !config.plugin_dir.is_dir() && config.sync.is_some() {
            // Versions learnt from the other replicas are written there.
            std::fs::create_dir_all(&config.plugin_dir)
                .with_context(|| format!("cannot create `{}`", config.plugin_dir.display()))?;
        }
        if !config.plugin_dir.is_dir() {
            // With `[[oci]]` sources a gateway needs no plugin directory.
            if !config.oci.is_empty() {
                return Ok(config);
            }
            bail!(
                "plugin directory `{}` not found; pass --plugins DIR (the bundled examples are built by scripts/build-guests.sh)",
                config.plugin_dir.display()
            );
        }
        // Canonical, so that the watcher's paths and the registry's manifest paths agree.
        config.plugin_dir = config
            .plugin_dir
            .canonicalize()
            .with_context(|| format!("cannot resolve `{}`", config.plugin_dir.display()))?;
        Ok(config)
    }

    /// Runs the gateway until Ctrl-C or SIGTERM.
    pub fn execute(self) -> anyhow::Result<()> {
        let config = self.gateway_config()?;
        let admin = config.admin_token()?;
        let metrics =
            wasmplug_gateway::install_metrics().context("cannot install the metrics recorder")?;
        let trust = TrustPolicy::from_config(&config.trust).context("cannot set up `[trust]`")?;
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(wasmplug::HostConfig::default_data_dir);
        let mut registry_config = RegistryConfig {
            cache_dir: config.cache_dir.clone(),
            // Weights, rules and rollback targets set through the admin API survive restarts.
            state_dir: Some(data_dir.clone()),
            routing: config.routing.clone(),
            trust,
            allow_breaking: config.contract.allow_breaking,
            ..RegistryConfig::default()
        };
        registry_config.host.data_dir = Some(data_dir);
        registry_config.sync = config.sync.as_ref().map(|s| s.config(&config.plugin_dir));
        registry_config.host.kv = config.kv.store().context("invalid [kv] config")?;
        let kv_note = registry_config
            .host
            .kv
            .as_ref()
            .map(|s| s.describe().to_owned());
        let registry = Registry::new(registry_config);
        let admin_note = admin_note(&config, admin.as_ref());
        let state = AppState::new(registry.clone(), config.clone())
            .with_metrics(metrics)
            .with_admin_token(admin);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("wasmplug-gateway")
            .build()
            .context("cannot start the async runtime")?;
        let result = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(config.addr)
                .await
                .with_context(|| format!("cannot listen on {}", config.addr))?;
            let addr = listener.local_addr()?;
            println!("wasmplug gateway listening on http://{addr}");
            if let Some(kv) = &kv_note {
                println!("kv: {kv}");
            }
            let server = tokio::spawn(wasmplug_gateway::serve(
                listener,
                state.clone(),
                wasmplug_gateway::shutdown_signal(),
            ));
            let dir = config.plugin_dir.clone();
            let loader = registry.clone();
            let watch = config.hot_reload;
            let watcher = tokio::task::spawn_blocking(move || load(&loader, &dir, watch))
                .await
                .context("loading the plugins failed")??;
            super::serve_oci::load(&registry, &config).await;
            check_routing(&registry, &config)?;
            super::serve_sync::start(&registry).await?;
            state.set_ready(true);
            println!("admin API: {admin_note}");
            println!("ready; try:\n  {}", example_curl(addr));
            let served = server.await.context("the server task failed")?;
            drop(watcher);
            served.context("the server failed")
        });
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        result
    }
}

/// Fails when a plugin's configured rollout rules could not be applied (e.g. a rule whose
/// version range matches no loaded version), naming the reason.
fn check_routing(registry: &Registry, config: &GatewayConfig) -> anyhow::Result<()> {
    for (plugin, rules) in &config.routing {
        let loaded = registry.plugins().iter().any(|p| &p.name == plugin);
        if !loaded {
            bail!("[routing.{plugin}] names a plugin that is not loaded");
        }
        if registry.rules(plugin).is_none() {
            registry
                .set_rules(plugin, Some(rules.clone()))
                .context("the configured rollout rules cannot be applied")?;
        }
    }
    Ok(())
}

/// Loads every plugin of `dir` and prints one line per plugin; starts the watcher.
fn load(registry: &Registry, dir: &Path, watch: bool) -> anyhow::Result<Option<wasmplug::Watcher>> {
    if !dir.is_dir() {
        println!("no plugin directory ({} not found)", dir.display());
        return Ok(None);
    }
    // The watcher starts first: a plugin folder added while the directory is being loaded
    // is then seen by one or the other (the registry judges identical files once), never
    // by neither.
    let watcher = if watch {
        Some(registry.watch(dir)?)
    } else {
        None
    };
    let results = registry
        .load_dir(dir)
        .with_context(|| format!("cannot read the plugin directory `{}`", dir.display()))?;
    println!(
        "plugins from {} (hot reload {}):",
        dir.display(),
        if watch { "on" } else { "off" }
    );
    let functions = |name: &str| {
        registry
            .plugins()
            .into_iter()
            .find(|p| p.name == name)
            .and_then(|p| p.versions.last().map(|v| v.functions.join(", ")))
            .unwrap_or_default()
    };
    for (manifest, result) in &results {
        let folder = manifest
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match result {
            Ok(version) => println!("  {folder} {version}: {}", functions(&folder)),
            Err(e) => println!("  {folder}: not loaded ({}): {e}", e.class()),
        }
    }
    if results.is_empty() {
        println!("  (none yet; add <name>/plugin.toml folders)");
    }
    Ok(watcher)
}

fn admin_note(config: &GatewayConfig, token: Option<&AdminToken>) -> String {
    match (token, &config.admin.token_file) {
        (None, _) => format!(
            "off (set ${} or pass --admin-token-file to enable /v1/admin)",
            config.admin.token_env
        ),
        (Some(_), Some(file)) => format!("on (token from {})", file.display()),
        (Some(_), None) => format!("on (token from ${})", config.admin.token_env),
    }
}

/// The ready-to-paste call of the json-transformer, in envelope mode.
pub fn example_curl(addr: SocketAddr) -> String {
    format!(
        "curl -s -H 'X-Wasmplug-Envelope: 1' -H 'X-Request-Id: req-001' -d '{{\"action\":\"transform\"}}' http://{addr}/v1/plugins/json-transformer/execute"
    )
}
