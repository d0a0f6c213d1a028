//! The H.264 payloader (RFC 6184 §5.6–5.8): access units to single NAL unit,
//! STAP-A and FU-A packets.

use std::time::Duration;

use super::*;
use crate::error::{Error, Result};
use crate::packet::{RtpHeader, FIXED_HEADER_LEN};
use crate::packetizer::{PacketMeta, PacketSource};

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
    pub(super) cfg: H264PayloaderConfig,
    pub(super) seq: u16,
    pub(super) sps: Vec<u8>,
    pub(super) pps: Vec<u8>,
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
    pub(super) nals: NalIter<'p>,
    pub(super) strip_aud: bool,
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
    pub(super) fu: Option<(&'p [u8], usize)>,
    pub(super) seq: &'p mut u16,
    pub(super) mtu: usize,
    pub(super) payload_type: u8,
    pub(super) ssrc: u32,
    pub(super) timestamp: u32,
    pub(super) aggregation: Aggregation,
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
