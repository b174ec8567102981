//! The gateway's configuration, read from `wasmplug.toml`.
//!
//! ```toml
//! addr = "127.0.0.1:8080"          # listening address
//! plugin_dir = "plugins"           # one folder per plugin; relative to this file
//! cache_dir = "/var/cache/wasmplug" # compiled-module cache (optional)
//! hot_reload = true                # watch plugin_dir and reload changed plugins
//! body_limit = "4MiB"              # largest request body of a plugin call
//! grace_period = "10s"             # how long shutdown waits for in-flight calls
//! header_timeout = "10s"           # a complete request head within this, or the connection closes
//! body_timeout = "30s"             # a complete request body within this, or 408
//! max_connections = 1000           # default: from the descriptor limit
//!
//! [admin]                          # the admin API is off unless a token is found
//! token_env = "WASMPLUG_ADMIN_TOKEN" # environment variable holding the bearer token
//! token_file = "/run/secrets/wasmplug-admin" # or a file (wins over token_env)
//!
//! [plugins.json-transformer]       # per-plugin settings
//! envelope = true                  # JSON envelope mode (docs/gateway.md)
//!
//! [routing.greet]                  # rollout rules (wasmplug::RoutingRules)
//! default = { weights = { "1.0.0" = 95, "1.1.0" = 5 } }
//! [[routing.greet.rules]]
//! name = "beta"
//! header = { name = "X-Experiment", equals = "B" }
//! to = "=1.2.0-beta"
//!
//! [trust]                          # signed plugins (docs/trust.md); off by default
//! require_signatures = true
//! audit_log = "/var/log/wasmplug/trust.jsonl"
//! [trust.publishers.release]
//! key = "keys/release.pub"
//! plugins = ["*"]
//!
//! [contract]                       # the reload/upload gate (docs/contract.md)
//! allow_breaking = false           # refuse candidates that break the running contract
//! [kv]                             # the plugins' kv store (see `KvConfig`)
//! backend = "redis"                # or "redb", the default
//! url = "redis://127.0.0.1:6379/"
//!
//! [[oci]]                          # plugins pulled from OCI registries (see `OciSource`)
//! ref = "oci://127.0.0.1:5000/greet:1.0.0"
//!
//! [sync]                           # replicas sharing routing through Redis (`SyncSettings`)
//! redis = "redis://127.0.0.1:6379/"
//! ```
//!
//! Unknown keys are errors that name the key and the line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use wasmplug::ByteSize;
use wasmplug::trust::TrustConfig;

use crate::auth::AdminToken;
use crate::replicas::SyncSettings;
use crate::sources::{KvConfig, OciSource};

/// The environment variable read for the admin token unless `[admin] token_env` says
/// otherwise.
pub const DEFAULT_ADMIN_TOKEN_ENV: &str = "WASMPLUG_ADMIN_TOKEN";

/// Gateway settings (`wasmplug.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// Listening address. By default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// Plugin directory (`<dir>/<name>/plugin.toml`). By default `examples/plugins`.
    pub plugin_dir: PathBuf,
    /// Compiled-module cache directory. By default none (the CLI picks one).
    pub cache_dir: Option<PathBuf>,
    /// Hot reload of `plugin_dir`. By default on.
    pub hot_reload: bool,
    /// Largest request body of a plugin call. By default 4 MiB.
    pub body_limit: ByteSize,
    /// How long shutdown waits for in-flight requests. By default 10 s.
    #[serde(deserialize_with = "de_duration")]
    pub grace_period: Duration,
    /// How long a connection may take to deliver a complete request head once it is ready
    /// for one (just accepted, or after its previous response): silent, idle keep-alive and
    /// slowly-sent heads are closed after it. By default 10 s.
    #[serde(deserialize_with = "de_duration")]
    pub header_timeout: Duration,
    /// How long reading a request body may take; slower bodies are answered 408. By
    /// default 30 s.
    #[serde(deserialize_with = "de_duration")]
    pub body_timeout: Duration,
    /// Most connections open at once; at the cap the longest-idle connection is closed to
    /// make room (or the new one refused if all are busy). By default the process's
    /// descriptor limit minus 128, between 16 and 10,000.
    pub max_connections: Option<usize>,
    /// Where the admin token comes from.
    pub admin: AdminConfig,
    /// Per-plugin settings, by plugin name.
    pub plugins: BTreeMap<String, PluginSettings>,
    /// Rollout rules, by plugin name (validated when the plugins are loaded).
    pub routing: BTreeMap<String, wasmplug::RoutingRules>,
    /// The trust policy (`[trust]`). By default off.
    pub trust: TrustConfig,
    /// The contract gate of reloads and uploads (`[contract]`).
    pub contract: ContractSettings,
    /// The plugins' key-value store. By default redb in the data directory.
    pub kv: KvConfig,
    /// Plugins pulled from OCI registries at start-up, after `plugin_dir`. By default none.
    pub oci: Vec<OciSource>,
    /// `[sync]`: share versions and routing with the other replicas. By default off.
    pub sync: Option<SyncSettings>,
}

/// The `[contract]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ContractSettings {
    /// Accept candidates that break the running version's contract
    /// ([`wasmplug::RegistryConfig::allow_breaking`]). By default `false`.
    pub allow_breaking: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            plugin_dir: PathBuf::from("examples/plugins"),
            cache_dir: None,
            hot_reload: true,
            body_limit: ByteSize::mib(4),
            grace_period: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: None,
            admin: AdminConfig::default(),
            plugins: BTreeMap::new(),
            routing: BTreeMap::new(),
            trust: TrustConfig::default(),
            contract: ContractSettings::default(),
            kv: KvConfig::default(),
            oci: Vec::new(),
            sync: None,
        }
    }
}

/// Where the admin bearer token comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct AdminConfig {
    /// Environment variable holding the token. By default `WASMPLUG_ADMIN_TOKEN`.
    pub token_env: String,
    /// File holding the token (surrounding whitespace is ignored); wins over `token_env`.
    pub token_file: Option<PathBuf>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            token_env: DEFAULT_ADMIN_TOKEN_ENV.to_string(),
            token_file: None,
        }
    }
}

/// Settings of one plugin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PluginSettings {
    /// JSON envelope mode: the plugin receives the request context as JSON and may set the
    /// response status and headers. By default off (raw mode).
    pub envelope: bool,
}

/// `wasmplug.toml` could not be read or is invalid, or the admin token file is unusable.
#[derive(Debug, thiserror::Error)]
#[error("invalid gateway config `{}`: {message}", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, with line and column when known.
    pub message: String,
}

impl GatewayConfig {
    /// Reads `path`; relative paths in it are relative to its folder.
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML, or has an unknown key or a bad value.
    pub fn from_file(path: impl AsRef<Path>) -> Result<GatewayConfig, ConfigError> {
        let path = path.as_ref();
        let error = |message: String| ConfigError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let mut config = GatewayConfig::parse(&text).map_err(error)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.plugin_dir = base.join(&config.plugin_dir);
        config.cache_dir = config.cache_dir.map(|d| base.join(d));
        config.admin.token_file = config.admin.token_file.map(|f| base.join(f));
        config.trust.resolve_paths(base);
        Ok(config)
    }

    /// Parses the text of a `wasmplug.toml` (paths stay as written).
    ///
    /// # Errors
    /// A message naming the bad key or value and its line.
    pub fn parse(text: &str) -> Result<GatewayConfig, String> {
        let config: GatewayConfig =
            toml::from_str(text).map_err(|e| wasmplug::toml_error_message(text, &e))?;
        for (plugin, rules) in &config.routing {
            rules
                .check_shape()
                .map_err(|e| format!("[routing.{plugin}]: {e}"))?;
        }
        Ok(config)
    }

    /// The settings of plugin `name` (defaults when it has none).
    pub fn plugin(&self, name: &str) -> PluginSettings {
        self.plugins.get(name).cloned().unwrap_or_default()
    }

    /// The admin token: from `token_file` if set, else from the `token_env` variable when it
    /// is set and not empty; `None` disables the admin API.
    ///
    /// # Errors
    /// The token file cannot be read or is empty.
    pub fn admin_token(&self) -> Result<Option<AdminToken>, ConfigError> {
        if let Some(file) = &self.admin.token_file {
            let error = |message: String| ConfigError {
                path: file.clone(),
                message,
            };
            let text = std::fs::read_to_string(file)
                .map_err(|e| error(format!("cannot read the admin token file: {e}")))?;
            let token = text.trim();
            if token.is_empty() {
                return Err(error("the admin token file is empty".into()));
            }
            return Ok(Some(AdminToken::new(token)));
        }
        Ok(std::env::var(&self.admin.token_env)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| AdminToken::new(t.trim())))
    }
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    wasmplug::parse_duration(&s).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let c = GatewayConfig::parse(
            "addr = \"0.0.0.0:9000\"\nplugin_dir = \"p\"\nhot_reload = false\nbody_limit = \"1KiB\"\ngrace_period = \"2s\"\n[admin]\ntoken_env = \"TOK\"\n[plugins.json-transformer]\nenvelope = true\n",
        )
        .unwrap();
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.body_limit, ByteSize::kib(1));
        assert_eq!(c.grace_period, Duration::from_secs(2));
        assert!(!c.hot_reload);
        assert_eq!(c.admin.token_env, "TOK");
        assert!(c.plugin("json-transformer").envelope);
        assert!(!c.plugin("other").envelope);
    }

    #[test]
    fn trust_and_contract_tables_parse_with_paths_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wasmplug.toml");
        std::fs::write(
            &path,
            "[trust]\nrequire_signatures = true\naudit_log = \"log/trust.jsonl\"\n[trust.publishers.release]\nkey = \"keys/r.pub\"\nplugins = [\"*\"]\n[contract]\nallow_breaking = true\n",
        )
        .unwrap();
        let c = GatewayConfig::from_file(&path).unwrap();
        assert!(c.trust.require_signatures && c.contract.allow_breaking);
        assert_eq!(
            c.trust.publishers["release"].key,
            dir.path().join("keys/r.pub")
        );
        assert_eq!(c.trust.audit_log, Some(dir.path().join("log/trust.jsonl")));
        let d = GatewayConfig::default();
        assert!(!d.trust.require_signatures && !d.contract.allow_breaking);
        let err = GatewayConfig::parse("[contract]\nallow_braking = true\n").unwrap_err();
        assert!(
            err.contains("allow_braking") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_name_key_and_line() {
        let err =
            GatewayConfig::parse("addr = \"127.0.0.1:1\"\nbody_limt = \"1KiB\"\n").unwrap_err();
        assert!(err.contains("body_limt") && err.contains("line 2"), "{err}");
        let err = GatewayConfig::parse("grace_period = \"soon\"\n").unwrap_err();
        assert!(err.contains("soon"), "{err}");
    }

    #[test]
    fn token_file_wins_and_must_not_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "  s3cret\n").unwrap();
        let mut c = GatewayConfig::default();
        c.admin.token_file = Some(file.clone());
        assert!(c.admin_token().unwrap().unwrap().verify("s3cret"));
        std::fs::write(&file, "\n").unwrap();
        assert!(c.admin_token().unwrap_err().message.contains("empty"));
    }
}
