//! Network input never panics: every parser and depayloader is fed random
//! bytes, and random payloads behind valid RTP headers (which reach much
//! deeper than random headers do). The same entry points are fuzzed in
//! `fuzz/`; these run in every `cargo test`.

mod common;

use framecast_rtp::rtcp::{parse_compound, RtcpPacket};
use framecast_rtp::*;
use proptest::prelude::*;

fn packet(seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    common::rtp(seq, ts, 5, marker, payload)
}

struct Sinks {
    h264: H264Depayloader,
    jpeg: JpegDepayloader,
    raw: Vec<(RawFormat, RawDepayloader, Vec<Vec<u8>>)>,
}

impl Sinks {
    fn new() -> Self {
        let raw = [RawFormat::Rgb, RawFormat::Uyvy, RawFormat::I420]
            .into_iter()
            .map(|f| {
                let (w, h) = (8, 4);
                let planes = (0..f.planes()).map(|i| {
                    let (row, rows) = f.plane_size(i, w, h);
                    vec![0u8; row * rows]
                });
                (f, RawDepayloader::new(f, w, h).unwrap(), planes.collect())
            })
            .collect();
        Self {
            h264: H264Depayloader::default(),
            jpeg: JpegDepayloader::new(),
            raw,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let Ok(p) = RtpPacket::parse(bytes) else {
            return;
        };
        let _ = self.h264.push(&p);
        while let Some(au) = self.h264.pull() {
            assert!(au.data.starts_with(&[0, 0, 0, 1]));
        }
        if let Ok(Some(f)) = self.jpeg.push(&p) {
            assert!(f.data.starts_with(&[0xff, 0xd8]) && f.data.ends_with(&[0xff, 0xd9]));
        }
        for (f, d, bufs) in &mut self.raw {
            let (w, _) = (8, 4);
            let mut planes: Vec<PlaneMut<'_>> = bufs
                .iter_mut()
                .enumerate()
                .map(|(i, b)| PlaneMut {
                    data: b,
                    stride: f.plane_size(i, w, 4).0,
                })
                .collect();
            // At most twice: FrameEndedPushAgain asks for a second push.
            for _ in 0..2 {
                match d.push(&p, &mut planes) {
                    Ok(RawPush::FrameEndedPushAgain(_)) => continue,
                    _ => break,
                }
            }
        }
    }
}

/// Mostly small steps (in order, a loss, a duplicate), sometimes a jump
/// far ahead or behind.
fn sequence_step() -> impl Strategy<Value = u16> {
    prop_oneof![8 => 0u16..3, 1 => any::<u16>()]
}

fn interesting_payload() -> impl Strategy<Value = Vec<u8>> {
    let h264 = (
        prop_oneof![
            Just(24u8),
            Just(28),
            Just(0x7c),
            Just(0x65),
            Just(25),
            Just(29),
            any::<u8>()
        ],
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(h, rest)| std::iter::once(h).chain(rest).collect::<Vec<u8>>());
    let jpeg = (
        any::<[u8; 4]>(),
        prop_oneof![Just(0u8), Just(1), Just(64), Just(65), any::<u8>()],
        prop_oneof![Just(255u8), Just(50), Just(128), any::<u8>()],
        0u8..4,
        0u8..4,
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(off, t, q, w, h, rest)| {
            let mut v = vec![0, off[1] & 1, 0, off[3] & 0x3f, t, q, w, h];
            v.extend(rest);
            v
        });
    let raw = (
        any::<u16>(),
        prop::collection::vec((0u16..40, 0u16..6, 0u16..10, any::<bool>()), 1..4),
        prop::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(|(esn, hdrs, data)| {
            let mut v = esn.to_be_bytes().to_vec();
            let n = hdrs.len();
            for (i, (len, line, off, f)) in hdrs.into_iter().enumerate() {
                v.extend(len.to_be_bytes());
                v.extend((line | if f { 0x8000 } else { 0 }).to_be_bytes());
                v.extend((off | if i + 1 < n { 0x8000 } else { 0 }).to_be_bytes());
            }
            v.extend(data);
            v
        });
    prop_oneof![h264, jpeg, raw, prop::collection::vec(any::<u8>(), 0..100)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_datagrams(datagrams in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..20)) {
        let mut s = Sinks::new();
        for d in &datagrams {
            s.feed(d);
            for p in parse_compound(d) {
                if let Ok(RtcpPacket::Sdes(sdes)) = p {
                    let _ = sdes.items().count();
                }
            }
        }
    }

    #[test]
    fn random_payloads_behind_valid_headers(
        pkts in prop::collection::vec((sequence_step(), any::<bool>(), any::<bool>(), interesting_payload()), 1..40),
    ) {
        let mut s = Sinks::new();
        let (mut seq, mut ts) = (65000u16, 0u32);
        for (step, next_ts, marker, payload) in pkts {
            seq = seq.wrapping_add(step);
            if next_ts { ts = ts.wrapping_add(3000); }
            s.feed(&packet(seq, ts, marker, &payload));
        }
        s.h264.flush();
        while s.h264.pull().is_some() {}
    }

    /// Streams that jump, restart, interleave a second SSRC and flush:
    /// the sequence checks (late, stray, restart) and the resets.
    #[test]
    fn restarting_and_interleaved_streams(
        pkts in prop::collection::vec(
            (any::<u16>(), any::<bool>(), any::<bool>(), 0u8..8, interesting_payload()),
            1..40,
        ),
    ) {
        let mut s = Sinks::new();
        let mut ts = 0u32;
        for (seq, ssrc_b, marker, action, payload) in pkts {
            ts = ts.wrapping_add(3000 * u32::from(action & 1));
            let ssrc = if ssrc_b { 6 } else { 5 };
            s.feed(&common::rtp(seq, ts, ssrc, marker, &payload));
            if action == 7 {
                s.h264.reset();
                s.jpeg.reset();
                for (_, d, _) in &mut s.raw {
                    d.reset();
                }
            }
            if action == 6 {
                for (_, d, _) in &mut s.raw {
                    let _ = d.flush();
                }
            }
        }
        s.h264.flush();
        while s.h264.pull().is_some() {}
    }

    #[test]
    fn random_rtcp_after_valid_header(pt in 192u8..210, count in 0u8..32, words in 0u16..20, body in prop::collection::vec(any::<u8>(), 0..120)) {
        let mut p = vec![0x80 | count, pt];
        p.extend(words.to_be_bytes());
        p.extend(body);
        for r in parse_compound(&p) {
            match r {
                Ok(RtcpPacket::SenderReport(_, b)) | Ok(RtcpPacket::ReceiverReport(_, b)) => { let _ = b.iter().count(); }
                Ok(RtcpPacket::Sdes(s)) => { let _ = s.items().count(); }
                Ok(RtcpPacket::Bye(b)) => { let _ = b.ssrcs().count(); }
                _ => {}
            }
        }
    }

    #[test]
    fn random_sdp_text(s in ".{0,300}") {
        let _ = SessionDescription::parse(&s);
    }

    #[test]
    fn mutated_sdp(cut in 0usize..400, insert in "[ -~\r\n]{0,20}") {
        let good = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAHg==,aM4=\r\na=framerate:30\r\n";
        let at = cut.min(good.len());
        let mut s = good[..at].to_string();
        s.push_str(&insert);
        s.push_str(&good[at..]);
        if let Ok(sdp) = SessionDescription::parse(&s) {
            // Whatever parses, writes and parses back the same.
            prop_assert_eq!(SessionDescription::parse(&sdp.to_string()).unwrap(), sdp);
        }
    }
}
