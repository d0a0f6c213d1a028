//! `framecast-bench webrtc`: WebRTC to the browser. A `Sender` with
//! `.http(...)` (the branch `framecast serve --http` runs: raw frames →
//! `h264enc ! whepsink`, beside MJPEG) in this process, fed stamped 720p30
//! frames at their pace; headless Chromium tabs play it over WHEP with
//! `jitterBufferTarget` and `playoutDelayHint` 0.
//!
//! - Glass to glass: each frame the page presents
//!   (`requestVideoFrameCallback`: `timeOrigin + presentationTime`) is
//!   read back from a canvas (the counter stamp: frame number and
//!   `CLOCK_MONOTONIC` at `push`), the page's clock mapped onto ours by the
//!   tightest of several round trips; p50/p99 of presented − pushed.
//! - Server CPU per frame (this process: paint, push, convert, encode,
//!   WebRTC) with 0, 1 and 10 tabs watching; the ratio 10 : 1.
//! - MJPEG beside it, in the same run and the same way, once the WebRTC
//!   tabs are closed: one tab reads `/stream/mjpeg` by `fetch()`, decodes
//!   each part with `createImageBitmap` (an `<img>` fires no event per
//!   part) and reads the stamp from the bitmap; glass to glass is the
//!   instant the bitmap is ready less the push time; with the server's
//!   CPU per frame while it watches (the JPEG encode is the branch's own).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast::elements::net::whepsink::WhepSink;
use framecast::sender::{Codec, Sender};
use framecast::VideoFormat;
use framecast_test_support::browser::Browser;
use framecast_test_support::ports::free_tcp_port;
use framecast_test_support::whep::{frames_decoded, mount_page, play};

use crate::latency::{cpu_clock_ns, Format, Pattern};
use crate::stamp::{monotonic_ns, percentile, Stamp};

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds measured at each point.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Tabs at the second CPU point (the first has one).
    #[arg(long, default_value_t = 10)]
    pub viewers: usize,
    /// Encoder bitrate.
    #[arg(long, value_name = "KBIT/S", default_value_t = 2000)]
    pub bitrate: u32,
}

/// The size and rate of the goals (720p30).
const WIDTH: usize = 1280;
/// See [`WIDTH`].
const HEIGHT: usize = 720;
/// See [`WIDTH`].
const FPS: u32 = 30;

/// Pushes stamped frames at 30 fps until stopped; counts them.
struct Pusher {
    stop: Arc<AtomicBool>,
    pushed: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Pusher {
    fn start(sender: Arc<Sender>) -> Pusher {
        let stop = Arc::new(AtomicBool::new(false));
        let pushed = Arc::new(AtomicU64::new(0));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&pushed));
        let thread = std::thread::spawn(move || {
            let mut pattern = Pattern::new(Format::I420, WIDTH, HEIGHT);
            let period = Duration::from_secs(1) / FPS;
            let t0 = Instant::now();
            let mut n = 0u32;
            while !s.load(Ordering::Relaxed) {
                pattern.draw(n as usize);
                pattern.paint(&Stamp::now(n));
                sender
                    .push_packed(&pattern.frame, None)
                    .map_err(|e| format!("push: {e}"))?;
                p.fetch_add(1, Ordering::Relaxed);
                n += 1;
                let next = t0 + period * n;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            Ok(())
        });
        Pusher {
            stop,
            pushed,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Result<(), String> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            _ => Err("the pushing thread panicked".into()),
        }
    }
}

/// This process's CPU per pushed frame over `seconds`, ms.
fn cpu_per_frame(pusher: &Pusher, seconds: f64) -> Result<f64, String> {
    let cpu = || cpu_clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID).ok_or("no process CPU clock");
    let (c0, f0) = (cpu()?, pusher.pushed.load(Ordering::Relaxed));
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let (c1, f1) = (cpu()?, pusher.pushed.load(Ordering::Relaxed));
    let frames = f1.saturating_sub(f0).max(1);
    Ok(c1.saturating_sub(c0) as f64 / frames as f64 / 1e6)
}

/// `CLOCK_MONOTONIC` minus the page's clock (`timeOrigin + now()`), ns,
/// from the tightest of 20 round trips.
fn page_clock_offset(b: &Browser) -> Result<(f64, f64), String> {
    let mut best: Option<(u64, f64)> = None;
    for _ in 0..20 {
        let m0 = monotonic_ns();
        let page_ms = b
            .run_js("return window.clock()")
            .as_f64()
            .ok_or("no page clock")?;
        let m1 = monotonic_ns();
        let rtt = m1 - m0;
        let offset = (m0 + rtt / 2) as f64 - page_ms * 1e6;
        if best.is_none_or(|(r, _)| rtt < r) {
            best = Some((rtt, offset));
        }
    }
    let (rtt, offset) = best.ok_or("no round trip")?;
    Ok((offset, rtt as f64 / 1e6))
}

/// Glass to glass over `seconds`: presented − pushed, ms, sorted, for
/// each instant the page records (a row of `window.presented` is the
/// stamp's frame and push time, then one or more page-clock instants).
fn glass_to_glass(
    b: &Browser,
    seconds: f64,
    instants: usize,
) -> Result<(Vec<Vec<f64>>, f64), String> {
    let (offset, rtt_ms) = page_clock_offset(b)?;
    b.run_js("window.presented = []; return 0");
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let got = b.run_js("return window.presented");
    let rows = got.as_array().ok_or("no presented frames")?;
    let column = |i: usize| {
        let mut ms: Vec<f64> = rows
            .iter()
            .filter_map(|r| {
                let pushed: f64 = r[1].as_str()?.parse().ok()?;
                let presented = r[2 + i].as_f64()? * 1e6 + offset;
                Some((presented - pushed) / 1e6)
            })
            .filter(|v| v.is_finite() && (-100.0..10_000.0).contains(v))
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let ms = (0..instants).map(column).collect();
    Ok((ms, rtt_ms))
}

/// Runs the benchmark and prints its rows.
///
/// # Errors
///
/// No Chromium, a sender that does not build, a page that never plays.
pub fn run(args: &Args) -> Result<(), String> {
    let b = Browser::start().ok_or("chromium and chromium-driver are needed")?;
    let addr = format!("127.0.0.1:{}", free_tcp_port());
    let sender = Sender::builder()
        .http(&addr)
        .codec(Codec::H264)
        .size(WIDTH as u32, HEIGHT as u32)
        .fps(FPS)
        .input_format(VideoFormat::I420)
        .bitrate(args.bitrate)
        .build()
        .map_err(|e| format!("Sender::build: {e}"))?;
    let sender = Arc::new(sender);
    let socket: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let server = framecast_http::HttpServer::bind(socket, framecast_http::HttpConfig::default())
        .map_err(|e| e.to_string())?;
    let _page = mount_page(&server);
    let pusher = Pusher::start(Arc::clone(&sender));
    std::thread::sleep(Duration::from_secs(2));
    let cpu0 = cpu_per_frame(&pusher, args.seconds)?;
    let url = format!("http://{addr}/page?whep=http://{addr}/stream/whep&record=1");
    let first = b.tab();
    let took = play(&b, &url);
    std::thread::sleep(Duration::from_secs(2));
    let f0 = frames_decoded(&b);
    let (ms, rtt_ms) = glass_to_glass(&b, args.seconds, 1)?;
    let ms = ms.concat();
    let fps = (frames_decoded(&b) - f0) as f64 / args.seconds;
    let cpu1 = cpu_per_frame(&pusher, args.seconds)?;
    let mut tabs = Vec::new();
    for _ in 1..args.viewers {
        tabs.push(b.new_tab());
        play(&b, &url.replace("&record=1", ""));
    }
    std::thread::sleep(Duration::from_secs(2));
    let sent = || -> Vec<u64> {
        let whep = sender.pipeline().by_name("whep");
        let sink = whep.as_ref().and_then(WhepSink::from_element);
        sink.map(|s| s.viewers().iter().map(|v| v.frames_sent).collect())
            .unwrap_or_default()
    };
    let sent0 = sent();
    let cpu_n = cpu_per_frame(&pusher, args.seconds)?;
    let sent1 = sent();
    // Frames each session got in the window (all of them, or it is not
    // a 10-viewer figure).
    let per_session: Vec<u64> = sent1.iter().zip(&sent0).map(|(b, a)| b - a).collect();
    b.switch_to(&first);
    let f1 = frames_decoded(&b);
    std::thread::sleep(Duration::from_secs(2));
    let fps_n = (frames_decoded(&b) - f1) as f64 / 2.0;
    for tab in &tabs {
        b.switch_to(tab);
        b.close_tab();
    }
    b.switch_to(&first);
    let mjpeg = mjpeg_case(&b, &addr, &pusher, args.seconds)?;
    pusher.finish()?;
    let n = ms.len();
    println!("webrtc (WHEP, Sender::http, openh264 {WIDTH}x{HEIGHT}@{FPS}, {} kbit/s), Chromium headless:", args.bitrate);
    println!(
        "first decoded frame {:.0} ms after opening the page",
        took.as_secs_f64() * 1e3
    );
    println!(
        "| glass to glass | frames | p50 ms | p99 ms | min ms | clock round trip ms | decoded fps |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    if n == 0 {
        return Err("no presented frame carried a readable stamp".into());
    }
    println!(
        "| push → presented (rVFC) | {n} | {:.1} | {:.1} | {:.1} | {rtt_ms:.1} | {fps:.1} |",
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        ms[0]
    );
    let (jrtt, jfps) = (mjpeg.rtt_ms, mjpeg.fps);
    let what = [
        "push → bitmap ready (MJPEG, fetch + createImageBitmap)",
        "push → rendering step painting the canvas (MJPEG, rAF)",
    ];
    for (what, jms) in what.iter().zip(&mjpeg.ms) {
        match jms.first() {
            Some(min) => println!(
                "| {what} | {} | {:.1} | {:.1} | {min:.1} | {jrtt:.1} | {jfps:.1} |",
                jms.len(),
                percentile(jms, 50.0),
                percentile(jms, 99.0),
            ),
            None => println!("| {what}: no readable stamp | 0 | | | | | |"),
        }
    }
    println!("| server CPU per frame | viewers | ms | × 1 viewer |\n|---|---:|---:|---:|");
    println!("| encode alone (no viewer) | 0 | {cpu0:.2} | |");
    println!("| WebRTC | 1 | {cpu1:.2} | 1.00 |");
    let n = args.viewers;
    println!("| WebRTC | {n} | {cpu_n:.2} | {:.2} |", cpu_n / cpu1);
    println!("| MJPEG (its own JPEG encode) | 1 | {:.2} | |", mjpeg.cpu);
    let added = (cpu_n - cpu1) / (n.max(2) - 1) as f64;
    println!("each added viewer: {added:.3} ms a frame");
    println!(
        "({} sessions, frames each got in the {} s window: {per_session:?}; first tab decoding {fps_n:.1} fps)",
        per_session.len(),
        args.seconds
    );
    Ok(())
}

/// What the MJPEG case measured.
struct Mjpeg {
    /// Glass to glass, ms, sorted: to the bitmap ready, to the next
    /// animation frame after it is drawn.
    ms: Vec<Vec<f64>>,
    /// The clock mapping's round trip, ms.
    rtt_ms: f64,
    /// Parts decoded a second.
    fps: f64,
    /// Server CPU per frame with the tab watching, ms.
    cpu: f64,
}

/// MJPEG in the current tab: the page reads `/stream/mjpeg` (its
/// `?mjpeg=` mode), then glass to glass and CPU per frame as for WebRTC.
fn mjpeg_case(b: &Browser, addr: &str, pusher: &Pusher, seconds: f64) -> Result<Mjpeg, String> {
    b.goto(&format!(
        "http://{addr}/page?mjpeg=http://{addr}/stream/mjpeg&record=1"
    ));
    let got = b.wait_for(
        "return window.jpegs > 0 || (window.st.state === 'error' ? window.st : null)",
        15.0,
    );
    if got != serde_json::Value::Bool(true) {
        return Err(format!("the MJPEG page never decoded a part: {got}"));
    }
    std::thread::sleep(Duration::from_secs(2));
    let jpegs = || b.run_js("return window.jpegs").as_u64().unwrap_or(0);
    let j0 = jpegs();
    let (ms, rtt_ms) = glass_to_glass(b, seconds, 2)?;
    let fps = (jpegs() - j0) as f64 / seconds;
    let cpu = cpu_per_frame(pusher, seconds)?;
    Ok(Mjpeg {
        ms,
        rtt_ms,
        fps,
        cpu,
    })
}
