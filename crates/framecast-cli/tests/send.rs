//! `framecast send` to a UDP socket on 127.0.0.1: packets arrive, the SDP
//! is written, raw frames from stdin are sent.

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use framecast_test_support::signals;
use signals::{interrupt, wait_for_sigint_handler};

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

/// Runs `framecast send --input - <args>` to a socket of this test, with
/// `input` on its standard input at once (as a file or a fast producer
/// gives it); returns its exit status and standard error.
fn send_stdin(args: &[&str], input: Vec<u8>) -> (std::process::ExitStatus, String) {
    let (_socket, port) = receiver();
    let mut child = Command::new(env!("CARGO_BIN_EXE_framecast"))
        .args(["send", "--to", &format!("127.0.0.1:{port}"), "--input", "-"])
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("framecast send did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.join().expect("writer");
    (status, log.join().expect("stderr"))
}

/// Frames and seconds of the summary line `sent N frames ... in S s (...)`.
fn summary(log: &str) -> (u64, f64) {
    let line = log
        .lines()
        .find(|l| l.contains("sent ") && l.contains(" frames ("))
        .unwrap_or_else(|| panic!("no summary in {log}"));
    let frames = line
        .split("sent ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    let seconds = line
        .rsplit(" in ")
        .next()
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    (frames, seconds)
}

#[test]
fn stdin_frames_are_paced_to_fps_and_a_truncated_last_one_is_told() {
    // 60 frames of 64x48 I420 (4608 bytes) and 100 bytes more, at once.
    let frame = 64 * 48 * 3 / 2;
    let (status, log) = send_stdin(
        &["--format", "i420", "--size", "64x48", "--codec", "raw"],
        vec![7u8; 60 * frame + 100],
    );
    assert!(status.success(), "{log}");
    let (frames, seconds) = summary(&log);
    assert_eq!(frames, 60, "{log}");
    // 30 fps: one frame of slack, then one every 33 ms (unpaced, this
    // once took 0.0 s; /dev/zero went at ~520 fps for H.264).
    assert!((1.8..4.0).contains(&seconds), "{log}");
    assert!(
        log.contains("standard input ended inside frame 60: 100 of its 4608 bytes")
            && log.contains("276580 bytes are not a multiple of the frame size"),
        "{log}"
    );
}

#[test]
fn fps_0_sends_stdin_frames_as_they_come() {
    let frame = 64 * 48 * 3 / 2;
    let (status, log) = send_stdin(
        &[
            "--format", "i420", "--size", "64x48", "--codec", "raw", "--fps", "0",
        ],
        vec![7u8; 60 * frame],
    );
    assert!(status.success(), "{log}");
    let (frames, seconds) = summary(&log);
    assert_eq!(frames, 60, "{log}");
    assert!(seconds < 1.0, "{log}");
    assert!(!log.contains("warning"), "a whole number of frames: {log}");
}

#[test]
fn ctrl_c_ends_a_send_waiting_for_stdin_with_its_summary() {
    let (_socket, port) = receiver();
    let mut child = Command::new(env!("CARGO_BIN_EXE_framecast"))
        .args(["send", "--to", &format!("127.0.0.1:{port}"), "--input", "-"])
        .args(["--format", "i420", "--size", "64x48", "--codec", "raw"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Stdin stays open and silent: the read waits until the interrupt.
    let stdin = child.stdin.take().expect("stdin");
    wait_for_sigint_handler(child.id());
    std::thread::sleep(Duration::from_millis(300));
    interrupt(child.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("Ctrl-C did not end framecast send");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let mut log = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut log);
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("interrupted: sent 0 frames"), "{log}");
}

#[test]
fn bad_arguments_are_explained() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_framecast"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: an error, not a panic"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&["send", "--to", "127.0.0.1", "--pattern", "ball"]);
    assert!(err.contains("the :PORT is missing"), "{err}");
    // Port 0 once sent nothing and exited 0.
    let err = run(&["send", "--to", "127.0.0.1:0", "--pattern", "ball"]);
    assert!(err.contains("port 0"), "{err}");
    let err = run(&["send", "--to", "127.0.0.1:9", "--fps", "0"]);
    assert!(err.contains("the pattern needs a rate"), "{err}");
    // Once a panic (a negative Duration).
    let err = run(&["receive", "--port", "5990", "--seconds=-1"]);
    assert!(
        err.contains("--seconds -1: give a number of seconds"),
        "{err}"
    );
    let err = run(&["send", "--to", "127.0.0.1:9", "--seconds=-1"]);
    assert!(
        err.contains("--seconds -1: give a number of seconds"),
        "{err}"
    );
    // demo checks its arguments before it starts its receiver child.
    let err = run(&["demo", "--size", "1280x720x3"]);
    assert!(err.contains("\"720x3\" is not a number"), "{err}");
    assert!(!err.contains("receiver:"), "a receiver was started: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_bad_size_is_explained() {
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
