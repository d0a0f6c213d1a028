//! The RTP fixed header (RFC 3550 §5.1): a zero-copy reader and a writer.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           timestamp                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           synchronization source (SSRC) identifier            |
//! +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//! |            contributing source (CSRC) identifiers             |
//! |                             ....                              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  defined by profile (X=1)     |           length              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     header extension ...                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     payload ...       | padding ... | pad len |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! [`RtpPacket`] borrows the datagram and checks every length once in
//! [`RtpPacket::parse`], so the accessors cannot fail and never copy.
//! [`RtpHeader::write`] writes the 12 fixed bytes into a caller's slice: the
//! payloaders use it to build packets in place, without allocating.

use crate::error::{Error, Result};

/// RTP version written and accepted (RFC 3550 §5.1: "The version defined by
/// this specification is two (2)").
pub const RTP_VERSION: u8 = 2;

/// Size of the fixed header without CSRCs or extension (RFC 3550 §5.1).
pub const FIXED_HEADER_LEN: usize = 12;

/// The fields of an RTP header that a sender chooses per packet.
///
/// The writer never sets padding, extension or CSRCs: a framecast sender is
/// the only source of its stream (no mixer), and padding is only needed for
/// encryption (RFC 3550 §5.1, P bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RtpHeader {
    /// M bit: "marks significant events such as frame boundaries"; every
    /// payload format in this crate sets it on the last packet of a frame.
    pub marker: bool,
    /// PT, 7 bits (RFC 3551 §6: 26 is JPEG, 96–127 dynamic).
    pub payload_type: u8,
    /// Increments by one per packet, starting at a random value
    /// (RFC 3550 §5.1) so that plain-text attacks on encryption are harder.
    pub sequence_number: u16,
    /// Sampling instant of the first octet of the payload, in the payload
    /// format's clock (90 kHz for video).
    pub timestamp: u32,
    /// Identifies the source; random (RFC 3550 §8).
    pub ssrc: u32,
}

impl RtpHeader {
    /// Writes the 12-byte fixed header into the start of `out` and returns
    /// the number of bytes written ([`FIXED_HEADER_LEN`]).
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if `out` is shorter than 12 bytes, or
    /// [`Error::InvalidConfig`] if `payload_type` does not fit in 7 bits.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast_rtp::{RtpHeader, RtpPacket};
    /// let mut buf = [0u8; 16];
    /// let h = RtpHeader { marker: true, payload_type: 96, sequence_number: 7, timestamp: 90_000, ssrc: 42 };
    /// let n = h.write(&mut buf).unwrap();
    /// buf[n..].copy_from_slice(b"data");
    /// let p = RtpPacket::parse(&buf).unwrap();
    /// assert_eq!(p.header(), h);
    /// assert_eq!(p.payload(), b"data");
    /// ```
    pub fn write(&self, out: &mut [u8]) -> Result<usize> {
        if self.payload_type > 0x7f {
            return Err(Error::config(
                "payload_type",
                "must fit in 7 bits (RFC 3550 §5.1)",
                u64::from(self.payload_type),
            ));
        }
        let available = out.len();
        let out = out.get_mut(..FIXED_HEADER_LEN).ok_or(Error::too_small(
            "RTP header",
            FIXED_HEADER_LEN,
            available,
        ))?;
        out[0] = RTP_VERSION << 6;
        out[1] = (u8::from(self.marker) << 7) | self.payload_type;
        out[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        Ok(FIXED_HEADER_LEN)
    }
}

/// A parsed, validated view of one RTP packet; borrows the datagram.
///
/// Header extensions (RFC 3550 §5.3.1) are skipped: they are reachable
/// through [`RtpPacket::extension`] but no payload format here needs them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    payload_start: usize,
    payload_end: usize,
    extension: Option<(u16, usize, usize)>,
}

impl std::fmt::Debug for RtpPacket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sizes and header fields, not kilobytes of hex.
        f.debug_struct("RtpPacket")
            .field("seq", &self.sequence_number())
            .field("ts", &self.timestamp())
            .field("ssrc", &format_args!("{:#010x}", self.ssrc()))
            .field("pt", &self.payload_type())
            .field("marker", &self.marker())
            .field("payload_len", &self.payload().len())
            .finish()
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> RtpPacket<'a> {
    /// Checks `buf` as one RTP packet and returns a view of it.
    ///
    /// Checks, after RFC 3550 Appendix A.1 (header validity): version 2;
    /// the CSRC list and the extension fit; with P set, the last octet
    /// counts the padding, which must be at least 1 and leave room for the
    /// header ("the last octet of the padding contains a count of how many
    /// padding octets should be ignored, including itself").
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] or [`Error::Malformed`], with the packet's
    /// sequence number and SSRC once they are readable.
    pub fn parse(buf: &'a [u8]) -> Result<Self> {
        if buf.len() < FIXED_HEADER_LEN {
            return Err(Error::truncated(
                "RTP header",
                0,
                FIXED_HEADER_LEN,
                buf.len(),
            ));
        }
        let seq = be16(buf, 2);
        let ssrc = be32(buf, 8);
        let version = buf[0] >> 6;
        if version != RTP_VERSION {
            return Err(
                Error::malformed("RTP header", 0, "version must be 2", u64::from(version))
                    .in_packet(seq, ssrc),
            );
        }
        let csrc_count = usize::from(buf[0] & 0x0f);
        let mut pos = FIXED_HEADER_LEN + 4 * csrc_count;
        if buf.len() < pos {
            return Err(Error::truncated(
                "RTP CSRC list",
                FIXED_HEADER_LEN,
                4 * csrc_count,
                buf.len() - 12,
            )
            .in_packet(seq, ssrc));
        }
        let mut extension = None;
        if buf[0] & 0x10 != 0 {
            // RFC 3550 §5.3.1: 16-bit profile field, 16-bit length in
            // 32-bit words, not counting the 4-byte extension header.
            if buf.len() < pos + 4 {
                return Err(
                    Error::truncated("RTP header extension", pos, 4, buf.len() - pos)
                        .in_packet(seq, ssrc),
                );
            }
            let profile = be16(buf, pos);
            let words = usize::from(be16(buf, pos + 2));
            let start = pos + 4;
            let end = start + 4 * words;
            if buf.len() < end {
                return Err(Error::truncated(
                    "RTP header extension",
                    start,
                    4 * words,
                    buf.len() - start,
                )
                .in_packet(seq, ssrc));
            }
            extension = Some((profile, start, end));
            pos = end;
        }
        let mut end = buf.len();
        if buf[0] & 0x20 != 0 {
            let pad = usize::from(buf[buf.len() - 1]);
            if pad == 0 || pad > buf.len() - pos {
                return Err(Error::malformed(
                    "RTP padding",
                    buf.len() - 1,
                    "padding count is zero or longer than the payload",
                    pad as u64,
                )
                .in_packet(seq, ssrc));
            }
            end -= pad;
        }
        Ok(Self {
            buf,
            payload_start: pos,
            payload_end: end,
            extension,
        })
    }

    /// Version field; always 2 after a successful parse.
    pub fn version(&self) -> u8 {
        self.buf[0] >> 6
    }

    /// P bit: the packet ends with padding (already excluded from the
    /// payload).
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// Number of padding octets at the end, including the count octet.
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }

    /// X bit: a header extension follows the CSRCs.
    pub fn has_extension(&self) -> bool {
        self.buf[0] & 0x10 != 0
    }

    /// CC field: number of CSRC identifiers.
    pub fn csrc_count(&self) -> u8 {
        self.buf[0] & 0x0f
    }

    /// The CSRC identifiers (RFC 3550 §5.1), in order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let buf = self.buf;
        (0..usize::from(self.csrc_count())).map(move |i| be32(buf, FIXED_HEADER_LEN + 4 * i))
    }

    /// The header extension's profile-defined 16 bits and its data.
    pub fn extension(&self) -> Option<(u16, &'a [u8])> {
        self.extension
            .map(|(profile, s, e)| (profile, &self.buf[s..e]))
    }

    /// M bit.
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// PT field, 7 bits.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }

    /// Sequence number.
    pub fn sequence_number(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.buf, 4)
    }

    /// SSRC.
    pub fn ssrc(&self) -> u32 {
        be32(self.buf, 8)
    }

    /// The header fields a sender chooses, as an [`RtpHeader`].
    pub fn header(&self) -> RtpHeader {
        RtpHeader {
            marker: self.marker(),
            payload_type: self.payload_type(),
            sequence_number: self.sequence_number(),
            timestamp: self.timestamp(),
            ssrc: self.ssrc(),
        }
    }

    /// The payload, without header, CSRCs, extension or padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }

    /// Byte offset of the payload in the packet.
    pub fn payload_offset(&self) -> usize {
        self.payload_start
    }

    /// The whole datagram.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn parses_csrc_extension_and_padding() {
        // V=2 P=1 X=1 CC=1, M=1 PT=96, seq 0x1234, ts, ssrc, 1 CSRC,
        // extension profile 0xBEDE with 1 word, payload "ab", 2 bytes padding.
        let mut p = vec![0xb1, 0xe0, 0x12, 0x34, 0, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[0, 0, 0, 5]);
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
        p.extend_from_slice(b"ab");
        p.extend_from_slice(&[0, 2]);
        let r = RtpPacket::parse(&p).unwrap();
        assert!(r.marker());
        assert_eq!(r.payload_type(), 96);
        assert_eq!(r.sequence_number(), 0x1234);
        assert_eq!(r.timestamp(), 9);
        assert_eq!(r.ssrc(), 0xdead_beef);
        assert_eq!(r.csrcs().collect::<Vec<_>>(), vec![5]);
        assert_eq!(r.extension(), Some((0xbede, &[1u8, 2, 3, 4][..])));
        assert_eq!(r.payload(), b"ab");
        assert_eq!(r.padding_len(), 2);
    }

    #[test]
    fn rejects_bad_input_with_context() {
        assert_eq!(
            RtpPacket::parse(&[0x80; 11]).unwrap_err().kind(),
            ErrorKind::Truncated
        );
        let mut p = [0u8; 12];
        p[0] = 0x40; // version 1
        p[2] = 0x01;
        let e = RtpPacket::parse(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        assert!(e.to_string().contains("seq 256"), "{e}");
        p[0] = 0xa0; // padding, count byte 0
        assert_eq!(
            RtpPacket::parse(&p).unwrap_err().kind(),
            ErrorKind::Malformed
        );
        p[11] = 13; // padding longer than packet body
        assert!(RtpPacket::parse(&p).is_err());
        // A count of 1 with no byte after the header would eat the SSRC.
        p[11] = 1;
        assert!(RtpPacket::parse(&p).is_err());
        let mut q = p.to_vec();
        q.push(1);
        assert_eq!(RtpPacket::parse(&q).unwrap().payload(), b"");
        let mut x = [0u8; 16];
        x[0] = 0x90;
        x[14] = 0;
        x[15] = 1; // one extension word but no room
        assert_eq!(
            RtpPacket::parse(&x).unwrap_err().kind(),
            ErrorKind::Truncated
        );
    }

    #[test]
    fn writer_rejects_small_buffer_and_wide_pt() {
        let h = RtpHeader {
            payload_type: 128,
            ..Default::default()
        };
        assert_eq!(
            h.write(&mut [0; 12]).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
        let h = RtpHeader::default();
        assert_eq!(
            h.write(&mut [0; 11]).unwrap_err().kind(),
            ErrorKind::BufferTooSmall
        );
    }
}
