//! A stream of datagrams (each behind a one-byte length) through the H.264
//! depayloader: errors are fine, panics are not, and every access unit
//! it delivers is Annex B.
#![no_main]

use framecast_rtp::{H264Depayloader, RtpPacket};
use framecast_rtp_fuzz::datagrams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = H264Depayloader::default();
    for pkt in datagrams(data) {
        if let Ok(p) = RtpPacket::parse(pkt) {
            let _ = d.push(&p);
            while let Some(au) = d.pull() {
                assert!(au.data.starts_with(&[0, 0, 0, 1]));
            }
        }
    }
    d.flush();
    while d.pull().is_some() {}
});
