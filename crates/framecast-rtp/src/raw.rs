//! Uncompressed video over RTP (RFC 4175).
//!
//! Each packet carries the high half of an extended sequence number, then
//! one 6-byte header per line segment, then the segments' pixel data in
//! the same order (§4.3):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Extended Sequence Number    |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |F|          Line No            |C|           Offset            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Length             |F|          Line No            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |C|           Offset            |                               .
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               .
//! .                 Two (partial) lines of video data             .
//! +---------------------------------------------------------------+
//! ```
//!
//! Length is in octets, Offset in pixels, C says another header follows,
//! F is the field (always 0 here: progressive only). Pixels travel in
//! "pgroups", the smallest whole number of octets holding whole pixels
//! (§4.3 and the tables of §4.1). The pgroups of the formats here (8-bit):
//!
//! | sampling      | framecast format | pgroup | pixels × lines | octet order            |
//! |---------------|------------------|--------|----------------|------------------------|
//! | RGB / BGR     | packed           | 3      | 1 × 1          | R G B / B G R          |
//! | RGBA / BGRA   | packed           | 4      | 1 × 1          | R G B A / B G R A      |
//! | YCbCr-4:2:2   | UYVY             | 4      | 2 × 1          | Cb Y0 Cr Y1            |
//! | YCbCr-4:2:0   | I420 (3 planes)  | 6      | 2 × 2          | Y00 Y01 Y10 Y11 Cb Cr  |
//!
//! For 4:2:0 a pgroup spans two lines, so line numbers go up by two
//! (GStreamer's rtpvrawpay: `xinc = yinc = 2`).

use crate::error::{Error, Result};
use crate::h264::check_mtu_pt;
use crate::packet::{RtpHeader, RtpPacket, FIXED_HEADER_LEN};
use crate::packetizer::{PacketMeta, PacketSource};
use crate::seq::{SeqCheck, SeqTracker};

/// Pixel formats this module carries, with their RFC 4175 sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RawFormat {
    /// Packed 8-bit R, G, B: `sampling=RGB`.
    Rgb,
    /// Packed 8-bit R, G, B, A: `sampling=RGBA`.
    Rgba,
    /// Packed 8-bit B, G, R (OpenCV's order): `sampling=BGR`.
    Bgr,
    /// Packed 8-bit B, G, R, A: `sampling=BGRA`.
    Bgra,
    /// Packed 4:2:2, U Y V Y: `sampling=YCbCr-4:2:2`.
    Uyvy,
    /// Planar 4:2:0, Y then U then V planes: `sampling=YCbCr-4:2:0`.
    I420,
}

impl RawFormat {
    /// Every format, in declaration order.
    pub const ALL: [RawFormat; 6] = [
        RawFormat::Rgb,
        RawFormat::Rgba,
        RawFormat::Bgr,
        RawFormat::Bgra,
        RawFormat::Uyvy,
        RawFormat::I420,
    ];

    /// The SDP `sampling` value (RFC 4175 §6.1).
    pub fn sampling(self) -> &'static str {
        match self {
            RawFormat::Rgb => "RGB",
            RawFormat::Rgba => "RGBA",
            RawFormat::Bgr => "BGR",
            RawFormat::Bgra => "BGRA",
            RawFormat::Uyvy => "YCbCr-4:2:2",
            RawFormat::I420 => "YCbCr-4:2:0",
        }
    }

    /// The format for an SDP `sampling` value (8-bit depth).
    pub fn from_sampling(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.sampling().eq_ignore_ascii_case(s))
    }

    /// Octets per pgroup.
    pub fn pgroup(self) -> usize {
        match self {
            RawFormat::Rgb | RawFormat::Bgr => 3,
            RawFormat::Rgba | RawFormat::Bgra | RawFormat::Uyvy => 4,
            RawFormat::I420 => 6,
        }
    }

    /// Pixels per pgroup along a line.
    pub fn xinc(self) -> usize {
        match self {
            RawFormat::Uyvy | RawFormat::I420 => 2,
            _ => 1,
        }
    }

    /// Lines per pgroup.
    pub fn yinc(self) -> usize {
        match self {
            RawFormat::I420 => 2,
            _ => 1,
        }
    }

    /// Number of planes in memory.
    pub fn planes(self) -> usize {
        match self {
            RawFormat::I420 => 3,
            _ => 1,
        }
    }

    /// `(bytes per row, rows)` of plane `i` for a `width × height` frame.
    pub fn plane_size(self, i: usize, width: usize, height: usize) -> (usize, usize) {
        match (self, i) {
            (RawFormat::I420, 0) => (width, height),
            (RawFormat::I420, _) => (width / 2, height / 2),
            _ => (width / self.xinc() * self.pgroup(), height),
        }
    }

    /// Tightly packed strides for a `width`-pixel frame.
    pub fn default_strides(self, width: usize) -> [usize; 3] {
        let mut s = [0; 3];
        for (i, st) in s.iter_mut().enumerate().take(self.planes()) {
            *st = self.plane_size(i, width, 2).0;
        }
        s
    }
}

/// One plane of a frame to send: its bytes and the distance between rows.
#[derive(Clone, Copy)]
pub struct Plane<'a> {
    /// The plane's bytes, row 0 first.
    pub data: &'a [u8],
    /// Bytes from one row to the next (≥ the row's width in bytes).
    pub stride: usize,
}

/// One plane of a frame to fill.
pub struct PlaneMut<'a> {
    /// The plane's bytes, row 0 first.
    pub data: &'a mut [u8],
    /// Bytes from one row to the next.
    pub stride: usize,
}

impl std::fmt::Debug for Plane<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plane")
            .field("len", &self.data.len())
            .field("stride", &self.stride)
            .finish()
    }
}

impl std::fmt::Debug for PlaneMut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaneMut")
            .field("len", &self.data.len())
            .field("stride", &self.stride)
            .finish()
    }
}

fn check_geometry(format: RawFormat, width: usize, height: usize) -> Result<()> {
    if width == 0 || width % format.xinc() != 0 || width > 0x7fff {
        return Err(Error::config(
            "width",
            "must be a positive multiple of the pgroup width and fit in 15 bits (RFC 4175 §4.3)",
            width as u64,
        ));
    }
    if height == 0 || height % format.yinc() != 0 || height > 0x8000 {
        return Err(Error::config(
            "height",
            "must be a positive multiple of the pgroup height and fit in 15-bit line numbers",
            height as u64,
        ));
    }
    Ok(())
}

fn check_planes(
    format: RawFormat,
    width: usize,
    height: usize,
    planes: &[(usize, usize)],
) -> Result<()> {
    if planes.len() < format.planes() {
        return Err(Error::config(
            "planes",
            "fewer planes than the format has",
            planes.len() as u64,
        ));
    }
    for (i, &(len, stride)) in planes.iter().take(format.planes()).enumerate() {
        let (row, rows) = format.plane_size(i, width, height);
        if stride < row {
            return Err(Error::config("stride", "smaller than a row", stride as u64));
        }
        let need = stride * (rows - 1) + row;
        if len < need {
            return Err(Error::too_small("raw video plane", need, len));
        }
    }
    Ok(())
}

/// Settings of a [`RawPayloader`].
#[derive(Debug, Clone)]
pub struct RawPayloaderConfig {
    /// Pixel format.
    pub format: RawFormat,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Largest RTP packet, header included (default 1400).
    pub mtu: usize,
    /// Dynamic payload type (default 96).
    pub payload_type: u8,
    /// SSRC.
    pub ssrc: u32,
    /// Extended (32-bit) sequence number of the first packet; the low 16
    /// bits go in the RTP header, the high 16 in the payload header.
    pub initial_sequence_number: u32,
}

impl RawPayloaderConfig {
    /// Defaults for a `format` frame of `width × height`.
    pub fn new(format: RawFormat, width: usize, height: usize) -> Self {
        Self {
            format,
            width,
            height,
            mtu: 1400,
            payload_type: 96,
            ssrc: 0,
            initial_sequence_number: 0,
        }
    }
}

/// Cuts uncompressed frames into RFC 4175 packets, copying pixels straight
/// from the caller's planes into the caller's packet slots.
#[doc(alias = "rtpvrawpay")]
#[derive(Debug)]
pub struct RawPayloader {
    cfg: RawPayloaderConfig,
    seq: u32,
}

impl RawPayloader {
    /// A payloader with `cfg`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a geometry the format cannot express
    /// or an MTU too small for one line header and one pgroup.
    pub fn new(cfg: RawPayloaderConfig) -> Result<Self> {
        check_mtu_pt(cfg.mtu, cfg.payload_type)?;
        check_geometry(cfg.format, cfg.width, cfg.height)?;
        if cfg.mtu < FIXED_HEADER_LEN + 2 + 6 + cfg.format.pgroup() + 1 {
            return Err(Error::config(
                "mtu",
                "must hold one line header and one pgroup",
                cfg.mtu as u64,
            ));
        }
        Ok(Self {
            seq: cfg.initial_sequence_number,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RawPayloaderConfig {
        &self.cfg
    }

    /// Starts packetizing one frame given as planes (one for packed
    /// formats, Y/U/V for I420) with RTP timestamp `timestamp`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] or [`Error::BufferTooSmall`] if the planes
    /// do not hold a frame of the configured geometry.
    pub fn packetize<'p>(
        &'p mut self,
        planes: &'p [Plane<'p>],
        timestamp: u32,
    ) -> Result<RawPackets<'p>> {
        let mut sizes = [(0usize, 0usize); 3];
        for (s, p) in sizes.iter_mut().zip(planes) {
            *s = (p.data.len(), p.stride);
        }
        check_planes(
            self.cfg.format,
            self.cfg.width,
            self.cfg.height,
            &sizes[..planes.len().min(3)],
        )?;
        Ok(RawPackets {
            planes,
            cfg: &self.cfg,
            seq: &mut self.seq,
            timestamp,
            line: 0,
            offset: 0,
        })
    }
}

/// The packets of one raw frame; see [`PacketSource`].
#[derive(Debug)]
pub struct RawPackets<'p> {
    planes: &'p [Plane<'p>],
    cfg: &'p RawPayloaderConfig,
    seq: &'p mut u32,
    timestamp: u32,
    line: usize,
    offset: usize,
}

impl RawPackets<'_> {
    fn copy_segment(&self, out: &mut [u8], line: usize, offset: usize, length: usize) {
        let f = self.cfg.format;
        let groups = length / f.pgroup();
        match f {
            RawFormat::I420 => {
                let (y, u, v) = (&self.planes[0], &self.planes[1], &self.planes[2]);
                let y0 = line * y.stride + offset;
                let y1 = y0 + y.stride;
                let u0 = line / 2 * u.stride + offset / 2;
                let v0 = line / 2 * v.stride + offset / 2;
                for (g, o) in out[..length].chunks_exact_mut(6).enumerate().take(groups) {
                    o[0] = y.data[y0 + 2 * g];
                    o[1] = y.data[y0 + 2 * g + 1];
                    o[2] = y.data[y1 + 2 * g];
                    o[3] = y.data[y1 + 2 * g + 1];
                    o[4] = u.data[u0 + g];
                    o[5] = v.data[v0 + g];
                }
            }
            _ => {
                let p = &self.planes[0];
                let start = line * p.stride + offset / f.xinc() * f.pgroup();
                out[..length].copy_from_slice(&p.data[start..start + length]);
            }
        }
    }
}

impl PacketSource for RawPackets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Result<Option<PacketMeta>> {
        let (width, height) = (self.cfg.width, self.cfg.height);
        if self.line >= height {
            return Ok(None);
        }
        let mtu = self.cfg.mtu;
        if out.len() < mtu {
            return Err(Error::too_small("RFC 4175 packet", mtu, out.len()));
        }
        let f = self.cfg.format;
        let pgroup = f.pgroup();
        let seq = *self.seq;
        out[FIXED_HEADER_LEN..FIXED_HEADER_LEN + 2]
            .copy_from_slice(&((seq >> 16) as u16).to_be_bytes());
        let headers_start = FIXED_HEADER_LEN + 2;
        let mut left = mtu - headers_start;
        let mut hpos = headers_start;

        // Pass 1: lay out the line headers, as many segments as fit.
        while left > 6 + pgroup && self.line < height {
            left -= 6;
            let remaining = width - self.offset;
            let full = remaining / f.xinc() * pgroup;
            let (pixels, length, next_line) = if left >= full {
                (remaining, full, true)
            } else {
                let px = left / pgroup * f.xinc();
                (px, px / f.xinc() * pgroup, false)
            };
            left -= length;
            let (line, offset) = (self.line, self.offset);
            if next_line {
                self.line += f.yinc();
                self.offset = 0;
            } else {
                self.offset += pixels;
            }
            let cont = left > 6 + pgroup && self.line < height;
            out[hpos..hpos + 2].copy_from_slice(&(length as u16).to_be_bytes());
            out[hpos + 2..hpos + 4].copy_from_slice(&(line as u16 & 0x7fff).to_be_bytes());
            out[hpos + 4..hpos + 6].copy_from_slice(
                &((offset as u16 & 0x7fff) | if cont { 0x8000 } else { 0 }).to_be_bytes(),
            );
            hpos += 6;
            if !cont {
                break;
            }
        }

        // Pass 2: read the headers back and copy the pixels after them.
        let mut dpos = hpos;
        let mut h = headers_start;
        while h < hpos {
            let length = usize::from(u16::from_be_bytes([out[h], out[h + 1]]));
            let line = usize::from(u16::from_be_bytes([out[h + 2], out[h + 3]]) & 0x7fff);
            let offset = usize::from(u16::from_be_bytes([out[h + 4], out[h + 5]]) & 0x7fff);
            self.copy_segment(&mut out[dpos..], line, offset, length);
            dpos += length;
            h += 6;
        }

        let marker = self.line >= height;
        RtpHeader {
            marker,
            payload_type: self.cfg.payload_type,
            sequence_number: seq as u16,
            timestamp: self.timestamp,
            ssrc: self.cfg.ssrc,
        }
        .write(out)?;
        *self.seq = seq.wrapping_add(1);
        Ok(Some(PacketMeta {
            len: dpos,
            sequence_number: seq as u16,
            timestamp: self.timestamp,
            marker,
        }))
    }
}

/// A frame the depayloader finished writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrameInfo {
    /// RTP timestamp.
    pub timestamp: u32,
    /// Packets of this frame lost (by sequence number).
    pub lost_packets: u64,
    /// Segments rejected as malformed.
    pub malformed_packets: u64,
    /// The marker bit was seen and nothing was lost or rejected: every
    /// pixel of the buffer is from this frame.
    pub complete: bool,
}

/// What one [`RawDepayloader::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawPush {
    /// The packet's pixels were written; the frame is not finished.
    InProgress,
    /// The packet was the frame's last (marker bit): the buffer holds it.
    Frame(RawFrameInfo),
    /// The packet starts a new frame but the previous one never got its
    /// marker (lost): the buffer holds the previous frame, and this packet
    /// was **not** consumed — push it again with the next buffer.
    FrameEndedPushAgain(RawFrameInfo),
}

/// Counters of a [`RawDepayloader`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawDepayStats {
    /// Packets pushed (and consumed).
    pub packets: u64,
    /// Packets missing by sequence number.
    pub lost_packets: u64,
    /// Packets out of sequence, dropped: late, duplicated, or a lone stray
    /// far from the sequence or from another SSRC.
    pub late_packets: u64,
    /// Times the stream restarted (a new SSRC, or a sequence number far
    /// from the expected one): the frame in progress ended there.
    pub restarts: u64,
    /// Packets with at least one malformed segment.
    pub malformed_packets: u64,
    /// Frames delivered.
    pub frames: u64,
    /// Frames delivered incomplete.
    pub incomplete_frames: u64,
}

/// Writes RFC 4175 packets into a frame buffer the caller owns.
///
/// Pixels go straight from the packet to their place in the caller's
/// planes (with the caller's strides): no intermediate frame. A lost
/// packet leaves its pixels as they were, and the frame is still
/// delivered, flagged incomplete: for uncompressed video a few stale
/// lines are better than no picture.
#[doc(alias = "rtpvrawdepay")]
#[derive(Debug)]
pub struct RawDepayloader {
    format: RawFormat,
    width: usize,
    height: usize,
    seq: SeqTracker,
    in_frame: bool,
    ts: u32,
    lost: u64,
    malformed: u64,
    stats: RawDepayStats,
}

impl RawDepayloader {
    /// A depayloader for `format` frames of `width × height`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a geometry the format cannot express.
    pub fn new(format: RawFormat, width: usize, height: usize) -> Result<Self> {
        check_geometry(format, width, height)?;
        Ok(Self {
            format,
            width,
            height,
            seq: SeqTracker::default(),
            in_frame: false,
            ts: 0,
            lost: 0,
            malformed: 0,
            stats: RawDepayStats::default(),
        })
    }

    /// The next packet follows a discontinuity the jitter buffer upstream
    /// has judged (it marked the buffer `DISCONT`: a gap given up, or a
    /// restarted sender adopted): it is taken wherever its sequence number
    /// lies, instead of being held to probation a second time.
    pub fn upstream_discont(&mut self) {
        self.seq.vouch_next();
    }

    /// The counters.
    pub fn stats(&self) -> RawDepayStats {
        self.stats
    }

    fn finish(&mut self, marker: bool) -> RawFrameInfo {
        let info = RawFrameInfo {
            timestamp: self.ts,
            lost_packets: self.lost,
            malformed_packets: self.malformed,
            complete: marker && self.lost == 0 && self.malformed == 0,
        };
        self.in_frame = false;
        self.lost = 0;
        self.malformed = 0;
        self.stats.frames += 1;
        if !info.complete {
            self.stats.incomplete_frames += 1;
        }
        info
    }

    /// Counts what a packet's sequence number said: packets lost before
    /// it (charged to the frame in progress) or a restarted stream.
    fn count(&mut self, verdict: SeqCheck) {
        match verdict {
            SeqCheck::Next { lost } => {
                self.stats.lost_packets += u64::from(lost);
                self.lost += u64::from(lost);
            }
            SeqCheck::Restart => {
                // The stray packet before this one was the new stream's:
                // dropped, its pixels are missing from this frame.
                self.stats.restarts += 1;
                self.lost += 1;
            }
            SeqCheck::Late | SeqCheck::Stray => {}
        }
    }

    /// Ends the frame in progress, if any, as delivered incomplete (at end
    /// of stream: its marker packet will not come).
    pub fn flush(&mut self) -> Option<RawFrameInfo> {
        self.in_frame.then(|| self.finish(false))
    }

    /// Forgets the frame in progress (not delivered, not counted) and the
    /// sequence: after a flush, what comes next is not a continuation.
    pub fn reset(&mut self) {
        self.seq = SeqTracker::default();
        self.in_frame = false;
        self.lost = 0;
        self.malformed = 0;
    }

    /// Writes the packet's pixels into `frame` (one plane for packed
    /// formats, Y/U/V for I420).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`]/[`Error::BufferTooSmall`] if `frame` does
    /// not fit the geometry (nothing is consumed), or a malformed payload
    /// (with sequence number and SSRC; the frame continues, flagged). A
    /// malformed packet carrying the marker still ends its frame: the
    /// frame comes back flagged, with the packet counted in its
    /// [`RawFrameInfo::malformed_packets`].
    pub fn push(&mut self, pkt: &RtpPacket<'_>, frame: &mut [PlaneMut<'_>]) -> Result<RawPush> {
        let mut sizes = [(0usize, 0usize); 3];
        for (s, p) in sizes.iter_mut().zip(frame.iter()) {
            *s = (p.data.len(), p.stride);
        }
        check_planes(
            self.format,
            self.width,
            self.height,
            &sizes[..frame.len().min(3)],
        )?;

        let ts = pkt.timestamp();
        let seq = pkt.sequence_number();
        let ssrc = pkt.ssrc();
        let verdict = self.seq.classify(seq, ssrc);
        if matches!(verdict, SeqCheck::Late | SeqCheck::Stray) {
            // Checked before the timestamp: a late or duplicated packet of
            // the previous frame, or a stray, must not end the frame in
            // progress.
            if verdict == SeqCheck::Stray {
                self.seq.note_stray(seq, ssrc);
            }
            self.stats.packets += 1;
            self.stats.late_packets += 1;
            return Ok(RawPush::InProgress);
        }
        if self.in_frame && (ts != self.ts || verdict == SeqCheck::Restart) {
            // The frame lost at least its marker packet (or its stream
            // restarted): a gap before this packet is charged to it (its
            // tail), not to the next frame.
            if let SeqCheck::Next { .. } = verdict {
                self.count(verdict);
                // Pushed again, this packet is next in order.
                self.seq.expect(seq, ssrc);
            }
            // A restart is counted when the packet comes again (it is
            // still one then), against the new stream's frame.
            return Ok(RawPush::FrameEndedPushAgain(self.finish(false)));
        }
        self.stats.packets += 1;
        self.count(verdict);
        self.seq.accept(seq, ssrc);
        if !self.in_frame {
            self.in_frame = true;
            self.ts = ts;
        }
        let res = self.write_segments(pkt.payload(), frame);
        if res.is_err() {
            self.malformed += 1;
            self.stats.malformed_packets += 1;
        }
        match res {
            // The marker ends the frame even when this packet was
            // malformed: the frame goes out flagged (its info counts the
            // malformed packet), never merged into the next one.
            _ if pkt.marker() => Ok(RawPush::Frame(self.finish(true))),
            Ok(()) => Ok(RawPush::InProgress),
            Err(e) => Err(e.in_packet(seq, ssrc)),
        }
    }

    fn write_segments(&mut self, p: &[u8], frame: &mut [PlaneMut<'_>]) -> Result<()> {
        const W: &str = "RFC 4175 line header";
        if p.len() < 2 + 6 {
            return Err(Error::truncated("RFC 4175 payload header", 0, 8, p.len()));
        }
        let f = self.format;
        // Find the end of the header list first: data follows the last one.
        let mut h = 2;
        loop {
            if h + 6 > p.len() {
                return Err(Error::truncated(W, h, 6, p.len() - h));
            }
            let cont = p[h + 4] & 0x80 != 0;
            h += 6;
            if !cont {
                break;
            }
        }
        let mut data = h;
        let mut hp = 2;
        while hp < h {
            let length = usize::from(u16::from_be_bytes([p[hp], p[hp + 1]]));
            let line = usize::from(u16::from_be_bytes([p[hp + 2], p[hp + 3]]) & 0x7fff);
            let offset = usize::from(u16::from_be_bytes([p[hp + 4], p[hp + 5]]) & 0x7fff);
            let field = p[hp + 2] & 0x80 != 0;
            if field {
                return Err(Error::unsupported(W, "interlaced (F = 1) video", 1));
            }
            if length % f.pgroup() != 0 {
                return Err(Error::malformed(
                    W,
                    hp,
                    "length is not a whole number of pgroups",
                    length as u64,
                ));
            }
            let pixels = length / f.pgroup() * f.xinc();
            if line >= self.height || line % f.yinc() != 0 {
                return Err(Error::malformed(
                    W,
                    hp + 2,
                    "line number outside the frame",
                    line as u64,
                ));
            }
            if offset % f.xinc() != 0 || offset + pixels > self.width {
                return Err(Error::malformed(
                    W,
                    hp + 4,
                    "offset/length outside the line",
                    offset as u64,
                ));
            }
            let seg = p.get(data..data + length).ok_or(Error::truncated(
                "RFC 4175 segment data",
                data,
                length,
                p.len() - data,
            ))?;
            self.store(frame, seg, line, offset);
            data += length;
            hp += 6;
        }
        Ok(())
    }

    fn store(&self, frame: &mut [PlaneMut<'_>], seg: &[u8], line: usize, offset: usize) {
        let f = self.format;
        match f {
            RawFormat::I420 => {
                let [y, u, v, ..] = frame else { return };
                let y0 = line * y.stride + offset;
                let y1 = y0 + y.stride;
                let c = line / 2;
                let u0 = c * u.stride + offset / 2;
                let v0 = c * v.stride + offset / 2;
                for (g, s) in seg.chunks_exact(6).enumerate() {
                    y.data[y0 + 2 * g] = s[0];
                    y.data[y0 + 2 * g + 1] = s[1];
                    y.data[y1 + 2 * g] = s[2];
                    y.data[y1 + 2 * g + 1] = s[3];
                    u.data[u0 + g] = s[4];
                    v.data[v0 + g] = s[5];
                }
            }
            _ => {
                let Some(pl) = frame.first_mut() else { return };
                let start = line * pl.stride + offset / f.xinc() * f.pgroup();
                pl.data[start..start + seg.len()].copy_from_slice(seg);
            }
        }
    }
}
