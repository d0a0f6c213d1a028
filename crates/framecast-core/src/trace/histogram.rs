//! A log-linear histogram of durations, for percentiles in bounded memory.
//!
//! The latency and stats tracers see one sample per buffer for as long as a
//! pipeline runs, so keeping every sample is out of the question. Each power
//! of two of nanoseconds is split into 32 linear sub-buckets (the HDR
//! histogram idea), so any percentile is within about 3 % of the true value,
//! in a fixed 1 920 counters; count, minimum, maximum and sum are exact.

use std::fmt;
use std::time::Duration;

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = ((64 - SUB_BITS) as usize + 1) * SUB as usize;

/// Durations recorded with about 3 % resolution.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
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

    /// Count, mean, minimum, p50, p90, p99 and maximum.
    pub fn summary(&self) -> Summary {
        let (min, mean) = if self.count == 0 {
            (Duration::ZERO, Duration::ZERO)
        } else {
            let mean = u64::try_from(self.sum / u128::from(self.count)).unwrap_or(u64::MAX);
            (Duration::from_nanos(self.min), Duration::from_nanos(mean))
        };
        Summary {
            count: self.count,
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
}
