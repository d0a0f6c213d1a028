//! Unit tests of the RTCP writer and parser.

use super::*;
use crate::error::Result;
use std::time::{Duration, UNIX_EPOCH};

#[test]
fn picture_loss_is_a_keyframe_request() {
    let mut buf = [0u8; 16];
    let mut w = CompoundWriter::new(&mut buf);
    w.picture_loss(0x1111_2222, 0xaabb_ccdd).unwrap();
    let n = w.finish();
    assert_eq!(n, 12);
    assert_eq!(buf[..4], [0x81, 206, 0, 2]);
    let p = parse_compound(&buf[..n]).next().unwrap().unwrap();
    assert!(p.is_keyframe_request());
    match p {
        RtcpPacket::Other { body, .. } => assert_eq!(body[4..8], [0xaa, 0xbb, 0xcc, 0xdd]),
        other => panic!("{other:?}"),
    }
    // A FIR is one too; a generic NACK (RTPFB, 205) and an SR are not.
    let fir = [
        0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 1, 0, 0, 0,
    ];
    assert!(parse_compound(&fir)
        .next()
        .unwrap()
        .unwrap()
        .is_keyframe_request());
    let nack = [0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0];
    assert!(!parse_compound(&nack)
        .next()
        .unwrap()
        .unwrap()
        .is_keyframe_request());
    let mut small = [0u8; 8];
    assert!(CompoundWriter::new(&mut small).picture_loss(1, 2).is_err());
}

#[test]
fn sr_sdes_bye_round_trip() {
    let t = UNIX_EPOCH + Duration::new(1_700_000_000, 250_000_000);
    let ntp = NtpTimestamp::from_system_time(t);
    assert_eq!(ntp.0 >> 32, 1_700_000_000 + NTP_UNIX_OFFSET);
    assert_eq!(ntp.0 & 0xffff_ffff, 1 << 30);
    assert_eq!(ntp.to_system_time(), t);

    let mut stats = SenderStats::new(0xdead_beef);
    for _ in 0..10 {
        stats.on_packet(1400, 12);
    }
    let sr = stats.report(ntp, 123_456);
    let block = ReportBlock {
        ssrc: 7,
        fraction_lost: 25,
        cumulative_lost: -3,
        extended_highest_seq: 0x0001_0005,
        jitter: 42,
        last_sr: ntp.middle32(),
        delay_since_last_sr: 65536,
    };
    let mut buf = [0u8; 200];
    let mut w = CompoundWriter::new(&mut buf);
    w.sender_report(&sr, &[block]).unwrap();
    w.sdes_cname(0xdead_beef, "user@host").unwrap();
    w.bye(&[0xdead_beef], Some("done")).unwrap();
    let n = w.finish();
    assert_eq!(n % 4, 0);
    let pkts: Vec<_> = parse_compound(&buf[..n]).collect::<Result<_>>().unwrap();
    assert_eq!(pkts.len(), 3);
    match pkts[0] {
        RtcpPacket::SenderReport(got, blocks) => {
            assert_eq!(got, sr);
            assert_eq!(got.packet_count, 10);
            assert_eq!(got.octet_count, 13880);
            assert_eq!(blocks.iter().collect::<Vec<_>>(), [block]);
        }
        ref p => panic!("{p:?}"),
    }
    match pkts[1] {
        RtcpPacket::Sdes(s) => assert_eq!(s.cname(0xdead_beef), Some(&b"user@host"[..])),
        ref p => panic!("{p:?}"),
    }
    match pkts[2] {
        RtcpPacket::Bye(b) => {
            assert_eq!(b.ssrcs().collect::<Vec<_>>(), [0xdead_beef]);
            assert_eq!(b.reason, Some(&b"done"[..]));
        }
        ref p => panic!("{p:?}"),
    }
}

#[test]
fn receiver_report_and_errors() {
    let mut buf = [0u8; 64];
    let mut w = CompoundWriter::new(&mut buf);
    w.receiver_report(5, &[ReportBlock::default()]).unwrap();
    let n = w.finish();
    assert_eq!(n, 32);
    let p: Vec<_> = parse_compound(&buf[..n]).collect();
    assert!(matches!(p[0], Ok(RtcpPacket::ReceiverReport(5, b)) if b.len() == 1));
    // Length beyond the datagram.
    assert!(parse_compound(&buf[..n - 4]).next().unwrap().is_err());
    // Count larger than the body.
    let mut bad = buf;
    bad[0] = 0x82;
    assert!(parse_compound(&bad[..n]).next().unwrap().is_err());
    // Too small a buffer for writing.
    let mut small = [0u8; 10];
    assert_eq!(
        CompoundWriter::new(&mut small)
            .sender_report(&SenderReport::default(), &[])
            .unwrap_err()
            .kind(),
        crate::ErrorKind::BufferTooSmall
    );
}
