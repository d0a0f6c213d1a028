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
//! its own (`unshare -rn`, no root needed) whose multicast route is `lo`.

use framecast_test_support::child::{role, wait_bounded, ROLE_ENV};
use framecast_test_support::interop::{required, tool_available};
use framecast_test_support::ports::free_port_pair;
use framecast_test_support::rtsp_viewers::{
    connect, play, serve_encoded, session_of, setup, watch_together, Media,
};

use std::process::{Command, Stdio};
use std::time::Duration;

use framecast::{Pipeline, State};

/// H.264 served to multicast viewers only, on group 239.255.77.77 and a
/// free even port.
fn serve_multicast() -> (Pipeline, String, u16) {
    let port = free_port_pair();
    let (p, url) = serve_encoded(
        "openh264enc gop-size=300",
        &format!("transports=udp-mcast multicast-address=239.255.77.77 multicast-port={port}"),
    );
    (p, url, port)
}

#[test]
fn setup_with_multicast_answers_the_group_port_and_ttl() {
    let (p, url, port) = serve_multicast();
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
    let (p, url, _) = serve_multicast();
    watch_together(&url, &["gst-udp-mcast", "gst-udp-mcast"], Media::H264, 30);
    p.set_state(State::Null).unwrap();
}

/// Sets up the namespace's loopback (up, the multicast route on it) and
/// runs the test binary in it.
const IN_NAMESPACE: &str =
    "ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec \"$0\" \"$@\"";

#[test]
fn ffmpeg_decodes_the_multicast_group_beside_gstreamer() {
    const TEST: &str = "ffmpeg_decodes_the_multicast_group_beside_gstreamer";
    if role().as_deref() == Some("netns") {
        // In the namespace: the whole test, server and viewers.
        let (p, url, _) = serve_multicast();
        watch_together(
            &url,
            &["ffmpeg-udp_multicast", "gst-udp-mcast"],
            Media::H264,
            30,
        );
        p.set_state(State::Null).unwrap();
        return;
    }
    if role().is_some() || !tool_available("ffmpeg") || !tool_available("gst-launch-1.0") {
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
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
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
