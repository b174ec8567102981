//! The epoch clock: a ticker thread that advances a wasmtime engine's epoch with the wall
//! clock, and the deadline arithmetic that turns a timeout into epoch ticks.
//!
//! The ticker counts ticks it has *delivered* (`done`) against ticks *due* since it started.
//! A late wake-up (a loaded machine) delivers the missing ticks at once, so deadlines do not
//! stretch; and a deadline armed while the ticker lags adds the lag, so the catch-up burst
//! does not fire it early. Deadlines are therefore accurate to about one tick either way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Granularity of call deadlines: the epoch advances once per tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Shared between the ticker thread and the engine.
#[derive(Debug)]
pub(crate) struct EpochClock {
    start: Instant,
    done: AtomicU64,
    stop: AtomicBool,
}

impl EpochClock {
    /// Starts the ticker thread for `engine`. It stops when [`EpochClock::stop`] is called.
    pub(crate) fn start(engine: wasmtime::Engine) -> std::io::Result<Arc<EpochClock>> {
        let clock = Arc::new(EpochClock {
            start: Instant::now(),
            done: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let ticker = clock.clone();
        std::thread::Builder::new()
            .name("wasmplug-epoch".into())
            .spawn(move || {
                while !ticker.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    let due = ticker.due();
                    while ticker.done.load(Ordering::Relaxed) < due {
                        engine.increment_epoch();
                        ticker.done.fetch_add(1, Ordering::Release);
                    }
                }
            })?;
        Ok(clock)
    }

    fn due(&self) -> u64 {
        (self.start.elapsed().as_nanos() / EPOCH_TICK.as_nanos()) as u64
    }

    /// Asks the ticker thread to finish.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Ticks beyond the current epoch after which a call armed now with `timeout` must stop:
    /// the timeout rounded up, plus one tick so it never fires early, plus the ticks the
    /// ticker still owes.
    pub(crate) fn deadline_ticks(&self, timeout: Duration) -> u64 {
        let lag = self.due().saturating_sub(self.done.load(Ordering::Acquire));
        timeout_ticks(timeout).saturating_add(lag)
    }
}

/// `timeout` in ticks, rounded up, plus one.
fn timeout_ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
    u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_rounds_up_and_adds_a_tick() {
        assert_eq!(timeout_ticks(Duration::ZERO), 1);
        assert_eq!(timeout_ticks(Duration::from_micros(1)), 2);
        assert_eq!(timeout_ticks(Duration::from_secs(1)), 1001);
        assert_eq!(timeout_ticks(Duration::MAX), u64::MAX);
    }

    #[test]
    fn lag_is_added_to_the_deadline() {
        let clock = EpochClock {
            start: Instant::now() - Duration::from_millis(50),
            done: AtomicU64::new(40),
            stop: AtomicBool::new(true),
        };
        let ticks = clock.deadline_ticks(Duration::from_millis(100));
        assert!(
            (111..=115).contains(&ticks),
            "101 + ~10 owed ticks, got {ticks}"
        );
    }
}
