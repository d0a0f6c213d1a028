//! What the appsrc examples share: their arguments, the frame they make,
//! the resident memory they report, and how they end.

use std::time::Instant;

use framecast::{Pipeline, State};

/// Frame width, height (BGR pixels) and rate of the examples' stream.
pub const WIDTH: usize = 1280;
pub const HEIGHT: usize = 720;
pub const FPS: u64 = 30;

/// `[SECONDS] [SINK]` from the command line: how long to run (10 s
/// unless given) and the sink description (`fakesink sync=true` unless
/// given).
pub fn seconds_and_sink() -> Result<(u64, String), std::num::ParseIntError> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let sink = args.next().unwrap_or_else(|| "fakesink sync=true".into());
    Ok((seconds, sink))
}

/// This process's resident memory in KiB (from `/proc/self/statm`, 4 KiB
/// pages); 0 where it cannot be read.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// Stops `pipeline`, prints `what` (`"pushed 300 frames"`) with the time
/// since `start` and the resident memory at `rss_start` and now, and shuts
/// framecast down.
pub fn finish(
    pipeline: Pipeline,
    what: &str,
    start: Instant,
    rss_start: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    pipeline.set_state(State::Null)?;
    println!(
        "{what} in {:.1} s; RSS {} -> {} KiB",
        start.elapsed().as_secs_f64(),
        rss_start,
        rss_kib()
    );
    drop(pipeline);
    framecast::deinit();
    Ok(())
}
