//! H.264 packetize → depacketize round trips (RFC 6184), every MTU.

mod common;

use framecast_rtp::h264::{nal_type, START_CODE};
use framecast_rtp::*;
use proptest::prelude::*;

fn annexb(nals: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    for n in nals {
        v.extend_from_slice(&START_CODE);
        v.extend_from_slice(n);
    }
    v
}

/// NAL units with F = 0, a type in 1..=23, random NRI, and bodies with no
/// zero byte (so that they are also valid Annex B without emulation
/// prevention).
fn arb_nal() -> impl Strategy<Value = Vec<u8>> {
    (0u8..4, 1u8..=23, prop::collection::vec(1u8..=255, 0..3000)).prop_map(|(nri, t, body)| {
        let mut v = vec![(nri << 5) | t];
        v.extend(body);
        v
    })
}

fn arb_aggregation() -> impl Strategy<Value = Aggregation> {
    prop_oneof![
        Just(Aggregation::None),
        Just(Aggregation::ParameterSets),
        Just(Aggregation::ZeroLatency)
    ]
}

fn check_round_trip(nals: &[Vec<u8>], mtu: usize, aggregation: Aggregation, annex_b: bool) {
    let cfg = H264PayloaderConfig {
        mtu,
        aggregation,
        config_interval: ConfigInterval::Never,
        strip_aud: false,
        ssrc: 0x1234_5678,
        initial_sequence_number: 65530,
        ..Default::default()
    };
    let mut pay = H264Payloader::new(cfg).unwrap();
    let stream = annexb(nals);
    let refs: Vec<&[u8]> = nals.iter().map(|n| &n[..]).collect();
    let input = if annex_b {
        NalUnits::AnnexB(&stream)
    } else {
        NalUnits::List(&refs)
    };
    let packets = common::collect(pay.packetize(input, 12345).unwrap(), mtu);
    let mut in_fu = false;
    for p in &packets {
        let r = RtpPacket::parse(p).unwrap();
        let pl = r.payload();
        assert_eq!(pl[0] & 0x80, 0);
        match pl[0] & 0x1f {
            nal_type::FU_A => {
                let (s, e) = (pl[1] & 0x80 != 0, pl[1] & 0x40 != 0);
                assert_eq!(s, !in_fu, "S bit");
                assert!(!(s && e), "S and E in one FU-A (RFC 6184 §5.8)");
                assert!(pl.len() > 2);
                in_fu = !e;
            }
            nal_type::STAP_A => assert!(!in_fu),
            1..=23 => assert!(!in_fu),
            t => panic!("type {t}"),
        }
    }
    assert!(!in_fu);
    let mut d = H264Depayloader::default();
    for p in &packets {
        d.push(&RtpPacket::parse(p).unwrap()).unwrap();
    }
    let au = d.pull().expect("one access unit");
    assert_eq!(au.data, &stream[..]);
    assert_eq!(au.timestamp, 12345);
    assert!(d.pull().is_none());
    assert_eq!(d.stats().lost_packets, 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_random_access_units(
        nals in prop::collection::vec(arb_nal(), 1..8),
        mtu in 15usize..=1500,
        aggregation in arb_aggregation(),
        annex_b: bool,
    ) {
        check_round_trip(&nals, mtu, aggregation, annex_b);
    }
}

/// Every MTU from the smallest (header + 3) to 1500, on an access unit
/// with parameter sets, SEI, a big IDR slice and small slices.
#[test]
fn round_trip_every_mtu() {
    let mut idr = vec![0x65];
    idr.extend((0..4000).map(|i| (i % 251 + 1) as u8));
    let nals = vec![
        vec![0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x01],
        vec![0x68, 0xce, 0x3c, 0x80],
        vec![0x06, 0x05, 0x01, 0x80],
        idr,
        vec![0x41, 0x9a, 0x02],
        vec![0x01, 0x03],
    ];
    for mtu in 15..=1500 {
        for agg in [
            Aggregation::None,
            Aggregation::ParameterSets,
            Aggregation::ZeroLatency,
        ] {
            check_round_trip(&nals, mtu, agg, mtu % 2 == 0);
        }
    }
}

#[test]
fn stap_a_holds_sps_and_pps_and_marker_is_on_last_packet() {
    let sps = vec![0x67, 0x42, 0xc0, 0x1e];
    let pps = vec![0x68, 0xce, 0x3c, 0x80];
    let idr = vec![0x65; 3000];
    let mut pay = H264Payloader::new(H264PayloaderConfig::default()).unwrap();
    let au = annexb(&[sps.clone(), pps.clone(), idr]);
    let pk = common::collect(pay.packetize(NalUnits::AnnexB(&au), 0).unwrap(), 1400);
    let first = RtpPacket::parse(&pk[0]).unwrap();
    // NRI of the STAP-A is the maximum of the aggregated units (3).
    assert_eq!(first.payload()[0], 0x60 | 24);
    let mut expect = vec![0x78, 0, 4];
    expect.extend(&sps);
    expect.extend([0, 4]);
    expect.extend(&pps);
    assert_eq!(first.payload(), &expect[..]);
    assert!(!first.marker());
    // 3000-byte IDR at 1388 bytes of payload, 1386 per FU-A: 3 fragments.
    assert_eq!(pk.len(), 4);
    for p in &pk[1..] {
        assert_eq!(RtpPacket::parse(p).unwrap().payload()[0], 0x60 | 28);
    }
}

#[test]
fn annexb_with_aud_is_stripped_by_default() {
    let au = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 1, 2, 3];
    let mut pay = H264Payloader::new(H264PayloaderConfig::default()).unwrap();
    let pk = common::collect(pay.packetize(NalUnits::AnnexB(&au), 0).unwrap(), 1400);
    assert_eq!(pk.len(), 1);
    assert_eq!(
        RtpPacket::parse(&pk[0]).unwrap().payload(),
        &[0x41, 1, 2, 3]
    );
    assert_eq!(
        pay.packetize(NalUnits::AnnexB(&[0, 0, 1, 0x09, 0xf0]), 0)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn timestamp_change_completes_access_unit_without_marker() {
    let mk =
        |seq: u16, ts: u32, marker: bool, payload: &[u8]| common::rtp(seq, ts, 1, marker, payload);
    let mut d = H264Depayloader::default();
    d.push(&RtpPacket::parse(&mk(1, 0, false, &[0x65, 1])).unwrap())
        .unwrap();
    assert!(d.pull().is_none());
    // New timestamp and a marker: two access units from one push.
    d.push(&RtpPacket::parse(&mk(2, 3000, true, &[0x41, 2])).unwrap())
        .unwrap();
    assert_eq!(d.pull().unwrap().data, &[0, 0, 0, 1, 0x65, 1]);
    assert_eq!(d.pull().unwrap().data, &[0, 0, 0, 1, 0x41, 2]);
    assert!(d.pull().is_none());
    // Late packet: dropped, counted.
    d.push(&RtpPacket::parse(&mk(1, 0, true, &[0x65, 1])).unwrap())
        .unwrap();
    assert!(d.pull().is_none());
    assert_eq!(d.stats().late_packets, 1);
    // Malformed STAP-A: error with packet context, AU discarded.
    let e = d
        .push(&RtpPacket::parse(&mk(3, 6000, true, &[24, 0, 9, 0x41])).unwrap())
        .unwrap_err();
    assert_eq!(e.packet_context().unwrap().seq, Some(3));
    assert!(d.pull().is_none());
    assert_eq!(d.stats().discarded_access_units, 1);
    assert!(d.is_waiting_for_idr());
    // FU-B is not allowed in mode 1.
    let e = d
        .push(&RtpPacket::parse(&mk(4, 9000, true, &[29, 0x85, 0, 1, 1])).unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

/// A real capture: GStreamer 1.22 `x264enc tune=zerolatency ! rtph264pay
/// config-interval=-1 aggregate-mode=zero-latency mtu=600`; the encoder's
/// byte stream was saved beside it by a `tee`.
#[test]
fn gstreamer_capture_depayloads_to_the_encoded_stream() {
    let packets = common::read_capture("gst_h264_176x144.rtpcap");
    let es = common::testdata("gst_h264_176x144.h264");
    let mut d = H264Depayloader::default();
    let mut out = Vec::new();
    let mut aus = 0;
    let mut saw = [false; 32];
    for p in &packets {
        let r = RtpPacket::parse(p).unwrap();
        assert_eq!(r.ssrc(), 0x1234_5678);
        saw[usize::from(r.payload()[0] & 0x1f)] = true;
        d.push(&r).unwrap();
        while let Some(au) = d.pull() {
            out.extend_from_slice(au.data);
            aus += 1;
        }
    }
    assert!(saw[24] && saw[28], "capture has STAP-A and FU-A");
    assert_eq!(aus, 10);
    assert_eq!(d.stats().lost_packets, 0);
    // GStreamer 1.22 keeps the AUDs and, with config-interval=-1, sends
    // SPS+PPS again before *each* IDR slice even though x264 already put
    // them in the access unit: compare the other NAL units, and check the
    // repeated parameter sets are the stream's.
    let es_nals: Vec<&[u8]> = NalUnits::AnnexB(&es).iter().collect();
    let out_nals: Vec<&[u8]> = NalUnits::AnnexB(&out).iter().collect();
    let not_ps_aud = |n: &&[u8]| !matches!(n[0] & 0x1f, 7..=9);
    let a: Vec<&[u8]> = es_nals.iter().copied().filter(not_ps_aud).collect();
    let b: Vec<&[u8]> = out_nals.iter().copied().filter(not_ps_aud).collect();
    assert_eq!(a.len(), 21); // 20 slices (2 per picture) and one SEI
    assert!(a == b, "NAL units differ");
    for n in &out_nals {
        if matches!(n[0] & 0x1f, 7 | 8) {
            assert!(es_nals.contains(n));
        }
    }

    // And our payloader re-sends it so that our depayloader gets it back.
    let mut pay = H264Payloader::new(H264PayloaderConfig {
        mtu: 500,
        ..Default::default()
    })
    .unwrap();
    let mut d2 = H264Depayloader::default();
    let mut again: Vec<u8> = Vec::new();
    for (i, au) in access_units(&es).iter().enumerate() {
        for p in common::collect(
            pay.packetize(NalUnits::List(au), i as u32 * 3000).unwrap(),
            500,
        ) {
            d2.push(&RtpPacket::parse(&p).unwrap()).unwrap();
        }
        while let Some(au) = d2.pull() {
            again.extend_from_slice(au.data);
        }
    }
    // Ours strips the AUDs and inserts nothing (the IDR access units
    // carry their SPS and PPS).
    let expect: Vec<&[u8]> = es_nals
        .iter()
        .copied()
        .filter(|n| n[0] & 0x1f != 9)
        .collect();
    let got: Vec<&[u8]> = NalUnits::AnnexB(&again).iter().collect();
    assert!(got == expect, "re-payloaded stream differs");
}

/// A real capture from FFmpeg 5.1's RTP muxer (`-c:v libx264 -flags
/// +global_header -pkt_size 700`), whose SDP is testdata/ffmpeg_h264.sdp.
#[test]
fn ffmpeg_capture_depayloads() {
    let sdp =
        SessionDescription::parse(&String::from_utf8(common::testdata("ffmpeg_h264.sdp")).unwrap())
            .unwrap();
    let v = sdp.video().unwrap();
    let sets = h264::parse_sprop_parameter_sets(&v.fmtp["sprop-parameter-sets"]).unwrap();
    assert_eq!(
        h264::profile_level_id(&sets[0]).unwrap(),
        v.fmtp["profile-level-id"]
    );
    let mut d = H264Depayloader::default();
    let mut aus = Vec::new();
    for p in common::read_capture("ffmpeg_h264_176x144.rtpcap") {
        let r = RtpPacket::parse(&p).unwrap();
        assert_eq!(r.payload_type(), v.payload_type());
        d.push(&r).unwrap();
        while let Some(au) = d.pull() {
            aus.push((au.is_idr, au.data.len()));
        }
    }
    assert_eq!(aus.len(), 5);
    assert!(aus[0].0, "first access unit is an IDR");
}

#[test]
fn a_fragment_cut_off_by_a_new_timestamp_is_discarded_not_delivered() {
    let mut d = H264Depayloader::default();
    // FU-A start and middle of an IDR slice, no end; then, with no
    // sequence gap, the next access unit.
    d.push(&RtpPacket::parse(&common::rtp(1, 0, 1, false, &[0x7c, 0x85, 1, 2])).unwrap())
        .unwrap();
    d.push(&RtpPacket::parse(&common::rtp(2, 0, 1, false, &[0x7c, 0x05, 3])).unwrap())
        .unwrap();
    d.push(&RtpPacket::parse(&common::rtp(3, 3000, 1, true, &[0x65, 9])).unwrap())
        .unwrap();
    let au = d.pull().unwrap();
    assert_eq!((au.timestamp, au.discontinuity), (3000, true));
    assert!(d.pull().is_none());
    assert_eq!(d.stats().discarded_access_units, 1);
}

#[test]
fn a_restarted_sender_is_followed_from_its_first_idr() {
    let mut d = H264Depayloader::default();
    let idr = [0x65, 1];
    let p_slice = [0x41, 2];
    let push = |d: &mut H264Depayloader, seq: u16, ts: u32, ssrc: u32, payload: &[u8]| {
        d.push(&RtpPacket::parse(&common::rtp(seq, ts, ssrc, true, payload)).unwrap())
            .unwrap();
    };
    push(&mut d, 40_000, 0, 7, &idr);
    assert!(d.pull().unwrap().is_idr);
    // Half of a new access unit, then the sender restarts 20 000 behind.
    d.push(&RtpPacket::parse(&common::rtp(40_001, 3000, 7, false, &p_slice)).unwrap())
        .unwrap();
    // Its first packet is a stray (dropped: it might be a lone old
    // duplicate); the second confirms the restart; from the new stream's
    // IDR on everything arrives.
    push(&mut d, 20_000, 90_000, 7, &p_slice);
    assert!(d.pull().is_none());
    push(&mut d, 20_001, 93_000, 7, &idr);
    push(&mut d, 20_002, 96_000, 7, &p_slice);
    let au = d.pull().unwrap();
    assert!(au.is_idr && au.discontinuity && au.timestamp == 93_000);
    assert_eq!(d.pull().unwrap().timestamp, 96_000);
    assert!(d.pull().is_none());
    let s = d.stats();
    assert_eq!((s.restarts, s.late_packets, s.lost_packets), (1, 1, 0));
    // One stray packet from elsewhere changes nothing.
    push(&mut d, 7, 5, 99, &idr);
    push(&mut d, 20_003, 99_000, 7, &p_slice);
    assert!(!d.pull().unwrap().discontinuity);
    // A new SSRC, confirmed by its second packet, is a new stream.
    push(&mut d, 1_000, 102_000, 8, &idr);
    push(&mut d, 1_001, 105_000, 8, &idr);
    assert!(d.pull().unwrap().discontinuity);
    assert_eq!((d.stats().restarts, d.stats().late_packets), (2, 3));
}

#[test]
fn damaged_access_units_are_delivered_with_what_arrived_when_asked() {
    let mut d = H264Depayloader::new(H264DepayloaderConfig {
        deliver_damaged: true,
        ..Default::default()
    });
    let push = |d: &mut H264Depayloader, seq: u16, ts: u32, marker: bool, payload: &[u8]| {
        d.push(&RtpPacket::parse(&common::rtp(seq, ts, 7, marker, payload)).unwrap())
            .unwrap();
    };
    push(&mut d, 1, 0, true, &[0x65, 1, 2]);
    assert!(!d.pull().unwrap().damaged);
    // Two slices of one P-frame: the first whole, the second an FU-A that
    // loses its middle fragment (seq 4). The first slice and the second's
    // first fragment are delivered; the fragment after the loss is not.
    push(&mut d, 2, 3000, false, &[0x41, 7, 7]);
    push(&mut d, 3, 3000, false, &[0x7c, 0x81, 8, 8]);
    push(&mut d, 5, 3000, true, &[0x7c, 0x41, 9, 9]);
    let au = d.pull().unwrap();
    assert!(au.damaged && au.discontinuity && !au.is_idr);
    assert_eq!(
        au.data,
        &[0, 0, 0, 1, 0x41, 7, 7, 0, 0, 0, 1, 0x61, 8, 8][..]
    );
    // No wait for an IDR: the next P-frame comes out intact.
    push(&mut d, 6, 6000, true, &[0x41, 5]);
    let au = d.pull().unwrap();
    assert!(!au.damaged && !au.discontinuity);
    // A frame of which nothing usable arrived is discarded.
    push(&mut d, 8, 9000, true, &[0x7c, 0x41, 1]);
    push(&mut d, 9, 12000, true, &[0x41, 6]);
    assert!(d.pull().unwrap().discontinuity);
    let s = d.stats();
    assert_eq!((s.damaged_access_units, s.discarded_access_units), (1, 1));
    assert_eq!(s.skipped_waiting_for_idr, 0);
}

#[test]
fn by_default_damaged_access_units_are_discarded_until_the_next_idr() {
    let mut d = H264Depayloader::default();
    let push = |d: &mut H264Depayloader, seq: u16, ts: u32, payload: &[u8]| {
        d.push(&RtpPacket::parse(&common::rtp(seq, ts, 7, true, payload)).unwrap())
            .unwrap();
    };
    push(&mut d, 1, 0, &[0x65, 1]);
    push(&mut d, 3, 3000, &[0x41, 2]);
    push(&mut d, 4, 6000, &[0x41, 3]);
    push(&mut d, 5, 9000, &[0x65, 4]);
    let out: Vec<(u32, bool)> =
        std::iter::from_fn(|| d.pull().map(|a| (a.timestamp, a.damaged))).collect();
    assert_eq!(out, [(0, false), (9000, false)]);
}
