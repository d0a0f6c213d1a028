//! Datagrams (each behind a one-byte length) through the RFC 4175
//! depayloader into a small I420 frame: no write may leave the planes.
#![no_main]

use framecast_rtp::{PlaneMut, RawDepayloader, RawFormat, RawPush, RtpPacket};
use framecast_rtp_fuzz::datagrams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (w, h) = (16, 8);
    let mut d = RawDepayloader::new(RawFormat::I420, w, h).unwrap();
    let (mut y, mut u, mut v) = (vec![0u8; w * h], vec![0u8; w * h / 4], vec![0u8; w * h / 4]);
    for pkt in datagrams(data) {
        let Ok(p) = RtpPacket::parse(pkt) else { continue };
        let mut planes = [
            PlaneMut { data: &mut y, stride: w },
            PlaneMut { data: &mut u, stride: w / 2 },
            PlaneMut { data: &mut v, stride: w / 2 },
        ];
        if let Ok(RawPush::FrameEndedPushAgain(_)) = d.push(&p, &mut planes) {
            let _ = d.push(&p, &mut planes);
        }
    }
});
