//! `framecast receive`: RTP/UDP in, decoded frames out, with a live stats
//! line (fps, loss, jitter, and the end-to-end latency of every frame once
//! the sender's RTCP reports say when it was captured).
//!
//! The pipeline it runs ([`framecast::receiver::Receiver`]'s), for H.264:
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
use std::time::{Duration, Instant, SystemTime};

use framecast::receiver::{ReceivedFrame, Receiver, ReceiverBuilder, ReceiverStats};
use framecast::sender::Codec;
use framecast::trace::Histogram;
use framecast::VideoFormat;

/// Options.
#[derive(Debug, Clone, clap::Args)]
pub struct ReceiveArgs {
    /// Play `rtsp://[user:pass@]host:port/path` from an RTSP server
    /// (DESCRIBE, SETUP over TCP, PLAY) instead of listening on a port.
    #[arg(conflicts_with_all = ["port", "sdp"])]
    pub url: Option<String>,
    /// Read the stream's description (port, codec, parameter sets) from an
    /// SDP file, as `framecast send --sdp` or ffmpeg write.
    #[arg(long, conflicts_with_all = ["port", "codec"])]
    pub sdp: Option<PathBuf>,
    /// UDP port of the RTP stream (RTCP is expected on the next one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Encoding of the stream, with --port or an rtsp:// URL.
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
    /// Keep only the newest decoded frame when the output is slower than
    /// the stream (a viewer), instead of making the decoder wait.
    #[arg(long)]
    pub drop_old: bool,
    /// Print the summary as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
    /// No live stats line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Exit with an error when packets keep coming but nothing decodes
    /// for 5 s (a stream this receiver cannot decode). By default that is
    /// a warning and the receiver goes on: a decodable stream may still
    /// come (a keyframe, a restarted sender).
    #[arg(long)]
    pub exit_if_undecodable: bool,
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
    /// Packets that came too late for their slot.
    pub late: u64,
    /// Packets of another source or far outside the window (dropped
    /// without harm).
    pub stray: u64,
    /// Pictures shown with lost data concealed.
    pub frames_concealed: u64,
    /// Access units the decoder rejected (the stream went on).
    pub decode_errors: u64,
    /// Interarrival jitter at the end, µs.
    pub jitter_us: u64,
    /// End-to-end latency of every frame with a sender capture time (a
    /// fixed-size histogram: a receiver that runs for days must not grow).
    pub latency: Histogram,
    /// Frame size and format as decoded.
    pub decoded: Option<(VideoFormat, u32, u32)>,
    /// The sender said BYE (its stream ended).
    pub bye: bool,
    /// Seconds the stream ran, when its packets stopped without a BYE
    /// (the sender vanished: [`ReceiverStats::stopped_without_bye`]).
    ///
    /// [`ReceiverStats::stopped_without_bye`]: framecast::receiver::ReceiverStats::stopped_without_bye
    pub stopped_without_bye: Option<f64>,
    /// This process's peak resident set (`VmHWM`), KiB, read as it
    /// finishes: what `demo` reports as the receiver's peak.
    pub peak_rss_kib: Option<u64>,
    /// Its buffer pools at the end (`6 x 3.0 MiB, ...`), when a leaks
    /// tracer tracks them: what a step in its RSS stands for.
    pub pools: Option<String>,
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
            "{{\"frames\":{},\"seconds\":{:.3},\"fps\":{:.2},\"packets\":{},\"lost\":{},\"frames_discarded\":{},\"stream_restarts\":{},\"late\":{},\"stray\":{},\"frames_concealed\":{},\"decode_errors\":{},\"jitter_us\":{},\"latency_frames\":{},\"latency_p50_ms\":{},\"latency_p99_ms\":{},\"latency_max_ms\":{},\"decoded\":{},\"bye\":{},\"stopped_without_bye_s\":{},\"peak_rss_kib\":{},\"pools\":{}}}",
            self.frames,
            self.seconds,
            self.fps(),
            self.packets,
            self.lost,
            self.frames_discarded,
            self.stream_restarts,
            self.late,
            self.stray,
            self.frames_concealed,
            self.decode_errors,
            self.jitter_us,
            self.latency.count(),
            num(p50),
            num(p99),
            num(max),
            decoded,
            self.bye,
            num(self.stopped_without_bye.unwrap_or(f64::NAN)),
            self.peak_rss_kib
                .map_or("null".to_string(), |k| k.to_string()),
            // Digits, letters, spaces, commas and dots: nothing to escape.
            self.pools
                .as_ref()
                .map_or("null".to_string(), |p| format!("\"{p}\"")),
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
        if self.frames_concealed > 0 {
            s.push_str(&format!(", {} concealed", self.frames_concealed));
        }
        if self.late + self.stray > 0 {
            s.push_str(&format!(
                ", {} late and {} stray packets dropped",
                self.late, self.stray
            ));
        }
        if self.decode_errors > 0 {
            s.push_str(&format!(", {} decode errors", self.decode_errors));
        }
        if let Some((f, w, h)) = self.decoded {
            s.push_str(&format!(", decoded {} {w}x{h}", f.name()));
        }
        if let Some(secs) = self.stopped_without_bye {
            s.push_str(&format!(
                "\nstream stopped without BYE after {secs:.1} s (the sender vanished: no packet for {} s or more, and no RTCP BYE)",
                ReceiverStats::STOPPED_AFTER.as_secs()
            ));
        }
        if let Some(pools) = &self.pools {
            s.push_str(&format!("\nbuffer pools: {pools}"));
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

/// The library receiver for these options (the pipeline is
/// [`ReceiverBuilder::pipeline_description`]'s).
fn receiver_builder(args: &ReceiveArgs) -> Result<ReceiverBuilder, String> {
    let mut builder = Receiver::builder()
        .address(&args.address)
        .latency(Duration::from_millis(args.latency))
        .drop_old_frames(args.drop_old);
    if let Some(url) = &args.url {
        if !url.trim().starts_with("rtsp://") {
            return Err(format!("{url:?}: give an rtsp:// URL (or --port / --sdp)"));
        }
        builder = builder.url(url);
        // The stream's codec is not read from the DESCRIBE yet: --codec
        // says it (H.264 by default).
        match args.codec.as_deref() {
            Some("jpeg") => builder = builder.codec(Codec::Jpeg),
            Some("raw") => return Err("--codec raw: RTSP plays H.264 or JPEG".into()),
            _ => {}
        }
    } else if let Some(path) = &args.sdp {
        builder = builder.sdp_file(path);
    } else {
        let port = args
            .port
            .ok_or("give --sdp FILE, or --port PORT with --codec")?;
        builder = builder.port(port);
        builder = match args.codec.as_deref().unwrap_or("h264") {
            "jpeg" => builder.codec(Codec::Jpeg),
            "raw" => {
                let size = args
                    .size
                    .as_deref()
                    .ok_or("--codec raw needs --size WxH (or use --sdp)")?;
                let (w, h) = crate::send::parse_size(size)?;
                builder.codec(Codec::Raw).size(w, h)
            }
            _ => builder.codec(Codec::H264),
        };
    }
    if let Some(name) = &args.format {
        let format = VideoFormat::from_name(name).map_err(|e| format!("--format: {e}"))?;
        builder = builder.output_format(format);
    }
    Ok(builder)
}

/// Builds the receive pipeline and starts it (its sockets are bound when
/// it returns).
pub fn build(args: &ReceiveArgs) -> Result<Receiver, String> {
    receiver_builder(args)?.build().map_err(|e| e.to_string())
}

/// The options that need no socket to be judged, checked before anything
/// starts.
fn check(args: &ReceiveArgs) -> Result<(), String> {
    if args.json && args.output.as_deref() == Some("-") {
        return Err("--json and --output - both want standard output".into());
    }
    if let Some(s) = args.seconds.filter(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(format!(
            "--seconds {s}: give a number of seconds, 0 or more"
        ));
    }
    Ok(())
}

/// Runs `framecast receive`.
pub fn run(args: ReceiveArgs) -> Result<(), String> {
    check(&args)?;
    framecast::init().map_err(|e| format!("FRAMECAST_TRACERS: {e}"))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let result = crate::send::interruptible(&interrupted, || receive(&args, &interrupted));
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

/// Records a frame's latency: into the summary (negative as 0) and the
/// live window (as it is: a negative one says the clocks disagree).
fn record_latency(frame: &ReceivedFrame, summary: &mut Summary, window: &mut LatencyWindow) {
    let ms = match (frame.latency, frame.capture_time()) {
        (Some(latency), _) => latency.as_secs_f64() * 1000.0,
        // Captured "after" now: the sender's clock is ahead of ours.
        (None, Some(captured)) => captured
            .duration_since(SystemTime::now())
            .map_or(0.0, |ahead| -ahead.as_secs_f64() * 1000.0),
        (None, None) => return,
    };
    summary
        .latency
        .record(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    window.record(ms);
}

fn receive(args: &ReceiveArgs, interrupted: &AtomicBool) -> Result<Summary, String> {
    let receiver = build(args)?;
    let mut output: Option<Box<dyn Write>> = match args.output.as_deref() {
        None => None,
        Some("-") => Some(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
        Some(path) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?,
        ))),
    };
    if !args.quiet {
        if let Some(port) = receiver.local_port() {
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
        // An element's error (checked before waiting, and when the stream
        // ends: a source that fails pushes end-of-stream after its error)
        // is reported, not taken for a clean end.
        match receiver.pull(Some(Duration::from_millis(100))) {
            Err(e) => break Err(e.to_string()),
            Ok(Some(frame)) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last = now;
                summary.frames += 1;
                window_frames += 1;
                record_latency(&frame, &mut summary, &mut window);
                if summary.decoded.is_none() {
                    summary.decoded =
                        Some((frame.info.format, frame.info.width, frame.info.height));
                }
                if let Some(out) = output.as_mut() {
                    match frame.write_packed(out.as_mut()) {
                        Ok(_) => {}
                        Err(framecast::Error::Io { source, .. }) => {
                            break Err(format!("writing frames: {source}"))
                        }
                        Err(e) => break Err(e.to_string()),
                    }
                }
            }
            Ok(None) if receiver.is_eos() => break Ok(()),
            Ok(None) => {}
        }
        if Instant::now() >= next_report {
            // Warnings (a decoder meeting what it cannot decode goes on,
            // and says so), on their own lines, --quiet or not.
            print_warnings(&receiver, !args.quiet);
            if args.exit_if_undecodable && receiver.stats().undecodable > 0 {
                break Err("the stream has not decoded for 5 s (--exit-if-undecodable)".to_string());
            }
            // The window restarts every second, shown or not (with
            // --quiet it once grew by a sample a frame for the whole run).
            let latency = window.take_line();
            if !args.quiet {
                let stats = receiver.stats();
                eprint!(
                    "\rframes={} fps={} lost={} jitter={:.2} ms {latency}   ",
                    summary.frames,
                    window_frames,
                    stats.lost,
                    stats.jitter.as_secs_f64() * 1000.0,
                );
            }
            window_frames = 0;
            next_report += Duration::from_secs(1);
        }
    };
    if !args.quiet {
        eprintln!();
    }
    print_warnings(&receiver, false);
    if let Some(out) = output.as_mut() {
        out.flush().map_err(|e| format!("writing frames: {e}"))?;
    }
    summary.seconds = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
    // Read while the pipeline still holds its pools.
    let pools = crate::pools::pool_sizes();
    summary.pools = (!pools.is_empty()).then(|| crate::pools::describe(&pools));
    let stats = receiver.stop().map_err(|e| e.to_string())?;
    summary.packets = stats.packets;
    summary.lost = stats.lost;
    summary.frames_discarded = stats.frames_discarded;
    summary.stream_restarts = stats.stream_restarts;
    summary.late = stats.late;
    summary.stray = stats.stray;
    summary.frames_concealed = stats.frames_concealed;
    summary.decode_errors = stats.decode_errors;
    summary.jitter_us = u64::try_from(stats.jitter.as_micros()).unwrap_or(u64::MAX);
    summary.bye = stats.bye;
    summary.stopped_without_bye = stats.stopped_without_bye().map(|d| d.as_secs_f64());
    summary.peak_rss_kib = crate::rss::peak_rss_kib(std::process::id());
    result.map(|()| summary)
}

/// Prints the receiver's new warnings to stderr, each on its own line
/// (after ending the live line when one is shown).
fn print_warnings(receiver: &Receiver, live_line: bool) {
    let warnings = receiver.take_warnings();
    if warnings.is_empty() {
        return;
    }
    if live_line {
        eprintln!();
    }
    for w in warnings {
        eprintln!("framecast: warning: {w}");
    }
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
            // The nearest-rank median of the sorted samples.
            Some(max) => format!(
                "latency p50={:.1} ms max={max:.1} ms",
                self.samples[(self.samples.len() - 1) / 2]
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
        assert!(
            j.contains("\"bye\":false,\"stopped_without_bye_s\":null,\"peak_rss_kib\":null,\"pools\":null}"),
            "{j}"
        );
        assert!(!s.to_text().contains("without BYE"), "{}", s.to_text());
        s.stopped_without_bye = Some(4.25);
        s.peak_rss_kib = Some(61_440);
        s.pools = Some("6 x 3.0 MiB".into());
        assert!(s.to_json().ends_with(
            "\"stopped_without_bye_s\":4.250,\"peak_rss_kib\":61440,\"pools\":\"6 x 3.0 MiB\"}"
        ));
        assert!(
            s.to_text()
                .contains("\nstream stopped without BYE after 4.2 s"),
            "{}",
            s.to_text()
        );
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
            url: None,
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
            drop_old: false,
            json: false,
            quiet: true,
            exit_if_undecodable: false,
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
        // With a size it is the raw pipeline (described, not started: the
        // test binds no port).
        let rtsp = receiver_builder(&ReceiveArgs {
            url: Some("rtsp://127.0.0.1:8554/cam".into()),
            port: None,
            codec: None,
            ..args.clone()
        })
        .and_then(|b| b.pipeline_description().map_err(|e| e.to_string()))
        .unwrap_or_else(|e| e);
        assert!(
            rtsp.starts_with(
                "rtspsrc name=src location=\"rtsp://127.0.0.1:8554/cam\" ! rtpjitterbuffer"
            ) && !rtsp.contains("udpsrc"),
            "{rtsp}"
        );
        let ok = receiver_builder(&ReceiveArgs {
            size: Some("64x48".into()),
            format: Some("bgr".into()),
            ..args
        })
        .and_then(|b| b.pipeline_description().map_err(|e| e.to_string()));
        let line = ok.unwrap_or_else(|e| e);
        assert!(
            line.starts_with("udpsrc name=src port=5000 address=127.0.0.1 ")
                && line.contains("width=(string)64,height=(string)48")
                && line.contains(
                    "rtpvrawdepay name=depay ! videoconvert ! video/x-raw,format=BGR ! appsink"
                )
                && line.ends_with("udpsrc name=rtcp port=5001 address=127.0.0.1 ! jb.sink_rtcp"),
            "{line}"
        );
    }
}
