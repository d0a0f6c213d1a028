//! `framecast`: the command-line face of framecast.

mod bench;
mod demo;
mod demo_http;
mod demo_rtsp;
mod inspect;
mod launch;
mod pools;
mod receive;
mod receiver_child;
mod rss;
mod sdp;
mod send;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Get video frames out of a program and onto the network.
#[derive(Debug, Parser)]
#[command(name = "framecast", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole job on 127.0.0.1: a receiver and a sender stream 720p30
    /// RTP/H.264 for 10 s, served over RTSP too (a second receiver plays
    /// it), then a summary (frames, latency, CPU, memory, leaks).
    Demo(demo::DemoArgs),
    /// Measure framecast's own costs (see BENCHMARKS.md): runs the
    /// separate `framecast-bench` program built beside this one.
    Bench(bench::BenchArgs),
    /// Build a pipeline from gst-launch syntax and run it until
    /// end-of-stream, an error, or Ctrl-C.
    Launch(launch::LaunchArgs),
    /// List the elements, or show one element's pads, caps and properties.
    Inspect(inspect::InspectArgs),
    /// Send raw frames from stdin, or a test pattern, to clients over RTP/UDP.
    Send(send::SendArgs),
    /// Serve the `send` inputs over RTSP (viewers open
    /// rtsp://ADDR:PORT/PATH: ffplay, VLC, GStreamer) and/or HTTP (a
    /// browser opens http://ADDR:PORT/PATH/; the dashboard is at /).
    Serve(serve::ServeArgs),
    /// Receive an RTP stream (H.264, JPEG, raw), decode it, show fps, loss,
    /// jitter and end-to-end latency, optionally write the frames.
    Receive(receive::ReceiveArgs),
    /// Print the SDP of an RTP sending pipeline (for ffplay, VLC,
    /// GStreamer, `framecast receive --sdp`).
    Sdp(sdp::SdpArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // Handed over before anything starts: the benchmark program sets
        // up its own tracers.
        Command::Bench(args) => bench::run(args),
        command => run_traced(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("framecast: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a subcommand with framecast's tracers set up first.
fn run_traced(command: Command) -> Result<(), String> {
    // Before any subcommand does anything: FRAMECAST_TRACERS and the
    // SIGUSR1/SIGUSR2 handlers of FRAMECAST_LEAKS_TRACER_SIG hold for every
    // subcommand from its first instant (a signal that arrives before the
    // handlers exist kills the process). The subcommands' own `init` calls
    // are then no-ops.
    framecast::init().map_err(|e| format!("FRAMECAST_TRACERS: {e}"))?;
    let result = match command {
        Command::Bench(args) => bench::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Launch(args) => launch::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Send(args) => send::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Receive(args) => receive::run(args),
        Command::Sdp(args) => sdp::run(args),
    };
    // The tracers' reports, for the subcommands that do not end tracing
    // themselves (a second deinit does nothing).
    framecast::deinit();
    result
}
