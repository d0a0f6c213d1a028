//! Any datagram as a compound RTCP packet; iterate everything it yields.
#![no_main]

use framecast_rtp::rtcp::{parse_compound, RtcpPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for p in parse_compound(data) {
        match p {
            Ok(RtcpPacket::SenderReport(_, b)) | Ok(RtcpPacket::ReceiverReport(_, b)) => {
                let _ = b.iter().count();
            }
            Ok(RtcpPacket::Sdes(s)) => {
                let _ = s.items().count();
            }
            Ok(RtcpPacket::Bye(b)) => {
                let _ = b.ssrcs().count();
            }
            _ => {}
        }
    }
});
