//! `framecast send` to a UDP socket on 127.0.0.1: packets arrive, the SDP
//! is written, raw frames from stdin are sent.

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn receiver() -> (UdpSocket, u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// Counts datagrams until `deadline` passes with nothing arriving for 1 s.
fn count_packets(socket: &UdpSocket, deadline: Instant) -> usize {
    let mut buf = [0u8; 2048];
    let mut count = 0;
    let mut last = Instant::now();
    while Instant::now() < deadline && last.elapsed() < Duration::from_secs(1) {
        if let Ok(n) = socket.recv(&mut buf) {
            assert!(n >= 12, "an RTP packet");
            assert_eq!(buf[0] >> 6, 2, "RTP version 2");
            count += 1;
            last = Instant::now();
        }
    }
    count
}

#[test]
fn send_a_pattern_as_raw_rtp_and_write_the_sdp() {
    let (socket, port) = receiver();
    let sdp = std::env::temp_dir().join(format!("framecast-send-{}.sdp", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_framecast"))
        .args([
            "send",
            "--to",
            &format!("127.0.0.1:{port}"),
            "--pattern",
            "ball",
            "--seconds",
            "1",
        ])
        .args([
            "--size", "160x120", "--fps", "30", "--codec", "raw", "--sdp",
        ])
        .arg(&sdp)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let packets = count_packets(&socket, Instant::now() + Duration::from_secs(20));
    let status = child.wait().expect("wait");
    assert!(status.success());
    // 160x120 I420 = 28 800 bytes: about 21 packets of 1400 bytes a frame.
    assert!(packets >= 20 * 20, "only {packets} packets");
    let text = std::fs::read_to_string(&sdp).expect("sdp written");
    assert!(text.contains(&format!("m=video {port} RTP/AVP")), "{text}");
    assert!(text.contains("raw/90000"), "{text}");
    let _ = std::fs::remove_file(sdp);
}

#[test]
fn send_raw_frames_from_stdin_as_jpeg() {
    let (socket, port) = receiver();
    let mut child = Command::new(env!("CARGO_BIN_EXE_framecast"))
        .args([
            "send",
            "--to",
            &format!("127.0.0.1:{port}"),
            "--input",
            "-",
            "--format",
            "i420",
        ])
        .args(["--size", "64x48", "--codec", "jpeg"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let frame = 64 * 48 * 3 / 2;
    let writer = std::thread::spawn(move || {
        for n in 0..10u8 {
            let _ = stdin.write_all(&vec![n.wrapping_mul(20); frame]);
            std::thread::sleep(Duration::from_millis(30));
        }
    });
    let packets = count_packets(&socket, Instant::now() + Duration::from_secs(20));
    writer.join().unwrap();
    let status = child.wait().expect("wait");
    assert!(status.success());
    assert!(packets >= 8, "only {packets} JPEG packets for 10 frames");
}

#[test]
fn bad_arguments_are_explained() {
    let out = Command::new(env!("CARGO_BIN_EXE_framecast"))
        .args([
            "send",
            "--to",
            "127.0.0.1:9",
            "--size",
            "12by9",
            "--pattern",
            "ball",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--size \"12by9\": expected WxH"), "{err}");
}
