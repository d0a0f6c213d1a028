//! Child processes for the tracer tests: serializing tests that change the
//! global tracer list, running this test binary again as a child process
//! (for `fatal=true`, which exits, and for signals), and reading a child's
//! output line by line with bounded waits.

use framecast_core::sync::MutexExt;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Set in a child process to the role it plays; child tests do nothing
/// without it.
pub const ROLE_ENV: &str = "FRAMECAST_TEST_CHILD";

static SERIAL: Mutex<()> = Mutex::new(());

/// Tests in one binary run on parallel threads but tracers are global:
/// every test that installs one holds this.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.locked()
}

/// The role this process was started with, if it is a child.
pub fn role() -> Option<String> {
    std::env::var(ROLE_ENV).ok()
}

/// A command running test `test` of this same binary, alone, as a child
/// with `role`, its output uncaptured, with `FRAMECAST_*` variables from
/// the parent's environment removed and `envs` set.
pub fn child_command(test: &str, role: &str, envs: &[(&str, &str)]) -> Command {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FRAMECAST_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env(ROLE_ENV, role);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// What a finished child printed.
#[derive(Debug)]
pub struct ChildOutput {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output, lossily decoded.
    pub stdout: String,
    /// Its standard error, lossily decoded.
    pub stderr: String,
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// Runs a child to completion, killing it after `timeout`.
pub fn run_child(test: &str, role: &str, envs: &[(&str, &str)], timeout: Duration) -> ChildOutput {
    let mut child = child_command(test, role, envs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let status = wait_bounded(&mut child, timeout);
    ChildOutput {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Waits for `child`, killing it (and failing) after `timeout`.
pub fn wait_bounded(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait().expect("try_wait") {
            Some(status) => return status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("child did not finish within {timeout:?}");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Lines of a child's stream, arriving on a channel as they are printed.
pub struct Lines {
    rx: Receiver<String>,
    /// Everything received so far, for failure messages.
    pub seen: Vec<String>,
}

impl Lines {
    /// Starts a thread that reads `r` line by line into the channel.
    pub fn new(r: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits (at most `timeout`) for a line containing `needle`; returns
    /// the lines received up to and including it.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    let found = line.contains(needle);
                    got.push(line);
                    if found {
                        return got;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => panic!(
                    "no line containing {needle:?} within {timeout:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Collects lines until none arrives for `quiet` (bounded by `max`).
    pub fn collect_until_quiet(&mut self, quiet: Duration, max: Duration) -> Vec<String> {
        let deadline = Instant::now() + max;
        let mut got = Vec::new();
        while Instant::now() < deadline {
            match self.rx.recv_timeout(quiet) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    got.push(line);
                }
                Err(_) => break,
            }
        }
        got
    }
}
