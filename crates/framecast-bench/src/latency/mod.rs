//! `framecast-bench latency`: end-to-end latency, frame handed over ->
//! frame decoded, over RTP/H.264 on 127.0.0.1, for framecast's senders
//! beside GStreamer's and FFmpeg's, in one run, measured by one receiver.
//!
//! For every case a fresh receiver (`anchors/gst_latency_receiver.c`:
//! `udpsrc ! rtph264depay ! avdec_h264 ! appsink`, the same for every
//! sender) listens on a free port of 127.0.0.1, and the sender runs as a
//! child process reading raw frames on its standard input, as a program
//! that pipes OpenCV frames into it would. This process paces frames at
//! 30 fps like a camera (absolute deadlines; a slot missed because the
//! sender did not take the previous frame in time is skipped, not sent in
//! a burst), paints the [stamp](crate::stamp) into each, takes the time
//! just before writing it, and writes it. The receiver reads the stamp the
//! moment the frame is decoded: latency = decoded - handed over, on one
//! clock (`CLOCK_MONOTONIC`). The first second is not counted (start-up,
//! the first IDR).
//!
//! One more case, `framecast-sender-lib`, has no child and no pipe: a
//! [`framecast::sender::Sender`] in this process, each stamped frame copied
//! into `Sender::frame()` and pushed, as a program linking framecast does.
//! Its CPU time is this process's less the painting thread's, plus that
//! thread's time in the copy and `push`; it has no RSS of its own.
//!
//! Two cases serve RTSP (`framecast serve`, the `send` pipeline into
//! `rtspserversink`, listening on the TCP port of the receiver's UDP port
//! number): once the server describes its stream, the bench's light RTSP
//! viewer (`crate::rtsp`) plays it, `framecast-serve-rtsp-udp` with the
//! receiver's port as `client_port` (the server's packets go straight to
//! the receiver), `framecast-serve-rtsp-tcp` interleaved, each RTP packet
//! relayed by the viewer to the receiver's port as it is read (one
//! loopback hop more than the stream needs). Beside `framecast-send` they
//! give what RTSP adds to the direct RTP path.
//!
//! Two more cases are Python programs (`/usr/bin/python3`, an OpenCV-style
//! loop: one preallocated numpy array filled from stdin with `readinto`,
//! then pushed): `framecast-python` pushes it into the `framecast` module's
//! `Sender` (the `libframecast_py.so` built beside this program, copied into
//! a temporary folder as `framecast.so`), `gst-python` into GStreamer's
//! `appsrc` through PyGObject (`Gst.Buffer.new_wrapped(frame.tobytes())`,
//! `push-buffer`), ahead of the gst-x264 case's encoder and payloader.
//! framecast-python is compared with gst-python.
//!
//! The sender's CPU time per frame is steady state: its `utime + stime`
//! at exit (`wait4(2)`) less what it had used at the one-second mark
//! (`/proc/PID/stat`), over the frames written since; its peak RSS is
//! `VmHWM` in `/proc/PID/status` when the last frame has been written (not
//! `ru_maxrss`: Linux carries the parent's peak into a child across
//! fork and exec, so it would report at least this benchmark's own RSS).

use framecast::sync::MutexExt;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod cases;
mod pacing;
mod processes;
mod report;

use crate::stamp::{self, Stamp};
pub(crate) use cases::Format;
use cases::*;
use framecast_test_support::ports::try_free_port;
use pacing::*;
pub(crate) use pacing::{pace, Pattern};
use processes::*;
pub(crate) use processes::{build_receiver, framecast_exe, process_cpu_ns, Receiver, Tail};
use report::*;

/// Frames per second every sender is fed and told.
pub(crate) const FPS: u32 = 30;
/// Bitrate every encoder is asked for, kbit/s.
pub(crate) const BITRATE_KBPS: u32 = 4000;
/// RTP packet size asked of every payloader.
const MTU: u32 = 1400;
/// Latencies of frames handed over in the first second are not counted.
const WARMUP: Duration = Duration::from_secs(1);
/// Longest wait for the receiver to start playing.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest a sender may take to exit once its input is closed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The receiver is stopped once no frame came for this long after the
/// sender exited.
const DRAIN_IDLE: Duration = Duration::from_millis(500);
/// Bytes of a child's stderr kept for error messages.
const TAIL_BYTES: usize = 4096;

const RECEIVER_SOURCE: &str = include_str!("../../anchors/gst_latency_receiver.c");

/// The Python that runs the Python cases: Debian's, where PyGObject
/// (`python3-gi`) and numpy (`python3-numpy`) are packaged.
const PYTHON: &str = "/usr/bin/python3";
/// The Python cases' program (argv: `framecast` TO FORMAT WIDTH HEIGHT FPS
/// BITRATE, or `gst` PIPELINE FORMAT WIDTH HEIGHT).
const PY_SOURCE: &str = include_str!("latency_python.py");
/// The framecast Python module as Cargo builds it.
const PY_MODULE_FILE: &str = "libframecast_py.so";

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds of frames each case is fed (the first second is not counted).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Frame sizes, `WxH`, comma-separated or repeated.
    #[arg(long = "size", value_delimiter = ',', default_values_t = ["1280x720".to_string(), "1920x1080".to_string()])]
    sizes: Vec<String>,
    /// Input pixel formats: bgr, i420.
    #[arg(long, value_delimiter = ',', default_values_t = ["bgr".to_string(), "i420".to_string()])]
    formats: Vec<String>,
    /// Sender cases to run (default all): framecast-launch-x264,
    /// framecast-launch-openh264, framecast-send, gst-x264, gst-openh264,
    /// ffmpeg-x264, framecast-python, gst-python (Python programs pushing
    /// numpy frames), framecast-sender-lib (in process),
    /// framecast-serve-rtsp-udp, framecast-serve-rtsp-tcp (`framecast
    /// serve`, played over RTSP into the same receiver).
    #[arg(long, value_delimiter = ',')]
    cases: Vec<String>,
    /// `fdsrc blocksize=` for the `launch` cases of framecast and
    /// GStreamer (default: unset, each tool's own: 65536 bytes in
    /// framecast, 4096 in GStreamer).
    #[arg(long)]
    fdsrc_blocksize: Option<u32>,
    /// Extra properties for framecast's encoder in the `launch` cases,
    /// e.g. `threads=3` (to try encoder settings against the same peers).
    #[arg(long, default_value = "")]
    encoder_props: String,
}

/// What every case shares.
struct Setup {
    /// This program.
    exe: PathBuf,
    /// The built receiver.
    receiver: PathBuf,
    seconds: f64,
    knobs: Knobs,
}

/// What a sender did, however it ran.
struct Sent {
    produced: Result<Produced, String>,
    exit: Result<Exit, String>,
    /// Its standard error (child processes).
    stderr: Tail,
}

/// Runs `case` as a child process fed through its standard input.
fn send_from_child(
    setup: &Setup,
    case: Case,
    format: Format,
    size: (usize, usize),
    port: u16,
) -> Result<Sent, String> {
    let invocation = sender_invocation(case, format, size, port, &setup.exe, &setup.knobs)
        .ok_or_else(|| format!("{} has no command line", case.name()))?;
    let mut child = Command::new(&invocation.program)
        .args(&invocation.args)
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", invocation.program.display()))?;
    let stderr = child.stderr.take().map(Tail::follow).unwrap_or_default();
    let pid = child.id();
    // The RTSP cases: a viewer plays the stream into the receiver's port
    // once the server describes it (after its first frame, so while the
    // frames flow).
    let player = case.rtsp_transport().map(|transport| {
        let url = format!("rtsp://127.0.0.1:{port}/stream");
        std::thread::spawn(move || {
            let deadline = Instant::now() + READY_TIMEOUT;
            while !crate::rtsp::described(&url) {
                if Instant::now() > deadline {
                    return Err(format!("{url} was never described"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            crate::rtsp::play_to(&url, transport, port)
        })
    });
    let mut produced = match child.stdin.take() {
        Some(mut stdin) => produce(&mut stdin, pid, format, size, setup.seconds),
        None => Err("no pipe to the sender".into()),
    };
    // The pipe closed above: end of stream for the sender.
    let exit = libc::pid_t::try_from(pid)
        .map_err(|_| "bad pid".to_string())
        .and_then(wait_with_rusage);
    // The viewer leaves once the server has sent everything and exited.
    if let Some(player) = player {
        match player.join() {
            Ok(Ok(viewer)) => drop(viewer),
            Ok(Err(e)) => produced = Err(format!("RTSP viewer: {e}")),
            Err(_) => produced = Err("the RTSP viewer panicked".into()),
        }
    }
    Ok(Sent {
        produced,
        exit,
        stderr,
    })
}

/// A CPU-time clock (`CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID`),
/// nanoseconds.
pub(crate) fn cpu_clock_ns(id: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to a valid local.
    let ok = unsafe { libc::clock_gettime(id, &mut ts) } == 0;
    ok.then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// The calling thread's CPU time, nanoseconds (0 if unreadable).
fn thread_cpu_ns() -> u64 {
    cpu_clock_ns(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or(0)
}

/// CPU time of this process less the calling thread's, nanoseconds: what
/// the library sender's threads used while this thread painted frames
/// (the benchmark's own reader threads, a few wake-ups a frame, are in
/// it too).
fn other_threads_cpu_ns() -> Option<u64> {
    Some(cpu_clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)?.saturating_sub(thread_cpu_ns()))
}

/// The library case: a [`framecast::Sender`] in this process; each
/// stamped frame is copied into a pooled frame from `Sender::frame()` (a
/// program copying its image in) and pushed (`Sender::push_packed`). No pipe, no second process.
fn send_in_process(
    format: Format,
    (width, height): (usize, usize),
    port: u16,
    seconds: f64,
) -> Sent {
    let video_format = format.video_format();
    let built = framecast::sender::Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(framecast::sender::Codec::H264)
        .size(width as u32, height as u32)
        .fps(FPS)
        .input_format(video_format)
        .bitrate(BITRATE_KBPS)
        .build();
    let sender = match built {
        Ok(sender) => sender,
        Err(e) => {
            return Sent {
                produced: Err(format!("Sender::build: {e}")),
                exit: Err(e.to_string()),
                stderr: Tail::default(),
            }
        }
    };
    // The copy into the pooled frame and the push run on the painting
    // thread but are the sender's work (a child process pays its pipe
    // read): their thread CPU time is added back.
    let hand_over_ns = std::cell::Cell::new(0u64);
    let produced = pace(
        format,
        (width, height),
        seconds,
        |packed| {
            let before = thread_cpu_ns();
            let pushed = sender
                .push_packed(packed, None)
                .map(|_| ())
                .map_err(|e| e.to_string());
            hand_over_ns.set(hand_over_ns.get() + thread_cpu_ns().saturating_sub(before));
            pushed
        },
        || Some(other_threads_cpu_ns()? + hand_over_ns.get()),
    );
    let finished = sender.finish();
    let exit = Ok(Exit {
        failure: finished.err().map(|e| e.to_string()),
        cpu_ns: other_threads_cpu_ns().unwrap_or(0) + hand_over_ns.get(),
    });
    Sent {
        produced,
        exit,
        stderr: Tail::default(),
    }
}

/// Runs one case.
fn run_case(
    setup: &Setup,
    case: Case,
    format: Format,
    size: (usize, usize),
) -> Result<Outcome, String> {
    let seconds = setup.seconds;
    let port = try_free_port().map_err(|e| format!("no free UDP port on 127.0.0.1: {e}"))?;
    let receiver = Receiver::start(&setup.receiver, port, seconds + 60.0, None)?;
    let sent = if case == Case::Library {
        Ok(send_in_process(format, size, port, seconds))
    } else {
        send_from_child(setup, case, format, size, port)
    };
    let Received {
        frames,
        decoded: _,
        wire,
        bad,
        payload_bytes,
    } = receiver.finish();
    let Sent {
        produced,
        exit,
        stderr,
    } = sent?;
    let exit = exit?;
    let mut failure = exit.failure.map(|f| format!("sender {f}"));
    let produced = match produced {
        Ok(p) => p,
        Err(e) => {
            failure = Some(e);
            Produced::default()
        }
    };
    if let Some(f) = &mut failure {
        let tail = stderr.text();
        if !tail.is_empty() {
            let last: Vec<&str> = tail.lines().rev().take(6).collect();
            let last: Vec<&str> = last.into_iter().rev().collect();
            f.push_str(&format!(": {}", last.join(" | ")));
        }
    }
    let counted = produced.frames.saturating_sub(produced.first_counted);
    let steady_cpu = produced
        .cpu_at_mark_ns
        .filter(|&at| at <= exit.cpu_ns && counted > 0)
        .map(|at| (exit.cpu_ns - at) as f64 / f64::from(counted))
        .unwrap_or(exit.cpu_ns as f64 / f64::from(produced.frames.max(1)));
    Ok(Outcome {
        case_name: case.name().to_string(),
        framecast: case.is_framecast(),
        format: format.name(),
        size: format!("{}x{}", size.0, size.1),
        latencies_ms: counted_latencies(&frames, produced.first_counted),
        worst: worst_frame(&frames, produced.first_counted),
        startup: startup_latencies(&frames, produced.first_counted),
        idr_p50_ms: {
            let idrs: Vec<(u32, i64)> = frames
                .iter()
                .copied()
                .filter(|(n, _)| n % FPS == 0)
                .collect();
            stamp::percentile(&counted_latencies(&idrs, produced.first_counted), 50.0)
        },
        handover_max_ms: produced
            .handover_ms
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .unwrap_or(f64::NAN),
        wire_p50_ms: stamp::percentile(&counted_latencies(&wire, produced.first_counted), 50.0),
        handover_p50_ms: {
            let mut v = produced.handover_ms;
            v.sort_by(|a, b| a.total_cmp(b));
            stamp::percentile(&v, 50.0)
        },
        counted_sent: counted,
        // Payload bits over the run's length: its 30 fps slots, taken or
        // skipped.
        kbps: payload_bytes
            .filter(|_| produced.frames > 0)
            .map_or(f64::NAN, |b| {
                let slots = u64::from(produced.frames) + produced.skipped;
                b as f64 * 8.0 * f64::from(FPS) / slots as f64 / 1000.0
            }),
        bad,
        skipped: produced.skipped,
        cpu_ms_per_frame: steady_cpu / 1e6,
        rss_mib: produced
            .peak_rss_kib
            .map_or(f64::NAN, |k| k as f64 / 1024.0),
        failure,
    })
}

/// Runs the benchmark and prints the table.
pub fn run(args: &Args) -> Result<(), String> {
    if !(args.seconds >= 2.0 && args.seconds <= 600.0) {
        return Err("--seconds: between 2 and 600".into());
    }
    let sizes = args
        .sizes
        .iter()
        .map(|s| parse_size(s))
        .collect::<Result<Vec<_>, _>>()?;
    let formats = args
        .formats
        .iter()
        .map(|f| Format::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let cases = if args.cases.is_empty() {
        Case::ALL.to_vec()
    } else {
        args.cases
            .iter()
            .map(|c| Case::parse(c))
            .collect::<Result<Vec<_>, _>>()?
    };
    let exe = framecast_exe()?;
    let receiver = build_receiver()?;
    let staged = if cases.contains(&Case::FramecastPython) {
        stage_python_module(&exe)
    } else {
        Err("not staged".to_string())
    };
    let setup = Setup {
        receiver,
        exe,
        seconds: args.seconds,
        knobs: Knobs {
            fdsrc_blocksize: args.fdsrc_blocksize,
            encoder_props: args.encoder_props.clone(),
            python_path: staged.as_ref().ok().cloned(),
        },
    };
    let mut runnable = Vec::new();
    for case in cases {
        match available(case, &setup.exe, staged.as_deref().map_err(String::as_str)) {
            Ok(()) => runnable.push(case),
            Err(why) => eprintln!("{}: skipped: {why}", case.name()),
        }
    }
    let mut outcomes = Vec::new();
    for &size in &sizes {
        for &format in &formats {
            for &case in &runnable {
                eprintln!(
                    "{} {} {}x{} ...",
                    case.name(),
                    format.name(),
                    size.0,
                    size.1
                );
                match run_case(&setup, case, format, size) {
                    Ok(outcome) => {
                        if let Some(f) = &outcome.failure {
                            eprintln!("  failed: {f}");
                        }
                        outcomes.push(outcome);
                    }
                    Err(e) => {
                        eprintln!("  failed: {e}");
                        outcomes.push(Outcome {
                            case_name: case.name().to_string(),
                            framecast: case.is_framecast(),
                            format: format.name(),
                            size: format!("{}x{}", size.0, size.1),
                            failure: Some(e),
                            ..Outcome::default()
                        });
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_file(&setup.receiver);
    if let Some(dir) = &setup.knobs.python_path {
        let _ = std::fs::remove_dir_all(dir);
    }

    println!(
        "framecast-bench latency: push -> decoded, RTP/H.264 over 127.0.0.1, {FPS} fps, \
         {BITRATE_KBPS} kbit/s, {} s per case (first {} s not counted){}",
        args.seconds,
        WARMUP.as_secs(),
        args.fdsrc_blocksize
            .map_or(String::new(), |b| format!(", fdsrc blocksize={b}"))
            + &if args.encoder_props.is_empty() {
                String::new()
            } else {
                format!(", framecast encoder {}", args.encoder_props)
            }
    );
    print_header();
    for o in &outcomes {
        print_row(o);
    }
    println!(
        "in: median time the sender took to read a frame off its stdin pipe (part of the latency);\n\
         wire: median time from the stamp to the frame's last packet out of the receiver's socket \
         (the sender's share; the rest is depayload and decode);\n\
         max: the slowest counted frame (a stall too short to reach the p99 shows here); \
         in max: the longest read of one frame (the producer's write blocked that long);\n\
         frames: stamps decoded after the first second; lost: handed over but not decoded whole; \
         bad: damaged stamps (whole run);\nskip: 30 fps slots skipped because the sender had not \
         taken the previous frame; CPU: sender's steady-state utime+stime per frame; \
         kbit/s: RTP payload received over the run; \
         RSS: sender's peak."
    );
    let mut compared = false;
    for o in outcomes
        .iter()
        .filter(|o| o.framecast && o.failure.is_none())
    {
        for peers in peers_of(&o.case_name) {
            let Some((p50, p99, max)) = best_peer(&outcomes, o, peers) else {
                continue;
            };
            if !compared {
                println!("\nframecast / best peer (same format and size; lower is better)");
                println!(
                    "{:<26} {:<5} {:<10} {:>8} {:>8} {:>8}  peer",
                    "case", "fmt", "size", "p50", "p99", "max"
                );
                compared = true;
            }
            println!(
                "{:<26} {:<5} {:<10} {:>8} {:>8} {:>8}  {}",
                o.case_name,
                o.format,
                o.size,
                ratio(o.p(50.0), p50),
                ratio(o.p(99.0), p99),
                ratio(o.max(), max),
                peers.join(" | ")
            );
        }
    }
    for line in rtsp_added(&outcomes) {
        println!("{line}");
    }
    Ok(())
}

/// What the RTSP cases add to `framecast-send`'s (the direct RTP path)
/// p50, p99 and wire p50, ms, same format and size.
fn rtsp_added(outcomes: &[Outcome]) -> Vec<String> {
    let mut lines = Vec::new();
    for o in outcomes.iter().filter(|o| o.failure.is_none()) {
        let rtsp = [Case::ServeUdp, Case::ServeTcp].map(Case::name);
        if !rtsp.contains(&o.case_name.as_str()) {
            continue;
        }
        let direct = outcomes.iter().find(|d| {
            d.case_name == Case::Send.name()
                && d.format == o.format
                && d.size == o.size
                && d.failure.is_none()
        });
        if let Some(d) = direct {
            if lines.is_empty() {
                lines.push("\nRTSP minus the direct RTP path (framecast-send), ms:".to_string());
            }
            lines.push(format!(
                "{:<26} {:<5} {:<10} p50 {:+.2}  p99 {:+.2}  wire p50 {:+.2}",
                o.case_name,
                o.format,
                o.size,
                o.p(50.0) - d.p(50.0),
                o.p(99.0) - d.p(99.0),
                o.wire_p50_ms - d.wire_p50_ms
            ));
        }
    }
    lines
}
