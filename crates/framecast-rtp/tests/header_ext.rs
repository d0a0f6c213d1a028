//! RFC 8285 header extensions are network input: random extension blocks
//! behind a valid RTP header never panic, every element stays inside the
//! block, and what framecast writes reads back exactly whatever the
//! values and IDs. The same parser is fuzzed in `fuzz/` (`header_ext`).

use framecast_rtp::header_ext::{elements, ExtensionIds, FrameExtensions, ONE_BYTE_PROFILE};
use framecast_rtp::packet::FIXED_HEADER_LEN;
use framecast_rtp::{NtpTimestamp, RtpHeader, RtpPacket};
use proptest::prelude::*;

/// An RTP packet with extension `profile` holding `words` 32-bit words of
/// `data` (padded or cut to that), then `payload`.
fn with_extension(profile: u16, words: u16, data: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut pkt = vec![0x90, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    pkt.extend_from_slice(&profile.to_be_bytes());
    pkt.extend_from_slice(&words.to_be_bytes());
    let mut block = data.to_vec();
    block.resize(usize::from(words) * 4, 0);
    pkt.extend_from_slice(&block);
    pkt.extend_from_slice(payload);
    pkt
}

proptest! {
    #[test]
    fn random_blocks_never_panic_and_elements_stay_inside(
        two_byte in any::<bool>(),
        app_bits in 0u16..16,
        data in proptest::collection::vec(any::<u8>(), 0..80),
        ids in (0u8..16, 0u8..16),
    ) {
        let profile = if two_byte { 0x1000 | app_bits } else { ONE_BYTE_PROFILE };
        let words = (data.len() / 4) as u16;
        let pkt = with_extension(profile, words, &data, b"pay");
        let p = RtpPacket::parse(&pkt).unwrap();
        let (profile, block) = p.extension().unwrap();
        let mut bytes = 0;
        for (_, value) in elements(profile, block).unwrap().flatten() {
            bytes += value.len();
            prop_assert!(bytes <= block.len());
        }
        let ids = ExtensionIds { abs_capture_time: ids.0, frame_id: ids.1 };
        let _ = FrameExtensions::read(&p, ids);
    }

    #[test]
    fn what_is_written_reads_back(
        capture in proptest::option::of(any::<u64>()),
        frame_id in proptest::option::of(any::<u64>()),
        ids in (1u8..15, 1u8..15),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        prop_assume!(ids.0 != ids.1);
        let ids = ExtensionIds { abs_capture_time: ids.0, frame_id: ids.1 };
        let ext = FrameExtensions { capture_time: capture.map(NtpTimestamp), frame_id };
        let at = ext.len(ids);
        prop_assert!(at <= FrameExtensions::MAX_LEN);
        let len = FIXED_HEADER_LEN + payload.len();
        let mut buf = vec![0u8; at + len];
        let header = RtpHeader { marker: false, payload_type: 96, sequence_number: 1, timestamp: 2, ssrc: 3 };
        header.write(&mut buf[at..]).unwrap();
        buf[at + FIXED_HEADER_LEN..].copy_from_slice(&payload);
        let n = ext.insert(ids, &mut buf, at, len).unwrap();
        let p = RtpPacket::parse(&buf[..n]).unwrap();
        prop_assert_eq!(p.header(), header);
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(FrameExtensions::read(&p, ids).unwrap(), ext);
    }
}
