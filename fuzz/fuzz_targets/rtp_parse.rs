//! Any datagram: `RtpPacket::parse` returns a view whose accessors stay
//! inside the buffer, or an error; never a panic.
#![no_main]

use framecast_rtp::RtpPacket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = RtpPacket::parse(data) {
        let _ = (p.header(), p.csrcs().count(), p.extension());
        assert!(p.payload_offset() + p.payload().len() + p.padding_len() == data.len());
    }
});
