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

/// What the `sdp_parse` fuzz target checks, for one input: whatever
/// parses writes out and parses back to the same value.
fn round_trips(text: &str) -> Option<SessionDescription> {
    let s = SessionDescription::parse(text).ok()?;
    let written = s.to_string();
    let again = SessionDescription::parse(&written)
        .unwrap_or_else(|e| panic!("our output does not parse: {e}\n{written}\nfrom {text:?}"));
    assert_eq!(again, s, "{text:?} -> {written:?}");
    Some(s)
}

/// The reason of an SDP error.
fn reason(text: &str) -> String {
    match SessionDescription::parse(text) {
        Err(Error::Sdp { reason, line, .. }) => format!("line {line}: {reason}"),
        other => panic!("{text:?} should be refused, got {other:?}"),
    }
}

/// Inputs that once broke the parser (found by the `sdp_parse` fuzz target
/// or reported), kept in testdata/fuzz/sdp_parse/: each holds the fuzz
/// target's property, and each is refused now, with a reason.
#[test]
fn fuzz_regressions_are_refused_with_a_reason() {
    let dir = format!("{}/testdata/fuzz/sdp_parse", env!("CARGO_MANIFEST_DIR"));
    let expected = [
        // `c=IN IP4 /` was accepted with an empty address, written back as
        // `c=IN IP4 ` and refused on reading.
        ("connection_slash_only.sdp", "line 4: no address"),
        (
            "connection_unknown_addrtype.sdp",
            "line 4: the address type must be IP4 or IP6",
        ),
        // Joined no group, without a word.
        (
            "multicast_without_ttl.sdp",
            "line 4: the multicast TTL must be a number",
        ),
        // Was ignored: the depayloader then had no parameter sets.
        (
            "sprop_not_base64.sdp",
            "line 8: sprop-parameter-sets is not a list of base64",
        ),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if let Ok(text) = std::str::from_utf8(&data) {
            round_trips(text);
            if let Some((_, want)) = expected.iter().find(|(n, _)| *n == name) {
                let got = reason(text);
                assert!(got.starts_with(want), "{name}: {got}");
            }
        }
        seen += 1;
    }
    assert!(seen >= expected.len(), "{dir} holds {seen} files");
}

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\n";

/// RFC 4566 §5.7: an IPv4 multicast address carries `/ttl`, no other
/// address does, and the address is one.
#[test]
fn connection_lines_follow_the_grammar() {
    let c = |line: &str| format!("{HEAD}{line}\r\nt=0 0\r\n");
    for (line, want) in [
        ("c=IN IP4 /", "no address"),
        ("c=IN X /", "the address type must be IP4 or IP6"),
        ("c=ON IP4 1.2.3.4", "the network type must be IN"),
        (
            "c=IN IP4 239.255.0.1",
            "an IPv4 multicast address needs `/<ttl>`",
        ),
        (
            "c=IN IP4 239.255.0.1/",
            "the multicast TTL must be a number in 0..=255",
        ),
        (
            "c=IN IP4 239.255.0.1/256",
            "the multicast TTL must be a number in 0..=255",
        ),
        (
            "c=IN IP4 239.255.0.1/+5",
            "the multicast TTL must be a number in 0..=255",
        ),
        ("c=IN IP4 239.255.0.1/15/3", "several multicast addresses"),
        ("c=IN IP6 ff15::1/3", "several multicast addresses"),
        (
            "c=IN IP4 127.0.0.1/15",
            "only a multicast address takes `/<ttl>`",
        ),
        ("c=IN IP4 300.1.2.3", "not an IPv4 address"),
        ("c=IN IP4 ::1", "not an IP address or a host name"),
        ("c=IN IP6 127.0.0.1", "not an IPv6 address"),
        ("c=IN IP4", "c= must be `IN IP4|IP6 <address>`"),
    ] {
        let got = reason(&c(line));
        assert!(got.starts_with(&format!("line 4: {want}")), "{line}: {got}");
    }
    let s = round_trips(&c("c=IN IP4 239.255.0.1/15")).unwrap();
    assert_eq!(
        (s.connection_address.as_deref(), s.connection_ttl),
        (Some("239.255.0.1"), Some(15))
    );
    assert!(s.to_string().contains("c=IN IP4 239.255.0.1/15\r\n"));
    for ok in ["c=IN IP6 ff15::1", "c=IN IP6 ::1", "c=IN IP4 example.org"] {
        let s = round_trips(&c(ok)).unwrap_or_else(|| panic!("{ok} refused"));
        assert_eq!(s.connection_ttl, None, "{ok}");
    }
    // What framecast writes for a multicast destination carries a TTL (1,
    // udpsink's ttl-mc default) and so reads back.
    let group: IpAddr = "239.255.0.1".parse().unwrap();
    let text = SessionDescription::jpeg(group, 5004, None).to_string();
    assert!(text.contains("c=IN IP4 239.255.0.1/1\r\n"), "{text}");
    assert_eq!(
        SessionDescription::parse(&text).unwrap().connection_ttl,
        Some(1)
    );
}

/// Numbers are digits, names tokens, and the typed attributes well formed.
#[test]
fn other_lines_follow_the_grammar() {
    let m = |lines: &str| format!("{HEAD}c=IN IP4 127.0.0.1\r\nt=0 0\r\n{lines}");
    for (text, want) in [
        (
            m("m=video +5004 RTP/AVP 96\r\n"),
            "line 6: bad port on m= line",
        ),
        (m("m=video 5004/2 RTP/AVP 96\r\n"), "line 6: several ports"),
        (
            m("m=video 5004 RTP/AVP +96\r\n"),
            "line 6: RTP payload types are 0..=127",
        ),
        (
            m("m=video 5004 RTP//AVP 96\r\n"),
            "line 6: the protocol is not",
        ),
        (
            m("m=vid(eo 5004 RTP/AVP 96\r\n"),
            "line 6: the media type is not a token",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=rtpmap:96 /90000\r\n"),
            "line 7: the rtpmap encoding name",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\n"),
            "line 7: bad rtpmap clock rate",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000/1/2\r\n"),
            "line 7: rtpmap needs",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=fmtp:x a=b\r\n"),
            "line 7: bad fmtp payload type",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=fmtp:96 =b\r\n"),
            "line 7: an fmtp parameter name",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=fmtp:96 sprop-parameter-sets=Z0L!AHg==\r\n"),
            "line 7: sprop-parameter-sets",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=framerate:1e3\r\n"),
            "line 7: bad framerate",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=framerate:0\r\n"),
            "line 7: bad framerate",
        ),
        (
            m("m=video 5004 RTP/AVP 96\r\na=a b\r\n"),
            "line 7: the attribute name is not a token",
        ),
        (m("a=\r\n"), "line 6: the attribute name is not a token"),
        (m("a=x\rb\r\n"), "line 6: a CR or NUL inside a line"),
        (
            "v=0\r\no=- x 1 IN IP4 h\r\ns=x\r\n".into(),
            "line 2: o= session id is not a number",
        ),
        (
            "v=0\r\no=- 1 1 IN IP5 h\r\ns=x\r\n".into(),
            "line 2: the address type must be IP4 or IP6",
        ),
        ("v= 0\r\n".into(), "line 1: an SDP starts with v=0"),
    ] {
        let got = reason(&text);
        assert!(got.starts_with(want), "{text:?}: {got}");
    }
    // A long bad line is cut in the message.
    let long = m(&format!("a={}\r\n", "(".repeat(100_000))[..60_000]);
    let e = SessionDescription::parse(&long).unwrap_err().to_string();
    assert!(e.len() < 400, "{} bytes", e.len());
    // Over 64 KiB is not an SDP.
    let huge = format!("{HEAD}{}", "a=tool:x\r\n".repeat(7000));
    assert_eq!(
        reason(&huge),
        "line 0: larger than 64 KiB: not a session description"
    );
    // Trailing blanks are tolerated and a valid file still round-trips.
    let s = round_trips(&m(
        "m=video 5004 RTP/AVP 96 \r\na=rtpmap:96 H264/90000\r\na=framerate:29.97\t\r\n",
    ))
    .unwrap();
    assert_eq!(s.video().unwrap().framerate, Some(29.97));
}

mod round_trip {
    use super::round_trips;
    use proptest::prelude::*;

    /// Pieces SDP lines are made of, the tricky ones included: addresses
    /// with and without `/ttl`, separators, signs, base64 good and bad.
    const PIECES: &[&str] = &[
        "IN",
        "IP4",
        "IP6",
        "X",
        "127.0.0.1",
        "239.255.0.1",
        "239.255.0.1/15",
        "239.1.2.3/",
        "/",
        "::1",
        "ff15::1",
        "ff15::1/2",
        "host",
        "1.2.3",
        "0",
        "96",
        "+96",
        "128",
        "5004",
        "5004/2",
        "65536",
        "video",
        "RTP/AVP",
        "RTP/",
        "H264/90000",
        "JPEG/90000/1",
        "raw/0",
        "rtpmap:96",
        "fmtp:96",
        "framerate:30",
        "framerate:29.97",
        "recvonly",
        "tool:x",
        "packetization-mode=1;",
        "sprop-parameter-sets=Z0LAHg==,aM4=",
        "sprop-parameter-sets=!!",
        "a=b",
        "=",
        ";",
        ":",
        " ",
        "",
        "-",
        "é",
        "\t",
    ];

    fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        prop::sample::select(pool)
    }

    const ADDRESSES: &[&str] = &[
        "127.0.0.1",
        "239.255.0.1",
        "239.255.0.1/15",
        "239.255.0.1/",
        "239.255.0.1/15/2",
        "127.0.0.1/3",
        "/",
        "",
        "::1",
        "ff15::1",
        "ff15::1/2",
        "host",
        "1.2.3",
        "300.0.0.1",
    ];
    const TYPES: &[&str] = &["IP4", "IP6", "X", ""];
    const NUMBERS: &[&str] = &[
        "0", "96", "+96", "127", "128", "5004", "5004/2", "65536", "x", "",
    ];
    const VALUES: &[&str] = &[
        "96 H264/90000",
        "96 JPEG/90000/1",
        "96 raw/0",
        "96 /90000",
        "26 JPEG/90000",
        "97 x/1",
        "96 packetization-mode=1; sprop-parameter-sets=Z0LAHg==,aM4=",
        "96 sprop-parameter-sets=!!",
        "96 a==b;;c",
        "96 =x",
        "96",
        "30",
        "29.97",
        "1e3",
        "0",
        "x",
        " x ",
        "",
    ];
    const NAMES: &[&str] = &["rtpmap", "fmtp", "framerate", "recvonly", "tool", "a b", ""];

    /// One line: a grammar-shaped `o=`, `c=`, `m=` or `a=` with fields
    /// from small pools (so that near misses such as `c=IN IP4 /` come up
    /// often), or any pieces after any type letter.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            (pick(NUMBERS), pick(TYPES), pick(ADDRESSES))
                .prop_map(|(n, t, a)| format!("o=- {n} 1 IN {t} {a}")),
            (pick(&["IN", "ON", ""]), pick(TYPES), pick(ADDRESSES))
                .prop_map(|(n, t, a)| format!("c={n} {t} {a}")),
            (
                pick(&["video", "vid(eo", ""]),
                pick(NUMBERS),
                pick(&["RTP/AVP", "RTP/", "UDP"]),
                pick(NUMBERS)
            )
                .prop_map(|(m, p, proto, f)| format!("m={m} {p} {proto} {f}")),
            (pick(NAMES), pick(&[":", ""]), pick(VALUES))
                .prop_map(|(n, sep, v)| format!("a={n}{sep}{v}")),
            (
                prop::sample::select(vec!['v', 'o', 's', 'c', 't', 'm', 'a', 'b', 'i']),
                prop::collection::vec(pick(PIECES), 0..7),
            )
                .prop_map(|(kind, pieces)| format!("{kind}={}", pieces.join(" "))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Grammar-shaped random SDPs behind a valid head: whatever the
        /// parser accepts, it writes so that it parses back the same.
        #[test]
        fn whatever_parses_round_trips(lines in prop::collection::vec(line(), 0..12), crlf in any::<bool>()) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("v=0{eol}o=- 1 1 IN IP4 127.0.0.1{eol}s=x{eol}");
            for l in &lines {
                text.push_str(l);
                text.push_str(eol);
            }
            round_trips(&text);
        }
    }
}
