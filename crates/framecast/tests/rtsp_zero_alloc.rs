//! The RTSP fan-out allocates nothing per frame once warm: a Sender
//! serving RTSP (`h264enc ! rtspserversink`) to one UDP and one TCP
//! viewer (raw RTSP clients here, so that the test's own side allocates
//! nothing either) sends 300 frames with no heap allocation on any
//! thread: frames come from the mount's pool, the batch arrays are on the
//! stack, TCP viewers' queues and writers are preallocated. This binary
//! holds this one test so nothing else allocates meanwhile.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use framecast::sender::Sender;

use framecast_test_support::alloc as counting_alloc;
framecast_test_support::install_counting_allocator!();
use framecast_test_support::frames;
use framecast_test_support::rtsp_viewers::session_of;

const W: usize = 320;
const H: usize = 240;

fn request(s: &mut TcpStream, text: &str) -> String {
    s.write_all(text.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !got.windows(4).any(|w| w == b"\r\n\r\n") {
        if let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn run_frames(sender: &Sender, socket: &UdpSocket, from: u64, count: u64) -> u64 {
    let mut packets = 0;
    for n in from..from + count {
        frames::push_moving_bar(sender, W, H, n);
        packets += frames::wait_access_unit(socket, n);
        // A live source's pace (faster than 30 fps, to keep the test
        // short): the TCP viewer's writer keeps up, as it does live; a
        // viewer that cannot is dropped frames (and asked a keyframe for),
        // which is not the steady state measured here.
        std::thread::sleep(Duration::from_millis(8));
    }
    packets
}

#[test]
fn the_rtsp_fan_out_allocates_nothing_per_frame() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("rtsp://127.0.0.1:{port}/cam");
    let sender = Sender::builder()
        .serve(&url)
        .size(W as u32, H as u32)
        .fps(30)
        .build()
        .expect("sender");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let p = udp.local_addr().unwrap().port();
    // Frames flow before DESCRIBE/PLAY have anything to wait for.
    for n in 0..5 {
        let mut f = sender.frame().unwrap();
        frames::paint_moving_bar(&mut f, W, H, 3, n);
        let _ = sender.push(f);
        std::thread::sleep(Duration::from_millis(33));
    }
    let mut u = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let r = request(
        &mut u,
        &format!("SETUP {url}/stream=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port={p}-{}\r\n\r\n", p + 1),
    );
    let id = session_of(&r);
    let play = format!("PLAY {url} RTSP/1.0\r\nCSeq: 2\r\nSession: {id}\r\n\r\n");
    u.write_all(play.as_bytes()).unwrap();
    let mut t = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let r = request(
        &mut t,
        &format!("SETUP {url}/stream=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"),
    );
    let tid = session_of(&r);
    t.write_all(format!("PLAY {url} RTSP/1.0\r\nCSeq: 2\r\nSession: {tid}\r\n\r\n").as_bytes())
        .unwrap();
    // The TCP viewer reads everything into one buffer, allocation-free.
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        let mut total = 0u64;
        t.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        while let Ok(n) = t.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        total
    });
    run_frames(&sender, &udp, 5, 200);
    let before = counting_alloc::allocations();
    let packets = run_frames(&sender, &udp, 205, 300);
    let allocations = counting_alloc::allocations() - before;
    assert_eq!(
        sender.rtsp().map(|(_, v)| v),
        Some(2),
        "both viewers playing"
    );
    // A TCP viewer that fell 16 frames behind (a loaded machine) is
    // dropped frames and asked a keyframe for: an upstream event, which
    // allocates. Said so if it happened.
    let sink = sender.pipeline().by_name("sink").expect("sink");
    let dropped: u64 =
        framecast::elements::net::rtsp::rtspserversink::RtspServerSink::from_element(&sink)
            .map(|s| s.viewers().iter().map(|v| v.dropped).sum())
            .unwrap_or(0);
    let _ = sender.finish();
    drop(u);
    let tcp_bytes = reader.join().unwrap();
    assert!(packets >= 300, "{packets} packets");
    assert!(tcp_bytes > 100_000, "TCP viewer got {tcp_bytes} bytes");
    assert_eq!(
        allocations, 0,
        "heap allocations while serving 300 steady-state frames to 2 viewers \
         ({dropped} frames dropped for a lagging TCP viewer)"
    );
}
