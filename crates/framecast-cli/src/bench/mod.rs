//! `framecast bench …`: benchmarks that print figures for BENCHMARKS.md.

mod convert;
mod encode;
mod memory;
mod tracers;

use clap::Subcommand;

/// Which benchmark to run.
#[derive(Debug, Subcommand)]
pub enum Which {
    /// videoconvert's per-frame cost (BGR -> I420 1080p by default), beside GStreamer's.
    Convert(convert::Args),
    /// H.264 encode throughput (720p), framecast's encoders beside GStreamer's x264enc.
    Encode(encode::Args),
    /// Memory core: pool cycle, clone, map, meta, fresh allocation per frame.
    Memory(memory::Args),
    /// Tracer overhead on a buffer-heavy workload, beside GStreamer's leaks tracer.
    Tracers(tracers::Args),
}

/// Runs the chosen benchmark.
pub fn run(which: Which) -> Result<(), String> {
    match which {
        Which::Convert(args) => convert::run(&args),
        Which::Encode(args) => encode::run(&args),
        Which::Memory(args) => memory::run(&args),
        Which::Tracers(args) => tracers::run(&args),
    }
}
