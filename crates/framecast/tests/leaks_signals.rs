//! SIGUSR1 / SIGUSR2 on a live process: a child holding buffers gets
//! SIGUSR1 (live objects), then SIGUSR2 twice (start tracking, then a
//! checkpoint listing what it made in between), and its output is checked.
#![cfg(unix)]

use framecast_test_support::child;

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use framecast::{trace, Buffer, BufferPool, PoolConfig};

use child::{child_command, role, wait_bounded, Lines};

const STEP: Duration = Duration::from_secs(20);

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {sig} {pid} failed");
}

/// Sends SIGUSR1 to `pid` and checks its report on `err`: its head says
/// `count` (`"live objects: 2"`), and a Buffer is listed at this file's
/// line `held_line`.
fn assert_live_objects(pid: u32, err: &mut Lines, count: &str, held_line: &str) {
    signal(pid, "-USR1");
    let live = err.wait_for("live objects:", STEP);
    assert!(live.last().unwrap().contains(count), "{live:?}");
    let site = format!("{}:{held_line}:", file!());
    let lines = err.wait_for(&site, STEP);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Buffer") && l.contains(&site)),
        "{lines:?}"
    );
}

/// A child's watchdog: ends the process after 60 s whatever happens, so
/// that a parent that failed never leaves it behind.
fn watchdog() {
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(60));
        eprintln!("child watchdog: giving up");
        std::process::exit(9);
    });
}

/// The word after `marker` in `line` (the test harness may print its own
/// `test name ... ` before the child's output on the same line).
fn word_after(line: &str, marker: &str) -> String {
    line.split(marker)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {marker} <word> in {line:?}"))
        .to_string()
}

/// Starts this file's test `test` as a child in `role`, with the leaks
/// tracer and its signals on; its pid, stdin, and stdout/stderr lines.
fn spawn_traced_child(
    test: &str,
    role: &str,
) -> (
    std::process::Child,
    u32,
    std::process::ChildStdin,
    Lines,
    Lines,
) {
    let mut child = child_command(
        test,
        role,
        &[
            ("FRAMECAST_TRACERS", "leaks"),
            ("FRAMECAST_LEAKS_TRACER_SIG", "1"),
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn child");
    let pid = child.id();
    let stdin = child.stdin.take().expect("stdin");
    let out = Lines::new(child.stdout.take().expect("stdout"));
    let err = Lines::new(child.stderr.take().expect("stderr"));
    (child, pid, stdin, out, err)
}

#[test]
fn sigusr1_logs_live_objects_and_sigusr2_tracks_then_checkpoints() {
    if role().is_some() {
        return;
    }
    let (mut child, pid, mut stdin, mut out, mut err) =
        spawn_traced_child("child_holds_buffers", "signals");

    let ready = out.wait_for("READY", STEP);
    let held_line = word_after(ready.last().unwrap(), "READY");

    // SIGUSR1: the live objects, with the held buffer's site.
    assert_live_objects(pid, &mut err, "live objects: 2", &held_line);

    // First SIGUSR2: tracking starts.
    signal(pid, "-USR2");
    err.wait_for("activity tracking started", STEP);

    // The child makes one buffer and frees another.
    writeln!(stdin, "make").unwrap();
    let made = out.wait_for("MADE", STEP);
    let made_line = word_after(made.last().unwrap(), "MADE");

    // Second SIGUSR2: a checkpoint with exactly that, in order.
    signal(pid, "-USR2");
    let head = err.wait_for("activity checkpoint", STEP);
    let head = head.last().unwrap();
    assert!(head.contains("2 created, 2 removed"), "{head}");
    let entries = err.collect_until_quiet(Duration::from_millis(500), STEP);
    let made_site = format!("{}:{made_line}:", file!());
    let created: Vec<&String> = entries.iter().filter(|l| l.contains("+ created")).collect();
    let removed: Vec<&String> = entries.iter().filter(|l| l.contains("- removed")).collect();
    assert_eq!(created.len(), 2, "{entries:?}");
    assert!(
        created[0].contains("Buffer") && created[0].contains(&made_site),
        "{entries:?}"
    );
    assert!(created[1].contains("Memory"), "{entries:?}");
    assert_eq!(removed.len(), 2, "{entries:?}");
    assert!(removed[0].contains("Buffer"), "{entries:?}");

    // Quit: everything dropped, `no leaks`.
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    err.wait_for("no leaks", STEP);
    let status = wait_bounded(&mut child, STEP);
    assert!(status.success(), "child exit {status:?}");
}

/// A program that never calls `framecast::init()` (a library user's own
/// `main`, an example): its first tracked object reads the variables, so
/// SIGUSR1 lists it instead of killing the process (the default action,
/// status 138), and SIGUSR2 starts tracking.
#[test]
fn signals_work_without_init() {
    if role().is_some() {
        return;
    }
    let (mut child, pid, mut stdin, mut out, mut err) =
        spawn_traced_child("child_without_init", "lazy");

    let ready = out.wait_for("READY", STEP);
    let held_line = word_after(ready.last().unwrap(), "READY");
    assert_live_objects(pid, &mut err, "live objects: 1 ", &held_line);
    signal(pid, "-USR2");
    err.wait_for("activity tracking started", STEP);
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    let status = wait_bounded(&mut child, STEP);
    assert!(status.success(), "child exit {status:?}");
}

/// Child: no `framecast::init()`; holds one buffer, prints `READY <line>`
/// and waits for a line on stdin. A watchdog ends it after 60 s.
#[test]
fn child_without_init() {
    if role().as_deref() != Some("lazy") {
        return;
    }
    watchdog();
    assert!(!trace::leaks_signals_enabled());
    let held = Buffer::with_size(50).unwrap();
    let held_line = line!() - 1;
    assert!(trace::leaks_signals_enabled());
    println!("READY {held_line}");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    drop(held);
}

/// Child: holds a pool buffer and a plain buffer, prints `READY <line>`,
/// then obeys `make` (a new buffer kept, the plain one dropped; prints
/// `MADE <line>`) and `quit` from stdin. A watchdog ends it after 60 s
/// whatever happens.
#[test]
fn child_holds_buffers() {
    if role().as_deref() != Some("signals") {
        return;
    }
    watchdog();
    framecast::init().expect("FRAMECAST_TRACERS");
    assert!(trace::leaks_signals_enabled());
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(100, 0, 2)).unwrap();
    pool.set_active(true).unwrap();
    let pooled = pool.acquire().unwrap();
    let mut plain = Some(Buffer::with_size(50).unwrap());
    let held_line = line!() - 1;
    println!("READY {held_line}");
    let mut made = Vec::new();
    for line in std::io::stdin().lock().lines() {
        match line.as_deref() {
            Ok("make") => {
                made.push(Buffer::with_size(70).unwrap());
                let made_line = line!() - 1;
                drop(plain.take());
                println!("MADE {made_line}");
            }
            _ => break,
        }
    }
    drop((pooled, plain, made, pool));
    framecast::deinit();
}
