//! In-process statistics of one plugin version's calls: a latency histogram, errors by
//! class with the last error, fuel and in-flight calls. They sit next to the `metrics`
//! facade handles ([`crate::metrics`]) so that an application (the gateway's console) can
//! read them from [`crate::VersionStatus::stats`] without a metrics recorder.
//!
//! Invariants: recording is a few relaxed atomic increments per call (errors take a mutex,
//! on the error path only); counters only grow while the version is loaded; the latency
//! histogram has one count per bucket of [`LATENCY_BUCKETS`] plus one for everything
//! slower, so `latency.len() == LATENCY_BUCKETS.len() + 1`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;

/// Upper bounds (seconds) of the latency buckets: 10 µs to 30 s, about three per decade,
/// the same buckets as the gateway's Prometheus histograms.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Longest message kept as [`LastError::message`], in bytes (cut at a character boundary).
pub const MAX_LAST_ERROR: usize = 1024;

/// A snapshot of one version's call statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallStats {
    /// Failed calls by error class ([`Error::class`]), including calls refused by the
    /// version's breaker (`circuit_open`).
    pub errors: BTreeMap<String, u64>,
    /// Calls per latency bucket: `latency[i]` counts calls that took at most
    /// `LATENCY_BUCKETS[i]` seconds (and more than the previous bound); the last entry
    /// counts the slower ones.
    pub latency: Vec<u64>,
    /// Fuel consumed by all calls (0 when fuel metering is off).
    pub fuel_consumed: u64,
    /// Most linear memory and table bytes an instance held after a call.
    pub memory_high_water: u64,
    /// Calls running now.
    pub in_flight: u64,
    /// The most recent failure, if any.
    pub last_error: Option<LastError>,
}

/// The most recent failed call of a version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastError {
    /// Error class ([`Error::class`]).
    pub class: String,
    /// First line of the error, at most [`MAX_LAST_ERROR`] bytes. For a guest error this is
    /// text chosen by the plugin: render it as text, never as markup.
    pub message: String,
}

/// The `q`-quantile (0.0–1.0) of a histogram laid out like [`CallStats::latency`], by linear
/// interpolation inside the bucket that holds it; `None` when the histogram is empty. A
/// quantile in the overflow bucket is reported as the last bound.
pub fn latency_quantile(counts: &[u64], q: f64) -> Option<Duration> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
    let mut seen = 0u64;
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        if (seen + count) as f64 >= rank {
            let Some(&upper) = LATENCY_BUCKETS.get(i) else {
                break;
            };
            let lower = if i == 0 { 0.0 } else { LATENCY_BUCKETS[i - 1] };
            let within = (rank - seen as f64) / count as f64;
            return Some(Duration::from_secs_f64(lower + (upper - lower) * within));
        }
        seen += count;
    }
    LATENCY_BUCKETS.last().map(|s| Duration::from_secs_f64(*s))
}

/// Records the statistics of one version (owned by its metric handles).
pub(crate) struct StatsRecorder {
    latency: Box<[AtomicU64]>,
    fuel: AtomicU64,
    in_flight: AtomicU64,
    errors: Mutex<(BTreeMap<&'static str, u64>, Option<LastError>)>,
}

impl Default for StatsRecorder {
    fn default() -> Self {
        StatsRecorder {
            latency: (0..=LATENCY_BUCKETS.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            fuel: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            errors: Mutex::default(),
        }
    }
}

impl StatsRecorder {
    pub(crate) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn finished(&self, elapsed: Duration, fuel: Option<u64>) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        let secs = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS.partition_point(|&bound| bound < secs);
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        if let Some(fuel) = fuel {
            self.fuel.fetch_add(fuel, Ordering::Relaxed);
        }
    }

    pub(crate) fn error(&self, e: &Error) {
        let text = e.to_string();
        let mut message = text.lines().next().unwrap_or_default().to_string();
        if message.len() > MAX_LAST_ERROR {
            let mut cut = MAX_LAST_ERROR;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.0.entry(e.class()).or_default() += 1;
        errors.1 = Some(LastError {
            class: e.class().to_string(),
            message,
        });
    }

    pub(crate) fn snapshot(&self, memory_high_water: u64) -> CallStats {
        let errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        CallStats {
            errors: errors.0.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            latency: self
                .latency
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            fuel_consumed: self.fuel.load(Ordering::Relaxed),
            memory_high_water,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            last_error: errors.1.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_land_in_their_latency_bucket() {
        let stats = StatsRecorder::default();
        stats.finished(Duration::from_micros(5), Some(7));
        stats.finished(Duration::from_micros(10), Some(3));
        stats.finished(Duration::from_millis(3), None);
        stats.finished(Duration::from_secs(60), None);
        let s = stats.snapshot(0);
        assert_eq!(s.latency.len(), LATENCY_BUCKETS.len() + 1);
        assert_eq!(
            s.latency[0], 2,
            "5 µs and exactly 10 µs are in the first bucket"
        );
        assert_eq!(s.latency[8], 1, "3 ms is in the (2.5 ms, 5 ms] bucket");
        assert_eq!(s.latency[LATENCY_BUCKETS.len()], 1, "60 s overflows");
        assert_eq!(s.fuel_consumed, 10);
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let mut counts = vec![0; LATENCY_BUCKETS.len() + 1];
        assert_eq!(latency_quantile(&counts, 0.5), None);
        counts[6] = 100; // (0.5 ms, 1 ms]
        let p50 = latency_quantile(&counts, 0.5).unwrap().as_secs_f64();
        assert!((p50 - 0.000_75).abs() < 1e-9, "{p50}");
        counts[LATENCY_BUCKETS.len()] = 100;
        assert_eq!(
            latency_quantile(&counts, 0.99),
            Some(Duration::from_secs(30)),
            "an overflowing quantile is the last bound"
        );
        assert!(latency_quantile(&counts, 0.25).unwrap() <= Duration::from_millis(1));
    }

    #[test]
    fn errors_count_by_class_and_keep_a_bounded_last_message() {
        let stats = StatsRecorder::default();
        stats.started();
        assert_eq!(stats.snapshot(0).in_flight, 1);
        stats.finished(Duration::from_micros(1), None);
        let long = Error::Guest {
            function: "f".into(),
            message: format!("<b>{}</b>\nsecond line", "é".repeat(2000)),
            code: None,
        };
        stats.error(&long);
        stats.error(&long);
        let s = stats.snapshot(4096);
        assert_eq!(s.in_flight, 0);
        assert_eq!(s.errors.get("guest"), Some(&2));
        assert_eq!(s.memory_high_water, 4096);
        let last = s.last_error.unwrap();
        assert_eq!(last.class, "guest");
        assert!(last.message.len() <= MAX_LAST_ERROR);
        assert!(
            last.message.contains("<b>"),
            "kept verbatim: {}",
            last.message
        );
        assert!(!last.message.contains("second line"));
    }
}
