//! A circuit breaker per plugin version.
//!
//! `Closed`: calls flow; `failure_threshold` consecutive failures open it. `Open`: calls fail
//! fast with [`crate::Error::CircuitOpen`] until `reset_timeout` has passed. `HalfOpen`: one
//! probe call is let through; its success closes the breaker, its failure opens it again.
//! Failures are faults of the plugin (traps, timeouts, limits, ABI violations), not error
//! values it chose to return, and not `Busy`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::units::{de_duration_required, ser_duration_required};

/// Breaker thresholds (`[breaker]` in `plugin.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker. By default 5.
    pub failure_threshold: u32,
    /// How long the breaker stays open before a probe. By default 10 s.
    #[serde(
        deserialize_with = "de_duration_required",
        serialize_with = "ser_duration_required"
    )]
    pub reset_timeout: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            reset_timeout: Duration::from_secs(10),
        }
    }
}

/// The state of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls fail fast.
    Open,
    /// One probe call is in flight or allowed.
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
}

/// One breaker.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// Whether a call may proceed, and if it is the half-open probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permit {
    Allowed { probe: bool },
    Rejected { retry_after: Duration },
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_at: None,
                probe_in_flight: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current state (an open breaker whose timeout passed reports `HalfOpen`).
    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.state {
            BreakerState::Open if self.reset_due(&inner) => BreakerState::HalfOpen,
            s => s,
        }
    }

    fn reset_due(&self, inner: &Inner) -> bool {
        inner
            .opened_at
            .is_some_and(|t| t.elapsed() >= self.config.reset_timeout)
    }

    pub(crate) fn permit(&self) -> Permit {
        let mut inner = self.lock();
        match inner.state {
            BreakerState::Closed => Permit::Allowed { probe: false },
            BreakerState::Open if self.reset_due(&inner) => {
                inner.state = BreakerState::HalfOpen;
                inner.probe_in_flight = true;
                Permit::Allowed { probe: true }
            }
            BreakerState::HalfOpen if !inner.probe_in_flight => {
                inner.probe_in_flight = true;
                Permit::Allowed { probe: true }
            }
            _ => Permit::Rejected {
                retry_after: inner
                    .opened_at
                    .map(|t| self.config.reset_timeout.saturating_sub(t.elapsed()))
                    .unwrap_or(self.config.reset_timeout),
            },
        }
    }

    /// Gives back a probe permit whose call proved nothing (e.g. it was turned away as
    /// `Busy`), so another call can probe.
    pub(crate) fn cancel_probe(&self) {
        self.lock().probe_in_flight = false;
    }

    /// Records a call's outcome. Returns the new state if it changed.
    pub(crate) fn record(&self, success: bool, probe: bool) -> Option<BreakerState> {
        let mut inner = self.lock();
        let before = inner.state;
        if probe {
            inner.probe_in_flight = false;
        }
        if success {
            inner.consecutive_failures = 0;
            if inner.state == BreakerState::HalfOpen && probe {
                inner.state = BreakerState::Closed;
                inner.opened_at = None;
            }
        } else {
            inner.consecutive_failures += 1;
            let trip = probe || inner.consecutive_failures >= self.config.failure_threshold;
            if trip && inner.state != BreakerState::Open {
                inner.state = BreakerState::Open;
                inner.opened_at = Some(Instant::now());
            }
        }
        (inner.state != before).then_some(inner.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(threshold: u32, reset: Duration) -> Breaker {
        Breaker::new(BreakerConfig {
            failure_threshold: threshold,
            reset_timeout: reset,
        })
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = breaker(3, Duration::from_secs(60));
        b.record(false, false);
        b.record(false, false);
        b.record(true, false);
        b.record(false, false);
        b.record(false, false);
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "a success resets the count"
        );
        assert_eq!(b.record(false, false), Some(BreakerState::Open));
        assert!(matches!(b.permit(), Permit::Rejected { .. }));
    }

    #[test]
    fn half_open_probe_decides() {
        let b = breaker(1, Duration::from_millis(20));
        b.record(false, false);
        assert!(matches!(b.permit(), Permit::Rejected { .. }));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.permit(), Permit::Allowed { probe: true });
        assert!(
            matches!(b.permit(), Permit::Rejected { .. }),
            "one probe at a time"
        );
        assert_eq!(
            b.record(false, true),
            Some(BreakerState::Open),
            "failed probe reopens"
        );
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.permit(), Permit::Allowed { probe: true });
        assert_eq!(b.record(true, true), Some(BreakerState::Closed));
        assert_eq!(b.permit(), Permit::Allowed { probe: false });
    }
}
