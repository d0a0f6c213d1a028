//! A log-linear histogram of durations, for percentiles in bounded memory.
//!
//! The latency and stats tracers see one sample per buffer for as long as a
//! pipeline runs, so keeping every sample is out of the question. Each power
//! of two of nanoseconds is split into 32 linear sub-buckets (the HDR
//! histogram idea), so any percentile is within about 3 % of the true value,
//! in a fixed 1 920 counters; count, minimum, maximum and sum are exact.
//!
//! Beside them, exact counts per fixed bin ([`BIN_BOUNDS`], 0.5 ms to 1 s)
//! feed Prometheus histograms: a scraper aggregates and compares fixed
//! buckets across processes and time, which quantiles cannot do.

use std::fmt;
use std::time::Duration;

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = ((64 - SUB_BITS) as usize + 1) * SUB as usize;

/// How many fixed bins a [`Summary`] carries (`+Inf` aside).
pub const BINS: usize = 11;

/// The fixed bins' inclusive upper bounds (Prometheus' `le`): a 1-2-5
/// series from 0.5 ms to 1 s, which spans a frame's stages from a pad push
/// to a browser's glass. Samples above the last fall in `+Inf` only.
pub const BIN_BOUNDS: [Duration; BINS] = [
    Duration::from_micros(500),
    Duration::from_millis(1),
    Duration::from_millis(2),
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(20),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_secs(1),
];

/// The bin a sample of `ns` falls in: the first bound at or above it;
/// [`BINS`] when above all of them.
fn bin(ns: u64) -> usize {
    BIN_BOUNDS.partition_point(|b| b.as_nanos() < u128::from(ns))
}

/// Durations recorded with about 3 % resolution.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    /// Exact samples per fixed bin (not cumulative); `BINS` is `+Inf`.
    bins: [u64; BINS + 1],
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.summary(), f)
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= SUB_BITS
    let sub = (v >> (e - SUB_BITS)) & (SUB - 1);
    ((e - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// The smallest value that falls in bucket `i`, and the bucket's width.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, 1);
    }
    let e = i / SUB - 1 + SUB_BITS as u64;
    let sub = i % SUB;
    let width = 1u64 << (e - SUB_BITS as u64);
    ((1u64 << e) + sub * width, width)
}

impl Histogram {
    /// An empty histogram. Its counters are allocated on the first sample.
    pub fn new() -> Histogram {
        Histogram {
            counts: Vec::new(),
            bins: [0; BINS + 1],
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Adds one sample.
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        if let Some(c) = self.counts.get_mut(index(ns)) {
            *c += 1;
        }
        if let Some(b) = self.bins.get_mut(bin(ns)) {
            *b += 1;
        }
        self.count += 1;
        self.sum += u128::from(ns);
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of all samples (exact).
    pub fn sum(&self) -> Duration {
        let secs = u64::try_from(self.sum / 1_000_000_000).unwrap_or(u64::MAX);
        Duration::new(secs, (self.sum % 1_000_000_000) as u32)
    }

    /// The value below which a fraction `q` (0.0–1.0) of the samples fall:
    /// the middle of the bucket holding that rank, clamped to the exact
    /// minimum and maximum. Zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (low, width) = bounds(i);
                let mid = low.saturating_add(width / 2);
                return Duration::from_nanos(mid.clamp(self.min, self.max));
            }
        }
        Duration::from_nanos(self.max)
    }

    /// Count, sum, mean, minimum, p50, p90, p99, maximum and the
    /// cumulative fixed bins.
    pub fn summary(&self) -> Summary {
        let mut bins = [0u64; BINS];
        let mut seen = 0;
        for (cum, n) in bins.iter_mut().zip(&self.bins) {
            seen += n;
            *cum = seen;
        }
        let (min, mean) = if self.count == 0 {
            (Duration::ZERO, Duration::ZERO)
        } else {
            let mean = u64::try_from(self.sum / u128::from(self.count)).unwrap_or(u64::MAX);
            (Duration::from_nanos(self.min), Duration::from_nanos(mean))
        };
        Summary {
            count: self.count,
            sum: self.sum(),
            bins,
            min,
            mean,
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p99: self.quantile(0.99),
            max: Duration::from_nanos(self.max),
        }
    }
}

/// The figures reported for one series of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Sum of all samples (exact).
    pub sum: Duration,
    /// Samples at or below each of [`BIN_BOUNDS`], cumulative as
    /// Prometheus' `_bucket{le=...}` (exact); `+Inf`'s is `count`.
    pub bins: [u64; BINS],
    /// Smallest sample (exact).
    pub min: Duration,
    /// Mean (exact).
    pub mean: Duration,
    /// Median (±3 %).
    pub p50: Duration,
    /// 90th percentile (±3 %).
    pub p90: Duration,
    /// 99th percentile (±3 %).
    pub p99: Duration,
    /// Largest sample (exact).
    pub max: Duration,
}

/// Formats a duration with a unit that keeps 3 significant digits.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{:.1}µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2}ms", ns as f64 / 1e6)
    } else {
        format!("{:.3}s", ns as f64 / 1e9)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "count {} p50 {} p90 {} p99 {} max {}",
            self.count,
            fmt_duration(self.p50),
            fmt_duration(self.p90),
            fmt_duration(self.p99),
            fmt_duration(self.max)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_bounds_agree() {
        for v in (0..5000u64).chain([u64::MAX, u64::MAX / 3, 1 << 40, (1 << 40) - 1]) {
            let i = index(v);
            assert!(i < BUCKETS, "{v} -> {i}");
            let (low, width) = bounds(i);
            assert!(
                low <= v && v - low < width,
                "{v}: bucket {i} = [{low}, +{width})"
            );
        }
    }

    #[test]
    fn percentiles_within_three_percent() {
        let mut h = Histogram::new();
        for us in 1..=10_000u64 {
            h.record(Duration::from_micros(us));
        }
        let s = h.summary();
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min, Duration::from_micros(1));
        assert_eq!(s.max, Duration::from_micros(10_000));
        for (got, want) in [(s.p50, 5_000.0), (s.p90, 9_000.0), (s.p99, 9_900.0)] {
            let got = got.as_nanos() as f64 / 1e3;
            assert!((got - want).abs() / want < 0.03, "got {got} want {want}");
        }
        let mean = s.mean.as_nanos() as f64 / 1e3;
        assert!((mean - 5000.5).abs() < 0.01);
    }

    #[test]
    fn empty_single_and_merge() {
        let h = Histogram::new();
        assert_eq!(h.summary(), Summary::default());
        let mut a = Histogram::new();
        a.record(Duration::from_nanos(7));
        assert_eq!(a.quantile(0.99), Duration::from_nanos(7));
        let mut b = Histogram::new();
        b.record(Duration::from_millis(3));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.summary().max, Duration::from_millis(3));
        assert_eq!(a.summary().min, Duration::from_nanos(7));
    }

    #[test]
    fn fixed_bins_are_exact_cumulative_and_merge() {
        let mut h = Histogram::new();
        // On a bound (inclusive), just above it, and past the last one.
        for d in [
            Duration::from_nanos(1),
            Duration::from_micros(500),
            Duration::from_nanos(500_001),
            Duration::from_millis(3),
            Duration::from_millis(3),
            Duration::from_secs(1),
            Duration::from_secs(5),
        ] {
            h.record(d);
        }
        let s = h.summary();
        assert_eq!(s.bins, [2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 6]);
        assert_eq!(s.count, 7);
        assert_eq!(
            s.sum,
            Duration::from_nanos(1 + 500_000 + 500_001 + 6_000_000 + 6_000_000_000)
        );
        assert!(s.bins.windows(2).all(|w| w[0] <= w[1]));
        let mut other = Histogram::new();
        other.record(Duration::from_millis(150));
        h.merge(&other);
        let s = h.summary();
        assert_eq!(s.bins, [2, 3, 3, 5, 5, 5, 5, 5, 6, 6, 7]);
        assert_eq!(s.count, 8);
        assert_eq!(Histogram::new().summary().bins, [0; BINS]);
    }
}
