//! Unit tests of the H.264 payloader and depayloader.

use super::*;
use crate::packet::RtpPacket;
use crate::packetizer::PacketSource;
use std::time::Duration;

fn packets(pay: &mut H264Payloader, au: NalUnits<'_>, ts: u32) -> Vec<Vec<u8>> {
    let mut slot = vec![0u8; pay.config().mtu];
    let mut v = Vec::new();
    pay.packetize(au, ts)
        .unwrap()
        .for_each_packet(&mut slot, |p, _| v.push(p.to_vec()))
        .unwrap();
    v
}

#[test]
fn annexb_split_handles_3_and_4_byte_start_codes() {
    let data = [
        9, 9, 0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0, 0, 0, 1, 0x65, 3, 0, 0,
    ];
    let v: Vec<&[u8]> = NalUnits::AnnexB(&data).iter().collect();
    assert_eq!(v, [&[0x67, 1][..], &[0x68, 2], &[0x65, 3]]);
    assert_eq!(NalUnits::AnnexB(&[1, 2, 3]).iter().count(), 0);
    assert_eq!(NalUnits::AnnexB(&[0, 0, 1]).iter().count(), 0);
}

#[test]
fn parameter_sets_are_the_first_sps_and_pps_when_both_are_there() {
    let (sps, sps2, pps, idr) = ([0x67, 1, 2], [0x67, 9], [0x68, 3], [0x65, 4, 5]);
    let au = [
        &[0, 0, 0, 1][..],
        &sps,
        &[0, 0, 1],
        &sps2,
        &[0, 0, 1],
        &pps,
        &[0, 0, 1],
        &idr,
    ]
    .concat();
    assert_eq!(
        NalUnits::AnnexB(&au).parameter_sets(),
        Some((&sps[..], &pps[..]))
    );
    let list: [&[u8]; 2] = [&pps, &idr];
    assert_eq!(NalUnits::List(&list).parameter_sets(), None, "no SPS");
}

#[test]
fn stap_a_nri_and_f_are_maximum_and_or() {
    let mut pay = H264Payloader::new(H264PayloaderConfig {
        aggregation: Aggregation::ZeroLatency,
        ..Default::default()
    })
    .unwrap();
    let sei: &[u8] = &[0x06, 1, 2];
    let sps: &[u8] = &[0x67, 0x42, 0, 0x1e];
    let idr: &[u8] = &[0x45, 9, 9]; // NRI 2
    let list = [sei, sps, idr];
    let p = packets(&mut pay, NalUnits::List(&list), 0);
    assert_eq!(p.len(), 1);
    let r = RtpPacket::parse(&p[0]).unwrap();
    assert!(r.marker());
    assert_eq!(r.payload()[0], 0x60 | 24);
    assert_eq!(&r.payload()[1..3], &[0, 3]);
}

#[test]
fn fu_a_bits() {
    let mut pay = H264Payloader::new(H264PayloaderConfig {
        mtu: 20,
        ..Default::default()
    })
    .unwrap();
    let mut nal = vec![0x41];
    nal.extend(0..20u8);
    let list = [&nal[..]];
    let p = packets(&mut pay, NalUnits::List(&list), 0);
    // 20 data bytes, 6 per packet.
    assert_eq!(p.len(), 4);
    for (i, pk) in p.iter().enumerate() {
        let r = RtpPacket::parse(pk).unwrap();
        let pl = r.payload();
        assert_eq!(pl[0], 0x40 | 28, "indicator keeps NRI");
        assert_eq!(pl[1] & 0x80 != 0, i == 0, "S");
        assert_eq!(pl[1] & 0x40 != 0, i == 3, "E");
        assert_eq!(pl[1] & 0x1f, 1);
        assert_eq!(r.marker(), i == 3);
        assert_eq!(r.sequence_number(), i as u16);
    }
}

#[test]
fn config_interval_inserts_cached_parameter_sets() {
    let sps: &[u8] = &[0x67, 0x42, 0xc0, 0x1e];
    let pps: &[u8] = &[0x68, 0xce];
    let idr: &[u8] = &[0x65, 1];
    let p_slice: &[u8] = &[0x41, 1];
    let aud: &[u8] = &[0x09, 0xf0];
    let types = |ps: &[Vec<u8>]| -> Vec<u8> { ps.iter().map(|p| p[12] & 0x1f).collect() };

    for (interval, expect_second_idr) in [
        (ConfigInterval::EveryIdr, vec![24, 5]),
        (ConfigInterval::Never, vec![5]),
        (ConfigInterval::Every(Duration::from_secs(2)), vec![5]),
    ] {
        let mut pay = H264Payloader::new(H264PayloaderConfig {
            config_interval: interval,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            types(&packets(&mut pay, NalUnits::List(&[sps, pps, idr]), 0)),
            [24, 5]
        );
        assert_eq!(pay.parameter_sets(), Some((sps, pps)));
        assert_eq!(
            types(&packets(&mut pay, NalUnits::List(&[p_slice]), 3000)),
            [1]
        );
        assert_eq!(
            types(&packets(&mut pay, NalUnits::List(&[aud, idr]), 90_000)),
            expect_second_idr,
            "{interval:?}"
        );
    }
    // Every(1 s) inserts once a second has passed, across a timestamp wrap.
    let mut pay = H264Payloader::new(H264PayloaderConfig {
        config_interval: ConfigInterval::from_gst(1),
        strip_aud: false,
        ..Default::default()
    })
    .unwrap();
    packets(&mut pay, NalUnits::List(&[sps, pps, idr]), u32::MAX - 10);
    assert_eq!(
        types(&packets(&mut pay, NalUnits::List(&[idr]), 80_000)),
        [5]
    );
    // AUD kept first, then the inserted SPS+PPS.
    assert_eq!(
        types(&packets(&mut pay, NalUnits::List(&[aud, idr]), 90_000)),
        [9, 24, 5]
    );
}

#[test]
fn depay_discards_damaged_access_unit_and_waits_for_idr() {
    let mut pay = H264Payloader::new(H264PayloaderConfig {
        mtu: 40,
        ..Default::default()
    })
    .unwrap();
    let big_idr: Vec<u8> = std::iter::once(0x65).chain(0..100).collect();
    let big_p: Vec<u8> = std::iter::once(0x41).chain(0..100).collect();
    let a = packets(&mut pay, NalUnits::List(&[&big_idr]), 0);
    let b = packets(&mut pay, NalUnits::List(&[&big_p]), 3000);
    let c = packets(&mut pay, NalUnits::List(&[&big_p]), 6000);
    let d = packets(&mut pay, NalUnits::List(&[&big_idr]), 9000);
    let mut dep = H264Depayloader::default();
    let mut got = vec![];
    for (i, p) in a.iter().chain(&b).chain(&c).chain(&d).enumerate() {
        if i == a.len() + 1 {
            continue; // lose the second packet of b
        }
        dep.push(&RtpPacket::parse(p).unwrap()).unwrap();
        while let Some(au) = dep.pull() {
            got.push((au.timestamp, au.discontinuity));
        }
    }
    assert_eq!(got, [(0, false), (9000, true)]);
    let s = dep.stats();
    assert_eq!(s.lost_packets, 1);
    assert_eq!(s.discarded_access_units, 1);
    assert_eq!(s.skipped_waiting_for_idr, 1);
}

#[test]
fn sdp_helpers() {
    let sps = [0x67, 0x64, 0x00, 0x1f, 0xac];
    assert_eq!(profile_level_id(&sps).unwrap(), "64001F");
    assert_eq!(profile_level_id(&[0x68, 1, 2, 3]), None);
    let s = sprop_parameter_sets(&[&sps, &[0x68, 0xee, 0x3c, 0x80]]);
    let back = parse_sprop_parameter_sets(&s).unwrap();
    assert_eq!(back, vec![sps.to_vec(), vec![0x68, 0xee, 0x3c, 0x80]]);
    assert!(parse_sprop_parameter_sets("Z0I=,*").is_err());
}

#[test]
fn walks_nal_units_with_both_start_codes() {
    let data = [
        0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0x00,
    ];
    let units = NalUnits::AnnexB(&data);
    let nals: Vec<&[u8]> = units.iter().collect();
    assert_eq!(nals.len(), 3);
    assert_eq!(nals[0], &[0x67, 0x42, 0xc0, 0x1e]);
    assert_eq!(nals[1], &[0x68, 0xce]);
    assert_eq!(nals[2], &[0x65, 0x88]);
    let kind = units.classify();
    assert!(kind.parameter_sets && kind.idr && kind.slice);
    assert_eq!(units.sps_profile(), Some("constrained-baseline"));
    // The same NAL units already split classify the same.
    assert_eq!(NalUnits::List(&nals).classify(), kind);
}

#[test]
fn garbage_nal_units_are_harmless() {
    for data in [
        &[][..],
        &[0],
        &[0, 0],
        &[0, 0, 1],
        &[0, 0, 0, 1],
        &[1, 2, 3, 0, 0],
    ] {
        let units = NalUnits::AnnexB(data);
        assert_eq!(units.iter().count(), 0);
        assert_eq!(units.classify(), AccessUnitKind::default());
        assert_eq!(units.sps_profile(), None);
    }
    let kind = NalUnits::AnnexB(&[0, 0, 1, 0x41, 0x9a]).classify();
    assert!(!kind.idr && kind.slice && !kind.parameter_sets);
    // A truncated SPS names no profile.
    assert_eq!(NalUnits::AnnexB(&[0, 0, 1, 0x67, 0x42]).sps_profile(), None);
}
