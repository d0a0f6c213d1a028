//! Whether an RTP/H.264 packet starts a picture a late viewer can decode
//! from (RFC 6184): an IDR slice (NAL type 5), the start of a fragmented
//! one (FU-A, start bit, type 5), or a sequence parameter set (type 7,
//! alone or in a STAP-A), which servers send just before the IDR.

/// The RTP payload of `packet`: after the fixed header, the CSRCs and any
/// header extension; `None` when the packet is too short for what its
/// header claims.
pub(crate) fn rtp_payload(packet: &[u8]) -> Option<&[u8]> {
    let first = *packet.first()?;
    if first >> 6 != 2 {
        return None;
    }
    let mut at = 12 + 4 * usize::from(first & 0x0f);
    if first & 0x10 != 0 {
        let words = packet.get(at + 2..at + 4)?;
        at += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    packet.get(at..)
}

/// Whether the H.264 RTP payload `payload` starts a keyframe.
pub(crate) fn starts_keyframe(payload: &[u8]) -> bool {
    let Some(&nal) = payload.first() else {
        return false;
    };
    match nal & 0x1f {
        5 | 7 => true,
        // STAP-A: 16-bit sizes, each followed by a NAL unit.
        24 => {
            let mut rest = &payload[1..];
            while let [hi, lo, tail @ ..] = rest {
                let size = usize::from(u16::from_be_bytes([*hi, *lo]));
                match tail.first() {
                    Some(n) if matches!(n & 0x1f, 5 | 7) => return true,
                    Some(_) if size <= tail.len() => rest = &tail[size..],
                    _ => return false,
                }
            }
            false
        }
        28 => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && fu & 0x1f == 5),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idr_sps_and_their_fragments_and_aggregates_are_keyframes() {
        assert!(starts_keyframe(&[0x65, 0x88]), "IDR slice");
        assert!(starts_keyframe(&[0x67, 0x42]), "SPS");
        assert!(!starts_keyframe(&[0x41, 0x9a]), "non-IDR slice");
        assert!(!starts_keyframe(&[0x68, 0xce]), "PPS alone");
        // FU-A: indicator 28, header S=1 type 5; a middle piece is not.
        assert!(starts_keyframe(&[0x7c, 0x85, 0]));
        assert!(!starts_keyframe(&[0x7c, 0x05, 0]));
        assert!(!starts_keyframe(&[0x7c, 0x81, 0]), "FU-A of a P slice");
        // STAP-A of an SEI (2 bytes) then an SPS.
        assert!(starts_keyframe(&[0x78, 0, 2, 0x06, 0x05, 0, 2, 0x67, 0x42]));
        assert!(!starts_keyframe(&[0x78, 0, 2, 0x06, 0x05, 0, 2, 0x68, 0]));
        assert!(!starts_keyframe(&[0x78, 0, 9, 0x06]), "truncated");
        assert!(!starts_keyframe(&[]));
    }

    #[test]
    fn the_payload_follows_csrcs_and_extensions() {
        let mut p = vec![0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x65];
        assert_eq!(rtp_payload(&p), Some(&[0x65][..]));
        // One CSRC and a one-word extension.
        p = vec![0x91, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        p.extend_from_slice(&[0, 0, 0, 9]);
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0x7c, 0x85]);
        assert_eq!(rtp_payload(&p), Some(&[0x7c, 0x85][..]));
        assert_eq!(rtp_payload(&[0x80, 96]), None);
        assert_eq!(rtp_payload(&[0x40; 20]), None, "not RTP version 2");
    }
}
