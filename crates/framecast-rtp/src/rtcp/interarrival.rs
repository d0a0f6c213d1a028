//! The RFC 3550 interarrival jitter estimate (§6.4.1, A.8): what a
//! receiver reports in its report blocks, and what the jitter buffer
//! shows as `jitter-us`.

use std::time::Instant;

/// The RFC 3550 interarrival jitter estimator, in timestamp units ×16
/// (the RFC's fixed-point form, A.8).
#[derive(Debug, Default, Clone)]
pub struct InterarrivalJitter {
    /// Arrival and RTP timestamp of the previous packet.
    last: Option<(Instant, u32)>,
    scaled: u64,
}

impl InterarrivalJitter {
    /// Counts a packet with RTP timestamp `rtp_ts` (at `clock_rate`)
    /// that arrived at `arrival`.
    pub fn on_packet(&mut self, arrival: Instant, rtp_ts: u32, clock_rate: u32) {
        if let Some((prev_arrival, prev_ts)) = self.last {
            // In i128: nanoseconds times a clock rate from the caps (or
            // an SDP) overflow i64 after a few seconds' pause at GHz rates.
            let transit_arrival = arrival.saturating_duration_since(prev_arrival).as_nanos()
                as i128
                * i128::from(clock_rate)
                / 1_000_000_000;
            let d = u64::try_from(
                (transit_arrival - i128::from(rtp_ts.wrapping_sub(prev_ts) as i32)).unsigned_abs(),
            )
            .unwrap_or(u64::MAX);
            // J += (|D| - J) / 16, kept ×16: J16 += |D| - J16/16.
            self.scaled = self.scaled + d.min(1 << 40) - self.scaled.div_ceil(16).min(self.scaled);
        }
        self.last = Some((arrival, rtp_ts));
    }

    /// The estimate in timestamp units (a report block's `jitter`).
    pub fn ticks(&self) -> u32 {
        u32::try_from(self.scaled / 16).unwrap_or(u32::MAX)
    }

    /// The estimate in microseconds, for a stream at `clock_rate`.
    pub fn micros(&self, clock_rate: u32) -> u64 {
        if clock_rate == 0 {
            return 0;
        }
        self.scaled / 16 * 1_000_000 / u64::from(clock_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jitter_is_zero_for_perfect_pacing_and_follows_rfc3550_otherwise() {
        let start = Instant::now();
        let mut j = InterarrivalJitter::default();
        // 30 fps, one packet per frame, arriving exactly on time.
        for n in 0..100u32 {
            let arrival = start + Duration::from_micros(u64::from(n) * 33_333);
            j.on_packet(arrival, n * 3000, 90_000);
        }
        assert!(j.micros(90_000) <= 1, "{}", j.micros(90_000));
        // Every other packet 2 ms late: |D| = 180 ticks each time, so J
        // converges to 180 ticks = 2 ms.
        let mut j = InterarrivalJitter::default();
        for n in 0..400u32 {
            let late = if n % 2 == 1 { 2_000 } else { 0 };
            let arrival = start + Duration::from_micros(u64::from(n) * 33_333 + late);
            j.on_packet(arrival, n * 3000, 90_000);
        }
        let us = j.micros(90_000);
        assert!((1_900..=2_100).contains(&us), "{us} µs");
    }

    #[test]
    fn jitter_survives_a_long_pause_at_the_largest_clock_rate() {
        // 2^31 Hz from caps and a 10 s pause: 10^10 ns x 2^31 overflows
        // an i64 (this panicked in debug builds).
        let start = Instant::now();
        let mut j = InterarrivalJitter::default();
        j.on_packet(start, 0, i32::MAX as u32);
        j.on_packet(start + Duration::from_secs(10), 1, i32::MAX as u32);
        assert!(j.micros(i32::MAX as u32) > 0);
    }
}
