//! RTP header extensions (RFC 8285): the one-byte and two-byte element
//! forms, and the two per-frame elements framecast sends — when a frame was
//! captured (`abs-capture-time`) and which frame it is (a frame id).
//!
//! ```text
//!  one-byte form (profile 0xBEDE)         two-byte form (profile 0x100x)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  0xBE  |  0xDE  | length (words)|    | 0x10 | 0x0x | length (words)|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | ID | L | data (L+1 bytes) ... pad    |   ID   |  len   | data ... pad
//! ```
//!
//! One-byte IDs are 1–14 (0 is a padding byte, 15 stops the parse, §4.2);
//! two-byte IDs 1–255 with 0–255 data bytes (§4.3). The IDs are agreed in
//! the SDP (`a=extmap:<id> <uri>`, §5); a receiver parses only the elements
//! whose IDs it was told.
//!
//! Written here rather than taken from a crate: the elements are read off a
//! borrowed datagram ([`RtpPacket::extension`]) with no allocation per
//! packet, and written into the payloader's pooled packet in place; the
//! WebRTC crates parse into owned vectors per packet.
//!
//! # The two elements
//!
//! - [`ABS_CAPTURE_TIME_URI`]: WebRTC's absolute capture time, the 64-bit
//!   NTP timestamp (UQ32.32, seconds since 1900) of the capture on the
//!   capturer's wall clock; 8 bytes, or 16 with an estimated clock offset
//!   (read, never written). WebRTC peers read it too.
//! - [`FRAME_ID_URI`]: framecast's frame id, an unsigned integer the
//!   program gives each frame, big-endian in 1–8 bytes (framecast writes 8).
//!   WebRTC's `video-frame-tracking-id` has 16 bits only, too few for ids
//!   a program keeps for a whole run.
//!
//! Both go on every packet of a frame (as WebRTC puts abs-capture-time on
//! every packet it chooses to stamp): a frame whose first packet is lost
//! and never repaired is still known by any other, for 24 bytes a packet.

use crate::error::{Error, Result};
use crate::packet::{RtpPacket, FIXED_HEADER_LEN};
use crate::rtcp::NtpTimestamp;

/// The profile value of the one-byte form (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// `a=extmap` URI of WebRTC's absolute capture time.
pub const ABS_CAPTURE_TIME_URI: &str =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

/// `a=extmap` URI of framecast's frame id.
pub const FRAME_ID_URI: &str = "urn:x-framecast:rtp-hdrext:frame-id";

/// Whether `profile` is one of RFC 8285's forms, and which: `Some(false)`
/// one-byte, `Some(true)` two-byte (`0x100` and 4 application bits).
fn form(profile: u16) -> Option<bool> {
    match profile {
        ONE_BYTE_PROFILE => Some(false),
        p if p >> 4 == 0x100 => Some(true),
        _ => None,
    }
}

/// The elements of one header extension block, in order: `(id, data)`.
/// Padding is skipped; a one-byte ID 15 ends the block (§4.2).
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    data: &'a [u8],
    pos: usize,
    two_byte: bool,
}

/// The elements of the block `data` with `profile` (as
/// [`RtpPacket::extension`] gives them), or `None` for a block that is not
/// RFC 8285's (another profile's extension, RFC 3550 §5.3.1).
pub fn elements(profile: u16, data: &[u8]) -> Option<Elements<'_>> {
    form(profile).map(|two_byte| Elements {
        data,
        pos: 0,
        two_byte,
    })
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<(u8, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let head = *self.data.get(self.pos)?;
            if head == 0 {
                // A padding byte, between elements or at the end (§4.1).
                self.pos += 1;
                continue;
            }
            let (id, len, start) = if self.two_byte {
                let Some(&len) = self.data.get(self.pos + 1) else {
                    let at = self.pos;
                    self.pos = self.data.len();
                    return Some(Err(Error::truncated(
                        "two-byte header extension element",
                        at,
                        2,
                        1,
                    )));
                };
                (head, usize::from(len), self.pos + 2)
            } else {
                let id = head >> 4;
                if id == 15 {
                    self.pos = self.data.len();
                    return None;
                }
                (id, usize::from(head & 0x0f) + 1, self.pos + 1)
            };
            let Some(value) = self.data.get(start..start + len) else {
                let at = self.pos;
                self.pos = self.data.len();
                return Some(Err(Error::truncated(
                    "header extension element",
                    at,
                    start - at + len,
                    self.data.len() - at,
                )));
            };
            self.pos = start + len;
            return Some(Ok((id, value)));
        }
    }
}

/// The IDs the SDP gave the two elements (0: not negotiated, not read or
/// written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExtensionIds {
    /// ID of [`ABS_CAPTURE_TIME_URI`].
    pub abs_capture_time: u8,
    /// ID of [`FRAME_ID_URI`].
    pub frame_id: u8,
}

impl ExtensionIds {
    /// The IDs framecast's senders use and announce.
    pub const FRAMECAST: ExtensionIds = ExtensionIds {
        abs_capture_time: 1,
        frame_id: 2,
    };

    /// The IDs of `(id, uri)` pairs (`a=extmap` lines); others are ignored.
    pub fn from_extmap<'a>(map: impl IntoIterator<Item = (u8, &'a str)>) -> ExtensionIds {
        let mut ids = ExtensionIds::default();
        for (id, uri) in map {
            match uri.trim() {
                ABS_CAPTURE_TIME_URI => ids.abs_capture_time = id,
                FRAME_ID_URI => ids.frame_id = id,
                _ => {}
            }
        }
        ids
    }

    /// Whether neither element is negotiated.
    pub fn is_empty(&self) -> bool {
        self.abs_capture_time == 0 && self.frame_id == 0
    }
}

/// What framecast's header extension says of a packet's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameExtensions {
    /// When the frame was captured, on the capturer's wall clock.
    pub capture_time: Option<NtpTimestamp>,
    /// The program's id of the frame.
    pub frame_id: Option<u64>,
}

/// Data bytes of the abs-capture-time element framecast writes.
const CAPTURE_LEN: usize = 8;
/// Data bytes of the frame id element framecast writes.
const FRAME_ID_LEN: usize = 8;

impl FrameExtensions {
    /// The most bytes [`write`](Self::write) takes (both elements, padded).
    pub const MAX_LEN: usize = 4 + (1 + CAPTURE_LEN + 1 + FRAME_ID_LEN).div_ceil(4) * 4;

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.capture_time.is_none() && self.frame_id.is_none()
    }

    /// The elements to write with `ids`: each known value whose ID is a
    /// valid one-byte ID (1–14).
    fn present(&self, ids: ExtensionIds) -> [Option<(u8, [u8; 8])>; 2] {
        let one_byte = |id: u8| (1..=14).contains(&id);
        [
            self.capture_time
                .filter(|_| one_byte(ids.abs_capture_time))
                .map(|t| (ids.abs_capture_time, t.0.to_be_bytes())),
            self.frame_id
                .filter(|_| one_byte(ids.frame_id))
                .map(|f| (ids.frame_id, f.to_be_bytes())),
        ]
    }

    /// Bytes of the block [`write`](Self::write) makes with `ids`, the
    /// 4-byte extension header included; 0 when there is nothing to write.
    pub fn len(&self, ids: ExtensionIds) -> usize {
        let data: usize = self.present(ids).iter().flatten().map(|_| 1 + 8).sum();
        if data == 0 {
            0
        } else {
            4 + data.div_ceil(4) * 4
        }
    }

    /// Writes the block (one-byte form: profile, length, elements, zero
    /// padding) into the start of `out`; returns its length
    /// ([`len`](Self::len)).
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] when `out` is shorter.
    pub fn write(&self, ids: ExtensionIds, out: &mut [u8]) -> Result<usize> {
        let len = self.len(ids);
        let available = out.len();
        let out =
            out.get_mut(..len)
                .ok_or(Error::too_small("RTP header extension", len, available))?;
        if len == 0 {
            return Ok(0);
        }
        out[..2].copy_from_slice(&ONE_BYTE_PROFILE.to_be_bytes());
        out[2..4].copy_from_slice(&(((len - 4) / 4) as u16).to_be_bytes());
        let mut pos = 4;
        for (id, value) in self.present(ids).into_iter().flatten() {
            out[pos] = (id << 4) | (value.len() as u8 - 1);
            out[pos + 1..pos + 1 + value.len()].copy_from_slice(&value);
            pos += 1 + value.len();
        }
        out[pos..].fill(0);
        Ok(len)
    }

    /// Puts the block into the packet that was written at `buf[at..at +
    /// len]` (a fixed header without CSRCs or extension, then the payload),
    /// where `at` is [`len`](Self::len): the fixed header moves to the
    /// front, the block follows it, the X bit is set. Returns the packet's
    /// new length (`at + len`). A payloader writes each packet `at` bytes
    /// into its slot so that this costs a 12-byte move, not a copy of the
    /// payload.
    ///
    /// # Errors
    ///
    /// `at` is not the block's length, the packet already has CSRCs or an
    /// extension, or it does not fit in `buf`.
    pub fn insert(
        &self,
        ids: ExtensionIds,
        buf: &mut [u8],
        at: usize,
        len: usize,
    ) -> Result<usize> {
        let need = self.len(ids);
        if at != need {
            return Err(Error::config(
                "header extension room",
                "must be the block's length",
                at as u64,
            ));
        }
        let total = at + len;
        if len < FIXED_HEADER_LEN || buf.len() < total {
            return Err(Error::too_small("RTP packet", total, buf.len()));
        }
        if buf[at] & 0x1f != 0 {
            return Err(Error::malformed(
                "RTP header",
                0,
                "already has CSRCs or an extension",
                u64::from(buf[at]),
            ));
        }
        if at == 0 {
            return Ok(len);
        }
        buf.copy_within(at..at + FIXED_HEADER_LEN, 0);
        let mut block = [0u8; Self::MAX_LEN];
        self.write(ids, &mut block)?;
        buf[FIXED_HEADER_LEN..FIXED_HEADER_LEN + at].copy_from_slice(&block[..at]);
        buf[0] |= 0x10;
        Ok(total)
    }

    /// The elements of `packet`'s extension with `ids`. A packet without
    /// an RFC 8285 extension, or without the elements, gives empty
    /// values; an element of another length than its format's is ignored.
    ///
    /// # Errors
    ///
    /// A block whose elements run past its end (nothing is taken from it).
    pub fn read(packet: &RtpPacket<'_>, ids: ExtensionIds) -> Result<FrameExtensions> {
        let mut out = FrameExtensions::default();
        let Some(elements) = packet
            .extension()
            .and_then(|(profile, data)| elements(profile, data))
        else {
            return Ok(out);
        };
        for element in elements {
            let (id, data) = element?;
            if id == 0 {
                continue;
            }
            if id == ids.abs_capture_time {
                // 8 bytes, or 16 with the estimated capture clock offset.
                if let Some(bytes) = data
                    .get(..CAPTURE_LEN)
                    .filter(|_| matches!(data.len(), 8 | 16))
                {
                    let mut ntp = [0u8; 8];
                    ntp.copy_from_slice(bytes);
                    out.capture_time = Some(NtpTimestamp(u64::from_be_bytes(ntp)));
                }
            } else if id == ids.frame_id && data.len() <= 8 {
                out.frame_id = Some(data.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::RtpHeader;

    fn packet_with(ext: &FrameExtensions, ids: ExtensionIds, payload: &[u8]) -> Vec<u8> {
        let at = ext.len(ids);
        let mut buf = vec![0u8; at + FIXED_HEADER_LEN + payload.len()];
        let h = RtpHeader {
            marker: true,
            payload_type: 96,
            sequence_number: 9,
            timestamp: 3000,
            ssrc: 7,
        };
        h.write(&mut buf[at..]).unwrap();
        buf[at + FIXED_HEADER_LEN..].copy_from_slice(payload);
        let n = ext
            .insert(ids, &mut buf, at, FIXED_HEADER_LEN + payload.len())
            .unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn written_elements_read_back_with_the_packet_intact() {
        let ext = FrameExtensions {
            capture_time: Some(NtpTimestamp(0xe8f0_1234_8000_0001)),
            frame_id: Some(u64::MAX - 5),
        };
        let ids = ExtensionIds::FRAMECAST;
        assert_eq!(ext.len(ids), FrameExtensions::MAX_LEN);
        let pkt = packet_with(&ext, ids, b"payload");
        let p = RtpPacket::parse(&pkt).unwrap();
        assert_eq!(p.payload(), b"payload");
        assert_eq!(
            (p.sequence_number(), p.timestamp(), p.marker()),
            (9, 3000, true)
        );
        let (profile, data) = p.extension().unwrap();
        assert_eq!(profile, ONE_BYTE_PROFILE);
        assert_eq!(data.len(), 20);
        // ID 1, L = 7 (8 bytes); ID 2, L = 7; two bytes of padding.
        assert_eq!((data[0], data[9], &data[18..]), (0x17, 0x27, &[0u8, 0][..]));
        assert_eq!(FrameExtensions::read(&p, ids).unwrap(), ext);
        // Another peer's IDs: nothing of ours is read.
        let other = ExtensionIds {
            abs_capture_time: 3,
            frame_id: 4,
        };
        assert_eq!(
            FrameExtensions::read(&p, other).unwrap(),
            FrameExtensions::default()
        );
    }

    #[test]
    fn nothing_to_send_leaves_the_packet_as_it_was() {
        let ext = FrameExtensions::default();
        let pkt = packet_with(&ext, ExtensionIds::FRAMECAST, b"x");
        assert!(!RtpPacket::parse(&pkt).unwrap().has_extension());
        // An element whose ID is not negotiated is not written.
        let only_id = FrameExtensions {
            capture_time: Some(NtpTimestamp(1)),
            frame_id: Some(5),
        };
        let ids = ExtensionIds {
            abs_capture_time: 0,
            frame_id: 2,
        };
        assert_eq!(only_id.len(ids), 4 + 12);
        let pkt = packet_with(&only_id, ids, b"x");
        let got = FrameExtensions::read(&RtpPacket::parse(&pkt).unwrap(), ids).unwrap();
        assert_eq!((got.capture_time, got.frame_id), (None, Some(5)));
    }

    #[test]
    fn two_byte_form_padding_and_the_offset_variant_are_read() {
        // Two-byte form (0x1000): padding, ID 1 with 16 bytes (timestamp
        // and clock offset), ID 2 with 3 bytes.
        let mut data = vec![0u8, 1, 16];
        data.extend_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
        data.extend_from_slice(&[0xff; 8]);
        data.extend_from_slice(&[2, 3, 0x01, 0x00, 0x02]);
        while data.len() % 4 != 0 {
            data.push(0);
        }
        let mut pkt = vec![0x90, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x10, 0x00];
        pkt.extend_from_slice(&((data.len() / 4) as u16).to_be_bytes());
        pkt.extend_from_slice(&data);
        pkt.extend_from_slice(b"p");
        let p = RtpPacket::parse(&pkt).unwrap();
        let got = FrameExtensions::read(&p, ExtensionIds::FRAMECAST).unwrap();
        assert_eq!(got.capture_time, Some(NtpTimestamp(0x0102_0304_0506_0708)));
        assert_eq!(got.frame_id, Some(0x01_0002));
    }

    #[test]
    fn id_15_ends_the_block_and_bad_lengths_are_ignored_or_refused() {
        // One-byte: ID 1 with 4 bytes (not 8 or 16: ignored), ID 15 (stop),
        // then what would be an ID 2 element.
        let block = [0x13, 1, 2, 3, 4, 0xf0, 0x20, 9];
        let it = elements(ONE_BYTE_PROFILE, &block).unwrap();
        let got: Vec<_> = it.map(|e| e.unwrap()).collect();
        assert_eq!(got, vec![(1, &[1u8, 2, 3, 4][..])]);
        // An element longer than the block is an error, not a panic.
        let short = [0x17, 1, 2];
        let mut it = elements(ONE_BYTE_PROFILE, &short).unwrap();
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        let mut it = elements(0x1000, &[5]).unwrap();
        assert!(it.next().unwrap().is_err());
        // Another profile's extension is not RFC 8285's.
        assert!(elements(0xabac, &block).is_none());
    }

    #[test]
    fn insert_refuses_a_wrong_room_or_a_packet_with_csrcs() {
        let ext = FrameExtensions {
            capture_time: None,
            frame_id: Some(1),
        };
        let ids = ExtensionIds::FRAMECAST;
        let mut buf = [0u8; 64];
        assert!(ext.insert(ids, &mut buf, 4, 20).is_err());
        let at = ext.len(ids);
        buf[at] = 0x81; // one CSRC
        assert!(ext.insert(ids, &mut buf, at, 20).is_err());
        assert!(ext.insert(ids, &mut buf[..at + 4], at, 20).is_err());
    }

    #[test]
    fn extmap_lines_give_the_ids() {
        let ids = ExtensionIds::from_extmap([
            (3, "urn:ietf:params:rtp-hdrext:sdes:mid"),
            (5, ABS_CAPTURE_TIME_URI),
            (7, FRAME_ID_URI),
        ]);
        assert_eq!(
            ids,
            ExtensionIds {
                abs_capture_time: 5,
                frame_id: 7
            }
        );
        assert!(ExtensionIds::default().is_empty());
    }
}
