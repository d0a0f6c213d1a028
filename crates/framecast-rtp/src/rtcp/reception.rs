//! What a receiver reports about one source (RFC 3550 §6.4.1): packets
//! lost (A.3), interarrival jitter (A.8), and the last sender report's
//! time and its age, from which the sender computes the round-trip time.
//!
//! A receiver that sends no report blocks leaves its sender blind: an RTSP
//! server (framecast's, gst-rtsp-server, MediaMTX) shows a viewer's loss,
//! jitter and RTT only from these.

use std::time::Instant;

use super::{InterarrivalJitter, ReportBlock, SenderReport};
use crate::seq::SeqUnwrapper;

/// Reception statistics of the stream being received, for its report
/// blocks. A new SSRC starts them afresh.
#[derive(Debug, Clone)]
pub struct ReceptionStats {
    clock_rate: u32,
    ssrc: Option<u32>,
    seq: SeqUnwrapper,
    /// Extended number of the first packet.
    base: u64,
    received: u64,
    /// `expected` and `received` at the last report (A.3's "prior").
    expected_prior: u64,
    received_prior: u64,
    jitter: InterarrivalJitter,
    /// The last SR's middle 32 NTP bits and when it came.
    last_sr: Option<(u32, Instant)>,
}

impl ReceptionStats {
    /// Statistics for a stream whose RTP timestamps run at `clock_rate`.
    pub fn new(clock_rate: u32) -> Self {
        ReceptionStats {
            clock_rate: clock_rate.max(1),
            ssrc: None,
            seq: SeqUnwrapper::new(),
            base: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter: InterarrivalJitter::default(),
            last_sr: None,
        }
    }

    /// The source reported on, once a packet came.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Counts an RTP packet of `ssrc` with `seq` and `rtp_ts`, arrived at
    /// `arrival`.
    pub fn on_packet(&mut self, ssrc: u32, seq: u16, rtp_ts: u32, arrival: Instant) {
        if self.ssrc != Some(ssrc) {
            *self = ReceptionStats {
                ssrc: Some(ssrc),
                ..ReceptionStats::new(self.clock_rate)
            };
            self.base = self.seq.extend(seq);
        } else {
            self.seq.extend(seq);
        }
        self.received += 1;
        self.jitter.on_packet(arrival, rtp_ts, self.clock_rate);
    }

    /// Notes a sender report about the stream, arrived at `arrival`.
    pub fn on_sender_report(&mut self, sr: &SenderReport, arrival: Instant) {
        if self.ssrc == Some(sr.ssrc) {
            self.last_sr = Some((sr.ntp_timestamp.middle32(), arrival));
        }
    }

    /// The report block for now (None before the first packet); the
    /// fraction lost covers the time since the previous block.
    pub fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        let ssrc = self.ssrc?;
        let highest = self.seq.highest()?;
        let expected = highest + 1 - self.base;
        let lost = expected as i64 - self.received as i64;
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => {
                let d = now.saturating_duration_since(at);
                (lsr, (d.as_nanos() * 65_536 / 1_000_000_000) as u32)
            }
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: lost.clamp(-0x80_0000, 0x7f_ffff) as i32,
            // The unwrapper counts its first cycle as 1 (see
            // `SeqUnwrapper::new`); the report's starts at 0.
            extended_highest_seq: highest.wrapping_sub(1 << 16) as u32,
            jitter: self.jitter.ticks(),
            last_sr,
            delay_since_last_sr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::NtpTimestamp;
    use std::time::Duration;

    #[test]
    fn loss_across_the_wrap_is_counted_and_the_fraction_covers_the_interval() {
        let t0 = Instant::now();
        let mut s = ReceptionStats::new(90_000);
        assert_eq!(s.report_block(t0), None);
        // 65530..=65535, then 0..=9 without 2 and 3: 16 expected, 14 came.
        for (i, seq) in (65530u16..=65535).chain(0..10).enumerate() {
            if seq != 2 && seq != 3 {
                let at = t0 + Duration::from_millis(i as u64 * 10);
                s.on_packet(7, seq, i as u32 * 900, at);
            }
        }
        let b = s.report_block(t0).expect("a block");
        assert_eq!(b.ssrc, 7);
        assert_eq!(b.cumulative_lost, 2);
        assert_eq!(b.extended_highest_seq, 0x0001_0009);
        assert_eq!(b.fraction_lost, (2 * 256 / 16) as u8);
        // Evenly paced at the media clock's rate: no jitter.
        assert_eq!(b.jitter, 0);
        // Nothing lost since: fraction 0, the total stays.
        s.on_packet(7, 10, 16 * 900, t0 + Duration::from_millis(160));
        let b = s.report_block(t0).expect("a block");
        assert_eq!((b.fraction_lost, b.cumulative_lost), (0, 2));
    }

    #[test]
    fn jitter_grows_with_uneven_arrival_and_the_sr_age_is_reported() {
        let t0 = Instant::now();
        let mut s = ReceptionStats::new(90_000);
        for i in 0..50u32 {
            // Every other packet 10 ms late: |D| is 900 ticks each time.
            let late = if i % 2 == 1 { 10 } else { 0 };
            let at = t0 + Duration::from_millis(u64::from(i) * 33 + late);
            s.on_packet(9, i as u16, i * 2970, at);
        }
        let sr = SenderReport {
            ssrc: 9,
            ntp_timestamp: NtpTimestamp(0x1234_5678_9abc_def0),
            ..SenderReport::default()
        };
        let at = t0 + Duration::from_secs(2);
        s.on_sender_report(&sr, at);
        let b = s
            .report_block(at + Duration::from_millis(500))
            .expect("block");
        // J converges on |D| = 900.
        assert!((700..=900).contains(&b.jitter), "jitter {}", b.jitter);
        assert_eq!(b.last_sr, 0x5678_9abc);
        assert_eq!(b.delay_since_last_sr, 32_768, "half a second in 1/65536 s");
        // Another source's report is not ours.
        let other = SenderReport { ssrc: 1, ..sr };
        s.on_sender_report(&other, at + Duration::from_secs(1));
        let b = s
            .report_block(at + Duration::from_millis(500))
            .expect("block");
        assert_eq!(b.delay_since_last_sr, 32_768);
    }
}
