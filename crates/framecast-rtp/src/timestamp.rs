//! Mapping between running time and RTP timestamps (RFC 3550 §5.1).
//!
//! RTP timestamps count ticks of the payload format's clock (90 kHz for all
//! video formats, RFC 6184 §8.2.1, RFC 2435 §3, RFC 4175 §4.1) from a
//! random offset, and wrap at 2^32 (13.25 hours at 90 kHz). Running time
//! (the pipeline's clock minus its base time) is a [`Duration`] here: a
//! newtype, never a bare count of nanoseconds.

use std::time::Duration;

/// The clock rate of every video payload format in this crate.
pub const VIDEO_CLOCK_RATE: u32 = 90_000;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Converts running time to RTP timestamps and back, for one clock rate
/// and one random initial offset (RFC 3550 §5.1: "the initial value of the
/// timestamp SHOULD be random").
///
/// The forward direction is a pure function. The reverse direction needs
/// to know how many times the 32-bit timestamp wrapped, so it is stateful:
/// [`RtpClock::to_running_time`] keeps the last extended value and picks the
/// wrap that is nearest to it.
#[derive(Debug, Clone, Copy)]
pub struct RtpClock {
    clock_rate: u32,
    offset: u32,
    last_extended: Option<i64>,
}

impl RtpClock {
    /// A clock of `clock_rate` Hz whose running time zero maps to `offset`.
    ///
    /// # Panics
    ///
    /// If `clock_rate` is zero (a programming error, not network input).
    pub fn new(clock_rate: u32, offset: u32) -> Self {
        assert!(clock_rate > 0, "RTP clock rate must be positive");
        Self {
            clock_rate,
            offset,
            last_extended: None,
        }
    }

    /// The 90 kHz video clock with the given offset.
    pub fn video(offset: u32) -> Self {
        Self::new(VIDEO_CLOCK_RATE, offset)
    }

    /// Clock rate in Hz.
    pub fn clock_rate(&self) -> u32 {
        self.clock_rate
    }

    /// The timestamp of running time zero.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// RTP timestamp of `running_time`: `offset + running_time × rate`,
    /// rounded down, modulo 2^32.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast_rtp::RtpClock;
    /// use std::time::Duration;
    /// let c = RtpClock::video(u32::MAX);
    /// assert_eq!(c.to_rtp(Duration::from_millis(1)), 89); // wraps
    /// ```
    pub fn to_rtp(&self, running_time: Duration) -> u32 {
        let ticks = running_time.as_nanos() * u128::from(self.clock_rate) / NANOS_PER_SEC;
        // Truncation to 32 bits is the RTP wrap.
        self.offset.wrapping_add(ticks as u32)
    }

    /// Extends `ts` to 64 bits, choosing the wrap nearest the previous call
    /// (the first call takes the wrap that puts it within ±2^31 of
    /// `offset`). Returns ticks since `offset`, which is negative for a
    /// timestamp before running time zero.
    pub fn extend(&mut self, ts: u32) -> i64 {
        let reference = self.last_extended.unwrap_or(0);
        let delta = i64::from(ts.wrapping_sub(self.offset).wrapping_sub(reference as u32) as i32);
        let ext = reference + delta;
        self.last_extended = Some(ext);
        ext
    }

    /// Running time of `ts`, or `None` if it lies before running time zero.
    ///
    /// Stateful: see [`RtpClock::extend`]; feed timestamps in roughly
    /// increasing order (reordering by less than 2^31 ticks is fine).
    pub fn to_running_time(&mut self, ts: u32) -> Option<Duration> {
        let ticks = self.extend(ts);
        if ticks < 0 {
            return None;
        }
        let nanos = (ticks as u128) * NANOS_PER_SEC / u128::from(self.clock_rate);
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_at_30fps() {
        let c = RtpClock::video(1000);
        assert_eq!(c.to_rtp(Duration::ZERO), 1000);
        assert_eq!(c.to_rtp(Duration::from_nanos(33_333_333)), 1000 + 2999);
        assert_eq!(c.to_rtp(Duration::from_secs(1)), 91_000);
    }

    #[test]
    fn reverse_survives_wrap() {
        let mut c = RtpClock::video(u32::MAX - 100);
        let t0 = Duration::from_secs(0);
        let t1 = Duration::from_secs(20 * 3600); // past one 13.25 h wrap
        assert_eq!(c.to_running_time(c.to_rtp(t0)), Some(t0));
        // Walk in 1-hour steps so the unwrapper sees every wrap.
        let mut t = t0;
        while t < t1 {
            t += Duration::from_secs(3600);
            let back = c.to_running_time(c.to_rtp(t)).unwrap();
            assert_eq!(back, t);
        }
        // A timestamp before zero.
        let mut c = RtpClock::video(5);
        assert_eq!(c.to_running_time(0), None);
    }

    proptest! {
        #[test]
        fn round_trip_within_one_tick(offset: u32, ms in 0u64..23_000_000) {
            let mut c = RtpClock::video(offset);
            let t = Duration::from_millis(ms);
            let back = c.to_running_time(c.to_rtp(t)).unwrap();
            // 1 tick = 11.1 µs
            prop_assert!(t - back < Duration::from_nanos(11_112));
        }
    }
}
