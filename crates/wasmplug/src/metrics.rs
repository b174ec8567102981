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
//! | `wasmplug_trust_audit_errors_total` | counter | (none) |
//!
//! Calls refused before a version was chosen count in `wasmplug_call_errors_total` too:
//! `plugin_not_found` with `plugin=""` and `version_not_found` / `no_route` with
//! `version=""` (requested names are not labels, so callers cannot grow the series set).
//! Every family has a description (`# HELP`), registered on first use.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{
    Counter, Gauge, Histogram, Unit, counter, describe_counter, describe_gauge, describe_histogram,
    gauge, histogram,
};

use crate::breaker::BreakerState;
use crate::call_stats::{CallStats, StatsRecorder};
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
    /// The same calls, readable in process ([`crate::VersionStatus::stats`]).
    stats: StatsRecorder,
}

/// Registers the description of every family with the installed recorder, once.
pub(crate) fn describe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        describe_counter!("wasmplug_calls_total", "Plugin calls, by function");
        describe_counter!(
            "wasmplug_call_errors_total",
            "Failed plugin calls, by error class"
        );
        describe_histogram!(
            "wasmplug_call_duration_seconds",
            Unit::Seconds,
            "Duration of plugin calls (routing, instance, guest code)"
        );
        describe_gauge!("wasmplug_calls_in_flight", "Plugin calls running now");
        describe_gauge!(
            "wasmplug_instances_live",
            "Instances that exist (busy or idle)"
        );
        describe_gauge!("wasmplug_instances_idle", "Instances ready for a call");
        describe_counter!("wasmplug_fuel_consumed_total", "Fuel consumed by calls");
        describe_gauge!(
            "wasmplug_memory_high_water_bytes",
            Unit::Bytes,
            "Most linear memory and table bytes an instance held after a call"
        );
        describe_gauge!(
            "wasmplug_breaker_state",
            "Circuit breaker: 0 closed, 1 half-open, 2 open"
        );
        describe_counter!(
            "wasmplug_reloads_total",
            "Load attempts of plugin candidates, by result"
        );
        describe_counter!(
            "wasmplug_log_dropped_total",
            "Plugin log lines dropped by the per-plugin rate limit"
        );
        describe_counter!(
            "wasmplug_trust_verdicts_total",
            "Trust-policy verdicts on plugin modules, by verdict and reason"
        );
        describe_counter!(
            "wasmplug_trust_audit_errors_total",
            "Trust verdicts that could not be appended to the audit log"
        );
        describe_counter!(
            "wasmplug_contract_breaking_total",
            "Breaking contract changes of refused candidates, by change kind"
        );
    });
}

/// Counts a call refused before a version was chosen.
pub(crate) fn routing_error(e: &Error) {
    describe();
    let (plugin, version) = match e {
        Error::PluginNotFound { .. } => (String::new(), String::new()),
        Error::VersionNotFound { name, .. } | Error::NoRoute { name } => {
            (name.clone(), String::new())
        }
        _ => return,
    };
    counter!("wasmplug_call_errors_total", "plugin" => plugin, "version" => version, "class" => e.class()).increment(1);
}

impl VersionMetrics {
    pub(crate) fn new(plugin: &str, version: &str, functions: &[String]) -> VersionMetrics {
        describe();
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
            stats: StatsRecorder::default(),
            plugin: p,
            version: v,
        }
    }

    pub(crate) fn started(&self) {
        self.in_flight.increment(1.0);
        self.stats.started();
    }

    /// The in-process statistics of this version.
    pub(crate) fn stats(&self) -> CallStats {
        self.stats
            .snapshot(self.memory_high.load(Ordering::Relaxed))
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
        self.stats
            .finished(elapsed, usage.and_then(|(fuel, _)| fuel));
        if let Some(e) = error {
            self.error(e);
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

    /// Counts a failed call of this version.
    pub(crate) fn error(&self, e: &Error) {
        self.stats.error(e);
        counter!("wasmplug_call_errors_total", "plugin" => self.plugin.clone(), "version" => self.version.clone(), "class" => e.class()).increment(1);
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
    describe();
    let result = if loaded { "loaded" } else { "rejected" };
    counter!("wasmplug_reloads_total", "plugin" => plugin.to_string(), "result" => result)
        .increment(1);
}

/// Counts a trust-policy verdict (reason: `signed`, `unverified` or an
/// [`crate::trust::UntrustedReason::class`]).
pub(crate) fn trust_verdict(plugin: &str, verdict: crate::trust::Verdict, reason: &str) {
    describe();
    counter!("wasmplug_trust_verdicts_total", "plugin" => plugin.to_string(), "verdict" => verdict.as_str(), "reason" => reason.to_string())
        .increment(1);
}

/// Counts one breaking change of a refused candidate.
pub(crate) fn breaking_change(plugin: &str, change: &'static str) {
    describe();
    counter!("wasmplug_contract_breaking_total", "plugin" => plugin.to_string(), "change" => change)
        .increment(1);
}
