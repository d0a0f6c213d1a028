//! SDP files written by FFmpeg and GStreamer parse; ours round-trip.

mod common;

use framecast_rtp::raw::RawFormat;
use framecast_rtp::sdp::Direction;
use framecast_rtp::*;
use std::net::{IpAddr, Ipv4Addr};

fn fixture(name: &str) -> SessionDescription {
    let text = String::from_utf8(common::testdata(name)).unwrap();
    SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Written by `ffmpeg ... -c:v libx264 -flags +global_header -f rtp
/// -sdp_file` (FFmpeg 5.1): CRLF, `; `-separated fmtp, `a=tool`.
#[test]
fn ffmpeg_h264() {
    let s = fixture("ffmpeg_h264.sdp");
    assert_eq!(s.connection_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(s.session_name, "No Name");
    let v = s.video().unwrap();
    assert_eq!(
        (v.port, v.payload_type(), v.protocol.as_str()),
        (5016, 96, "RTP/AVP")
    );
    assert_eq!((v.encoding_name.as_str(), v.clock_rate), ("H264", 90_000));
    assert_eq!(v.fmtp["packetization-mode"], "1");
    assert_eq!(v.fmtp["profile-level-id"], "F4000B");
    let sets = h264::parse_sprop_parameter_sets(&v.fmtp["sprop-parameter-sets"]).unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0][0] & 0x1f, 7);
    assert_eq!(sets[1][0] & 0x1f, 8);
    assert_eq!(s.address_of(v), Some("127.0.0.1"));
}

/// Written by FFmpeg for MJPEG: static payload type 26, no rtpmap.
#[test]
fn ffmpeg_jpeg_static_payload_type() {
    let s = fixture("ffmpeg_jpeg.sdp");
    let v = s.video().unwrap();
    assert_eq!(
        (v.payload_type(), v.encoding_name.as_str(), v.clock_rate),
        (26, "JPEG", 90_000)
    );
}

/// In the form gst-rtsp-server writes (media-level c=, control and clock
/// attributes, fmtp without spaces, lower-case profile-level-id).
#[test]
fn gstreamer_h264() {
    let s = fixture("gstreamer_h264.sdp");
    assert_eq!(s.connection_address, None);
    let v = s.video().unwrap();
    assert_eq!(s.address_of(v), Some("127.0.0.1"));
    assert_eq!(v.framerate, Some(30.0));
    assert_eq!(v.fmtp["profile-level-id"], "f4000d");
    let sets = h264::parse_sprop_parameter_sets(&v.fmtp["sprop-parameter-sets"]).unwrap();
    assert_eq!(
        h264::profile_level_id(&sets[0])
            .unwrap()
            .to_ascii_lowercase(),
        v.fmtp["profile-level-id"]
    );
    assert!(v
        .attributes
        .iter()
        .any(|(k, val)| k == "control" && val.as_deref() == Some("stream=0")));
    // Unknown attributes survive a write and re-parse.
    let again = SessionDescription::parse(&s.to_string()).unwrap();
    assert_eq!(again, s);
}

#[test]
fn writer_output_for_each_format_parses_back() {
    let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut pay = H264Payloader::new(H264PayloaderConfig::default()).unwrap();
    let au = [
        0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1,
        0x65, 0x88,
    ];
    // Packetizing caches the SPS and PPS for the SDP.
    pay.packetize(NalUnits::AnnexB(&au), 0).unwrap();
    for s in [
        SessionDescription::h264(local, 5004, 96, pay.parameter_sets(), Some(30.0)),
        SessionDescription::jpeg(local, 5006, Some(25.0)),
        SessionDescription::raw(local, 5008, 97, RawFormat::Uyvy, 1280, 720, Some(60.0)),
    ] {
        let text = s.to_string();
        assert!(text.starts_with("v=0\r\no=- "));
        assert!(text.contains("s=framecast\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"));
        let back = SessionDescription::parse(&text).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.video().unwrap().direction, Some(Direction::RecvOnly));
    }
    let h = SessionDescription::h264(local, 5004, 96, pay.parameter_sets(), None).to_string();
    assert!(
        h.contains("profile-level-id=42C01E; sprop-parameter-sets=Z0LAHtk=,aM48gA=="),
        "{h}"
    );
}
