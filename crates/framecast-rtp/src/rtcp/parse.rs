//! Parsing compound RTCP packets (RFC 3550 §6.1, §6.4–6.6; RFC 4585 §6.3
//! payload-specific feedback): borrowed views, never a copy.

use super::*;
use crate::error::{Error, Result};

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
    pub(super) count: u8,
    pub(super) body: &'a [u8],
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
    pub(super) body: &'a [u8],
    pub(super) pos: usize,
    chunks_left: u8,
    pub(super) ssrc: Option<u32>,
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
    pub(super) ssrcs: &'a [u8],
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
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
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
