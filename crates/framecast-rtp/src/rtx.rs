//! Retransmission (RFC 4588): a sender's history of recent packets, and the
//! RTX payload format that carries a resent packet on its own SSRC and
//! payload type, so that a receiver that does not know RTX ignores it
//! (RFC 4588 §4, session multiplexing), and one that does puts it back in
//! the original stream.
//!
//! ```text
//!  RTX packet (§4):
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  |  RTP header: PT = rtx payload type, SSRC = rtx SSRC,          |
//!  |  seq = the RTX stream's own, timestamp and marker = original  |
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  |            OSN                |                               |
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//!  |                  Original RTP packet payload                  |
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Nothing here allocates per packet: the history is a ring of fixed
//! slots filled once, and wrapping and unwrapping write into the caller's
//! slice.

use crate::error::{Error, Result};
use crate::packet::{RtpHeader, RtpPacket, FIXED_HEADER_LEN};

/// Bytes the OSN (original sequence number) adds in front of the payload.
pub const OSN_LEN: usize = 2;

/// The packets a sender sent last, by sequence number, to answer NACKs.
///
/// A ring of `capacity` slots of `slot_size` bytes, allocated at
/// construction: recording copies a packet into its slot (the one of its
/// sequence number modulo `capacity`), so an old packet is overwritten by
/// the one `capacity` later, and a lookup checks the sequence number
/// stored, never returning the wrong packet.
#[derive(Debug)]
pub struct RetransmissionHistory {
    data: Vec<u8>,
    /// Per slot: the sequence number held and the packet's length (0:
    /// empty).
    slots: Vec<(u16, usize)>,
    slot_size: usize,
}

impl RetransmissionHistory {
    /// A history of `capacity` packets of at most `slot_size` bytes each
    /// (a packet larger than a slot is not kept).
    pub fn new(capacity: usize, slot_size: usize) -> Self {
        let capacity = capacity.clamp(1, 1 << 15);
        RetransmissionHistory {
            data: vec![0; capacity * slot_size],
            slots: vec![(0, 0); capacity],
            slot_size,
        }
    }

    /// Packets it can hold.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Keeps a copy of the RTP packet `packet` (as sent). A datagram that
    /// is not RTP, or is larger than a slot, is not kept.
    pub fn record(&mut self, packet: &[u8]) {
        let Ok(p) = RtpPacket::parse(packet) else {
            return;
        };
        if packet.len() > self.slot_size {
            return;
        }
        let seq = p.sequence_number();
        let i = usize::from(seq) % self.slots.len();
        let at = i * self.slot_size;
        self.data[at..at + packet.len()].copy_from_slice(packet);
        self.slots[i] = (seq, packet.len());
    }

    /// The packet with sequence number `seq`, if it is still held.
    pub fn get(&self, seq: u16) -> Option<&[u8]> {
        let i = usize::from(seq) % self.slots.len();
        let (held, len) = self.slots[i];
        (len > 0 && held == seq).then(|| &self.data[i * self.slot_size..][..len])
    }

    /// Forgets every packet (a new stream).
    pub fn clear(&mut self) {
        for s in &mut self.slots {
            *s = (0, 0);
        }
    }
}

/// Writes the RTX packet that resends `original` (an RTP packet) on
/// payload type `rtx_pt`, SSRC `rtx_ssrc`, RTX sequence number `rtx_seq`
/// into `out`, and returns its length. The original's header extension
/// goes on the RTX packet as it was (RFC 4588 §4: the retransmission
/// carries the same header extension), so what it says of the frame (its
/// capture time, its id) survives a loss; CSRCs and padding are not
/// carried (framecast's packets have none).
///
/// # Errors
///
/// The original is not RTP; `out` is too small; `rtx_pt` is not 7 bits.
pub fn wrap(
    original: &[u8],
    rtx_pt: u8,
    rtx_ssrc: u32,
    rtx_seq: u16,
    out: &mut [u8],
) -> Result<usize> {
    let p = RtpPacket::parse(original)?;
    let payload = p.payload();
    let block = extension_block(&p);
    let len = FIXED_HEADER_LEN + block.len() + OSN_LEN + payload.len();
    if out.len() < len {
        return Err(Error::BufferTooSmall {
            what: "RTX packet",
            needed: len,
            available: out.len(),
        });
    }
    RtpHeader {
        marker: p.marker(),
        payload_type: rtx_pt,
        sequence_number: rtx_seq,
        timestamp: p.timestamp(),
        ssrc: rtx_ssrc,
    }
    .write(out)?;
    let osn = put_extension(out, block);
    out[osn..osn + OSN_LEN].copy_from_slice(&p.sequence_number().to_be_bytes());
    out[osn + OSN_LEN..len].copy_from_slice(payload);
    Ok(len)
}

/// The header extension block of `p` (its 4-byte header and data), empty
/// when it has none.
fn extension_block<'a>(p: &RtpPacket<'a>) -> &'a [u8] {
    match p.extension() {
        Some((_, data)) => {
            let end = p.payload_offset();
            &p.as_bytes()[end - 4 - data.len()..end]
        }
        None => &[],
    }
}

/// Copies `block` (a header extension, or nothing) after the fixed header
/// written in `out`, setting the X bit; returns where the payload starts.
fn put_extension(out: &mut [u8], block: &[u8]) -> usize {
    if !block.is_empty() {
        out[0] |= 0x10;
        out[FIXED_HEADER_LEN..FIXED_HEADER_LEN + block.len()].copy_from_slice(block);
    }
    FIXED_HEADER_LEN + block.len()
}

/// Writes the original packet an RTX packet carries (RFC 4588 §4: its
/// sequence number from the OSN, payload type `original_pt`, SSRC
/// `original_ssrc`) into `out`, and returns its length.
///
/// # Errors
///
/// Not RTP, no room for the OSN, or `out` too small.
pub fn unwrap(rtx: &[u8], original_pt: u8, original_ssrc: u32, out: &mut [u8]) -> Result<usize> {
    let p = RtpPacket::parse(rtx)?;
    let payload = p.payload();
    if payload.len() < OSN_LEN {
        return Err(Error::truncated(
            "RTX OSN",
            p.payload_offset(),
            OSN_LEN,
            payload.len(),
        ));
    }
    let osn = u16::from_be_bytes([payload[0], payload[1]]);
    let body = &payload[OSN_LEN..];
    let block = extension_block(&p);
    let len = FIXED_HEADER_LEN + block.len() + body.len();
    if out.len() < len {
        return Err(Error::BufferTooSmall {
            what: "RTP packet from RTX",
            needed: len,
            available: out.len(),
        });
    }
    RtpHeader {
        marker: p.marker(),
        payload_type: original_pt,
        sequence_number: osn,
        timestamp: p.timestamp(),
        ssrc: original_ssrc,
    }
    .write(out)?;
    let at = put_extension(out, block);
    out[at..len].copy_from_slice(body);
    Ok(len)
}

/// [`unwrap`] in place: rewrites the RTX packet in `packet` into the
/// original (its header, and its payload moved over the OSN) and returns
/// the original's length, a prefix of `packet`. The fixed header and the
/// header extension are kept (CSRCs and padding of the RTX packet are
/// dropped).
///
/// # Errors
///
/// Not RTP, or no room for the OSN.
pub fn unwrap_in_place(packet: &mut [u8], original_pt: u8, original_ssrc: u32) -> Result<usize> {
    let (marker, timestamp, offset, payload_len, block) = {
        let p = RtpPacket::parse(packet)?;
        if p.payload().len() < OSN_LEN {
            return Err(Error::truncated(
                "RTX OSN",
                p.payload_offset(),
                OSN_LEN,
                p.payload().len(),
            ));
        }
        let block = extension_block(&p).len();
        (
            p.marker(),
            p.timestamp(),
            p.payload_offset(),
            p.payload().len(),
            offset_of_block(p.payload_offset(), block),
        )
    };
    let osn = u16::from_be_bytes([packet[offset], packet[offset + 1]]);
    // Both move left (CSRCs dropped, the OSN removed), block first.
    let block_len = block.len();
    packet.copy_within(block, FIXED_HEADER_LEN);
    let body = offset + OSN_LEN..offset + payload_len;
    let body_len = body.len();
    packet.copy_within(body, FIXED_HEADER_LEN + block_len);
    RtpHeader {
        marker,
        payload_type: original_pt,
        sequence_number: osn,
        timestamp,
        ssrc: original_ssrc,
    }
    .write(packet)?;
    if block_len > 0 {
        packet[0] |= 0x10;
    }
    Ok(FIXED_HEADER_LEN + block_len + body_len)
}

/// The range of a `len`-byte extension block ending at `payload_offset`.
fn offset_of_block(payload_offset: usize, len: usize) -> std::ops::Range<usize> {
    payload_offset - len..payload_offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; FIXED_HEADER_LEN + payload.len()];
        RtpHeader {
            marker: seq % 2 == 0,
            payload_type: 96,
            sequence_number: seq,
            timestamp: 90_000 + u32::from(seq),
            ssrc: 0x1234_5678,
        }
        .write(&mut v)
        .unwrap();
        v[FIXED_HEADER_LEN..].copy_from_slice(payload);
        v
    }

    #[test]
    fn wrap_then_unwrap_gives_the_original_back() {
        let original = packet(65535, b"slice data");
        let mut rtx = [0u8; 64];
        let n = wrap(&original, 97, 0xaaaa_bbbb, 7, &mut rtx).unwrap();
        let r = RtpPacket::parse(&rtx[..n]).unwrap();
        assert_eq!(
            (r.payload_type(), r.ssrc(), r.sequence_number()),
            (97, 0xaaaa_bbbb, 7)
        );
        assert_eq!(&r.payload()[..2], &[0xff, 0xff], "OSN");
        assert_unwraps_to(&rtx[..n], &original);
        let mut back = [0u8; 64];
        assert!(unwrap_in_place(&mut rtx[..13].to_vec(), 96, 1).is_err());
        assert!(wrap(&original, 97, 1, 1, &mut [0u8; 20]).is_err());
        assert!(unwrap(&rtx[..13], 96, 1, &mut back).is_err());
    }

    #[test]
    fn the_header_extension_travels_with_the_retransmission() {
        // The original with a one-byte extension block (ID 2, 8 bytes).
        let mut original = packet(42, b"slice");
        original[0] |= 0x10;
        let block = [0xbe, 0xde, 0, 3, 0x27, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0];
        original.splice(FIXED_HEADER_LEN..FIXED_HEADER_LEN, block);
        let mut rtx = [0u8; 64];
        let n = wrap(&original, 97, 9, 1, &mut rtx).unwrap();
        let r = RtpPacket::parse(&rtx[..n]).unwrap();
        assert_eq!(r.extension(), Some((0xbede, &block[4..])));
        assert_eq!(&r.payload()[..2], &[0, 42], "OSN after the extension");
        assert_unwraps_to(&rtx[..n], &original);
    }

    /// Both unwraps of `rtx` (payload type 96, SSRC 0x12345678) give
    /// `original` back.
    fn assert_unwraps_to(rtx: &[u8], original: &[u8]) {
        let mut back = [0u8; 64];
        let m = unwrap(rtx, 96, 0x1234_5678, &mut back).unwrap();
        assert_eq!(&back[..m], original);
        let mut in_place = rtx.to_vec();
        let m = unwrap_in_place(&mut in_place, 96, 0x1234_5678).unwrap();
        assert_eq!(&in_place[..m], original);
    }

    #[test]
    fn history_returns_only_the_packet_asked_for() {
        let mut h = RetransmissionHistory::new(4, 32);
        for seq in 10..16u16 {
            h.record(&packet(seq, &[seq as u8; 3]));
        }
        // 10 and 11 were overwritten by 14 and 15.
        assert!(h.get(10).is_none() && h.get(11).is_none());
        assert_eq!(h.get(13).unwrap(), &packet(13, &[13; 3])[..]);
        assert_eq!(h.get(15).unwrap(), &packet(15, &[15; 3])[..]);
        // Too large, or not RTP: not kept.
        h.record(&packet(16, &[0; 40]));
        assert!(h.get(16).is_none());
        h.record(b"garbage");
        h.clear();
        assert!(h.get(15).is_none());
    }
}
