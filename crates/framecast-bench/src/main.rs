//! `framecast-bench`: the benchmarks that print the figures of
//! BENCHMARKS.md, framecast beside GStreamer and FFmpeg. A program of its
//! own, so that the shipping `framecast` binary carries none of this code
//! and no counting allocator (`framecast bench …` only hands over to this
//! program, built beside it).

mod convert;
mod encode;
mod impairments;
mod latency;
mod memory;
mod rtsp;
mod stamp;
mod tracers;
mod webrtc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Counts heap allocations for `framecast-bench memory` (one relaxed
/// increment each; the same allocator the zero-allocation tests install).
#[global_allocator]
static ALLOCATOR: framecast_test_support::alloc::Counting = framecast_test_support::alloc::Counting;

/// Measure framecast's own costs, beside GStreamer and FFmpeg (see
/// BENCHMARKS.md).
#[derive(Debug, Parser)]
#[command(name = "framecast-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    which: Which,
}

/// Which benchmark to run.
#[derive(Debug, Subcommand)]
enum Which {
    /// videoconvert's per-frame cost (BGR -> I420 1080p by default), beside GStreamer's.
    Convert(convert::Args),
    /// H.264 encode throughput (720p), framecast's encoders beside GStreamer's x264enc.
    Encode(encode::Args),
    /// Pictures through loss, reordering and jitter (an impairment relay), framecast's receiver beside GStreamer's and FFmpeg's.
    Impairments(impairments::Args),
    /// End-to-end latency push -> decoded over RTP/H.264 on 127.0.0.1, framecast beside GStreamer and FFmpeg.
    Latency(latency::Args),
    /// Memory core: pool cycle, clone, map, meta, fresh allocation per frame.
    Memory(memory::Args),
    /// RTSP serving: server CPU per frame with 1-50 viewers (UDP, TCP) and late-join time to a keyframe, framecast serve beside gst-rtsp-server.
    Rtsp(rtsp::Args),
    /// WebRTC to Chromium (WHEP): glass-to-glass p50/p99 at 720p30 and server CPU per frame with 1 and 10 viewers.
    Webrtc(webrtc::Args),
    /// Tracer overhead on a buffer-heavy workload, beside GStreamer's leaks tracer.
    Tracers(tracers::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // FRAMECAST_TRACERS holds from the first instant, as in `framecast`.
    if let Err(e) = framecast::init() {
        eprintln!("framecast-bench: FRAMECAST_TRACERS: {e}");
        return ExitCode::FAILURE;
    }
    let result = run(cli.which);
    framecast::deinit();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("framecast-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen benchmark.
fn run(which: Which) -> Result<(), String> {
    match which {
        Which::Convert(args) => convert::run(&args),
        Which::Encode(args) => encode::run(&args),
        Which::Impairments(args) => impairments::run(&args),
        Which::Latency(args) => latency::run(&args),
        Which::Memory(args) => memory::run(&args),
        Which::Rtsp(args) => rtsp::run(&args),
        Which::Webrtc(args) => webrtc::run(&args),
        Which::Tracers(args) => tracers::run(&args),
    }
}

/// Compiles a C anchor (`source`, named `name`) against the `pkg-config`
/// packages `packages` into the temp dir; returns the executable. Needs
/// `cc`, `pkg-config` and GStreamer's development files.
fn build_c_anchor(
    name: &str,
    source: &str,
    packages: &[&str],
) -> Result<std::path::PathBuf, String> {
    use std::process::Command;
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs"])
        .args(packages)
        .output()
        .map_err(|e| format!("pkg-config: {e} (apt-get install pkg-config)"))?;
    if !flags.status.success() {
        return Err("GStreamer development files not found \
                    (apt-get install libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev)"
            .into());
    }
    let dir = std::env::temp_dir().join("framecast-anchors");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let source_path = dir.join(format!("{name}.c"));
    let exe = dir.join(format!("{name}-{}", std::process::id()));
    std::fs::write(&source_path, source).map_err(|e| format!("{}: {e}", source_path.display()))?;
    let flags = String::from_utf8_lossy(&flags.stdout).to_string();
    let built = Command::new("cc")
        .arg("-O2")
        .arg(&source_path)
        .arg("-o")
        .arg(&exe)
        .args(flags.split_whitespace())
        .status()
        .map_err(|e| format!("cc: {e} (apt-get install gcc)"))?;
    if !built.success() {
        return Err(format!("compiling the {name} anchor failed"));
    }
    Ok(exe)
}

/// Runs the `gst-launch-1.0` pipeline `pipeline` (words split at spaces)
/// quietly to its end; returns how long it took (process start
/// included, the same for every pipeline compared).
fn time_gst(pipeline: &str) -> Result<std::time::Duration, String> {
    use std::process::{Command, Stdio};
    let start = std::time::Instant::now();
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split(' '))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("gst-launch-1.0: {e}"))?;
    if !status.success() {
        return Err(format!("gst-launch-1.0 {pipeline}: {status}"));
    }
    Ok(start.elapsed())
}
