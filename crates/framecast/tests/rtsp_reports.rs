//! RTCP between `rtspserversink` and its viewers, on every transport:
//! framecast's own RTSP client (`Receiver` on an `rtsp://` URL, TCP
//! interleaved; `rtspsrc protocols=udp`) sends receiver reports that the
//! server reads into the viewer's loss, jitter and round-trip time, and
//! the server's sender reports reach TCP viewers on their RTCP channel,
//! so GStreamer's `rtspsrc protocols=tcp` gets a round-trip time too.

use framecast_test_support::interop::tool_available;
use framecast_test_support::pipelines::{element, launch};
use framecast_test_support::rtsp_viewers::{client, count_frames, serve_encoded};

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use framecast::elements::net::rtsp::rtspserversink::RtspServerSink;
use framecast::receiver::Receiver;
use framecast::sender::Codec;
use framecast::sender::ViewerInfo;
use framecast::{Pipeline, State};

/// Waits (15 s at most) until the one viewer of `srv` over `transport`
/// has a receiver report with a round-trip time, and checks its figures:
/// nothing lost on 127.0.0.1, a jitter and RTT of a loopback link.
fn reported(p: &Pipeline, transport: &str) -> ViewerInfo {
    let srv = element(p, "srv");
    let sink = RtspServerSink::from_element(&srv).expect("rtspserversink");
    let deadline = Instant::now() + Duration::from_secs(15);
    let v = loop {
        let viewers = sink.viewers();
        if let Some(v) = viewers
            .iter()
            .find(|v| v.transport == transport && v.reports > 0 && v.rtt_ms.is_some())
        {
            break v.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {transport} viewer with a receiver report and an RTT in 15 s: {viewers:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let rtt = v.rtt_ms.unwrap_or_default();
    assert!(rtt > 0.0 && rtt < 500.0, "loopback RTT {rtt} ms: {v:?}");
    assert!(v.playing && v.jitter_ms < 200.0, "{v:?}");
    assert!(v.fraction_lost < 0.05, "{v:?}");
    v
}

#[test]
fn framecast_receiver_over_tcp_sends_receiver_reports() {
    let (p, url) = serve_encoded("openh264enc", "");
    let receiver = Receiver::builder()
        .url(&url)
        .codec(Codec::H264)
        .build()
        .expect("receiver");
    let pulling = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(20);
        let mut frames = 0;
        while Instant::now() < end && frames < 90 {
            if let Ok(Some(_)) = receiver.pull(Some(Duration::from_millis(200))) {
                frames += 1;
            }
        }
        frames
    });
    let first = reported(&p, "tcp");
    // A second report comes a second later.
    let deadline = Instant::now() + Duration::from_secs(5);
    while reported(&p, "tcp").reports <= first.reports {
        assert!(Instant::now() < deadline, "one report only: {first:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(pulling.join().expect("receiver thread") >= 60);
    p.set_state(State::Null).unwrap();
}

#[test]
fn framecast_rtspsrc_over_udp_sends_receiver_reports() {
    let (p, url) = serve_encoded("openh264enc", "");
    let viewer = launch(&format!(
        "rtspsrc location={url} protocols=udp ! fakesink name=out"
    ));
    viewer.set_state(State::Playing).expect("viewer playing");
    let v = reported(&p, "udp");
    assert_eq!(v.cumulative_lost, 0, "{v:?}");
    viewer.set_state(State::Null).unwrap();
    p.set_state(State::Null).unwrap();
}

#[test]
fn gstreamer_over_tcp_gets_sender_reports_and_answers_them() {
    if !tool_available("gst-launch-1.0") {
        return;
    }
    let (p, url) = serve_encoded("openh264enc", "");
    let mut gst = client("gst-tcp", &url);
    let frames = count_frames(&mut gst);
    // An RTT needs the server's sender report to have reached it (on the
    // RTCP channel) and come back in its receiver report.
    reported(&p, "tcp");
    assert!(frames.load(Ordering::Relaxed) > 0, "GStreamer decodes");
    p.set_state(State::Null).unwrap();
}
