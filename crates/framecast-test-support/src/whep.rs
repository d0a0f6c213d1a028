//! WHEP in headless Chromium, for the tests and `framecast-bench webrtc`:
//! an H.264 stream served by `whepsink` with a bare viewer page
//! (`whep_page.html`: WHEP by `fetch`, `jitterBufferTarget` 0, the
//! `inbound-rtp` stats, the counter stamp read from a canvas, each
//! presented frame's stamp from `requestVideoFrameCallback`) mounted
//! beside it at `/page`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::browser::Browser;
use crate::pipelines::{element, uint};
use framecast::elements::net::whepsink::WhepSink;
use framecast::elements::video::{write_counter_buffer, CounterStamp};
use framecast::sender::Sender;
use framecast::ClockTime;
use framecast::{parse_launch, Element, Pipeline, State};
use framecast_http::{HttpConfig, HttpServer, Mounted, Request, Response, RouteFn};
use serde_json::Value;

/// The viewer page: `/page?whep=URL&token=T`.
pub const PAGE: &str = include_str!("whep_page.html");

/// A served stream: its pipeline, its `whepsink`, the HTTP address.
pub struct Served {
    /// The playing pipeline (set to Null when dropped).
    pub pipeline: Pipeline,
    /// Its `whepsink`.
    pub sink: Element,
    /// The HTTP server's address.
    pub addr: SocketAddr,
    _page: Mounted,
}

/// A live 30 fps 640x480 counter stream, 10 s GOP (a quick first picture
/// can only come from the keyframe a new viewer asks for), served by
/// `whepsink` on 127.0.0.1 at `/cam/whep`, the page at `/page`.
pub fn serve(token: Option<&str>) -> Served {
    serve_source(
        "testsrc pattern=counter is-live=true ! video/x-raw,format=I420,width=640,height=480,framerate=30/1",
        token,
    )
}

/// `source ! openh264enc gop-size=300 ! whepsink` (`source` gives raw
/// video; name an `appsrc` in it to push frames), served as [`serve`] does.
pub fn serve_source(source: &str, token: Option<&str>) -> Served {
    let token_prop = token.map(|t| format!("token={t}")).unwrap_or_default();
    let pipeline = parse_launch(&format!(
        "{source} ! openh264enc gop-size=300 ! whepsink name=sink port=0 path=cam max-sessions=64 {token_prop}"
    ))
    .expect("pipeline");
    pipeline.set_state(State::Playing).expect("playing");
    let sink = element(&pipeline, "sink");
    let deadline = Instant::now() + Duration::from_secs(10);
    while uint(&sink, "bound-port") == 0 {
        assert!(Instant::now() < deadline, "whepsink never bound");
        std::thread::sleep(Duration::from_millis(20));
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], uint(&sink, "bound-port") as u16));
    let config = HttpConfig {
        token: token.map(str::to_string),
        ..HttpConfig::default()
    };
    let server = HttpServer::bind(addr, config).expect("the same server");
    let page = mount_page(&server);
    Served {
        pipeline,
        sink,
        addr,
        _page: page,
    }
}

/// Mounts the viewer page at `/page` on `server`, served without the
/// token (a page is loaded without a header; it sends the token itself).
pub fn mount_page(server: &Arc<HttpServer>) -> Mounted {
    let page = RouteFn(|_: &Request| Response::html(PAGE));
    server
        .mount("page", Arc::new(Public(page)))
        .expect("mount the page")
}

/// A route served without the token (a page is loaded without a header).
struct Public<R>(R);

impl<R: framecast_http::Route> framecast_http::Route for Public<R> {
    fn handle(&self, req: &Request) -> Response {
        self.0.handle(req)
    }
    fn public(&self, _req: &Request) -> bool {
        true
    }
}

impl Served {
    /// The page's URL, playing this stream.
    pub fn page_url(&self, token: Option<&str>) -> String {
        page_url(self.addr, "cam", token)
    }

    /// WebRTC sessions now.
    pub fn viewers(&self) -> usize {
        WhepSink::from_element(&self.sink)
            .map(|s| s.viewers().len())
            .unwrap_or(0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(State::Null);
    }
}

/// The page on `addr`, playing the WHEP stream at `/path/whep`.
pub fn page_url(addr: SocketAddr, path: &str, token: Option<&str>) -> String {
    let whep = format!("http://{addr}/{path}/whep");
    match token {
        Some(t) => format!("http://{addr}/page?whep={whep}&token={t}"),
        None => format!("http://{addr}/page?whep={whep}"),
    }
}

/// The counter stamp of the frame the page's video shows now: its frame
/// number and timestamp (ns).
pub fn read_stamp(b: &Browser) -> (u64, u64) {
    let v = b.run_js("return window.readStamp()");
    let n = v[0].as_str().and_then(|s| s.parse().ok());
    let ts = v[1].as_str().and_then(|s| s.parse().ok());
    match (n, ts) {
        (Some(n), Some(ts)) => (n, ts),
        _ => panic!("no stamp in the picture: {v}"),
    }
}

/// Pushes frame `n` into `sender` (I420 input): a pooled frame, mid-grey,
/// with the counter stamp of frame `n` at `n / 30` s, as `testsrc
/// pattern=counter` writes it (what [`read_stamp`] reads back).
pub fn push_counter(sender: &Sender, n: u64) {
    let mut frame = sender.frame().expect("pooled frame");
    let info = *sender.video_info();
    let data = frame.get_mut().expect("a writable frame");
    data.map_writable().expect("mapped").fill(128);
    let stamp = CounterStamp {
        frame: n,
        timestamp: Some(ClockTime::from_nseconds(n * 1_000_000_000 / 30)),
    };
    assert_eq!(write_counter_buffer(data, &info, stamp).ok(), Some(true));
    assert!(sender.push(frame).is_ok(), "push refused");
}

/// `framesDecoded` of the page's video receiver (0 before any).
pub fn frames_decoded(b: &Browser) -> u64 {
    b.run_js("return window.inb ? window.inb.framesDecoded || 0 : 0")
        .as_u64()
        .unwrap_or(0)
}

/// Opens the page and waits until it decodes; returns how long that took.
pub fn play(b: &Browser, url: &str) -> Duration {
    let t0 = Instant::now();
    b.goto(url);
    let v = b.wait_for(
        "return (window.inb && window.inb.framesDecoded > 0) || \
         (window.st.state === 'error' || window.st.state === 'refused' ? window.st : null)",
        15.0,
    );
    assert_eq!(v, Value::Bool(true), "the page never decoded: {v}");
    t0.elapsed()
}
