//! `framecast receive`, `sdp` and `demo`, run as a user would, on
//! 127.0.0.1: from framecast's own sender, from GStreamer and FFmpeg, and
//! behind a relay that loses and reorders packets.

mod common;
use common::{framecast, wait};

use framecast_test_support::compare::psnr;
use framecast_test_support::files;
use framecast_test_support::interop;
use framecast_test_support::ports;
use framecast_test_support::signals;
use interop::{tool_available, KillOnDrop};
use ports::free_port_pair;
use signals::{interrupt, wait_for_sigint_handler};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn temp_path(name: &str) -> PathBuf {
    files::temp_path("framecast-receive", name)
}

/// A running `framecast receive --json`: its summary comes on stdout.
struct Receiver {
    child: KillOnDrop,
    stdout: Option<JoinHandle<String>>,
    stderr: mpsc::Receiver<String>,
}

impl Receiver {
    /// Starts `framecast receive <args> --json` and waits until it listens.
    fn start(args: &[&str]) -> Receiver {
        let mut child = framecast()
            .arg("receive")
            .args(args)
            .args(["--json", "--address", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn framecast receive");
        let mut stdout = child.stdout.take().expect("stdout");
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let receiver = Receiver {
            child: KillOnDrop(child),
            stdout: Some(stdout),
            stderr: rx,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.stderr.recv_timeout(left) {
                Ok(line) if line.contains("listening on") => break,
                Ok(_) => {}
                Err(_) => panic!("framecast receive never said it was listening"),
            }
        }
        receiver
    }

    /// Waits for the end (BYE, --frames or --seconds) and returns the
    /// JSON summary.
    fn finish(self) -> String {
        let (status, json, log) = self.finish_with_log();
        assert!(status.success(), "receive failed: {status}\n{log}");
        json
    }

    /// Waits for the end; its status, JSON summary and stderr (the lines
    /// after "listening on").
    fn finish_with_log(mut self) -> (std::process::ExitStatus, String, String) {
        let status = wait(&mut self.child.0);
        let json = self
            .stdout
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        // The stderr reader ends with the process; collect all it read.
        let log: Vec<String> = self.stderr.iter().collect();
        (status, json, log.join("\n"))
    }
}

fn number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn send_pattern(port: u16, codec: &str, size: &str, seconds: &str) -> Child {
    framecast()
        .args(["send", "--to", &format!("127.0.0.1:{port}")])
        .args(["--pattern", "ball", "--codec", codec, "--size", size])
        .args(["--seconds", seconds])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn framecast send")
}

#[test]
fn h264_from_framecast_send_is_decoded_with_latency_and_written() {
    let port = free_port_pair();
    let out = temp_path("h264.i420");
    let rx = Receiver::start(&[
        "--port",
        &port.to_string(),
        "--codec",
        "h264",
        "--seconds",
        "30",
        "--output",
        out.to_str().expect("utf-8 path"),
    ]);
    let mut tx = send_pattern(port, "h264", "320x240", "2");
    assert!(wait(&mut tx).success());
    // The sender's RTCP BYE ends the receiver.
    let json = rx.finish();
    let frames = number(&json, "frames").expect("frames") as usize;
    assert!(frames >= 55, "{json}");
    assert_eq!(number(&json, "lost"), Some(0.0), "{json}");
    // Every frame carries the sender's capture time (RTCP SR from the first
    // packet on): latency is measured, and small on loopback.
    assert!(
        number(&json, "latency_frames").unwrap_or(0.0) >= 50.0,
        "{json}"
    );
    let p50 = number(&json, "latency_p50_ms").expect("latency");
    assert!(p50 > 0.0 && p50 < 500.0, "{json}");
    assert!(json.contains("\"decoded\":\"I420 320x240\""), "{json}");
    let peak = number(&json, "peak_rss_kib").unwrap_or(f64::NAN);
    assert!(peak > 1024.0 && peak < 400.0 * 1024.0, "{json}");
    let written = std::fs::metadata(&out).expect("output").len() as usize;
    assert_eq!(written, frames * 320 * 240 * 3 / 2);
    let _ = std::fs::remove_file(out);
}

/// `framecast send --pattern ball --codec raw --size 64x48` to `port`
/// until stopped, its standard error piped.
fn send_raw_pattern(port: u16) -> KillOnDrop {
    KillOnDrop(
        framecast()
            .args(["send", "--to", &format!("127.0.0.1:{port}")])
            .args(["--pattern", "ball", "--codec", "raw", "--size", "64x48"])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn framecast send"),
    )
}

#[test]
fn ctrl_c_on_send_ends_the_stream_with_bye_and_a_summary() {
    let port = free_port_pair();
    let rx = Receiver::start(&[
        "--port",
        &port.to_string(),
        "--codec",
        "raw",
        "--size",
        "64x48",
        "--seconds",
        "40",
    ]);
    let mut tx = send_raw_pattern(port);
    wait_for_sigint_handler(tx.0.id());
    std::thread::sleep(Duration::from_millis(1500));
    interrupt(tx.0.id());
    let status = wait(&mut tx.0);
    let mut log = String::new();
    let _ = tx.0.stderr.take().expect("stderr").read_to_string(&mut log);
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("interrupted: sent "), "{log}");
    // The BYE ends the receiver, long before its 40 s.
    let ended = Instant::now();
    let json = rx.finish();
    assert!(ended.elapsed() < Duration::from_secs(15), "{json}");
    assert!(json.contains("\"bye\":true"), "{json}");
    assert!(json.contains("\"stopped_without_bye_s\":null"), "{json}");
    assert!(number(&json, "frames").unwrap_or(0.0) >= 10.0, "{json}");
}

#[test]
fn a_sender_killed_without_bye_is_reported_stopped_without_bye() {
    let port = free_port_pair();
    let rx = Receiver::start(&[
        "--port",
        &port.to_string(),
        "--codec",
        "raw",
        "--size",
        "64x48",
        "--seconds",
        "8",
    ]);
    let mut tx = send_raw_pattern(port);
    wait_for_sigint_handler(tx.0.id());
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL: no BYE, no goodbye of any kind.
    let _ = tx.0.kill();
    let _ = tx.0.wait();
    let json = rx.finish();
    assert!(number(&json, "frames").unwrap_or(0.0) >= 10.0, "{json}");
    assert!(json.contains("\"bye\":false"), "{json}");
    let ran = number(&json, "stopped_without_bye_s").unwrap_or(f64::NAN);
    assert!((0.5..4.0).contains(&ran), "{json}");
}

#[test]
fn raw_frames_arrive_exactly_through_sdp_written_by_framecast_sdp() {
    let port = free_port_pair();
    let sdp = temp_path("raw.sdp");
    let status = framecast()
        .args([
            "sdp",
            &format!("testsrc ! video/x-raw,format=I420,width=64,height=48 ! rtpvrawpay ! udpsink host=127.0.0.1 port={port}"),
            "--output",
        ])
        .arg(&sdp)
        .status()
        .expect("framecast sdp");
    assert!(status.success());
    let text = std::fs::read_to_string(&sdp).expect("sdp");
    assert!(text.contains(&format!("m=video {port} RTP/AVP")), "{text}");
    let out = temp_path("raw.i420");
    let rx = Receiver::start(&[
        "--sdp",
        sdp.to_str().expect("utf-8"),
        "--seconds",
        "30",
        "--output",
        out.to_str().expect("utf-8"),
    ]);
    // 20 distinct frames on stdin.
    let frame_len = 64 * 48 * 3 / 2;
    let frames: Vec<u8> = (0..20 * frame_len)
        .map(|i| ((i / frame_len) * 11 + (i % 251)) as u8)
        .collect();
    let mut tx = framecast()
        .args(["send", "--to", &format!("127.0.0.1:{port}")])
        .args(["--input", "-", "--format", "i420", "--size", "64x48"])
        .args(["--codec", "raw", "--fps", "30"])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn send");
    {
        let mut stdin = tx.stdin.take().expect("stdin");
        for f in frames.chunks(frame_len) {
            stdin.write_all(f).expect("write a frame");
            std::thread::sleep(Duration::from_millis(33));
        }
    }
    assert!(wait(&mut tx).success());
    let json = rx.finish();
    assert_eq!(number(&json, "frames"), Some(20.0), "{json}");
    let got = std::fs::read(&out).expect("output");
    assert_eq!(got.len(), frames.len());
    assert!(got == frames, "raw video must arrive bit-exact");
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_file(sdp);
}

/// The top two thirds of the luma plane of the last frame in a file of
/// back-to-back I420 frames (the bars; GStreamer's smpte pattern animates
/// its bottom-right corner).
fn last_bars(path: &Path, w: usize, h: usize) -> Vec<u8> {
    let data = std::fs::read(path).expect("frames written");
    let frame = w * h * 3 / 2;
    assert!(data.len() >= frame, "no whole frame in {}", path.display());
    let last = &data[(data.len() / frame - 1) * frame..];
    last[..w * (h * 2 / 3)].to_vec()
}

/// The receiver decoded 40 frames, and the bars of the last one written
/// to `out` are within `min_db` of the 320x240 `reference`; then both
/// files go.
fn assert_40_frames_of_bars(json: &str, out: &Path, reference: &Path, min_db: f64, what: &str) {
    assert_eq!(number(json, "frames"), Some(40.0), "{json}");
    let want = std::fs::read(reference).expect("reference");
    let db = psnr(&last_bars(out, 320, 240), &want[..320 * 160]);
    assert!(db >= min_db, "{what}: {db:.1} dB");
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_file(reference);
}

fn run_tool(tool: &str, args: &str) {
    let status = Command::new(tool)
        .args(args.split_whitespace())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(status.success(), "{tool} {args}");
}

/// GStreamer sends smpte bars over RTP; `framecast receive` decodes them
/// to within `min_db` of the original.
fn gstreamer_to_receive(codec: &str, encode: &str, min_db: f64) {
    if !tool_available("gst-launch-1.0") {
        return;
    }
    let port = free_port_pair();
    let reference = temp_path(&format!("gst-{codec}.ref"));
    run_tool(
        "gst-launch-1.0",
        &format!(
            "-q videotestsrc num-buffers=1 pattern=smpte ! video/x-raw,format=I420,width=320,height=240 ! filesink location={}",
            reference.display()
        ),
    );
    let out = temp_path(&format!("gst-{codec}.i420"));
    let rx = Receiver::start(&[
        "--port",
        &port.to_string(),
        "--codec",
        codec,
        "--format",
        "i420",
        "--frames",
        "40",
        "--seconds",
        "20",
        "--output",
        out.to_str().expect("utf-8"),
    ]);
    let mut gst = KillOnDrop(
        Command::new("gst-launch-1.0")
            .args(
                format!(
                    "-q videotestsrc num-buffers=60 pattern=smpte ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 \
                     ! {encode} ! udpsink host=127.0.0.1 port={port} sync=true"
                )
                .split_whitespace(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn gst-launch-1.0"),
    );
    let json = rx.finish();
    let _ = wait(&mut gst.0);
    assert_40_frames_of_bars(
        &json,
        &out,
        &reference,
        min_db,
        &format!("{codec} from GStreamer"),
    );
}

#[test]
fn gstreamer_h264_is_decoded_by_framecast_receive() {
    gstreamer_to_receive(
        "h264",
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1",
        35.0,
    );
}

#[test]
fn gstreamer_jpeg_is_decoded_by_framecast_receive() {
    gstreamer_to_receive("jpeg", "jpegenc quality=90 ! rtpjpegpay", 35.0);
}

/// FFmpeg sends smpte bars over RTP and writes the SDP; `framecast
/// receive --sdp` opens it and decodes to within `min_db`.
fn ffmpeg_to_receive(tag: &str, encode: &str, pix_fmt: &str, min_db: f64) {
    if !tool_available("ffmpeg") {
        return;
    }
    let port = free_port_pair();
    let reference = temp_path(&format!("ff-{tag}.ref"));
    run_tool(
        "ffmpeg",
        &format!(
            "-hide_banner -loglevel error -y -f lavfi -i smptebars=size=320x240:rate=30 -frames:v 1 -pix_fmt {pix_fmt} -f rawvideo {}",
            reference.display()
        ),
    );
    let sdp = temp_path(&format!("ff-{tag}.sdp"));
    let _ = std::fs::remove_file(&sdp);
    let mut ff = KillOnDrop(
        Command::new("ffmpeg")
            .args(
                format!(
                    "-hide_banner -loglevel error -re -f lavfi -i smptebars=size=320x240:rate=30 -frames:v 150 \
                     -pix_fmt {pix_fmt} {encode} -f rtp -sdp_file {} rtp://127.0.0.1:{port}",
                    sdp.display()
                )
                .split_whitespace(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn ffmpeg"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&sdp)
        .is_ok_and(|t| t.contains("a=rtpmap") || t.contains("m=video"))
    {
        assert!(Instant::now() < deadline, "ffmpeg wrote no SDP");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let out = temp_path(&format!("ff-{tag}.i420"));
    let rx = Receiver::start(&[
        "--sdp",
        sdp.to_str().expect("utf-8"),
        "--format",
        "i420",
        "--frames",
        "40",
        "--seconds",
        "20",
        "--output",
        out.to_str().expect("utf-8"),
    ]);
    let json = rx.finish();
    let _ = wait(&mut ff.0);
    assert_40_frames_of_bars(
        &json,
        &out,
        &reference,
        min_db,
        &format!("{tag} from FFmpeg"),
    );
    let _ = std::fs::remove_file(sdp);
}

#[test]
fn ffmpeg_h264_is_decoded_by_framecast_receive() {
    ffmpeg_to_receive(
        "h264",
        "-c:v libx264 -profile:v baseline -preset ultrafast -tune zerolatency -g 15",
        "yuv420p",
        35.0,
    );
}

#[test]
fn ffmpeg_mjpeg_is_decoded_by_framecast_receive() {
    ffmpeg_to_receive(
        "mjpeg",
        "-c:v mjpeg -huffman default -q:v 3",
        "yuvj420p",
        30.0,
    );
}

/// Forwards UDP from `from` (RTP) and `from + 1` (RTCP) to `to` and
/// `to + 1`, swapping every 7th RTP packet with the one after it, and for
/// the first `lossy_for` dropping every 20th (5 %). Stops after 2 s
/// without traffic or `limit`.
fn lossy_relay(from: u16, to: u16, lossy_for: Duration, limit: Duration) -> JoinHandle<(u64, u64)> {
    let rtp = UdpSocket::bind(("127.0.0.1", from)).expect("relay rtp");
    let rtcp = UdpSocket::bind(("127.0.0.1", from + 1)).expect("relay rtcp");
    for s in [&rtp, &rtcp] {
        s.set_read_timeout(Some(Duration::from_millis(10)))
            .expect("timeout");
    }
    std::thread::spawn(move || {
        let out = UdpSocket::bind("127.0.0.1:0").expect("relay out");
        let start = Instant::now();
        let mut last = Instant::now();
        let mut buf = [0u8; 2048];
        let (mut n, mut dropped) = (0u64, 0u64);
        let mut held: Option<Vec<u8>> = None;
        while start.elapsed() < limit && last.elapsed() < Duration::from_secs(2) {
            if let Ok(len) = rtp.recv(&mut buf) {
                last = Instant::now();
                n += 1;
                // A held packet goes out after the next one the relay
                // receives, dropped or not: held across a drop it could
                // come after the jitter buffer's wait and be counted lost
                // though the relay never dropped it.
                if n % 20 == 0 && start.elapsed() < lossy_for {
                    dropped += 1;
                } else if n % 7 == 0 && held.is_none() {
                    held = Some(buf[..len].to_vec());
                    continue;
                } else {
                    let _ = out.send_to(&buf[..len], ("127.0.0.1", to));
                }
                if let Some(p) = held.take() {
                    let _ = out.send_to(&p, ("127.0.0.1", to));
                }
            }
            if let Ok(len) = rtcp.recv(&mut buf) {
                last = Instant::now();
                let _ = out.send_to(&buf[..len], ("127.0.0.1", to + 1));
            }
        }
        (n, dropped)
    })
}

#[test]
fn loss_and_reordering_are_counted_and_damaged_pictures_are_concealed() {
    let rx_port = free_port_pair();
    let relay_port = free_port_pair();
    let rx = Receiver::start(&["--port", &rx_port.to_string(), "--seconds", "40"]);
    let relay = lossy_relay(
        relay_port,
        rx_port,
        Duration::from_secs(4),
        Duration::from_secs(30),
    );
    let mut tx = framecast()
        .args(["send", "--to", &format!("127.0.0.1:{relay_port}")])
        .args(["--pattern", "ball", "--size", "320x240", "--bitrate", "150"])
        .args(["--seconds", "7"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn send");
    assert!(wait(&mut tx).success());
    let json = rx.finish();
    let (relayed, dropped) = relay.join().expect("relay");
    assert!(dropped >= 5, "relay saw {relayed} packets");
    let lost = number(&json, "lost").expect("lost");
    assert!(lost >= 1.0, "no loss counted: {json}");
    // A packet given up is either one the relay dropped or one that came
    // after its slot's wait (a loaded machine can hold the relay's thread
    // past the jitter buffer's latency), which the receiver counts late.
    let late = number(&json, "late").unwrap_or(0.0);
    assert!(
        lost <= dropped as f64 + late,
        "{json}, relay dropped {dropped}"
    );
    // The frames after each loss reference what was lost: they are
    // decoded with the loss concealed (damaged=conceal, the default),
    // instead of dropped until the next IDR, so nearly all 210 show.
    assert!(
        number(&json, "frames_concealed").unwrap_or(0.0) >= 1.0,
        "{json}"
    );
    assert!(number(&json, "frames").unwrap_or(0.0) >= 150.0, "{json}");
}

#[test]
fn sdp_prints_h264_parameter_sets_and_refuses_a_pipeline_without_udpsink() {
    let out = framecast()
        .args([
            "sdp",
            "testsrc ! video/x-raw,width=320,height=240 ! videoconvert ! openh264enc ! rtph264pay ! udpsink host=127.0.0.1 port=5600",
        ])
        .output()
        .expect("framecast sdp");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("m=video 5600 RTP/AVP 96"), "{text}");
    assert!(text.contains("a=rtpmap:96 H264/90000"), "{text}");
    assert!(text.contains("sprop-parameter-sets="), "{text}");
    let out = framecast()
        .args(["sdp", "testsrc ! fakesink"])
        .output()
        .expect("framecast sdp");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no udpsink"));
}

/// Runs `framecast demo --seconds 3 --size 320x240` with `extra`, checks
/// it succeeded, and returns its summary (stdout).
fn run_demo(extra: &[&str]) -> String {
    let out = framecast()
        .args(["demo", "--seconds", "3", "--size", "320x240"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("framecast demo");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = String::from_utf8_lossy(&out.stderr);
    // The demo itself fails when fewer than 90 % of the frames arrive.
    assert!(out.status.success(), "{text}\n{log}");
    text
}

#[test]
fn demo_streams_and_reports_latency_cpu_memory_and_no_leaks() {
    let text = run_demo(&[]);
    let line = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in:\n{text}"))
            .to_string()
    };
    let first_number = |l: &str| -> f64 {
        l.split_whitespace()
            .find_map(|w| w.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    assert!(first_number(&line("frames sent")) >= 80.0, "{text}");
    assert!(first_number(&line("frames received")) >= 80.0, "{text}");
    assert!(line("latency").contains("p50"), "{text}");
    assert!(line("sender CPU").contains("ms per frame"), "{text}");
    // The receiver's own VmHWM (once ru_maxrss of the children: 585.6 MiB
    // after a build).
    let peak = line("peak RSS");
    let receiver_mib = peak
        .split("receiver ")
        .nth(1)
        .map(first_number)
        .unwrap_or(f64::NAN);
    assert!(
        receiver_mib > 1.0 && receiver_mib < 400.0 && peak.contains("VmHWM"),
        "{peak}"
    );
    // The pools behind any step in RSS, sized for steady state: the
    // sender's frames (320x240 BGR) for its queue of 2, the frame being
    // filled and the one being converted; the receiver's decoded frames
    // (I420) for its sink's 4, the one pulled and the one being pushed.
    // (The encoder's output pool may come first on the sender's side: its
    // access units wait in the queues of the RTSP and RTP branches.)
    let pools = line("buffer pools");
    let sender_pools = pools.split(';').next().unwrap_or_default();
    assert!(
        sender_pools.contains("4 x 225.0 KiB") && pools.contains("receiver 6 x 112.5 KiB"),
        "{pools}"
    );
    // The same encode served over RTSP: the viewer that joined after the
    // start decoded most of the time it watched (1.5 s of the 3).
    let rtsp = line("RTSP viewer");
    assert!(first_number(&rtsp) >= 20.0, "{rtsp}");
    assert!(rtsp.contains(" 0 lost"), "{rtsp}");
    // And to browsers: an MJPEG viewer watched for a second (30 frames
    // at 30 fps), and the dashboard's API named the live objects.
    let browser = line("browser (HTTP)");
    assert!(first_number(&browser) >= 10.0, "{browser}");
    let live = browser
        .split("/api/objects: ")
        .nth(1)
        .map(first_number)
        .unwrap_or(f64::NAN);
    assert!(live >= 1.0, "{browser}");
    let leaks = line("leaks");
    assert!(
        leaks.contains("sender: none") && leaks.contains("receiver: none"),
        "{leaks}"
    );
}

#[test]
fn a_stream_openh264_cannot_decode_is_warned_about_and_the_receiver_goes_on() {
    if !tool_available("gst-launch-1.0") {
        return;
    }
    let port = free_port_pair();
    let rx = Receiver::start(&["--port", &port.to_string(), "--seconds", "4"]);
    // H.264 High 4:4:4 (x264 fed Y444).
    run_tool(
        "gst-launch-1.0",
        &format!(
            "-q videotestsrc num-buffers=30 ! video/x-raw,format=Y444,width=320,height=240,framerate=30/1 \
             ! x264enc tune=zerolatency speed-preset=ultrafast ! rtph264pay config-interval=-1 \
             ! udpsink host=127.0.0.1 port={port} sync=true"
        ),
    );
    let (status, json, log) = rx.finish_with_log();
    // Not the end of the receiver (a stray sender's two packets used to
    // make it exit 1): a warning that says what and why, counted errors.
    assert!(status.success(), "{log}");
    assert!(
        log.contains("framecast: warning:") && log.contains("profile high-4:4:4"),
        "{log}"
    );
    let errors = json
        .split("\"decode_errors\":")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse::<u64>().ok());
    assert!(errors.is_some_and(|n| n >= 1), "{json}");
}

#[test]
fn exit_if_undecodable_ends_the_receiver_when_nothing_decodes_for_5_s() {
    if !tool_available("gst-launch-1.0") {
        return;
    }
    let port = free_port_pair();
    let rx = Receiver::start(&[
        "--port",
        &port.to_string(),
        "--exit-if-undecodable",
        "--seconds",
        "20",
    ]);
    let started = Instant::now();
    // 7 s of H.264 High 4:4:4, which openh264dec cannot decode.
    run_tool(
        "gst-launch-1.0",
        &format!(
            "-q videotestsrc num-buffers=210 ! video/x-raw,format=Y444,width=160,height=120,framerate=30/1 \
             ! x264enc tune=zerolatency speed-preset=ultrafast ! rtph264pay config-interval=-1 \
             ! udpsink host=127.0.0.1 port={port} sync=true"
        ),
    );
    let (status, _, log) = rx.finish_with_log();
    assert!(!status.success(), "{log}");
    assert!(log.contains("has not decoded for 5 s"), "{log}");
    assert!(started.elapsed() < Duration::from_secs(15), "{log}");
}

#[test]
fn demo_with_loss_shows_the_repairs() {
    let text = run_demo(&["--loss", "5"]);
    let network = text
        .lines()
        .find(|l| l.trim_start().starts_with("network"))
        .unwrap_or_else(|| panic!("no network line in:\n{text}"));
    assert!(network.contains("5.0 % loss"), "{network}");
    assert!(network.contains("resent as RTX"), "{network}");
    let dropped: u64 = network
        .split("dropped ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(dropped > 0, "{network}");
}
