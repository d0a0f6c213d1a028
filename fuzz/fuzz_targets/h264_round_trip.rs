//! Packetize an arbitrary access unit at an arbitrary MTU and depacketize
//! it: the depayloader must return exactly the NAL units that went in
//! (retina-style "every MTU" round trip).
#![no_main]

use framecast_rtp::{
    Aggregation, ConfigInterval, H264Depayloader, H264Payloader, H264PayloaderConfig, NalUnits,
    PacketSource, RtpPacket,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[m0, m1, agg], rest)) = data.split_first_chunk::<3>() else { return };
    let mtu = 15 + usize::from(u16::from_le_bytes([m0, m1]) % 1486);
    // NAL units: [len u8][bytes], header forced to F=0, type 1..=23.
    let mut nals = Vec::new();
    let mut r = rest;
    while let Some((&n, tail)) = r.split_first() {
        let n = usize::from(n).min(tail.len());
        if n == 0 {
            break;
        }
        let mut nal = tail[..n].to_vec();
        nal[0] = (nal[0] & 0x60) | (nal[0] % 23 + 1);
        nals.push(nal);
        r = &tail[n..];
    }
    if nals.is_empty() {
        return;
    }
    let cfg = H264PayloaderConfig {
        mtu,
        aggregation: [Aggregation::None, Aggregation::ParameterSets, Aggregation::ZeroLatency]
            [usize::from(agg % 3)],
        config_interval: ConfigInterval::Never,
        strip_aud: false,
        ..Default::default()
    };
    let mut pay = H264Payloader::new(cfg).unwrap();
    let refs: Vec<&[u8]> = nals.iter().map(|n| &n[..]).collect();
    let mut d = H264Depayloader::default();
    let mut slot = vec![0u8; mtu];
    let mut pk = pay.packetize(NalUnits::List(&refs), 0).unwrap();
    while let Some(m) = pk.next_into(&mut slot).unwrap() {
        d.push(&RtpPacket::parse(&slot[..m.len]).unwrap()).unwrap();
    }
    let au = d.pull().expect("access unit");
    let mut expect = Vec::new();
    for n in &nals {
        expect.extend_from_slice(&[0, 0, 0, 1]);
        expect.extend_from_slice(n);
    }
    assert_eq!(au.data, &expect[..]);
});
