//! The call clock: when a call started, read cheaply on every call.
//!
//! Every call records its start for the deadline check. `Instant::now()` costs ~20 ns in a
//! VM (a TSC read through the vDSO), a noticeable share of a ~100 ns call. On Linux the
//! coarse monotonic clock (`CLOCK_MONOTONIC_COARSE`, the kernel's last tick, ~1-4 ms
//! resolution) is read without touching the TSC. Deadlines stay exact in the direction that
//! matters: [`Stamp::elapsed_at_most`] is a lower bound of the real time passed, so a call is
//! never stopped before its timeout (at most one clock resolution after it).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A moment on the call clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp(u64);

impl Stamp {
    /// Now.
    pub(crate) fn now() -> Stamp {
        Stamp(now_nanos())
    }

    /// The time passed since `self` as the clock sees it (each end may lag the real moment
    /// by up to one resolution).
    pub(crate) fn elapsed(self) -> Duration {
        Duration::from_nanos(now_nanos().saturating_sub(self.0))
    }

    /// At most the real time passed since `self`: a deadline decided on it never fires
    /// early.
    pub(crate) fn elapsed_at_most(self) -> Duration {
        self.elapsed().saturating_sub(resolution())
    }

    /// At least the real time passed since `self`: work bounded by it never outlasts a
    /// deadline.
    pub(crate) fn elapsed_at_least(self) -> Duration {
        self.elapsed() + resolution()
    }
}

/// The clock's resolution (zero for a precise clock).
pub(crate) fn resolution() -> Duration {
    static RES: OnceLock<Duration> = OnceLock::new();
    *RES.get_or_init(|| {
        #[cfg(target_os = "linux")]
        {
            let ts = rustix::time::clock_getres(rustix::time::ClockId::MonotonicCoarse);
            let res = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
            // A coarse clock slower than 10 ms would make deadlines sloppy: use the precise one.
            if res <= Duration::from_millis(10) {
                return res;
            }
        }
        Duration::ZERO
    })
}

#[cfg(target_os = "linux")]
fn now_nanos() -> u64 {
    if resolution().is_zero() {
        return precise_nanos();
    }
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(not(target_os = "linux"))]
fn now_nanos() -> u64 {
    precise_nanos()
}

/// Nanoseconds since the first use, from `Instant`.
fn precise_nanos() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_bracket_the_real_elapsed_time() {
        let stamp = Stamp::now();
        let real = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let (low, high) = (stamp.elapsed_at_most(), stamp.elapsed_at_least());
        let real = real.elapsed();
        assert!(
            low <= real + Duration::from_micros(100),
            "{low:?} > {real:?}"
        );
        assert!(
            high + Duration::from_micros(100) >= real,
            "{high:?} < {real:?}"
        );
        assert!(resolution() <= Duration::from_millis(10));
    }
}
