//! `framecast bench encode`: H.264 encode throughput at 720p (by default),
//! framecast's encoders beside GStreamer's `x264enc tune=zerolatency
//! speed-preset=ultrafast` (and `openh264enc`, when installed) in the same
//! run, at the same bitrate (4 Mbit/s by default, as the latency
//! benchmarks).
//!
//! framecast: `testsrc num-buffers=N ! video/x-raw,format=I420,width=W,
//! height=H,framerate=30/1 ! <enc> bitrate=B ! fakesink`, timed from
//! Playing to EOS, for each encoder element this build has (`openh264enc`;
//! `x264enc` with the `x264` feature). Reported: whole-pipeline fps, and
//! the encoder's own time per frame (its `encode-time-us` counter).
//!
//! GStreamer (when `gst-launch-1.0` is on `PATH`): `videotestsrc
//! num-buffers=N ! video/x-raw,width=W,height=H ! x264enc tune=zerolatency
//! speed-preset=ultrafast bitrate=B ! fakesink`, whole-process fps, and the
//! same minus the pipeline without the encoder, per frame (the encoder's
//! share). The median of `--runs` runs is reported.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use framecast::pipeline::find_factory;
use framecast::{parse_launch, Message, State};

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Frames per run.
    #[arg(long, default_value_t = 300)]
    frames: u32,
    /// Width.
    #[arg(long, default_value_t = 1280)]
    width: u32,
    /// Height.
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Bitrate, kbit/s, for every encoder.
    #[arg(long, default_value_t = 4000)]
    bitrate: u32,
    /// Test pattern (framecast testsrc / GStreamer videotestsrc name).
    #[arg(long, default_value = "smpte")]
    pattern: String,
    /// Runs (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Skip GStreamer.
    #[arg(long)]
    no_gst: bool,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

struct Ours {
    wall: Duration,
    encode: Duration,
    bytes: u64,
}

fn run_ours(description: &str) -> Result<Ours, String> {
    let pipeline = parse_launch(description).map_err(|e| e.to_string())?;
    let start = Instant::now();
    pipeline
        .set_state(State::Playing)
        .map_err(|e| e.to_string())?;
    let end = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(600)), |m| {
            matches!(m, Message::Eos | Message::Error { .. })
        });
    let wall = start.elapsed();
    let enc = pipeline.by_name("enc");
    let read = |name: &str| {
        enc.as_ref()
            .and_then(|e| e.property(name).ok())
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    };
    let (encode_us, bytes) = (read("encode-time-us"), read("bytes-encoded"));
    let _ = pipeline.set_state(State::Null);
    match end {
        Some(Message::Eos) => Ok(Ours {
            wall,
            encode: Duration::from_micros(encode_us),
            bytes,
        }),
        other => Err(format!("{description}: {other:?}")),
    }
}

fn time_gst(pipeline: &str) -> Result<Duration, String> {
    let start = Instant::now();
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

fn gst_has(element: &str) -> bool {
    Command::new("gst-inspect-1.0")
        .arg(element)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn fps(frames: u32, d: Duration) -> f64 {
    f64::from(frames) / d.as_secs_f64().max(1e-9)
}

/// Runs the benchmark and prints the figures.
pub fn run(args: &Args) -> Result<(), String> {
    let (n, w, h, b) = (args.frames.max(1), args.width, args.height, args.bitrate);
    let runs = args.runs.max(1);
    let caps = format!("video/x-raw,format=I420,width={w},height={h},framerate=30/1");
    let source = format!("testsrc pattern={} num-buffers={n} ! {caps}", args.pattern);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "H.264 encode, {w}x{h} I420, {n} frames, {b} kbit/s, {threads} cores, median of {runs}"
    );
    let mut best_ours: Option<(String, f64)> = None;
    for enc in ["openh264enc", "x264enc"] {
        if find_factory(enc).is_none() {
            continue;
        }
        let extra = match enc {
            "openh264enc" => {
                let asm = find_factory(enc)
                    .and_then(|f| f.property("asm").map(|p| p.default_value()))
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                format!(" (asm={asm})")
            }
            _ => " (speed-preset=ultrafast tune=zerolatency)".into(),
        };
        let description = format!("{source} ! {enc} name=enc bitrate={b} ! fakesink sync=false");
        let mut walls = Vec::new();
        let mut encodes = Vec::new();
        let mut bytes = 0;
        for _ in 0..runs {
            let r = run_ours(&description)?;
            walls.push(r.wall);
            encodes.push(r.encode);
            bytes = r.bytes;
        }
        let (wall, encode) = (median(walls), median(encodes));
        let kbps = bytes as f64 * 8.0 / (f64::from(n) / 30.0) / 1000.0;
        let f = fps(n, wall);
        println!(
            "framecast {enc}{extra}: {f:.0} fps whole pipeline, encoder {:.2} ms/frame \
             ({:.0} fps), {kbps:.0} kbit/s out\n  framecast launch \"{description}\"",
            encode.as_secs_f64() * 1e3 / f64::from(n),
            fps(n, encode),
        );
        if best_ours.as_ref().is_none_or(|(_, b)| f > *b) {
            best_ours = Some((enc.to_string(), f));
        }
    }
    if args.no_gst {
        return Ok(());
    }
    let gst_source = format!(
        "videotestsrc pattern={} num-buffers={n} ! video/x-raw,width={w},height={h},framerate=30/1",
        args.pattern
    );
    let without = format!("{gst_source} ! fakesink");
    let mut gst_encoders = vec![(
        "x264enc",
        format!("x264enc tune=zerolatency speed-preset=ultrafast bitrate={b}"),
    )];
    if gst_has("openh264enc") {
        gst_encoders.push(("openh264enc", format!("openh264enc bitrate={}", b * 1000)));
    }
    for (name, element) in gst_encoders {
        let with = format!("{gst_source} ! {element} ! fakesink");
        let mut totals = Vec::new();
        let mut shares = Vec::new();
        for _ in 0..runs {
            match (time_gst(&with), time_gst(&without)) {
                (Ok(a), Ok(z)) => {
                    totals.push(a);
                    shares.push(a.saturating_sub(z));
                }
                (Err(e), _) | (_, Err(e)) => {
                    println!("GStreamer {name}: not measured ({e})");
                    break;
                }
            }
        }
        if totals.is_empty() {
            continue;
        }
        let (total, share) = (median(totals), median(shares));
        let f = fps(n, total);
        println!(
            "GStreamer {name}: {f:.0} fps whole process, encoder share {:.2} ms/frame ({:.0} fps)\n  \
             gst-launch-1.0 {with}",
            share.as_secs_f64() * 1e3 / f64::from(n),
            fps(n, share),
        );
        if let Some((ours, of)) = &best_ours {
            println!(
                "  ratio framecast {ours} / GStreamer {name} (whole pipeline fps): {:.2}x",
                of / f
            );
        }
    }
    Ok(())
}
