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

// ---- loss and reordering ------------------------------------------------

/// What the relay did.
#[derive(Debug, Default)]
struct RelayStats {
    forwarded: u64,
    dropped: u64,
    reordered: u64,
}

/// Forwards datagrams from `rx` to `to` until `stop` or 20 s, dropping
/// about 5 % and swapping about 5 % with the next one (a fixed-seed
/// generator, so every run loses the same packets).
fn relay(
    rx: UdpSocket,
    to: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> RelayStats {
    use std::sync::atomic::Ordering;
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % 100
    };
    let mut stats = RelayStats::default();
    let mut held: Option<Vec<u8>> = None;
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let n = match rx.recv(&mut buf) {
            Ok(n) => n,
            Err(_) => {
                if let Some(h) = held.take() {
                    let _ = tx.send_to(&h, ("127.0.0.1", to));
                    stats.forwarded += 1;
                }
                continue;
            }
        };
        let r = rand();
        if r < 5 {
            stats.dropped += 1;
            continue;
        }
        if r < 10 && held.is_none() {
            held = Some(buf[..n].to_vec());
            stats.reordered += 1;
            continue;
        }
        let _ = tx.send_to(&buf[..n], ("127.0.0.1", to));
        stats.forwarded += 1;
        if let Some(h) = held.take() {
            let _ = tx.send_to(&h, ("127.0.0.1", to));
            stats.forwarded += 1;
        }
    }
    stats
}

#[test]
fn jitterbuffer_reorders_and_counts_loss_behind_a_lossy_relay() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let n: u32 = 100;
    let (rx, port) = start_receiver(&format!(
        "udpsrc name=src port=0 address=127.0.0.1 caps=\"{RAW_RTP_CAPS}\" \
         ! rtpjitterbuffer name=jb latency=30 ! rtpvrawdepay name=depay \
         ! appsink name=sink sync=false max-buffers=0"
    ));
    let relay_in = UdpSocket::bind("127.0.0.1:0").unwrap();
    let relay_port = relay_in.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let relay_thread = {
        let stop = stop.clone();
        std::thread::spawn(move || relay(relay_in, port, stop))
    };
    let tx = sender(
        n,
        "video/x-raw,format=I420,width=64,height=48,framerate=100/1",
        &format!("rtpvrawpay ! udpsink host=127.0.0.1 port={relay_port}"),
    );
    tx.set_state(State::Playing).unwrap();
    let sent = pull(&tx, "ref", n as usize, Duration::from_secs(10));
    wait_eos(&tx, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let stats = relay_thread.join().expect("relay");
    let got = pull(&rx, "sink", n as usize, Duration::from_millis(500));
    let jb = element(&rx, "jb");
    let depay = element(&rx, "depay");
    let lost = uint(&jb, "num-lost");
    eprintln!(
        "relay {stats:?}; jitterbuffer pushed {} lost {lost} late {} dup {}; depay frames {} lost {}",
        uint(&jb, "num-pushed"),
        uint(&jb, "num-late"),
        uint(&jb, "num-duplicates"),
        uint(&depay, "frames-out"),
        uint(&depay, "packets-lost"),
    );
    assert!(stats.dropped > 0 && stats.reordered > 0, "{stats:?}");
    // Every drop but a trailing one is declared lost; reordered packets
    // are put back, not counted as lost or late.
    assert!(
        lost > 0 && lost <= stats.dropped,
        "lost {lost}, relay {stats:?}"
    );
    assert!(lost + 2 >= stats.dropped, "lost {lost}, relay {stats:?}");
    assert_eq!(uint(&jb, "num-late"), 0);
    assert_eq!(uint(&depay, "packets-lost"), lost);
    // Frames keep coming after losses, and complete ones are exact.
    let sent = by_counter(&sent);
    let mut complete = 0;
    let mut last_frame = 0;
    for (b, c) in &got {
        if b.flags().contains(BufferFlags::CORRUPTED) {
            continue;
        }
        let info = info_of(c);
        let stamp = decode_counter_buffer(b, &info).expect("complete frame has its stamp");
        assert!(
            sent[&stamp.frame] == visible(b, &info),
            "frame {} differs",
            stamp.frame
        );
        complete += 1;
        last_frame = last_frame.max(stamp.frame);
    }
    assert!(
        complete >= n as usize / 2,
        "{complete} complete frames of {n}"
    );
    assert!(
        last_frame >= u64::from(n) - 10,
        "frames resumed up to {last_frame}"
    );
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
}

// ---- robustness ---------------------------------------------------------

/// Pushes `packets` through `appsrc caps=<caps> ! <chain> ! fakesink`;
/// nothing may panic and no error may reach the bus.
fn feed(caps: &str, chain: &str, packets: &[Vec<u8>]) {
    let p = launch(&format!(
        "appsrc name=in caps=\"{caps}\" max-buffers=0 ! {chain} ! fakesink sync=false"
    ));
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    for pkt in packets {
        let b = Buffer::from_slice(pkt).unwrap();
        let _ = src.push_buffer(b);
    }
    let _ = src.end_of_stream();
    wait_eos(&p, Duration::from_secs(10));
    assert_no_error(&p);
    p.set_state(State::Null).unwrap();
}

fn h264_caps() -> String {
    "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264".into()
}

fn jpeg_caps() -> String {
    "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26".into()
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// An RTP-looking packet: a valid fixed header (sometimes), then
    /// arbitrary bytes; sequence numbers near each other so that
    /// reassembly paths run.
    fn packet() -> impl Strategy<Value = Vec<u8>> {
        (
            any::<bool>(),
            any::<bool>(),
            0u16..8,
            0u32..4,
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(valid, marker, seq, ts, body)| {
                if !valid {
                    return body;
                }
                let mut p = vec![0x80, (u8::from(marker) << 7) | 96];
                p.extend_from_slice(&seq.to_be_bytes());
                p.extend_from_slice(&(ts * 3000).to_be_bytes());
                p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
                p.extend_from_slice(&body);
                p
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn depayloaders_survive_random_packets(
            packets in proptest::collection::vec(packet(), 0..60)
        ) {
            feed(&h264_caps(), "rtpjitterbuffer latency=5 ! rtph264depay", &packets);
            feed(&jpeg_caps(), "rtpjpegdepay", &packets);
            feed(RAW_RTP_CAPS, "rtpvrawdepay", &packets);
        }
    }
}

#[test]
fn h264_depay_puts_sdp_parameter_sets_before_an_idr_that_lacks_them() {
    let p = launch(
        "appsrc name=in caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,\
         sprop-parameter-sets=(string)\\\"Z0LAHtkA,aM48gA==\\\"\" \
         ! rtph264depay ! appsink name=sink sync=false max-buffers=0",
    );
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    // One IDR slice as a single NAL unit packet, marker set.
    let mut pkt = vec![0x80, 0x80 | 96, 0, 1, 0, 0, 0x0b, 0xb8, 0, 0, 0, 7];
    pkt.extend_from_slice(&[0x65, 0x88, 0x84, 0x21]);
    let _ = src.push_buffer(Buffer::from_slice(&pkt).unwrap());
    let got = pull(&p, "sink", 1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    let map = got[0].0.map_readable().unwrap();
    let data = map.contiguous();
    let mut expected = vec![0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00];
    expected.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
    expected.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21]);
    assert_eq!(&data[..], &expected[..]);
    assert!(!got[0].0.flags().contains(BufferFlags::DELTA_UNIT));
    p.set_state(State::Null).unwrap();
}

/// Pushes `packets` (with PTS 10 ms, 20 ms, ...) into `appsrc caps=<caps>
/// ! <depay> name=depay ! appsink`, ends the stream, and returns what the
/// sink got and the depayloader's `frames-out` and `frames-discarded`.
fn depayload_to_eos(caps: &str, depay: &str, packets: &[Vec<u8>]) -> (Vec<Buffer>, u64, u64) {
    let p = launch(&format!(
        "appsrc name=in caps=\"{caps}\" max-buffers=0 ! {depay} name=depay \
         ! appsink name=sink sync=false max-buffers=0"
    ));
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    for (i, pkt) in packets.iter().enumerate() {
        let mut b = Buffer::from_slice(pkt).unwrap();
        b.get_mut()
            .unwrap()
            .set_pts(Some(ClockTime::from_mseconds(10 * (i as u64 + 1))));
        src.push_buffer(b).unwrap();
    }
    src.end_of_stream().unwrap();
    let sink_el = element(&p, "sink");
    let sink = AppSink::from_element(&sink_el).unwrap();
    let mut got = Vec::new();
    while let Some(sample) = sink.pull_sample(Some(Duration::from_secs(5))) {
        got.push(sample.buffer);
    }
    wait_eos(&p, Duration::from_secs(5));
    assert_no_error(&p);
    let depay = element(&p, "depay");
    let counts = (uint(&depay, "frames-out"), uint(&depay, "frames-discarded"));
    p.set_state(State::Null).unwrap();
    (got, counts.0, counts.1)
}

#[test]
fn h264_depay_sends_the_last_access_unit_at_eos_like_any_other() {
    // A P slice whose packet lacks the marker bit: only end-of-stream
    // finishes its access unit. It must come out stamped and counted.
    let mut idr = vec![0x80, 0x80 | 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7];
    idr.extend_from_slice(&[0x65, 0x88, 0x84, 0x21]);
    let mut last = vec![0x80, 96, 0, 2, 0, 0, 0x0b, 0xb8, 0, 0, 0, 7];
    last.extend_from_slice(&[0x41, 0x9a, 0x02]);
    let (got, out, discarded) = depayload_to_eos(&h264_caps(), "rtph264depay", &[idr, last]);
    assert_eq!((got.len(), out, discarded), (2, 2, 0));
    assert_eq!(got[1].pts(), Some(ClockTime::from_mseconds(20)));
    assert!(got[1].flags().contains(BufferFlags::DELTA_UNIT));
    let map = got[1].map_readable().unwrap();
    assert_eq!(&map.contiguous()[..], &[0, 0, 0, 1, 0x41, 0x9a, 0x02]);
}

#[test]
fn h264_depay_forgets_an_access_unit_in_progress_at_a_flush() {
    let p = launch(&format!(
        "appsrc name=in caps=\"{}\" max-buffers=0 ! rtph264depay name=depay \
         ! appsink name=sink sync=false max-buffers=0",
        h264_caps()
    ));
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    // An IDR slice whose packet lacks the marker: in progress at the flush.
    let mut pkt = vec![0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7];
    pkt.extend_from_slice(&[0x65, 0x88, 0x84, 0x21]);
    src.push_buffer(Buffer::from_slice(&pkt).unwrap()).unwrap();
    let out = src_el.src_pad().unwrap();
    // Let the queued packet through before flushing behind it.
    std::thread::sleep(Duration::from_millis(200));
    out.push_event(framecast::Event::FlushStart);
    out.push_event(framecast::Event::FlushStop { reset_time: false });
    src.end_of_stream().unwrap();
    wait_eos(&p, Duration::from_secs(5));
    let depay = element(&p, "depay");
    assert_eq!(uint(&depay, "packets-received"), 1);
    assert_eq!(
        uint(&depay, "frames-out"),
        0,
        "the pre-flush access unit came out"
    );
    p.set_state(State::Null).unwrap();
}

#[test]
fn vraw_depay_sends_a_frame_that_lost_its_marker_at_eos_flagged() {
    // 8x2 RGB in two packets of one line each; the second (the marker)
    // is lost, so end-of-stream has to end the frame.
    let caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,\
                sampling=RGB,depth=(string)8,width=(string)8,height=(string)2";
    let line = |seq: u8, y: u8, marker: bool| {
        let mut p = vec![
            0x80,
            (u8::from(marker) << 7) | 96,
            0,
            seq,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            9,
        ];
        // Extended seq, then length 24, line y (F=0), offset 0 (C=0).
        p.extend_from_slice(&[0, 0, 0, 24, 0, y, 0, 0]);
        p.extend(std::iter::repeat_n(0x40 + y, 24));
        p
    };
    let (got, out, discarded) = depayload_to_eos(caps, "rtpvrawdepay", &[line(1, 0, false)]);
    assert_eq!((got.len(), out, discarded), (1, 1, 1));
    assert!(got[0].flags().contains(BufferFlags::CORRUPTED));
    assert_eq!(got[0].pts(), Some(ClockTime::from_mseconds(10)));
    let map = got[0].map_readable().unwrap();
    assert_eq!(&map.contiguous()[..24], &[0x40; 24][..]);
}

// ---- codecs (when the encoders exist) ----------------------------------

fn have(factory: &str) -> bool {
    make_element(factory, None).is_ok()
}

#[test]
fn jpeg_frames_arrive_with_their_counters() {
    if !have("jpegenc") || !have("jpegdec") {
        eprintln!("skipping: jpegenc/jpegdec not built");
        return;
    }
    let n: u32 = 20;
    let (rx, port) = start_receiver(
        "udpsrc name=src port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26\" \
         ! rtpjpegdepay name=depay ! jpegdec ! appsink name=sink sync=false max-buffers=0",
    );
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers={n} \
         ! video/x-raw,format=I420,width=320,height=240,framerate=50/1 \
         ! jpegenc ! rtpjpegpay ! udpsink host=127.0.0.1 port={port}"
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(15));
    let got = pull(&rx, "sink", n as usize, Duration::from_secs(5));
    let frames: Vec<u64> = got
        .iter()
        .filter_map(|(b, c)| decode_counter_buffer(b, &info_of(c)).map(|s| s.frame))
        .collect();
    assert_eq!(frames, (0..u64::from(n)).collect::<Vec<_>>());
    assert_eq!(uint(&element(&rx, "depay"), "packets-lost"), 0);
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
}

#[test]
fn h264_frames_arrive_with_their_counters_and_sdp() {
    if !have("openh264enc") || !have("openh264dec") {
        eprintln!("skipping: openh264enc/openh264dec not built");
        return;
    }
    let n: u32 = 30;
    let dir = std::env::temp_dir().join(format!("framecast-rtp-h264-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sdp: PathBuf = dir.join("h264.sdp");
    let (rx, port) = start_receiver(
        "udpsrc name=src port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtph264depay name=depay ! openh264dec ! appsink name=sink sync=false max-buffers=0",
    );
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers={n} \
         ! video/x-raw,format=I420,width=320,height=240,framerate=50/1 \
         ! openh264enc ! rtph264pay name=pay ! udpsink host=127.0.0.1 port={port} sdp-file=\"{}\"",
        sdp.display()
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(20));
    let got = pull(&rx, "sink", n as usize, Duration::from_secs(5));
    let frames: Vec<u64> = got
        .iter()
        .filter_map(|(b, c)| decode_counter_buffer(b, &info_of(c)).map(|s| s.frame))
        .collect();
    assert!(frames.len() >= n as usize - 1, "decoded {frames:?}");
    assert!(frames.windows(2).all(|w| w[0] < w[1]), "{frames:?}");
    let text = std::fs::read_to_string(&sdp).expect("SDP written");
    assert!(text.contains("a=rtpmap:96 H264/90000"), "{text}");
    assert!(text.contains("sprop-parameter-sets="), "{text}");
    assert!(text.contains("profile-level-id="), "{text}");
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- interop with GStreamer and FFmpeg (real tools, 127.0.0.1) -------

/// Waits (at most 10 s) until `child` holds UDP port `port` on 127.0.0.1.
fn wait_bound(child: &mut KillOnDrop, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the receiver never bound port {port}"
        );
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("the receiver exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Bound happens before Playing; datagrams in between wait in the
    // socket, but give the tool a moment anyway.
    std::thread::sleep(Duration::from_millis(300));
}

/// Waits (at most `timeout`) until `path` holds at least `len` bytes.
fn wait_file(path: &std::path::Path, len: usize, timeout: Duration) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    loop {
        let have = std::fs::metadata(path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        if have >= len || Instant::now() >= deadline {
            return std::fs::read(path).unwrap_or_default();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Frame numbers stamped in a file of back-to-back I420 frames.
fn counters_in_i420_file(data: &[u8], w: u32, h: u32) -> Vec<Option<u64>> {
    let info = VideoInfo::new(framecast::VideoFormat::I420, w, h).unwrap();
    data.chunks_exact(info.size)
        .map(|chunk| {
            let frame = Frame::new(info, chunk).ok()?;
            decode_counter(&frame).map(|s| s.frame)
        })
        .collect()
}

fn tmp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("framecast-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `gst-launch-1.0 -q udpsrc port=<port> caps=<caps> ! <chain> ! filesink`
/// writing every buffer to `out` unbuffered.
fn gst_receiver(port: u16, caps: &str, chain: &str, out: &std::path::Path) -> KillOnDrop {
    let mut args: Vec<String> = vec![
        "-q".into(),
        "udpsrc".into(),
        format!("port={port}"),
        "address=127.0.0.1".into(),
        format!("caps={caps}"),
    ];
    for item in chain.split_whitespace() {
        args.push(item.into());
    }
    args.extend([
        "!".into(),
        "filesink".into(),
        format!("location={}", out.display()),
        "buffer-mode=unbuffered".into(),
        "sync=false".into(),
    ]);
    let mut child = spawn("gst-launch-1.0", &args);
    wait_bound(&mut child, port);
    child
}

#[test]
fn gstreamer_receives_raw_video_exactly() {
    if !tool_available("gst-launch-1.0") {
        return;
    }
    let n: usize = 20;
    let frame_size = (W * H * 3 / 2) as usize;
    let dir = tmp_dir("gst-raw");
    let out = dir.join("out.yuv");
    let port = free_port();
    let gst = gst_receiver(
        port,
        &format!(
            "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,\
             sampling=YCbCr-4:2:0,depth=(string)8,width=(string){W},height=(string){H},payload=96"
        ),
        "! rtpvrawdepay",
        &out,
    );
    let tx = sender(
        n as u32,
        "video/x-raw,format=I420,width=64,height=48,framerate=50/1",
        &format!("rtpvrawpay ! udpsink host=127.0.0.1 port={port}"),
    );
    tx.set_state(State::Playing).unwrap();
    let sent = pull(&tx, "ref", n, Duration::from_secs(10));
    wait_eos(&tx, Duration::from_secs(10));
    tx.set_state(State::Null).unwrap();
    let data = wait_file(&out, n * frame_size, Duration::from_secs(10));
    drop(gst);
    assert_eq!(
        data.len(),
        n * frame_size,
        "GStreamer wrote {} bytes",
        data.len()
    );
    let sent = by_counter(&sent);
    for (i, chunk) in data.chunks(frame_size).enumerate() {
        let expected = &sent[&(i as u64)];
        assert!(
            chunk == &expected[..],
            "frame {i} differs after GStreamer's rtpvrawdepay"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// framecast encodes with `encoder`, payloads with `pay`; GStreamer
/// receives with `caps` and decodes with `chain` to I420; every frame
/// arrives, in order, with its counter.
fn gstreamer_decodes(encoder: &str, pay: &str, caps: &str, chain: &str, tag: &str) {
    if !tool_available("gst-launch-1.0") || !have(encoder) {
        eprintln!("skipping {tag}");
        return;
    }
    let (w, h, n) = (320u32, 240u32, 30usize);
    let frame_size = (w * h * 3 / 2) as usize;
    let dir = tmp_dir(tag);
    let out = dir.join("out.yuv");
    let port = free_port();
    let gst = gst_receiver(port, caps, chain, &out);
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers={n} \
         ! video/x-raw,format=I420,width={w},height={h},framerate=30/1 \
         ! {encoder} ! {pay} ! udpsink host=127.0.0.1 port={port}"
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(20));
    tx.set_state(State::Null).unwrap();
    let data = wait_file(&out, n * frame_size, Duration::from_secs(10));
    drop(gst);
    let frames = counters_in_i420_file(&data, w, h);
    let decoded: Vec<u64> = frames.iter().flatten().copied().collect();
    assert_eq!(
        decoded,
        (0..n as u64).collect::<Vec<_>>(),
        "{tag}: GStreamer decoded {} frames ({} bytes)",
        frames.len(),
        data.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gstreamer_decodes_our_h264() {
    gstreamer_decodes(
        "openh264enc",
        "rtph264pay",
        "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96",
        "! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=I420",
        "gst-h264",
    );
}

#[test]
fn gstreamer_decodes_our_jpeg() {
    gstreamer_decodes(
        "jpegenc",
        "rtpjpegpay",
        "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26",
        "! rtpjpegdepay ! jpegdec ! videoconvert ! video/x-raw,format=I420",
        "gst-jpeg",
    );
}

#[test]
fn ffmpeg_opens_our_h264_sdp() {
    if !tool_available("ffmpeg") || !have("openh264enc") {
        return;
    }
    let (w, h) = (320u32, 240u32);
    let dir = tmp_dir("ffmpeg-h264");
    let sdp = dir.join("stream.sdp");
    let out = dir.join("out.yuv");
    let port = free_port();
    // A long live stream; ffmpeg joins once the SDP exists and keeps 10
    // frames from its first IDR (one a second: gop-size default).
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers=150 \
         ! video/x-raw,format=I420,width={w},height={h},framerate=30/1 \
         ! openh264enc ! rtph264pay ! udpsink host=127.0.0.1 port={port} sdp-file=\"{}\"",
        sdp.display()
    ));
    tx.set_state(State::Playing).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = std::fs::read_to_string(&sdp).unwrap_or_default();
        if text.contains("sprop-parameter-sets") || Instant::now() >= deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(text.contains("sprop-parameter-sets"), "{text}");
    let args: Vec<String> = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file,udp,rtp",
        "-i",
        &sdp.display().to_string(),
        "-frames:v",
        "10",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-y",
        &out.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut ff = spawn("ffmpeg", &args);
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = ff.0.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(ff);
    tx.set_state(State::Null).unwrap();
    let data = std::fs::read(&out).unwrap_or_default();
    let frames = counters_in_i420_file(&data, w, h);
    let decoded: Vec<u64> = frames.iter().flatten().copied().collect();
    assert!(decoded.len() >= 8, "ffmpeg decoded {frames:?} from our SDP");
    assert!(decoded.windows(2).all(|p| p[0] < p[1]), "{decoded:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn we_decode_gstreamer_x264_over_rtp() {
    if !tool_available("gst-launch-1.0") || !have("openh264dec") {
        return;
    }
    let n = 30;
    let (rx, port) = start_receiver(
        "udpsrc name=src port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtpjitterbuffer ! rtph264depay name=depay ! openh264dec ! appsink name=sink sync=false max-buffers=0",
    );
    let args: Vec<String> = format!(
        "-q videotestsrc num-buffers={n} pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 \
         ! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 ! udpsink host=127.0.0.1 port={port} sync=true"
    )
    .split_whitespace()
    .map(str::to_string)
    .collect();
    let mut gst = spawn("gst-launch-1.0", &args);
    let got = pull(&rx, "sink", n, Duration::from_secs(15));
    let _ = gst.0.wait();
    let depay = element(&rx, "depay");
    assert!(
        got.len() >= n - 1,
        "decoded {} of {n} frames; depayloader: {} packets, {} frames out, {} lost, {} malformed",
        got.len(),
        uint(&depay, "packets-received"),
        uint(&depay, "frames-out"),
        uint(&depay, "packets-lost"),
        uint(&depay, "packets-malformed"),
    );
    let info = info_of(&got[0].1);
    assert_eq!((info.width, info.height), (320, 240));
    assert_eq!(uint(&element(&rx, "depay"), "packets-lost"), 0);
    assert_no_error(&rx);
    rx.set_state(State::Null).unwrap();
}

#[test]
fn we_decode_ffmpeg_h264_through_its_sdp() {
    if !tool_available("ffmpeg") || !have("openh264dec") {
        return;
    }
    let dir = tmp_dir("ffmpeg-send");
    let sdp = dir.join("ffmpeg.sdp");
    let port = free_port();
    // udpsrc takes caps and port from FFmpeg's SDP (FFmpeg 5.1 with
    // `-tune zerolatency` sends SPS/PPS in band and leaves
    // sprop-parameter-sets out of it).
    let args: Vec<String> = format!(
        "-hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=30 -frames:v 90 \
         -pix_fmt yuv420p -c:v libx264 -profile:v baseline -preset ultrafast -tune zerolatency -g 15 \
         -f rtp -sdp_file {} rtp://127.0.0.1:{port}",
        sdp.display()
    )
    .split_whitespace()
    .map(str::to_string)
    .collect();
    let mut ff = spawn("ffmpeg", &args);
    let deadline = Instant::now() + Duration::from_secs(10);
    // FFmpeg writes the file in pieces: wait for its last line.
    while !std::fs::read_to_string(&sdp).is_ok_and(|t| t.contains("a=fmtp:96")) {
        assert!(Instant::now() < deadline, "ffmpeg wrote no SDP");
        std::thread::sleep(Duration::from_millis(20));
    }
    let rx = launch(&format!(
        "udpsrc name=src address=127.0.0.1 sdp-file=\"{}\" ! rtpjitterbuffer ! rtph264depay name=depay \
         ! openh264dec ! appsink name=sink sync=false max-buffers=0",
        sdp.display()
    ));
    rx.set_state(State::Playing).unwrap();
    let got = pull(&rx, "sink", 30, Duration::from_secs(10));
    let _ = ff.0.wait();
    assert!(got.len() >= 30, "decoded {} frames from ffmpeg", got.len());
    let info = info_of(&got[0].1);
    assert_eq!((info.width, info.height), (320, 240));
    assert_no_error(&rx);
    rx.set_state(State::Null).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
