//! The soak's plugin directory: copies of the example plugins, two hand-written echo
//! plugins (`soak-echo` is rewritten by hot reloads, `soak-canary` changed through the
//! admin API), the api-proxy example pointed at the gateway's own `/healthz`, and every
//! hostile guest of `tests/hostile` with tight limits.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Plugins reloaded and changed by the churn (hand-written echo plugins).
pub const RELOADED: &str = "soak-echo";
/// Plugin changed through the admin API.
pub const CANARY: &str = "soak-canary";
/// Folder where broken modules are dropped.
pub const BROKEN: &str = "soak-broken";
/// The admin token of the soak's gateway.
pub const TOKEN: &str = "soak-admin-token-0123456789";

/// A good plugin function and how to check its answer.
#[derive(Debug, Clone, Copy)]
pub enum Good {
    /// Returns its input.
    Echo(&'static str, &'static str),
    /// greet: "Hello, <input>!".
    Greet,
    /// json-transformer: `{"success": true, ...}`.
    Transform,
    /// api-proxy `get` of `/healthz`: `{"status": 200, ...}` (kv write + http).
    Proxy,
}

/// What the soak runs against.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The plugin directory.
    pub plugin_dir: PathBuf,
    /// The gateway config file.
    pub config: PathBuf,
    /// Good plugin functions.
    pub good: Vec<Good>,
    /// Hostile (plugin, function) pairs.
    pub hostile: Vec<(String, String)>,
    /// Text of the hand-written echo plugin, with `NAME` and `VERSION` placeholders.
    pub echo_template: String,
}

/// The repository root (this example lives in `crates/wasmplug-cli/examples/soak`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The hand-written echo plugin `name` at `version`.
pub fn echo_plugin(template: &str, name: &str, version: &str) -> String {
    template.replace("NAME", name).replace("VERSION", version)
}

/// Writes `<dir>/<name>/plugin.toml` (+ the module file) atomically enough for the watcher:
/// the module first, then the manifest.
pub fn write_plugin(
    dir: &Path,
    name: &str,
    version: &str,
    module: (&str, &[u8]),
    extra: &str,
) -> anyhow::Result<()> {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join(module.0), module.1)?;
    let manifest = format!(
        "name = \"{name}\"\nversion = \"{version}\"\nwasm = \"{}\"\n{extra}",
        module.0
    );
    std::fs::write(folder.join("plugin.toml"), manifest)?;
    Ok(())
}

impl Setup {
    /// Writes the plugin directory and the gateway config under `work`.
    pub fn write(root: &Path, work: &Path) -> anyhow::Result<Setup> {
        let plugin_dir = work.join("plugins");
        std::fs::create_dir_all(&plugin_dir)?;
        for name in ["echo", "greet", "json-transformer"] {
            let from = root.join("examples/plugins").join(name);
            let wasm = format!("{name}.wasm");
            let bytes = std::fs::read(from.join(&wasm)).with_context(|| {
                format!("{name}.wasm is missing: run scripts/build-guests.sh first")
            })?;
            let to = plugin_dir.join(name);
            std::fs::create_dir_all(&to)?;
            std::fs::write(to.join(&wasm), bytes)?;
            std::fs::copy(from.join("plugin.toml"), to.join("plugin.toml"))?;
        }
        let echo = std::fs::read_to_string(root.join("tests/guests/wat/echo.wat"))?;
        let template = echo.replace(
            r#"{\"name\":\"wat-echo\",\"version\":\"1.0.0\""#,
            r#"{\"name\":\"NAME\",\"version\":\"VERSION\""#,
        );
        if !template.contains("VERSION") {
            bail!("tests/guests/wat/echo.wat no longer has the expected meta section");
        }
        for name in [RELOADED, CANARY] {
            let text = echo_plugin(&template, name, "1.0.0");
            write_plugin(
                &plugin_dir,
                name,
                "1.0.0",
                ("plugin.wat", text.as_bytes()),
                "",
            )?;
        }
        let hostile = write_hostile(root, &plugin_dir)?;
        let config = work.join("wasmplug.toml");
        std::fs::write(work.join("admin-token"), TOKEN)?;
        std::fs::write(
            &config,
            "addr = \"127.0.0.1:0\"\nplugin_dir = \"plugins\"\ncache_dir = \"cache\"\ngrace_period = \"5s\"\n\
             [admin]\ntoken_file = \"admin-token\"\n[plugins.json-transformer]\nenvelope = true\n",
        )?;
        let good = vec![
            Good::Echo("echo", "echo"),
            Good::Greet,
            Good::Transform,
            Good::Proxy,
            Good::Echo(RELOADED, "echo"),
            Good::Echo(CANARY, "echo"),
        ];
        Ok(Setup {
            plugin_dir,
            config,
            good,
            hostile,
            echo_template: template,
        })
    }

    /// Adds the api-proxy example, allowed to call the gateway itself at `base`.
    pub fn add_proxy(&self, root: &Path, base: &str) -> anyhow::Result<()> {
        let from = root.join("examples/plugins/api-proxy/api-proxy.wasm");
        let bytes =
            std::fs::read(&from).with_context(|| format!("{} is missing", from.display()))?;
        let extra = format!(
            "[config]\nupstream = \"{base}\"\nlimit_per_minute = \"100000000\"\n\
             [capabilities]\nnet = [\"{base}\"]\n[limits]\ntimeout = \"5s\"\nmax_kv_total = \"16MiB\"\n"
        );
        write_plugin(
            &self.plugin_dir,
            "api-proxy",
            "1.0.0",
            ("api-proxy.wasm", &bytes),
            &extra,
        )
    }
}

/// Copies every hostile guest into its own folder, with tight limits; returns its
/// (plugin, function) pairs.
fn write_hostile(root: &Path, plugin_dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/hostile"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read(&file)?;
        let binary = wasmplug::abi::to_binary(&text)?;
        if wasmplug::component::is_component(&binary) {
            // The component cases need the component call path's own set-up
            // (crates/wasmplug/tests/hostile/components.rs); the soak runs core modules.
            continue;
        }
        let info = wasmplug::ModuleInfo::parse(&binary)?;
        let interface = wasmplug::PluginInterface::check(&info, &binary)?;
        let name = interface.meta.name.to_string();
        let extra = "[limits]\nmemory = \"16MiB\"\ntimeout = \"200ms\"\nmax_output = \"1MiB\"\n";
        write_plugin(
            plugin_dir,
            &name,
            &interface.meta.version.to_string(),
            ("plugin.wat", &text),
            extra,
        )?;
        pairs.extend(
            interface
                .functions
                .iter()
                .map(|f| (name.clone(), f.clone())),
        );
    }
    Ok(pairs)
}

/// Waits (at most 60 s) until every good plugin answers, adding the api-proxy once the
/// gateway's address is known.
pub async fn wait_ready(client: &reqwest::Client, base: &str, setup: &Setup) -> anyhow::Result<()> {
    setup.add_proxy(&repo_root(), base)?;
    let limit = Instant::now() + Duration::from_secs(60);
    for good in &setup.good {
        loop {
            if crate::traffic::call_good(client, base, *good, 0)
                .await
                .is_ok()
            {
                break;
            }
            if Instant::now() > limit {
                bail!("{good:?} did not become ready within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}
