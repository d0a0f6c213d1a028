//! Signals to a child process, for the tests that send them.

use std::time::{Duration, Instant};

/// Waits (at most 20 s) until process `pid` catches SIGINT: its Ctrl-C
/// handler is in place.
pub fn wait_for_sigint_handler(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok());
        // Bit n - 1 stands for signal n; SIGINT is 2.
        if caught.is_some_and(|mask| mask & (1 << 1) != 0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} never handled SIGINT: {status}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGINT (Ctrl-C) to process `pid`, as `kill -INT` does.
pub fn interrupt(pid: u32) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill -INT {pid}");
}
