//! The child processes: the C receiver and its output, a child's stderr
//! tail, and the CPU time and peak RSS of a sender read from `/proc` and
//! `wait4(2)`.

use super::*;

/// Builds the receiver (needs `cc`, `pkg-config`, GStreamer's development
/// files); returns its path.
pub(crate) fn build_receiver() -> Result<PathBuf, String> {
    crate::build_c_anchor(
        "gst_latency_receiver",
        RECEIVER_SOURCE,
        &["gstreamer-1.0", "gstreamer-app-1.0", "gstreamer-video-1.0"],
    )
}

/// The `framecast` binary the `framecast send`/`launch` cases run: the
/// one Cargo built beside this program (`cargo build --release -p
/// framecast-cli -p framecast-bench`, with the same features).
pub(crate) fn framecast_exe() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let exe = me.with_file_name("framecast");
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(format!(
            "{} not found: build it beside framecast-bench              (cargo build --release -p framecast-cli -p framecast-bench)",
            exe.display()
        ))
    }
}

/// The last [`TAIL_BYTES`] of a child's stderr, read on a thread.
#[derive(Clone, Default)]
pub(crate) struct Tail(Arc<Mutex<Vec<u8>>>);

impl Tail {
    pub(crate) fn follow(stream: impl Read + Send + 'static) -> Tail {
        let tail = Tail::default();
        let shared = tail.0.clone();
        std::thread::spawn(move || {
            let mut stream = stream;
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut kept = shared.locked();
                kept.extend_from_slice(&chunk[..n]);
                let excess = kept.len().saturating_sub(TAIL_BYTES);
                kept.drain(..excess);
            }
        });
        tail
    }

    pub(crate) fn text(&self) -> String {
        let kept = self.0.locked();
        // `framecast send`'s stats line redraws with '\r'.
        String::from_utf8_lossy(&kept)
            .replace('\r', "\n")
            .trim()
            .to_string()
    }
}

/// One line of the receiver's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// A decoded frame: its number, its latency, and when the last of its
    /// packets came out of the receiver's socket (the sender's share,
    /// network included), both from the stamp.
    Frame {
        frame: u32,
        latency_ns: i64,
        wire_ns: Option<i64>,
    },
    /// The pipeline plays.
    Ready,
    /// A frame came out of the decoder at this `CLOCK_MONOTONIC` time
    /// (ns), whole stamp or not (only with a jitter-buffer latency given).
    Decoded(u64),
    /// The last line: whole stamps read, damaged stamps.
    Summary {
        frames: u64,
        bad: u64,
        payload_bytes: Option<u64>,
    },
    /// Anything else.
    Other(String),
}

pub(crate) fn parse_line(line: &str) -> Line {
    let line = line.trim_end();
    if line == "# ready" {
        return Line::Ready;
    }
    if let Some(Ok(at)) = line.strip_prefix("# decoded ").map(str::parse) {
        return Line::Decoded(at);
    }
    if let Some(rest) = line.strip_prefix("# ") {
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        };
        if let (Some(frames), Some(bad)) = (field("frames"), field("bad")) {
            return Line::Summary {
                frames,
                bad,
                payload_bytes: field("payload-bytes"),
            };
        }
    }
    let mut fields = line.split('\t');
    if let (Some(Ok(frame)), Some(Ok(latency_ns))) =
        (fields.next().map(str::parse), fields.next().map(str::parse))
    {
        // Fields 3 and 4: first and last packet out of the socket.
        let wire_ns = fields.nth(1).and_then(|f| f.parse().ok());
        return Line::Frame {
            frame,
            latency_ns,
            wire_ns,
        };
    }
    Line::Other(line.to_string())
}

/// A running receiver.
pub(crate) struct Receiver {
    pub(crate) child: Child,
    pub(crate) lines: mpsc::Receiver<Line>,
    pub(crate) stderr: Tail,
}

impl Receiver {
    /// Starts the receiver on `port` and waits until it plays; with
    /// `jitter_ms`, behind an `rtpjitterbuffer` of that latency, saying
    /// when every frame is decoded ([`Line::Decoded`]).
    pub(crate) fn start(
        exe: &Path,
        port: u16,
        seconds: f64,
        jitter_ms: Option<u32>,
    ) -> Result<Receiver, String> {
        let mut child = Command::new(exe)
            .args([port.to_string(), format!("{seconds:.0}")])
            .args(jitter_ms.map(|ms| ms.to_string()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let stderr = stderr.map(Tail::follow).unwrap_or_default();
        let (send, lines) = mpsc::channel();
        if let Some(stdout) = stdout {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if send.send(parse_line(&line)).is_err() {
                        break;
                    }
                }
            });
        }
        let mut receiver = Receiver {
            child,
            lines,
            stderr,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.lines.recv_timeout(left) {
                Ok(Line::Ready) => return Ok(receiver),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    receiver.stop();
                    return Err(format!(
                        "the receiver did not start in {} s: {}",
                        READY_TIMEOUT.as_secs(),
                        receiver.stderr.text()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    receiver.stop();
                    return Err(format!("the receiver failed: {}", receiver.stderr.text()));
                }
            }
        }
    }

    /// Collects the frames decoded until none came for [`DRAIN_IDLE`],
    /// stops the receiver and returns the frames and its damaged-stamp
    /// count.
    pub(crate) fn finish(mut self) -> Received {
        let mut frames = Vec::new();
        let mut decoded = Vec::new();
        let mut wire = Vec::new();
        let mut bad = None;
        let mut payload_bytes = None;
        let mut take = |line: Line| match line {
            Line::Frame {
                frame,
                latency_ns,
                wire_ns,
            } => {
                frames.push((frame, latency_ns));
                wire.extend(wire_ns.map(|ns| (frame, ns)));
            }
            Line::Summary {
                bad: b,
                payload_bytes: p,
                ..
            } => {
                bad = Some(b);
                payload_bytes = p;
            }
            Line::Decoded(at) => decoded.push(at),
            _ => {}
        };
        let drain_end = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self.lines.recv_timeout(DRAIN_IDLE) {
            take(line);
            if Instant::now() >= drain_end {
                break;
            }
        }
        // SIGTERM: the receiver prints its summary and exits.
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child, not yet waited for.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => take(line),
                Err(_) => break,
            }
        }
        self.stop();
        Received {
            frames,
            decoded,
            wire,
            bad,
            payload_bytes,
        }
    }

    /// Waits a little for the receiver to exit, then kills it.
    pub(crate) fn stop(&mut self) {
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the receiver reported.
pub(crate) struct Received {
    /// Frame number and latency (ns) of every whole frame decoded.
    pub(crate) frames: Vec<(u32, i64)>,
    /// When each frame was decoded (`CLOCK_MONOTONIC` ns), whole or not;
    /// empty unless started with a jitter-buffer latency.
    pub(crate) decoded: Vec<u64>,
    /// Frame number and stamp -> last packet out of the socket (ns).
    pub(crate) wire: Vec<(u32, i64)>,
    /// Damaged stamps, when the receiver said.
    pub(crate) bad: Option<u64>,
    /// RTP payload bytes received, when the receiver said.
    pub(crate) payload_bytes: Option<u64>,
}

/// How a sender ended.
pub(crate) struct Exit {
    /// `None` when it exited 0, else what happened.
    pub(crate) failure: Option<String>,
    pub(crate) cpu_ns: u64,
}

pub(crate) fn timeval_ns(tv: libc::timeval) -> u64 {
    (tv.tv_sec.max(0) as u64) * 1_000_000_000 + (tv.tv_usec.max(0) as u64) * 1000
}

/// Reaps child `pid` with `wait4(2)` for its resource usage, waiting at
/// most [`EXIT_TIMEOUT`], then SIGINT, then SIGKILL.
pub(crate) fn wait_with_rusage(pid: libc::pid_t) -> Result<Exit, String> {
    let start = Instant::now();
    let mut signalled = 0;
    loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value to be overwritten.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own child, not reaped elsewhere; both
        // out-pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            let failure = if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                None
            } else if libc::WIFEXITED(status) {
                Some(format!("exit status {}", libc::WEXITSTATUS(status)))
            } else if libc::WIFSIGNALED(status) {
                Some(format!("killed by signal {}", libc::WTERMSIG(status)))
            } else {
                Some("ended abnormally".into())
            };
            let failure = match (failure, signalled) {
                (None, 0) => None,
                (f, 0) => f,
                (f, _) => Some(format!(
                    "did not exit within {} s of end of input ({})",
                    EXIT_TIMEOUT.as_secs(),
                    f.unwrap_or_else(|| "then exited 0 on SIGINT".into())
                )),
            };
            return Ok(Exit {
                failure,
                cpu_ns: timeval_ns(usage.ru_utime) + timeval_ns(usage.ru_stime),
            });
        }
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("wait4: {e}"));
        }
        let waited = start.elapsed();
        let signal = match signalled {
            0 if waited > EXIT_TIMEOUT => Some(libc::SIGINT),
            1 if waited > EXIT_TIMEOUT + Duration::from_secs(3) => Some(libc::SIGKILL),
            _ => None,
        };
        if let Some(signal) = signal {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(pid, signal) };
            signalled += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `utime + stime` in clock ticks from the text of `/proc/PID/stat`.
pub(crate) fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    // Fields after the command (which may hold spaces), from field 3.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time used so far by process `pid` (all threads), nanoseconds.
pub(crate) fn process_cpu_ns(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|&h| h > 0)?;
    Some(stat_cpu_ticks(&stat)? * 1_000_000_000 / hz)
}

/// `VmHWM` of process `pid` (its peak resident set since exec), KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_hwm_kib(&status)
}

/// The `VmHWM:` line of a `/proc/PID/status` text, KiB.
pub(crate) fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_lines_parse() {
        assert_eq!(parse_line("# ready"), Line::Ready);
        assert_eq!(
            parse_line("42\t5600123\n"),
            Line::Frame {
                frame: 42,
                latency_ns: 5_600_123,
                wire_ns: None
            }
        );
        assert_eq!(
            parse_line("42\t5600123\t900000\t3100000"),
            Line::Frame {
                frame: 42,
                latency_ns: 5_600_123,
                wire_ns: Some(3_100_000)
            }
        );
        assert_eq!(
            parse_line("# frames=300 bad=2"),
            Line::Summary {
                frames: 300,
                bad: 2,
                payload_bytes: None
            }
        );
        assert_eq!(
            parse_line("# frames=300 bad=0 payload-bytes=1500000"),
            Line::Summary {
                frames: 300,
                bad: 0,
                payload_bytes: Some(1_500_000)
            }
        );
        assert!(matches!(parse_line("x\ty"), Line::Other(_)));
        // With a jitter-buffer latency: every decoded frame's time.
        assert_eq!(
            parse_line("# decoded 123456789\n"),
            Line::Decoded(123_456_789)
        );
        assert!(matches!(parse_line("# decoded soon"), Line::Other(_)));
    }

    #[test]
    fn peak_rss_is_vm_hwm() {
        let status =
            "Name:\tframecast\nVmPeak:\t  900000 kB\nVmHWM:\t   35512 kB\nVmRSS:\t 30000 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(35_512));
        assert_eq!(vm_hwm_kib("Name:\tx\n"), None);
        let own = peak_rss_kib(std::process::id()).expect("this process's VmHWM");
        assert!(own > 100, "{own} KiB");
    }

    #[test]
    fn proc_stat_cpu_is_utime_plus_stime() {
        let stat = "1234 (gst launch) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 30 0 0 20 0 9 0";
        assert_eq!(stat_cpu_ticks(stat), Some(280));
        assert_eq!(stat_cpu_ticks("garbage"), None);
    }
}
