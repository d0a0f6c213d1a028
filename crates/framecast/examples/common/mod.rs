//! What the appsrc examples share: their arguments, the frame they make,
//! and the resident memory they report.

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
