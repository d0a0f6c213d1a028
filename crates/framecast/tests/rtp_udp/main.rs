//! RTP and UDP elements end to end over 127.0.0.1: payloaders into
//! `udpsink`, `udpsrc` into depayloaders, frames compared exactly (raw)
//! or by their counter stamp (codecs); a lossy, reordering relay in front
//! of `rtpjitterbuffer`; a client that is not listening; SDP files; and
//! GStreamer receiving what framecast sends.
//!
//! Every socket here is bound to or sends to 127.0.0.1 only, and every
//! wait is bounded in time.

use framecast_test_support::interop;
use framecast_test_support::pipelines::{element, launch, uint};
use framecast_test_support::ports::free_port;
use interop::{spawn, tool_available, KillOnDrop};

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::elements::video::frame::row_bytes;
use framecast::elements::video::{decode_counter, decode_counter_buffer, frame_layout, Frame};
use framecast::pipeline::Caps;
use framecast::{
    make_element, Buffer, BufferFlags, ClockTime, Message, Pipeline, State, VideoInfo,
};

const W: u32 = 64;
const H: u32 = 48;

const RAW_RTP_CAPS: &str = "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,\
     sampling=YCbCr-4:2:0,depth=(string)8,width=(string)64,height=(string)48,payload=96";

/// Starts a receiver whose `udpsrc` is named `src` and binds port 0; returns
/// it and the port it got.
fn start_receiver(description: &str) -> (Pipeline, u16) {
    let p = launch(description);
    p.set_state(State::Playing).expect("receiver to Playing");
    let port = element(&p, "src")
        .property("port")
        .expect("port")
        .as_i64()
        .and_then(|v| u16::try_from(v).ok())
        .expect("bound port");
    assert_ne!(port, 0);
    (p, port)
}

/// Pulls samples from appsink `name` until `n` came or `timeout` passed.
fn pull(p: &Pipeline, name: &str, n: usize, timeout: Duration) -> Vec<(Buffer, Option<Caps>)> {
    let sink_el = element(p, name);
    let sink = AppSink::from_element(&sink_el).expect("appsink");
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match sink.pull_sample(Some(left.min(Duration::from_millis(200)))) {
            Some(s) => out.push((s.buffer, s.caps.as_deref().cloned())),
            None if sink.is_eos() => break,
            None => {}
        }
    }
    out
}

/// Waits for EOS (or an error, which fails the test).
fn wait_eos(p: &Pipeline, timeout: Duration) {
    let msg = p.bus().timed_pop_filtered(Some(timeout), |m| {
        matches!(m, Message::Eos | Message::Error { .. })
    });
    assert!(
        matches!(msg, Some(Message::Eos)),
        "expected EOS, got {msg:?}"
    );
}

/// No error message is waiting on the bus.
fn assert_no_error(p: &Pipeline) {
    let err = p
        .bus()
        .timed_pop_filtered(Some(Duration::ZERO), |m| matches!(m, Message::Error { .. }));
    assert!(err.is_none(), "error on the bus: {err:?}");
}

/// The visible pixels of a raw frame, plane after plane, row after row.
fn visible(buffer: &Buffer, info: &VideoInfo) -> Vec<u8> {
    let layout = frame_layout(buffer, info).expect("layout");
    let map = buffer.map_readable().expect("map");
    let data = map.contiguous();
    let frame = Frame::new(layout, &data).expect("frame");
    let mut out = Vec::new();
    for plane in 0..layout.n_planes {
        let rb = row_bytes(&layout, plane);
        let rows = layout.comp_height(plane) as usize;
        let p = frame.plane(plane);
        for r in 0..rows {
            out.extend_from_slice(&p[r * layout.stride[plane]..][..rb]);
        }
    }
    out
}

fn info_of(caps: &Option<Caps>) -> VideoInfo {
    caps.as_ref().expect("caps").video_info().expect("raw caps")
}

/// Frame number -> visible bytes.
fn by_counter(frames: &[(Buffer, Option<Caps>)]) -> BTreeMap<u64, Vec<u8>> {
    let mut out = BTreeMap::new();
    for (b, c) in frames {
        let info = info_of(c);
        if let Some(stamp) = decode_counter_buffer(b, &info) {
            out.insert(stamp.frame, visible(b, &info));
        }
    }
    out
}

/// A live counter pattern, `n` frames, split by a tee into the network
/// branch `net` and a reference appsink `ref`.
fn sender(n: u32, caps: &str, net: &str) -> Pipeline {
    launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers={n} ! {caps} ! tee name=t \
         t. ! queue ! {net} \
         t. ! queue ! appsink name=ref sync=false max-buffers=0"
    ))
}

#[test]
fn raw_video_arrives_exactly() {
    let n: u32 = 30;
    let (rx, port) = start_receiver(&format!(
        "udpsrc name=src port=0 address=127.0.0.1 caps=\"{RAW_RTP_CAPS}\" ! rtpvrawdepay name=depay \
         ! appsink name=sink sync=false max-buffers=0"
    ));
    let tx = sender(
        n,
        "video/x-raw,width=64,height=48,framerate=50/1 ! videoconvert ! video/x-raw,format=I420",
        &format!("rtpvrawpay name=pay ! udpsink name=net host=127.0.0.1 port={port}"),
    );
    tx.set_state(State::Playing).unwrap();
    let sent = pull(&tx, "ref", n as usize, Duration::from_secs(10));
    wait_eos(&tx, Duration::from_secs(10));
    let got = pull(&rx, "sink", n as usize, Duration::from_secs(5));
    let net = element(&tx, "net");
    let pay = element(&tx, "pay");
    let depay = element(&rx, "depay");
    assert_eq!(sent.len(), n as usize);
    assert_eq!(got.len(), n as usize, "frames received");
    let sent = by_counter(&sent);
    let got_frames = by_counter(&got);
    assert_eq!(sent.len(), n as usize);
    assert_eq!(
        got_frames.keys().collect::<Vec<_>>(),
        sent.keys().collect::<Vec<_>>()
    );
    for (k, v) in &sent {
        assert!(got_frames[k] == *v, "frame {k} differs");
    }
    // 64x48 I420 = 4608 bytes: 4 packets of at most 1400 bytes per frame,
    // sent in one sendmmsg per frame.
    assert_eq!(uint(&pay, "packets-sent"), 4 * u64::from(n));
    assert_eq!(uint(&net, "packets-sent"), 4 * u64::from(n));
    assert!(
        uint(&net, "batches") <= u64::from(n),
        "{}",
        uint(&net, "batches")
    );
    assert!(uint(&net, "rtcp-sent") >= 1);
    assert_eq!(uint(&depay, "packets-lost"), 0);
    assert_eq!(uint(&depay, "frames-out"), u64::from(n));
    for (b, _) in &got {
        assert!(!b.flags().contains(BufferFlags::CORRUPTED));
        assert!(b.pts().is_some());
    }
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
}

#[test]
fn multicast_on_the_loopback_interface_arrives_exactly() {
    // An administratively scoped group (RFC 2365), TTL 0 and the loopback
    // interface on both ends: nothing leaves this host.
    let group = format!(
        "239.255.{}.{}",
        std::process::id() % 250,
        1 + (std::process::id() / 250) % 250
    );
    let port = free_port();
    let n: u32 = 20;
    let dir = tmp_dir("mcast-sdp");
    let sdp = dir.join("mcast.sdp");
    let rx = launch(&format!(
        "udpsrc name=src address={group} port={port} multicast-iface=lo caps=\"{RAW_RTP_CAPS}\" \
         ! rtpvrawdepay name=depay ! appsink name=sink sync=false max-buffers=0"
    ));
    rx.set_state(State::Playing).unwrap();
    let tx = sender(
        n,
        "video/x-raw,width=64,height=48,framerate=50/1 ! videoconvert ! video/x-raw,format=I420",
        &format!(
            "rtpvrawpay ! udpsink name=net host={group} port={port} multicast-iface=127.0.0.1 ttl-mc=0 loop=true \
             sdp-file=\"{}\"",
            sdp.display()
        ),
    );
    tx.set_state(State::Playing).unwrap();
    let sent = by_counter(&pull(&tx, "ref", n as usize, Duration::from_secs(10)));
    wait_eos(&tx, Duration::from_secs(10));
    // The SDP names the group with the TTL the datagrams carry (RFC 4566
    // requires it on an IPv4 multicast c=), and reads back.
    let text = std::fs::read_to_string(&sdp).expect("SDP written");
    assert!(text.contains(&format!("c=IN IP4 {group}/0\r\n")), "{text}");
    let back = framecast::elements::net::read_sdp_file(&sdp).expect("our SDP reads back");
    assert_eq!(back.connection_ttl, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
    let got = by_counter(&pull(&rx, "sink", n as usize, Duration::from_secs(5)));
    assert_eq!(got.len(), n as usize, "frames received over multicast");
    for (k, v) in &sent {
        assert!(got.get(k) == Some(v), "frame {k} differs or is missing");
    }
    assert_no_error(&tx);
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
    // A name that is no interface is a clear error, not a silent default.
    let bad = launch(&format!(
        "udpsrc address={group} port={port} multicast-iface=no-such-if0 ! fakesink"
    ));
    let err = bad.set_state(State::Playing).err().map(|e| e.to_string());
    let posted = bad
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(2)), |m| {
            matches!(m, framecast::Message::Error { .. })
        });
    let text = match (err, posted) {
        (Some(e), _) => e,
        (None, Some(framecast::Message::Error { message, debug, .. })) => {
            format!("{message} {debug:?}")
        }
        _ => String::new(),
    };
    assert!(text.contains("no-such-if0"), "{text:?}");
    let _ = bad.set_state(State::Null);
}

#[test]
fn rtcp_sender_reports_reach_port_plus_one() {
    // Listen on P (RTP) and P+1 (RTCP) with plain sockets.
    let (rtp, rtcp) = (0..50)
        .find_map(|_| {
            let a = UdpSocket::bind("127.0.0.1:0").ok()?;
            let p = a.local_addr().ok()?.port();
            let b = UdpSocket::bind(("127.0.0.1", p.checked_add(1)?)).ok()?;
            Some((a, b))
        })
        .expect("two adjacent ports");
    rtcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = rtp.local_addr().unwrap().port();
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers=10 ! video/x-raw,format=I420,width=64,height=48,framerate=50/1 \
         ! rtpvrawpay ssrc=0x1234 ! udpsink host=127.0.0.1 port={port}"
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(10));
    let mut buf = [0u8; 1500];
    let mut kinds = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !kinds.contains(&203u8) {
        let Ok(n) = rtcp.recv(&mut buf) else { break };
        for p in framecast_rtp::rtcp::parse_compound(&buf[..n]) {
            let p = p.expect("valid RTCP");
            if let framecast_rtp::rtcp::RtcpPacket::SenderReport(sr, _) = &p {
                assert_eq!(sr.ssrc, 0x1234);
                assert!(sr.packet_count > 0);
            }
            kinds.push(p.packet_type());
        }
    }
    assert!(kinds.contains(&200), "no sender report: {kinds:?}");
    assert!(kinds.contains(&202), "no SDES: {kinds:?}");
    assert!(kinds.contains(&203), "no BYE at EOS: {kinds:?}");
    tx.set_state(State::Null).unwrap();
}

#[test]
fn a_client_on_port_65535_gets_rtp_and_no_rtcp_to_port_0() {
    // Port 65535 has no RTCP port above it: reports must not go to port 0
    // (where every send fails). A second client shows reports still flow.
    let Ok(top) = UdpSocket::bind("127.0.0.1:65535") else {
        eprintln!("port 65535 is taken here; skipped");
        return;
    };
    let port = free_port();
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers=10 ! video/x-raw,format=I420,width=64,height=48,framerate=50/1 \
         ! rtpvrawpay ! udpsink name=net clients=127.0.0.1:65535,127.0.0.1:{port}"
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(10));
    let net = element(&tx, "net");
    assert_eq!(uint(&net, "send-errors"), 0);
    assert!(
        uint(&net, "rtcp-sent") > 0,
        "reports still go to the other client"
    );
    top.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 2048];
    assert!(top.recv(&mut buf).is_ok(), "RTP reaches port 65535");
    assert_no_error(&tx);
    tx.set_state(State::Null).unwrap();
}

#[test]
fn unreachable_client_never_stops_the_stream() {
    let port = free_port(); // nobody listens here
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers=20 ! video/x-raw,format=I420,width=64,height=48,framerate=100/1 \
         ! rtpvrawpay ! udpsink name=net clients=127.0.0.1:{port},127.0.0.1:{port}"
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(10));
    let net = element(&tx, "net");
    assert_eq!(
        uint(&net, "packets-sent") + uint(&net, "send-errors"),
        2 * 4 * 20
    );
    assert!(uint(&net, "packets-sent") > 0);
    assert_no_error(&tx);
    tx.set_state(State::Null).unwrap();
}

#[test]
fn sdp_file_describes_the_stream_and_udpsrc_reads_it() {
    let dir = std::env::temp_dir().join(format!("framecast-rtp-udp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sdp = dir.join("raw.sdp");
    let port = free_port();
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers=3 ! video/x-raw,format=I420,width=64,height=48,framerate=25/1 \
         ! rtpvrawpay ! udpsink host=127.0.0.1 port={port} sdp-file=\"{}\"",
        sdp.display()
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(10));
    tx.set_state(State::Null).unwrap();
    let text = std::fs::read_to_string(&sdp).expect("SDP written");
    assert!(
        text.contains(&format!("m=video {port} RTP/AVP 96")),
        "{text}"
    );
    assert!(text.contains("c=IN IP4 127.0.0.1"), "{text}");
    assert!(text.contains("a=rtpmap:96 raw/90000"), "{text}");
    assert!(text.contains("sampling=YCbCr-4:2:0"), "{text}");
    assert!(text.contains("width=64"), "{text}");
    assert!(text.contains("a=framerate:25"), "{text}");

    // udpsrc takes caps and port from it.
    let rx = launch(&format!(
        "udpsrc name=src address=127.0.0.1 sdp-file=\"{}\" ! rtpvrawdepay ! appsink name=sink sync=false max-buffers=0",
        sdp.display()
    ));
    rx.set_state(State::Playing).unwrap();
    let src = element(&rx, "src");
    assert_eq!(
        src.property("port").unwrap().as_i64(),
        Some(i64::from(port))
    );
    let tx = sender(
        5,
        "video/x-raw,format=I420,width=64,height=48,framerate=50/1",
        &format!("rtpvrawpay ! udpsink host=127.0.0.1 port={port}"),
    );
    tx.set_state(State::Playing).unwrap();
    let got = pull(&rx, "sink", 5, Duration::from_secs(5));
    assert_eq!(got.len(), 5);
    let info = info_of(&got[0].1);
    assert_eq!((info.width, info.height), (W, H));
    assert_eq!(info.fps.num, 25, "a-framerate from the SDP");
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn udpsrc_timeout_posts_an_element_message() {
    let rx = launch("udpsrc name=src port=0 address=127.0.0.1 timeout=50000000 ! fakesink");
    rx.set_state(State::Playing).unwrap();
    let msg = rx
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(5)), |m| {
            matches!(m, Message::Element { .. })
        });
    match msg {
        Some(Message::Element { source, structure }) => {
            assert_eq!(source, "src");
            assert_eq!(structure.name(), "GstUDPSrcTimeout");
        }
        other => panic!("no timeout message: {other:?}"),
    }
    // Stopping a source blocked in poll is immediate.
    let t = Instant::now();
    rx.set_state(State::Null).unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
}

/// A second receiver on a unicast port is refused, naming the port, instead
/// of silently taking the stream over (two `SO_REUSEADDR` sockets on one
/// Linux port: the newer one gets every datagram); `reuse=true` on both
/// shares it on request, and a multicast group is always shared.
#[test]
fn a_second_udpsrc_on_a_unicast_port_is_refused_unless_reuse() {
    let (first, port) = start_receiver("udpsrc name=src port=0 address=127.0.0.1 ! fakesink");
    let second = launch(&format!(
        "udpsrc name=src port={port} address=127.0.0.1 ! fakesink"
    ));
    let err = second
        .set_state(State::Playing)
        .expect_err("a second receiver on the port must fail");
    let bus_error = second
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(1)), |m| {
            matches!(m, Message::Error { .. })
        });
    let text = format!("{err} / {bus_error:?}");
    assert!(
        text.contains(&format!("port {port} is in use by another process")),
        "{text}"
    );
    second.set_state(State::Null).unwrap();
    // What `framecast receive --port` runs says the same.
    let receiver = framecast::receiver::Receiver::builder()
        .port(port)
        .address("127.0.0.1")
        .codec(framecast::sender::Codec::Jpeg)
        .build()
        .map(|_| ())
        .expect_err("a second Receiver on the port must fail")
        .to_string();
    assert!(
        receiver.contains(&format!("port {port} is in use by another process")),
        "{receiver}"
    );
    first.set_state(State::Null).unwrap();

    // Both asking for reuse: both start.
    let (a, port) =
        start_receiver("udpsrc name=src port=0 address=127.0.0.1 reuse=true ! fakesink");
    let b = launch(&format!(
        "udpsrc name=src port={port} address=127.0.0.1 reuse=true ! fakesink"
    ));
    b.set_state(State::Playing)
        .expect("reuse=true shares the port");
    b.set_state(State::Null).unwrap();
    a.set_state(State::Null).unwrap();

    // Multicast: two receivers of one group share the port by default.
    let port = free_port();
    let group = |name: &str| {
        launch(&format!(
            "udpsrc name={name} port={port} address=239.255.42.99 multicast-iface=lo ! fakesink"
        ))
    };
    let (m1, m2) = (group("m1"), group("m2"));
    m1.set_state(State::Playing)
        .expect("first multicast receiver");
    m2.set_state(State::Playing)
        .expect("a second receiver of the group shares the port");
    m2.set_state(State::Null).unwrap();
    m1.set_state(State::Null).unwrap();
}

fn tmp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("framecast-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn have(factory: &str) -> bool {
    make_element(factory, None).is_ok()
}

mod codecs;
mod loss;
mod robustness;
mod with_tools;
