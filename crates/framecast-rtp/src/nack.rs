//! Generic NACK (RFC 4585 §6.2.1): a receiver names the packets it is
//! missing, and the sender resends them (as RTX, RFC 4588: [`crate::rtx`]).
//!
//! ```text
//!   0                   1                   2                   3
//!  |V=2|P| FMT=1   |   PT=205      |          length               |
//!  |                  SSRC of packet sender                        |
//!  |                  SSRC of media source                         |
//!  |            PID                |             BLP               |  (FCI, repeated)
//! ```
//!
//! Each FCI entry names a lost packet (PID) and, in the bitmask BLP, which
//! of the 16 after it are lost too (bit i: PID + i + 1).

use crate::error::{Error, Result};
use crate::rtcp::RtcpPacket;
use crate::seq::seq_delta;

/// RTCP packet type of transport-layer feedback (RFC 4585 §6.1).
pub const PT_RTPFB: u8 = 205;
/// RTPFB format of the Generic NACK.
pub const FMT_NACK: u8 = 1;
/// FCI entries a NACK written here holds at most (each covers up to 17
/// packets): a bounded packet, whatever the loss.
pub const MAX_ENTRIES: usize = 64;

/// Writes one Generic NACK from `sender_ssrc` about `media_ssrc` for the
/// sequence numbers in `lost` (ascending, in sequence-number order; a
/// number not after the previous entry's range starts a new entry) into
/// `out`, and returns its length. At most [`MAX_ENTRIES`] entries are
/// written; `Ok(0)` when `lost` is empty.
///
/// # Errors
///
/// [`Error::BufferTooSmall`] when `out` cannot hold the packet.
pub fn write_generic_nack(
    out: &mut [u8],
    sender_ssrc: u32,
    media_ssrc: u32,
    lost: impl IntoIterator<Item = u16>,
) -> Result<usize> {
    let mut entries = 0usize;
    let mut pos = 12usize;
    let mut current: Option<(u16, u16)> = None;
    let mut flush = |out: &mut [u8], pos: &mut usize, entry: (u16, u16)| -> Result<bool> {
        if entries == MAX_ENTRIES {
            return Ok(false);
        }
        if out.len() < *pos + 4 {
            return Err(Error::BufferTooSmall {
                what: "RTCP generic NACK",
                needed: *pos + 4,
                available: out.len(),
            });
        }
        out[*pos..*pos + 2].copy_from_slice(&entry.0.to_be_bytes());
        out[*pos + 2..*pos + 4].copy_from_slice(&entry.1.to_be_bytes());
        *pos += 4;
        entries += 1;
        Ok(true)
    };
    for seq in lost {
        match current {
            Some((pid, blp)) => {
                let d = seq_delta(pid, seq);
                if (1..=16).contains(&d) {
                    current = Some((pid, blp | 1 << (d - 1)));
                } else if !(0..=16).contains(&d) {
                    if !flush(out, &mut pos, (pid, blp))? {
                        current = None;
                        break;
                    }
                    current = Some((seq, 0));
                }
            }
            None => current = Some((seq, 0)),
        }
    }
    if let Some(entry) = current {
        flush(out, &mut pos, entry)?;
    }
    if pos == 12 {
        return Ok(0);
    }
    if out.len() < 12 {
        return Err(Error::BufferTooSmall {
            what: "RTCP generic NACK",
            needed: 12,
            available: out.len(),
        });
    }
    let words = u16::try_from(pos / 4 - 1).unwrap_or(u16::MAX);
    out[0] = 0x80 | FMT_NACK;
    out[1] = PT_RTPFB;
    out[2..4].copy_from_slice(&words.to_be_bytes());
    out[4..8].copy_from_slice(&sender_ssrc.to_be_bytes());
    out[8..12].copy_from_slice(&media_ssrc.to_be_bytes());
    Ok(pos)
}

/// A Generic NACK read from an RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenericNack<'a> {
    /// Who asks.
    pub sender_ssrc: u32,
    /// The stream it asks about.
    pub media_ssrc: u32,
    fci: &'a [u8],
}

impl<'a> GenericNack<'a> {
    /// The NACK in `packet`, if it is one (a malformed one is `None`: its
    /// FCI is not whole entries).
    pub fn from_packet(packet: &RtcpPacket<'a>) -> Option<Self> {
        let RtcpPacket::Other {
            packet_type: PT_RTPFB,
            count: FMT_NACK,
            body,
        } = *packet
        else {
            return None;
        };
        if body.len() < 8 || (body.len() - 8) % 4 != 0 {
            return None;
        }
        Some(GenericNack {
            sender_ssrc: u32::from_be_bytes([body[0], body[1], body[2], body[3]]),
            media_ssrc: u32::from_be_bytes([body[4], body[5], body[6], body[7]]),
            fci: &body[8..],
        })
    }

    /// Every sequence number asked for, in the order the entries give them.
    pub fn lost(&self) -> impl Iterator<Item = u16> + 'a {
        self.fci.chunks_exact(4).flat_map(|e| {
            let pid = u16::from_be_bytes([e[0], e[1]]);
            let blp = u16::from_be_bytes([e[2], e[3]]);
            std::iter::once(pid).chain(
                (0..16u16)
                    .filter(move |i| blp & (1 << i) != 0)
                    .map(move |i| pid.wrapping_add(i + 1)),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::parse_compound;
    use proptest::prelude::*;

    fn read(buf: &[u8]) -> (u32, u32, Vec<u16>) {
        let p = parse_compound(buf).next().unwrap().unwrap();
        let n = GenericNack::from_packet(&p).expect("a NACK");
        (n.sender_ssrc, n.media_ssrc, n.lost().collect())
    }

    #[test]
    fn packs_runs_into_pid_and_bitmask_across_the_wrap() {
        let mut buf = [0u8; 64];
        let lost = [65534, 65535, 3, 20, 40, 41];
        let n = write_generic_nack(&mut buf, 1, 2, lost).unwrap();
        // 65534 covers 65535 and 3 (+1, +5); 20 starts a new entry (+22),
        // 40 another, with 41 in its mask.
        assert_eq!(n, 12 + 3 * 4);
        assert_eq!(buf[..4], [0x81, 205, 0, 5]);
        assert_eq!(read(&buf[..n]), (1, 2, lost.to_vec()));
        assert_eq!(write_generic_nack(&mut buf, 1, 2, []).unwrap(), 0);
        assert!(write_generic_nack(&mut [0u8; 15], 1, 2, [5]).is_err());
    }

    #[test]
    fn other_packets_and_broken_ones_are_not_nacks() {
        let pli = [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        let p = parse_compound(&pli).next().unwrap().unwrap();
        assert!(GenericNack::from_packet(&p).is_none());
        let short = [0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        let p = parse_compound(&short).next().unwrap().unwrap();
        assert_eq!(GenericNack::from_packet(&p).unwrap().lost().count(), 0);
    }

    proptest! {
        /// Whatever is lost (ascending, any start, across the wrap), what a
        /// sender reads back is exactly that, as long as it fits.
        #[test]
        fn round_trip(start: u16, steps in proptest::collection::vec(1u16..40, 0..60)) {
            let mut lost = vec![start];
            for s in steps {
                let next = lost[lost.len() - 1].wrapping_add(s);
                lost.push(next);
            }
            let mut buf = [0u8; 12 + 4 * MAX_ENTRIES];
            let n = write_generic_nack(&mut buf, 9, 8, lost.iter().copied()).unwrap();
            let (_, _, back) = read(&buf[..n]);
            prop_assert_eq!(back, lost);
        }
    }
}
