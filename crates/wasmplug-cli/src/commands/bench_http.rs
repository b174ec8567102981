//! `wasmplug bench-http`: load test of the gateway with `wrk` against loopback. The
//! json-transformer's `execute` through the gateway is measured next to a bare axum handler
//! that returns the same bytes, in the same process and the same run (see docs/gateway.md;
//! `scripts/bench-http.sh` installs wrk and builds in release first).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use wasmplug::{CallOptions, Registry, RegistryConfig};
use wasmplug_gateway::{AppState, GatewayConfig};

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
    /// Length of each of the two runs, e.g. 10s.
    #[arg(long, value_parser = wasmplug::parse_duration, default_value = "10s")]
    duration: Duration,
    /// Gateway worker threads [default: the number of CPUs].
    #[arg(long)]
    workers: Option<usize>,
    /// Call the plugin in JSON envelope mode instead of raw mode.
    #[arg(long)]
    envelope: bool,
    /// Override the plugin's instance isolation (`reuse` keeps instances between calls;
    /// `per-call`, the default of the example, instantiates for every call).
    #[arg(long, value_parser = ["reuse", "per-call"])]
    isolation: Option<String>,
}

/// What one wrk run measured.
#[derive(Debug, Default)]
struct WrkResult {
    requests: u64,
    rps: f64,
    p50: Option<Duration>,
    p99: Option<Duration>,
    errors: u64,
}

const RAW_INPUT: &str =
    r#"{"request_id":"req-001","headers":{},"parameters":{"action":"transform","user":"u-42"}}"#;
const ENVELOPE_INPUT: &str = r#"{"action":"transform","user":"u-42"}"#;

impl BenchHttp {
    /// Runs both load tests and prints the comparison.
    pub fn execute(self) -> anyhow::Result<()> {
        which_wrk()?;
        let metrics = wasmplug_gateway::install_metrics()?;
        let registry = Registry::new(RegistryConfig::default());
        let dir = tempfile_dir()?;
        let manifest = self.manifest(&dir)?;
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
        // The bytes the bare handler returns: what the plugin answers to this request.
        let expected = if self.envelope {
            let ctx = format!(r#"{{"request_id":"bench","headers":{{}},"parameters":{input}}}"#);
            registry.call(
                "json-transformer",
                "execute",
                ctx.as_bytes(),
                &CallOptions::default(),
            )?
        } else {
            registry.call(
                "json-transformer",
                "execute",
                input.as_bytes(),
                &CallOptions::default(),
            )?
        };
        let body = bytes_of(expected.output.output);
        let mut config = GatewayConfig::default();
        config.plugin_dir = self.plugins.clone();
        let state = AppState::new(registry, config).with_metrics(metrics);
        state.set_ready(true);

        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = self.workers {
            runtime.worker_threads(n);
        }
        let runtime = runtime.enable_all().build()?;
        let (gateway, bare) = runtime.block_on(async {
            let g = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let b = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let (ga, ba) = (g.local_addr()?, b.local_addr()?);
            tokio::spawn(wasmplug_gateway::serve(g, state, std::future::pending()));
            let bare = wasmplug_gateway::bare_router(body, "application/json");
            tokio::spawn(async move { axum::serve(b, bare).await });
            anyhow::Ok((ga, ba))
        })?;

        let script = dir.join("post.lua");
        let mut lua = String::from(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
        );
        if self.envelope {
            lua.push_str("wrk.headers[\"X-Wasmplug-Envelope\"] = \"1\"\n");
        }
        writeln!(lua, "wrk.body = '{input}'")?;
        std::fs::write(&script, lua)?;

        let mode = format!(
            "{}, {}",
            if self.envelope { "envelope" } else { "raw" },
            self.isolation.as_deref().unwrap_or("manifest isolation")
        );
        println!(
            "wrk: {} connections, {} threads, {:?} per run; gateway workers: {}",
            self.connections,
            self.threads,
            self.duration,
            self.workers
                .map_or("all CPUs".to_string(), |n| n.to_string())
        );
        let plugin_url = format!("http://{gateway}/v1/plugins/json-transformer/execute");
        let bare_url = format!("http://{bare}/bare");
        // Warm-up (instances, connections, caches), then the measured runs.
        self.wrk(&plugin_url, &script, Duration::from_secs(2))?;
        self.wrk(&bare_url, &script, Duration::from_secs(1))?;
        let plugin = self.wrk(&plugin_url, &script, self.duration)?;
        let bare_result = self.wrk(&bare_url, &script, self.duration)?;
        let _ = std::fs::remove_dir_all(&dir);

        let ms = |d: Option<Duration>| {
            d.map_or("?".to_string(), |d| {
                format!("{:.2} ms", d.as_secs_f64() * 1e3)
            })
        };
        println!("\n| endpoint | requests | req/s | p50 | p99 | errors |");
        println!("|---|---|---|---|---|---|");
        for (name, r) in [
            (format!("json-transformer execute ({mode})"), &plugin),
            ("bare axum handler".to_string(), &bare_result),
        ] {
            println!(
                "| {name} | {} | {:.0} | {} | {} | {} |",
                r.requests,
                r.rps,
                ms(r.p50),
                ms(r.p99),
                r.errors
            );
        }
        let ratio = plugin.rps / bare_result.rps.max(1.0);
        let p99_ok = plugin.p99.is_some_and(|p| p < Duration::from_millis(5));
        println!(
            "\nratio: {:.1}% of the bare handler's throughput (target >= 70%: {}); plugin p99 < 5 ms: {}; errors: {} ({})",
            ratio * 100.0,
            if ratio >= 0.7 { "met" } else { "missed" },
            if p99_ok { "met" } else { "missed" },
            plugin.errors,
            if plugin.requests >= 1_000_000 {
                "over >= 1M requests"
            } else {
                "fewer than 1M requests in this run"
            },
        );
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(())
    }

    /// The json-transformer's manifest, or a copy in `dir` with the isolation overridden.
    fn manifest(&self, dir: &std::path::Path) -> anyhow::Result<PathBuf> {
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

    fn wrk(
        &self,
        url: &str,
        script: &std::path::Path,
        duration: Duration,
    ) -> anyhow::Result<WrkResult> {
        let output = Command::new("wrk")
            .arg(format!("-t{}", self.threads))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", duration.as_secs().max(1)))
            .arg("--latency")
            .arg("-s")
            .arg(script)
            .arg(url)
            .output()
            .context("cannot run wrk")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed: {}{}",
                text,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(parse_wrk(&text))
    }
}

fn bytes_of(v: Vec<u8>) -> axum::body::Bytes {
    axum::body::Bytes::from(v)
}

fn which_wrk() -> anyhow::Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => bail!(
            "`wrk` is not installed: `apt-get install -y wrk`, or run scripts/bench-http.sh which installs it"
        ),
    }
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("wasmplug-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Reads wrk's report (`--latency`).
fn parse_wrk(text: &str) -> WrkResult {
    let mut r = WrkResult::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [n, "requests", "in", ..] => r.requests = n.parse().unwrap_or(0),
            ["Requests/sec:", n] => r.rps = n.parse().unwrap_or(0.0),
            ["50%", d] => r.p50 = parse_latency(d),
            ["99%", d] => r.p99 = parse_latency(d),
            ["Non-2xx", "or", "3xx", "responses:", n] => r.errors += n.parse::<u64>().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                r.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    r
}

fn parse_latency(s: &str) -> Option<Duration> {
    let (number, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_wrk_report() {
        let report = "Running 10s test @ http://127.0.0.1:1/x\n  2 threads and 64 connections\n  Latency Distribution\n     50%  510.00us\n     75%    1.02ms\n     99%    3.50ms\n  612345 requests in 10.00s, 100.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 4\nRequests/sec:  61234.50\n";
        let r = parse_wrk(report);
        assert_eq!(r.requests, 612_345);
        assert_eq!(r.rps, 61_234.5);
        assert_eq!(r.p50, Some(Duration::from_micros(510)));
        assert_eq!(r.p99, Some(Duration::from_micros(3500)));
        assert_eq!(r.errors, 7);
    }
}
