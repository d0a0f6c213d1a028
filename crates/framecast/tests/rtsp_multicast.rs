//! `rtspserversink` over UDP multicast (RFC 2326 §12.39: SETUP with
//! `RTP/AVP;multicast` answered with the group's `destination`, `port`
//! and `ttl`), watched by GStreamer's `rtspsrc protocols=udp-mcast`.
//!
//! The group stays on this machine: a 239.x (administratively scoped)
//! group, TTL 1, sent from the server's loopback address (its
//! `IP_MULTICAST_IF`) and joined on `lo` by the viewer (`rtspsrc
//! multicast-iface=lo`): a viewer joining on the default interface would
//! wait on eth0 instead. ffmpeg has no such option: it joins where the
//! route to the group points, so its test runs in a network namespace of
//! its own (`unshare -rn`, no root needed) whose multicast route is `lo`;
//! so does the test of the viewers' receiver reports, which GStreamer
//! sends to the group by that route.

use framecast_test_support::child::{role, wait_bounded, ROLE_ENV};
use framecast_test_support::interop::{required, tool_available};
use framecast_test_support::pipelines::{element, uint};
use framecast_test_support::ports::free_port_pair;
use framecast_test_support::rtsp_viewers::{
    client_with, connect, count_frames, play, serve_encoded, session_of, setup, watch_together,
    Media,
};

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use framecast::elements::net::rtsp::rtspserversink::RtspServerSink;
use framecast::{Pipeline, State};

/// H.264 served to multicast viewers only, on group 239.255.77.77 and a
/// free even port, with `extra` sink properties.
fn serve_multicast(extra: &str) -> (Pipeline, String, u16) {
    let port = free_port_pair();
    let (p, url) = serve_encoded(
        "openh264enc gop-size=300",
        &format!(
            "transports=udp-mcast multicast-address=239.255.77.77 multicast-port={port} {extra}"
        ),
    );
    (p, url, port)
}

#[test]
fn setup_with_multicast_answers_the_group_port_and_ttl() {
    let (p, url, port) = serve_multicast("");
    let mut s = connect(&url);
    let r = setup(&mut s, &url, "RTP/AVP;unicast;client_port=5000-5001");
    assert!(r.starts_with("RTSP/1.0 461"), "unicast is not offered: {r}");
    let r = setup(&mut s, &url, "RTP/AVP;multicast");
    assert!(r.starts_with("RTSP/1.0 200"), "{r}");
    let transport = r
        .lines()
        .find_map(|l| l.strip_prefix("Transport: "))
        .unwrap_or_else(|| panic!("no Transport in {r}"));
    assert!(transport.contains("multicast"), "{transport}");
    assert!(
        transport.contains("destination=239.255.77.77"),
        "{transport}"
    );
    assert!(
        transport.contains(&format!("port={port}-{}", port + 1)),
        "{transport}"
    );
    assert!(
        transport.contains("ttl=1") && transport.contains("ssrc="),
        "{transport}"
    );
    let r = play(&mut s, &url, &session_of(&r));
    assert!(r.starts_with("RTSP/1.0 200"), "{r}");
    p.set_state(State::Null).unwrap();
}

#[test]
fn gstreamer_decodes_the_multicast_group_two_viewers_at_once() {
    if !tool_available("gst-launch-1.0") {
        return;
    }
    let (p, url, _) = serve_multicast("");
    watch_together(&url, &["gst-udp-mcast", "gst-udp-mcast"], Media::H264, 30);
    p.set_state(State::Null).unwrap();
}

/// Sets up the namespace's loopback (up, the multicast route on it) and
/// runs the test binary in it.
const IN_NAMESPACE: &str =
    "ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec \"$0\" \"$@\"";

/// Runs `body` in a network namespace of its own (`unshare -rn`, no root
/// needed) whose multicast route is `lo`, by running test `test` of this
/// binary again there: a viewer's packets to the group then go out on
/// `lo` and come back in, where on the host they would leave by the
/// default route (GStreamer's `rtspsrc` sends its RTCP to the group with
/// `IP_MULTICAST_LOOP` off, and ffmpeg joins where the route points).
/// Nothing runs when `tools` are missing (or no namespace can be made),
/// unless interop is required.
fn in_namespace(test: &str, tools: &[&str], body: impl FnOnce()) {
    if role().as_deref() == Some("netns") {
        body();
        return;
    }
    if role().is_some() || !tools.iter().all(|t| tool_available(t)) {
        return;
    }
    let namespaces = Command::new("unshare")
        .args(["-rn", "sh", "-c", IN_NAMESPACE, "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !required(
        namespaces,
        "no network namespace (unshare -rn, ip from iproute2) here",
    ) {
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new("unshare")
        .args(["-rn", "sh", "-c", IN_NAMESPACE])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, "netns")
        .stdin(Stdio::null())
        .spawn()
        .expect("unshare");
    let status = wait_bounded(&mut child, Duration::from_secs(90));
    assert!(
        status.success(),
        "the test in the namespace failed: {status}"
    );
}

#[test]
fn ffmpeg_decodes_the_multicast_group_beside_gstreamer() {
    in_namespace(
        "ffmpeg_decodes_the_multicast_group_beside_gstreamer",
        &["ffmpeg", "gst-launch-1.0"],
        || {
            let (p, url, _) = serve_multicast("");
            watch_together(
                &url,
                &["ffmpeg-udp_multicast", "gst-udp-mcast"],
                Media::H264,
                30,
            );
            p.set_state(State::Null).unwrap();
        },
    );
}

/// A multicast viewer's receiver reports, sent to the group's RTCP port,
/// are read and attributed to it: its loss, jitter and round-trip time
/// show in the server's viewer figures, and they alone keep its session
/// (GStreamer sends no RTSP keepalive here) for over two timeouts. The
/// timeout, 8 s, is the shortest GStreamer's report interval allows: RFC
/// 3550 §6.3.1's 5 s minimum, randomized, is up to 6.2 s.
#[test]
fn multicast_receiver_reports_are_read_and_keep_the_session() {
    in_namespace(
        "multicast_receiver_reports_are_read_and_keep_the_session",
        &["gst-launch-1.0"],
        || {
            let (p, url, _) = serve_multicast("session-timeout=8");
            let srv = element(&p, "srv");
            let sink = RtspServerSink::from_element(&srv).expect("rtspserversink");
            let mut gst = client_with(
                "gst-udp-mcast",
                &url,
                Media::H264,
                &["do-rtsp-keep-alive=false"],
            );
            let frames = count_frames(&mut gst);
            let multicast = || {
                let all = sink.viewers();
                assert!(all.len() <= 1, "one session: {all:?}");
                all.into_iter().find(|v| v.transport == "udp-mcast")
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            let first = loop {
                let v = multicast();
                if let Some(v) = v.filter(|v| v.reports > 0 && v.rtt_ms.is_some()) {
                    break v;
                }
                assert!(
                    Instant::now() < deadline,
                    "no receiver report with a round-trip time in 20 s: {:?}",
                    multicast()
                );
                std::thread::sleep(Duration::from_millis(100));
            };
            assert!(first.playing, "{first:?}");
            let rtt = first.rtt_ms.unwrap_or_default();
            assert!(rtt > 0.0 && rtt < 1000.0, "loopback RTT {rtt} ms");
            assert!(
                first.fraction_lost <= 1.0 && first.jitter_ms < 1000.0,
                "{first:?}"
            );
            // 20 s: two and a half session timeouts with RTCP the only
            // sign of life.
            let shown = frames.load(Ordering::Relaxed);
            std::thread::sleep(Duration::from_secs(20));
            let last = multicast().expect("the session expired although its RTCP arrives");
            assert_eq!(last.session, first.session);
            assert!(last.playing && last.reports > first.reports, "{last:?}");
            assert!(
                frames.load(Ordering::Relaxed) > shown + 300,
                "the viewer kept decoding"
            );
            assert_eq!(uint(&srv, "viewers"), 1);
            p.set_state(State::Null).unwrap();
        },
    );
}
