//! GStreamer's receiver asks framecast's sender for retransmissions: a
//! `Sender` (udpsink `rtx-payload-type=97`) streams through the impairment
//! relay (5 % random loss) into GStreamer's `rtpbin` (AVPF) with
//! `do-retransmission=true` and an `rtprtxreceive` in front of its jitter
//! buffer (framecast-test-support's gst_rtx_receiver.py, PyGObject, since gst-launch cannot
//! connect `request-aux-receiver`), whose Generic NACKs go back through
//! the relay; the same run without retransmission is the baseline. Each
//! run is 4 s of 640x360 H.264 at 30 fps (1 Mbit/s) on 127.0.0.1, and
//! every wait is bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use framecast_test_support::ports;
use ports::free_port_pair;

use framecast_test_support::impair;
use impair::{Impairment, Relay, RelayStats};

use framecast_test_support::frames;
use frames::{push_moving_bar, test_sender_builder};

use framecast_test_support::interop;
use interop::{required, KillOnDrop, PYTHON};

const W: usize = 640;
const H: usize = 360;
const FRAMES: u64 = 120;
/// The stream's bitrate, and GStreamer's session bandwidth.
const BITRATE_KBPS: u32 = 1000;

fn script() -> String {
    interop::gst_rtx_receiver().display().to_string()
}

/// Whether the GStreamer receiver can run here: the interpreter,
/// PyGObject, and every element it uses (the script's `--check` says
/// which is missing).
fn gstreamer_receiver_available() -> bool {
    let check = Command::new(PYTHON)
        .arg(script())
        .arg("--check")
        .stdin(Stdio::null())
        .output();
    let why_not = match check {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("{PYTHON}: {e}"),
    };
    required(
        false,
        &format!("the GStreamer receiver cannot run ({why_not})"),
    )
}

/// What one run saw.
#[derive(Debug)]
struct Outcome {
    /// Frames the sender encoded.
    sent: u64,
    /// The script's report: depayloaded, frames, intact, clean, keyframes,
    /// jitterbuffer{num-lost, rtx-count, ...}, rtx_receive{...}.
    gst: Value,
    relay: RelayStats,
    /// Packets the sender resent as RTX.
    retransmissions: u64,
    /// NACKs the sender received.
    nacks: u64,
}

impl Outcome {
    /// A count in the script's report (`path` through nested objects).
    fn gst(&self, path: &[&str]) -> u64 {
        path.iter()
            .fold(&self.gst, |v, k| &v[*k])
            .as_u64()
            .unwrap_or_else(|| panic!("no {path:?} in {}", self.gst))
    }
}

/// Streams [`FRAMES`] frames from a `Sender` through a relay with 5 %
/// random loss into the GStreamer receiver, asking for retransmissions
/// or not.
fn run(retransmission: bool) -> Outcome {
    let port = free_port_pair();
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let relay = Relay::start(
        Impairment {
            loss: 0.05,
            max_run: Duration::from_secs(20),
            ..Impairment::default()
        },
        to,
    );
    let mut args = vec![
        script(),
        format!("--port={port}"),
        // Its RTCP (receiver reports, NACKs) to the relay's far side,
        // which hands it to the sender.
        format!("--rtcp-to={}", relay.feedback_port()),
        "--seconds=15".into(),
        // The stream's bitrate as the session's bandwidth (as an SDP's
        // b=AS would say): GStreamer's RTCP interval, and so how soon a
        // NACK may go, follows from it (see the script).
        format!("--bandwidth={}", BITRATE_KBPS * 1000),
    ];
    if retransmission {
        args.push("--rtx".into());
    }
    let mut child = KillOnDrop(
        Command::new(PYTHON)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {PYTHON}: {e}")),
    );
    // Its standard error, a line at a time: "ready" once its sockets are
    // bound.
    let (lines_tx, lines) = mpsc::channel();
    let stderr = child.0.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("gst: {line}");
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line == "ready" => break,
            Ok(_) => {}
            Err(e) => panic!("the GStreamer receiver did not start: {e}"),
        }
    }

    let tx = test_sender_builder(relay.port(), W, H)
        .bitrate(BITRATE_KBPS)
        .build()
        .expect("sender");
    let start = Instant::now();
    for n in 0..FRAMES {
        push_moving_bar(&tx, W, H, n);
        let due = start + Duration::from_millis(33 * (n + 1));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    // The last frames through the jitter buffer (200 ms) and any last
    // retransmission answered, before the counts are read.
    std::thread::sleep(Duration::from_millis(600));
    let sink = tx.pipeline().by_name("sink").expect("the sender's udpsink");
    let (retransmissions, nacks) = (
        sink.counter("retransmissions"),
        sink.counter("nacks-received"),
    );
    let stats = tx.finish().expect("finish");

    // A line on its standard input ends the run; its report comes back
    // on standard output.
    let mut stdin = child.0.stdin.take().expect("stdin");
    let _ = stdin.write_all(b"stop\n");
    drop(stdin);
    let mut stdout = child.0.stdout.take().expect("stdout");
    let (report_tx, report) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        let _ = report_tx.send(s);
    });
    let report = report
        .recv_timeout(Duration::from_secs(10))
        .expect("the GStreamer receiver's report");
    let status = child.0.wait().expect("wait for the GStreamer receiver");
    let gst: Value = serde_json::from_str(report.trim())
        .unwrap_or_else(|e| panic!("report {report:?}: {e} (exit {status})"));
    assert!(status.success(), "GStreamer receiver: {status}, {gst}");
    let outcome = Outcome {
        sent: FRAMES - stats.dropped,
        gst,
        relay: relay.stop(),
        retransmissions,
        nacks,
    };
    eprintln!("retransmission={retransmission}: {outcome:?}");
    outcome
}

#[test]
fn gstreamer_asks_for_retransmissions_and_shows_more_frames() {
    if !gstreamer_receiver_available() {
        return;
    }
    let without = run(false);
    let with = run(true);
    for o in [&without, &with] {
        assert!(o.relay.dropped > 10, "the relay lost packets: {o:?}");
    }
    // Without retransmission nothing is asked for, so nothing is resent.
    assert_eq!(
        (without.nacks, without.retransmissions),
        (0, 0),
        "{without:?}"
    );
    // With it, GStreamer's NACKs reached the sender, which answered with
    // RTX that rtprtxreceive took as the stream's (associated by the
    // first RTX of a NACKed sequence number) and put back in it.
    assert!(with.nacks > 0 && with.retransmissions > 0, "{with:?}");
    assert!(
        with.gst(&["rtx_receive", "num-rtx-assoc-packets"]) > 0,
        "{with:?}"
    );
    assert!(
        with.gst(&["jitterbuffer", "rtx-success-count"]) > 0,
        "{with:?}"
    );
    // GStreamer's own count of what never came: most losses repaired.
    let lost = |o: &Outcome| o.gst(&["jitterbuffer", "num-lost"]);
    assert!(lost(&without) > 10, "{without:?}");
    assert!(
        lost(&with) * 3 <= lost(&without),
        "{with:?} against {without:?}"
    );
    // And the frames it shows as sent (every packet of the frame and of
    // those back to the last IDR there): most of them, and clearly more
    // than without, where each loss spoils the rest of its GOP (avdec_h264
    // conceals, so its own frame count hardly moves).
    let clean = |o: &Outcome| o.gst(&["clean"]);
    assert!(clean(&with) * 10 >= with.sent * 9, "{with:?}");
    assert!(
        clean(&with) >= 2 * clean(&without),
        "{with:?} against {without:?}"
    );
    assert!(
        with.gst(&["intact"]) > without.gst(&["intact"]),
        "{with:?} against {without:?}"
    );
}
