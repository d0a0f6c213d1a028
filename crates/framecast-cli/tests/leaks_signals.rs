//! `FRAMECAST_LEAKS_TRACER_SIG` in the `framecast` binary: a real child
//! process gets SIGUSR1 (live objects) and SIGUSR2 (tracking, then a
//! checkpoint), keeps running, and its output is read.
#![cfg(unix)]

use framecast_test_support::child;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use child::{wait_bounded, Lines};

const STEP: Duration = Duration::from_secs(30);

/// `framecast args...` with the leaks tracer and its signals on.
fn spawn_traced(args: &[&str]) -> (Child, Lines) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_framecast"))
        .args(args)
        .env("FRAMECAST_TRACERS", "leaks")
        .env("FRAMECAST_LEAKS_TRACER_SIG", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn framecast");
    let err = Lines::new(child.stderr.take().expect("stderr"));
    (child, err)
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {sig} failed");
}

/// `framecast launch` with a live test source: SIGUSR1 lists the pipeline's
/// objects, SIGUSR2 starts tracking and then logs a checkpoint of the
/// buffers made meanwhile; the run then ends normally with `no leaks`.
#[test]
fn launch_logs_live_objects_on_sigusr1_and_checkpoints_on_sigusr2() {
    let (mut child, mut err) = spawn_traced(&[
        "launch",
        "testsrc is-live=true num-buffers=300 ! video/x-raw,width=64,height=48,framerate=30/1 ! fakesink",
    ]);
    err.wait_for("Setting pipeline to PLAYING", STEP);

    signal(&child, "-USR1");
    let head = err.wait_for("live objects:", STEP);
    let report = err.collect_until_quiet(Duration::from_millis(300), STEP);
    assert!(
        head.last().unwrap().contains("[tracer \"leaks\"]"),
        "{head:?}"
    );
    let element_lines = report.iter().filter(|l| l.contains("Element #")).count();
    assert_eq!(
        element_lines, 3,
        "testsrc, capsfilter, fakesink: {report:?}"
    );
    assert!(
        report.iter().any(|l| l.contains("Pipeline #")),
        "{report:?}"
    );

    signal(&child, "-USR2");
    err.wait_for("activity tracking started", STEP);
    // A few frames go by at 30 fps.
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-USR2");
    let head = err.wait_for("activity checkpoint", STEP);
    // "N created, M removed": pooled frames are recycled, so a warm
    // pipeline may well report 0 and 0; the counts must be there.
    let counts: Vec<u64> = head
        .last()
        .unwrap()
        .split("]: ")
        .nth(1)
        .map(|rest| {
            rest.split(", ")
                .filter_map(|part| part.split_whitespace().next()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(counts.len(), 2, "{head:?}");

    // Still alive: Ctrl-C ends it as usual, with the deinit report.
    signal(&child, "-INT");
    err.wait_for("no leaks", STEP);
    let status = wait_bounded(&mut child, STEP);
    assert!(status.success(), "{status:?}: {:?}", err.seen);
}

/// `framecast sdp` never calls `framecast::init()` itself; the binary's
/// `main` does, so the signals work there too (they killed it before).
#[test]
fn sdp_logs_live_objects_on_sigusr1() {
    // stdin stays open and silent, so the stream never becomes known and
    // the command waits for its timeout.
    let (mut child, mut err) = spawn_traced(&[
        "sdp",
        "--timeout",
        "20",
        "fdsrc fd=0 ! udpsink host=127.0.0.1 port=9",
    ]);
    // The handler is in place by the time the pipeline exists; poll the
    // kernel's view of it instead of guessing a delay.
    let deadline = std::time::Instant::now() + STEP;
    while !catches_sigusr1(child.id()) {
        assert!(std::time::Instant::now() < deadline, "no SIGUSR1 handler");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "-USR1");
    err.wait_for("live objects:", STEP);
    let report = err.collect_until_quiet(Duration::from_millis(300), STEP);
    assert!(report.iter().any(|l| l.contains("udpsink")), "{report:?}");
    drop(child.stdin.take());
    let status = wait_bounded(&mut child, STEP);
    assert_ne!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(10),
        "{:?}",
        err.seen
    );
    err.wait_for("no leaks", STEP);
}

/// Whether `/proc/PID/status` lists SIGUSR1 (10) in `SigCgt`.
fn catches_sigusr1(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (10 - 1)) != 0)
}
