//! The `log` host function: guest log lines into the host's `tracing`, rate-limited per
//! plugin so that a flood cannot drown the host's logs.
//!
//! A token bucket per plugin (shared by all its instances) refills at
//! [`crate::Limits::log_lines_per_second`] and holds at most one second's worth. Lines
//! beyond it are dropped and counted; the next line that passes is preceded by one warning
//! saying how many were dropped, and the `wasmplug_log_dropped_total` counter grows.

use std::sync::Mutex;
use std::time::Instant;

use super::context::CallContext;

/// Longest log line kept, in bytes; longer ones are cut.
pub(crate) const MAX_LOG_LINE: usize = 4096;

/// Per-plugin token bucket.
#[derive(Debug)]
pub(crate) struct LogLimiter {
    per_second: f64,
    state: Mutex<Bucket>,
    /// `wasmplug_log_dropped_total{plugin}`, registered once: a flood must not cost a label
    /// allocation and a registry lookup per dropped line.
    dropped_total: metrics::Counter,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    dropped: u64,
}

/// The limiter's verdict on one line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Log it; `dropped` lines were refused since the last one that passed.
    Pass { dropped: u64 },
    /// Drop it.
    Drop,
}

impl LogLimiter {
    /// A bucket allowing `per_second` lines per second (0 drops everything) for `plugin`.
    pub(crate) fn new(per_second: u32, plugin: &str) -> LogLimiter {
        crate::metrics::describe();
        LogLimiter {
            per_second: f64::from(per_second),
            state: Mutex::new(Bucket {
                tokens: f64::from(per_second),
                refilled: Instant::now(),
                dropped: 0,
            }),
            dropped_total: metrics::counter!(
                "wasmplug_log_dropped_total",
                "plugin" => plugin.to_string()
            ),
        }
    }

    pub(crate) fn check(&self, now: Instant) -> Verdict {
        let mut b = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(b.refilled).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.per_second);
        b.refilled = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Verdict::Pass {
                dropped: std::mem::take(&mut b.dropped),
            }
        } else {
            b.dropped += 1;
            Verdict::Drop
        }
    }
}

/// Emits one guest log line (level 0 trace .. 4 error; others are clamped).
pub(crate) fn emit(limiter: &LogLimiter, ctx: &CallContext, level: i32, message: &[u8]) {
    let dropped = match limiter.check(Instant::now()) {
        Verdict::Pass { dropped } => dropped,
        Verdict::Drop => {
            limiter.dropped_total.increment(1);
            return;
        }
    };
    let (plugin, version, function) = (ctx.plugin(), ctx.version(), ctx.function());
    let request_id = ctx.request_id().unwrap_or("");
    if dropped > 0 {
        tracing::warn!(
            target: "wasmplug::plugin",
            plugin, version, dropped,
            "{dropped} log lines of plugin `{plugin}` dropped by the rate limit"
        );
    }
    let cut = message.len().min(MAX_LOG_LINE);
    let text = String::from_utf8_lossy(&message[..cut]);
    let text = text.trim_end();
    macro_rules! at {
        ($level:ident) => {
            tracing::$level!(target: "wasmplug::plugin", plugin, version, function, request_id, "{text}")
        };
    }
    match level {
        i32::MIN..=0 => at!(trace),
        1 => at!(debug),
        2 => at!(info),
        3 => at!(warn),
        _ => at!(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_passes_its_rate_then_drops_and_reports() {
        let limiter = LogLimiter::new(10, "p");
        let t0 = Instant::now();
        for _ in 0..10 {
            assert_eq!(limiter.check(t0), Verdict::Pass { dropped: 0 });
        }
        for _ in 0..5 {
            assert_eq!(limiter.check(t0), Verdict::Drop);
        }
        // 100 ms refills one token; the line that passes reports the five dropped.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(limiter.check(t1), Verdict::Pass { dropped: 5 });
        assert_eq!(limiter.check(t1), Verdict::Drop);
        // A long pause refills at most one second's worth.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..10 {
            assert!(matches!(limiter.check(t2), Verdict::Pass { .. }));
        }
        assert_eq!(limiter.check(t2), Verdict::Drop);
    }

    #[test]
    fn zero_rate_drops_everything() {
        let limiter = LogLimiter::new(0, "p");
        assert_eq!(limiter.check(Instant::now()), Verdict::Drop);
    }
}
