//! H.264 over RTP (RFC 6184), packetization-mode 1 (non-interleaved).
//!
//! Every RTP payload starts with a one-byte NAL unit header (RFC 6184
//! §5.3, H.264 §7.3.1):
//!
//! ```text
//! +---------------+
//! |0|1|2|3|4|5|6|7|
//! +-+-+-+-+-+-+-+-+
//! |F|NRI|  Type   |
//! +---------------+
//! ```
//!
//! Type 1–23 is a single NAL unit packet (§5.6), the NAL unit as is.
//! Type 24 is a STAP-A (§5.7.1), several NAL units each behind a 16-bit
//! size:
//!
//! ```text
//! |STAP-A NAL HDR | NALU 1 Size (16)              | NALU 1 HDR    |
//! | NALU 1 Data ...                               | NALU 2 Size ...
//! ```
//!
//! Type 28 is an FU-A (§5.8), one fragment of a NAL unit too large for
//! one packet. The original header byte is not sent; F and NRI travel in
//! the FU indicator, the type in the FU header, with S(tart) and E(nd):
//!
//! ```text
//! | FU indicator  |   FU header   |                               |
//! |F|NRI|  28     |S|E|R|  Type   |   FU payload ...              |
//! ```
//!
//! Mode 1 forbids STAP-B, MTAP and FU-B (§6.3); the depayloader rejects
//! them. The marker bit is set on the last packet of an access unit
//! (§5.1), and all packets of an access unit share its timestamp.

use std::collections::VecDeque;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::packet::{RtpHeader, RtpPacket, FIXED_HEADER_LEN};
use crate::packetizer::{PacketMeta, PacketSource};
use crate::seq::{SeqCheck, SeqTracker};

/// NAL unit type numbers (H.264 Table 7-1, RFC 6184 Table 1).
pub mod nal_type {
    /// Coded slice of a non-IDR picture.
    pub const SLICE: u8 = 1;
    /// Coded slice of an IDR picture: a decoder can start here.
    pub const IDR: u8 = 5;
    /// Supplemental enhancement information.
    pub const SEI: u8 = 6;
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Picture parameter set.
    pub const PPS: u8 = 8;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
    /// Single-time aggregation packet (RFC 6184 §5.7.1).
    pub const STAP_A: u8 = 24;
    /// Fragmentation unit A (RFC 6184 §5.8).
    pub const FU_A: u8 = 28;
}

/// The 4-byte Annex B start code the depayloader writes before every NAL
/// unit (H.264 Annex B: `zero_byte` + `start_code_prefix_one_3bytes`;
/// decoders and muxers all accept it for every NAL unit).
pub const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Type of a NAL unit from its first byte.
pub fn nal_unit_type(header: u8) -> u8 {
    header & 0x1f
}

fn is_vcl(t: u8) -> bool {
    (1..=5).contains(&t)
}

/// Finds the next `00 00 01` at or after `from`; returns its position.
fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 2 < data.len() {
        // Skip by three when the third byte cannot end a start code.
        if data[i + 2] > 1 {
            i += 3;
        } else if data[i + 2] == 1 && data[i] == 0 && data[i + 1] == 0 {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// Where an access unit's NAL units come from.
#[derive(Debug, Clone, Copy)]
pub enum NalUnits<'a> {
    /// An Annex B byte stream: NAL units behind 3- or 4-byte start codes,
    /// as x264, openh264 and hardware encoders emit. Bytes before the
    /// first start code and trailing zero bytes of each NAL unit are
    /// ignored.
    AnnexB(&'a [u8]),
    /// NAL units already split, each starting with its header byte.
    List(&'a [&'a [u8]]),
}

impl<'a> NalUnits<'a> {
    /// Iterates over the non-empty NAL units.
    pub fn iter(&self) -> NalIter<'a> {
        match *self {
            NalUnits::AnnexB(data) => NalIter::AnnexB {
                data,
                next: find_start_code(data, 0).map(|p| p + 3),
            },
            NalUnits::List(list) => NalIter::List(list.iter()),
        }
    }
}

/// Iterator over the NAL units of [`NalUnits`]; never allocates.
#[derive(Clone)]
pub enum NalIter<'a> {
    #[doc(hidden)]
    AnnexB { data: &'a [u8], next: Option<usize> },
    #[doc(hidden)]
    List(std::slice::Iter<'a, &'a [u8]>),
}

impl std::fmt::Debug for NalIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Positions, not the access unit's bytes.
        match self {
            NalIter::AnnexB { data, next } => f
                .debug_struct("NalIter::AnnexB")
                .field("len", &data.len())
                .field("next", next)
                .finish(),
            NalIter::List(it) => f
                .debug_struct("NalIter::List")
                .field("left", &it.len())
                .finish(),
        }
    }
}

impl<'a> Iterator for NalIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        match self {
            NalIter::AnnexB { data, next } => loop {
                let start = (*next)?;
                let end = match find_start_code(data, start) {
                    Some(sc) => {
                        *next = Some(sc + 3);
                        sc
                    }
                    None => {
                        *next = None;
                        data.len()
                    }
                };
                let mut nal = &data[start..end];
                // trailing_zero_8bits, and the leading zero of a 4-byte
                // start code, belong to no NAL unit (H.264 B.1.1).
                while let [rest @ .., 0] = nal {
                    nal = rest;
                }
                if !nal.is_empty() {
                    return Some(nal);
                }
            },
            NalIter::List(it) => it.by_ref().copied().find(|n| !n.is_empty()),
        }
    }
}

/// When the payloader repeats the cached SPS and PPS in band, as
/// rtph264pay's `config-interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigInterval {
    /// Never insert (GStreamer `0`): the receiver must get them from the
    /// SDP's `sprop-parameter-sets`.
    Never,
    /// Before every IDR access unit that lacks them (GStreamer `-1`). The
    /// default: a receiver that joins late or lost packets can decode from
    /// the next keyframe, which docs/DESIGN.md promises.
    EveryIdr,
    /// Before an IDR when at least this long has passed since they were
    /// last sent (GStreamer `N > 0`, in seconds).
    Every(Duration),
}

impl ConfigInterval {
    /// From rtph264pay's integer property: `0`, `-1`, or seconds.
    pub fn from_gst(value: i32) -> Self {
        match value {
            0 => ConfigInterval::Never,
            v if v < 0 => ConfigInterval::EveryIdr,
            v => ConfigInterval::Every(Duration::from_secs(v.unsigned_abs().into())),
        }
    }
}

/// Which consecutive NAL units the payloader packs into one STAP-A
/// (RFC 6184 §5.7.1), when they fit in the MTU together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// One NAL unit per packet (rtph264pay's default `aggregate-mode=none`).
    None,
    /// SPS and PPS (and further parameter sets) share one STAP-A: one
    /// packet instead of two, with no latency cost. The default.
    ParameterSets,
    /// Any run of NAL units, up to and including the first VCL NAL unit
    /// (rtph264pay `aggregate-mode=zero-latency`): small slices travel with
    /// the parameter sets and SEI before them.
    ZeroLatency,
}

/// Settings of an [`H264Payloader`].
#[derive(Debug, Clone)]
pub struct H264PayloaderConfig {
    /// Largest RTP packet, header included, as GStreamer's `mtu` (default
    /// 1400: below the 1500-byte Ethernet MTU with room for IP, UDP and
    /// tunnel headers). At least 15: 12 header bytes, the two FU-A bytes,
    /// and one byte of data.
    pub mtu: usize,
    /// Dynamic payload type (RFC 3551 §6), default 96.
    pub payload_type: u8,
    /// SSRC of the stream.
    pub ssrc: u32,
    /// Sequence number of the first packet (should be random, RFC 3550
    /// §5.1).
    pub initial_sequence_number: u16,
    /// When to repeat SPS/PPS in band.
    pub config_interval: ConfigInterval,
    /// STAP-A policy.
    pub aggregation: Aggregation,
    /// Drop access unit delimiters: over RTP the marker bit and the
    /// timestamp already delimit access units (RFC 6184 §5.1), so an AUD
    /// only costs bytes (and, unaggregated, a packet). Default `true`.
    pub strip_aud: bool,
}

impl Default for H264PayloaderConfig {
    fn default() -> Self {
        Self {
            mtu: 1400,
            payload_type: 96,
            ssrc: 0,
            initial_sequence_number: 0,
            config_interval: ConfigInterval::EveryIdr,
            aggregation: Aggregation::ParameterSets,
            strip_aud: true,
        }
    }
}

/// Smallest MTU the payloaders accept: header + FU-A header + one byte.
pub const MIN_MTU: usize = FIXED_HEADER_LEN + 3;

/// Cuts H.264 access units into RTP packets (RFC 6184 mode 1).
///
/// Keeps the last SPS and PPS it saw so that it can repeat them (see
/// [`ConfigInterval`]) and so that an SDP can be written
/// ([`H264Payloader::parameter_sets`]). The caches are the only heap
/// memory, and they are only touched when a parameter set changes size.
///
/// # Examples
///
/// ```
/// use framecast_rtp::{H264Payloader, H264PayloaderConfig, NalUnits, PacketSource, RtpPacket};
/// let mut pay = H264Payloader::new(H264PayloaderConfig { mtu: 100, ..Default::default() }).unwrap();
/// let mut au = vec![0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80];
/// au.extend_from_slice(&[0, 0, 1, 0x65]);
/// au.extend(std::iter::repeat(0xaa).take(300)); // one big IDR slice
/// let mut slot = [0u8; 100];
/// let mut packets = pay.packetize(NalUnits::AnnexB(&au), 0).unwrap();
/// let mut kinds = vec![];
/// while let Some(meta) = packets.next_into(&mut slot).unwrap() {
///     let p = RtpPacket::parse(&slot[..meta.len]).unwrap();
///     kinds.push((p.payload()[0] & 0x1f, p.marker()));
/// }
/// // SPS+PPS in one STAP-A, then four FU-A fragments, marker on the last.
/// assert_eq!(kinds, [(24, false), (28, false), (28, false), (28, false), (28, true)]);
/// ```
#[doc(alias = "rtph264pay")]
#[derive(Debug)]
pub struct H264Payloader {
    cfg: H264PayloaderConfig,
    seq: u16,
    sps: Vec<u8>,
    pps: Vec<u8>,
    /// Extended timestamp (ticks) when SPS/PPS last went out.
    last_config: Option<i64>,
    /// Last timestamp seen, extended, to measure config intervals across
    /// the 32-bit wrap.
    last_ts: Option<(u32, i64)>,
}

impl H264Payloader {
    /// A payloader with `cfg`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an MTU below [`MIN_MTU`] or above 65535,
    /// or a payload type above 127.
    pub fn new(cfg: H264PayloaderConfig) -> Result<Self> {
        check_mtu_pt(cfg.mtu, cfg.payload_type)?;
        Ok(Self {
            seq: cfg.initial_sequence_number,
            cfg,
            sps: Vec::new(),
            pps: Vec::new(),
            last_config: None,
            last_ts: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &H264PayloaderConfig {
        &self.cfg
    }

    /// Sequence number the next packet will carry.
    pub fn next_sequence_number(&self) -> u16 {
        self.seq
    }

    /// The cached SPS and PPS (NAL units with header byte), once both have
    /// been seen, for [`crate::sdp`] and [`sprop_parameter_sets`].
    pub fn parameter_sets(&self) -> Option<(&[u8], &[u8])> {
        (!self.sps.is_empty() && !self.pps.is_empty()).then_some((&self.sps[..], &self.pps[..]))
    }

    /// Seeds the SPS/PPS cache, e.g. from the encoder's headers before the
    /// first frame, so that the first IDR can be preceded by them.
    pub fn set_parameter_sets(&mut self, sps: &[u8], pps: &[u8]) {
        replace_reusing(&mut self.sps, sps);
        replace_reusing(&mut self.pps, pps);
    }

    fn extend_ts(&mut self, ts: u32) -> i64 {
        let ext = match self.last_ts {
            None => i64::from(ts),
            Some((prev, prev_ext)) => prev_ext + i64::from(ts.wrapping_sub(prev) as i32),
        };
        self.last_ts = Some((ts, ext));
        ext
    }

    /// Starts packetizing one access unit with RTP timestamp `timestamp`
    /// (its presentation time on the 90 kHz clock, RFC 6184 §5.1); pull the
    /// packets from the returned [`H264Packets`].
    ///
    /// SPS and PPS found in the access unit update the cache. If the access
    /// unit holds an IDR slice but not both parameter sets, and
    /// [`ConfigInterval`] says so, the cached ones are sent first (after an
    /// AUD if one leads).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the access unit holds no NAL unit.
    pub fn packetize<'p>(
        &'p mut self,
        nals: NalUnits<'p>,
        timestamp: u32,
    ) -> Result<H264Packets<'p>> {
        let now = self.extend_ts(timestamp);
        let (mut has_sps, mut has_pps, mut has_idr, mut any) = (false, false, false, false);
        for nal in nals.iter() {
            match nal_unit_type(nal[0]) {
                nal_type::SPS => {
                    has_sps = true;
                    replace_reusing(&mut self.sps, nal);
                }
                nal_type::PPS => {
                    has_pps = true;
                    replace_reusing(&mut self.pps, nal);
                }
                nal_type::IDR => has_idr = true,
                nal_type::AUD if self.cfg.strip_aud => continue,
                _ => {}
            }
            any = true;
        }
        if !any {
            return Err(Error::input(
                "H.264 access unit",
                0,
                "no NAL unit (no start code, or only empty NAL units)",
                0,
            ));
        }
        let cached = !self.sps.is_empty() && !self.pps.is_empty();
        let insert = has_idr
            && !(has_sps && has_pps)
            && cached
            && match self.cfg.config_interval {
                ConfigInterval::Never => false,
                ConfigInterval::EveryIdr => true,
                ConfigInterval::Every(d) => match self.last_config {
                    None => true,
                    Some(last) => {
                        let ticks = u128::try_from(now - last).unwrap_or(0);
                        ticks * 1_000_000_000 >= d.as_nanos() * 90_000
                    }
                },
            };
        if insert || (has_sps && has_pps) {
            self.last_config = Some(now);
        }

        let mut iter = nals.iter();
        let strip_aud = self.cfg.strip_aud;
        let mut prefix: [Option<&'p [u8]>; 3] = [None; 3];
        if insert {
            let mut first = iter.clone();
            let mut i = 0;
            if let Some(n) = first.next() {
                if nal_unit_type(n[0]) == nal_type::AUD {
                    iter = first;
                    if !strip_aud {
                        prefix[0] = Some(n);
                        i = 1;
                    }
                }
            }
            prefix[i] = Some(&self.sps[..]);
            prefix[i + 1] = Some(&self.pps[..]);
        }
        let mut cursor = NalCursor {
            prefix,
            prefix_pos: 0,
            nals: iter,
            strip_aud,
        };
        let peeked = cursor.next();
        Ok(H264Packets {
            cursor,
            peeked,
            fu: None,
            seq: &mut self.seq,
            mtu: self.cfg.mtu,
            payload_type: self.cfg.payload_type,
            ssrc: self.cfg.ssrc,
            timestamp,
            aggregation: self.cfg.aggregation,
        })
    }
}

pub(crate) fn check_mtu_pt(mtu: usize, pt: u8) -> Result<()> {
    if mtu < MIN_MTU {
        return Err(Error::config(
            "mtu",
            "must hold the RTP header and at least 3 payload bytes",
            mtu as u64,
        ));
    }
    if mtu > usize::from(u16::MAX) {
        return Err(Error::config(
            "mtu",
            "must fit a UDP datagram (65535)",
            mtu as u64,
        ));
    }
    if pt > 127 {
        return Err(Error::config(
            "payload_type",
            "must fit in 7 bits",
            u64::from(pt),
        ));
    }
    Ok(())
}

fn replace_reusing(dst: &mut Vec<u8>, src: &[u8]) {
    if dst[..] != *src {
        dst.clear();
        dst.extend_from_slice(src);
    }
}

/// The NAL units to send: inserted ones first, then the access unit's.
/// `Clone` so that the STAP-A builder can look ahead.
#[derive(Debug, Clone)]
struct NalCursor<'p> {
    prefix: [Option<&'p [u8]>; 3],
    prefix_pos: usize,
    nals: NalIter<'p>,
    strip_aud: bool,
}

impl<'p> Iterator for NalCursor<'p> {
    type Item = &'p [u8];

    fn next(&mut self) -> Option<&'p [u8]> {
        while self.prefix_pos < self.prefix.len() {
            let p = self.prefix[self.prefix_pos];
            self.prefix_pos += 1;
            if p.is_some() {
                return p;
            }
        }
        let strip = self.strip_aud;
        self.nals
            .by_ref()
            .find(|n| !(strip && nal_unit_type(n[0]) == nal_type::AUD))
    }
}

/// The packets of one access unit; see [`PacketSource`].
#[derive(Debug)]
pub struct H264Packets<'p> {
    cursor: NalCursor<'p>,
    peeked: Option<&'p [u8]>,
    /// NAL unit being fragmented and the offset of its next byte.
    fu: Option<(&'p [u8], usize)>,
    seq: &'p mut u16,
    mtu: usize,
    payload_type: u8,
    ssrc: u32,
    timestamp: u32,
    aggregation: Aggregation,
}

impl<'p> H264Packets<'p> {
    fn take_nal(&mut self) -> Option<&'p [u8]> {
        let n = self.peeked.take();
        if n.is_some() {
            self.peeked = self.cursor.next();
        }
        n
    }

    fn may_aggregate(&self, first: u8, next: u8, has_vcl: bool) -> bool {
        let ps = |t| t == nal_type::SPS || t == nal_type::PPS;
        match self.aggregation {
            Aggregation::None => false,
            Aggregation::ParameterSets => ps(first) && ps(next),
            Aggregation::ZeroLatency => !has_vcl,
        }
    }

    fn write_header(&mut self, out: &mut [u8], marker: bool) -> Result<u16> {
        let seq = *self.seq;
        RtpHeader {
            marker,
            payload_type: self.payload_type,
            sequence_number: seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        }
        .write(out)?;
        *self.seq = seq.wrapping_add(1);
        Ok(seq)
    }

    fn meta(&self, len: usize, seq: u16, marker: bool) -> PacketMeta {
        PacketMeta {
            len,
            sequence_number: seq,
            timestamp: self.timestamp,
            marker,
        }
    }
}

impl PacketSource for H264Packets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Result<Option<PacketMeta>> {
        if out.len() < self.mtu {
            return Err(Error::too_small("H.264 RTP packet", self.mtu, out.len()));
        }
        let max_payload = self.mtu - FIXED_HEADER_LEN;

        // Continue an FU-A (RFC 6184 §5.8).
        if let Some((nal, off)) = self.fu {
            let room = max_payload - 2;
            let end = (off + room).min(nal.len());
            let last = end == nal.len();
            let marker = last && self.peeked.is_none();
            let seq = self.write_header(out, marker)?;
            let p = &mut out[FIXED_HEADER_LEN..];
            p[0] = (nal[0] & 0xe0) | nal_type::FU_A;
            p[1] = (u8::from(last) << 6) | nal_unit_type(nal[0]);
            p[2..2 + end - off].copy_from_slice(&nal[off..end]);
            self.fu = if last { None } else { Some((nal, end)) };
            return Ok(Some(self.meta(
                FIXED_HEADER_LEN + 2 + end - off,
                seq,
                marker,
            )));
        }

        let Some(nal) = self.take_nal() else {
            return Ok(None);
        };

        if nal.len() > max_payload {
            // Start an FU-A: the header byte is carried in the FU
            // indicator/header, the data starts after it.
            let room = max_payload - 2;
            let end = 1 + room; // nal.len() > max_payload > room + 1
            let seq = self.write_header(out, false)?;
            let p = &mut out[FIXED_HEADER_LEN..];
            p[0] = (nal[0] & 0xe0) | nal_type::FU_A;
            p[1] = 0x80 | nal_unit_type(nal[0]);
            p[2..2 + room].copy_from_slice(&nal[1..end]);
            self.fu = Some((nal, end));
            return Ok(Some(self.meta(FIXED_HEADER_LEN + 2 + room, seq, false)));
        }

        // Aggregate following NAL units into a STAP-A while they fit.
        let first_type = nal_unit_type(nal[0]);
        let mut stap_len = 1 + 2 + nal.len();
        let mut count = 1;
        let mut has_vcl = is_vcl(first_type);
        let mut look = self.peeked;
        let mut ahead = self.cursor.clone();
        while let Some(next) = look {
            if !self.may_aggregate(first_type, nal_unit_type(next[0]), has_vcl)
                || stap_len + 2 + next.len() > max_payload
            {
                break;
            }
            stap_len += 2 + next.len();
            count += 1;
            has_vcl |= is_vcl(nal_unit_type(next[0]));
            look = ahead.next();
        }

        if count == 1 {
            let marker = self.peeked.is_none();
            let seq = self.write_header(out, marker)?;
            out[FIXED_HEADER_LEN..FIXED_HEADER_LEN + nal.len()].copy_from_slice(nal);
            return Ok(Some(self.meta(FIXED_HEADER_LEN + nal.len(), seq, marker)));
        }

        // Write the STAP-A: consume `count` NAL units (the first is `nal`).
        let mut pos = FIXED_HEADER_LEN + 1;
        let mut nri = nal[0] & 0x60;
        let mut f = nal[0] & 0x80;
        let mut unit = nal;
        for i in 0..count {
            if i > 0 {
                // Just peeked and counted above, so present.
                let Some(n) = self.take_nal() else { break };
                unit = n;
            }
            nri = nri.max(unit[0] & 0x60);
            f |= unit[0] & 0x80;
            out[pos..pos + 2].copy_from_slice(&(unit.len() as u16).to_be_bytes());
            out[pos + 2..pos + 2 + unit.len()].copy_from_slice(unit);
            pos += 2 + unit.len();
        }
        let marker = self.peeked.is_none();
        let seq = self.write_header(out, marker)?;
        // §5.7.1: F is the OR of the aggregated F bits, NRI their maximum.
        out[FIXED_HEADER_LEN] = f | nri | nal_type::STAP_A;
        Ok(Some(self.meta(pos, seq, marker)))
    }
}

/// Settings of an [`H264Depayloader`].
#[derive(Debug, Clone)]
pub struct H264DepayloaderConfig {
    /// After a loss, deliver nothing until an access unit with an IDR
    /// slice: the frames in between reference pictures the decoder never
    /// got, and would show as smeared garbage. Default `true`.
    pub wait_for_idr_after_loss: bool,
    /// Largest access unit accepted, in bytes; a larger one is discarded
    /// as damaged, so that a stream without marker bits or timestamp
    /// changes cannot grow memory without bound. Default 16 MiB.
    pub max_access_unit_size: usize,
    /// Deliver an access unit that lost packets with what arrived (marked
    /// [`AccessUnit::damaged`]) instead of discarding it, and do not wait
    /// for an IDR after it: a decoder with error concealment shows a
    /// picture that is partly repaired instead of freezing until the next
    /// keyframe (what FFmpeg and `avdec_h264` do). Within a fragmented
    /// NAL unit, the fragments before the first loss are kept and those
    /// after it dropped (they cannot be parsed without what was lost).
    /// Default `false`.
    pub deliver_damaged: bool,
}

impl Default for H264DepayloaderConfig {
    fn default() -> Self {
        Self {
            wait_for_idr_after_loss: true,
            max_access_unit_size: 16 << 20,
            deliver_damaged: false,
        }
    }
}

/// Counters of an [`H264Depayloader`]; they only grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct H264DepayStats {
    /// Packets handed to [`H264Depayloader::push`].
    pub packets: u64,
    /// Packets missing according to sequence numbers.
    pub lost_packets: u64,
    /// Packets out of sequence, dropped: older than one already seen (late
    /// or duplicated), or a lone stray far from the sequence or from
    /// another SSRC.
    pub late_packets: u64,
    /// Times the stream restarted (a new SSRC, or a sequence number far
    /// from the expected one): the access unit in progress was dropped.
    pub restarts: u64,
    /// Packets whose payload could not be parsed.
    pub malformed_packets: u64,
    /// Access units delivered.
    pub access_units: u64,
    /// Access units dropped because a packet of theirs was lost or broken.
    pub discarded_access_units: u64,
    /// Access units delivered although a packet of theirs was lost or
    /// broken ([`H264DepayloaderConfig::deliver_damaged`]).
    pub damaged_access_units: u64,
    /// Intact access units dropped while waiting for an IDR after a loss.
    pub skipped_waiting_for_idr: u64,
    /// Completed access units dropped because the caller did not pull
    /// them (the ready queue holds [`READY_QUEUE_LEN`]).
    pub overflowed_access_units: u64,
}

/// Completed access units the depayloader holds until pulled.
pub const READY_QUEUE_LEN: usize = 4;

/// One reassembled access unit: Annex B with 4-byte start codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessUnit<'a> {
    /// The NAL units, each behind `00 00 00 01`.
    pub data: &'a [u8],
    /// RTP timestamp shared by its packets.
    pub timestamp: u32,
    /// Holds an IDR slice: a decoder can start here.
    pub is_idr: bool,
    /// Access units were dropped just before this one.
    pub discontinuity: bool,
    /// Packets of this access unit were lost or broken: it holds what
    /// arrived ([`H264DepayloaderConfig::deliver_damaged`]).
    pub damaged: bool,
}

#[derive(Debug, Default)]
struct Ready {
    data: Vec<u8>,
    timestamp: u32,
    is_idr: bool,
    discontinuity: bool,
    damaged: bool,
}

/// Reassembles H.264 access units from RTP packets (RFC 6184 mode 1).
///
/// Packets must come in sequence order (reordering is a jitter buffer's
/// job); a gap in sequence numbers is a loss. An access unit ends at a
/// packet with the marker bit, or when the timestamp changes (for senders
/// that do not set the marker). An access unit that lost a packet, or held
/// a malformed one, is discarded and counted, never delivered half-built.
///
/// Feed with [`push`](Self::push), then take completed access units with
/// [`pull`](Self::pull) until it returns `None` (one push can complete two
/// access units: the previous one by a timestamp change and a new one by
/// its marker). Buffers are recycled, so after the first few access units
/// no allocation happens unless an access unit is larger than any before.
///
/// # Examples
///
/// ```
/// use framecast_rtp::{H264Depayloader, RtpHeader, RtpPacket};
/// let mut d = H264Depayloader::default();
/// let mut pkt = [0u8; 15];
/// RtpHeader { marker: true, payload_type: 96, sequence_number: 1, timestamp: 3000, ssrc: 7 }
///     .write(&mut pkt).unwrap();
/// pkt[12..].copy_from_slice(&[0x65, 0x88, 0x84]);
/// d.push(&RtpPacket::parse(&pkt).unwrap()).unwrap();
/// let au = d.pull().unwrap();
/// assert_eq!(au.data, &[0, 0, 0, 1, 0x65, 0x88, 0x84]);
/// assert!(au.is_idr);
/// ```
#[doc(alias = "rtph264depay")]
#[derive(Debug)]
pub struct H264Depayloader {
    cfg: H264DepayloaderConfig,
    seq: SeqTracker,
    current: Vec<u8>,
    cur_ts: Option<u32>,
    cur_damaged: bool,
    /// The access unit in progress outgrew `max_access_unit_size`: it
    /// takes no more bytes and is discarded.
    cur_oversize: bool,
    cur_idr: bool,
    in_fu: bool,
    waiting_for_idr: bool,
    discont_pending: bool,
    ready: VecDeque<Ready>,
    spare: Vec<Vec<u8>>,
    out: Option<Ready>,
    largest: usize,
    stats: H264DepayStats,
}

impl Default for H264Depayloader {
    fn default() -> Self {
        Self::new(H264DepayloaderConfig::default())
    }
}

impl H264Depayloader {
    /// A depayloader with `cfg`.
    pub fn new(cfg: H264DepayloaderConfig) -> Self {
        Self {
            cfg,
            seq: SeqTracker::default(),
            current: Vec::new(),
            cur_ts: None,
            cur_damaged: false,
            cur_oversize: false,
            cur_idr: false,
            in_fu: false,
            waiting_for_idr: false,
            discont_pending: false,
            ready: VecDeque::with_capacity(READY_QUEUE_LEN),
            spare: Vec::with_capacity(READY_QUEUE_LEN + 2),
            out: None,
            largest: 0,
            stats: H264DepayStats::default(),
        }
    }

    /// The next packet follows a discontinuity the jitter buffer upstream
    /// has judged (it marked the buffer `DISCONT`: a gap given up, or a
    /// restarted sender adopted): it is taken wherever its sequence number
    /// lies, instead of being held to probation a second time.
    pub fn upstream_discont(&mut self) {
        self.seq.vouch_next();
    }

    /// The counters.
    pub fn stats(&self) -> H264DepayStats {
        self.stats
    }

    /// Whether output is held back until the next IDR (after a loss with
    /// [`H264DepayloaderConfig::wait_for_idr_after_loss`]). A receiver
    /// would ask the sender for a keyframe now (RTCP PLI, RFC 4585 §6.3.1).
    pub fn is_waiting_for_idr(&self) -> bool {
        self.waiting_for_idr
    }

    /// Handles one packet.
    ///
    /// # Errors
    ///
    /// A malformed or unsupported payload, with the packet's sequence
    /// number and SSRC. The access unit it belonged to is discarded; the
    /// depayloader stays usable, and [`pull`](Self::pull) may still have
    /// output (a previous access unit this packet completed).
    pub fn push(&mut self, pkt: &RtpPacket<'_>) -> Result<()> {
        self.stats.packets += 1;
        let seq = pkt.sequence_number();
        let mut gap = false;
        match self.seq.check(seq, pkt.ssrc()) {
            SeqCheck::Late | SeqCheck::Stray => {
                self.stats.late_packets += 1;
                return Ok(());
            }
            SeqCheck::Next { lost: 0 } => {}
            SeqCheck::Next { lost } => {
                self.stats.lost_packets += u64::from(lost);
                gap = true;
            }
            SeqCheck::Restart => {
                // The old stream's access unit in progress will never be
                // finished; the new stream starts clean, and a decoder
                // can only join it at an IDR.
                self.stats.restarts += 1;
                if self.cur_ts.is_some() {
                    self.cur_damaged = true;
                    self.complete();
                }
                self.discont_pending = true;
                self.waiting_for_idr = self.cfg.wait_for_idr_after_loss;
            }
        }

        let ts = pkt.timestamp();
        // Lost packets belonged to the access unit in progress (if any),
        // or to the start of this packet's: both are damaged.
        if gap && self.cur_ts.is_some() {
            self.cur_damaged = true;
        }
        if self.cur_ts.is_some_and(|t| t != ts) {
            self.complete();
        }
        if gap {
            self.cur_damaged = true;
            // A fragmented NAL unit in progress lost fragments: what
            // follows of it cannot be parsed, so it ends here.
            self.in_fu = false;
        }
        self.cur_ts = Some(ts);

        let res = self.parse_payload(pkt.payload());
        if let Err(_e) = &res {
            self.stats.malformed_packets += 1;
            self.cur_damaged = true;
        }
        if self.current.len() > self.cfg.max_access_unit_size {
            self.cur_damaged = true;
            self.cur_oversize = true;
            self.current.clear();
        }
        if pkt.marker() {
            // A FU-A still open here lost its end bit: complete() counts
            // the access unit as damaged.
            self.complete();
        }
        res.map_err(|e| e.in_packet(seq, pkt.ssrc()))
    }

    fn append_nal_start(&mut self, header: u8) {
        if nal_unit_type(header) == nal_type::IDR {
            self.cur_idr = true;
        }
        if self.takes_bytes() {
            self.current.extend_from_slice(&START_CODE);
            self.current.push(header);
        }
    }

    fn append(&mut self, data: &[u8]) {
        if self.takes_bytes() {
            self.current.extend_from_slice(data);
        }
    }

    /// Whether the access unit in progress keeps what arrives: an intact
    /// one always, a damaged one when damaged ones are delivered.
    fn takes_bytes(&self) -> bool {
        !self.cur_oversize && (!self.cur_damaged || self.cfg.deliver_damaged)
    }

    fn parse_payload(&mut self, payload: &[u8]) -> Result<()> {
        let Some(&hdr) = payload.first() else {
            return Err(Error::truncated("H.264 payload", 0, 1, 0));
        };
        if hdr & 0x80 != 0 {
            // F = 1: "a syntax violation" (RFC 6184 §5.3); receivers MAY
            // discard. A decoder cannot use it, so the AU is damaged.
            return Err(Error::malformed(
                "H.264 NAL unit header",
                0,
                "forbidden_zero_bit (F) is set",
                u64::from(hdr),
            ));
        }
        let t = nal_unit_type(hdr);
        if t != nal_type::FU_A && self.in_fu {
            // A fragmented NAL unit never got its end.
            self.in_fu = false;
            self.cur_damaged = true;
        }
        match t {
            1..=23 => {
                self.append_nal_start(hdr);
                self.append(&payload[1..]);
                Ok(())
            }
            nal_type::STAP_A => {
                let mut pos = 1;
                if payload.len() < 3 {
                    return Err(Error::truncated("STAP-A", 1, 2, payload.len() - 1));
                }
                while pos < payload.len() {
                    if pos + 2 > payload.len() {
                        return Err(Error::truncated(
                            "STAP-A NAL size",
                            pos,
                            2,
                            payload.len() - pos,
                        ));
                    }
                    let size = usize::from(u16::from_be_bytes([payload[pos], payload[pos + 1]]));
                    pos += 2;
                    if size == 0 {
                        return Err(Error::malformed("STAP-A", pos - 2, "NAL unit size 0", 0));
                    }
                    if pos + size > payload.len() {
                        return Err(Error::truncated(
                            "STAP-A NAL unit",
                            pos,
                            size,
                            payload.len() - pos,
                        ));
                    }
                    let nal = &payload[pos..pos + size];
                    self.append_nal_start(nal[0]);
                    self.append(&nal[1..]);
                    pos += size;
                }
                Ok(())
            }
            nal_type::FU_A => {
                let Some(&fu) = payload.get(1) else {
                    return Err(Error::truncated("FU-A header", 1, 1, 0));
                };
                let (start, end) = (fu & 0x80 != 0, fu & 0x40 != 0);
                if start {
                    if self.in_fu {
                        self.cur_damaged = true;
                    }
                    self.append_nal_start((hdr & 0xe0) | nal_unit_type(fu));
                    self.in_fu = true;
                } else if !self.in_fu {
                    // A middle or end fragment whose start is missing.
                    self.cur_damaged = true;
                    return Ok(());
                }
                self.append(&payload[2..]);
                if end {
                    self.in_fu = false;
                }
                Ok(())
            }
            25..=27 | 29 => Err(Error::unsupported(
                "H.264 payload",
                "STAP-B, MTAP and FU-B need packetization-mode 2 (RFC 6184 §6.3)",
                u64::from(t),
            )),
            _ => Err(Error::malformed(
                "H.264 NAL unit header",
                0,
                "reserved NAL unit type",
                u64::from(t),
            )),
        }
    }

    /// Forgets the access unit in progress, those not yet pulled and the
    /// sequence (after a flush: what comes next is not a continuation);
    /// the counters stay. The next access unit out is a discontinuity,
    /// and with `wait_for_idr_after_loss` an IDR.
    pub fn reset(&mut self) {
        self.seq = SeqTracker::default();
        self.current.clear();
        self.cur_ts = None;
        self.cur_damaged = false;
        self.cur_oversize = false;
        self.cur_idr = false;
        self.in_fu = false;
        while let Some(r) = self.ready.pop_front() {
            self.recycle(r.data);
        }
        self.discont_pending = true;
        self.waiting_for_idr = self.cfg.wait_for_idr_after_loss;
    }

    /// Ends the access unit in progress (at end of stream: its last packet
    /// had no marker and no later timestamp will come).
    pub fn flush(&mut self) {
        self.complete();
    }

    fn complete(&mut self) {
        if self.in_fu {
            // A fragmented NAL unit cut off by a new timestamp (its end
            // fragment was lost with no sequence gap to show it).
            self.cur_damaged = true;
        }
        let had_content = !self.current.is_empty() || self.cur_damaged;
        let ts = self.cur_ts.take().unwrap_or(0);
        let is_idr = std::mem::take(&mut self.cur_idr);
        let damaged = std::mem::take(&mut self.cur_damaged);
        let oversize = std::mem::take(&mut self.cur_oversize);
        self.in_fu = false;
        if !had_content {
            return;
        }
        let deliver_damaged = damaged && self.cfg.deliver_damaged && !oversize;
        if deliver_damaged && self.current.is_empty() {
            // Nothing of it arrived intact enough to keep.
            self.stats.discarded_access_units += 1;
            self.discont_pending = true;
            return;
        }
        if damaged && !deliver_damaged {
            self.stats.discarded_access_units += 1;
            self.discont_pending = true;
            if self.cfg.wait_for_idr_after_loss {
                self.waiting_for_idr = true;
            }
            self.current.clear();
            return;
        }
        if self.waiting_for_idr && !is_idr {
            self.stats.skipped_waiting_for_idr += 1;
            self.current.clear();
            return;
        }
        if deliver_damaged {
            self.stats.damaged_access_units += 1;
            // Something before or within it is missing.
            self.discont_pending = true;
        }
        self.waiting_for_idr = false;
        if self.ready.len() == READY_QUEUE_LEN {
            if let Some(old) = self.ready.pop_front() {
                self.stats.overflowed_access_units += 1;
                self.recycle(old.data);
            }
        }
        // Every buffer in rotation is grown to the largest access unit
        // seen, so that once each has been used, nothing allocates again
        // until a larger access unit comes.
        self.largest = self.largest.max(self.current.len());
        let mut next = self.spare.pop().unwrap_or_default();
        next.reserve(self.largest);
        let data = std::mem::replace(&mut self.current, next);
        self.stats.access_units += 1;
        self.ready.push_back(Ready {
            data,
            timestamp: ts,
            is_idr,
            discontinuity: std::mem::take(&mut self.discont_pending),
            damaged: deliver_damaged,
        });
    }

    fn recycle(&mut self, mut v: Vec<u8>) {
        v.clear();
        self.spare.push(v);
    }

    /// The next completed access unit, if any. It borrows the depayloader
    /// until the next call to `pull` or `push`.
    pub fn pull(&mut self) -> Option<AccessUnit<'_>> {
        let r = self.ready.pop_front()?;
        if let Some(old) = self.out.replace(r) {
            self.recycle(old.data);
        }
        self.out.as_ref().map(|r| AccessUnit {
            data: &r.data,
            timestamp: r.timestamp,
            is_idr: r.is_idr,
            discontinuity: r.discontinuity,
            damaged: r.damaged,
        })
    }
}

/// The SDP `sprop-parameter-sets` value (RFC 6184 §8.1): base64 of each
/// parameter set NAL unit, comma-separated.
///
/// # Examples
///
/// ```
/// assert_eq!(framecast_rtp::h264::sprop_parameter_sets(&[&[0x67, 0x42], &[0x68]]), "Z0I=,aA==");
/// ```
pub fn sprop_parameter_sets(sets: &[&[u8]]) -> String {
    let mut s = String::new();
    for (i, set) in sets.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&crate::base64::encode(set));
    }
    s
}

/// Decodes `sprop-parameter-sets` into NAL units.
///
/// # Errors
///
/// [`Error::Malformed`] on bad base64 or an empty set.
pub fn parse_sprop_parameter_sets(value: &str) -> Result<Vec<Vec<u8>>> {
    value
        .split(',')
        .enumerate()
        .map(|(i, part)| match crate::base64::decode(part) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(Error::malformed(
                "sprop-parameter-sets",
                i,
                "not base64 or empty (index in value)",
                i as u64,
            )),
        })
        .collect()
}

/// The SDP `profile-level-id` (RFC 6184 §8.1): the SPS bytes after the
/// NAL header — `profile_idc`, the constraint flags, `level_idc` — in
/// hex. `None` if `sps` is shorter than 4 bytes or not an SPS.
pub fn profile_level_id(sps: &[u8]) -> Option<String> {
    if sps.len() < 4 || nal_unit_type(sps[0]) != nal_type::SPS {
        return None;
    }
    Some(format!("{:02X}{:02X}{:02X}", sps[1], sps[2], sps[3]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(pay: &mut H264Payloader, au: NalUnits<'_>, ts: u32) -> Vec<Vec<u8>> {
        let mut slot = vec![0u8; pay.config().mtu];
        let mut v = Vec::new();
        pay.packetize(au, ts)
            .unwrap()
            .for_each_packet(&mut slot, |p, _| v.push(p.to_vec()))
            .unwrap();
        v
    }

    #[test]
    fn annexb_split_handles_3_and_4_byte_start_codes() {
        let data = [
            9, 9, 0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0, 0, 0, 1, 0x65, 3, 0, 0,
        ];
        let v: Vec<&[u8]> = NalUnits::AnnexB(&data).iter().collect();
        assert_eq!(v, [&[0x67, 1][..], &[0x68, 2], &[0x65, 3]]);
        assert_eq!(NalUnits::AnnexB(&[1, 2, 3]).iter().count(), 0);
        assert_eq!(NalUnits::AnnexB(&[0, 0, 1]).iter().count(), 0);
    }

    #[test]
    fn stap_a_nri_and_f_are_maximum_and_or() {
        let mut pay = H264Payloader::new(H264PayloaderConfig {
            aggregation: Aggregation::ZeroLatency,
            ..Default::default()
        })
        .unwrap();
        let sei: &[u8] = &[0x06, 1, 2];
        let sps: &[u8] = &[0x67, 0x42, 0, 0x1e];
        let idr: &[u8] = &[0x45, 9, 9]; // NRI 2
        let list = [sei, sps, idr];
        let p = packets(&mut pay, NalUnits::List(&list), 0);
        assert_eq!(p.len(), 1);
        let r = RtpPacket::parse(&p[0]).unwrap();
        assert!(r.marker());
        assert_eq!(r.payload()[0], 0x60 | 24);
        assert_eq!(&r.payload()[1..3], &[0, 3]);
    }

    #[test]
    fn fu_a_bits() {
        let mut pay = H264Payloader::new(H264PayloaderConfig {
            mtu: 20,
            ..Default::default()
        })
        .unwrap();
        let mut nal = vec![0x41];
        nal.extend(0..20u8);
        let list = [&nal[..]];
        let p = packets(&mut pay, NalUnits::List(&list), 0);
        // 20 data bytes, 6 per packet.
        assert_eq!(p.len(), 4);
        for (i, pk) in p.iter().enumerate() {
            let r = RtpPacket::parse(pk).unwrap();
            let pl = r.payload();
            assert_eq!(pl[0], 0x40 | 28, "indicator keeps NRI");
            assert_eq!(pl[1] & 0x80 != 0, i == 0, "S");
            assert_eq!(pl[1] & 0x40 != 0, i == 3, "E");
            assert_eq!(pl[1] & 0x1f, 1);
            assert_eq!(r.marker(), i == 3);
            assert_eq!(r.sequence_number(), i as u16);
        }
    }

    #[test]
    fn config_interval_inserts_cached_parameter_sets() {
        let sps: &[u8] = &[0x67, 0x42, 0xc0, 0x1e];
        let pps: &[u8] = &[0x68, 0xce];
        let idr: &[u8] = &[0x65, 1];
        let p_slice: &[u8] = &[0x41, 1];
        let aud: &[u8] = &[0x09, 0xf0];
        let types = |ps: &[Vec<u8>]| -> Vec<u8> { ps.iter().map(|p| p[12] & 0x1f).collect() };

        for (interval, expect_second_idr) in [
            (ConfigInterval::EveryIdr, vec![24, 5]),
            (ConfigInterval::Never, vec![5]),
            (ConfigInterval::Every(Duration::from_secs(2)), vec![5]),
        ] {
            let mut pay = H264Payloader::new(H264PayloaderConfig {
                config_interval: interval,
                ..Default::default()
            })
            .unwrap();
            assert_eq!(
                types(&packets(&mut pay, NalUnits::List(&[sps, pps, idr]), 0)),
                [24, 5]
            );
            assert_eq!(pay.parameter_sets(), Some((sps, pps)));
            assert_eq!(
                types(&packets(&mut pay, NalUnits::List(&[p_slice]), 3000)),
                [1]
            );
            assert_eq!(
                types(&packets(&mut pay, NalUnits::List(&[aud, idr]), 90_000)),
                expect_second_idr,
                "{interval:?}"
            );
        }
        // Every(1 s) inserts once a second has passed, across a timestamp wrap.
        let mut pay = H264Payloader::new(H264PayloaderConfig {
            config_interval: ConfigInterval::from_gst(1),
            strip_aud: false,
            ..Default::default()
        })
        .unwrap();
        packets(&mut pay, NalUnits::List(&[sps, pps, idr]), u32::MAX - 10);
        assert_eq!(
            types(&packets(&mut pay, NalUnits::List(&[idr]), 80_000)),
            [5]
        );
        // AUD kept first, then the inserted SPS+PPS.
        assert_eq!(
            types(&packets(&mut pay, NalUnits::List(&[aud, idr]), 90_000)),
            [9, 24, 5]
        );
    }

    #[test]
    fn depay_discards_damaged_access_unit_and_waits_for_idr() {
        let mut pay = H264Payloader::new(H264PayloaderConfig {
            mtu: 40,
            ..Default::default()
        })
        .unwrap();
        let big_idr: Vec<u8> = std::iter::once(0x65).chain(0..100).collect();
        let big_p: Vec<u8> = std::iter::once(0x41).chain(0..100).collect();
        let a = packets(&mut pay, NalUnits::List(&[&big_idr]), 0);
        let b = packets(&mut pay, NalUnits::List(&[&big_p]), 3000);
        let c = packets(&mut pay, NalUnits::List(&[&big_p]), 6000);
        let d = packets(&mut pay, NalUnits::List(&[&big_idr]), 9000);
        let mut dep = H264Depayloader::default();
        let mut got = vec![];
        for (i, p) in a.iter().chain(&b).chain(&c).chain(&d).enumerate() {
            if i == a.len() + 1 {
                continue; // lose the second packet of b
            }
            dep.push(&RtpPacket::parse(p).unwrap()).unwrap();
            while let Some(au) = dep.pull() {
                got.push((au.timestamp, au.discontinuity));
            }
        }
        assert_eq!(got, [(0, false), (9000, true)]);
        let s = dep.stats();
        assert_eq!(s.lost_packets, 1);
        assert_eq!(s.discarded_access_units, 1);
        assert_eq!(s.skipped_waiting_for_idr, 1);
    }

    #[test]
    fn sdp_helpers() {
        let sps = [0x67, 0x64, 0x00, 0x1f, 0xac];
        assert_eq!(profile_level_id(&sps).unwrap(), "64001F");
        assert_eq!(profile_level_id(&[0x68, 1, 2, 3]), None);
        let s = sprop_parameter_sets(&[&sps, &[0x68, 0xee, 0x3c, 0x80]]);
        let back = parse_sprop_parameter_sets(&s).unwrap();
        assert_eq!(back, vec![sps.to_vec(), vec![0x68, 0xee, 0x3c, 0x80]]);
        assert!(parse_sprop_parameter_sets("Z0I=,*").is_err());
    }
}
