//! Run with: scripts/soak.sh [DURATION]   (or: cargo run -p wasmplug-cli --example soak -- --help)
//!
//! The gateway soak test (docs/gateway.md, "Soak test"): starts `wasmplug serve` on a
//! temporary plugin directory and drives it from this process with mixed traffic for the
//! given time:
//! - good plugins (the example plugins, two hand-written echo plugins), each answer checked;
//! - hostile plugins (every `tests/hostile/*.wat`), errors counted by class;
//! - hot reloads (a good plugin's folder rewritten with a new version, a broken module
//!   dropped into another folder);
//! - admin changes (uploads, weights, rollbacks, unloads through the admin API);
//! - kv writes (the api-proxy example counts every call in kv and proxies to `/healthz`).
//!
//! Every minute, and at the end, it prints requests, errors by class, and the gateway's
//! RSS, open file descriptors and threads. It fails (exit 1) when a good plugin's request
//! fails, when the gateway dies or does not stop cleanly, or when a resource grows past
//! its tolerance ([`report::Tolerance`]).
//!
//! Everything is bounded: the duration, the request count (`--max-requests`), each
//! request's timeout; only loopback, on the port the gateway opened.

mod churn;
mod gateway;
mod plugins;
mod report;
mod traffic;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

/// Soak the gateway with mixed traffic.
#[derive(Debug, Parser)]
struct Args {
    /// How long to run (`2m`, `1h`).
    #[arg(default_value = "2m", value_parser = wasmplug::parse_duration)]
    duration: Duration,
    /// The `wasmplug` binary [default: target/debug/wasmplug next to this example].
    #[arg(long)]
    wasmplug: Option<PathBuf>,
    /// Concurrent clients calling good plugins.
    #[arg(long, default_value_t = 3)]
    good_clients: usize,
    /// Concurrent clients calling hostile plugins.
    #[arg(long, default_value_t = 2)]
    hostile_clients: usize,
    /// Stop after this many requests even if the time is not up.
    #[arg(long, default_value_t = 50_000_000)]
    max_requests: u64,
    /// No hot reloads or admin changes (traffic only): tells growth caused by new versions
    /// from growth caused by calls.
    #[arg(long)]
    no_churn: bool,
    /// Print a sample row this often.
    #[arg(long, default_value = "1m", value_parser = wasmplug::parse_duration)]
    report_every: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(true) => {
            println!("soak: PASS");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("soak: FAIL");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("soak: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<bool> {
    let root = plugins::repo_root();
    let wasmplug = match &args.wasmplug {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .context("cannot locate the target directory")?
            .join("wasmplug"),
    };
    let work = tempfile::Builder::new()
        .prefix("wasmplug-soak-")
        .tempdir()?;
    let setup = plugins::Setup::write(&root, work.path())?;
    let gateway = gateway::Gateway::start(&wasmplug, work.path(), &setup)?;
    println!(
        "soak: gateway pid {} on {} for {:?} ({} plugins, {} hostile)",
        gateway.pid(),
        gateway.base(),
        args.duration,
        setup.good.len(),
        setup.hostile.len()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let ok = runtime.block_on(soak(&args, &gateway, &setup))?;
    println!("soak: gateway log: {} bytes", gateway.log_size());
    let stopped = gateway.stop(Duration::from_secs(15));
    if let Err(e) = &stopped {
        println!("soak: the gateway did not stop cleanly: {e:#}");
    }
    Ok(ok && stopped.is_ok())
}

async fn soak(
    args: &Args,
    gateway: &gateway::Gateway,
    setup: &plugins::Setup,
) -> anyhow::Result<bool> {
    let client = traffic::client()?;
    let base: Arc<str> = gateway.base().into();
    plugins::wait_ready(&client, &base, setup).await?;
    let stats = Arc::new(traffic::Stats::default());
    let deadline = Instant::now() + args.duration;
    let stop = traffic::Stop::new(deadline, args.max_requests, stats.clone());
    let mut tasks = Vec::new();
    for i in 0..args.good_clients {
        let t = traffic::Worker::new(client.clone(), base.clone(), stats.clone(), stop.clone(), i);
        tasks.push(tokio::spawn(t.good(setup.good.clone())));
    }
    for i in 0..args.hostile_clients {
        let t = traffic::Worker::new(client.clone(), base.clone(), stats.clone(), stop.clone(), i);
        tasks.push(tokio::spawn(t.hostile(setup.hostile.clone())));
    }
    if !args.no_churn {
        let churn = churn::Churn::new(client.clone(), base.clone(), setup.clone(), stats.clone());
        tasks.push(tokio::spawn(churn.run(stop.clone())));
    }
    let mut report = report::Report::new(args.duration);
    let started = Instant::now();
    let mut next_row = started + args.report_every;
    report.header();
    while !stop.done() {
        tokio::time::sleep(
            report::SAMPLE_EVERY.min(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(50)),
            ),
        )
        .await;
        let series = traffic::metric_lines(&client, &base).await;
        report.sample(started.elapsed(), gateway.pid(), series, &stats)?;
        if Instant::now() >= next_row && !stop.done() {
            report.row();
            next_row += args.report_every;
        }
        if !gateway.alive() {
            println!("soak: the gateway exited during the run");
            stop.cancel();
        }
    }
    for task in tasks {
        task.await?;
    }
    let series = traffic::metric_lines(&client, &base).await;
    report.sample(started.elapsed(), gateway.pid(), series, &stats)?;
    report.last_row();
    let healthy = traffic::final_check(&client, &base).await;
    Ok(report.verdict(&stats) && healthy && gateway.alive())
}
