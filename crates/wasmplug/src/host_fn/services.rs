//! What the host functions of one plugin work with: its config, log limiter, kv namespace,
//! HTTP client and grants. Built once per compiled plugin and shared by its instances.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::http::{HttpClient, HttpLimits};
use super::kv::{KvNamespace, KvQuota, KvStore};
use super::log::LogLimiter;
use super::user::HostFunctions;
use crate::capability::NetPattern;
use crate::clock::Stamp;
use crate::limits::Limits;

/// Host-side settings of the host functions, shared by the plugins of one application
/// (give the same value to every [`crate::PluginBuilder`], or once to
/// [`crate::RegistryConfig::host`]).
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    /// Functions the application offers to plugins, in its own import modules.
    pub functions: HostFunctions,
    /// The key-value store behind `kv_*`. `None` means the persistent store `kv.redb` in
    /// [`HostConfig::data_dir`], opened when a plugin first uses it (once per process and
    /// file, shared by all plugins).
    pub kv: Option<KvStore>,
    /// Directory of the default kv store; `None` means [`HostConfig::default_data_dir`].
    pub data_dir: Option<PathBuf>,
    /// Plugins whose kv namespace is not their own name: plugin name -> namespace. Plugins
    /// mapped to the same namespace share their keys; by default no two plugins do.
    pub kv_namespaces: BTreeMap<String, String>,
    /// The HTTP client behind `http_request`; `None` means [`HttpClient::shared`].
    pub http: Option<HttpClient>,
}

impl HostConfig {
    /// Where the default kv store lives: `$WASMPLUG_DATA_DIR`, else
    /// `$XDG_DATA_HOME/wasmplug`, else `~/.local/share/wasmplug`, else `./.wasmplug`.
    pub fn default_data_dir() -> PathBuf {
        crate::dirs::default_data_dir().unwrap_or_else(|| PathBuf::from(".wasmplug"))
    }
}

/// The persistent store `kv.redb` in `dir`, opened on first use and then shared by every
/// plugin of the process (a redb file can be open only once per process).
fn store_in(dir: &std::path::Path) -> Result<KvStore, String> {
    static OPEN: Mutex<BTreeMap<PathBuf, KvStore>> = Mutex::new(BTreeMap::new());
    let path = dir.join("kv.redb");
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(store) = open.get(&path) {
        return Ok(store.clone());
    }
    let store = KvStore::open(&path).map_err(|e| e.to_string())?;
    open.insert(path, store.clone());
    Ok(store)
}

/// The per-plugin services behind the built-in host functions.
pub(crate) struct Services {
    pub(crate) plugin: Arc<str>,
    pub(crate) version: Arc<str>,
    /// Plugin functions by index, then `init`, then `_initialize`.
    functions: Vec<Arc<str>>,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) log: LogLimiter,
    kv_store: Option<KvStore>,
    data_dir: PathBuf,
    kv_namespace: String,
    kv_quota: KvQuota,
    kv: OnceLock<Result<KvNamespace, String>>,
    http: Option<HttpClient>,
    pub(crate) net: Vec<NetPattern>,
    pub(crate) http_limits: HttpLimits,
}

/// Longest a host function may wait when the call itself has no timeout.
const WITHOUT_DEADLINE: Duration = Duration::from_secs(30);

impl Services {
    pub(crate) fn new(
        meta: &crate::abi::PluginMeta,
        functions: &[String],
        config: &BTreeMap<String, String>,
        limits: &Limits,
        net: &[NetPattern],
        host: &HostConfig,
    ) -> Services {
        let plugin = meta.name.as_str();
        let mut names: Vec<Arc<str>> = functions.iter().map(|f| Arc::from(f.as_str())).collect();
        names.push(Arc::from(crate::abi::EXPORT_INIT));
        names.push(Arc::from(crate::abi::EXPORT_INITIALIZE));
        Services {
            plugin: Arc::from(plugin),
            version: Arc::from(meta.version.to_string()),
            functions: names,
            config: config.clone(),
            log: LogLimiter::new(limits.log_lines_per_second, plugin),
            kv_store: host.kv.clone(),
            data_dir: host
                .data_dir
                .clone()
                .unwrap_or_else(HostConfig::default_data_dir),
            kv_namespace: host
                .kv_namespaces
                .get(plugin)
                .cloned()
                .unwrap_or_else(|| plugin.to_string()),
            kv_quota: KvQuota {
                max_key_bytes: limits.max_kv_key.bytes(),
                max_value_bytes: limits.max_kv_value.bytes(),
                max_total_bytes: limits.max_kv_total.bytes(),
                ..KvQuota::default()
            },
            kv: OnceLock::new(),
            http: host.http.clone(),
            net: net.to_vec(),
            http_limits: HttpLimits {
                max_request_bytes: limits.max_output.bytes(),
                max_response_bytes: limits.max_http_response.bytes(),
            },
        }
    }

    /// Index of `init` in the function table (`_initialize` is the next one).
    pub(crate) fn init_index(&self) -> usize {
        self.functions.len() - 2
    }

    pub(crate) fn function(&self, index: usize) -> Arc<str> {
        self.functions
            .get(index)
            .cloned()
            .unwrap_or_else(|| Arc::from("?"))
    }

    /// The plugin's kv namespace; the default store is opened on first use.
    pub(crate) fn kv(&self) -> Result<&KvNamespace, String> {
        self.kv
            .get_or_init(|| {
                let store = match &self.kv_store {
                    Some(store) => store.clone(),
                    None => store_in(&self.data_dir).map_err(|e| {
                        // The detail names host paths: the host's log gets it, the guest not.
                        tracing::warn!(target: "wasmplug::kv", plugin = %self.plugin, "{e}");
                        "the host's key-value store is unavailable; the host's log has the details"
                            .to_string()
                    })?,
                };
                Ok(store.namespace(&self.kv_namespace, self.kv_quota))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub(crate) fn http(&self) -> HttpClient {
        self.http.clone().unwrap_or_else(HttpClient::shared)
    }

    /// When work a host function starts now (an HTTP request, an async host function) must
    /// end: the call's own deadline, or 30 s from now for a call without a timeout.
    pub(crate) fn call_deadline(started: Stamp, timeout: Option<Duration>) -> Instant {
        match timeout {
            Some(t) => Instant::now() + t.saturating_sub(started.elapsed_at_least()),
            None => Instant::now() + WITHOUT_DEADLINE,
        }
    }
}
