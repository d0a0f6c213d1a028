//! RFC 4175 round trips for every format, random geometry, stride and MTU.

mod common;

use framecast_rtp::*;
use proptest::prelude::*;

const FORMATS: [RawFormat; 6] = RawFormat::ALL;

fn planes_for(
    format: RawFormat,
    w: usize,
    h: usize,
    pad: usize,
    seed: u8,
) -> Vec<(Vec<u8>, usize)> {
    (0..format.planes())
        .map(|i| {
            let (row, rows) = format.plane_size(i, w, h);
            let stride = row + pad;
            let data = (0..stride * rows)
                .map(|k| {
                    (k as u8)
                        .wrapping_mul(31)
                        .wrapping_add(seed)
                        .wrapping_add(i as u8 * 7)
                })
                .collect();
            (data, stride)
        })
        .collect()
}

fn rows_equal(
    format: RawFormat,
    w: usize,
    h: usize,
    a: &[(Vec<u8>, usize)],
    b: &[(Vec<u8>, usize)],
) -> bool {
    (0..format.planes()).all(|i| {
        let (row, rows) = format.plane_size(i, w, h);
        (0..rows).all(|r| a[i].0[r * a[i].1..][..row] == b[i].0[r * b[i].1..][..row])
    })
}

fn round_trip(format: RawFormat, w: usize, h: usize, mtu: usize, pad_in: usize, pad_out: usize) {
    let src = planes_for(format, w, h, pad_in, 3);
    let planes: Vec<Plane<'_>> = src
        .iter()
        .map(|(d, s)| Plane {
            data: d,
            stride: *s,
        })
        .collect();
    let mut cfg = RawPayloaderConfig::new(format, w, h);
    cfg.mtu = mtu;
    cfg.initial_sequence_number = 0x0001_fffe; // crosses a 16-bit wrap
    let mut pay = RawPayloader::new(cfg).unwrap();
    let packets = common::collect(pay.packetize(&planes, 777).unwrap(), mtu);
    // The extended sequence number's high half is in the payload header.
    let first = RtpPacket::parse(&packets[0]).unwrap();
    assert_eq!(&first.payload()[..2], &[0, 1]);
    if packets.len() > 2 {
        assert_eq!(
            &RtpPacket::parse(&packets[2]).unwrap().payload()[..2],
            &[0, 2]
        );
    }

    let mut dst = planes_for(format, w, h, pad_out, 99);
    let mut d = RawDepayloader::new(format, w, h).unwrap();
    let mut done = None;
    for p in &packets {
        let mut out: Vec<PlaneMut<'_>> = dst
            .iter_mut()
            .map(|(d, s)| PlaneMut {
                data: d,
                stride: *s,
            })
            .collect();
        match d.push(&RtpPacket::parse(p).unwrap(), &mut out).unwrap() {
            RawPush::InProgress => {}
            RawPush::Frame(info) => done = Some(info),
            RawPush::FrameEndedPushAgain(i) => panic!("{i:?}"),
        }
    }
    let info = done.expect("frame");
    assert!(info.complete);
    assert_eq!(info.timestamp, 777);
    assert!(
        rows_equal(format, w, h, &src, &dst),
        "{format:?} {w}x{h} mtu {mtu}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_random(fi in 0usize..6, w2 in 1usize..60, h2 in 1usize..20, mtu in 40usize..1500, pad_in in 0usize..9, pad_out in 0usize..9) {
        let f = FORMATS[fi];
        round_trip(f, w2 * f.xinc(), h2 * f.yinc(), mtu, pad_in, pad_out);
    }
}

#[test]
fn round_trip_720p_i420_and_bgr() {
    round_trip(RawFormat::I420, 1280, 720, 1400, 0, 64);
    round_trip(RawFormat::Bgr, 1280, 720, 1400, 0, 0);
}

/// 64x16 RGB frames for the loss tests: the source picture, and its
/// packets (mtu 300) at RTP times 0 and 3000 from a payloader whose first
/// sequence number is `first_seq`.
struct TwoFrames {
    src: Vec<u8>,
    a: Vec<Vec<u8>>,
    b: Vec<Vec<u8>>,
}

const LOSS_W: usize = 64;
const LOSS_H: usize = 16;

fn two_frames(seed: u8, first_seq: u32) -> TwoFrames {
    let src = planes_for(RawFormat::Rgb, LOSS_W, LOSS_H, 0, seed);
    let planes = [Plane {
        data: &src[0].0,
        stride: src[0].1,
    }];
    let mut cfg = RawPayloaderConfig::new(RawFormat::Rgb, LOSS_W, LOSS_H);
    cfg.mtu = 300;
    cfg.initial_sequence_number = first_seq;
    let mut pay = RawPayloader::new(cfg).unwrap();
    let a = common::collect(pay.packetize(&planes, 0).unwrap(), 300);
    let b = common::collect(pay.packetize(&planes, 3000).unwrap(), 300);
    TwoFrames {
        src: src[0].0.clone(),
        a,
        b,
    }
}

/// Pushes `packets` (each maybe pushed twice, as `FrameEndedPushAgain`
/// asks) into a fresh 64x16 RGB depayloader writing into `buf`; returns
/// the frames that ended and the depayloader.
fn depayload_all(packets: &[Vec<u8>], buf: &mut [u8]) -> (Vec<RawFrameInfo>, RawDepayloader) {
    let mut d = RawDepayloader::new(RawFormat::Rgb, LOSS_W, LOSS_H).unwrap();
    let mut got = vec![];
    for p in packets {
        loop {
            let mut planes = [PlaneMut {
                data: &mut *buf,
                stride: LOSS_W * 3,
            }];
            match d.push(&RtpPacket::parse(p).unwrap(), &mut planes) {
                Ok(RawPush::InProgress) | Err(_) => break,
                Ok(RawPush::Frame(i)) => {
                    got.push(i);
                    break;
                }
                Ok(RawPush::FrameEndedPushAgain(i)) => got.push(i),
            }
        }
    }
    (got, d)
}

#[test]
fn lost_packet_still_delivers_flagged_frame_and_timestamp_change_ends_it() {
    let f = two_frames(1, 0);
    // Lose a middle packet of frame a and the last (marker) packet too.
    let stream: Vec<Vec<u8>> = f.a[..f.a.len() - 1]
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, p)| p.clone())
        .chain(f.b.iter().cloned())
        .collect();
    let mut buf = vec![0u8; LOSS_W * LOSS_H * 3];
    let (got, _) = depayload_all(&stream, &mut buf);
    assert_eq!(got.len(), 2);
    assert!(
        !got[0].complete && got[0].lost_packets == 2 && got[0].timestamp == 0,
        "{:?}",
        got[0]
    );
    assert!(got[1].complete && got[1].timestamp == 3000);
    assert_eq!(buf, f.src);
}

/// A real capture: GStreamer 1.22 `rtpvrawpay mtu=200`, two 32×16 I420
/// frames, with the raw frames saved beside it.
#[test]
fn gstreamer_capture_matches_the_source_frames() {
    let (w, h) = (32, 16);
    let yuv = common::testdata("gst_raw_i420_32x16.yuv");
    let frame_len = w * h * 3 / 2;
    let mut d = RawDepayloader::new(RawFormat::I420, w, h).unwrap();
    let (mut y, mut u, mut v) = (vec![0u8; w * h], vec![0u8; w * h / 4], vec![0u8; w * h / 4]);
    let mut n = 0;
    for p in common::read_capture("gst_raw_i420_32x16.rtpcap") {
        let mut planes = [
            PlaneMut {
                data: &mut y,
                stride: w,
            },
            PlaneMut {
                data: &mut u,
                stride: w / 2,
            },
            PlaneMut {
                data: &mut v,
                stride: w / 2,
            },
        ];
        if let RawPush::Frame(info) = d.push(&RtpPacket::parse(&p).unwrap(), &mut planes).unwrap() {
            assert!(info.complete);
            let mut got = y.clone();
            got.extend(&u);
            got.extend(&v);
            assert_eq!(got, yuv[n * frame_len..(n + 1) * frame_len]);
            n += 1;
        }
    }
    assert_eq!(n, 2);
}

#[test]
fn bad_geometry_and_buffers_are_rejected() {
    assert!(RawDepayloader::new(RawFormat::I420, 31, 16).is_err());
    assert!(RawDepayloader::new(RawFormat::Uyvy, 32, 0).is_err());
    let mut cfg = RawPayloaderConfig::new(RawFormat::Rgb, 8, 8);
    cfg.mtu = 20;
    assert!(RawPayloader::new(cfg).is_err());
    let mut pay = RawPayloader::new(RawPayloaderConfig::new(RawFormat::Rgb, 8, 8)).unwrap();
    let small = [0u8; 10];
    let e = pay
        .packetize(
            &[Plane {
                data: &small,
                stride: 24,
            }],
            0,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BufferTooSmall);
}

#[test]
fn a_late_packet_of_the_previous_frame_does_not_split_the_current_one() {
    let f = two_frames(3, 0);
    // Frame a whole, then b with a's packet 1 duplicated in its middle.
    let mut stream = f.a.clone();
    stream.extend_from_slice(&f.b[..2]);
    stream.push(f.a[1].clone());
    stream.extend_from_slice(&f.b[2..]);
    let mut buf = vec![0u8; LOSS_W * LOSS_H * 3];
    let (got, d) = depayload_all(&stream, &mut buf);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|f| f.complete), "{got:?}");
    assert_eq!(d.stats().late_packets, 1);
    assert_eq!(buf, f.src);
}

#[test]
fn a_malformed_marker_packet_still_ends_its_frame() {
    let f = two_frames(5, 0);
    let mut stream = f.a.clone();
    // Cut the last packet of a inside its line header.
    let last = stream.len() - 1;
    stream[last].truncate(12 + 2 + 3);
    stream.extend(f.b);
    let mut buf = vec![0u8; LOSS_W * LOSS_H * 3];
    let (got, _) = depayload_all(&stream, &mut buf);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(!got[0].complete && got[0].malformed_packets == 1 && got[0].timestamp == 0);
    assert!(got[1].complete && got[1].timestamp == 3000);
}

#[test]
fn a_restarted_sender_is_followed_not_dropped_as_late() {
    // The first sender starts at 40 000, the restarted one at 20 000 (far
    // "behind": without the restart rule every packet would be late).
    let first = two_frames(7, 40_000);
    let second = two_frames(7, 20_000);
    let stream: Vec<Vec<u8>> = [first.a, first.b, second.a, second.b].concat();
    let mut buf = vec![0u8; LOSS_W * LOSS_H * 3];
    let (got, d) = depayload_all(&stream, &mut buf);
    // The new stream's first packet is a stray until the second confirms
    // the restart: its first frame goes out without its first line.
    assert_eq!(got.len(), 4, "{got:?}");
    let complete: Vec<bool> = got.iter().map(|f| f.complete).collect();
    assert_eq!(complete, [true, true, false, true]);
    assert_eq!(d.stats().restarts, 1);
    assert_eq!((d.stats().late_packets, d.stats().lost_packets), (1, 0));
}

#[test]
fn a_sender_restarting_mid_frame_ends_that_frame_and_charges_the_new_one() {
    let first = two_frames(9, 40_000);
    let second = two_frames(9, 20_000);
    // The old stream's frame b stops after two packets; the new stream
    // starts (its first packet a stray until the second confirms it).
    let stream: Vec<Vec<u8>> = [&first.a[..], &first.b[..2], &second.a[..], &second.b[..]].concat();
    let mut buf = vec![0u8; LOSS_W * LOSS_H * 3];
    let (got, d) = depayload_all(&stream, &mut buf);
    let summary: Vec<(u32, bool, u64)> = got
        .iter()
        .map(|f| (f.timestamp, f.complete, f.lost_packets))
        .collect();
    assert_eq!(
        summary,
        [
            (0, true, 0),
            (3000, false, 0),
            (0, false, 1),
            (3000, true, 0)
        ]
    );
    assert_eq!(d.stats().restarts, 1);
}
