//! Metrics of registry calls, through the `metrics` facade.
//!
//! The embedding application installs a recorder (the gateway installs a Prometheus
//! exporter) *before* creating the registry; handles are registered once per plugin version
//! so that a call records without building label sets. Names:
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `wasmplug_calls_total` | counter | plugin, version, function |
//! | `wasmplug_call_errors_total` | counter | plugin, version, class |
//! | `wasmplug_call_duration_seconds` | histogram | plugin, version |
//! | `wasmplug_calls_in_flight` | gauge | plugin, version |
//! | `wasmplug_instances_live` / `wasmplug_instances_idle` | gauge | plugin, version |
//! | `wasmplug_fuel_consumed_total` | counter | plugin, version |
//! | `wasmplug_memory_high_water_bytes` | gauge | plugin, version |
//! | `wasmplug_breaker_state` | gauge (0 closed, 1 half-open, 2 open) | plugin, version |
//! | `wasmplug_reloads_total` | counter | plugin, result (`loaded` / `rejected`) |
//! | `wasmplug_trust_verdicts_total` | counter | plugin, verdict (`accepted` / `refused`), reason |
//! | `wasmplug_contract_breaking_total` | counter | plugin, change (a breaking change kind) |

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};

use crate::breaker::BreakerState;
use crate::error::Error;

/// Metric handles of one plugin version.
pub(crate) struct VersionMetrics {
    plugin: String,
    version: String,
    calls: Vec<Counter>,
    duration: Histogram,
    in_flight: Gauge,
    live: Gauge,
    idle: Gauge,
    fuel: Counter,
    memory: Gauge,
    memory_high: AtomicU64,
    breaker: Gauge,
}

impl VersionMetrics {
    pub(crate) fn new(plugin: &str, version: &str, functions: &[String]) -> VersionMetrics {
        let (p, v) = (plugin.to_string(), version.to_string());
        let labels = [("plugin", p.clone()), ("version", v.clone())];
        VersionMetrics {
            calls: functions
                .iter()
                .map(|f| {
                    counter!("wasmplug_calls_total", "plugin" => p.clone(), "version" => v.clone(), "function" => f.clone())
                })
                .collect(),
            duration: histogram!("wasmplug_call_duration_seconds", &labels),
            in_flight: gauge!("wasmplug_calls_in_flight", &labels),
            live: gauge!("wasmplug_instances_live", &labels),
            idle: gauge!("wasmplug_instances_idle", &labels),
            fuel: counter!("wasmplug_fuel_consumed_total", &labels),
            memory: gauge!("wasmplug_memory_high_water_bytes", &labels),
            memory_high: AtomicU64::new(0),
            breaker: gauge!("wasmplug_breaker_state", &labels),
            plugin: p,
            version: v,
        }
    }

    pub(crate) fn started(&self) {
        self.in_flight.increment(1.0);
    }

    /// Records one finished call of function number `function` (if known).
    pub(crate) fn finished(
        &self,
        function: Option<usize>,
        elapsed: Duration,
        error: Option<&Error>,
        usage: Option<(Option<u64>, u64)>,
    ) {
        self.in_flight.decrement(1.0);
        if let Some(counter) = function.and_then(|i| self.calls.get(i)) {
            counter.increment(1);
        }
        self.duration.record(elapsed.as_secs_f64());
        if let Some(e) = error {
            counter!("wasmplug_call_errors_total", "plugin" => self.plugin.clone(), "version" => self.version.clone(), "class" => e.class()).increment(1);
        }
        if let Some((fuel, memory)) = usage {
            if let Some(fuel) = fuel {
                self.fuel.increment(fuel);
            }
            if self.memory_high.fetch_max(memory, Ordering::Relaxed) < memory {
                self.memory.set(memory as f64);
            }
        }
    }

    pub(crate) fn instances(&self, (live, idle): (usize, usize)) {
        self.live.set(live as f64);
        self.idle.set(idle as f64);
    }

    pub(crate) fn breaker(&self, state: BreakerState) {
        self.breaker.set(match state {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        });
    }
}

/// Counts a reload attempt.
pub(crate) fn reload(plugin: &str, loaded: bool) {
    let result = if loaded { "loaded" } else { "rejected" };
    counter!("wasmplug_reloads_total", "plugin" => plugin.to_string(), "result" => result)
        .increment(1);
}

/// Counts a trust-policy verdict (reason: `signed`, `unverified` or an
/// [`crate::trust::UntrustedReason::class`]).
pub(crate) fn trust_verdict(plugin: &str, verdict: crate::trust::Verdict, reason: &str) {
    counter!("wasmplug_trust_verdicts_total", "plugin" => plugin.to_string(), "verdict" => verdict.as_str(), "reason" => reason.to_string())
        .increment(1);
}

/// Counts one breaking change of a refused candidate.
pub(crate) fn breaking_change(plugin: &str, change: &'static str) {
    counter!("wasmplug_contract_breaking_total", "plugin" => plugin.to_string(), "change" => change)
        .increment(1);
}
