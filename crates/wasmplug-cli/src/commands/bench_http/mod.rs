//! `wasmplug bench-http`: load test of the gateway with `wrk` against loopback. A plugin
//! endpoint through the gateway is measured next to a bare axum handler that returns the same
//! bytes, in the same process and the same run (see docs/gateway.md; `scripts/bench-http.sh`
//! installs wrk and builds in release first):
//!
//! - by default the json-transformer's `execute` (`POST /v1/plugins/json-transformer/execute`);
//! - with `--wasi-http` a `wasi:http` component (`GET /v1/http/{name}/hello`), and with
//!   `--wasmtime BIN` the same component under `wasmtime serve` as a third server.

mod probe;
mod wasmtime_serve;
mod wrk;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use wasmplug::{CallOptions, Manifest, Registry, RegistryConfig};
use wasmplug_gateway::{AppState, GatewayConfig};

use wrk::{Load, WrkResult};

/// Load-test the HTTP gateway with wrk: a plugin endpoint against a bare handler.
#[derive(Debug, clap::Args)]
pub struct BenchHttp {
    /// Plugin directory (must hold json-transformer).
    #[arg(long, value_name = "DIR", default_value = "examples/plugins")]
    plugins: PathBuf,
    /// Open connections.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Length of each measured run, e.g. 10s.
    #[arg(long, value_parser = wasmplug::parse_duration, default_value = "10s")]
    duration: Duration,
    /// Gateway worker threads [default: the number of CPUs].
    #[arg(long)]
    workers: Option<usize>,
    /// Call the plugin in JSON envelope mode instead of raw mode.
    #[arg(long, conflicts_with = "wasi_http")]
    envelope: bool,
    /// Override the plugin's instance isolation (`reuse` keeps instances between calls;
    /// `per-call`, the default of the example, instantiates for every call).
    #[arg(long, value_parser = ["reuse", "per-call"], conflicts_with = "wasi_http")]
    isolation: Option<String>,
    /// Measure a `wasi:http` component instead: `GET /hello` of the plugin folder DIR
    /// (built by scripts/build-guests.sh).
    #[arg(
        long,
        value_name = "DIR",
        num_args = 0..=1,
        default_missing_value = "tests/guests/rust/http-handler"
    )]
    wasi_http: Option<PathBuf>,
    /// With --wasi-http: also serve the component with `wasmtime serve` (this binary, default
    /// settings) and measure it as a third server.
    #[arg(long, value_name = "BIN", requires = "wasi_http")]
    wasmtime: Option<PathBuf>,
}

const RAW_INPUT: &str =
    r#"{"request_id":"req-001","headers":{},"parameters":{"action":"transform","user":"u-42"}}"#;
const ENVELOPE_INPUT: &str = r#"{"action":"transform","user":"u-42"}"#;

/// What is measured: the gateway path and the request wrk sends.
struct Target {
    /// Row label of the plugin endpoint.
    label: String,
    /// Path on the gateway.
    path: String,
    /// The request's body (`None`: `GET`).
    post: Option<Post>,
    /// The component file, for `wasmtime serve`.
    component: Option<PathBuf>,
    /// The bare handler's content type.
    content_type: &'static str,
}

/// A `POST` request.
#[derive(Debug, Clone, Copy)]
pub struct Post {
    /// The JSON body.
    pub body: &'static str,
    /// Whether the `X-Wasmplug-Envelope: 1` header is sent.
    pub envelope: bool,
}

impl Post {
    /// The request as a wrk Lua script.
    fn lua(self) -> String {
        let mut lua = String::from(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
        );
        if self.envelope {
            lua.push_str("wrk.headers[\"X-Wasmplug-Envelope\"] = \"1\"\n");
        }
        let _ = writeln!(lua, "wrk.body = '{}'", self.body);
        lua
    }
}

impl BenchHttp {
    /// Runs the load tests and prints the comparison.
    pub fn execute(self) -> anyhow::Result<()> {
        wrk::require()?;
        let metrics = wasmplug_gateway::install_metrics()?;
        let registry = Registry::new(RegistryConfig::default());
        let dir = tempfile_dir()?;
        let target = match &self.wasi_http {
            Some(folder) => wasi_http_target(&registry, folder)?,
            None => self.plugin_target(&registry, &dir)?,
        };
        let mut config = GatewayConfig::default();
        config.plugin_dir = self.plugins.clone();
        let state = AppState::new(registry, config).with_metrics(metrics);
        state.set_ready(true);

        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = self.workers {
            runtime.worker_threads(n);
        }
        let runtime = runtime.enable_all().build()?;
        let gateway = runtime.block_on(async {
            let g = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let ga = g.local_addr()?;
            tokio::spawn(wasmplug_gateway::serve(g, state, std::future::pending()));
            anyhow::Ok(ga)
        })?;
        // The bytes the bare handler returns: what the gateway answers to this request.
        let body = runtime.block_on(probe::answer(gateway, &target.path, target.post))?;
        let bare = runtime.block_on(async {
            let b = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let ba = b.local_addr()?;
            let router = wasmplug_gateway::bare_router(body.into(), target.content_type);
            tokio::spawn(async move { axum::serve(b, router).await });
            anyhow::Ok(ba)
        })?;
        let wasmtime = match (&self.wasmtime, &target.component) {
            (Some(bin), Some(component)) => {
                let server = wasmtime_serve::WasmtimeServe::start(bin, component)?;
                runtime.block_on(probe::answer(server.addr, "/hello", None))?;
                Some(server)
            }
            _ => None,
        };

        let script = match target.post {
            Some(post) => {
                let path = dir.join("request.lua");
                std::fs::write(&path, post.lua())?;
                Some(path)
            }
            None => None,
        };
        let mode = format!("{:?} per run", self.duration);
        println!(
            "wrk: {} connections, {} threads, {mode}; gateway workers: {}",
            self.connections,
            self.threads,
            self.workers
                .map_or("all CPUs".to_string(), |n| n.to_string())
        );
        let load = Load {
            threads: self.threads,
            connections: self.connections,
        };
        let mut servers: Vec<(String, String)> = vec![
            (
                target.label.clone(),
                format!("http://{gateway}{}", target.path),
            ),
            ("bare axum handler".into(), format!("http://{bare}/bare")),
        ];
        if let Some(w) = &wasmtime {
            servers.push((
                format!("wasmtime serve GET /hello ({})", w.version),
                format!("http://{}/hello", w.addr),
            ));
        }
        // Warm-up (instances, connections, caches), then the measured runs.
        for (_, url) in &servers {
            wrk::run(load, url, script.as_deref(), Duration::from_secs(2))?;
        }
        let mut results = Vec::new();
        for (name, url) in &servers {
            results.push((
                name.clone(),
                wrk::run(load, url, script.as_deref(), self.duration)?,
            ));
        }
        drop(wasmtime);
        let _ = std::fs::remove_dir_all(&dir);
        report(&results, self.wasi_http.is_some());
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(())
    }

    /// The json-transformer, loaded (with the isolation overridden if asked).
    fn plugin_target(&self, registry: &Registry, dir: &Path) -> anyhow::Result<Target> {
        let manifest = self.manifest(dir)?;
        registry.load(&manifest).with_context(|| {
            format!(
                "cannot load `{}` (run scripts/build-guests.sh)",
                manifest.display()
            )
        })?;
        let input = if self.envelope {
            ENVELOPE_INPUT
        } else {
            RAW_INPUT
        };
        // A direct call first: a plugin that fails is reported before any load is applied.
        let ctx = format!(r#"{{"request_id":"bench","headers":{{}},"parameters":{input}}}"#);
        let direct = if self.envelope { ctx.as_str() } else { input };
        registry.call(
            "json-transformer",
            "execute",
            direct.as_bytes(),
            &CallOptions::default(),
        )?;
        let mode = format!(
            "{}, {}",
            if self.envelope { "envelope" } else { "raw" },
            self.isolation.as_deref().unwrap_or("manifest isolation")
        );
        Ok(Target {
            label: format!("json-transformer execute ({mode})"),
            path: "/v1/plugins/json-transformer/execute".into(),
            post: Some(Post {
                body: input,
                envelope: self.envelope,
            }),
            component: None,
            content_type: "application/json",
        })
    }

    /// The json-transformer's manifest, or a copy in `dir` with the isolation overridden.
    fn manifest(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let folder = self.plugins.join("json-transformer");
        let manifest = folder.join("plugin.toml");
        let Some(isolation) = &self.isolation else {
            return Ok(manifest);
        };
        let copy = dir.join("json-transformer");
        std::fs::create_dir_all(&copy)?;
        let wasm = folder.join("json-transformer.wasm");
        std::fs::copy(&wasm, copy.join("json-transformer.wasm")).with_context(|| {
            format!(
                "cannot copy `{}` (run scripts/build-guests.sh)",
                wasm.display()
            )
        })?;
        let text = std::fs::read_to_string(&manifest)?;
        if text.contains("[instances]") {
            bail!(
                "`{}` already has an [instances] table; edit it instead of --isolation",
                manifest.display()
            );
        }
        std::fs::write(
            copy.join("plugin.toml"),
            format!("{text}\n[instances]\nisolation = \"{isolation}\"\n"),
        )?;
        Ok(copy.join("plugin.toml"))
    }
}

/// A `wasi:http` plugin folder, loaded; measured at `GET /v1/http/{name}/hello`.
fn wasi_http_target(registry: &Registry, folder: &Path) -> anyhow::Result<Target> {
    let manifest_path = folder.join(wasmplug::MANIFEST_FILE);
    let manifest = Manifest::from_file(&manifest_path)?;
    registry.load(&manifest_path).with_context(|| {
        format!(
            "cannot load `{}` (run scripts/build-guests.sh)",
            manifest_path.display()
        )
    })?;
    let name = manifest.name.as_str().to_string();
    Ok(Target {
        label: format!("{name} GET /hello (wasi:http component, fresh instance per request)"),
        path: format!("/v1/http/{name}/hello"),
        post: None,
        component: Some(manifest.wasm.clone()),
        content_type: "text/plain",
    })
}

/// Prints the table and the verdicts against the issue's targets.
fn report(results: &[(String, WrkResult)], wasi_http: bool) {
    let ms = |d: Option<Duration>| {
        d.map_or("?".to_string(), |d| {
            format!("{:.2} ms", d.as_secs_f64() * 1e3)
        })
    };
    println!("\n| endpoint | requests | req/s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|");
    for (name, r) in results {
        println!(
            "| {name} | {} | {:.0} | {} | {} | {} |",
            r.requests,
            r.rps,
            ms(r.p50),
            ms(r.p99),
            r.errors
        );
    }
    let (plugin, bare) = (&results[0].1, &results[1].1);
    let ratio = plugin.rps / bare.rps.max(1.0);
    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    if wasi_http {
        println!(
            "\nratio: {:.1}% of the bare handler's throughput (target >= 50%: {}); errors: {}",
            ratio * 100.0,
            verdict(ratio >= 0.5),
            plugin.errors
        );
        if let Some((_, w)) = results.get(2) {
            let vs = plugin.rps / w.rps.max(1.0);
            println!(
                "vs wasmtime serve: {vs:.2}x its throughput (target >= 1x: {})",
                verdict(vs >= 1.0)
            );
        }
        return;
    }
    let p99_ok = plugin.p99.is_some_and(|p| p < Duration::from_millis(5));
    println!(
        "\nratio: {:.1}% of the bare handler's throughput (target >= 70%: {}); plugin p99 < 5 ms: {}; errors: {} ({})",
        ratio * 100.0,
        verdict(ratio >= 0.7),
        verdict(p99_ok),
        plugin.errors,
        if plugin.requests >= 1_000_000 {
            "over >= 1M requests"
        } else {
            "fewer than 1M requests in this run"
        },
    );
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("wasmplug-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
