//! Datagrams (each behind a one-byte length) through the RFC 2435
//! depayloader; every frame it rebuilds is SOI … EOI.
#![no_main]

use framecast_rtp::{JpegDepayloader, RtpPacket};
use framecast_rtp_fuzz::datagrams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = JpegDepayloader::new();
    for pkt in datagrams(data) {
        if let Ok(p) = RtpPacket::parse(pkt) {
            if let Ok(Some(f)) = d.push(&p) {
                assert!(f.data.starts_with(&[0xff, 0xd8]) && f.data.ends_with(&[0xff, 0xd9]));
            }
        }
    }
});
