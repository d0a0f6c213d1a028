//! `framecast serve` run as a user would: `--gop` sets the keyframe
//! interval a viewer sees (ffprobe over RTSP/UDP reads the key frames),
//! and the live stats line names each viewer with the loss, jitter and
//! round-trip time of its RTCP receiver reports; `--user`/`--password`
//! make viewers authenticate (ffmpeg and `framecast receive` with the
//! credentials in the URL play, a wrong password gets 401).

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::wait;
use framecast_test_support::child::Lines;
use framecast_test_support::interop::{output_within, tool_available};
use framecast_test_support::ports::free_tcp_port;

/// ffprobe's `key_frame` flag for each of the first `n` frames of `url`
/// (RTP over UDP, so it sends receiver reports); 30 s at most.
fn key_frames(url: &str, n: usize) -> Vec<bool> {
    let mut probe = Command::new("ffprobe");
    probe
        .args([
            "-v",
            "error",
            "-rtsp_transport",
            "udp",
            "-select_streams",
            "v:0",
        ])
        .args(["-show_entries", "frame=key_frame", "-of", "csv=p=0"])
        .args(["-read_intervals", &format!("%+#{n}"), url]);
    let out = output_within(probe, Duration::from_secs(30));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.starts_with('1'))
        .collect()
}

/// `framecast serve` of a 320x240 ball at `rtsp://127.0.0.1:PORT/cam`
/// with `extra` options, once it says it serves: the child, its standard
/// error, the URL and the port.
fn serve_ball(extra: &[&str]) -> (Child, Lines, String, u16) {
    let port = free_tcp_port();
    let rtsp = format!("127.0.0.1:{port}");
    let mut args = vec![
        "serve",
        "--rtsp",
        &rtsp,
        "--path",
        "cam",
        "--pattern",
        "ball",
    ];
    args.extend(["--size", "320x240"]);
    args.extend(extra);
    let (serve, mut err) = common::spawn_with_stderr(&args);
    let url = format!("rtsp://127.0.0.1:{port}/cam");
    err.wait_for(&format!("serving {url}"), Duration::from_secs(20));
    (serve, err, url, port)
}

#[test]
fn serve_keeps_the_gop_it_is_given_and_shows_each_viewer_with_its_reports() {
    if !tool_available("ffprobe") {
        return;
    }
    let (mut serve, mut err, url, _) = serve_ball(&["--gop", "10", "--seconds", "9"]);
    let keys = key_frames(&url, 120);
    assert!(keys.len() >= 100, "ffprobe read {} frames", keys.len());
    let at: Vec<usize> = (0..keys.len()).filter(|&i| keys[i]).collect();
    assert_eq!(
        at.first(),
        Some(&0),
        "the first frame is a keyframe: {at:?}"
    );
    let gaps: Vec<usize> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        at.len() >= 10 && gaps.iter().all(|&g| g <= 10),
        "keyframes at {at:?} (--gop 10)"
    );
    assert!(wait(&mut serve).success(), "{:?}", err.seen);
    let log = err
        .collect_until_quiet(Duration::from_secs(2), Duration::from_secs(10))
        .join("\n");
    let log = format!("{}\n{log}", err.seen.join("\n"));
    // The live line while ffprobe watched: one UDP viewer, with the
    // figures of its receiver reports, a round-trip time among them.
    let line = log
        .split('\r')
        .find(|l| l.contains("viewers=1 [udp 127.0.0.1:") && l.contains("rtt="))
        .unwrap_or_else(|| panic!("no stats line with the viewer's reports:\n{log}"));
    eprintln!("stats line: {line}");
    assert!(line.contains("loss=0.0% lost=0 jitter="), "{line}");
    let rtt = line
        .split("rtt=")
        .nth(1)
        .and_then(|r| r.split("ms").next())
        .and_then(|r| r.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no round-trip time in {line}"));
    assert!((0.0..100.0).contains(&rtt), "rtt {rtt} ms on 127.0.0.1");
}

/// ffmpeg playing `url` over RTSP/TCP for 10 frames of 320x240 gray (20 s
/// at most): its exit status, the bytes decoded and what it said.
fn ffmpeg_frames(url: &str) -> (bool, usize, String) {
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg
        .args(["-loglevel", "error", "-rtsp_transport", "tcp", "-i", url])
        .args(["-frames:v", "10", "-f", "rawvideo", "-pix_fmt", "gray", "-"]);
    let out = output_within(ffmpeg, Duration::from_secs(20));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), out.stdout.len(), said)
}

#[test]
fn serve_with_user_and_password_lets_in_only_viewers_that_authenticate() {
    if !tool_available("ffmpeg") {
        return;
    }
    let (mut serve, mut err, url, port) = serve_ball(&[
        "--user",
        "alice",
        "--password",
        "s3cret-Pa55",
        "--seconds",
        "30",
    ]);
    err.wait_for("viewers authenticate as \"alice\"", Duration::from_secs(5));
    let good = format!("rtsp://alice:s3cret-Pa55@127.0.0.1:{port}/cam");
    let (ok, bytes, said) = ffmpeg_frames(&good);
    assert!(ok, "ffmpeg with the right password: {said}");
    assert_eq!(bytes, 10 * 320 * 240, "ffmpeg decoded 10 frames");
    for refused in [
        format!("rtsp://alice:wrong@127.0.0.1:{port}/cam"),
        url.clone(),
    ] {
        let (ok, bytes, said) = ffmpeg_frames(&refused);
        assert!(!ok && bytes == 0, "ffmpeg played {refused}");
        assert!(
            said.contains("401"),
            "ffmpeg says why for {refused}: {said}"
        );
    }
    // framecast's own receiver, the credentials in its URL.
    let mut receive = common::framecast();
    receive
        .args(["receive", &good, "--frames", "20", "--seconds", "20"])
        .args(["--json", "--quiet"]);
    let out = output_within(receive, Duration::from_secs(30));
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && json.contains("\"frames\":20"),
        "framecast receive: {json} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = serve.kill();
    let _ = wait(&mut serve);
}
