//! `framecast demo`: the whole job on one machine. A receiver
//! (`framecast receive`, a child process, as a client would run it) and a
//! sender (this process, the `Sender` API, a moving test pattern in BGR as
//! OpenCV makes it) stream 1280x720 at 30 fps over RTP/H.264 on 127.0.0.1,
//! then a summary says what happened: frames sent and received, latency
//! from `push` to decoded frame, the sender's CPU time per frame, peak
//! memory, drops, and the leaks tracer's verdict on both processes. The
//! same encode is also served over RTSP, watched by a second receiver
//! (`framecast receive rtsp://…`) and open to ffplay meanwhile (see
//! [`crate::demo_rtsp`]), and served to browsers over HTTP (the live
//! dashboard, a WebRTC viewer page taking the same H.264 encode, MJPEG),
//! where an MJPEG viewer in this process watches it for a few seconds
//! and reads the dashboard's API (see [`crate::demo_http`]).

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::receive::Summary;
use crate::receiver_child::ReceiverChild;
use crate::rss::peak_rss_kib;
use crate::send::{interruptible, send, SendArgs};
use framecast_impair::{Impairment, Relay};

/// Options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How long to stream.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Frame size `WxH`.
    #[arg(long, default_value = "1280x720")]
    size: String,
    /// Frames per second.
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Encoding on the wire.
    #[arg(long, value_parser = ["h264", "jpeg", "raw"], default_value = "h264")]
    codec: String,
    /// H.264 bitrate, kbit/s.
    #[arg(long, default_value_t = 4000)]
    bitrate: u32,
    /// RTP port on 127.0.0.1 (RTCP on the next); default: a free pair.
    #[arg(long)]
    port: Option<u16>,
    /// TCP port of the RTSP server on 127.0.0.1 that serves the stream
    /// too (`rtsp://127.0.0.1:PORT/demo`); default: a free one.
    #[arg(long)]
    rtsp_port: Option<u16>,
    /// TCP port of the HTTP server on 127.0.0.1 that serves browsers too
    /// (the dashboard at `/`, the viewer page at `/demo/`, MJPEG at
    /// `/demo/mjpeg`); default: a free one.
    #[arg(long)]
    http_port: Option<u16>,
    /// Drop this percentage of the RTP packets on the way (an impairment
    /// relay between sender and receiver, on 127.0.0.1): shows the
    /// receiver asking for what is lost (NACK, answered with RTX),
    /// concealing what still misses, and asking for keyframes.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Write the RSS samples (seconds, sender KiB, receiver KiB; one a
    /// second) to this CSV file.
    #[arg(long)]
    rss_log: Option<std::path::PathBuf>,
}

/// A free UDP port `p` on 127.0.0.1 with `p + 1` free too (RTP, RTCP).
fn free_port_pair() -> Result<u16, String> {
    for _ in 0..64 {
        let rtp = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("binding a UDP port: {e}"))?;
        let port = rtp.local_addr().map_err(|e| e.to_string())?.port();
        let Some(next) = port.checked_add(1) else {
            continue;
        };
        if UdpSocket::bind(("127.0.0.1", next)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free pair of UDP ports on 127.0.0.1".into())
}

/// `port`, or a free TCP port on 127.0.0.1 for the server named `what`.
pub(crate) fn tcp_port(port: Option<u16>, what: &str) -> Result<u16, String> {
    match port {
        Some(p) => Ok(p),
        None => std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("finding a free TCP port for {what}: {e}")),
    }
}

/// CPU time (user + system) of this process.
fn cpu_time() -> Duration {
    // SAFETY: `rusage` is plain data; all-zero is a valid value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage; RUSAGE_SELF cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Resident set size of process `pid` (`self` for this one), in KiB, from
/// `/proc/<pid>/statm`.
fn rss_kib(pid: &str) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).unwrap_or(4096) / 1024)
}

/// Memory over a run: RSS sampled once a second, judged after a warm-up
/// (the encoder's first allocations, the first frames through each pool).
///
/// Growth comes in steps, not slopes: a pool frame first used costs its
/// pages then (a 1080p BGR frame: 6 MiB at once), and a busy moment can
/// first use one after minutes. A least-squares slope turned one such
/// step into "+256 KiB/min" over 10 minutes, and 0.15 MiB of noise into
/// "+1940 KiB/min" over 10 s. So the steps are told as steps (when, how
/// big, in frames), and only what grew outside them, over a minute or
/// more, is told as a rate: the shape a leak has.
#[derive(Debug, Default, Clone)]
struct RssTrend {
    /// (seconds since start, KiB).
    samples: Vec<(f64, u64)>,
}

/// Samples before this many seconds are warm-up.
const WARM_UP_S: f64 = 5.0;

/// A rise between two samples at least this big is a step; smaller ones
/// are the allocator's noise (and count as drift when they add up).
const STEP_KIB: i64 = 512;

/// Growth after warm-up.
#[derive(Debug, Clone, PartialEq)]
struct Growth {
    /// From the first sample after warm-up to the last, KiB.
    total: i64,
    /// (seconds, KiB) of each rise of [`STEP_KIB`] or more (rises in
    /// consecutive samples are one step).
    steps: Vec<(f64, i64)>,
    /// Seconds the samples after warm-up span.
    span: f64,
}

impl Growth {
    /// What grew outside the steps, KiB.
    fn drift(&self) -> i64 {
        self.total - self.steps.iter().map(|s| s.1).sum::<i64>()
    }
}

impl RssTrend {
    fn after_warm_up(&self) -> Option<Growth> {
        let s: Vec<(f64, i64)> = self
            .samples
            .iter()
            .filter(|(t, _)| *t >= WARM_UP_S)
            .map(|&(t, k)| (t, i64::try_from(k).unwrap_or(i64::MAX)))
            .collect();
        if s.len() < 3 {
            return None;
        }
        let mut steps: Vec<(f64, i64)> = Vec::new();
        let mut rising = false;
        for pair in s.windows(2) {
            let rise = pair[1].1 - pair[0].1;
            if rise >= STEP_KIB {
                match steps.last_mut() {
                    Some(step) if rising => step.1 += rise,
                    _ => steps.push((pair[1].0, rise)),
                }
            }
            rising = rise >= STEP_KIB;
        }
        Some(Growth {
            total: s[s.len() - 1].1 - s[0].1,
            steps,
            span: s[s.len() - 1].0 - s[0].0,
        })
    }

    /// The growth for people; `frame_kib`, the size of the process's
    /// frames, says how many frames a step is.
    fn describe(&self, frame_kib: u64) -> String {
        let Some(g) = self.after_warm_up() else {
            return "run too short to judge".into();
        };
        let mib = |k: i64| k as f64 / 1024.0;
        let mut text = if g.steps.is_empty() && g.total.abs() < STEP_KIB {
            format!(
                "flat after the first {WARM_UP_S:.0} s ({:+.2} MiB)",
                mib(g.total)
            )
        } else if g.steps.is_empty() {
            format!(
                "{:+.1} MiB after the first {WARM_UP_S:.0} s, in no step",
                mib(g.total)
            )
        } else {
            let shown: Vec<String> = g
                .steps
                .iter()
                .take(4)
                .map(|&(t, k)| {
                    format!(
                        "{:+.1} MiB at {t:.0} s = {:.1} frames",
                        mib(k),
                        k as f64 / frame_kib.max(1) as f64
                    )
                })
                .collect();
            format!(
                "{:+.1} MiB after the first {WARM_UP_S:.0} s, in {} step{} ({}{})",
                mib(g.total),
                g.steps.len(),
                if g.steps.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if g.steps.len() > 4 { ", ..." } else { "" }
            )
        };
        let drift = g.drift();
        if drift.abs() >= STEP_KIB && g.span >= 60.0 {
            text.push_str(&format!(
                "; {:+.1} MiB outside steps ({:+.0} KiB/min)",
                mib(drift),
                drift as f64 / g.span * 60.0
            ));
        }
        text
    }
}

/// RSS of this process and of the receiver, and this process's buffer
/// pools at their largest.
#[derive(Debug, Default)]
struct Sampled {
    own: RssTrend,
    theirs: RssTrend,
    pools: Vec<crate::pools::PoolSize>,
}

/// Samples the RSS of this process and of `child` once a second until
/// `stop` is set.
fn sample_rss(
    child: u32,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Sampled> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut sampled = Sampled::default();
        let bytes = |p: &[crate::pools::PoolSize]| p.iter().map(|p| p.bytes).sum::<u64>();
        let child = child.to_string();
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            let t = start.elapsed().as_secs_f64();
            if let Some(k) = rss_kib("self") {
                sampled.own.samples.push((t, k));
            }
            if let Some(k) = rss_kib(&child) {
                sampled.theirs.samples.push((t, k));
            }
            let pools = crate::pools::pool_sizes();
            if bytes(&pools) > bytes(&sampled.pools) {
                sampled.pools = pools;
            }
            for _ in 0..10 {
                if stop.load(std::sync::atomic::Ordering::Acquire) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        sampled
    })
}

/// Pulls one number out of the receiver's one-line JSON summary.
pub(crate) fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// One string out of the receiver's JSON summary (none of its strings
/// holds a quote).
fn json_string(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let rest = &json[at..];
    rest.find('"').map(|end| rest[..end].to_string())
}

/// The receiver's summary, from its JSON line.
fn parse_summary(json: &str) -> Summary {
    let n = |k| json_number(json, k).unwrap_or(0.0);
    Summary {
        frames: n("frames") as u64,
        seconds: n("seconds"),
        packets: n("packets") as u64,
        lost: n("lost") as u64,
        frames_discarded: n("frames_discarded") as u64,
        stream_restarts: n("stream_restarts") as u64,
        late: n("late") as u64,
        stray: n("stray") as u64,
        frames_concealed: n("frames_concealed") as u64,
        decode_errors: n("decode_errors") as u64,
        jitter_us: n("jitter_us") as u64,
        latency: Default::default(),
        decoded: None,
        bye: json.contains("\"bye\":true"),
        stopped_without_bye: json_number(json, "stopped_without_bye_s"),
        peak_rss_kib: json_number(json, "peak_rss_kib").map(|k| k as u64),
        pools: json_string(json, "pools"),
    }
}

/// Runs `framecast demo`.
pub fn run(args: DemoArgs) -> Result<(), String> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        return Err(format!(
            "--seconds {}: give a positive number",
            args.seconds
        ));
    }
    if !(0.0..=50.0).contains(&args.loss) {
        return Err(format!(
            "--loss {}: give a percentage from 0 to 50",
            args.loss
        ));
    }
    let port = match args.port {
        Some(0) => return Err("--port 0: give a fixed port (RTCP goes on the next one)".into()),
        Some(p) => p,
        None => free_port_pair()?,
    };
    // With --loss the sender sends to a relay that drops packets on the
    // way to the receiver (and carries the receiver's feedback back).
    let relays = if args.loss > 0.0 {
        let relay_port = free_port_pair()?;
        let max_run = Duration::from_secs_f64(args.seconds + 60.0);
        let to = |p: u16| std::net::SocketAddr::from(([127, 0, 0, 1], p));
        let rtp = Relay::start_at(
            Impairment {
                loss: args.loss / 100.0,
                max_run,
                ..Impairment::default()
            },
            relay_port,
            to(port),
        );
        let rtcp = Relay::start_at(
            Impairment {
                max_run,
                ..Impairment::default()
            },
            relay_port + 1,
            to(port + 1),
        );
        Some((relay_port, rtp, rtcp))
    } else {
        None
    };
    let send_to = relays.as_ref().map_or(port, |(p, _, _)| *p);
    // RTSP serves H.264 and JPEG (not raw video).
    let rtsp = match args.codec.as_str() {
        "raw" => None,
        _ => Some(crate::demo_rtsp::url(args.rtsp_port)?),
    };
    let http = crate::demo_http::address(args.http_port)?;
    // Every argument checked before the receiver starts: a size the sender
    // refuses must not leave a receiver child behind it.
    let send_args = SendArgs {
        to: vec![format!("127.0.0.1:{send_to}")],
        serve: rtsp.clone(),
        serve_credentials: None,
        http: Some((http.to_string(), crate::demo_http::PATH.into(), None)),
        codec: args.codec.clone(),
        bitrate: args.bitrate,
        gop: 0,
        fec: 0,
        size: args.size.clone(),
        fps: args.fps,
        input: None,
        format: "bgr".into(),
        pattern: Some("ball".into()),
        seconds: Some(args.seconds),
        sdp: None,
    };
    let plan = send_args.plan()?;
    if port == u16::MAX {
        return Err(format!("--port {port}: no room for RTCP on the next port"));
    }
    let exe = std::env::current_exe().map_err(|e| format!("finding framecast itself: {e}"))?;
    let receiver_args = [
        "--quiet",
        "--json",
        "--address",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--codec",
        &args.codec,
        "--size",
        &args.size,
        "--seconds",
        &format!("{}", args.seconds + 15.0),
    ]
    .map(String::from);
    let receiver = ReceiverChild::spawn(&exe, &receiver_args, "receiver")?;
    // Let the receiver bind its sockets before the first keyframe goes.
    std::thread::sleep(Duration::from_millis(300));

    eprintln!(
        "framecast demo: {} {} at {} fps, {} over RTP/UDP to 127.0.0.1:{port} (RTCP {}), {} s",
        args.codec.to_uppercase(),
        args.size,
        args.fps,
        if args.codec == "h264" {
            format!("{} kbit/s", args.bitrate)
        } else {
            "default quality".into()
        },
        port + 1,
        args.seconds
    );
    eprintln!(
        "receiver: framecast receive --port {port} (pid {})",
        receiver.id()
    );
    if let Some(url) = &rtsp {
        eprintln!(
            "RTSP viewer: framecast receive {url} (ffplay -rtsp_transport tcp {url} opens it \
             too, while the demo runs)"
        );
    }
    let path = crate::demo_http::PATH;
    eprintln!(
        "browser: http://{http}/{path}/ (WebRTC, MJPEG when WebRTC fails), the live dashboard at \
         http://{http}/, while the demo runs"
    );
    let viewer = rtsp
        .as_ref()
        .map(|url| crate::demo_rtsp::watch(exe.clone(), url, &args.codec, args.seconds));
    let browser = crate::demo_http::watch(http, args.seconds);

    framecast::init().map_err(|e| format!("FRAMECAST_TRACERS: {e}"))?;
    let own_tracer = framecast::trace::leaks().is_none();
    if own_tracer {
        framecast::trace::start("leaks(name=demo-leaks,log-leaks-on-deinit=false)")
            .map_err(|e| e.to_string())?;
    }
    let stop_sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = sample_rss(receiver.id(), stop_sampling.clone());
    let cpu_before = cpu_time();
    // Ctrl-C ends the stream early, with its BYE and the summary (the
    // receiver, in the same process group, gets it too and ends as well).
    let interrupted = Arc::new(AtomicBool::new(false));
    let sent = interruptible(&interrupted, || send(&send_args, &plan, &interrupted));
    let cpu_after = cpu_time();
    let sender_rss_kib = peak_rss_kib(std::process::id()).unwrap_or(0);
    stop_sampling.store(true, std::sync::atomic::Ordering::Release);
    let sampled = sampler.join().unwrap_or_default();
    let (sender_trend, receiver_trend) = (&sampled.own, &sampled.theirs);
    if let Some(path) = &args.rss_log {
        let mut csv = String::from("seconds,sender_kib,receiver_kib\n");
        for (i, (t, k)) in sender_trend.samples.iter().enumerate() {
            let theirs = receiver_trend.samples.get(i).map_or(0, |s| s.1);
            csv.push_str(&format!("{t:.1},{k},{theirs}\n"));
        }
        std::fs::write(path, csv).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let leak_report = framecast::trace::leaks().map(|l| l.report(true));
    if own_tracer {
        framecast::trace::stop("demo-leaks");
    }
    framecast::deinit();
    eprintln!();
    let sent = match sent {
        Ok(s) => s,
        Err(e) => {
            receiver.kill();
            return Err(e);
        }
    };

    // The sender's BYE ends the receiver; bounded in case it was lost.
    let finished = receiver.finish(Duration::from_secs(10))?;
    let (status, json, receiver_log) = (finished.status, finished.json, finished.log);
    let viewer = viewer.map(|v| v.join(parse_summary));
    let browser = browser.join();
    if json.is_empty() {
        return Err(format!(
            "the receiver gave no summary ({status}):\n{receiver_log}"
        ));
    }
    let received = parse_summary(&json);
    // The receiver's own peak (its VmHWM, read by it as it finishes), not
    // `RUSAGE_CHILDREN`'s: that is the largest of every child ever waited
    // for, and Linux carries a parent's peak into its child across fork
    // and exec, so it once said 585.6 MiB for a 60 MiB receiver.
    let receiver_rss_kib = received.peak_rss_kib;

    let s = sent.stats;
    let frames_encoded = s.frames_out.max(1);
    let cpu_ms = (cpu_after - cpu_before).as_secs_f64() * 1000.0 / frames_encoded as f64;
    let p50 = json_number(&json, "latency_p50_ms");
    let p99 = json_number(&json, "latency_p99_ms");
    let latency_frames = json_number(&json, "latency_frames").unwrap_or(0.0) as u64;
    let sender_leaks = match &leak_report {
        Some(r) if r.is_clean() => format!("none ({} objects tracked)", r.tracked),
        Some(r) => format!(
            "{} objects, {} bytes still alive:\n{r}",
            r.object_count(),
            r.bytes()
        ),
        None => "not tracked".into(),
    };
    let receiver_leaks = match status.code() {
        Some(0) => "none".to_string(),
        Some(framecast::FATAL_LEAKS_EXIT_STATUS) => format!("LEAKS:\n{receiver_log}"),
        _ => format!("receiver failed ({status}):\n{receiver_log}"),
    };

    println!("framecast demo summary");
    println!(
        "  frames sent       {} in {:.1} s ({} dropped by the sender, latest-wins queue)",
        s.frames_in,
        sent.elapsed.as_secs_f64(),
        s.dropped
    );
    println!(
        "  frames received   {} decoded ({} packets, {} lost, {} damaged frames dropped, jitter {:.2} ms)",
        received.frames,
        received.packets,
        received.lost,
        received.frames_discarded,
        received.jitter_us as f64 / 1000.0
    );
    match (p50, p99) {
        (Some(p50), Some(p99)) => println!(
            "  latency           push -> decoded p50 {p50:.1} ms, p99 {p99:.1} ms ({latency_frames} frames, from the sender's RTCP clock)"
        ),
        _ => println!("  latency           unknown (no RTCP sender report reached the receiver)"),
    }
    println!(
        "  push -> wire      avg {:.1} ms, max {:.1} ms (sender side, every frame)",
        s.latency.as_secs_f64() * 1000.0,
        s.latency_max.as_secs_f64() * 1000.0
    );
    println!(
        "  sender CPU        {cpu_ms:.2} ms per frame (pattern, BGR->I420, encode, RTP, send)"
    );
    println!(
        "  peak RSS          sender {:.1} MiB, receiver {} (VmHWM of each process)",
        sender_rss_kib as f64 / 1024.0,
        receiver_rss_kib.map_or("unknown".to_string(), |k| format!(
            "{:.1} MiB",
            k as f64 / 1024.0
        ))
    );
    // A frame of each: what the sender's pool holds (the pattern, BGR)
    // and what the receiver's decoder makes (I420).
    let (w, h) = (u64::from(plan.info().width), u64::from(plan.info().height));
    let (sender_frame_kib, receiver_frame_kib) = (w * h * 3 / 1024, w * h * 3 / 2 / 1024);
    println!(
        "  RSS growth        sender {}; receiver {}",
        sender_trend.describe(sender_frame_kib),
        receiver_trend.describe(receiver_frame_kib)
    );
    println!(
        "  buffer pools      sender {}; receiver {} (buffers x size, at their largest)",
        crate::pools::describe(&sampled.pools),
        received.pools.as_deref().unwrap_or("unknown")
    );
    println!("  bitrate           {:.0} kbit/s", s.bitrate / 1000.0);
    if let Some((_, rtp, _rtcp)) = relays {
        let relayed = rtp.stop();
        println!(
            "  network           {:.1} % loss: the relay dropped {} of {} packets; {} resent as RTX \
             (NACKs), {} keyframe requests; after repair {} lost, {} frames concealed",
            args.loss,
            relayed.dropped,
            relayed.received,
            s.retransmissions,
            s.keyframe_requests,
            received.lost,
            received.frames_concealed,
        );
    }
    if let Some(v) = &viewer {
        println!("{}", crate::demo_rtsp::describe(v));
    }
    println!("{}", crate::demo_http::describe(http, &browser));
    println!("  leaks             sender: {sender_leaks}; receiver: {receiver_leaks}");

    let mut problems = Vec::new();
    if received.frames * 10 < s.frames_out * 9 {
        problems.push(format!(
            "only {} of {} frames arrived",
            received.frames, s.frames_out
        ));
    }
    if leak_report.as_ref().is_some_and(|r| !r.is_clean()) {
        problems.push("the sender leaked".into());
    }
    if status.code() != Some(0) {
        problems.push("the receiver failed or leaked".into());
    }
    match &viewer {
        Some(Ok(v)) if v.frames == 0 => problems.push("the RTSP viewer decoded nothing".into()),
        Some(Err(_)) => problems.push("the RTSP viewer failed or leaked".into()),
        _ => {}
    }
    match &browser {
        Ok(w) if w.frames == 0 => problems.push("the MJPEG viewer received no frame".into()),
        Ok(_) => {}
        Err(_) => problems.push("the browser side (HTTP) failed".into()),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(t, kib)` samples once a second for `seconds`.
    fn trend(seconds: u32, kib: impl Fn(u32) -> u64) -> RssTrend {
        RssTrend {
            samples: (0..=seconds).map(|t| (f64::from(t), kib(t))).collect(),
        }
    }

    #[test]
    fn rss_growth_is_told_as_steps_and_a_slope_only_outside_them() {
        // The 10-minute 1080p demo: flat, one 6 MiB step (one BGR frame
        // of 6075 KiB) at 60 s. Once "+256 KiB/min".
        let t = trend(600, |t| if t < 60 { 40_000 } else { 46_144 });
        let g = t.after_warm_up().unwrap();
        assert_eq!(
            (g.total, g.steps.clone(), g.drift()),
            (6144, vec![(60.0, 6144)], 0)
        );
        assert_eq!(
            t.describe(6075),
            "+6.0 MiB after the first 5 s, in 1 step (+6.0 MiB at 60 s = 1.0 frames)"
        );
        // A 10-second run with 0.15 MiB of allocator noise: flat. Once
        // "+1940 KiB/min".
        let t = trend(10, |t| 40_000 + u64::from(t) * 16);
        assert_eq!(t.describe(6075), "flat after the first 5 s (+0.08 MiB)");
        // A step over two samples is one step; the warm-up is not judged.
        let t = trend(30, |t| match t {
            0..=2 => 1_000,
            3..=9 => 40_000,
            10 => 41_600,
            _ => 43_200,
        });
        assert_eq!(t.after_warm_up().unwrap().steps, vec![(10.0, 3200)]);
        // A leak: 1 MiB a minute, a little every second, for 10 minutes.
        let t = trend(600, |t| 40_000 + u64::from(t) * 1024 / 60);
        let text = t.describe(6075);
        assert_eq!(
            text,
            "+9.9 MiB after the first 5 s, in no step; +9.9 MiB outside steps (+1024 KiB/min)"
        );
        assert!(RssTrend::default().after_warm_up().is_none());
        assert!(rss_kib("self").is_some_and(|k| k > 0));
    }

    #[test]
    fn reads_numbers_and_nulls_from_the_receiver_summary() {
        let j = r#"{"frames":300,"seconds":9.967,"lost":2,"latency_p50_ms":7.853,"latency_p99_ms":null}"#;
        assert_eq!(json_number(j, "frames"), Some(300.0));
        assert_eq!(json_number(j, "latency_p50_ms"), Some(7.853));
        assert_eq!(json_number(j, "latency_p99_ms"), None);
        assert_eq!(json_number(j, "missing"), None);
        let s = parse_summary(j);
        assert_eq!((s.frames, s.lost), (300, 2));
    }

    #[test]
    fn a_free_port_pair_is_two_free_ports() {
        let p = free_port_pair().unwrap();
        let a = UdpSocket::bind(("127.0.0.1", p));
        let b = UdpSocket::bind(("127.0.0.1", p + 1));
        assert!(a.is_ok() && b.is_ok());
    }
}
