//! Unit tests of the SDP parser and writer.

use super::*;
use crate::error::Error;
use crate::h264;
use crate::raw::RawFormat;
use std::net::IpAddr;
use std::net::Ipv4Addr;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[test]
fn h264_round_trip() {
    let sps = [0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0];
    let pps = [0x68, 0xce, 0x3c, 0x80];
    let s = SessionDescription::h264(LOCAL, 5004, 96, Some((&sps, &pps)), Some(30.0));
    let text = s.to_string();
    assert!(text.contains("m=video 5004 RTP/AVP 96\r\n"), "{text}");
    assert!(text.contains("a=rtpmap:96 H264/90000\r\n"));
    assert!(text.contains(
        "a=fmtp:96 packetization-mode=1; profile-level-id=42C01E; sprop-parameter-sets="
    ));
    assert!(text.contains("a=framerate:30\r\n"));
    assert!(text.contains("a=recvonly\r\n"));
    let back = SessionDescription::parse(&text).unwrap();
    assert_eq!(back, s);
    let sets =
        h264::parse_sprop_parameter_sets(&back.video().unwrap().fmtp["sprop-parameter-sets"])
            .unwrap();
    assert_eq!(sets, [sps.to_vec(), pps.to_vec()]);
}

#[test]
fn jpeg_and_raw_round_trip() {
    let s = SessionDescription::jpeg(LOCAL, 5006, Some(1.234_567));
    assert_eq!(SessionDescription::parse(&s.to_string()).unwrap(), s);
    let s = SessionDescription::jpeg(LOCAL, 5006, Some(29.97));
    let back = SessionDescription::parse(&s.to_string()).unwrap();
    assert_eq!(back.video().unwrap().framerate, Some(29.97));
    assert_eq!(back.video().unwrap().payload_type(), 26);
    let s = SessionDescription::raw(LOCAL, 5008, 96, RawFormat::I420, 640, 480, Some(30.0));
    let text = s.to_string();
    assert!(text.contains(
        "a=fmtp:96 sampling=YCbCr-4:2:0; width=640; height=480; depth=8; colorimetry=BT709-2\r\n"
    ), "{text}");
    assert_eq!(SessionDescription::parse(&text).unwrap(), s);
}

#[test]
fn errors_name_the_line() {
    let e = SessionDescription::parse("v=0\no=- 0 0 IN IP4 x\nbogus\n").unwrap_err();
    match &e {
        Error::Sdp { line, text, .. } => {
            assert_eq!(*line, 3);
            assert_eq!(text, "bogus");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.kind(), crate::ErrorKind::Sdp);
    assert!(SessionDescription::parse("o=- 0 0 IN IP4 x\n").is_err());
    assert!(SessionDescription::parse("").is_err());
    // Found by the sdp_parse fuzz target: v=0 alone used to parse, and
    // its written form (an o= line without address) did not.
    assert!(SessionDescription::parse("v=0\n").is_err());
    let ok = SessionDescription::parse("v=0\no=- 0 0 IN IP4 h\ns=\n").unwrap();
    assert_eq!(SessionDescription::parse(&ok.to_string()).unwrap(), ok);
    assert!(
        SessionDescription::parse("v=0\no=- 0 0 IN IP4 h\ns=x\nm=video 99999 RTP/AVP 96\n")
            .is_err()
    );
    assert!(SessionDescription::parse(
        "v=0\no=- 0 0 IN IP4 h\ns=x\nm=video 5 RTP/AVP 96\na=rtpmap:96 H264\n"
    )
    .is_err());
}
