//! The console's metric samples: every [`SAMPLE_EVERY`] the registry's version statistics
//! are read and turned into calls/s, errors/s, error rate and p50/p99 latency per plugin
//! version, kept for the last 15 minutes ([`KEEP`] samples) in memory.
//!
//! Invariants: one sampling pass gives every version the same tick number, so the series of
//! one plugin's versions line up; a version's series is dropped when the version is no
//! longer loaded (memory stays bounded by the loaded versions); counters that went
//! backwards (a version unloaded and loaded again) count from zero instead of producing
//! negative rates. "Calls" are the calls that ran (the latency histogram's total); the
//! error rate is errors over calls plus calls refused by an open breaker.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use wasmplug::{BreakerState, LastError, PluginStatus, VersionStatus, latency_quantile};

/// How often the registry is sampled.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Samples kept per version: 15 minutes.
pub(crate) const KEEP: usize = 900;
/// Samples the live figures (the plugins page) are computed over.
const RATE_WINDOW: usize = 10;

/// One chart point: the rates over the sample interval that ended at `tick`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct Point {
    pub(crate) tick: u64,
    pub(crate) calls_per_s: f64,
    pub(crate) errors_per_s: f64,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
}

/// Rates over a window of samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct Rates {
    pub(crate) calls_per_s: f64,
    pub(crate) errors_per_s: f64,
    /// Errors over attempts in the window (0 when there were none).
    pub(crate) error_rate: f64,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
}

/// The live figures of one version: totals from the registry, rates from the samples.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LiveVersion {
    pub(crate) plugin: String,
    pub(crate) version: String,
    pub(crate) weight: u32,
    pub(crate) breaker: BreakerState,
    pub(crate) calls: u64,
    pub(crate) failures: u64,
    pub(crate) errors: BTreeMap<String, u64>,
    #[serde(flatten)]
    pub(crate) rates: Rates,
    pub(crate) instances: (usize, usize),
    pub(crate) memory_high_water: u64,
    pub(crate) fuel_consumed: u64,
    pub(crate) in_flight: u64,
    pub(crate) last_error: Option<LastError>,
}

impl LiveVersion {
    pub(crate) fn new(plugin: &str, v: &VersionStatus, rates: Rates) -> LiveVersion {
        LiveVersion {
            plugin: plugin.to_string(),
            version: v.version.clone(),
            weight: v.weight,
            breaker: v.breaker,
            calls: v.calls,
            failures: v.failures,
            errors: v.stats.errors.clone(),
            rates,
            instances: v.instances,
            memory_high_water: v.stats.memory_high_water,
            fuel_consumed: v.stats.fuel_consumed,
            in_flight: v.stats.in_flight,
            last_error: v.stats.last_error.clone(),
        }
    }
}

/// One sampling pass: every version's live figures and its new chart point.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Tick {
    pub(crate) tick: u64,
    /// Unix milliseconds.
    pub(crate) at: u64,
    pub(crate) versions: Vec<TickVersion>,
}

/// A version in a [`Tick`].
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TickVersion {
    #[serde(flatten)]
    pub(crate) live: LiveVersion,
    pub(crate) point: Point,
}

/// The counters a rate is computed from.
#[derive(Debug, Clone, Default)]
struct Raw {
    at: u64,
    ran: u64,
    errors: u64,
    refused: u64,
    latency: Vec<u64>,
}

impl Raw {
    fn of(v: &VersionStatus, at: u64) -> Raw {
        Raw {
            at,
            ran: v.stats.latency.iter().sum(),
            errors: v.stats.errors.values().sum(),
            refused: v.stats.errors.get("circuit_open").copied().unwrap_or(0),
            latency: v.stats.latency.clone(),
        }
    }
}

/// `now - then`, or `now` when the counter restarted.
fn delta(then: u64, now: u64) -> u64 {
    now.checked_sub(then).unwrap_or(now)
}

fn rates(from: &Raw, to: &Raw) -> Rates {
    let secs = (to.at.saturating_sub(from.at) as f64 / 1000.0).max(0.001);
    let restarted = to.ran < from.ran;
    let ran = delta(from.ran, to.ran);
    let errors = delta(from.errors, to.errors);
    let refused = delta(from.refused, to.refused);
    let latency: Vec<u64> = if restarted || from.latency.len() != to.latency.len() {
        to.latency.clone()
    } else {
        from.latency
            .iter()
            .zip(&to.latency)
            .map(|(a, b)| delta(*a, *b))
            .collect()
    };
    let ms = |q| latency_quantile(&latency, q).map(|d| d.as_secs_f64() * 1000.0);
    let attempts = ran + refused;
    Rates {
        calls_per_s: ran as f64 / secs,
        errors_per_s: errors as f64 / secs,
        error_rate: if attempts == 0 {
            0.0
        } else {
            (errors as f64 / attempts as f64).min(1.0)
        },
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
    }
}

#[derive(Default)]
struct VersionSeries {
    /// The last `RATE_WINDOW + 1` raw samples.
    raws: VecDeque<Raw>,
    /// Chart points, oldest first, at most `KEEP`.
    points: VecDeque<Point>,
    /// Rates over the window, as of the latest sample.
    rates: Rates,
}

#[derive(Default)]
struct Inner {
    next_tick: u64,
    /// `(tick, at)` of the last `KEEP` samples.
    ticks: VecDeque<(u64, u64)>,
    versions: BTreeMap<(String, String), VersionSeries>,
    latest: Option<Arc<Tick>>,
}

/// Every version's samples.
#[derive(Default)]
pub(crate) struct Samples {
    inner: Mutex<Inner>,
}

impl Samples {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one sample of `plugins` at `at` (Unix milliseconds).
    pub(crate) fn sample(&self, plugins: &[PluginStatus], at: u64) -> Arc<Tick> {
        let mut inner = self.lock();
        inner.next_tick += 1;
        let tick = inner.next_tick;
        let previous_at = inner.ticks.back().map(|(_, at)| *at);
        inner.ticks.push_back((tick, at));
        if inner.ticks.len() > KEEP {
            inner.ticks.pop_front();
        }
        let mut seen = BTreeMap::new();
        let mut versions = Vec::new();
        for plugin in plugins {
            for v in &plugin.versions {
                let key = (plugin.name.clone(), v.version.clone());
                let series = seen
                    .entry(key.clone())
                    .or_insert_with(|| inner.versions.remove(&key).unwrap_or_default());
                let raw = Raw::of(v, at);
                if series.raws.is_empty() {
                    // A version seen for the first time loaded since the previous sample
                    // (the console starts before the plugins load): its counters began at
                    // zero then.
                    series.raws.push_back(Raw {
                        at: previous_at
                            .unwrap_or(at.saturating_sub(SAMPLE_EVERY.as_millis() as u64)),
                        ..Raw::default()
                    });
                }
                let point = series.raws.back().map_or(
                    Point {
                        tick,
                        ..Point::default()
                    },
                    |previous| {
                        let r = rates(previous, &raw);
                        Point {
                            tick,
                            calls_per_s: r.calls_per_s,
                            errors_per_s: r.errors_per_s,
                            p50_ms: r.p50_ms,
                            p99_ms: r.p99_ms,
                        }
                    },
                );
                series.rates = series
                    .raws
                    .front()
                    .map(|oldest| rates(oldest, &raw))
                    .unwrap_or_default();
                series.raws.push_back(raw);
                if series.raws.len() > RATE_WINDOW + 1 {
                    series.raws.pop_front();
                }
                series.points.push_back(point);
                if series.points.len() > KEEP {
                    series.points.pop_front();
                }
                versions.push(TickVersion {
                    live: LiveVersion::new(&plugin.name, v, series.rates),
                    point,
                });
            }
        }
        // Versions not seen in this pass are no longer loaded: their series go.
        inner.versions = seen;
        let tick = Arc::new(Tick { tick, at, versions });
        inner.latest = Some(tick.clone());
        tick
    }

    /// The latest sample, if any was taken.
    pub(crate) fn latest(&self) -> Option<Arc<Tick>> {
        self.lock().latest.clone()
    }

    /// The rates of a version as of the latest sample.
    pub(crate) fn rates(&self, plugin: &str, version: &str) -> Rates {
        self.lock()
            .versions
            .get(&(plugin.to_string(), version.to_string()))
            .map(|s| s.rates)
            .unwrap_or_default()
    }

    /// The chart series of `plugin`: `{"every_ms", "t": [..], "versions": {"1.0.0":
    /// {"calls_per_s": [..], "errors_per_s": [..], "p50_ms": [..], "p99_ms": [..]}}}`, every
    /// array as long as `t` (`null` where a version had no sample).
    pub(crate) fn series(&self, plugin: &str) -> Value {
        let inner = self.lock();
        let t: Vec<u64> = inner.ticks.iter().map(|(_, at)| *at).collect();
        let mut versions = serde_json::Map::new();
        for ((name, version), series) in &inner.versions {
            if name != plugin {
                continue;
            }
            let mut points = series.points.iter().peekable();
            let mut columns: [Vec<Option<f64>>; 4] = Default::default();
            for (tick, _) in &inner.ticks {
                while points.next_if(|p| p.tick < *tick).is_some() {}
                let point = points.next_if(|p| p.tick == *tick);
                let values = point.map_or([None; 4], |p| {
                    [
                        Some(p.calls_per_s),
                        Some(p.errors_per_s),
                        p.p50_ms,
                        p.p99_ms,
                    ]
                });
                for (column, value) in columns.iter_mut().zip(values) {
                    column.push(value);
                }
            }
            let [calls, errors, p50, p99] = columns;
            versions.insert(
                version.clone(),
                json!({"calls_per_s": calls, "errors_per_s": errors, "p50_ms": p50, "p99_ms": p99}),
            );
        }
        json!({"plugin": plugin, "every_ms": SAMPLE_EVERY.as_millis() as u64, "t": t, "versions": versions})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmplug::CallStats;

    fn status(name: &str, versions: &[(&str, u64, u64)]) -> PluginStatus {
        let versions = versions
            .iter()
            .map(|&(version, ran, errors)| {
                let mut latency = vec![0; wasmplug::LATENCY_BUCKETS.len() + 1];
                latency[6] = ran; // (0.5 ms, 1 ms]
                let mut stats = CallStats {
                    latency,
                    ..CallStats::default()
                };
                if errors > 0 {
                    stats.errors.insert("guest".into(), errors);
                }
                VersionStatus {
                    version: version.into(),
                    weight: 50,
                    sha256: String::new(),
                    breaker: BreakerState::Closed,
                    calls: ran,
                    failures: 0,
                    instances: (0, 0),
                    functions: vec![],
                    stats,
                }
            })
            .collect();
        PluginStatus {
            name: name.into(),
            versions,
            current: None,
            rollback_to: None,
            degraded: None,
        }
    }

    #[test]
    fn rates_come_from_deltas_between_samples() {
        let samples = Samples::default();
        let first = samples.sample(&[status("p", &[("1.0.0", 100, 0)])], 1_000);
        assert_eq!(
            first.versions[0].point.calls_per_s, 100.0,
            "a new version counts from zero, over one interval"
        );
        let second = samples.sample(&[status("p", &[("1.0.0", 150, 10)])], 2_000);
        let v = &second.versions[0];
        assert_eq!(v.point.calls_per_s, 50.0);
        assert_eq!(v.point.errors_per_s, 10.0);
        // The window holds everything since the version appeared: 10 errors in 150 calls.
        assert!((v.live.rates.error_rate - 10.0 / 150.0).abs() < 1e-12);
        let p50 = v.point.p50_ms.unwrap();
        assert!((0.5..=1.0).contains(&p50), "{p50}");
        // A restarted counter counts from zero instead of going negative.
        let third = samples.sample(&[status("p", &[("1.0.0", 5, 0)])], 3_000);
        assert_eq!(third.versions[0].point.calls_per_s, 5.0);
        assert!(third.versions[0].live.rates.calls_per_s >= 0.0);
    }

    #[test]
    fn series_line_up_by_tick_and_forget_unloaded_versions() {
        let samples = Samples::default();
        samples.sample(&[status("p", &[("1.0.0", 0, 0)])], 1_000);
        samples.sample(&[status("p", &[("1.0.0", 10, 0), ("1.1.0", 0, 0)])], 2_000);
        samples.sample(&[status("p", &[("1.0.0", 20, 0), ("1.1.0", 5, 0)])], 3_000);
        let s = samples.series("p");
        assert_eq!(s["t"], json!([1_000, 2_000, 3_000]));
        assert_eq!(
            s["versions"]["1.0.0"]["calls_per_s"],
            json!([0.0, 10.0, 10.0])
        );
        assert_eq!(
            s["versions"]["1.1.0"]["calls_per_s"],
            json!([null, 0.0, 5.0])
        );
        // 20 calls since the version appeared (counted from zero one interval earlier).
        assert_eq!(samples.rates("p", "1.0.0").calls_per_s, 20.0 / 3.0);
        samples.sample(&[status("p", &[("1.1.0", 5, 0)])], 4_000);
        let s = samples.series("p");
        assert!(
            s["versions"].get("1.0.0").is_none(),
            "unloaded versions are dropped"
        );
        assert_eq!(s["t"].as_array().unwrap().len(), 4);
        assert_eq!(samples.series("other")["versions"], json!({}));
    }

    #[test]
    fn keeps_at_most_fifteen_minutes() {
        let samples = Samples::default();
        for i in 0..(KEEP as u64 + 20) {
            samples.sample(&[status("p", &[("1.0.0", i, 0)])], i * 1000);
        }
        let s = samples.series("p");
        assert_eq!(s["t"].as_array().unwrap().len(), KEEP);
        assert_eq!(
            s["versions"]["1.0.0"]["calls_per_s"]
                .as_array()
                .unwrap()
                .len(),
            KEEP
        );
        assert_eq!(samples.latest().unwrap().tick, KEEP as u64 + 20);
    }
}
