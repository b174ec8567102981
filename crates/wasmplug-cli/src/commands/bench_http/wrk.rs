//! Running `wrk` and reading its report.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

/// What one wrk run measured.
#[derive(Debug, Default)]
pub struct WrkResult {
    /// Requests completed.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Median latency.
    pub p50: Option<Duration>,
    /// 99th-percentile latency.
    pub p99: Option<Duration>,
    /// Socket errors plus non-2xx/3xx responses.
    pub errors: u64,
}

/// The load a run applies.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// wrk threads.
    pub threads: u32,
    /// Open connections.
    pub connections: u32,
}

/// Fails with an installation hint when `wrk` is missing.
pub fn require() -> anyhow::Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => bail!(
            "`wrk` is not installed: `apt-get install -y wrk`, or run scripts/bench-http.sh which installs it"
        ),
    }
}

/// One wrk run against `url` (with the request described by the Lua `script`, if any).
pub fn run(
    load: Load,
    url: &str,
    script: Option<&Path>,
    duration: Duration,
) -> anyhow::Result<WrkResult> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--latency");
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(parse(&text))
}

/// Reads wrk's report (`--latency`).
fn parse(text: &str) -> WrkResult {
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
        let r = parse(report);
        assert_eq!(r.requests, 612_345);
        assert_eq!(r.rps, 61_234.5);
        assert_eq!(r.p50, Some(Duration::from_micros(510)));
        assert_eq!(r.p99, Some(Duration::from_micros(3500)));
        assert_eq!(r.errors, 7);
    }

    #[test]
    fn a_report_without_figures_reads_as_zero() {
        let r = parse("unable to connect to 127.0.0.1:1 Connection refused\n");
        assert_eq!(r.requests, 0);
        assert_eq!(r.p99, None);
    }
}
