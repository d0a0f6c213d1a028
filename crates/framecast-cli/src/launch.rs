//! `framecast launch`: build a pipeline from gst-launch syntax and run it
//! until end-of-stream, an error, or Ctrl-C (`gst-launch-1.0`).
//!
//! Status and errors go to stderr, so stdout stays free for `fdsink`:
//!
//! ```text
//! python3 frames.py | framecast launch fdsrc ! rawvideoparse format=bgr width=1280 height=720 ! fdsink > out.bgr
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast::{Message, Pipeline, State};

/// How often the bus wait wakes up to look at Ctrl-C.
const TICK: Duration = Duration::from_millis(50);

/// `framecast launch` options.
#[derive(Debug, clap::Args)]
pub struct LaunchArgs {
    /// Print the caps negotiated on every pad, and other status.
    #[arg(short, long)]
    verbose: bool,
    /// On Ctrl-C, send end-of-stream from the sources and wait for it to
    /// reach the sinks before stopping (a second Ctrl-C stops at once).
    #[arg(short = 'e', long = "eos-on-shutdown")]
    eos_on_shutdown: bool,
    /// The pipeline, e.g. `filesrc location=in.bin ! filesink location=out.bin`.
    /// Several arguments are joined with spaces, as gst-launch does; quote
    /// `!` and parentheses for the shell where needed.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pipeline: Vec<String>,
}

/// Runs `framecast launch`. `Err` carries the one-line reason for a
/// non-zero exit; bus errors were already printed.
pub fn run(args: LaunchArgs) -> Result<(), String> {
    framecast::init().map_err(|e| format!("FRAMECAST_TRACERS: {e}"))?;
    let result = launch(&args);
    // Reports of the tracers; exits with status 3 on a fatal verdict.
    framecast::deinit();
    result
}

fn launch(args: &LaunchArgs) -> Result<(), String> {
    let text = args.pipeline.join(" ");
    let pipeline = framecast::parse_launch(&text).map_err(|e| e.to_string())?;
    pipeline.set_verbose(args.verbose);

    let interrupted = Arc::new(AtomicBool::new(false));
    let signal = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone())
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    let result = play(&pipeline, args, &interrupted);
    signal_hook::low_level::unregister(signal);

    eprintln!("Setting pipeline to NULL ...");
    let stopped = pipeline.set_state(State::Null);
    // Errors of the teardown itself.
    drain(&pipeline, args.verbose);
    eprintln!("Freeing pipeline ...");
    drop(pipeline);
    result?;
    stopped
        .map(|_| ())
        .map_err(|e| format!("stopping the pipeline failed: {e}"))
}

/// Plays the pipeline and waits on the bus.
fn play(pipeline: &Pipeline, args: &LaunchArgs, interrupted: &AtomicBool) -> Result<(), String> {
    eprintln!("Setting pipeline to PLAYING ...");
    if let Err(e) = pipeline.set_state(State::Playing) {
        // The failing element posted its error on the bus.
        if !drain(pipeline, args.verbose) {
            eprintln!("ERROR: {e}");
        }
        return Err("the pipeline could not start".into());
    }
    let start = Instant::now();
    let mut eos_sent = false;
    let result = loop {
        if interrupted.swap(false, Ordering::AcqRel) {
            if args.eos_on_shutdown && !eos_sent {
                eprintln!(
                    "handling interrupt.\nEOS on shutdown enabled -- Forcing EOS on the pipeline"
                );
                eos_sent = true;
                if !pipeline.send_eos() {
                    eprintln!("Interrupt: no element took end-of-stream; stopping pipeline ...");
                    break Ok(());
                }
                eprintln!("Waiting for EOS...");
                continue;
            }
            eprintln!("handling interrupt.\nInterrupt: Stopping pipeline ...");
            break Ok(());
        }
        let Some(message) = pipeline.bus().timed_pop(Some(TICK)) else {
            continue;
        };
        match message {
            Message::Eos => {
                eprintln!("Got EOS from pipeline \"{}\".", pipeline.name());
                break Ok(());
            }
            Message::Error { .. } => {
                print_message(&message, args.verbose);
                break Err(format!(
                    "the pipeline stopped on an error from element {:?}",
                    message.source().unwrap_or("?")
                ));
            }
            other => print_message(&other, args.verbose),
        }
    };
    eprintln!(
        "Execution ended after {:.9} s",
        start.elapsed().as_secs_f64()
    );
    result
}

/// Prints the queued messages; returns whether one was an error.
fn drain(pipeline: &Pipeline, verbose: bool) -> bool {
    let mut error = false;
    while let Some(message) = pipeline.bus().timed_pop(Some(Duration::ZERO)) {
        error |= matches!(message, Message::Error { .. });
        print_message(&message, verbose);
    }
    error
}

fn print_message(message: &Message, verbose: bool) {
    match message {
        Message::Error {
            source,
            message,
            debug,
        } => {
            eprintln!("ERROR: from element {source}: {message}");
            if let Some(debug) = debug {
                eprintln!("Additional debug info:\n{debug}");
            }
        }
        Message::Warning {
            source,
            message,
            debug,
        } => {
            eprintln!("WARNING: from element {source}: {message}");
            if let Some(debug) = debug {
                eprintln!("Additional debug info:\n{debug}");
            }
        }
        Message::Caps { pad, caps } if verbose => eprintln!("{pad}: caps = {caps}"),
        Message::Latency { live, min, max } if verbose => eprintln!(
            "Latency: live={live}, min={} ns, max={}",
            min.nseconds(),
            max.map_or_else(|| "none".to_string(), |m| format!("{} ns", m.nseconds()))
        ),
        Message::Element { source, structure } if verbose => {
            eprintln!("Got message from element \"{source}\": {structure}");
        }
        _ => {}
    }
}
