//! Forward error correction for links without feedback (multicast, one-way
//! radio): ULPFEC (RFC 5109) at level 0, one parity packet per group of
//! media packets, so that any one packet lost in a group is rebuilt
//! exactly by the receiver, with no round trip.
//!
//! ```text
//!  FEC packet (RFC 5109 §7): RTP header (its own SSRC and payload type)
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  |E|L|P|X|  CC   |M| PT recovery |            SN base            |  FEC header
//!  |                          TS recovery                          |
//!  |        length recovery        |
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  |       Protection Length       |             mask              |  level 0 header
//!  |              mask cont. (present only when L = 1)             |
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  |  level 0 payload: XOR of the protected packets after their     |
//!  |  12-byte fixed header, each padded with zeros to its length    |
//! ```
//!
//! Mask bit `i` (most significant first) protects packet `SN base + i`.
//! The recovery fields are the XOR of the protected packets' P, X, CC, M,
//! PT, timestamp and length-after-the-fixed-header. The parity is sent as
//! a separate stream (its own SSRC and payload type, RFC 5109 §9): a
//! receiver without FEC never sees it as media.
//!
//! Overhead is one packet per `group` (`group` 10: 10 %). Neither side
//! allocates per packet: the encoder accumulates into one buffer, the
//! decoder keeps recent packets in fixed rings.

use crate::error::{Error, Result};
use crate::packet::{RtpHeader, RtpPacket, FIXED_HEADER_LEN};
use crate::rtx::RetransmissionHistory;
use crate::seq::seq_delta;

/// Bytes of the FEC header.
pub const FEC_HEADER_LEN: usize = 10;
/// Packets a group may hold (a long, 48-bit mask).
pub const MAX_GROUP: usize = 48;
/// Largest media packet protected (bytes after the fixed header).
pub const MAX_PROTECTED: usize = 2048;

/// Builds one FEC packet per `group` media packets.
#[derive(Debug)]
pub struct FecEncoder {
    group: usize,
    parity: Vec<u8>,
    /// Bytes of `parity` in use: the longest protected packet so far.
    protected_len: usize,
    count: usize,
    sn_base: u16,
    /// XOR of the first two header bytes (V/P/X/CC and M/PT).
    bits: [u8; 2],
    ts: u32,
    len: u16,
}

impl FecEncoder {
    /// An encoder protecting groups of `group` packets (2 to
    /// [`MAX_GROUP`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a group outside that range.
    pub fn new(group: usize) -> Result<Self> {
        if !(2..=MAX_GROUP).contains(&group) {
            return Err(Error::InvalidConfig {
                what: "FEC group",
                reason: "must be 2 to 48 packets",
                value: group as u64,
            });
        }
        Ok(FecEncoder {
            group,
            parity: vec![0; MAX_PROTECTED],
            protected_len: 0,
            count: 0,
            sn_base: 0,
            bits: [0; 2],
            ts: 0,
            len: 0,
        })
    }

    /// Adds a media packet (as sent) to the group. `true` when the group is
    /// complete: write its FEC packet with [`write`](Self::write) before
    /// the next `push`. A packet that is not RTP, too large, or out of
    /// sequence with the group ends the group early (`true` if it held any
    /// packet) and is itself not protected.
    pub fn push(&mut self, packet: &[u8]) -> bool {
        let Ok(p) = RtpPacket::parse(packet) else {
            return self.count > 0;
        };
        let body = &packet[FIXED_HEADER_LEN..];
        if body.len() > MAX_PROTECTED {
            return self.count > 0;
        }
        let seq = p.sequence_number();
        if self.count > 0 && seq_delta(self.sn_base, seq) != self.count as i16 {
            // A gap in what we send: the group ends here.
            return true;
        }
        if self.count == 0 {
            self.sn_base = seq;
        }
        for (a, b) in self.parity.iter_mut().zip(body) {
            *a ^= b;
        }
        self.protected_len = self.protected_len.max(body.len());
        self.bits[0] ^= packet[0];
        self.bits[1] ^= packet[1];
        self.ts ^= p.timestamp();
        self.len ^= body.len() as u16;
        self.count += 1;
        self.count == self.group
    }

    /// Writes the FEC packet of the group so far (RTP header `header`:
    /// the FEC stream's payload type, SSRC, sequence number; its timestamp
    /// is taken from the group) into `out`, returns its length, and starts
    /// a new group. `Ok(0)` for an empty group.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`].
    pub fn write(&mut self, header: RtpHeader, out: &mut [u8]) -> Result<usize> {
        if self.count == 0 {
            return Ok(0);
        }
        let long = self.count > 16;
        let level_header = if long { 8 } else { 4 };
        let len = FIXED_HEADER_LEN + FEC_HEADER_LEN + level_header + self.protected_len;
        if out.len() < len {
            return Err(Error::BufferTooSmall {
                what: "FEC packet",
                needed: len,
                available: out.len(),
            });
        }
        RtpHeader {
            marker: false,
            ..header
        }
        .write(out)?;
        let f = &mut out[FIXED_HEADER_LEN..];
        // E = 0, L, then P, X, CC recovered from the first byte's low 6
        // bits; M and PT from the second.
        f[0] = (u8::from(long) << 6) | (self.bits[0] & 0x3f);
        f[1] = self.bits[1];
        f[2..4].copy_from_slice(&self.sn_base.to_be_bytes());
        f[4..8].copy_from_slice(&self.ts.to_be_bytes());
        f[8..10].copy_from_slice(&self.len.to_be_bytes());
        let l = &mut f[FEC_HEADER_LEN..];
        l[0..2].copy_from_slice(&(self.protected_len as u16).to_be_bytes());
        // Bits 47 down to 48 - count: SN base and the packets after it.
        let mask: u64 = ((1u64 << self.count) - 1) << (48 - self.count);
        if long {
            l[2..8].copy_from_slice(&mask.to_be_bytes()[2..8]);
        } else {
            l[2..4].copy_from_slice(&((mask >> 32) as u16).to_be_bytes());
        }
        l[level_header..level_header + self.protected_len]
            .copy_from_slice(&self.parity[..self.protected_len]);
        self.parity[..self.protected_len].fill(0);
        self.protected_len = 0;
        self.count = 0;
        self.bits = [0; 2];
        self.ts = 0;
        self.len = 0;
        Ok(len)
    }
}

/// A FEC packet's level 0, read.
#[derive(Debug, Clone, Copy)]
struct FecView<'a> {
    bits: [u8; 2],
    sn_base: u16,
    ts: u32,
    len: u16,
    /// Bit `47 - i` protects `sn_base + i`.
    mask: u64,
    payload: &'a [u8],
}

impl<'a> FecView<'a> {
    /// Reads the FEC payload of an RTP packet.
    fn parse(fec_packet: &'a [u8]) -> Result<Self> {
        let p = RtpPacket::parse(fec_packet)?;
        let f = p.payload();
        if f.len() < FEC_HEADER_LEN + 4 {
            return Err(Error::truncated(
                "FEC header",
                0,
                FEC_HEADER_LEN + 4,
                f.len(),
            ));
        }
        let long = f[0] & 0x40 != 0;
        let level_header = if long { 8 } else { 4 };
        if f.len() < FEC_HEADER_LEN + level_header {
            return Err(Error::truncated(
                "FEC level header",
                FEC_HEADER_LEN,
                level_header,
                f.len() - FEC_HEADER_LEN,
            ));
        }
        let l = &f[FEC_HEADER_LEN..];
        let protection = usize::from(u16::from_be_bytes([l[0], l[1]]));
        let mask = if long {
            let mut m = [0u8; 8];
            m[2..8].copy_from_slice(&l[2..8]);
            u64::from_be_bytes(m)
        } else {
            u64::from(u16::from_be_bytes([l[2], l[3]])) << 32
        };
        let payload = &l[level_header..];
        if payload.len() < protection {
            return Err(Error::truncated(
                "FEC level 0 payload",
                FEC_HEADER_LEN + level_header,
                protection,
                payload.len(),
            ));
        }
        Ok(FecView {
            bits: [f[0] & 0x3f, f[1]],
            sn_base: u16::from_be_bytes([f[2], f[3]]),
            ts: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
            len: u16::from_be_bytes([f[8], f[9]]),
            mask,
            payload: &payload[..protection],
        })
    }

    fn protects(&self, seq: u16) -> bool {
        let d = seq_delta(self.sn_base, seq);
        (0..48).contains(&d) && self.mask & (1u64 << (47 - d)) != 0
    }

    fn protected(&self) -> impl Iterator<Item = u16> + '_ {
        (0..48u16)
            .filter(|i| self.mask & (1u64 << (47 - i)) != 0)
            .map(|i| self.sn_base.wrapping_add(i))
    }
}

/// Rebuilds lost media packets from FEC packets and the media packets of
/// their group that did arrive.
#[derive(Debug)]
pub struct FecDecoder {
    media: RetransmissionHistory,
    fec: RetransmissionHistory,
    /// The sequence numbers of the FEC packets held (the FEC stream's own).
    fec_seqs: Vec<Option<u16>>,
    next_fec: usize,
    ssrc: u32,
}

impl FecDecoder {
    /// A decoder keeping the last `media` media packets and `fec` FEC
    /// packets (of at most [`MAX_PROTECTED`] bytes after the header).
    pub fn new(media: usize, fec: usize) -> Self {
        let fec = fec.max(1);
        FecDecoder {
            media: RetransmissionHistory::new(media, FIXED_HEADER_LEN + MAX_PROTECTED),
            fec: RetransmissionHistory::new(
                fec,
                FIXED_HEADER_LEN + FEC_HEADER_LEN + 8 + MAX_PROTECTED,
            ),
            fec_seqs: vec![None; fec],
            next_fec: 0,
            ssrc: 0,
        }
    }

    /// A media packet arrived (keep it: it may rebuild another).
    pub fn on_media(&mut self, packet: &[u8]) {
        if let Ok(p) = RtpPacket::parse(packet) {
            self.ssrc = p.ssrc();
            self.media.record(packet);
        }
    }

    /// A FEC packet arrived.
    pub fn on_fec(&mut self, packet: &[u8]) {
        let Ok(p) = RtpPacket::parse(packet) else {
            return;
        };
        if FecView::parse(packet).is_err() {
            return;
        }
        // Held in slot order of arrival; the history is indexed by the FEC
        // stream's sequence number.
        let seq = p.sequence_number();
        self.fec.record(packet);
        let i = self.next_fec % self.fec_seqs.len();
        self.fec_seqs[i] = Some(seq);
        self.next_fec = self.next_fec.wrapping_add(1);
    }

    /// Rebuilds media packet `seq` into `out` when a FEC packet protects
    /// it and every other packet it protects arrived; returns its length.
    pub fn recover(&self, seq: u16, out: &mut [u8]) -> Option<usize> {
        for fec_seq in self.fec_seqs.iter().flatten() {
            let Some(fec) = self.fec.get(*fec_seq) else {
                continue;
            };
            let Ok(view) = FecView::parse(fec) else {
                continue;
            };
            if !view.protects(seq) {
                continue;
            }
            if let Some(n) = self.rebuild(&view, seq, out) {
                return Some(n);
            }
        }
        None
    }

    fn rebuild(&self, view: &FecView<'_>, seq: u16, out: &mut [u8]) -> Option<usize> {
        let mut bits = view.bits;
        let mut ts = view.ts;
        let mut len = view.len;
        let protection = view.payload.len();
        if out.len() < FIXED_HEADER_LEN + protection {
            return None;
        }
        let body = &mut out[FIXED_HEADER_LEN..FIXED_HEADER_LEN + protection];
        body.copy_from_slice(view.payload);
        for other in view.protected().filter(|&s| s != seq) {
            let packet = self.media.get(other)?;
            let p = RtpPacket::parse(packet).ok()?;
            let b = &packet[FIXED_HEADER_LEN..];
            for (a, x) in body.iter_mut().zip(b) {
                *a ^= x;
            }
            bits[0] ^= packet[0] & 0x3f;
            bits[1] ^= packet[1];
            ts ^= p.timestamp();
            len ^= b.len() as u16;
        }
        let len = usize::from(len);
        if len > protection {
            return None;
        }
        out[0] = 0x80 | bits[0];
        out[1] = bits[1];
        out[2..4].copy_from_slice(&seq.to_be_bytes());
        out[4..8].copy_from_slice(&ts.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        // What was rebuilt must read as RTP (its lengths agree).
        RtpPacket::parse(&out[..FIXED_HEADER_LEN + len]).ok()?;
        Some(FIXED_HEADER_LEN + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn media(seq: u16, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; FIXED_HEADER_LEN + len];
        RtpHeader {
            marker: seq % 3 == 0,
            payload_type: 96,
            sequence_number: seq,
            timestamp: 3000 * u32::from(seq / 3),
            ssrc: 0xfeed_beef,
        }
        .write(&mut v)
        .unwrap();
        for (i, b) in v[FIXED_HEADER_LEN..].iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(seq as u8);
        }
        v
    }

    fn fec_header(seq: u16) -> RtpHeader {
        RtpHeader {
            marker: false,
            payload_type: 100,
            sequence_number: seq,
            timestamp: 0,
            ssrc: 0x0fec_0fec,
        }
    }

    proptest! {
        /// Any one packet lost from a group (of any size up to 48, any
        /// lengths, across the sequence wrap) is rebuilt byte for byte.
        #[test]
        fn any_single_loss_in_a_group_is_rebuilt_exactly(
            start: u16,
            lens in proptest::collection::vec(1usize..1400, 2..48),
            lost_at in any::<prop::sample::Index>(),
        ) {
            let group = lens.len();
            let mut enc = FecEncoder::new(group).unwrap();
            let packets: Vec<Vec<u8>> = lens
                .iter()
                .enumerate()
                .map(|(i, &l)| media(start.wrapping_add(i as u16), l))
                .collect();
            let mut fec = vec![0u8; 3000];
            let mut n = 0;
            for (i, p) in packets.iter().enumerate() {
                let done = enc.push(p);
                prop_assert_eq!(done, i == group - 1);
                if done {
                    n = enc.write(fec_header(7), &mut fec).unwrap();
                }
            }
            let lost = lost_at.index(group);
            let mut dec = FecDecoder::new(64, 4);
            for (i, p) in packets.iter().enumerate() {
                if i != lost {
                    dec.on_media(p);
                }
            }
            dec.on_fec(&fec[..n]);
            let mut out = vec![0u8; 2000];
            let seq = start.wrapping_add(lost as u16);
            let m = dec.recover(seq, &mut out).expect("rebuilt");
            prop_assert_eq!(&out[..m], &packets[lost][..]);
        }
    }

    #[test]
    fn two_losses_in_a_group_or_no_fec_rebuild_nothing() {
        let mut enc = FecEncoder::new(4).unwrap();
        let packets: Vec<Vec<u8>> = (10..14).map(|s| media(s, 100)).collect();
        let mut fec = vec![0u8; 600];
        let mut n = 0;
        for p in &packets {
            if enc.push(p) {
                n = enc.write(fec_header(1), &mut fec).unwrap();
            }
        }
        let mut dec = FecDecoder::new(16, 2);
        let mut out = [0u8; 600];
        dec.on_media(&packets[0]);
        dec.on_media(&packets[1]);
        assert!(dec.recover(12, &mut out).is_none(), "no FEC yet");
        dec.on_fec(&fec[..n]);
        assert!(dec.recover(12, &mut out).is_none(), "13 is missing too");
        dec.on_media(&packets[3]);
        assert_eq!(dec.recover(12, &mut out), Some(112));
        assert!(dec.recover(20, &mut out).is_none(), "not protected");
        // Garbage as FEC is ignored.
        dec.on_fec(&[0x80, 100, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]);
        assert!(FecEncoder::new(1).is_err() && FecEncoder::new(49).is_err());
    }

    #[test]
    fn a_gap_in_what_is_sent_ends_the_group_early() {
        let mut enc = FecEncoder::new(10).unwrap();
        assert!(!enc.push(&media(1, 50)));
        assert!(!enc.push(&media(2, 50)));
        assert!(enc.push(&media(4, 50)), "3 was never sent: the group ends");
        let mut fec = [0u8; 200];
        let n = enc.write(fec_header(1), &mut fec).unwrap();
        let view = FecView::parse(&fec[..n]).unwrap();
        assert_eq!(view.protected().collect::<Vec<_>>(), [1, 2]);
    }
}
