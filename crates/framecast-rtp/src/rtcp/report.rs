//! What RTCP reports carry (RFC 3550 §6.4): NTP timestamps, the sender
//! information of an SR, report blocks, and the sender statistics an SR is
//! built from.

use super::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A 64-bit NTP timestamp (RFC 3550 §4): seconds since 1900 in the high
/// 32 bits, binary fraction in the low 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTimestamp(pub u64);

impl NtpTimestamp {
    /// The NTP timestamp of a wall-clock time (times before 1970 map to
    /// the Unix epoch).
    pub fn from_system_time(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs().wrapping_add(NTP_UNIX_OFFSET) & 0xffff_ffff;
        let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
        Self((secs << 32) | frac)
    }

    /// Now, from the system clock.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// Back to wall-clock time (era 0: 1900–2036).
    pub fn to_system_time(self) -> SystemTime {
        let secs = self.0 >> 32;
        let nanos = ((self.0 & 0xffff_ffff) * 1_000_000_000) >> 32;
        let since_unix = secs as i64 - NTP_UNIX_OFFSET as i64;
        if since_unix >= 0 {
            UNIX_EPOCH + Duration::new(since_unix as u64, nanos as u32)
        } else {
            UNIX_EPOCH
        }
    }

    /// The NTP timestamp `nanos` nanoseconds after 1900-01-01 (era 0), as
    /// GStreamer's `timestamp/x-ntp` reference timestamps hold it: the
    /// inverse of [`as_nanos`](Self::as_nanos), to the nanosecond.
    pub fn from_nanos(nanos: u64) -> Self {
        let secs = (nanos / 1_000_000_000) & 0xffff_ffff;
        // Rounded up so that as_nanos, which rounds down, gives it back.
        let frac = ((nanos % 1_000_000_000) << 32).div_ceil(1_000_000_000);
        Self((secs << 32) | frac)
    }

    /// Nanoseconds since 1900-01-01 (era 0): what GStreamer's
    /// `timestamp/x-ntp` reference timestamps hold.
    pub fn as_nanos(self) -> u64 {
        (self.0 >> 32) * 1_000_000_000 + (((self.0 & 0xffff_ffff) * 1_000_000_000) >> 32)
    }

    /// The middle 32 bits, as echoed in a report block's LSR field
    /// (§6.4.1).
    pub fn middle32(self) -> u32 {
        (self.0 >> 16) as u32
    }
}

/// The sender information of an SR (§6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// SSRC of the sender.
    pub ssrc: u32,
    /// Wall-clock time at which the report was made.
    pub ntp_timestamp: NtpTimestamp,
    /// RTP timestamp of the same instant, in the media clock ("not
    /// necessarily equal to the timestamp in any adjacent data packet").
    pub rtp_timestamp: u32,
    /// RTP packets sent since the start (wraps at 2^32).
    pub packet_count: u32,
    /// Payload octets sent since the start, without headers or padding.
    pub octet_count: u32,
}

/// One reception report block (§6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the last report, over 256.
    pub fraction_lost: u8,
    /// Packets lost since the start, 24-bit signed (duplicates make it
    /// negative).
    pub cumulative_lost: i32,
    /// Highest sequence number received, with the wrap count above it.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units (§6.4.1, A.8).
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp, 0 if none.
    pub last_sr: u32,
    /// Delay since that SR in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    pub(super) fn parse(b: &[u8]) -> Self {
        let w = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        // Sign-extend the 24-bit cumulative count.
        let cum = ((w(4) << 8) as i32) >> 8;
        Self {
            ssrc: w(0),
            fraction_lost: b[4],
            cumulative_lost: cum,
            extended_highest_seq: w(8),
            jitter: w(12),
            last_sr: w(16),
            delay_since_last_sr: w(20),
        }
    }

    pub(super) fn write(&self, o: &mut [u8]) {
        o[0..4].copy_from_slice(&self.ssrc.to_be_bytes());
        let cum = (self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0xff_ffff;
        o[4..8].copy_from_slice(&((u32::from(self.fraction_lost) << 24) | cum).to_be_bytes());
        o[8..12].copy_from_slice(&self.extended_highest_seq.to_be_bytes());
        o[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        o[16..20].copy_from_slice(&self.last_sr.to_be_bytes());
        o[20..24].copy_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// Counts what a sender sent, for its sender reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// SSRC of the stream.
    pub ssrc: u32,
    /// Packets sent (wrapping, as the SR field).
    pub packet_count: u32,
    /// Payload octets sent (wrapping, as the SR field).
    pub octet_count: u32,
}

impl SenderStats {
    /// Stats for stream `ssrc`, all zero.
    pub fn new(ssrc: u32) -> Self {
        Self {
            ssrc,
            ..Self::default()
        }
    }

    /// Counts one sent packet of `packet_len` bytes whose header (with
    /// CSRCs and extension) was `header_len` bytes: §6.4.1 counts payload
    /// octets only.
    pub fn on_packet(&mut self, packet_len: usize, header_len: usize) {
        self.packet_count = self.packet_count.wrapping_add(1);
        let payload = packet_len.saturating_sub(header_len) as u32;
        self.octet_count = self.octet_count.wrapping_add(payload);
    }

    /// A sender report for now: `rtp_timestamp` must be the media clock
    /// at `ntp_timestamp` (use [`crate::RtpClock::to_rtp`] with the same
    /// instant's running time).
    pub fn report(&self, ntp_timestamp: NtpTimestamp, rtp_timestamp: u32) -> SenderReport {
        SenderReport {
            ssrc: self.ssrc,
            ntp_timestamp,
            rtp_timestamp,
            packet_count: self.packet_count,
            octet_count: self.octet_count,
        }
    }
}
