//! WHEP in real headless Chromium (Debian's, through chromedriver): a
//! live H.264 counter stream from `whepsink` plays in a page, decodes at
//! the stream's rate, and its pixels carry the testsrc stamp; two tabs at
//! once; a closed tab's session goes; bad offers and a missing token are
//! refused while a viewer keeps playing; a `Sender` with an RTP client
//! and `.http(...)` plays in Chromium from its one H.264 encode.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use framecast::elements::net::whepsink::WhepSink;
use framecast::VideoFormat;
use framecast_http::{HttpConfig, HttpServer};
use framecast_test_support::browser::Browser;
use framecast_test_support::pipelines::uint;
use framecast_test_support::whep::{
    frames_decoded, mount_page, page_url, play, push_counter, read_stamp, serve,
};
use framecast_test_support::{frames, http, pipelines};
use serde_json::Value;

#[test]
fn chromium_plays_the_stream_decodes_30_fps_and_shows_the_stamp() {
    // Chromium shows decoderImplementation only to a page that captures:
    // a fake camera, granted without a prompt.
    let fake_camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
    ];
    let Some(b) = Browser::start_with(&fake_camera) else {
        return;
    };
    let s = serve(None);
    // The page without a WHEP URL: no session, just the capabilities.
    b.goto(&format!("http://{}/page", s.addr));
    let h264 = b.run_js(
        "return RTCRtpReceiver.getCapabilities('video').codecs.some(c => c.mimeType === 'video/H264')",
    );
    assert_eq!(
        h264,
        Value::Bool(true),
        "this Chromium does not decode H.264 in WebRTC"
    );
    let took = play(&b, &s.page_url(None));
    eprintln!("first decoded frame {took:?} after opening the page");
    assert!(
        took < Duration::from_secs(6),
        "first decoded frame after {took:?}"
    );
    // The video element plays.
    let playing = b.wait_for(
        "const v = document.getElementById('v'); return v.readyState >= 2 && v.currentTime > 0",
        5.0,
    );
    assert_eq!(playing, Value::Bool(true));
    // ~30 decoded frames a second.
    let (f0, t0) = (frames_decoded(&b), Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let rate = (frames_decoded(&b) - f0) as f64 / t0.elapsed().as_secs_f64();
    assert!(
        (15.0..=45.0).contains(&rate),
        "framesDecoded rises {rate:.1}/s"
    );
    b.run_js("navigator.mediaDevices.getUserMedia({video: true}).then(s => window.cam = s)");
    let decoder = b.wait_for(
        "return window.cam && window.inb.decoderImplementation || null",
        5.0,
    );
    assert!(
        decoder.as_str().is_some_and(|d| !d.is_empty()),
        "no decoderImplementation: {decoder}"
    );
    // A decoded frame carries testsrc's stamp: a frame number and its
    // timestamp, frames 1/30 s apart (the live source's PTS is the
    // running time each frame is due).
    let (n1, ts1) = read_stamp(&b);
    assert!(n1 > 0 && n1 < 100_000, "frame number {n1}");
    assert!(
        ts1.abs_diff(n1 * 1_000_000_000 / 30) < 500_000_000,
        "frame {n1} stamped {ts1} ns"
    );
    std::thread::sleep(Duration::from_millis(300));
    let (n2, ts2) = read_stamp(&b);
    assert_advancing_at_30_fps((n1, ts1), (n2, ts2));
    // The server's view: one connected viewer with an RTT.
    let viewers = WhepSink::from_element(&s.sink).expect("whepsink").viewers();
    assert_eq!(viewers.len(), 1);
    assert!(
        viewers[0].connected && viewers[0].frames_sent > 30,
        "{viewers:?}"
    );
    assert!(uint(&s.sink, "keyframe-requests") >= 1);
}

#[test]
fn two_tabs_play_at_once_and_a_closed_tab_frees_its_session() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = serve(None);
    let first = b.tab();
    play(&b, &s.page_url(None));
    b.new_tab();
    play(&b, &s.page_url(None));
    assert_eq!(s.viewers(), 2);
    let f = frames_decoded(&b);
    b.switch_to(&first);
    let g = frames_decoded(&b);
    std::thread::sleep(Duration::from_millis(700));
    assert!(frames_decoded(&b) > g, "the first tab stalled");
    b.close_tab();
    // The other tab still plays; the closed one's session goes within
    // the ICE-lite timeout (no checks for 15 s) or at once on DTLS close.
    let deadline = Instant::now() + Duration::from_secs(25);
    while s.viewers() != 1 {
        assert!(Instant::now() < deadline, "the closed tab's session stayed");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(f > 0);
}

#[test]
fn bad_offers_and_a_missing_token_are_refused_while_a_viewer_plays() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = serve(Some("s3cret"));
    play(&b, &s.page_url(Some("s3cret")));
    let path = "/cam/whep";
    let post = |body: &str, auth: Option<&str>| {
        let mut headers = vec![("Content-Type", "application/sdp")];
        let auth = auth.map(|t| format!("Bearer {t}"));
        if let Some(a) = auth.as_deref() {
            headers.push(("Authorization", a));
        }
        http::request(s.addr, "POST", path, &headers, body.as_bytes())
    };
    let r = post("v=0\r\n", None);
    assert_eq!(r.status, 401, "{}", r.text());
    // The CORS preflight needs no token and says what the endpoint takes.
    let pre = http::request(s.addr, "OPTIONS", path, &[], b"");
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("accept-post"), Some("application/sdp"));
    assert_eq!(
        pre.header("accept-patch"),
        Some("application/trickle-ice-sdpfrag")
    );
    for bad in [
        "",
        "hello",
        "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF\r\n",
        "v=0\r\ns=-\r\nt=0 0\r\n",
    ] {
        let r = post(bad, Some("s3cret"));
        assert_eq!(r.status, 400, "{bad:?}: {}", r.text());
    }
    let r = http::request(
        s.addr,
        "DELETE",
        "/cam/whep/nope",
        &[("Authorization", "Bearer s3cret")],
        b"",
    );
    assert_eq!(r.status, 404);
    // The viewer did not notice.
    let f = frames_decoded(&b);
    std::thread::sleep(Duration::from_millis(700));
    assert!(frames_decoded(&b) > f, "the viewer stalled");
    assert_eq!(s.viewers(), 1);
}

#[test]
fn the_viewer_page_plays_webrtc_in_two_tabs_beside_an_mjpeg_client() {
    let Some(b) = Browser::start() else {
        return;
    };
    // The Sender's and `framecast serve --http`'s branch: MJPEG and WHEP
    // on one server; a path of its own (stats sources are named by path,
    // and the other tests here serve /cam at the same time).
    let addr = format!(
        "127.0.0.1:{}",
        framecast_test_support::ports::free_tcp_port()
    );
    let branch =
        framecast::elements::net::http::httpserversink::branch(&addr, "tabs", None, "http")
            .expect("the branch")
            .from_raw();
    let p = framecast_test_support::pipelines::launch(&format!(
        "testsrc pattern=counter is-live=true ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 ! {branch}"
    ));
    p.set_state(framecast::State::Playing).expect("playing");
    let addr: std::net::SocketAddr = addr.parse().expect("address");
    let whep = framecast_test_support::pipelines::element(&p, "whep");
    let url = format!("http://{addr}/tabs/");
    let mode = "return window.framecastViewer && window.framecastViewer.mode !== 'connecting' \
        ? window.framecastViewer.mode : null";
    let first = b.tab();
    let t0 = Instant::now();
    b.goto(&url);
    let got = b.wait_for(mode, 10.0);
    let took = t0.elapsed();
    assert_eq!(
        got,
        "whep",
        "the page fell back: {:?}",
        b.run_js("return window.framecastViewer")
    );
    // The page's own bound: playing within 3 s of its offer, or MJPEG.
    eprintln!("viewer page playing WebRTC {took:?} after opening");
    b.new_tab();
    b.goto(&url);
    assert_eq!(b.wait_for(mode, 10.0), "whep");
    assert_eq!(uint(&whep, "viewers"), 2);
    // The viewers on the dashboard's API and metrics.
    let stats = http::get(addr, "/api/stats").json();
    let viewers = &stats["sources"]["whep:/tabs"]["viewers"];
    assert_eq!(viewers.as_array().map(Vec::len), Some(2), "{stats}");
    assert_eq!(viewers[0]["transport"], "webrtc");
    assert!(
        viewers[0]["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{viewers}"
    );
    let metrics = http::get(addr, "/metrics").text();
    assert!(
        metrics.contains("framecast_webrtc_viewers{source=\"whep:/tabs\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("framecast_webrtc_frames_sent_total{source=\"whep:/tabs\",viewer="),
        "{metrics}"
    );
    // And an MJPEG client at once.
    let mut mjpeg = http::Stream::open(addr, "/tabs/mjpeg");
    assert_eq!(mjpeg.head.status, 200);
    assert!(mjpeg.read_until_count(b"\xff\xd8", 5) >= 5, "MJPEG frames");
    // Both tabs still advance.
    let current = "return document.getElementById('video').currentTime";
    for tab in [b.tab(), first] {
        b.switch_to(&tab);
        let t = b.run_js(current).as_f64().unwrap_or(0.0);
        std::thread::sleep(Duration::from_millis(500));
        let t2 = b.run_js(current).as_f64().unwrap_or(0.0);
        assert!(t2 > t, "a tab stalled ({t} then {t2})");
    }
    viewers_report_their_glass_to_glass_latency(&b, addr);
    let _ = p.set_state(framecast::State::Null);
}

/// The viewer pages measure their own stage per frame, from its arrival
/// to its display (`requestVideoFrameCallback`'s `receiveTime` and
/// `expectedDisplayTime`; capture to display too where Chromium gives a
/// `captureTime`), and post it to their sessions: the dashboard's last
/// latency stage, in `/api/stats` per viewer and as a path, and a
/// Prometheus histogram. Bad reports are refused whole.
fn viewers_report_their_glass_to_glass_latency(b: &Browser, addr: std::net::SocketAddr) {
    let reported = b.wait_for(
        "const l = window.framecastViewer.latency; return l && l.reported >= 2 ? l : null",
        15.0,
    );
    let last = reported["arrival"].as_f64().unwrap_or(-1.0);
    assert!(
        (0.0..1000.0).contains(&last),
        "a page measured {last} ms from arrival to display on loopback: {reported}"
    );
    let stats = http::get(addr, "/api/stats").json();
    let viewers = stats["sources"]["whep:/tabs"]["viewers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let display: Vec<&Value> = viewers
        .iter()
        .map(|v| &v["display_ms"])
        .filter(|d| d.is_object())
        .collect();
    assert!(!display.is_empty(), "no viewer's report in {viewers:?}");
    for d in &display {
        let p50 = d["p50"].as_f64().unwrap_or(-1.0);
        eprintln!(
            "a viewer's arrival to display: p50 {p50:.1} ms over {}",
            d["count"]
        );
        assert!(
            d["count"].as_u64().unwrap_or(0) > 0 && (0.0..1000.0).contains(&p50),
            "{d}"
        );
    }
    let path = stats["latency"]["paths"]
        .as_array()
        .and_then(|p| {
            p.iter()
                .find(|p| p["source"] == "whep:/tabs" && p["element"] == "viewer")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no viewer stage in {}", stats["latency"]));
    let count = path["latency"]["count"].as_u64().unwrap_or(0);
    assert!(count > 0, "{path}");
    let metrics = http::get(addr, "/metrics").text();
    let bucket = |le: &str| -> u64 {
        let line = format!(
            "framecast_latency_seconds_bucket{{source=\"whep:/tabs\",element=\"viewer\",le=\"{le}\"}} "
        );
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {line} in {metrics}"))
    };
    // Read after /api/stats: at least its samples, and all of them within
    // a second on loopback.
    assert!(bucket("+Inf") >= count);
    assert_eq!(bucket("1"), bucket("+Inf"));
    // A report naming no session, a bad sample, no kind: refused.
    let id = viewers[0]["id"].as_str().expect("a session id");
    let post = |path: &str, body: &[u8]| {
        http::request(addr, "POST", path, &[("Content-Type", "text/plain")], body).status
    };
    assert_eq!(
        post("/tabs/whep/0000000000000000/latency", b"arrival 12"),
        404
    );
    assert_eq!(
        post(&format!("/tabs/whep/{id}/latency"), b"arrival 12 -3"),
        400
    );
    assert_eq!(post(&format!("/tabs/whep/{id}/latency"), b"12"), 400);
    assert_eq!(
        post(&format!("/tabs/whep/{id}/latency"), b"arrival 25.5 26"),
        204
    );
}

#[test]
fn a_sender_to_rtp_and_http_plays_in_chromium_from_its_one_h264_encode() {
    let Some(b) = Browser::start() else {
        return;
    };
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").expect("RTP client socket");
    rtp.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("a read timeout");
    // A fixed port: with port 0 the MJPEG and WHEP halves would each bind
    // a server of their own.
    let http_port = framecast_test_support::ports::free_tcp_port();
    let rtp_port = rtp.local_addr().expect("bound").port();
    let sender = frames::test_sender_builder(rtp_port, 640, 480)
        .input_format(VideoFormat::I420)
        .http(&format!("127.0.0.1:{http_port}"))
        .build()
        .expect("sender");
    let count = |factory: &str| pipelines::count_factory(sender.pipeline(), factory);
    assert_eq!((count("h264enc"), count("whepsink")), (1, 1));
    let addr = http::url_addr(&sender.http().expect("serving HTTP"));
    let server = HttpServer::bind(addr, HttpConfig::default()).expect("the sender's server");
    let _page = mount_page(&server);
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let t0 = Instant::now();
            let mut n = 0;
            while !done.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(30) {
                push_counter(&sender, n);
                n += 1;
                std::thread::sleep(
                    (t0 + Duration::from_secs(n) / 30).saturating_duration_since(Instant::now()),
                );
            }
        });
        // Chromium plays the WHEP stream: decoding, the picture advancing,
        // the stamps 1/30 s apart per frame.
        play(&b, &page_url(addr, "stream", None));
        let f0 = frames_decoded(&b);
        let (n1, ts1) = read_stamp(&b);
        // Meanwhile the RTP client gets whole access units.
        for frame in 0..10 {
            assert!(frames::wait_access_unit(&rtp, frame) > 0);
        }
        std::thread::sleep(Duration::from_millis(500));
        let (n2, ts2) = read_stamp(&b);
        let decoded = frames_decoded(&b) - f0;
        done.store(true, Ordering::Relaxed);
        assert_advancing_at_30_fps((n1, ts1), (n2, ts2));
        assert!(decoded >= 10, "{decoded} frames decoded");
    });
    let stats = sender.finish().expect("finish");
    assert!(stats.frames_out > 0, "{stats:?}");
}

/// Two stamps read from the page, `(frame, ns)`: the picture advanced, and
/// the frames' timestamps are 1/30 s apart per frame.
fn assert_advancing_at_30_fps((n1, ts1): (u64, u64), (n2, ts2): (u64, u64)) {
    assert!(n2 > n1, "the picture does not advance ({n1} then {n2})");
    let want = (n2 - n1) * 1_000_000_000 / 30;
    assert!(
        (ts2 - ts1).abs_diff(want) < 2_000_000,
        "frames {n1}..{n2} stamped {} ns apart, want {want}",
        ts2 - ts1
    );
}
