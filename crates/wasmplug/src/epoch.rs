//! The epoch clock: a ticker thread that advances a wasmtime engine's epoch with the wall
//! clock, and the deadline arithmetic that turns a timeout into epoch ticks.
//!
//! The ticker counts ticks it has *delivered* (`done`) against ticks *due* since it started.
//! A late wake-up (a loaded machine) delivers the missing ticks at once, so deadlines do not
//! stretch. A catch-up burst could make a deadline armed during the lag fire early, so the
//! epoch only *triggers* a check: the store's deadline callback (`plugin::instance`) compares
//! the call's real elapsed time with its timeout and extends the deadline when it is not yet
//! due. Arming a deadline reads no clock beyond the call's start time.

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
                    let due = (ticker.start.elapsed().as_nanos() / EPOCH_TICK.as_nanos()) as u64;
                    while ticker.done.load(Ordering::Relaxed) < due {
                        engine.increment_epoch();
                        ticker.done.fetch_add(1, Ordering::Release);
                    }
                }
            })?;
        Ok(clock)
    }

    /// Asks the ticker thread to finish.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Most ticks a deadline is armed with: wasmtime adds the current epoch to it, so it must
/// leave room for any epoch this process can reach (`u64::MAX / 2` ticks of 1 ms is 146
/// million years). A call without timeout is armed with it too.
pub(crate) const MAX_DEADLINE_TICKS: u64 = u64::MAX / 2;

/// `timeout` in ticks, rounded up, plus one (so a deadline never fires before `timeout`
/// because the call started just before a tick), at most [`MAX_DEADLINE_TICKS`].
pub(crate) fn timeout_ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
    u64::try_from(ticks)
        .unwrap_or(u64::MAX)
        .saturating_add(1)
        .min(MAX_DEADLINE_TICKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_rounds_up_and_adds_a_tick() {
        assert_eq!(timeout_ticks(Duration::ZERO), 1);
        assert_eq!(timeout_ticks(Duration::from_micros(1)), 2);
        assert_eq!(timeout_ticks(Duration::from_secs(1)), 1001);
        // Regression (issue 11, item 11): a huge timeout must not overflow the epoch sum.
        assert_eq!(timeout_ticks(Duration::MAX), MAX_DEADLINE_TICKS);
        let huge = Duration::from_millis(u64::MAX);
        assert_eq!(timeout_ticks(huge), MAX_DEADLINE_TICKS);
    }
}
