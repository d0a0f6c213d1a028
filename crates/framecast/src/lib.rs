//! framecast: get video frames out of a program and onto the network.
//!
//! This facade re-exports [`framecast_core`] (memory, buffers, pools, tracing);
//! the pipeline engine and elements live here.
//!
//! # Start and end
//!
//! Call [`init`] first and [`deinit`] last, as with `gst_init()` /
//! `gst_deinit()`. They switch on the tracers named by `FRAMECAST_TRACERS`
//! and write their final reports:
//!
//! ```text
//! FRAMECAST_TRACERS=leaks cargo run --example leak_demo
//! FRAMECAST_TRACERS='leaks(filters=Buffer,stack-traces=true,check-refs=true,output=/tmp/leaks.json,fatal=true);latency;stats' my-app
//! ```
//!
//! At run time, [`trace::start`] and [`trace::stop`] switch tracers on and
//! off, and [`trace::leaks()`] reaches the leaks tracer's API (live objects,
//! activity checkpoints).

pub use framecast_core::*;

pub mod elements;
/// The RTP layer (payload formats, RTCP, SDP), with no pipeline in it.
pub use framecast_rtp as rtp;
pub mod dashboard;
mod error;
pub mod pipeline;
pub mod receiver;
pub mod sender;

pub use error::{Error, ErrorKind, Result};
pub use pipeline::parse_launch;
pub use pipeline::{
    make_element, Bus, Caps, Element, ElementImpl, Event, FlowError, FlowResult, FlowSuccess,
    Message, Pad, Pipeline, Query, State,
};

/// Starts framecast: reads `FRAMECAST_TRACERS` and activates the tracers it
/// names (see [`trace`]); with `FRAMECAST_LEAKS_TRACER_SIG` set, SIGUSR1 logs
/// the live objects and SIGUSR2 starts activity tracking, then logs a
/// checkpoint each later time; with `FRAMECAST_DASHBOARD=ADDR:PORT` set,
/// serves the live [`dashboard`] there.
///
/// A program that never calls it still honours the variables: the first
/// tracked object it makes reads them. Call it first thing anyway, so a bad
/// `FRAMECAST_TRACERS` is an error you see and a signal that arrives before
/// the first object does not kill the process.
///
/// Calling it again before [`deinit`] does nothing.
///
/// # Errors
///
/// A bad `FRAMECAST_TRACERS` (unknown tracer, unknown parameter, bad value,
/// unbalanced parentheses or quotes) or an `output=` file that cannot be
/// created. The error names the offending part; nothing is activated.
///
/// # Examples
///
/// ```
/// framecast::init().expect("FRAMECAST_TRACERS");
/// // ... build and run pipelines ...
/// framecast::deinit();
/// ```
pub fn init() -> Result<()> {
    trace::init()?;
    dashboard::from_env()
}

/// Ends framecast: deactivates every tracer and lets each write its final
/// report (the leaks tracer's `no leaks` line or `Leaks detected` warning,
/// the latency and stats summaries).
///
/// If a tracer judged the run a failure — a `leaks(fatal=true)` that found
/// leaks — the process exits with status 3 after the reports are written:
/// the hook for QA to fail a run. Use [`trace::deinit`] to get that verdict
/// as a `bool` instead.
pub fn deinit() {
    if !trace::deinit() {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        std::process::exit(FATAL_LEAKS_EXIT_STATUS);
    }
}

/// Exit status of [`deinit`] when a `fatal=true` tracer found a problem.
pub const FATAL_LEAKS_EXIT_STATUS: i32 = 3;
