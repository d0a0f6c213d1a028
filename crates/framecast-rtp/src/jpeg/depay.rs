//! The JPEG depayloader (RFC 2435 §3, §4.2): RTP packets back to a
//! baseline JFIF image, with the headers rebuilt from the packets.

use super::*;
use crate::error::{Error, Result};
use crate::packet::RtpPacket;
use crate::seq::{SeqCheck, SeqTracker};

/// Counters of a [`JpegDepayloader`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JpegDepayStats {
    /// Packets pushed.
    pub packets: u64,
    /// Packets missing by sequence number.
    pub lost_packets: u64,
    /// Packets out of sequence, dropped: late, duplicated, or a lone stray
    /// far from the sequence or from another SSRC.
    pub late_packets: u64,
    /// Times the stream restarted (a new SSRC, or a sequence number far
    /// from the expected one): the frame in progress was dropped.
    pub restarts: u64,
    /// Packets that failed to parse.
    pub malformed_packets: u64,
    /// Frames delivered.
    pub frames: u64,
    /// Frames dropped as incomplete or damaged.
    pub discarded_frames: u64,
}

/// One rebuilt JPEG file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegFrame<'a> {
    /// A complete JFIF: SOI … EOI.
    pub data: &'a [u8],
    /// RTP timestamp.
    pub timestamp: u32,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Frames were dropped just before this one.
    pub discontinuity: bool,
}

/// Rebuilds JFIF files from RFC 2435 packets.
///
/// Packets must arrive in order. A frame with a missing or broken packet is
/// dropped and counted ([`JpegDepayStats`]). Memory: one frame buffer,
/// reused, plus the tables of Q values 128–254 seen so far (§3.1.8 lets a
/// sender send them once).
#[doc(alias = "rtpjpegdepay")]
#[derive(Debug)]
pub struct JpegDepayloader {
    pub(super) frame: Vec<u8>,
    header_len: usize,
    in_frame: bool,
    damaged: bool,
    ts: u32,
    pub(super) width: u16,
    pub(super) height: u16,
    pub(super) seq: SeqTracker,
    discont_pending: bool,
    q_cache: Vec<(u8, [u8; 128])>,
    max_frame_size: usize,
    stats: JpegDepayStats,
}

impl Default for JpegDepayloader {
    fn default() -> Self {
        Self::new()
    }
}

impl JpegDepayloader {
    /// A depayloader accepting frames up to 32 MiB.
    pub fn new() -> Self {
        Self {
            frame: Vec::new(),
            header_len: 0,
            in_frame: false,
            damaged: false,
            ts: 0,
            width: 0,
            height: 0,
            seq: SeqTracker::default(),
            discont_pending: false,
            q_cache: Vec::new(),
            max_frame_size: 32 << 20,
            stats: JpegDepayStats::default(),
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
    pub fn stats(&self) -> JpegDepayStats {
        self.stats
    }

    /// Forgets the frame in progress and the sequence (after a flush:
    /// what comes next is not a continuation); the counters stay. The
    /// next frame out is a discontinuity.
    pub fn reset(&mut self) {
        self.seq = SeqTracker::default();
        self.in_frame = false;
        self.damaged = false;
        self.discont_pending = true;
    }

    fn drop_frame(&mut self) {
        if self.in_frame {
            self.stats.discarded_frames += 1;
            self.discont_pending = true;
        }
        self.in_frame = false;
        self.damaged = false;
    }

    /// Handles one packet; returns the frame its marker bit completed.
    ///
    /// # Errors
    ///
    /// Malformed or unsupported payloads, with sequence number and SSRC;
    /// the frame in progress is then dropped.
    pub fn push(&mut self, pkt: &RtpPacket<'_>) -> Result<Option<JpegFrame<'_>>> {
        self.stats.packets += 1;
        let seq = pkt.sequence_number();
        match self.seq.check(seq, pkt.ssrc()) {
            SeqCheck::Late | SeqCheck::Stray => {
                self.stats.late_packets += 1;
                return Ok(None);
            }
            SeqCheck::Next { lost: 0 } => {}
            SeqCheck::Next { lost } => {
                self.stats.lost_packets += u64::from(lost);
                self.damaged = true;
                // Between frames the loss may have taken whole frames:
                // the next frame delivered follows a discontinuity either
                // way.
                self.discont_pending = true;
            }
            SeqCheck::Restart => {
                self.stats.restarts += 1;
                self.drop_frame();
                self.discont_pending = true;
            }
        }
        if self.in_frame && pkt.timestamp() != self.ts {
            // The previous frame's last packet never came.
            self.drop_frame();
        }
        match self.handle(pkt.payload(), pkt.timestamp()) {
            Ok(()) => {}
            Err(e) => {
                self.stats.malformed_packets += 1;
                self.damaged = true;
                self.drop_frame();
                return Err(e.in_packet(seq, pkt.ssrc()));
            }
        }
        if self.damaged {
            self.drop_frame();
        }
        if !pkt.marker() || !self.in_frame {
            return Ok(None);
        }
        self.in_frame = false;
        if !self.frame.ends_with(&[0xff, EOI]) {
            // GStreamer's payloader sends the file's EOI; RFC 2435 does not.
            self.frame.extend_from_slice(&[0xff, EOI]);
        }
        self.stats.frames += 1;
        Ok(Some(JpegFrame {
            data: &self.frame,
            timestamp: self.ts,
            width: self.width,
            height: self.height,
            discontinuity: std::mem::take(&mut self.discont_pending),
        }))
    }

    fn handle(&mut self, p: &[u8], ts: u32) -> Result<()> {
        if p.len() < MAIN_HEADER_LEN {
            return Err(Error::truncated(
                "RTP/JPEG main header",
                0,
                MAIN_HEADER_LEN,
                p.len(),
            ));
        }
        let offset = (usize::from(p[1]) << 16) | (usize::from(p[2]) << 8) | usize::from(p[3]);
        let (ty, q, w, h) = (p[4], p[5], p[6], p[7]);
        let mut pos = MAIN_HEADER_LEN;
        let mut restart_interval = 0;
        if (64..128).contains(&ty) {
            let r = p.get(pos..pos + 4).ok_or(Error::truncated(
                "RTP/JPEG restart marker header",
                pos,
                4,
                p.len() - pos,
            ))?;
            restart_interval = be16(r, 0);
            pos += RESTART_HEADER_LEN;
        }
        if ty & 63 > 1 || ty >= 128 {
            return Err(Error::unsupported(
                "RTP/JPEG type",
                "only types 0, 1, 64, 65 are defined (RFC 2435 §4.1)",
                u64::from(ty),
            ));
        }
        if w == 0 || h == 0 {
            return Err(Error::malformed(
                "RTP/JPEG main header",
                6,
                "zero width or height",
                0,
            ));
        }
        if offset != 0 {
            if !self.in_frame || self.damaged {
                // Its first packet is gone.
                self.damaged = true;
                return Ok(());
            }
            if offset != self.frame.len() - self.header_len {
                self.damaged = true;
                return Ok(());
            }
            if self.frame.len() + p.len() - pos > self.max_frame_size {
                self.damaged = true;
                return Ok(());
            }
            self.frame.extend_from_slice(&p[pos..]);
            return Ok(());
        }

        // First packet of a frame: work out the tables, write the headers.
        self.drop_frame();
        self.damaged = false;
        let tables: [[u8; 64]; 2] = match q {
            1..=99 => scaled_quant_tables(q),
            0 | 100..=127 => {
                return Err(Error::malformed(
                    "RTP/JPEG main header",
                    5,
                    "reserved Q value",
                    u64::from(q),
                ))
            }
            _ => {
                let hdr = p.get(pos..pos + 4).ok_or(Error::truncated(
                    "RTP/JPEG quantization table header",
                    pos,
                    4,
                    p.len() - pos,
                ))?;
                let (precision, len) = (hdr[1], usize::from(be16(hdr, 2)));
                pos += QUANT_HEADER_LEN;
                if precision != 0 {
                    return Err(Error::unsupported(
                        "RTP/JPEG quantization tables",
                        "16-bit tables",
                        u64::from(precision),
                    ));
                }
                let data = p.get(pos..pos + len).ok_or(Error::truncated(
                    "RTP/JPEG quantization tables",
                    pos,
                    len,
                    p.len() - pos,
                ))?;
                pos += len;
                let mut t = [[0u8; 64]; 2];
                match len {
                    0 => {
                        let cached = self.q_cache.iter().find(|(cq, _)| *cq == q && q != 255);
                        let Some((_, c)) = cached else {
                            return Err(Error::malformed(
                                "RTP/JPEG quantization table header",
                                pos - 4,
                                "length 0 but no tables known for this Q",
                                u64::from(q),
                            ));
                        };
                        t[0].copy_from_slice(&c[..64]);
                        t[1].copy_from_slice(&c[64..]);
                    }
                    64 => {
                        t[0].copy_from_slice(data);
                        t[1].copy_from_slice(data);
                    }
                    128 => {
                        t[0].copy_from_slice(&data[..64]);
                        t[1].copy_from_slice(&data[64..]);
                    }
                    _ => {
                        return Err(Error::unsupported(
                            "RTP/JPEG quantization tables",
                            "length must be 64 or 128 (one or two 8-bit tables)",
                            len as u64,
                        ))
                    }
                }
                if q < 255 && len > 0 && !self.q_cache.iter().any(|(cq, _)| *cq == q) {
                    let mut both = [0u8; 128];
                    both[..64].copy_from_slice(&t[0]);
                    both[64..].copy_from_slice(&t[1]);
                    self.q_cache.push((q, both));
                }
                t
            }
        };
        self.width = u16::from(w) * 8;
        self.height = u16::from(h) * 8;
        self.ts = ts;
        self.frame.clear();
        write_jfif_header(
            &mut self.frame,
            ty & 1,
            self.width,
            self.height,
            &tables,
            restart_interval,
        );
        self.header_len = self.frame.len();
        self.frame.extend_from_slice(&p[pos..]);
        self.in_frame = true;
        Ok(())
    }
}

fn put_marker(out: &mut Vec<u8>, marker: u8, len: usize) {
    out.extend_from_slice(&[0xff, marker]);
    out.extend_from_slice(&((len + 2) as u16).to_be_bytes());
}

/// Writes SOI, APP0 (JFIF), DQT, DRI, SOF0, DHT and SOS for an RFC 2435
/// frame (Appendix B's `MakeHeaders`): component 1 is Y with table 0,
/// components 2 and 3 are Cb and Cr with table 1.
fn write_jfif_header(
    out: &mut Vec<u8>,
    ty: u8,
    width: u16,
    height: u16,
    tables: &[[u8; 64]; 2],
    restart_interval: u16,
) {
    out.extend_from_slice(&[0xff, SOI]);
    put_marker(out, 0xe0, 14);
    out.extend_from_slice(b"JFIF\0");
    out.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
    put_marker(out, DQT, 2 * 65);
    for (i, t) in tables.iter().enumerate() {
        out.push(i as u8);
        out.extend_from_slice(t);
    }
    if restart_interval > 0 {
        put_marker(out, DRI, 2);
        out.extend_from_slice(&restart_interval.to_be_bytes());
    }
    put_marker(out, SOF0, 15);
    out.push(8);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    // Type 0: Y 2x1 (4:2:2); type 1: Y 2x2 (4:2:0) (RFC 2435 §4.1).
    out.extend_from_slice(&[
        3,
        1,
        if ty == 0 { 0x21 } else { 0x22 },
        0,
        2,
        0x11,
        1,
        3,
        0x11,
        1,
    ]);
    let dht_len: usize = std_huffman_tables()
        .iter()
        .map(|(_, _, v)| 17 + v.len())
        .sum();
    put_marker(out, DHT, dht_len);
    for (id, bits, values) in std_huffman_tables() {
        out.push(id);
        out.extend_from_slice(bits);
        out.extend_from_slice(values);
    }
    put_marker(out, SOS, 10);
    out.extend_from_slice(&[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
}
