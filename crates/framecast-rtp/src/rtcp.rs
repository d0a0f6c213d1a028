//! RTCP (RFC 3550 §6): sender reports, receiver report blocks, SDES CNAME
//! and BYE, in compound packets.
//!
//! A sender must send RTCP for a receiver to map RTP timestamps to wall
//! clock time (lip sync, latency measurement): the sender report pairs an
//! NTP timestamp with the RTP timestamp of the same instant (§6.4.1).
//! Every RTCP packet shares this header:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|  count  |      PT       |    length (32-bit words − 1)  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! A sender report (PT 200) continues with:
//!
//! ```text
//! |                         SSRC of sender                        |
//! |              NTP timestamp, most significant word             |
//! |             NTP timestamp, least significant word             |
//! |                         RTP timestamp                         |
//! |                     sender's packet count                     |
//! |                      sender's octet count                     |
//! |                 report blocks (24 bytes each) ...             |
//! ```
//!
//! and a report block (§6.4.1) is:
//!
//! ```text
//! |                 SSRC_n (SSRC of source)                       |
//! | fraction lost |       cumulative number of packets lost       |
//! |           extended highest sequence number received           |
//! |                      interarrival jitter                      |
//! |                         last SR (LSR)                         |
//! |                   delay since last SR (DLSR)                  |
//! ```
//!
//! §6.1: a compound packet starts with an SR or RR and carries an SDES
//! with the CNAME; BYE, when present, is last.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// SDES item type of CNAME (§6.5.1).
pub const SDES_CNAME: u8 = 1;
/// Payload-specific feedback (RFC 4585 §6.3).
pub const PT_PSFB: u8 = 206;
/// PSFB format: Picture Loss Indication (RFC 4585 §6.3.1).
pub const FMT_PLI: u8 = 1;
/// PSFB format: Full Intra Request (RFC 5104 §4.3.1).
pub const FMT_FIR: u8 = 4;

const REPORT_BLOCK_LEN: usize = 24;
/// Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

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
    fn parse(b: &[u8]) -> Self {
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

    fn write(&self, o: &mut [u8]) {
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

/// Builds a compound RTCP packet in a caller's slice (§6.1).
///
/// # Examples
///
/// ```
/// use framecast_rtp::rtcp::{CompoundWriter, NtpTimestamp, RtcpPacket, parse_compound};
/// use framecast_rtp::SenderStats;
/// let mut stats = SenderStats::new(0x1234);
/// stats.on_packet(1400, 12);
/// let mut buf = [0u8; 256];
/// let mut w = CompoundWriter::new(&mut buf);
/// w.sender_report(&stats.report(NtpTimestamp::now(), 90_000), &[]).unwrap();
/// w.sdes_cname(0x1234, "framecast@127.0.0.1").unwrap();
/// let n = w.finish();
/// let kinds: Vec<_> = parse_compound(&buf[..n]).map(|p| p.unwrap().packet_type()).collect();
/// assert_eq!(kinds, [200, 202]);
/// ```
#[derive(Debug)]
pub struct CompoundWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> CompoundWriter<'a> {
    /// Starts writing at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn reserve(&mut self, what: &'static str, len: usize) -> Result<&mut [u8]> {
        let end = self.pos + len;
        if end > self.buf.len() {
            return Err(Error::too_small(what, end, self.buf.len()));
        }
        let s = &mut self.buf[self.pos..end];
        s.fill(0);
        self.pos = end;
        Ok(s)
    }

    fn header(o: &mut [u8], count: u8, pt: u8, len: usize) {
        o[0] = 0x80 | (count & 0x1f);
        o[1] = pt;
        o[2..4].copy_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
    }

    /// Appends an SR with up to 31 report blocks.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`], or [`Error::InvalidConfig`] for more
    /// than 31 blocks (the 5-bit count).
    pub fn sender_report(&mut self, sr: &SenderReport, blocks: &[ReportBlock]) -> Result<()> {
        if blocks.len() > 31 {
            return Err(Error::config(
                "report blocks",
                "at most 31 per packet",
                blocks.len() as u64,
            ));
        }
        let len = 28 + REPORT_BLOCK_LEN * blocks.len();
        let o = self.reserve("RTCP SR", len)?;
        Self::header(o, blocks.len() as u8, PT_SR, len);
        o[4..8].copy_from_slice(&sr.ssrc.to_be_bytes());
        o[8..16].copy_from_slice(&sr.ntp_timestamp.0.to_be_bytes());
        o[16..20].copy_from_slice(&sr.rtp_timestamp.to_be_bytes());
        o[20..24].copy_from_slice(&sr.packet_count.to_be_bytes());
        o[24..28].copy_from_slice(&sr.octet_count.to_be_bytes());
        for (b, chunk) in blocks
            .iter()
            .zip(o[28..].chunks_exact_mut(REPORT_BLOCK_LEN))
        {
            b.write(chunk);
        }
        Ok(())
    }

    /// Appends an RR from `ssrc` with up to 31 report blocks.
    ///
    /// # Errors
    ///
    /// As [`CompoundWriter::sender_report`].
    pub fn receiver_report(&mut self, ssrc: u32, blocks: &[ReportBlock]) -> Result<()> {
        if blocks.len() > 31 {
            return Err(Error::config(
                "report blocks",
                "at most 31 per packet",
                blocks.len() as u64,
            ));
        }
        let len = 8 + REPORT_BLOCK_LEN * blocks.len();
        let o = self.reserve("RTCP RR", len)?;
        Self::header(o, blocks.len() as u8, PT_RR, len);
        o[4..8].copy_from_slice(&ssrc.to_be_bytes());
        for (b, chunk) in blocks.iter().zip(o[8..].chunks_exact_mut(REPORT_BLOCK_LEN)) {
            b.write(chunk);
        }
        Ok(())
    }

    /// Appends an SDES with one chunk holding the CNAME (§6.5.1).
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`], or [`Error::InvalidConfig`] if the CNAME
    /// exceeds the 255-octet item length.
    pub fn sdes_cname(&mut self, ssrc: u32, cname: &str) -> Result<()> {
        let n = cname.len();
        if n > 255 {
            return Err(Error::config("CNAME", "longer than 255 octets", n as u64));
        }
        // SSRC + type + len + text + at least one null octet, to 32 bits.
        let chunk = (4 + 2 + n + 1).div_ceil(4) * 4;
        let len = 4 + chunk;
        let o = self.reserve("RTCP SDES", len)?;
        Self::header(o, 1, PT_SDES, len);
        o[4..8].copy_from_slice(&ssrc.to_be_bytes());
        o[8] = SDES_CNAME;
        o[9] = n as u8;
        o[10..10 + n].copy_from_slice(cname.as_bytes());
        Ok(())
    }

    /// Appends a BYE for `ssrcs` (at most 31) with an optional reason.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] or [`Error::InvalidConfig`].
    pub fn bye(&mut self, ssrcs: &[u32], reason: Option<&str>) -> Result<()> {
        if ssrcs.len() > 31 {
            return Err(Error::config(
                "BYE sources",
                "at most 31",
                ssrcs.len() as u64,
            ));
        }
        let rlen = reason.map_or(0, str::len);
        if rlen > 255 {
            return Err(Error::config(
                "BYE reason",
                "longer than 255 octets",
                rlen as u64,
            ));
        }
        let reason_bytes = reason.map_or(0, |r| 1 + r.len());
        let len = 4 + 4 * ssrcs.len() + reason_bytes.div_ceil(4) * 4;
        let o = self.reserve("RTCP BYE", len)?;
        Self::header(o, ssrcs.len() as u8, PT_BYE, len);
        for (s, c) in ssrcs.iter().zip(o[4..].chunks_exact_mut(4)) {
            c.copy_from_slice(&s.to_be_bytes());
        }
        if let Some(r) = reason {
            let at = 4 + 4 * ssrcs.len();
            o[at] = r.len() as u8;
            o[at + 1..at + 1 + r.len()].copy_from_slice(r.as_bytes());
        }
        Ok(())
    }

    /// Appends a PLI (RFC 4585 §6.3.1) from `sender_ssrc` about the
    /// stream `media_ssrc`: "I lost the picture, send a keyframe". A
    /// receiver that joined mid-stream or lost packets sends it so that it
    /// need not wait for the next periodic IDR.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`].
    pub fn picture_loss(&mut self, sender_ssrc: u32, media_ssrc: u32) -> Result<()> {
        let o = self.reserve("RTCP PLI", 12)?;
        Self::header(o, FMT_PLI, PT_PSFB, 12);
        o[4..8].copy_from_slice(&sender_ssrc.to_be_bytes());
        o[8..12].copy_from_slice(&media_ssrc.to_be_bytes());
        Ok(())
    }

    /// Appends a Generic NACK (RFC 4585 §6.2.1) from `sender_ssrc` about
    /// `media_ssrc` for the sequence numbers `lost` (ascending); returns
    /// its length (0, nothing appended, when `lost` is empty). See
    /// [`crate::nack::write_generic_nack`].
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`].
    pub fn generic_nack(
        &mut self,
        sender_ssrc: u32,
        media_ssrc: u32,
        lost: impl IntoIterator<Item = u16>,
    ) -> Result<usize> {
        let n = crate::nack::write_generic_nack(
            &mut self.buf[self.pos..],
            sender_ssrc,
            media_ssrc,
            lost,
        )?;
        self.pos += n;
        Ok(n)
    }

    /// Bytes written so far: the compound packet is `&buf[..finish()]`.
    pub fn finish(self) -> usize {
        self.pos
    }
}

/// One RTCP packet of a compound packet, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// Sender report.
    SenderReport(SenderReport, ReportBlocks<'a>),
    /// Receiver report: reporter SSRC and blocks.
    ReceiverReport(u32, ReportBlocks<'a>),
    /// Source description.
    Sdes(Sdes<'a>),
    /// Goodbye.
    Bye(Bye<'a>),
    /// Any other type (APP, feedback...), unparsed.
    Other {
        /// Packet type.
        packet_type: u8,
        /// The 5-bit count field.
        count: u8,
        /// Bytes after the 4-byte header, padding removed.
        body: &'a [u8],
    },
}

impl RtcpPacket<'_> {
    /// Whether this packet asks the sender for a keyframe: a PLI (RFC 4585
    /// §6.3.1) or a FIR (RFC 5104 §4.3.1), both payload-specific feedback
    /// with the media source in the second word.
    pub fn is_keyframe_request(&self) -> bool {
        matches!(self, RtcpPacket::Other { packet_type: PT_PSFB, count: FMT_PLI | FMT_FIR, body }
            if body.len() >= 8)
    }

    /// The PT field.
    pub fn packet_type(&self) -> u8 {
        match self {
            RtcpPacket::SenderReport(..) => PT_SR,
            RtcpPacket::ReceiverReport(..) => PT_RR,
            RtcpPacket::Sdes(_) => PT_SDES,
            RtcpPacket::Bye(_) => PT_BYE,
            RtcpPacket::Other { packet_type, .. } => *packet_type,
        }
    }
}

/// Report blocks of an SR or RR, checked for length at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlocks<'a>(&'a [u8]);

impl<'a> ReportBlocks<'a> {
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.0.len() / REPORT_BLOCK_LEN
    }

    /// No blocks.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The blocks.
    pub fn iter(&self) -> impl Iterator<Item = ReportBlock> + 'a {
        self.0
            .chunks_exact(REPORT_BLOCK_LEN)
            .map(ReportBlock::parse)
    }
}

/// One SDES item (§6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// Chunk's SSRC/CSRC.
    pub ssrc: u32,
    /// Item type (1 = CNAME).
    pub item_type: u8,
    /// Item text (UTF-8 by the RFC, not checked).
    pub value: &'a [u8],
}

/// An SDES packet, validated at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    /// Every item of every chunk.
    pub fn items(&self) -> impl Iterator<Item = SdesItem<'a>> + 'a {
        let mut out = SdesIter {
            body: self.body,
            pos: 0,
            chunks_left: self.count,
            ssrc: None,
        };
        std::iter::from_fn(move || out.next_item().ok().flatten())
    }

    /// The CNAME of `ssrc`, if present.
    pub fn cname(&self, ssrc: u32) -> Option<&'a [u8]> {
        self.items()
            .find(|i| i.ssrc == ssrc && i.item_type == SDES_CNAME)
            .map(|i| i.value)
    }
}

struct SdesIter<'a> {
    body: &'a [u8],
    pos: usize,
    chunks_left: u8,
    ssrc: Option<u32>,
}

impl<'a> SdesIter<'a> {
    fn next_item(&mut self) -> Result<Option<SdesItem<'a>>> {
        let b = self.body;
        loop {
            let ssrc = match self.ssrc {
                Some(s) => s,
                None => {
                    if self.chunks_left == 0 {
                        return Ok(None);
                    }
                    let w = b.get(self.pos..self.pos + 4).ok_or(Error::truncated(
                        "SDES chunk",
                        self.pos,
                        4,
                        b.len().saturating_sub(self.pos),
                    ))?;
                    self.pos += 4;
                    self.chunks_left -= 1;
                    let s = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
                    self.ssrc = Some(s);
                    s
                }
            };
            let t = *b
                .get(self.pos)
                .ok_or(Error::truncated("SDES item", self.pos, 1, 0))?;
            if t == 0 {
                // End of chunk: skip the null and pad to 32 bits.
                self.pos = (self.pos + 1).div_ceil(4) * 4;
                self.ssrc = None;
                continue;
            }
            let n = usize::from(*b.get(self.pos + 1).ok_or(Error::truncated(
                "SDES item length",
                self.pos + 1,
                1,
                0,
            ))?);
            let v = b
                .get(self.pos + 2..self.pos + 2 + n)
                .ok_or(Error::truncated(
                    "SDES item",
                    self.pos + 2,
                    n,
                    b.len().saturating_sub(self.pos + 2),
                ))?;
            self.pos += 2 + n;
            return Ok(Some(SdesItem {
                ssrc,
                item_type: t,
                value: v,
            }));
        }
    }
}

/// A BYE packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    ssrcs: &'a [u8],
    /// Reason for leaving, if given.
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// The sources leaving.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.ssrcs
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// Iterates over the packets of a compound RTCP packet; see
/// [`parse_compound`].
#[derive(Debug, Clone)]
pub struct CompoundIter<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

/// Parses a compound RTCP packet lazily: each item is one packet or the
/// error that stopped parsing (after which iteration ends).
///
/// Checks per §6.4/A.2: version 2, lengths inside the datagram, counts
/// that fit the length, padding only as the last packet. It does not
/// insist that the first packet is an SR or RR, to accept reduced-size
/// RTCP (RFC 5506).
pub fn parse_compound(buf: &[u8]) -> CompoundIter<'_> {
    CompoundIter {
        buf,
        pos: 0,
        failed: false,
    }
}

impl<'a> CompoundIter<'a> {
    fn parse_one(&mut self) -> Result<RtcpPacket<'a>> {
        let b = self.buf;
        let at = self.pos;
        let rest = b.len() - at;
        if rest < 4 {
            return Err(Error::truncated("RTCP header", at, 4, rest));
        }
        if b[at] >> 6 != 2 {
            return Err(Error::malformed(
                "RTCP header",
                at,
                "version must be 2",
                u64::from(b[at] >> 6),
            ));
        }
        let padding = b[at] & 0x20 != 0;
        let count = b[at] & 0x1f;
        let pt = b[at + 1];
        let len = (usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]])) + 1) * 4;
        if len > rest {
            return Err(Error::truncated("RTCP packet", at, len, rest));
        }
        let mut end = at + len;
        self.pos = end;
        if padding {
            if end != b.len() {
                return Err(Error::malformed(
                    "RTCP packet",
                    at,
                    "padding on a packet that is not last",
                    1,
                ));
            }
            let p = usize::from(b[end - 1]);
            if p == 0 || p > len - 4 {
                return Err(Error::malformed(
                    "RTCP padding",
                    end - 1,
                    "bad padding count",
                    p as u64,
                ));
            }
            end -= p;
        }
        let body = &b[at + 4..end];
        let word = |o: usize| u32::from_be_bytes([body[o], body[o + 1], body[o + 2], body[o + 3]]);
        let blocks_len = usize::from(count) * REPORT_BLOCK_LEN;
        match pt {
            PT_SR => {
                if body.len() < 24 + blocks_len {
                    return Err(Error::truncated(
                        "RTCP SR",
                        at + 4,
                        24 + blocks_len,
                        body.len(),
                    ));
                }
                let sr = SenderReport {
                    ssrc: word(0),
                    ntp_timestamp: NtpTimestamp((u64::from(word(4)) << 32) | u64::from(word(8))),
                    rtp_timestamp: word(12),
                    packet_count: word(16),
                    octet_count: word(20),
                };
                Ok(RtcpPacket::SenderReport(
                    sr,
                    ReportBlocks(&body[24..24 + blocks_len]),
                ))
            }
            PT_RR => {
                if body.len() < 4 + blocks_len {
                    return Err(Error::truncated(
                        "RTCP RR",
                        at + 4,
                        4 + blocks_len,
                        body.len(),
                    ));
                }
                Ok(RtcpPacket::ReceiverReport(
                    word(0),
                    ReportBlocks(&body[4..4 + blocks_len]),
                ))
            }
            PT_SDES => {
                // Walk it once now so that `items()` cannot meet an error.
                let mut it = SdesIter {
                    body,
                    pos: 0,
                    chunks_left: count,
                    ssrc: None,
                };
                while it.next_item().map_err(|e| shift(e, at + 4))?.is_some() {}
                Ok(RtcpPacket::Sdes(Sdes { count, body }))
            }
            PT_BYE => {
                let n = 4 * usize::from(count);
                if body.len() < n {
                    return Err(Error::truncated("RTCP BYE", at + 4, n, body.len()));
                }
                let reason = match body.get(n) {
                    Some(&rl) => Some(body.get(n + 1..n + 1 + usize::from(rl)).ok_or(
                        Error::truncated(
                            "RTCP BYE reason",
                            at + 4 + n + 1,
                            usize::from(rl),
                            body.len() - n - 1,
                        ),
                    )?),
                    None => None,
                };
                Ok(RtcpPacket::Bye(Bye {
                    ssrcs: &body[..n],
                    reason,
                }))
            }
            _ => Ok(RtcpPacket::Other {
                packet_type: pt,
                count,
                body,
            }),
        }
    }
}

fn shift(e: Error, by: usize) -> Error {
    match e {
        Error::Truncated {
            what,
            offset,
            needed,
            available,
            ctx,
        } => Error::Truncated {
            what,
            offset: offset + by,
            needed,
            available,
            ctx,
        },
        other => other,
    }
}

impl<'a> Iterator for CompoundIter<'a> {
    type Item = Result<RtcpPacket<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let r = self.parse_one();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_loss_is_a_keyframe_request() {
        let mut buf = [0u8; 16];
        let mut w = CompoundWriter::new(&mut buf);
        w.picture_loss(0x1111_2222, 0xaabb_ccdd).unwrap();
        let n = w.finish();
        assert_eq!(n, 12);
        assert_eq!(buf[..4], [0x81, 206, 0, 2]);
        let p = parse_compound(&buf[..n]).next().unwrap().unwrap();
        assert!(p.is_keyframe_request());
        match p {
            RtcpPacket::Other { body, .. } => assert_eq!(body[4..8], [0xaa, 0xbb, 0xcc, 0xdd]),
            other => panic!("{other:?}"),
        }
        // A FIR is one too; a generic NACK (RTPFB, 205) and an SR are not.
        let fir = [
            0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 1, 0, 0, 0,
        ];
        assert!(parse_compound(&fir)
            .next()
            .unwrap()
            .unwrap()
            .is_keyframe_request());
        let nack = [0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0];
        assert!(!parse_compound(&nack)
            .next()
            .unwrap()
            .unwrap()
            .is_keyframe_request());
        let mut small = [0u8; 8];
        assert!(CompoundWriter::new(&mut small).picture_loss(1, 2).is_err());
    }

    #[test]
    fn sr_sdes_bye_round_trip() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 250_000_000);
        let ntp = NtpTimestamp::from_system_time(t);
        assert_eq!(ntp.0 >> 32, 1_700_000_000 + NTP_UNIX_OFFSET);
        assert_eq!(ntp.0 & 0xffff_ffff, 1 << 30);
        assert_eq!(ntp.to_system_time(), t);

        let mut stats = SenderStats::new(0xdead_beef);
        for _ in 0..10 {
            stats.on_packet(1400, 12);
        }
        let sr = stats.report(ntp, 123_456);
        let block = ReportBlock {
            ssrc: 7,
            fraction_lost: 25,
            cumulative_lost: -3,
            extended_highest_seq: 0x0001_0005,
            jitter: 42,
            last_sr: ntp.middle32(),
            delay_since_last_sr: 65536,
        };
        let mut buf = [0u8; 200];
        let mut w = CompoundWriter::new(&mut buf);
        w.sender_report(&sr, &[block]).unwrap();
        w.sdes_cname(0xdead_beef, "user@host").unwrap();
        w.bye(&[0xdead_beef], Some("done")).unwrap();
        let n = w.finish();
        assert_eq!(n % 4, 0);
        let pkts: Vec<_> = parse_compound(&buf[..n]).collect::<Result<_>>().unwrap();
        assert_eq!(pkts.len(), 3);
        match pkts[0] {
            RtcpPacket::SenderReport(got, blocks) => {
                assert_eq!(got, sr);
                assert_eq!(got.packet_count, 10);
                assert_eq!(got.octet_count, 13880);
                assert_eq!(blocks.iter().collect::<Vec<_>>(), [block]);
            }
            ref p => panic!("{p:?}"),
        }
        match pkts[1] {
            RtcpPacket::Sdes(s) => assert_eq!(s.cname(0xdead_beef), Some(&b"user@host"[..])),
            ref p => panic!("{p:?}"),
        }
        match pkts[2] {
            RtcpPacket::Bye(b) => {
                assert_eq!(b.ssrcs().collect::<Vec<_>>(), [0xdead_beef]);
                assert_eq!(b.reason, Some(&b"done"[..]));
            }
            ref p => panic!("{p:?}"),
        }
    }

    #[test]
    fn receiver_report_and_errors() {
        let mut buf = [0u8; 64];
        let mut w = CompoundWriter::new(&mut buf);
        w.receiver_report(5, &[ReportBlock::default()]).unwrap();
        let n = w.finish();
        assert_eq!(n, 32);
        let p: Vec<_> = parse_compound(&buf[..n]).collect();
        assert!(matches!(p[0], Ok(RtcpPacket::ReceiverReport(5, b)) if b.len() == 1));
        // Length beyond the datagram.
        assert!(parse_compound(&buf[..n - 4]).next().unwrap().is_err());
        // Count larger than the body.
        let mut bad = buf;
        bad[0] = 0x82;
        assert!(parse_compound(&bad[..n]).next().unwrap().is_err());
        // Too small a buffer for writing.
        let mut small = [0u8; 10];
        assert_eq!(
            CompoundWriter::new(&mut small)
                .sender_report(&SenderReport::default(), &[])
                .unwrap_err()
                .kind(),
            crate::ErrorKind::BufferTooSmall
        );
    }
}
