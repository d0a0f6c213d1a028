//! The figures of a case and the table: percentiles, the warm-up cut,
//! the best peer a framecast case is compared with, the rows.

use super::*;

/// The figures of one case.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub(crate) case_name: String,
    pub(crate) framecast: bool,
    pub(crate) format: &'static str,
    pub(crate) size: String,
    /// Latencies of the counted frames, ms, sorted.
    pub(crate) latencies_ms: Vec<f64>,
    /// Frames handed over after the warm-up.
    pub(crate) counted_sent: u32,
    /// Median time the sender took to read a frame off the pipe, ms.
    pub(crate) handover_p50_ms: f64,
    /// Longest time the sender took to read a frame off the pipe, ms: a
    /// sender that stalls stops reading and the producer's write blocks.
    pub(crate) handover_max_ms: f64,
    /// The counted frame with the highest latency: its number and latency
    /// (ms). A stall shows here even when it is too short to reach the p99.
    pub(crate) worst: Option<(u32, f64)>,
    /// Median latency of the counted frames that start a GOP (every
    /// [`FPS`]th frame: every sender makes an IDR there), ms. A p99 of 270
    /// frames is about the third-slowest, and 9 of them are IDRs, so an
    /// encoder whose IDRs are slow shows it here first.
    pub(crate) idr_p50_ms: f64,
    /// The first frame's latency and the highest in the warm-up second,
    /// ms: what starting the stream costs (not counted in the figures).
    pub(crate) startup: Option<(f64, f64)>,
    /// Median time from the stamp to the frame's last packet leaving the
    /// receiver's socket, ms: the sender's share of the latency (the
    /// rest is the receiver's depayload and decode).
    pub(crate) wire_p50_ms: f64,
    /// Video bitrate received (RTP payload), kbit/s.
    pub(crate) kbps: f64,
    pub(crate) bad: Option<u64>,
    pub(crate) skipped: u64,
    pub(crate) cpu_ms_per_frame: f64,
    pub(crate) rss_mib: f64,
    /// Why the case failed (its figures are then partial or missing).
    pub(crate) failure: Option<String>,
}

impl Outcome {
    pub(crate) fn p(&self, p: f64) -> f64 {
        stamp::percentile(&self.latencies_ms, p)
    }

    /// The highest counted latency, ms (NaN when no frame was counted).
    pub(crate) fn max(&self) -> f64 {
        self.worst.map_or(f64::NAN, |(_, ms)| ms)
    }
}

/// The latency of frame 0 and the highest latency of the frames before
/// `first` (the warm-up), ms.
pub(crate) fn startup_latencies(frames: &[(u32, i64)], first: u32) -> Option<(f64, f64)> {
    let ms = |ns: i64| ns as f64 / 1e6;
    let first_frame = frames
        .iter()
        .find(|(n, _)| *n == 0)
        .map(|&(_, ns)| ms(ns))?;
    let warmup_max = frames
        .iter()
        .filter(|(n, _)| *n < first)
        .map(|&(_, ns)| ms(ns))
        .fold(first_frame, f64::max);
    Some((first_frame, warmup_max))
}

/// The frame numbered `first` or later with the highest latency: its
/// number and latency, ms.
pub(crate) fn worst_frame(frames: &[(u32, i64)], first: u32) -> Option<(u32, f64)> {
    frames
        .iter()
        .filter(|(n, _)| *n >= first)
        .max_by_key(|(_, ns)| *ns)
        .map(|&(n, ns)| (n, ns as f64 / 1e6))
}

/// Latencies (ms, sorted) of the frames numbered `first` or later.
pub(crate) fn counted_latencies(frames: &[(u32, i64)], first: u32) -> Vec<f64> {
    let mut v: Vec<f64> = frames
        .iter()
        .filter(|(n, _)| *n >= first)
        .map(|(_, ns)| *ns as f64 / 1e6)
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// `numerator / denominator` as "1.23x", or "-".
pub(crate) fn ratio(numerator: f64, denominator: f64) -> String {
    if numerator.is_finite() && denominator.is_finite() && denominator > 0.0 {
        format!("{:.2}x", numerator / denominator)
    } else {
        "-".into()
    }
}

/// The x264 peers: a framecast case is compared with the better of them.
pub(crate) const X264_PEERS: &[&str] = &["gst-x264", "ffmpeg-x264"];
/// The openh264 peer.
pub(crate) const OPENH264_PEERS: &[&str] = &["gst-openh264"];
/// framecast-python's peer: the same Python loop with GStreamer.
pub(crate) const PYTHON_PEERS: &[&str] = &["gst-python"];
/// What the RTSP cases are compared with: the same encode sent straight
/// as RTP/UDP.
pub(crate) const DIRECT_PEERS: &[&str] = &["framecast-send"];

/// The peer groups a framecast case is compared with: the best x264
/// sender of GStreamer and FFmpeg, and GStreamer's openh264enc for the
/// openh264 case and for `framecast send` and the library sender (whose
/// encoder is openh264 unless framecast was built with x264). The openh264
/// case is held to both: ahead of GStreamer's openh264enc, and near the
/// best x264 sender. framecast-python is held to gst-python, the same
/// Python program written with GStreamer.
pub(crate) fn peers_of(case_name: &str) -> &'static [&'static [&'static str]] {
    if case_name == Case::FramecastPython.name() {
        &[PYTHON_PEERS]
    } else if case_name == Case::ServeUdp.name() || case_name == Case::ServeTcp.name() {
        &[DIRECT_PEERS, X264_PEERS]
    } else if case_name == Case::LaunchOpenh264.name() {
        &[OPENH264_PEERS, X264_PEERS]
    } else if case_name == Case::Send.name() || case_name == Case::Library.name() {
        &[X264_PEERS, OPENH264_PEERS]
    } else {
        &[X264_PEERS]
    }
}

/// Lowest p50, lowest p99 and lowest max among `peers` of the same
/// format and size.
pub(crate) fn best_peer(
    outcomes: &[Outcome],
    of: &Outcome,
    peers: &[&str],
) -> Option<(f64, f64, f64)> {
    let same: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| {
            peers.contains(&o.case_name.as_str())
                && o.format == of.format
                && o.size == of.size
                && o.failure.is_none()
                && !o.latencies_ms.is_empty()
        })
        .collect();
    let p50 = same
        .iter()
        .map(|o| o.p(50.0))
        .min_by(|a, b| a.total_cmp(b))?;
    let p99 = same
        .iter()
        .map(|o| o.p(99.0))
        .min_by(|a, b| a.total_cmp(b))?;
    let max = same.iter().map(|o| o.max()).min_by(|a, b| a.total_cmp(b))?;
    Some((p50, p99, max))
}

/// `value` with `decimals`, or "-" when it is not a number (no frames).
pub(crate) fn figure(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "-".into()
    }
}

pub(crate) fn print_row(o: &Outcome) {
    let bad = o.bad.map_or("?".to_string(), |b| b.to_string());
    let lost = i64::from(o.counted_sent) - o.latencies_ms.len() as i64;
    println!(
        "{:<26} {:<5} {:<10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>7} {:>6} {:>5} {:>4} {:>5} {:>8} {:>7} {:>6}",
        o.case_name,
        o.format,
        o.size,
        figure(o.p(50.0), 1),
        figure(o.p(99.0), 1),
        figure(o.max(), 1),
        figure(o.handover_p50_ms, 2),
        figure(o.handover_max_ms, 1),
        figure(o.wire_p50_ms, 2),
        o.latencies_ms.len(),
        lost,
        bad,
        o.skipped,
        figure(o.cpu_ms_per_frame, 2),
        figure(o.rss_mib, 1),
        figure(o.kbps, 0)
    );
    if let Some((frame, ms)) = o.worst {
        // Where a stall sits (start-up, an IDR, a pool growing) is the
        // first clue to its cause.
        println!(
            "    max {ms:.1} ms at frame {frame} (about {:.2} s in); IDR frames p50 {} ms{}",
            f64::from(frame) / f64::from(FPS),
            figure(o.idr_p50_ms, 1),
            o.startup.map_or(String::new(), |(first, warmup)| format!(
                "; start-up (not counted): frame 0 {first:.1} ms, warm-up max {warmup:.1} ms"
            ))
        );
    }
    if let Some(f) = &o.failure {
        println!("    ! {f}");
    }
}

pub(crate) fn print_header() {
    println!(
        "{:<26} {:<5} {:<10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>7} {:>6} {:>5} {:>4} {:>5} {:>8} {:>7} {:>6}",
        "case",
        "fmt",
        "size",
        "p50 ms",
        "p99 ms",
        "max ms",
        "in ms",
        "in max",
        "wire ms",
        "frames",
        "lost",
        "bad",
        "skip",
        "CPU ms/f",
        "RSS MiB",
        "kbit/s"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_frames_are_not_counted() {
        let frames = [(0, 9_000_000), (31, 3_000_000), (30, 2_000_000), (2, 1)];
        assert_eq!(counted_latencies(&frames, 30), vec![2.0, 3.0]);
    }

    #[test]
    fn the_slowest_counted_frame_is_the_max() {
        // Frame 2 is the slowest but falls in the warm-up; of the counted
        // frames, 31's single 133 ms stall is the max, far above a p99
        // that the other 199 frames decide.
        let mut frames: Vec<(u32, i64)> = (30..230).map(|n| (n, 10_000_000)).collect();
        frames.push((2, 900_000_000));
        frames[1].1 = 133_000_000;
        assert_eq!(worst_frame(&frames, 30), Some((31, 133.0)));
        assert_eq!(worst_frame(&frames, 500), None);
        frames.push((0, 50_000_000));
        assert_eq!(startup_latencies(&frames, 30), Some((50.0, 900.0)));
        assert_eq!(startup_latencies(&frames[..1], 30), None);
        let o = Outcome {
            latencies_ms: counted_latencies(&frames, 30),
            worst: worst_frame(&frames, 30),
            ..Outcome::default()
        };
        assert_eq!(o.p(99.0), 10.0);
        assert_eq!(o.max(), 133.0);
        assert!(Outcome::default().max().is_nan());
    }

    #[test]
    fn framecast_is_compared_with_its_best_peer() {
        let outcome = |name: &str, v: &[f64]| Outcome {
            case_name: name.into(),
            framecast: name.starts_with("framecast"),
            format: "bgr",
            size: "1280x720".into(),
            latencies_ms: v.to_vec(),
            worst: v.last().map(|&ms| (0, ms)),
            ..Outcome::default()
        };
        let all = vec![
            outcome("gst-x264", &[6.0, 20.0]),
            outcome("ffmpeg-x264", &[8.0, 12.0]),
            outcome("gst-openh264", &[9.0, 9.0]),
            outcome("framecast-send", &[5.0, 10.0]),
        ];
        let fc = &all[3];
        assert_eq!(
            best_peer(&all, fc, peers_of(&fc.case_name)[0]),
            Some((6.0, 12.0, 12.0))
        );
        assert_eq!(
            best_peer(&all, fc, peers_of("framecast-launch-openh264")[0]),
            Some((9.0, 9.0, 9.0))
        );
        // The openh264 case is also held against the best x264 sender.
        assert_eq!(
            best_peer(&all, fc, peers_of("framecast-launch-openh264")[1]),
            Some((6.0, 12.0, 12.0))
        );
        assert_eq!(
            best_peer(&all, fc, peers_of(&fc.case_name)[1]),
            Some((9.0, 9.0, 9.0))
        );
        assert_eq!(ratio(3.0, 6.0), "0.50x");
        assert_eq!(figure(f64::NAN, 1), "-");
        assert_eq!(figure(2.345, 2), "2.35");
        assert_eq!(ratio(3.0, 0.0), "-");
    }
}
