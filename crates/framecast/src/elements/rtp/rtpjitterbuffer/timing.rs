//! The jitter buffer's clock: what the sender's RTCP reports say about
//! wall-clock time (capture time of every packet).

/// What the last sender report said: RTP time `rtp_ts` of source `ssrc`
/// was wall-clock time `ntp_ns` (nanoseconds since 1900).
#[derive(Debug, Clone, Copy)]
pub(super) struct SenderClock {
    pub(super) ssrc: u32,
    pub(super) rtp_ts: u32,
    pub(super) ntp_ns: u64,
}

impl SenderClock {
    /// The NTP time of RTP timestamp `ts` at `clock_rate` (timestamps
    /// within ±2^31 ticks of the report's, as RFC 3550 arithmetic has it).
    pub(super) fn ntp_ns_of(&self, ts: u32, clock_rate: u32) -> Option<u64> {
        if clock_rate == 0 {
            return None;
        }
        let ticks = i64::from(ts.wrapping_sub(self.rtp_ts) as i32);
        let delta = ticks * 1_000_000_000 / i64::from(clock_rate);
        self.ntp_ns.checked_add_signed(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_clock_maps_rtp_time_both_ways_and_across_wrap() {
        let c = SenderClock {
            ssrc: 1,
            rtp_ts: u32::MAX - 44_999, // half a second before the wrap
            ntp_ns: 10_000_000_000,
        };
        // One second later at 90 kHz, across the 32-bit wrap.
        let later = c.rtp_ts.wrapping_add(90_000);
        assert_eq!(c.ntp_ns_of(later, 90_000), Some(11_000_000_000));
        // A frame captured before the report.
        let earlier = c.rtp_ts.wrapping_sub(9_000);
        assert_eq!(c.ntp_ns_of(earlier, 90_000), Some(9_900_000_000));
        assert_eq!(c.ntp_ns_of(later, 0), None);
    }
}
