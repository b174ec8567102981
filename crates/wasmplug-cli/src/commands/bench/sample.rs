//! The measuring loop of `wasmplug bench`: how long each caller calls ([`Span`]), and the
//! latency histogram of what it measured.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long each caller calls: for a time, or for a number of calls (a workload that repeats
/// exactly, for instruction counts under valgrind).
#[derive(Debug, Clone, Copy)]
pub(super) enum Span {
    /// Call for `warmup`, then measure for `measure`.
    Time { warmup: Duration, measure: Duration },
    /// Make `warmup` calls, then measure `measure` calls.
    Calls { warmup: u64, measure: u64 },
}

/// What one caller measured.
#[derive(Default)]
pub(super) struct Sample {
    pub(super) hist: Histogram,
    pub(super) errors: HashMap<&'static str, u64>,
    /// When the first measured call started.
    pub(super) started: Option<Instant>,
    /// When the last measured call ended.
    pub(super) finished: Option<Instant>,
}

impl Sample {
    pub(super) fn merge(&mut self, other: Sample) {
        self.hist.merge(&other.hist);
        for (class, n) in other.errors {
            *self.errors.entry(class).or_default() += n;
        }
        self.started = match (self.started, other.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.finished = self.finished.max(other.finished);
    }

    fn measure(&mut self, from: Instant, to: Instant, result: Result<(), &'static str>) {
        self.started.get_or_insert(from);
        self.hist
            .record((to - from).as_nanos().try_into().unwrap_or(u64::MAX));
        if let Err(class) = result {
            *self.errors.entry(class).or_default() += 1;
        }
        self.finished = Some(to);
    }
}

/// Calls `call` for `span` from `t0` (the moment every caller starts), timing and counting
/// the measured calls. One clock read per call: a call's end is the next one's start.
pub(super) fn sample(
    call: &mut impl FnMut() -> Result<(), &'static str>,
    t0: Instant,
    span: Span,
) -> Sample {
    let mut out = Sample::default();
    match span {
        Span::Time { warmup, measure } => {
            let (measure_from, end) = (t0 + warmup, t0 + warmup + measure);
            let mut now = Instant::now();
            while now < end {
                let result = call();
                let after = Instant::now();
                if now >= measure_from {
                    out.measure(now, after, result);
                }
                now = after;
            }
        }
        Span::Calls { warmup, measure } => {
            for _ in 0..warmup {
                let _ = call();
            }
            let mut now = Instant::now();
            for _ in 0..measure {
                let result = call();
                let after = Instant::now();
                out.measure(now, after, result);
                now = after;
            }
        }
    }
    out
}

/// A log-linear latency histogram in nanoseconds: exact below 128 ns, then 64 buckets per
/// power of two (under 1.6 % relative error), like HdrHistogram with 2 significant digits.
pub(super) struct Histogram {
    counts: Vec<u64>,
    pub(super) count: u64,
    pub(super) sum: u128,
    pub(super) max: u64,
}

/// Sub-buckets per power of two above the exact range.
const SUB_BUCKETS: u64 = 64;
const EXACT: u64 = 2 * SUB_BUCKETS;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; Self::index(u64::MAX) + 1],
            count: 0,
            sum: 0,
            max: 0,
        }
    }
}

impl Histogram {
    fn index(v: u64) -> usize {
        if v < EXACT {
            return v as usize;
        }
        let shift = 63 - v.leading_zeros() as u64 - 6; // >= 1
        let mantissa = v >> shift; // in 64..128
        (EXACT + (shift - 1) * SUB_BUCKETS + (mantissa - SUB_BUCKETS)) as usize
    }

    /// The highest value that falls in bucket `index`.
    fn highest(index: usize) -> u64 {
        let index = index as u64;
        if index < EXACT {
            return index;
        }
        let shift = (index - EXACT) / SUB_BUCKETS + 1;
        let mantissa = (index - EXACT) % SUB_BUCKETS + SUB_BUCKETS;
        let next = u128::from(mantissa + 1) << shift;
        u64::try_from(next - 1).unwrap_or(u64::MAX)
    }

    fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.count += 1;
        self.sum += u128::from(ns);
        self.max = self.max.max(ns);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// The value at quantile `q` (0..=1), at most `max`.
    pub(super) fn percentile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::highest(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_spans_make_exactly_the_calls_asked_for() {
        let mut made = 0u64;
        let mut call = || {
            made += 1;
            if made.is_multiple_of(4) {
                Err("guest")
            } else {
                Ok(())
            }
        };
        let out = sample(
            &mut call,
            Instant::now(),
            Span::Calls {
                warmup: 3,
                measure: 10,
            },
        );
        assert_eq!(made, 13);
        assert_eq!(out.hist.count, 10);
        // Calls 4, 8 and 12 failed, all after the 3 warmup calls; call 16 was never made.
        assert_eq!(out.errors.get("guest"), Some(&3));
        assert!(out.started.is_some() && out.finished >= out.started);
    }

    #[test]
    fn histogram_buckets_round_trip_within_precision() {
        for v in [0, 1, 127, 128, 129, 1000, 65_535, 1 << 40, u64::MAX] {
            let i = Histogram::index(v);
            assert!(Histogram::highest(i) >= v, "{v}");
            if i > 0 {
                assert!(Histogram::highest(i - 1) < v, "{v}");
            }
        }
        let mut h = Histogram::default();
        for v in 1..=1000 {
            h.record(v * 100);
        }
        let p50 = h.percentile(0.5) as f64;
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.02, "{p50}");
        assert_eq!(h.percentile(1.0), 100_000);
        assert_eq!(h.max, 100_000);
    }
}
