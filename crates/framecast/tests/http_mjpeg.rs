//! `httpserversink` and `Sender::http` in a real pipeline with real
//! viewers: two Chromium tabs on the viewer page (MJPEG, since no WHEP
//! is mounted) and `curl -N` on `/<path>/mjpeg` all receive frames at
//! once; closing a tab frees its viewer; nothing is encoded while nobody
//! watches; the token guards the stream.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use framecast::elements::net::http::httpserversink::HttpServerSink;
use framecast::sender::Sender;
use framecast::State;
use framecast_test_support::{browser::Browser, frames, http, interop, pipelines};
use serde_json::Value;

const PIPELINE: &str =
    "testsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 \
                        ! httpserversink name=web port=0 path=cam";

/// The MJPEG viewers `/api/stats` lists for `/cam`.
fn viewers(addr: std::net::SocketAddr) -> Vec<Value> {
    let stats = http::get(addr, "/api/stats").json();
    stats["sources"]["mjpeg:/cam"]["viewers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits (bounded) until `/api/stats` lists `n` viewers.
fn wait_viewers(addr: std::net::SocketAddr, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = viewers(addr).len();
        if got == n || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn two_tabs_and_curl_receive_frames_and_a_closed_tab_frees_its_viewer() {
    let p = pipelines::launch(PIPELINE);
    p.set_state(State::Playing).unwrap();
    let web = pipelines::element(&p, "web");
    let port = pipelines::uint(&web, "bound-port") as u16;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let url = HttpServerSink::from_element(&web).unwrap().url().unwrap();
    assert_eq!(url, format!("http://127.0.0.1:{port}/cam/"));
    // Nobody watches: frames go by unencoded.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pipelines::uint(&web, "frames-unwatched") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(pipelines::uint(&web, "frames-unwatched") > 0);
    assert_eq!(pipelines::uint(&web, "frames-published"), 0);
    // `/cam` is redirected to the page; the page is served.
    let r = http::get(addr, "/cam");
    assert_eq!((r.status, r.header("location")), (308, Some("/cam/")));
    assert!(http::get(addr, "/cam/").text().contains("framecast viewer"));

    let Some(browser) = Browser::start() else {
        return;
    };
    let shows_frames = "const v = window.framecastViewer, i = document.getElementById('mjpeg'); \
                        return v && v.mode === 'mjpeg' && i.complete && i.naturalWidth > 0 ? i.naturalWidth : null";
    let first = browser.tab();
    browser.goto(&url);
    assert_eq!(browser.wait_for(shows_frames, 15.0), 320);
    let second = browser.new_tab();
    browser.goto(&url);
    assert_eq!(browser.wait_for(shows_frames, 15.0), 320);
    // WHEP is not mounted here: the page says why it fell back.
    let why = browser.run_js("return window.framecastViewer.error");
    assert!(why.as_str().unwrap_or("").contains("404"), "{why}");
    if interop::tool_available("curl") {
        let out = Command::new("curl")
            .args(["-sN", "--max-time", "2", &format!("{url}mjpeg")])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // All three at once while curl runs.
        assert_eq!(wait_viewers(addr, 3), 3, "{:?}", viewers(addr));
        let got = out.wait_with_output().unwrap().stdout;
        let parts = got
            .windows(4)
            .filter(|w| *w == [0xFF, 0xD8, 0xFF, 0xDB])
            .count()
            .max(got.windows(11).filter(|w| *w == b"--framecast").count());
        assert!(parts >= 10, "curl got {parts} parts in 2 s");
        assert_eq!(wait_viewers(addr, 2), 2);
    }
    for v in viewers(addr) {
        assert!(v["sent"].as_u64().unwrap() > 0, "{v}");
    }
    browser.close_tab();
    browser.switch_to(&first);
    assert_eq!(wait_viewers(addr, 1), 1, "closing a tab frees its viewer");
    let _ = second;
    drop(browser);
    assert_eq!(wait_viewers(addr, 0), 0);
    assert!(pipelines::uint(&web, "frames-published") > 0);
    p.set_state(State::Null).unwrap();
}

#[test]
fn the_token_guards_the_stream_and_the_dashboard_beside_it() {
    let p = pipelines::launch(&format!("{PIPELINE} token=s3cret"));
    p.set_state(State::Playing).unwrap();
    let web = pipelines::element(&p, "web");
    let addr: std::net::SocketAddr =
        ([127, 0, 0, 1], pipelines::uint(&web, "bound-port") as u16).into();
    assert_eq!(http::get(addr, "/cam/mjpeg").status, 401);
    assert_eq!(http::get(addr, "/api/stats").status, 401);
    let mut s = http::Stream::open(addr, "/cam/mjpeg?access_token=s3cret");
    assert_eq!(s.head.status, 200);
    assert!(s
        .head
        .header("content-type")
        .unwrap()
        .starts_with("multipart/x-mixed-replace"));
    assert!(s.read_until_count(b"Content-Type: image/jpeg", 3) >= 3);
    p.set_state(State::Null).unwrap();
}

#[test]
fn a_sender_serves_its_frames_to_browsers() {
    // The defaults (H.264, BGR, 30 fps) at a small size; HTTP only.
    let sender = Sender::builder()
        .http("127.0.0.1:0")
        .size(160, 120)
        .build()
        .unwrap();
    serves_mjpeg(sender);
}

#[test]
fn beside_an_rtp_client_webrtc_shares_the_senders_h264_encode() {
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = Sender::builder()
        .to(&rtp.local_addr().unwrap().to_string())
        .http("127.0.0.1:0")
        .size(160, 120)
        .build()
        .unwrap();
    let count = |factory: &str| pipelines::count_factory(sender.pipeline(), factory);
    assert_eq!((count("h264enc"), count("whepsink")), (1, 1));
    // Port 0: the page and its WHEP on one server, the port it was given
    // (each sink binding port 0 itself once gave them two).
    let addr = http::url_addr(&sender.http().expect("serving HTTP"));
    let whep = pipelines::element(sender.pipeline(), "whep");
    assert_eq!(pipelines::uint(&whep, "bound-port"), u64::from(addr.port()));
    let preflight = http::request(addr, "OPTIONS", "/stream/whep", &[], b"");
    assert!(
        (200..300).contains(&preflight.status),
        "OPTIONS /stream/whep on the page's server: {}",
        preflight.status
    );
    serves_mjpeg(sender);
}

/// Pushes frames into `sender` until an MJPEG viewer of its HTTP output
/// has read three parts.
fn serves_mjpeg(sender: Sender) {
    let url = sender.http().expect("serving HTTP");
    let addr = http::url_addr(&url);
    let mut viewer = http::Stream::open(addr, "/stream/mjpeg");
    assert_eq!(viewer.head.status, 200);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                let mut frame = sender.frame().unwrap();
                frames::paint_moving_bar(&mut frame, 160, 120, 3, n);
                let _ = sender.push(frame);
                n += 1;
                std::thread::sleep(Duration::from_millis(30));
            }
        });
        let got = viewer.read_until_count(b"Content-Type: image/jpeg", 3);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(got >= 3, "{got} parts");
    });
    let jpeg_start = viewer.pending.windows(2).any(|w| w == [0xFF, 0xD8]);
    assert!(jpeg_start, "no JPEG start of image in the parts");
    dashboard_shows_pools_and_latency_bins(addr);
    sender.finish().unwrap();
}

/// The dashboard beside a running sender: its frame pools are listed with
/// their counters, and latency per stage comes as histogram bins, in
/// `/api/stats` and as Prometheus histograms in `/metrics` (the same
/// cumulative counts, `+Inf` equal to `_count`).
fn dashboard_shows_pools_and_latency_bins(addr: std::net::SocketAddr) {
    let stats = http::get(addr, "/api/stats").json();
    let pools = stats["pools"].as_array().expect("pools listed");
    // The frames' pool: configured, its buffers either out or free
    // (the sender's pools are unbounded: `max` is null).
    let counted = |p: &Value, k: &str| p[k].as_u64().unwrap_or(u64::MAX);
    assert!(
        pools.iter().any(|p| p["video"] == true
            && counted(p, "min") >= 1
            && counted(p, "allocated") == counted(p, "in_use") + counted(p, "free")
            && p["max"].is_null()),
        "no configured video pool in {pools:?}"
    );
    // A pool the ALLOCATION decision made is recorded at its caller, not
    // inside the decision, and named after the element and pad it serves
    // (the site is a base class for most).
    let sites: Vec<&str> = pools.iter().filter_map(|p| p["site"].as_str()).collect();
    assert!(sites.iter().any(|s| s.contains("h264enc.rs")), "{sites:?}");
    assert!(
        !sites.iter().any(|s| s.contains("allocation.rs")),
        "{sites:?}"
    );
    let names: Vec<&str> = pools.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains("h264enc") && n.ends_with(":pool:src")),
        "{names:?}"
    );
    let paths = stats["latency"]["paths"].as_array().expect("latency paths");
    let path = paths
        .iter()
        .find(|p| p["latency"]["count"].as_u64().unwrap_or(0) > 0)
        .unwrap_or_else(|| panic!("no latency samples in {paths:?}"));
    let l = &path["latency"];
    let bins: Vec<u64> = l["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .collect();
    assert!(bins.windows(2).all(|w| w[0] <= w[1]), "{l}");
    assert!(l["bins"][0]["le_ms"] == 0.5, "{l}");
    // The fixed bins and the quantiles are counted apart: the median lies
    // in the first bin holding half the samples.
    let count = l["count"].as_u64().unwrap();
    let le = |k: usize| l["bins"][k]["le_ms"].as_f64().unwrap_or(f64::INFINITY);
    let k = bins.iter().position(|&n| n * 2 >= count).unwrap();
    let p50 = l["p50_ms"].as_f64().unwrap();
    assert!(le(k) >= p50 * 0.96, "median {p50} ms above bin {k}: {l}");
    assert!(
        k == 0 || le(k - 1) <= p50 * 1.04,
        "median {p50} ms below bin {k}: {l}"
    );
    // Every sample under a second (loopback): the 1 s bin holds them all.
    if l["max_ms"].as_f64().unwrap() <= 1000.0 {
        assert_eq!(bins[bins.len() - 2], count, "{l}");
    }

    let text = http::get(addr, "/metrics").text();
    assert!(text.contains("# TYPE framecast_latency_seconds histogram"));
    let (source, element) = (
        path["source"].as_str().unwrap(),
        path["element"].as_str().unwrap(),
    );
    let labels = format!("source=\"{source}\",element=\"{element}\"");
    let value = |line_start: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {line_start} in {text}"))
    };
    // Read later than /api/stats: at least as many samples.
    let inf = value(&format!(
        "framecast_latency_seconds_bucket{{{labels},le=\"+Inf\"}}"
    ));
    let count = value(&format!("framecast_latency_seconds_count{{{labels}}}"));
    assert!(count >= l["count"].as_u64().unwrap() as f64);
    let one_s = value(&format!(
        "framecast_latency_seconds_bucket{{{labels},le=\"1\"}}"
    ));
    assert!(one_s <= inf && one_s >= bins[bins.len() - 2] as f64);
    let half_ms = value(&format!(
        "framecast_latency_seconds_bucket{{{labels},le=\"0.0005\"}}"
    ));
    assert!(half_ms <= inf);
    assert!(value(&format!("framecast_latency_seconds_sum{{{labels}}}")) > 0.0);
}

#[test]
fn whepsink_and_httpserversink_refuse_connections_past_max_connections() {
    for sink in [
        "httpserversink name=web port=0 max-connections=2",
        "openh264enc ! whepsink name=web port=0 max-connections=2",
    ] {
        let p = pipelines::launch(&format!(
            "testsrc is-live=true ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 ! {sink}"
        ));
        p.set_state(State::Playing).unwrap();
        let web = pipelines::element(&p, "web");
        let addr: std::net::SocketAddr =
            ([127, 0, 0, 1], pipelines::uint(&web, "bound-port") as u16).into();
        let idle: Vec<std::net::TcpStream> = (0..4)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        // The two past the limit are answered 503 (or closed) at once.
        let mut refused = 0;
        // (The first two stay open meanwhile: they hold the limit.)
        for mut c in idle.iter().skip(2) {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut b = [0u8; 64];
            match std::io::Read::read(&mut c, &mut b) {
                Ok(0) => refused += 1,
                Ok(n) if b[..n].starts_with(b"HTTP/1.1 503") => refused += 1,
                other => panic!("{sink}: {other:?}"),
            }
        }
        assert_eq!(refused, 2, "{sink}");
        p.set_state(State::Null).unwrap();
    }
}
