//! Samples of the gateway's resources, the printed table, and the verdict.
//!
//! Growth is judged between the *baseline*, the first sample after the warm-up (a quarter
//! of the run, at most [`WARM_UP_MAX`]: pools, caches and connection pools fill up first),
//! and the *last* sample. A resource grows without bound when the last value is over the
//! baseline by more than its [`Tolerance`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::gateway::{Usage, usage};
use crate::traffic::Stats;

/// How often resources are sampled (rows are printed less often).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// Longest warm-up before the baseline sample.
pub const WARM_UP_MAX: Duration = Duration::from_secs(60);

/// How far past the baseline the last sample may be.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// RSS: this fraction of the baseline ...
    pub rss_fraction: f64,
    /// ... plus this many bytes.
    pub rss_bytes: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Threads.
    pub threads: u64,
    /// Lines of `/metrics`: this fraction of the baseline more ...
    pub metrics_fraction: f64,
    /// ... plus this many lines (versions come and go; their series go with them).
    pub metrics_lines: u64,
}

/// The soak's tolerances (docs/gateway.md, "Soak test").
pub const TOLERANCE: Tolerance = Tolerance {
    rss_fraction: 0.5,
    rss_bytes: 64 * 1024 * 1024,
    fds: 32,
    threads: 16,
    metrics_fraction: 1.0,
    metrics_lines: 200,
};

/// The samples of one run.
pub struct Report {
    warm_up: Duration,
    /// (time, resources, requests so far, lines of `/metrics`).
    samples: Vec<(Duration, Usage, u64, u64)>,
    baseline: Option<usize>,
    /// Samples printed as rows so far.
    printed: usize,
    stats: Option<Arc<Stats>>,
}

impl Report {
    /// A report for a run of `duration`.
    pub fn new(duration: Duration) -> Report {
        Report {
            warm_up: (duration / 4).min(WARM_UP_MAX),
            samples: Vec::new(),
            baseline: None,
            printed: 0,
            stats: None,
        }
    }

    /// Prints the table header.
    pub fn header(&self) {
        println!(
            "{:>6} {:>9} {:>6} {:>8} {:>5} {:>7} {:>8}  errors by class",
            "time", "requests", "bad", "rss_mib", "fds", "threads", "metrics"
        );
    }

    /// Takes a sample of `pid` at `at`; `metrics` is the line count of `/metrics`.
    pub fn sample(
        &mut self,
        at: Duration,
        pid: u32,
        metrics: u64,
        stats: &Arc<Stats>,
    ) -> anyhow::Result<()> {
        let usage = usage(pid)?;
        let requests = stats.requests.load(Ordering::Relaxed);
        self.samples.push((at, usage, requests, metrics));
        if self.baseline.is_none() && at >= self.warm_up {
            self.baseline = Some(self.samples.len() - 1);
        }
        self.stats = Some(stats.clone());
        Ok(())
    }

    /// Prints the last sample unless it was printed already.
    pub fn last_row(&mut self) {
        if self.printed < self.samples.len() {
            self.row();
        }
    }

    /// Prints the last sample.
    pub fn row(&mut self) {
        self.printed = self.samples.len();
        let (Some((at, u, requests, metrics)), Some(stats)) = (self.samples.last(), &self.stats)
        else {
            return;
        };
        let errors: Vec<String> = stats
            .errors
            .lock()
            .unwrap()
            .iter()
            .map(|(class, n)| format!("{class}={n}"))
            .collect();
        println!(
            "{:>3}m{:02} {:>9} {:>6} {:>8.1} {:>5} {:>7} {:>8}  {}",
            at.as_secs() / 60,
            at.as_secs() % 60,
            requests,
            stats.good_failures.load(Ordering::Relaxed),
            u.rss as f64 / (1024.0 * 1024.0),
            u.fds,
            u.threads,
            metrics,
            errors.join(" ")
        );
    }

    /// Prints the summary and says whether the run passed.
    pub fn verdict(&self, stats: &Stats) -> bool {
        let mut pass = true;
        let failures = stats.good_failures.load(Ordering::Relaxed);
        if failures > 0 {
            pass = false;
            println!("soak: {failures} good-plugin requests failed; first ones:");
            for f in stats.failure_log.lock().unwrap().iter() {
                println!("  {f}");
            }
        }
        let actions: Vec<String> = stats
            .actions
            .lock()
            .unwrap()
            .iter()
            .map(|(a, n)| format!("{a}: {n}"))
            .collect();
        println!("soak: churn: {}", actions.join(", "));
        let (Some(base), Some(last)) =
            (self.baseline.map(|i| self.samples[i]), self.samples.last())
        else {
            println!("soak: too few samples to judge growth");
            return false;
        };
        let t = TOLERANCE;
        let rss_limit = base.1.rss + (base.1.rss as f64 * t.rss_fraction) as u64 + t.rss_bytes;
        let metrics_limit = base.3 + (base.3 as f64 * t.metrics_fraction) as u64 + t.metrics_lines;
        let checks = [
            ("rss", base.1.rss, last.1.rss, rss_limit),
            ("fds", base.1.fds, last.1.fds, base.1.fds + t.fds),
            (
                "threads",
                base.1.threads,
                last.1.threads,
                base.1.threads + t.threads,
            ),
            // An unloaded version's series leave `/metrics` (issue 11 item 8).
            ("metrics lines", base.3, last.3, metrics_limit),
        ];
        for (what, from, to, limit) in checks {
            let verdict = if to > limit { "GROWS" } else { "ok" };
            println!(
                "soak: {what}: baseline {from} at {:?}, last {to}, limit {limit}: {verdict}",
                base.0
            );
            pass &= to <= limit;
        }
        pass
    }
}
