//! The RTSP server's sessions and mounts: two `rtspserversink`s on one
//! port serve two paths from one listening socket (H.264 on one, JPEG on
//! the other); a session that hears neither a request nor RTCP for its
//! `session-timeout` expires, while one kept alive by GET_PARAMETER and
//! one by SET_PARAMETER stay.

use framecast_test_support::pipelines::{element, launch, uint};
use framecast_test_support::ports::{free_port_pair, free_tcp_port};
use framecast_test_support::rtsp_viewers::{
    connect, describe, play, request, serve_encoded, session_of, setup,
};

use std::time::{Duration, Instant};

use framecast::State;

#[test]
fn two_sinks_on_one_port_serve_two_paths() {
    let port = free_tcp_port();
    let mount = |encoder: &str, path: &str| {
        let p = launch(&format!(
            "testsrc is-live=true ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 \
             ! {encoder} ! rtspserversink port={port} path={path}"
        ));
        p.set_state(State::Playing).expect("playing");
        p
    };
    let h264 = mount("openh264enc", "cam/h264");
    let jpeg = mount("jpegenc", "cam/jpeg");
    let h = describe(&format!("rtsp://127.0.0.1:{port}/cam/h264"));
    assert!(
        h.starts_with("RTSP/1.0 200")
            && h.contains("H264/90000")
            && h.contains("sprop-parameter-sets")
            && h.contains("profile-level-id=")
            && h.contains("a=control:stream=0"),
        "{h}"
    );
    let j = describe(&format!("rtsp://127.0.0.1:{port}/cam/jpeg"));
    assert!(
        j.starts_with("RTSP/1.0 200") && j.contains("a=rtpmap:26 JPEG/90000"),
        "{j}"
    );
    let none = describe(&format!("rtsp://127.0.0.1:{port}/cam"));
    assert!(none.starts_with("RTSP/1.0 404"), "{none}");
    // One path gone, the other still served.
    jpeg.set_state(State::Null).unwrap();
    let j = describe(&format!("rtsp://127.0.0.1:{port}/cam/jpeg"));
    assert!(j.starts_with("RTSP/1.0 404"), "{j}");
    assert!(describe(&format!("rtsp://127.0.0.1:{port}/cam/h264")).starts_with("RTSP/1.0 200"));
    h264.set_state(State::Null).unwrap();
}

#[test]
fn a_silent_session_expires_and_keepalives_keep_the_others() {
    let (p, url) = serve_encoded("openh264enc", "session-timeout=2");
    let srv = element(&p, "srv");
    // Three UDP viewers (RTP to ports nobody reads: no RTCP comes back).
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let mut s = connect(&url);
        let rtp = free_port_pair();
        let r = setup(
            &mut s,
            &url,
            &format!("RTP/AVP;unicast;client_port={rtp}-{}", rtp + 1),
        );
        assert!(r.contains(";timeout=2"), "{r}");
        let id = session_of(&r);
        assert!(play(&mut s, &url, &id).starts_with("RTSP/1.0 200"));
        sessions.push((s, id));
    }
    assert_eq!(uint(&srv, "viewers"), 3);
    // The first stays silent; the others send a keepalive every 500 ms.
    let start = Instant::now();
    let mut cseq = 10;
    while start.elapsed() < Duration::from_secs(5) {
        for (i, method) in [(1, "GET_PARAMETER"), (2, "SET_PARAMETER")] {
            let (s, id) = &mut sessions[i];
            cseq += 1;
            let r = request(
                s,
                &format!("{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\nSession: {id}\r\n\r\n"),
            );
            assert!(r.starts_with("RTSP/1.0 200"), "{method}: {r}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // 5 s is more than twice the timeout: the silent one went.
    assert_eq!(uint(&srv, "viewers"), 2, "only the silent session expires");
    let (s, id) = &mut sessions[0];
    let r = play(s, &url, id);
    assert!(
        r.is_empty() || r.starts_with("RTSP/1.0 454"),
        "an expired session: {r}"
    );
    p.set_state(State::Null).unwrap();
}
