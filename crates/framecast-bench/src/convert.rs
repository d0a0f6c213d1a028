//! `framecast-bench convert`: what `videoconvert`'s pixel work costs per
//! frame on one core (BGR -> I420 at 1080p by default), beside GStreamer's
//! `videoconvert` timed in the same run.
//!
//! framecast: the conversion `videoconvert` runs on each buffer
//! ([`framecast::elements::video::convert`]), frame after frame on one
//! thread, from and into buffers allocated once (as from a warm pool); the
//! median of several runs is reported.
//!
//! GStreamer (when `gst-launch-1.0` is on `PATH`):
//! `videotestsrc num-buffers=N ! video/x-raw,format=BGR,width=W,height=H !
//! videoconvert ! video/x-raw,format=I420 ! fakesink` minus the same
//! pipeline without `videoconvert`, divided by N: the converter's share
//! alone (`videoconvert` runs one thread by default, `n-threads=1`).

use std::time::{Duration, Instant};

use crate::time_gst;

use framecast::elements::video::{convert, Frame, FrameMut, Matrix};
use framecast::{VideoFormat, VideoInfo};

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Frames per run.
    #[arg(long, default_value_t = 300)]
    frames: u32,
    /// Width.
    #[arg(long, default_value_t = 1920)]
    width: u32,
    /// Height.
    #[arg(long, default_value_t = 1080)]
    height: u32,
    /// Input format (GStreamer name).
    #[arg(long, default_value = "BGR")]
    from: String,
    /// Output format (GStreamer name).
    #[arg(long, default_value = "I420")]
    to: String,
    /// Runs (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Frames per GStreamer run (0 skips GStreamer).
    #[arg(long, default_value_t = 300)]
    gst_frames: u32,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Runs the benchmark and prints the figures.
pub fn run(args: &Args) -> Result<(), String> {
    let from = VideoFormat::from_name(&args.from).map_err(|e| e.to_string())?;
    let to = VideoFormat::from_name(&args.to).map_err(|e| e.to_string())?;
    let (w, h) = (args.width, args.height);
    let si = VideoInfo::new(from, w, h).map_err(|e| e.to_string())?;
    let di = VideoInfo::new(to, w, h).map_err(|e| e.to_string())?;
    // A picture with structure and noise, so nothing is trivially constant.
    let input: Vec<u8> = (0..si.size)
        .map(|i| ((i % 1931) as u32 ^ (i as u32).wrapping_mul(2_654_435_761) >> 27) as u8)
        .collect();
    let mut output = vec![0u8; di.size];
    let src = Frame::new(si, &input).map_err(|e| e.to_string())?;
    let matrix = Matrix::for_height(h);
    let mut one = || -> Result<(), String> {
        let mut dst = FrameMut::new(di, &mut output).map_err(|e| e.to_string())?;
        convert(&src, &mut dst, matrix).map_err(|e| e.to_string())
    };
    for _ in 0..10 {
        one()?;
    }
    let mut runs = Vec::with_capacity(args.runs);
    for _ in 0..args.runs.max(1) {
        let start = Instant::now();
        for _ in 0..args.frames.max(1) {
            one()?;
        }
        runs.push(start.elapsed() / args.frames.max(1));
    }
    let ours = median(runs);
    let gbps = si.size as f64 / ours.as_secs_f64() / 1e9;
    println!(
        "framecast videoconvert {from} -> {to} {w}x{h}, one core: {:.3} ms/frame ({gbps:.1} GB/s of input)",
        ours.as_secs_f64() * 1e3
    );
    if args.gst_frames == 0 {
        return Ok(());
    }
    let n = args.gst_frames;
    let caps = format!("video/x-raw,format={from},width={w},height={h}");
    let with = format!(
        "videotestsrc num-buffers={n} ! {caps} ! videoconvert ! video/x-raw,format={to} ! fakesink"
    );
    let without = format!("videotestsrc num-buffers={n} ! {caps} ! fakesink");
    let mut gst_runs = Vec::new();
    for _ in 0..3 {
        match (time_gst(&with), time_gst(&without)) {
            (Ok(a), Ok(b)) => gst_runs.push(a.saturating_sub(b) / n),
            (Err(e), _) | (_, Err(e)) => {
                println!("GStreamer: not measured ({e})");
                return Ok(());
            }
        }
    }
    let theirs = median(gst_runs);
    println!(
        "GStreamer 1.x videoconvert (gst-launch-1.0 {with} minus the same without videoconvert): {:.3} ms/frame",
        theirs.as_secs_f64() * 1e3
    );
    println!(
        "ratio GStreamer / framecast: {:.1}x",
        theirs.as_secs_f64() / ours.as_secs_f64().max(1e-12)
    );
    Ok(())
}
