//! `framecast receive`: RTP/UDP in, decoded frames out, with a live stats
//! line (fps, loss, jitter, and the end-to-end latency of every frame once
//! the sender's RTCP reports say when it was captured).
//!
//! The pipeline it runs, for H.264:
//!
//! ```text
//! udpsrc (RTP) ! rtpjitterbuffer ! rtph264depay ! openh264dec [! videoconvert ! format] ! appsink
//! udpsrc (port + 1, RTCP) ! rtpjitterbuffer.sink_rtcp
//! ```
//!
//! Latency comes from `rtpjitterbuffer`'s `timestamp/x-ntp` stamps: the
//! sender's wall-clock capture time, carried through depayloader and
//! decoder, compared with the wall clock when the frame is decoded. On one
//! machine that is exact; across machines it is as good as their clock
//! synchronisation (NTP/PTP).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::elements::net::{caps_for_sdp, read_sdp_file};
use framecast::elements::video::frame::frame_layout;
use framecast::rtp::rtcp::NtpTimestamp;
use framecast::trace::Histogram;
use framecast::{
    parse_launch, Buffer, Caps, Element, Message, Pipeline, ReferenceTimestampMeta, State,
    VideoFormat, VideoInfo,
};

use crate::stamp::percentile;

/// Options.
#[derive(Debug, Clone, clap::Args)]
pub struct ReceiveArgs {
    /// Read the stream's description (port, codec, parameter sets) from an
    /// SDP file, as `framecast send --sdp` or ffmpeg write.
    #[arg(long, conflicts_with_all = ["port", "codec"])]
    pub sdp: Option<PathBuf>,
    /// UDP port of the RTP stream (RTCP is expected on the next one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Encoding of the stream, with --port.
    #[arg(long, value_parser = ["h264", "jpeg", "raw"])]
    pub codec: Option<String>,
    /// Frame size `WxH` of a raw (RFC 4175) stream given by --port.
    #[arg(long)]
    pub size: Option<String>,
    /// Address to listen on (a multicast group is joined).
    #[arg(long, default_value = "0.0.0.0")]
    pub address: String,
    /// Longest wait for a missing packet in the jitter buffer, ms.
    #[arg(long, default_value_t = 50)]
    pub latency: u64,
    /// Write the decoded frames, packed, to this file (`-`: standard output).
    #[arg(long)]
    pub output: Option<String>,
    /// Convert decoded frames to this pixel format before writing them
    /// (bgr, rgb, i420, nv12, ...; default: as decoded).
    #[arg(long)]
    pub format: Option<String>,
    /// Stop after this many seconds (default: until the sender says BYE,
    /// or Ctrl-C).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Stop after this many frames.
    #[arg(long)]
    pub frames: Option<u64>,
    /// Print the summary as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
    /// No live stats line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What a receive run saw.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Frames decoded.
    pub frames: u64,
    /// Seconds from the first frame to the last.
    pub seconds: f64,
    /// RTP packets received.
    pub packets: u64,
    /// Packets the jitter buffer declared lost.
    pub lost: u64,
    /// Frames the depayloader dropped as damaged.
    pub frames_discarded: u64,
    /// Times the sender's stream restarted (a new SSRC or sequence).
    pub stream_restarts: u64,
    /// Interarrival jitter at the end, µs.
    pub jitter_us: u64,
    /// End-to-end latency of every frame with a sender capture time (a
    /// fixed-size histogram: a receiver that runs for days must not grow).
    pub latency: Histogram,
    /// Frame size and format as decoded.
    pub decoded: Option<(VideoFormat, u32, u32)>,
}

impl Summary {
    /// p50 and p99 (±3 %) and max (exact) latency in ms, when any frame
    /// had one.
    pub fn latency(&self) -> Option<(f64, f64, f64)> {
        let h = &self.latency;
        if h.count() == 0 {
            return None;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let s = h.summary();
        Some((ms(s.p50), ms(s.p99), ms(s.max)))
    }

    fn fps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.frames.saturating_sub(1) as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The summary as one JSON object.
    pub fn to_json(&self) -> String {
        let (p50, p99, max) = self.latency().unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let num = |v: f64| {
            if v.is_finite() {
                format!("{v:.3}")
            } else {
                "null".into()
            }
        };
        let decoded = self.decoded.map_or("null".to_string(), |(f, w, h)| {
            format!("\"{} {w}x{h}\"", f.name())
        });
        format!(
            "{{\"frames\":{},\"seconds\":{:.3},\"fps\":{:.2},\"packets\":{},\"lost\":{},\"frames_discarded\":{},\"stream_restarts\":{},\"jitter_us\":{},\"latency_frames\":{},\"latency_p50_ms\":{},\"latency_p99_ms\":{},\"latency_max_ms\":{},\"decoded\":{}}}",
            self.frames,
            self.seconds,
            self.fps(),
            self.packets,
            self.lost,
            self.frames_discarded,
            self.stream_restarts,
            self.jitter_us,
            self.latency.count(),
            num(p50),
            num(p99),
            num(max),
            decoded
        )
    }

    /// The summary for people.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "received {} frames in {:.1} s ({:.1} fps), {} packets, {} lost, {} damaged frames dropped, jitter {:.2} ms",
            self.frames,
            self.seconds,
            self.fps(),
            self.packets,
            self.lost,
            self.frames_discarded,
            self.jitter_us as f64 / 1000.0
        );
        if self.stream_restarts > 0 {
            s.push_str(&format!(
                ", the sender's stream restarted {} time(s)",
                self.stream_restarts
            ));
        }
        if let Some((f, w, h)) = self.decoded {
            s.push_str(&format!(", decoded {} {w}x{h}", f.name()));
        }
        match self.latency() {
            Some((p50, p99, max)) => s.push_str(&format!(
                "\nlatency capture -> decoded ({} frames): p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms",
                self.latency.count()
            )),
            None => s.push_str("\nlatency: unknown (no RTCP sender report from the sender)"),
        }
        s
    }
}

/// Where and what to receive: the RTP `udpsrc` (its description), the
/// RTCP port, and the encoding name (`H264`, `JPEG`, `RAW`).
struct StreamSource {
    udpsrc: String,
    rtcp_port: u16,
    encoding: String,
}

/// The stream to receive, from the SDP or --port/--codec.
fn stream_source(args: &ReceiveArgs) -> Result<StreamSource, String> {
    let (udpsrc, port, encoding) = if let Some(path) = &args.sdp {
        let sdp = read_sdp_file(path).map_err(|e| e.to_string())?;
        let (caps, _, port) = caps_for_sdp(&sdp).map_err(|e| format!("{}: {e}", path.display()))?;
        let encoding = caps
            .structure(0)
            .and_then(|s| s.get_str("encoding-name"))
            .map(str::to_ascii_uppercase)
            .unwrap_or_default();
        let udpsrc = format!(
            "udpsrc name=src sdp-file=\"{}\" address={}",
            path.display(),
            args.address
        );
        (udpsrc, port, encoding)
    } else {
        let port = args
            .port
            .ok_or("give --sdp FILE, or --port PORT with --codec")?;
        let (encoding, caps) = match args.codec.as_deref().unwrap_or("h264") {
            "jpeg" => (
                "JPEG",
                "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26"
                    .to_string(),
            ),
            "raw" => {
                let size = args
                    .size
                    .as_deref()
                    .ok_or("--codec raw needs --size WxH (or use --sdp)")?;
                let (w, h) = crate::send::parse_size(size)?;
                (
                    "RAW",
                    format!(
                        "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,payload=96,\
                         sampling=(string)YCbCr-4:2:0,depth=(string)8,width=(string){w},height=(string){h}"
                    ),
                )
            }
            _ => (
                "H264",
                "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"
                    .to_string(),
            ),
        };
        let udpsrc = format!(
            "udpsrc name=src port={port} address={} caps=\"{caps}\"",
            args.address
        );
        (udpsrc, port, encoding.to_string())
    };
    if !matches!(encoding.as_str(), "H264" | "JPEG" | "RAW") {
        return Err(format!(
            "the stream is {encoding:?}: framecast receives H264, JPEG and RAW"
        ));
    }
    let rtcp_port = port
        .checked_add(1)
        .ok_or_else(|| format!("port {port}: no room for RTCP on the next port"))?;
    Ok(StreamSource {
        udpsrc,
        rtcp_port,
        encoding,
    })
}

/// The depayloader and decoder for the stream's encoding.
fn decode_chain(encoding: &str) -> &'static str {
    match encoding {
        "JPEG" => "rtpjpegdepay name=depay ! jpegdec",
        "RAW" => "rtpvrawdepay name=depay",
        _ => "rtph264depay name=depay ! openh264dec",
    }
}

/// Builds the receive pipeline.
pub fn build(args: &ReceiveArgs) -> Result<Pipeline, String> {
    let stream = stream_source(args)?;
    let convert = match &args.format {
        Some(name) => {
            let f = VideoFormat::from_name(name).map_err(|e| format!("--format: {e}"))?;
            format!("videoconvert ! video/x-raw,format={} ! ", f.name())
        }
        None => String::new(),
    };
    let description = format!(
        "{source} ! rtpjitterbuffer name=jb latency={latency} eos-on-bye=true ! {decode} ! \
         {convert}appsink name=sink sync=false max-buffers=4 \
         udpsrc name=rtcp port={rtcp} address={address} ! jb.sink_rtcp",
        source = stream.udpsrc,
        latency = args.latency,
        decode = decode_chain(&stream.encoding),
        rtcp = stream.rtcp_port,
        address = args.address,
    );
    parse_launch(&description).map_err(|e| e.to_string())
}

/// Runs `framecast receive`.
pub fn run(args: ReceiveArgs) -> Result<(), String> {
    framecast::init().map_err(|e| format!("FRAMECAST_TRACERS: {e}"))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let signal = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone())
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    let result = build(&args).and_then(|pipeline| receive(&pipeline, &args, &interrupted));
    signal_hook::low_level::unregister(signal);
    let result = result.map(|summary| {
        if args.json {
            println!("{}", summary.to_json());
        } else {
            eprintln!("{}", summary.to_text());
        }
    });
    framecast::deinit();
    result
}

fn counter(element: Option<&Element>, name: &str) -> u64 {
    element
        .and_then(|e| e.property(name).ok())
        .and_then(|v| v.as_u64())
        .unwrap_or(0)
}

/// Milliseconds from the sender's capture (its NTP stamp) to now.
fn latency_ms(buffer: &Buffer) -> Option<f64> {
    let captured = ReferenceTimestampMeta::find(buffer, ReferenceTimestampMeta::NTP)?;
    let now = NtpTimestamp::now().as_nanos();
    Some((now as f64 - captured.nseconds() as f64) / 1e6)
}

/// Writes one frame, packed (rows without padding, planes one after
/// another).
fn write_frame(out: &mut dyn Write, buffer: &Buffer, caps: Option<&Caps>) -> Result<(), String> {
    let info: VideoInfo = caps
        .ok_or("a frame without caps")?
        .video_info()
        .map_err(|e| e.to_string())?;
    let layout = frame_layout(buffer, &info).map_err(|e| e.to_string())?;
    let map = buffer.map_readable().map_err(|e| e.to_string())?;
    let data = map.contiguous();
    for plane in 0..info.n_planes {
        let row = info.comp_width(plane) as usize * info.format.pixel_stride(plane);
        for y in 0..info.comp_height(plane) as usize {
            let start = layout.offset[plane] + y * layout.stride[plane];
            let bytes = data
                .get(start..start + row)
                .ok_or("a decoded frame smaller than its caps say")?;
            out.write_all(bytes)
                .map_err(|e| format!("writing frames: {e}"))?;
        }
    }
    Ok(())
}

fn receive(
    pipeline: &Pipeline,
    args: &ReceiveArgs,
    interrupted: &AtomicBool,
) -> Result<Summary, String> {
    let mut output: Option<Box<dyn Write>> = match args.output.as_deref() {
        None => None,
        Some("-") => Some(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
        Some(path) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?,
        ))),
    };
    if args.json && args.output.as_deref() == Some("-") {
        return Err("--json and --output - both want standard output".into());
    }
    let sink_element = pipeline.by_name("sink").ok_or("no appsink")?;
    let sink = AppSink::from_element(&sink_element).ok_or("no appsink")?;
    let jb = pipeline.by_name("jb");
    let depay = pipeline.by_name("depay");
    let src = pipeline.by_name("src");
    pipeline
        .set_state(State::Playing)
        .map_err(|e| e.to_string())?;
    if !args.quiet {
        let port = src
            .as_ref()
            .and_then(|s| framecast::elements::udpsrc::UdpSrc::from_element(s))
            .and_then(|u| u.bound_port());
        if let Some(port) = port {
            eprintln!("framecast: listening on {}:{port}", args.address);
        }
    }
    let start = Instant::now();
    let limit = args.seconds.map(Duration::from_secs_f64);
    let mut summary = Summary::default();
    let mut first: Option<Instant> = None;
    let mut last = start;
    let mut next_report = start + Duration::from_secs(1);
    let mut window = LatencyWindow::default();
    let mut window_frames = 0u64;
    let result = loop {
        if interrupted.load(Ordering::Acquire) {
            break Ok(());
        }
        if limit.is_some_and(|l| start.elapsed() >= l)
            || args.frames.is_some_and(|n| summary.frames >= n)
        {
            break Ok(());
        }
        if let Some(Message::Error {
            source, message, ..
        }) = pipeline
            .bus()
            .timed_pop_filtered(Some(Duration::ZERO), |m| matches!(m, Message::Error { .. }))
        {
            break Err(format!("{source}: {message}"));
        }
        if let Some(sample) = sink.pull_sample(Some(Duration::from_millis(100))) {
            let now = Instant::now();
            first.get_or_insert(now);
            last = now;
            summary.frames += 1;
            window_frames += 1;
            if let Some(ms) = latency_ms(&sample.buffer) {
                summary
                    .latency
                    .record(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
                window.record(ms);
            }
            if summary.decoded.is_none() {
                summary.decoded = sample
                    .caps
                    .as_deref()
                    .and_then(|c| c.video_info().ok())
                    .map(|i| (i.format, i.width, i.height));
            }
            if let Some(out) = output.as_mut() {
                if let Err(e) = write_frame(out.as_mut(), &sample.buffer, sample.caps.as_deref()) {
                    break Err(e);
                }
            }
        } else if sink.is_eos() {
            // A source that fails pushes end-of-stream after its error:
            // report the error, not a clean end.
            break match pipeline
                .bus()
                .timed_pop_filtered(Some(Duration::ZERO), |m| matches!(m, Message::Error { .. }))
            {
                Some(Message::Error {
                    source, message, ..
                }) => Err(format!("{source}: {message}")),
                _ => Ok(()),
            };
        }
        if Instant::now() >= next_report {
            // The window restarts every second, shown or not (with
            // --quiet it once grew by a sample a frame for the whole run).
            let latency = window.take_line();
            if !args.quiet {
                eprint!(
                    "\rframes={} fps={} lost={} jitter={:.2} ms {latency}   ",
                    summary.frames,
                    window_frames,
                    counter(jb.as_ref(), "num-lost"),
                    counter(jb.as_ref(), "jitter-us") as f64 / 1000.0,
                );
            }
            window_frames = 0;
            next_report += Duration::from_secs(1);
        }
    };
    if !args.quiet {
        eprintln!();
    }
    if let Some(out) = output.as_mut() {
        out.flush().map_err(|e| format!("writing frames: {e}"))?;
    }
    summary.seconds = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
    summary.packets = counter(depay.as_ref(), "packets-received");
    summary.lost = counter(jb.as_ref(), "num-lost");
    summary.frames_discarded = counter(depay.as_ref(), "frames-discarded");
    summary.stream_restarts = counter(depay.as_ref(), "stream-restarts");
    summary.jitter_us = counter(jb.as_ref(), "jitter-us");
    pipeline.set_state(State::Null).map_err(|e| e.to_string())?;
    result.map(|()| summary)
}

/// The latencies of the last second, for the live line: at most
/// [`LatencyWindow::MAX`] samples, emptied by each line.
#[derive(Debug)]
struct LatencyWindow {
    samples: Vec<f64>,
}

impl Default for LatencyWindow {
    fn default() -> Self {
        LatencyWindow {
            samples: Vec::with_capacity(Self::MAX),
        }
    }
}

impl LatencyWindow {
    /// Samples kept per second (1000 fps); more are not recorded.
    const MAX: usize = 1000;

    fn record(&mut self, ms: f64) {
        if self.samples.len() < Self::MAX {
            self.samples.push(ms);
        }
    }

    /// `latency p50=… ms max=… ms` (or `latency=?`), and a fresh window.
    fn take_line(&mut self) -> String {
        self.samples.sort_by(f64::total_cmp);
        let line = match self.samples.last() {
            None => "latency=?".to_string(),
            Some(max) => format!(
                "latency p50={:.1} ms max={max:.1} ms",
                percentile(&self.samples, 50.0)
            ),
        };
        self.samples.clear();
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_latency_window_is_bounded_and_restarts() {
        let mut w = LatencyWindow::default();
        assert_eq!(w.take_line(), "latency=?");
        for i in 0..5000 {
            w.record(f64::from(i % 10));
        }
        assert_eq!(w.samples.len(), LatencyWindow::MAX);
        assert_eq!(w.take_line(), "latency p50=4.0 ms max=9.0 ms");
        assert!(w.samples.is_empty());
        assert_eq!(w.samples.capacity(), LatencyWindow::MAX, "no reallocation");
    }

    #[test]
    fn summary_json_has_every_field_and_nulls_without_latency() {
        let mut s = Summary {
            frames: 31,
            seconds: 1.0,
            packets: 100,
            lost: 2,
            ..Summary::default()
        };
        let j = s.to_json();
        assert!(j.contains("\"frames\":31"), "{j}");
        assert!(j.contains("\"fps\":30.00"), "{j}");
        assert!(j.contains("\"latency_p50_ms\":null"), "{j}");
        for ms in [1, 2, 3] {
            s.latency.record(Duration::from_millis(ms));
        }
        let j = s.to_json();
        // Percentiles are within the histogram's 3 %; the max is exact.
        let p50 = j
            .split("\"latency_p50_ms\":")
            .nth(1)
            .and_then(|r| r.split(',').next());
        let p50: f64 = p50.and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
        assert!((p50 - 2.0).abs() < 0.07, "{j}");
        assert!(j.contains("\"latency_max_ms\":3.000"), "{j}");
        assert!(s.to_text().contains("p50 2.0 ms"), "{}", s.to_text());
        assert!(j.contains("\"stream_restarts\":0"), "{j}");
        assert!(!s.to_text().contains("restarted"), "{}", s.to_text());
        s.stream_restarts = 2;
        assert!(s.to_json().contains("\"stream_restarts\":2"));
        assert!(
            s.to_text().contains("stream restarted 2 time(s)"),
            "{}",
            s.to_text()
        );
    }

    #[test]
    fn port_mode_needs_a_size_for_raw() {
        let args = ReceiveArgs {
            sdp: None,
            port: Some(5000),
            codec: Some("raw".into()),
            size: None,
            address: "127.0.0.1".into(),
            latency: 50,
            output: None,
            format: None,
            seconds: None,
            frames: None,
            json: false,
            quiet: true,
        };
        let err = build(&args).err().unwrap_or_default();
        assert!(err.contains("--size"), "{err}");
        let err = build(&ReceiveArgs {
            port: Some(65535),
            codec: None,
            ..args.clone()
        })
        .err()
        .unwrap_or_default();
        assert!(err.contains("no room for RTCP"), "{err}");
        let ok = build(&ReceiveArgs {
            size: Some("64x48".into()),
            ..args
        });
        assert!(ok.is_ok(), "{:?}", ok.err());
    }
}
