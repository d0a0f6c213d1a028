//! `framecast-bench rtsp --soak SECONDS`: does `framecast serve`'s memory
//! stay flat while viewers come and go? Two viewers (UDP and TCP) watch
//! throughout; every [`CHURN_EVERY`] one more joins (UDP and TCP in turn)
//! and the oldest of those that joined leaves once [`CHURNING`] are in,
//! half of them without TEARDOWN (the bench viewer closes its connection,
//! as a killed player does). The server's resident memory (`VmRSS`) is
//! sampled every [`SAMPLE_EVERY`]; the report gives the first sample
//! after the warm-up, the last, the largest and the growth.

use super::viewer::{self, Transport, Viewer};
use super::{start, Running, Server, FPS};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How often the server's RSS is read.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// How often a viewer joins (and, once [`CHURNING`] are in, one leaves).
const CHURN_EVERY: Duration = Duration::from_secs(3);
/// Joined viewers watching at once, besides the two steady ones.
const CHURNING: usize = 4;
/// Samples before this are the warm-up (pools and queues filling).
const WARMUP: Duration = Duration::from_secs(30);

/// `VmRSS` of process `pid`, KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_rss_kib(&status)
}

/// The `VmRSS:` line of a `/proc/PID/status` text, KiB.
fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One RSS sample: seconds since the start, KiB, viewers joined so far.
struct Sample {
    at_s: f64,
    rss_kib: u64,
    joins: usize,
}

/// Runs the soak for `seconds` and prints its samples and summary.
pub(crate) fn run(seconds: f64, bitrate: u32) -> Result<(), String> {
    let running: Running = start(Server::Framecast, FPS, bitrate, false)?;
    let _steady = [
        viewer::play(&running.url, Transport::Udp, false)?,
        viewer::play(&running.url, Transport::Tcp, false)?,
    ];
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(seconds);
    let mut churning: VecDeque<Viewer> = VecDeque::new();
    let mut samples = Vec::new();
    let (mut joins, mut failed_joins) = (0usize, 0usize);
    let mut next_churn = t0;
    let mut next_sample = t0;
    while Instant::now() < end {
        let now = Instant::now();
        if now >= next_sample {
            let rss_kib = rss_kib(running.pid()).ok_or_else(|| running.died())?;
            let at_s = t0.elapsed().as_secs_f64();
            eprintln!(
                "  {at_s:6.0} s  RSS {:8.1} MiB  {joins} joins",
                rss_kib as f64 / 1024.0
            );
            samples.push(Sample {
                at_s,
                rss_kib,
                joins,
            });
            next_sample += SAMPLE_EVERY;
        }
        if now >= next_churn {
            let transport = if joins % 2 == 0 {
                Transport::Udp
            } else {
                Transport::Tcp
            };
            match viewer::play(&running.url, transport, false) {
                Ok(v) => churning.push_back(v),
                Err(e) => {
                    failed_joins += 1;
                    eprintln!("  join {joins} failed: {e}");
                }
            }
            joins += 1;
            if churning.len() > CHURNING {
                if let Some(v) = churning.pop_front() {
                    if joins % 4 < 2 {
                        v.teardown();
                    }
                    drop(v);
                }
            }
            next_churn += CHURN_EVERY;
        }
        let wake = next_churn.min(next_sample).min(end);
        std::thread::sleep(wake.saturating_duration_since(Instant::now()));
    }
    println!(
        "\nRTSP soak: framecast serve, 1280x720@{FPS} H.264 {bitrate} kbit/s, {seconds:.0} s; \
         2 viewers throughout, one joining every {} s (UDP and TCP in turn) and the oldest of \
         {CHURNING} leaving (every other one without TEARDOWN); RSS every {} s\n",
        CHURN_EVERY.as_secs(),
        SAMPLE_EVERY.as_secs()
    );
    println!("| s | RSS MiB | joins |\n|---:|---:|---:|");
    for s in &samples {
        println!(
            "| {:.0} | {:.1} | {} |",
            s.at_s,
            s.rss_kib as f64 / 1024.0,
            s.joins
        );
    }
    let warm: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at_s >= WARMUP.as_secs_f64())
        .collect();
    if let (Some(first), Some(last)) = (warm.first(), warm.last()) {
        let max = warm.iter().map(|s| s.rss_kib).max().unwrap_or(0);
        let mib = |k: u64| k as f64 / 1024.0;
        println!(
            "\nafter the {} s warm-up: first {:.1} MiB, last {:.1} MiB, max {:.1} MiB; \
             growth last - first {:+.1} MiB, max - first {:+.1} MiB; {joins} joins, \
             {failed_joins} failed",
            WARMUP.as_secs(),
            mib(first.rss_kib),
            mib(last.rss_kib),
            mib(max),
            (last.rss_kib as f64 - first.rss_kib as f64) / 1024.0,
            mib(max.saturating_sub(first.rss_kib)),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_from_the_status_text() {
        let text = "Name:\tframecast\nVmHWM:\t  50000 kB\nVmRSS:\t   41232 kB\nThreads:\t9\n";
        assert_eq!(vm_rss_kib(text), Some(41_232));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        assert!(rss_kib(std::process::id()).is_some_and(|k| k > 0));
    }
}
