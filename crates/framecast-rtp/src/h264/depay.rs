//! The H.264 depayloader (RFC 6184 §5.6–5.8): RTP packets back to Annex B
//! access units, with loss handling.

use std::collections::VecDeque;

use super::*;
use crate::error::{Error, Result};
use crate::packet::RtpPacket;
use crate::seq::{SeqCheck, SeqTracker};

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
pub(super) struct Ready {
    pub(super) data: Vec<u8>,
    pub(super) timestamp: u32,
    is_idr: bool,
    pub(super) discontinuity: bool,
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
    pub(super) cfg: H264DepayloaderConfig,
    pub(super) seq: SeqTracker,
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
    pub(super) out: Option<Ready>,
    largest: usize,
    pub(super) stats: H264DepayStats,
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
