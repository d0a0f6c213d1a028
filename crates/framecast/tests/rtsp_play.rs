//! A framecast [`Receiver`] (and so `framecast receive`) opening an
//! `rtsp://` URL served by GStreamer's RTSP server in PLAY mode
//! (`videotestsrc ! x264enc tune=zerolatency ! rtph264pay name=pay0`):
//! DESCRIBE, SETUP (TCP interleaved, and UDP), PLAY, decode, TEARDOWN.

use framecast_test_support::interop;
use framecast_test_support::ports::free_tcp_port;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use framecast::receiver::Receiver;
use framecast::VideoFormat;
use interop::KillOnDrop;

fn serve() -> (KillOnDrop, u16) {
    let port = free_tcp_port();
    let child = KillOnDrop(
        Command::new("/usr/bin/python3")
            .arg(interop::gst_rtsp_play_server())
            .arg(port.to_string())
            .arg("test")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server"),
    );
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        && t0.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

#[test]
fn receiver_plays_an_rtsp_url() {
    if !interop::gst_rtsp_server_available() {
        return;
    }
    let (_server, port) = serve();
    let receiver = Receiver::builder()
        .url(&format!("rtsp://127.0.0.1:{port}/test"))
        .output_format(VideoFormat::I420)
        .build()
        .expect("receiver");
    let mut frames = 0;
    let t0 = Instant::now();
    let mut packed = vec![0u8; 320 * 240 * 3 / 2];
    while frames < 10 && t0.elapsed() < Duration::from_secs(15) {
        let Some(frame) = receiver
            .pull(Some(Duration::from_millis(500)))
            .expect("pull")
        else {
            continue;
        };
        assert_eq!((frame.info.width, frame.info.height), (320, 240));
        let n = frame.copy_packed_to(&mut packed).expect("copy");
        // videotestsrc pattern=white: luma near 235 (limited range).
        let y = &packed[..320 * 240.min(n)];
        let mean = y.iter().map(|&v| u64::from(v)).sum::<u64>() / y.len() as u64;
        assert!(
            (220..=245).contains(&mean),
            "luma mean {mean}: not the white picture"
        );
        frames += 1;
    }
    assert!(frames >= 10, "decoded {frames} frames from the RTSP server");
}

#[test]
fn rtspsrc_plays_over_udp_too() {
    if !interop::gst_rtsp_server_available() {
        return;
    }
    let (_server, port) = serve();
    let p = framecast::parse_launch(&format!(
        "rtspsrc name=src location=rtsp://127.0.0.1:{port}/test protocols=udp ! rtpjitterbuffer \
         ! rtph264depay ! openh264dec ! appsink name=sink sync=false max-buffers=2 drop=true"
    ))
    .expect("pipeline");
    p.set_state(framecast::pipeline::State::Playing)
        .expect("playing");
    let sink = p.by_name("sink").expect("sink");
    let appsink = framecast::elements::appsink::AppSink::from_element(&sink).expect("appsink");
    let mut frames = 0;
    let t0 = Instant::now();
    while frames < 10 && t0.elapsed() < Duration::from_secs(15) {
        if appsink
            .pull_sample(Some(Duration::from_millis(500)))
            .is_some()
        {
            frames += 1;
        }
    }
    let packets = p
        .by_name("src")
        .map_or(0, |s| s.counter("packets-received"));
    assert!(
        frames >= 10,
        "decoded {frames} frames over UDP ({packets} packets)"
    );
    p.set_state(framecast::pipeline::State::Null).expect("null");
}
