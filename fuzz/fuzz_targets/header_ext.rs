//! Any datagram: the RFC 8285 elements of its header extension stay inside
//! the block, and reading framecast's two elements returns values or an
//! error; never a panic.
#![no_main]

use framecast_rtp::header_ext::{elements, ExtensionIds, FrameExtensions};
use framecast_rtp::RtpPacket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ids, packet)) = data.split_first() else {
        return;
    };
    if let Ok(p) = RtpPacket::parse(packet) {
        if let Some((profile, block)) = p.extension() {
            for (_, value) in elements(profile, block).into_iter().flatten().flatten() {
                assert!(value.len() <= block.len());
            }
        }
        let ids = ExtensionIds {
            abs_capture_time: ids >> 4,
            frame_id: ids & 0x0f,
        };
        let _ = FrameExtensions::read(&p, ids);
    }
});
