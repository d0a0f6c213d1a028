//! `framecast-bench encode`: H.264 encode throughput at 720p (by default),
//! framecast's encoders beside GStreamer's `x264enc tune=zerolatency
//! speed-preset=ultrafast` (and `openh264enc`, when installed) in the same
//! run, at the same bitrate (4 Mbit/s by default, as the latency
//! benchmarks).
//!
//! framecast: `testsrc num-buffers=N ! video/x-raw,format=I420,width=W,
//! height=H,framerate=30/1 ! <enc> bitrate=B ! fakesink`, timed from
//! Playing to EOS, for each encoder element this build has (`openh264enc`;
//! `x264enc` with the `x264` feature). Reported: whole-pipeline fps, and
//! the encoder's share (the same minus the pipeline without the encoder,
//! per frame), and the time inside the element (its `encode-time-us`).
//!
//! GStreamer (when `gst-launch-1.0` is on `PATH`): `videotestsrc
//! num-buffers=N ! video/x-raw,format=I420,width=W,height=H ! x264enc
//! tune=zerolatency speed-preset=ultrafast bitrate=B ! fakesink`,
//! whole-process fps, and the encoder's share measured the same way.
//! `format=I420` matters: without it `videotestsrc ! x264enc` negotiates
//! Y444_10LE (x264enc's first format), a 10-bit 4:4:4 encode several times
//! slower. The median of `--runs` runs is reported; the ratio pairs each
//! GStreamer encoder with framecast's element of the same name.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::time_gst;

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
    #[arg(long, default_value = "ball")]
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
    // The source alone, to take its cost out (as for GStreamer).
    let mut bare = Vec::new();
    for _ in 0..runs {
        bare.push(run_ours(&format!("{source} ! fakesink sync=false"))?.wall);
    }
    let bare = median(bare);
    let mut ours: Vec<(&str, f64)> = Vec::new();
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
        let share = wall.saturating_sub(bare);
        let kbps = bytes as f64 * 8.0 / (f64::from(n) / 30.0) / 1000.0;
        let f = fps(n, wall);
        let share_ms = share.as_secs_f64() * 1e3 / f64::from(n);
        println!(
            "framecast {enc}{extra}: {f:.0} fps whole pipeline, encoder share {share_ms:.2} ms/frame \
             ({:.0} fps; inside the element {:.2} ms/frame), {kbps:.0} kbit/s out\n  \
             framecast launch \"{description}\"",
            fps(n, share),
            encode.as_secs_f64() * 1e3 / f64::from(n),
        );
        ours.push((enc, share_ms));
    }
    if args.no_gst {
        return Ok(());
    }
    // format=I420 explicitly: without it videotestsrc and x264enc
    // negotiate Y444_10LE (x264enc's first format), a 10-bit 4:4:4 encode.
    let gst_source = format!(
        "videotestsrc pattern={} num-buffers={n} ! video/x-raw,format=I420,width={w},height={h},framerate=30/1",
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
        let share_ms = share.as_secs_f64() * 1e3 / f64::from(n);
        println!(
            "GStreamer {name}: {f:.0} fps whole process, encoder share {share_ms:.2} ms/frame \
             ({:.0} fps)\n  gst-launch-1.0 {with}",
            fps(n, share),
        );
        if let Some((_, of)) = ours.iter().find(|(e, _)| *e == name) {
            println!(
                "  encoder share, GStreamer {name} / framecast {name}: {:.2}x",
                share_ms / of.max(1e-9)
            );
        }
    }
    Ok(())
}
