//! `framecast-bench rtsp`: what serving RTSP costs. `framecast serve`
//! beside GStreamer's RTSP server (gst-rtsp-server, one shared media,
//! through PyGObject), both fed a live 720p30 H.264 stream they encode
//! themselves (framecast with openh264, GStreamer with x264enc
//! speed-preset=ultrafast), watched by this bench's light viewers
//! ([`viewer`]): the server process's CPU per frame with 1, 10 and 50
//! viewers over UDP and TCP, the encode alone (no viewer) to subtract,
//! and how long a late viewer waits from PLAY to its first keyframe
//! packet with a 1 s and a 10 s GOP.

mod first_picture;
mod keyframe;
mod report;
mod soak;
mod viewer;

use crate::latency::{framecast_exe, process_cpu_ns, Tail};
use framecast_test_support::interop::{KillOnDrop, PYTHON};
use framecast_test_support::ports::free_tcp_port;
use report::Point;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use viewer::Viewer;
pub(crate) use viewer::{described, play_to, Transport};

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds of CPU measured at each point.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Viewer counts, each added to those already watching.
    #[arg(long, value_delimiter = ',', default_value = "1,10,50")]
    pub viewers: Vec<usize>,
    /// Late joins per server and GOP (0: no late-join part).
    #[arg(long, default_value_t = 20)]
    pub joins: usize,
    /// Skip the CPU part (late joins only).
    #[arg(long)]
    pub no_cpu: bool,
    /// Send `Range: npt=0-` with PLAY, as ffmpeg and rtspsrc do
    /// (gst-rtsp-server then seeks its shared media: a keyframe at once,
    /// and a flush for everyone watching).
    #[arg(long)]
    pub play_range: bool,
    /// Encoder bitrate, kbit/s, for both servers.
    #[arg(long, default_value_t = 4000)]
    pub bitrate: u32,
    /// Instead of the rest: a soak of this many seconds, `framecast serve`
    /// with viewers joining and leaving every few seconds, its RSS every
    /// 10 s (`--soak 600` for the 10-minute run of BENCHMARKS.md).
    #[arg(long)]
    pub soak: Option<f64>,
}

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const FPS: u32 = 30;
const PATH: &str = "stream";
/// How long a server gets to start listening, and to settle after
/// viewers join before a window is measured.
const START_TIMEOUT: Duration = Duration::from_secs(15);
const SETTLE: Duration = Duration::from_millis(1000);

/// The servers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    Framecast,
    Gst,
}

impl Server {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Server::Framecast => "framecast serve (openh264)",
            Server::Gst => "gst-rtsp-server shared (x264enc ultrafast)",
        }
    }
}

/// The GStreamer server script, beside this source.
fn gst_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/rtsp/gst_rtsp_bench_server.py")
}

/// A running server process.
struct Running {
    child: KillOnDrop,
    tail: Tail,
    url: String,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.0.id()
    }

    fn cpu_ns(&self) -> Result<u64, String> {
        threads_run_ns(self.pid())
            .or_else(|| process_cpu_ns(self.pid()))
            .ok_or_else(|| self.died())
    }

    fn died(&self) -> String {
        format!("{} stopped: {}", self.url, self.tail.text())
    }
}

/// CPU time of process `pid` in ns: the sum of its threads' run time in
/// `/proc/PID/task/*/schedstat`, to the nanosecond (`/proc/PID/stat`
/// counts 10 ms ticks: 0.2 ms a frame over a 2 s window). A thread that
/// ends within a window takes its time with it; the servers' threads live
/// as long as their viewers.
fn threads_run_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        // A thread that ended since the listing has no file any more.
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total += schedstat_run_ns(&text)?;
    }
    Some(total)
}

/// The first field of a `schedstat` text: time run on a CPU, ns.
fn schedstat_run_ns(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// What a server runs: listening on `port`, a GOP of `gop` frames;
/// `encode_only` runs the source and encoder with no server.
fn start(server: Server, gop: u32, bitrate: u32, encode_only: bool) -> Result<Running, String> {
    let port = free_tcp_port();
    let mut command = match server {
        Server::Framecast if gop == FPS => {
            // `framecast serve`'s own GOP is one second.
            let mut c = Command::new(framecast_exe()?);
            c.args([
                "serve",
                "--rtsp",
                &format!("127.0.0.1:{port}"),
                "--path",
                PATH,
            ]);
            c.args(["--pattern", "ball", "--size", &format!("{WIDTH}x{HEIGHT}")]);
            c.args(["--fps", &FPS.to_string(), "--bitrate", &bitrate.to_string()]);
            c
        }
        Server::Framecast => {
            // Another GOP: the same encoder and server element, launched.
            let mut c = Command::new(framecast_exe()?);
            c.arg("launch").arg(format!(
                "testsrc is-live=true ! video/x-raw,format=I420,width={WIDTH},height={HEIGHT},framerate={FPS}/1 \
                 ! h264enc bitrate={bitrate} gop-size={gop} ! rtspserversink port={port} path={PATH}"
            ));
            c
        }
        Server::Gst => {
            let mut c = Command::new(PYTHON);
            c.arg(gst_script()).arg(port.to_string()).arg(PATH);
            c.args([WIDTH, HEIGHT, FPS, bitrate, gop].map(|v| v.to_string()));
            if encode_only {
                c.arg("--encode-only");
            }
            c
        }
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{:?}: {e}", command.get_program()))?;
    let tail = child.stderr.take().map(Tail::follow).unwrap_or_default();
    let running = Running {
        child: KillOnDrop(child),
        tail,
        url: format!("rtsp://127.0.0.1:{port}/{PATH}"),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let up = if encode_only {
            running.tail.text().contains("listening")
        } else if server == Server::Gst {
            // gst-rtsp-server prepares its media on the first DESCRIBE.
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        } else {
            viewer::described(&running.url)
        };
        if up {
            return Ok(running);
        }
        if Instant::now() > deadline || process_cpu_ns(running.pid()).is_none() {
            return Err(format!(
                "{} never listened: {}",
                server.label(),
                running.tail.text()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Measures `running`'s CPU per frame over `seconds`, with `viewers`
/// playing (their byte counts say what each received).
fn window(
    running: &Running,
    viewers: &[Viewer],
    seconds: f64,
) -> Result<(f64, f64, usize), String> {
    let bytes = |v: &Viewer| v.counts.bytes.load(Ordering::Relaxed);
    let before: Vec<u64> = viewers.iter().map(bytes).collect();
    let (cpu0, t0) = (running.cpu_ns()?, Instant::now());
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let (cpu1, elapsed) = (running.cpu_ns()?, t0.elapsed().as_secs_f64());
    let got: Vec<u64> = viewers
        .iter()
        .zip(&before)
        .map(|(v, b)| bytes(v).saturating_sub(*b))
        .collect();
    let frames = elapsed * f64::from(FPS);
    let cpu_ms = cpu1.saturating_sub(cpu0) as f64 / 1e6 / frames;
    let mbit = if got.is_empty() {
        0.0
    } else {
        got.iter().sum::<u64>() as f64 * 8.0 / 1e6 / elapsed / got.len() as f64
    };
    Ok((cpu_ms, mbit, got.iter().filter(|&&g| g > 0).count()))
}

/// The encode alone: `framecast serve` with no viewer, the GStreamer
/// script's source and encoder into a fakesink.
fn encode_alone(server: Server, args: &Args) -> Result<f64, String> {
    let running = start(server, FPS, args.bitrate, server == Server::Gst)?;
    std::thread::sleep(SETTLE);
    Ok(window(&running, &[], args.seconds)?.0)
}

/// One server and transport: viewers join in steps, one window a step.
fn cpu_points(server: Server, transport: Transport, args: &Args) -> Result<Vec<Point>, String> {
    let running = start(server, FPS, args.bitrate, false)?;
    let mut viewers = Vec::new();
    let mut points = Vec::new();
    for &n in &args.viewers {
        while viewers.len() < n {
            viewers.push(viewer::play(&running.url, transport, args.play_range)?);
        }
        std::thread::sleep(SETTLE);
        let (cpu_ms_per_frame, mbit_per_viewer, receiving) =
            window(&running, &viewers, args.seconds)?;
        eprintln!(
            "  {} {} {n} viewers: {cpu_ms_per_frame:.2} ms/frame",
            server.label(),
            transport.name()
        );
        points.push(Point {
            server,
            transport,
            viewers: n,
            cpu_ms_per_frame,
            mbit_per_viewer,
            receiving,
        });
    }
    Ok(points)
}

/// Gap between late joins: not a multiple of the frame period, so joins
/// land at every phase of the GOP.
const JOIN_GAP: Duration = Duration::from_millis(370);

/// PLAY to a late viewer's first keyframe packet, and to its first
/// decoded picture, ms (`None`: none came).
pub(crate) type Join = (Option<f64>, Option<f64>);

/// `joins` viewers join one after another while one viewer keeps the
/// stream (and GStreamer's shared media) running; each notes PLAY to its
/// first keyframe packet and to its first decoded picture.
fn late_joins(server: Server, gop: u32, args: &Args) -> Result<Vec<Join>, String> {
    let running = start(server, gop, args.bitrate, false)?;
    let _anchor = viewer::play(&running.url, Transport::Tcp, args.play_range)?;
    std::thread::sleep(SETTLE);
    // Each waits past one whole GOP, then gives up.
    let wait = Duration::from_secs_f64(f64::from(gop) / f64::from(FPS)) + Duration::from_secs(2);
    let mut joiners = Vec::new();
    for _ in 0..args.joins {
        let url = running.url.clone();
        let range = args.play_range;
        joiners.push(std::thread::spawn(move || -> Result<Join, String> {
            let v = viewer::play_decoding(&url, Transport::Tcp, range)?;
            let deadline = Instant::now() + wait;
            let ms = |ns: u64| (ns != 0).then(|| ns as f64 / 1e6);
            while Instant::now() < deadline {
                if v.counts.first_picture_ns.load(Ordering::Relaxed) != 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let c = &v.counts;
            Ok((
                ms(c.first_keyframe_ns.load(Ordering::Relaxed)),
                ms(c.first_picture_ns.load(Ordering::Relaxed)),
            ))
        }));
        std::thread::sleep(JOIN_GAP);
    }
    joiners
        .into_iter()
        .map(|j| j.join().map_err(|_| "a late joiner panicked".to_string())?)
        .collect()
}

/// Runs the benchmark and prints its tables.
pub fn run(args: &Args) -> Result<(), String> {
    if args.seconds <= 0.0 || args.seconds > 60.0 {
        return Err(format!("--seconds {}: give 0 < s <= 60", args.seconds));
    }
    if let Some(seconds) = args.soak {
        if !(10.0..=86_400.0).contains(&seconds) {
            return Err(format!("--soak {seconds}: give 10 to 86400 s"));
        }
        return soak::run(seconds, args.bitrate);
    }
    let servers = [Server::Framecast, Server::Gst];
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "RTSP server, {WIDTH}x{HEIGHT}@{FPS} H.264 {} kbit/s, 127.0.0.1, {cores} cores; \
         each server encodes its own stream (framecast: openh264, GStreamer: x264enc ultrafast)",
        args.bitrate
    );
    if !args.no_cpu {
        let mut encode_ms = Vec::new();
        for s in servers {
            let ms = encode_alone(s, args)?;
            eprintln!("  {} encode alone: {ms:.2} ms/frame", s.label());
            encode_ms.push((s, ms));
        }
        let mut points = Vec::new();
        for t in [Transport::Udp, Transport::Tcp] {
            for s in servers {
                points.extend(cpu_points(s, t, args)?);
            }
        }
        println!(
            "\nServer process CPU per frame ({} s a point):\n",
            args.seconds
        );
        for line in report::cpu_table(&points, &encode_ms) {
            println!("{line}");
        }
        println!();
        for line in report::ratio_lines(&points, &encode_ms) {
            println!("{line}");
        }
    }
    if args.joins > 0 {
        let mut rows = Vec::new();
        for gop in [FPS, 10 * FPS] {
            for s in servers {
                let joins = late_joins(s, gop, args)?;
                rows.push(report::join_row(s, f64::from(gop) / f64::from(FPS), &joins));
                eprintln!("  {}", rows[rows.len() - 1]);
            }
        }
        println!(
            "\nLate join, PLAY{} -> first keyframe packet (IDR, FU-A start of an IDR, or SPS) \
             and -> first picture decoded (openh264), over TCP, {} joins:\n",
            if args.play_range {
                " with Range: npt=0-"
            } else {
                " (no Range)"
            },
            args.joins
        );
        for line in report::JOIN_HEADER
            .iter()
            .map(|s| s.to_string())
            .chain(rows)
        {
            println!("{line}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_the_threads_run_time() {
        assert_eq!(
            schedstat_run_ns("84457260 193921120 318\n"),
            Some(84_457_260)
        );
        assert_eq!(schedstat_run_ns(""), None);
        // This process runs: its threads' sum grows as it works.
        let me = std::process::id();
        let before = threads_run_ns(me).expect("own schedstat");
        let t = Instant::now();
        let after = loop {
            std::hint::black_box(t.elapsed());
            let now = threads_run_ns(me).expect("own schedstat");
            if now >= before + 5_000_000 || t.elapsed() > Duration::from_secs(5) {
                break now;
            }
        };
        assert!(after >= before + 5_000_000, "{before} -> {after}");
    }
}
