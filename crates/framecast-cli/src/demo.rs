//! `framecast demo`: the whole job on one machine. A receiver
//! (`framecast receive`, a child process, as a client would run it) and a
//! sender (this process, the `Sender` API, a moving test pattern in BGR as
//! OpenCV makes it) stream 1280x720 at 30 fps over RTP/H.264 on 127.0.0.1,
//! then a summary says what happened: frames sent and received, latency
//! from `push` to decoded frame, the sender's CPU time per frame, peak
//! memory, drops, and the leaks tracer's verdict on both processes.

use std::io::Read;
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::bench::latency::peak_rss_kib;
use crate::receive::Summary;
use crate::send::{on_interrupt, send, SendArgs};

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

/// CPU time (user + system) of this process.
fn cpu_time() -> Duration {
    // SAFETY: `rusage` is plain data; all-zero is a valid value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage; RUSAGE_SELF cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Waits for `child` at most `limit`, then kills it.
fn wait_bounded(child: &mut Child, limit: Duration) -> Result<std::process::ExitStatus, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait().map_err(|e| e.to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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

/// Memory growth over a run: RSS sampled once a second, judged after a
/// warm-up (pools filling, the encoder's first allocations).
#[derive(Debug, Default, Clone)]
struct RssTrend {
    /// (seconds since start, KiB).
    samples: Vec<(f64, u64)>,
}

/// Samples before this many seconds are warm-up.
const WARM_UP_S: f64 = 5.0;

impl RssTrend {
    /// Least-squares slope after warm-up, KiB per minute, and the growth
    /// from the first sample after warm-up to the last, KiB.
    fn after_warm_up(&self) -> Option<(f64, i64)> {
        let s: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|(t, _)| *t >= WARM_UP_S)
            .map(|&(t, k)| (t, k as f64))
            .collect();
        if s.len() < 3 {
            return None;
        }
        let n = s.len() as f64;
        let (mt, mk) = (
            s.iter().map(|p| p.0).sum::<f64>() / n,
            s.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let cov: f64 = s.iter().map(|(t, k)| (t - mt) * (k - mk)).sum();
        let var: f64 = s.iter().map(|(t, _)| (t - mt).powi(2)).sum();
        let slope = if var > 0.0 { cov / var * 60.0 } else { 0.0 };
        let growth = s[s.len() - 1].1 as i64 - s[0].1 as i64;
        Some((slope, growth))
    }

    fn describe(&self) -> String {
        match self.after_warm_up() {
            Some((slope, growth)) => format!(
                "{:+.2} MiB after the first {WARM_UP_S:.0} s ({slope:+.0} KiB/min)",
                growth as f64 / 1024.0
            ),
            None => "run too short to judge".into(),
        }
    }
}

/// Samples the RSS of this process and of `child` once a second until
/// `stop` is set.
fn sample_rss(
    child: u32,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<(RssTrend, RssTrend)> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let (mut own, mut theirs) = (RssTrend::default(), RssTrend::default());
        let child = child.to_string();
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            let t = start.elapsed().as_secs_f64();
            if let Some(k) = rss_kib("self") {
                own.samples.push((t, k));
            }
            if let Some(k) = rss_kib(&child) {
                theirs.samples.push((t, k));
            }
            for _ in 0..10 {
                if stop.load(std::sync::atomic::Ordering::Acquire) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        (own, theirs)
    })
}

/// Pulls one number out of the receiver's one-line JSON summary.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
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
        jitter_us: n("jitter_us") as u64,
        latency: Default::default(),
        decoded: None,
        bye: json.contains("\"bye\":true"),
        stopped_without_bye: json_number(json, "stopped_without_bye_s"),
        peak_rss_kib: json_number(json, "peak_rss_kib").map(|k| k as u64),
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
    let port = match args.port {
        Some(0) => return Err("--port 0: give a fixed port (RTCP goes on the next one)".into()),
        Some(p) => p,
        None => free_port_pair()?,
    };
    // Every argument checked before the receiver starts: a size the sender
    // refuses must not leave a receiver child behind it.
    let send_args = SendArgs {
        to: vec![format!("127.0.0.1:{port}")],
        codec: args.codec.clone(),
        bitrate: args.bitrate,
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
    let mut receiver = Command::new(&exe)
        .args(["receive", "--quiet", "--json", "--address", "127.0.0.1"])
        .args(["--port", &port.to_string(), "--codec", &args.codec])
        .args(["--size", &args.size])
        .args(["--seconds", &format!("{}", args.seconds + 15.0)])
        .env("FRAMECAST_TRACERS", "leaks(fatal=true)")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the receiver: {e}"))?;
    let stdout = receiver.stdout.take();
    let stderr = receiver.stderr.take();
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out_reader = read_all(stdout.map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err_reader = read_all(stderr.map(|s| Box::new(s) as Box<dyn Read + Send>));
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
    let sent = on_interrupt(&interrupted).and_then(|signals| {
        let sent = send(&send_args, &plan, &interrupted);
        for id in signals {
            signal_hook::low_level::unregister(id);
        }
        sent
    });
    let cpu_after = cpu_time();
    let sender_rss_kib = peak_rss_kib(std::process::id()).unwrap_or(0);
    stop_sampling.store(true, std::sync::atomic::Ordering::Release);
    let (sender_trend, receiver_trend) = sampler.join().unwrap_or_default();
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
            let _ = receiver.kill();
            let _ = receiver.wait();
            return Err(e);
        }
    };

    // The sender's BYE ends the receiver; bounded in case it was lost.
    let status = wait_bounded(&mut receiver, Duration::from_secs(10))?;
    let json = out_reader.join().unwrap_or_default();
    let receiver_log = err_reader.join().unwrap_or_default();
    let json = json.lines().last().unwrap_or_default().to_string();
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
    println!(
        "  RSS growth        sender {}; receiver {}",
        sender_trend.describe(),
        receiver_trend.describe()
    );
    println!("  bitrate           {:.0} kbit/s", s.bitrate / 1000.0);
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
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_trend_ignores_warm_up_and_fits_a_slope() {
        let mut t = RssTrend::default();
        // Warm-up growth, then 1 MiB per minute.
        t.samples.push((0.0, 1000));
        t.samples.push((2.0, 30_000));
        for i in 0..=60 {
            t.samples
                .push((WARM_UP_S + f64::from(i), 40_000 + (1024 * i / 60) as u64));
        }
        let (slope, growth) = t.after_warm_up().unwrap();
        assert!((slope - 1024.0).abs() < 20.0, "{slope}");
        assert_eq!(growth, 1024);
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
