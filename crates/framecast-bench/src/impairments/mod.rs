//! `framecast-bench impairments`: pictures through a bad network. One
//! framecast [`Sender`](framecast::sender::Sender) in this process (720p30
//! I420, H.264 at 4 Mbit/s, the stamp of [`crate::stamp`] painted into each
//! frame, paced like a camera by the latency bench's producer) sends
//! through the impairment relay the tests use (`framecast-impair`, as
//! `framecast_test_support::impair`: loss, bursts, reordering,
//! delay with jitter; the receiver's RTCP feedback goes back unimpaired)
//! to one receiver at a time, for every impairment in the same run:
//!
//! - `framecast`: framecast's [`Receiver`](framecast::receiver::Receiver)
//!   as shipped (NACK + RTX, concealment, 50 ms latency), in this process;
//! - `framecast-no-rtx`: the same with retransmission off;
//! - `framecast-fec`: retransmission off, the sender adding ULPFEC
//!   (`fec(5)`: one parity packet per 5 media packets, as `framecast send
//!   --fec 5`), the receiver rebuilding lost packets from it;
//! - `gst`: `udpsrc ! rtpjitterbuffer latency=50 ! rtph264depay !
//!   avdec_h264` (the latency bench's C receiver, given a jitter-buffer
//!   latency), without retransmission: `do-retransmission=true` alone
//!   turns a gap into an upstream event that only an `rtpbin`/`rtpsession`
//!   with an RTCP path to the sender makes into a NACK;
//! - `gst-rtx`: that `rtpbin` (AVPF, `do-retransmission=true`, latency 50)
//!   with `rtprtxreceive` in front of its jitter buffer and its RTCP (the
//!   NACKs) going back through the relay to the sender, then
//!   `rtph264depay ! avdec_h264`: the PyGObject receiver of the
//!   retransmission interop test (`framecast_test_support::interop::
//!   gst_rtx_receiver`, run with `/usr/bin/python3`), which reads the
//!   stamps of the decoded frames itself;
//! - `ffmpeg`: `ffmpeg -i stream.sdp` decoding to raw I420 on a pipe
//!   (`-max_delay 50000`: the same 50 ms reordering wait; not `-fflags
//!   nobuffer`, which throws away what arrived while it probed the stream,
//!   a second of frames).
//!
//! Per case: frames shown (decoded frames, concealed ones included, over
//! frames the sender encoded), the longest freeze (longest gap between two
//! decoded frames), latency p50/p99 from the stamp (handed over -> decoded,
//! `CLOCK_MONOTONIC`; only pictures whose stamp survived count, so a
//! concealed frame gives no latency, and not the first second), the
//! repair overhead (RTX and FEC packets the sender added over the media
//! packets it sent), the bytes on the wire (what the relay received from
//! the sender: media, RTX and FEC) and the packets repaired (RTX answered,
//! or lost packets rebuilt from FEC). The sender's RTCP sender reports go to the relay's port + 1,
//! where nothing listens, so framecast's own RTCP-derived latency is not
//! available here; the stamp measures every receiver alike.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::latency::{self, Format, BITRATE_KBPS, FPS};
use crate::stamp::{self, Stamp};

use framecast_test_support::impair::{Impairment, Relay};
use framecast_test_support::interop::{gst_rtx_receiver, PYTHON};
use framecast_test_support::ports;

mod receivers;
use receivers::*;

const WIDTH: usize = 1280;
const HEIGHT: usize = 720;
/// The jitter-buffer latency of every receiver (framecast's default).
const JITTER_MS: u32 = 50;
/// How long a receiver may stay quiet after the last frame was sent
/// before it is stopped.
const DRAIN: Duration = Duration::from_millis(1500);
/// Media packets per ULPFEC parity packet of the `framecast-fec` case.
const FEC_GROUP: u32 = 5;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds of video per case.
    #[arg(long, default_value_t = 8.0)]
    seconds: f64,
    /// Impairments (default all): none, loss1, loss5, loss10, burst5
    /// (5 % lost in bursts of 5 on average), reorder25 (25 % held back
    /// 5 ms), jitter20 (20 +- 10 ms).
    #[arg(long, value_delimiter = ',')]
    impairments: Vec<String>,
    /// Receivers (default all): framecast, framecast-no-rtx,
    /// framecast-fec, gst, gst-rtx, ffmpeg.
    #[arg(long, value_delimiter = ',')]
    receivers: Vec<String>,
}

/// The impairments, by name.
const IMPAIRMENTS: &[&str] = &[
    "none",
    "loss1",
    "loss5",
    "loss10",
    "burst5",
    "reorder25",
    "jitter20",
];

/// The probability that starts a loss burst so that bursts of mean length
/// `burst` lose `rate` of all packets. In the relay's Gilbert model a
/// packet after a kept one is lost with probability `p`, one after a lost
/// one with `1 - 1/burst`, so the lost share is `p b / (1 + p b)`.
fn burst_start(rate: f64, burst: f64) -> f64 {
    if burst <= 1.0 {
        return rate;
    }
    rate / ((1.0 - rate) * burst)
}

fn impairment(name: &str) -> Result<Impairment, String> {
    let loss = |loss| Impairment {
        loss,
        ..Impairment::default()
    };
    Ok(match name {
        "none" => Impairment::default(),
        "loss1" => loss(0.01),
        "loss5" => loss(0.05),
        "loss10" => loss(0.10),
        "burst5" => Impairment {
            loss: burst_start(0.05, 5.0),
            burst: 5.0,
            ..Impairment::default()
        },
        "reorder25" => Impairment {
            reorder: 0.25,
            reorder_by: Duration::from_millis(5),
            ..Impairment::default()
        },
        "jitter20" => Impairment {
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(10),
            ..Impairment::default()
        },
        other => {
            return Err(format!(
                "unknown impairment {other:?} (one of {})",
                IMPAIRMENTS.join(", ")
            ))
        }
    })
}

/// A receiver behind the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Framecast,
    FramecastNoRtx,
    FramecastFec,
    Gst,
    GstRtx,
    Ffmpeg,
}

const PEERS: &[Peer] = &[
    Peer::Framecast,
    Peer::FramecastNoRtx,
    Peer::FramecastFec,
    Peer::Gst,
    Peer::GstRtx,
    Peer::Ffmpeg,
];

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Framecast => "framecast",
            Peer::FramecastNoRtx => "framecast-no-rtx",
            Peer::FramecastFec => "framecast-fec",
            Peer::Gst => "gst",
            Peer::GstRtx => "gst-rtx",
            Peer::Ffmpeg => "ffmpeg",
        }
    }

    fn parse(name: &str) -> Result<Peer, String> {
        PEERS
            .iter()
            .copied()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = PEERS.iter().map(|p| p.name()).collect();
                format!("unknown receiver {name:?} (one of {})", names.join(", "))
            })
    }

    /// What the table calls it.
    fn label(self) -> &'static str {
        match self {
            Peer::Framecast => "framecast (NACK + RTX)",
            Peer::FramecastNoRtx => "framecast, no retransmission",
            Peer::FramecastFec => "framecast, ULPFEC 1/5, no retransmission",
            Peer::Gst => "GStreamer rtpjitterbuffer + avdec_h264",
            Peer::GstRtx => "GStreamer rtpbin + rtprtxreceive (NACK + RTX) + avdec_h264",
            Peer::Ffmpeg => "FFmpeg",
        }
    }

    /// Whether its repair figures are framecast's (its own receiver, or
    /// framecast's sender answering its NACKs).
    fn repairs_with_framecast(self) -> bool {
        !matches!(self, Peer::Gst | Peer::Ffmpeg)
    }
}

/// What one receiver saw of one impairment.
#[derive(Debug, Clone, Default)]
struct Outcome {
    impairment: String,
    peer: Option<Peer>,
    /// Frames the sender encoded.
    sent: u64,
    /// When each frame was decoded (`CLOCK_MONOTONIC` ns).
    decoded_at: Vec<u64>,
    /// Handed over -> decoded, ms, of the frames whose stamp survived.
    latencies_ms: Vec<f64>,
    /// Packets the sender sent, resent as RTX, and sent as FEC.
    packets: u64,
    retransmissions: u64,
    fec_packets: u64,
    /// Bytes the relay received from the sender (media, RTX, FEC).
    wire_bytes: u64,
    /// Lost packets the receiver rebuilt from FEC (framecast's receiver).
    fec_recovered: u64,
    /// Share of the packets the relay dropped.
    relay_loss: f64,
    failure: Option<String>,
}

impl Outcome {
    fn shown_percent(&self) -> f64 {
        if self.sent == 0 {
            return f64::NAN;
        }
        self.decoded_at.len() as f64 * 100.0 / self.sent as f64
    }

    /// The longest gap between two decoded frames, ms (NaN with fewer than
    /// two).
    fn longest_freeze_ms(&self) -> f64 {
        let mut times = self.decoded_at.clone();
        times.sort_unstable();
        times
            .windows(2)
            .map(|w| (w[1] - w[0]) as f64 / 1e6)
            .max_by(f64::total_cmp)
            .unwrap_or(f64::NAN)
    }

    fn latency(&self, p: f64) -> f64 {
        let mut v = self.latencies_ms.clone();
        v.sort_by(f64::total_cmp);
        stamp::percentile(&v, p)
    }

    /// RTX and FEC packets over media packets, %.
    fn repair_overhead_percent(&self) -> f64 {
        if self.packets == 0 {
            return f64::NAN;
        }
        (self.retransmissions + self.fec_packets) as f64 * 100.0 / self.packets as f64
    }

    /// Packets repaired: RTX answered, or rebuilt from FEC.
    fn repaired(&self) -> u64 {
        self.retransmissions + self.fec_recovered
    }

    fn row(&self) -> String {
        let peer = self.peer.map_or("?", Peer::label);
        if let Some(f) = &self.failure {
            return format!("| {} | {peer} | failed: {f} | | | | | |", self.impairment);
        }
        let (overhead, repaired) = if self.peer.is_some_and(Peer::repairs_with_framecast) {
            (
                format!("{:.1} %", self.repair_overhead_percent()),
                self.repaired().to_string(),
            )
        } else {
            ("-".into(), "-".into())
        };
        format!(
            "| {} ({:.1} % lost) | {peer} | {}/{} ({:.1} %) | {:.0} ms | {:.0} / {:.0} ms | {overhead} | {:.2} MB | {repaired} |",
            self.impairment,
            self.relay_loss * 100.0,
            self.decoded_at.len(),
            self.sent,
            self.shown_percent(),
            self.longest_freeze_ms(),
            self.latency(50.0),
            self.latency(99.0),
            self.wire_bytes as f64 / 1e6,
        )
    }
}

/// FEC's cost and gain at each impairment: bytes on the wire with FEC
/// against the same stream without (framecast, no retransmission), the
/// packets rebuilt, and the frames shown against the best peer's (the
/// anchors, measured in the same run).
fn fec_lines(outcomes: &[Outcome]) -> Vec<String> {
    let mut lines = Vec::new();
    let of = |name: &str, peer| {
        outcomes
            .iter()
            .find(|o| o.impairment == name && o.peer == Some(peer) && o.failure.is_none())
    };
    let mut names: Vec<&str> = outcomes.iter().map(|o| o.impairment.as_str()).collect();
    names.dedup();
    for name in names {
        let (Some(fec), Some(plain)) =
            (of(name, Peer::FramecastFec), of(name, Peer::FramecastNoRtx))
        else {
            continue;
        };
        let best = [Peer::Gst, Peer::GstRtx, Peer::Ffmpeg]
            .into_iter()
            .filter_map(|p| of(name, p))
            .max_by_key(|o| o.decoded_at.len());
        let against = best.map_or("no peer".to_string(), |b| {
            format!(
                "{:.2}x the best peer's ({} {})",
                fec.decoded_at.len() as f64 / b.decoded_at.len().max(1) as f64,
                b.peer.map_or("?", Peer::name),
                b.decoded_at.len()
            )
        });
        lines.push(format!(
            "{name}: {:.2} MB on the wire with FEC 1/{FEC_GROUP}, {:.2} MB without ({:.2}x); \
             {} FEC packets, {} lost packets rebuilt; {} frames shown ({} without FEC), {against}",
            fec.wire_bytes as f64 / 1e6,
            plain.wire_bytes as f64 / 1e6,
            fec.wire_bytes as f64 / plain.wire_bytes.max(1) as f64,
            fec.fec_packets,
            fec.fec_recovered,
            fec.decoded_at.len(),
            plain.decoded_at.len(),
        ));
    }
    lines
}

/// The goal statement, checked: at 5 % random loss framecast (NACK)
/// shows >= 99 % of frames with no freeze over 150 ms; at every
/// impairment it shows at least as many frames as the best peer.
fn goals(outcomes: &[Outcome]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut names: Vec<&str> = outcomes.iter().map(|o| o.impairment.as_str()).collect();
    names.dedup();
    for name in names {
        let of = |peer| {
            outcomes
                .iter()
                .find(|o| o.impairment == name && o.peer == Some(peer) && o.failure.is_none())
        };
        let Some(ours) = of(Peer::Framecast) else {
            continue;
        };
        if name == "loss5" {
            let (shown, freeze) = (ours.shown_percent(), ours.longest_freeze_ms());
            let met = shown >= 99.0 && freeze <= 150.0;
            lines.push(format!(
                "loss5: {shown:.1} % shown, longest freeze {freeze:.0} ms \
                 (goal >= 99 % and <= 150 ms): {}",
                if met { "met" } else { "missed" }
            ));
        }
        let best = [Peer::Gst, Peer::GstRtx, Peer::Ffmpeg]
            .into_iter()
            .filter_map(of)
            .max_by_key(|o| o.decoded_at.len());
        if let Some(best) = best {
            let (a, b) = (ours.decoded_at.len(), best.decoded_at.len());
            lines.push(format!(
                "{name}: framecast {a} frames, best peer ({}) {b}: {}",
                best.peer.map_or("?", Peer::name),
                if a >= b { "met" } else { "missed" }
            ));
        }
    }
    lines
}

/// What the sender did.
struct Sent {
    frames: u64,
    packets: u64,
    retransmissions: u64,
    fec_packets: u64,
}

/// Sends `seconds` of stamped 720p30 to `port` (the relay), with ULPFEC
/// groups of `fec` packets (0: none).
fn send(port: u16, seconds: f64, fec: u32) -> Result<Sent, String> {
    let sender = framecast::sender::Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(framecast::sender::Codec::H264)
        .size(WIDTH as u32, HEIGHT as u32)
        .fps(FPS)
        .input_format(framecast::VideoFormat::I420)
        .bitrate(BITRATE_KBPS)
        .fec(fec)
        .build()
        .map_err(|e| format!("Sender::build: {e}"))?;
    let produced = latency::pace(
        Format::I420,
        (WIDTH, HEIGHT),
        seconds,
        |packed| {
            sender
                .push_packed(packed, None)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        || None,
    )?;
    let sink = sender.pipeline().by_name("sink");
    let retransmissions = sink.as_ref().map_or(0, |s| s.counter("retransmissions"));
    let fec_packets = sink.as_ref().map_or(0, |s| s.counter("fec-packets"));
    let stats = sender.finish().map_err(|e| format!("the sender: {e}"))?;
    Ok(Sent {
        frames: u64::from(produced.frames).saturating_sub(stats.dropped),
        packets: stats.packets,
        retransmissions,
        fec_packets,
    })
}

fn run_case(
    name: &str,
    peer: Peer,
    seconds: f64,
    gst_receiver: Option<&Path>,
) -> Result<Outcome, String> {
    let mut imp = impairment(name)?;
    imp.max_run = Duration::from_secs_f64(seconds) + Duration::from_secs(30);
    let port = ports::try_free_port_pair().map_err(|e| e.to_string())?;
    // The relay first: the GStreamer receiver's RTCP goes to its way back.
    let relay = Relay::start(imp, SocketAddr::from(([127, 0, 0, 1], port)));
    let running = match peer {
        Peer::Framecast => start_framecast(port, true)?,
        Peer::FramecastNoRtx => start_framecast(port, false)?,
        Peer::FramecastFec => start_framecast(port, false)?,
        Peer::GstRtx => start_gst_rtx(port, relay.feedback_port(), seconds)?,
        Peer::Gst => {
            let exe = gst_receiver.ok_or("the GStreamer receiver was not built")?;
            Running::Gst(latency::Receiver::start(
                exe,
                port,
                seconds + 60.0,
                Some(JITTER_MS),
            )?)
        }
        Peer::Ffmpeg => start_ffmpeg(port)?,
    };
    let fec = if peer == Peer::FramecastFec {
        FEC_GROUP
    } else {
        0
    };
    let sent = send(relay.port(), seconds, fec);
    let got = running.finish();
    let relay = relay.stop();
    let sent = sent?;
    let ((decoded_at, latencies_ms), fec_recovered) = got?;
    Ok(Outcome {
        impairment: name.to_string(),
        peer: Some(peer),
        sent: sent.frames,
        decoded_at,
        latencies_ms,
        packets: sent.packets,
        retransmissions: sent.retransmissions,
        fec_packets: sent.fec_packets,
        wire_bytes: relay.received_bytes,
        fec_recovered,
        relay_loss: relay.dropped as f64 / relay.received.max(1) as f64,
        failure: None,
    })
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub fn run(args: &Args) -> Result<(), String> {
    if args.seconds.is_nan() || args.seconds < 2.0 {
        return Err(format!(
            "--seconds {} is too short (2 at least)",
            args.seconds
        ));
    }
    let names: Vec<String> = if args.impairments.is_empty() {
        IMPAIRMENTS.iter().map(|s| s.to_string()).collect()
    } else {
        args.impairments.clone()
    };
    for name in &names {
        impairment(name)?;
    }
    let peers: Vec<Peer> = if args.receivers.is_empty() {
        PEERS.to_vec()
    } else {
        args.receivers
            .iter()
            .map(|n| Peer::parse(n))
            .collect::<Result<_, _>>()?
    };
    let gst = if peers.contains(&Peer::Gst) {
        Some(latency::build_receiver()?)
    } else {
        None
    };
    println!(
        "# {WIDTH}x{HEIGHT} {FPS} fps, H.264 {BITRATE_KBPS} kbit/s, {} s a case, \
         jitter-buffer latency {JITTER_MS} ms; load average {}",
        args.seconds,
        load()
    );
    println!(
        "| impairment (relay's loss) | receiver | frames shown | longest freeze | \
         latency p50 / p99 | RTX/FEC overhead | on the wire | repaired |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut outcomes = Vec::new();
    for name in &names {
        for &peer in &peers {
            let outcome =
                run_case(name, peer, args.seconds, gst.as_deref()).unwrap_or_else(|e| Outcome {
                    impairment: name.clone(),
                    peer: Some(peer),
                    failure: Some(e),
                    ..Outcome::default()
                });
            println!("{}", outcome.row());
            outcomes.push(outcome);
        }
    }
    if let Some(exe) = &gst {
        let _ = std::fs::remove_file(exe);
    }
    println!("# load average at the end: {}", load());
    for line in goals(&outcomes) {
        println!("# goal {line}");
    }
    for line in fec_lines(&outcomes) {
        println!("# fec {line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, peer: Peer, decoded: &[u64], sent: u64) -> Outcome {
        Outcome {
            impairment: name.into(),
            peer: Some(peer),
            sent,
            decoded_at: decoded.iter().map(|ms| ms * 1_000_000).collect(),
            ..Outcome::default()
        }
    }

    #[test]
    fn the_longest_freeze_is_the_longest_gap_between_decoded_frames() {
        // Decoded at 0, 33, 66, 300, 333 ms (out of order, as threads may
        // record them): the freeze is 66 -> 300.
        let o = outcome("loss5", Peer::Gst, &[0, 33, 300, 66, 333], 10);
        assert_eq!(o.longest_freeze_ms(), 234.0);
        assert_eq!(o.shown_percent(), 50.0);
        assert!(outcome("x", Peer::Gst, &[5], 1)
            .longest_freeze_ms()
            .is_nan());
    }

    #[test]
    fn rows_show_the_figures_and_rtx_only_for_framecast() {
        let mut o = outcome("loss5", Peer::Framecast, &[0, 33, 100], 4);
        o.latencies_ms = vec![30.0, 10.0, 20.0];
        o.packets = 1000;
        o.retransmissions = 52;
        o.relay_loss = 0.049;
        o.wire_bytes = 1_234_567;
        assert_eq!(
            o.row(),
            "| loss5 (4.9 % lost) | framecast (NACK + RTX) | 3/4 (75.0 %) | 67 ms | 20 / 30 ms | 5.2 % | 1.23 MB | 52 |"
        );
        o.peer = Some(Peer::FramecastFec);
        (o.retransmissions, o.fec_packets, o.fec_recovered) = (0, 200, 31);
        assert!(
            o.row().ends_with("| 20.0 % | 1.23 MB | 31 |"),
            "{}",
            o.row()
        );
        o.peer = Some(Peer::Ffmpeg);
        assert!(
            o.row().ends_with("| 20 / 30 ms | - | 1.23 MB | - |"),
            "{}",
            o.row()
        );
        o.failure = Some("ffmpeg decoded nothing".into());
        assert!(o.row().contains("failed: ffmpeg decoded nothing"));
    }

    #[test]
    fn goals_compare_framecast_with_the_best_peer() {
        let frames = |n: u64| (0..n).map(|i| i * 33).collect::<Vec<_>>();
        let mut all = vec![
            outcome("loss5", Peer::Framecast, &frames(299), 300),
            outcome("loss5", Peer::Gst, &frames(200), 300),
            outcome("loss5", Peer::Ffmpeg, &frames(250), 300),
            outcome("loss10", Peer::Framecast, &frames(240), 300),
            outcome("loss10", Peer::Ffmpeg, &frames(260), 300),
        ];
        // A failed peer is not a best peer.
        all.push(Outcome {
            failure: Some("x".into()),
            ..outcome("loss10", Peer::Gst, &frames(300), 300)
        });
        assert_eq!(
            goals(&all),
            [
                "loss5: 99.7 % shown, longest freeze 33 ms (goal >= 99 % and <= 150 ms): met",
                "loss5: framecast 299 frames, best peer (ffmpeg) 250: met",
                "loss10: framecast 240 frames, best peer (ffmpeg) 260: missed",
            ]
        );
        // One freeze too long misses the 5 % goal.
        all[0].decoded_at[100] += 200_000_000;
        all[0].decoded_at.truncate(101);
        assert!(goals(&all)[0].ends_with("missed"), "{:?}", goals(&all));
    }

    #[test]
    fn burst_loss_loses_the_asked_share() {
        // Starts at p, bursts of mean 5: 5p / (1 + 5p) of the packets.
        let p = burst_start(0.05, 5.0);
        assert!((p * 5.0 / (1.0 + 5.0 * p) - 0.05).abs() < 1e-12, "{p}");
        assert_eq!(burst_start(0.05, 1.0), 0.05);
        for name in IMPAIRMENTS {
            impairment(name).expect("every listed impairment exists");
        }
        assert!(impairment("loss50").is_err());
        assert_eq!(Peer::parse("gst"), Ok(Peer::Gst));
        assert!(Peer::parse("vlc").is_err());
    }

    #[test]
    fn fec_is_weighed_against_the_same_stream_without_it_and_the_best_peer() {
        let frames = |n: u64| (0..n).map(|i| i * 33).collect::<Vec<_>>();
        let mut fec = outcome("loss5", Peer::FramecastFec, &frames(238), 241);
        (fec.wire_bytes, fec.fec_packets, fec.fec_recovered) = (4_800_000, 700, 150);
        let mut plain = outcome("loss5", Peer::FramecastNoRtx, &frames(196), 241);
        plain.wire_bytes = 4_000_000;
        let gst = outcome("loss5", Peer::GstRtx, &frames(238), 241);
        assert_eq!(
            fec_lines(&[plain, fec, gst]),
            ["loss5: 4.80 MB on the wire with FEC 1/5, 4.00 MB without (1.20x); 700 FEC packets, \
              150 lost packets rebuilt; 238 frames shown (196 without FEC), 1.00x the best peer's \
              (gst-rtx 238)"]
        );
    }
}
