//! A millisecond clock that costs one relaxed load to read.
//!
//! The leaks tracer stamps every tracked object with its creation time (for
//! ages in reports). `Instant::now()` costs 20–45 ns (more in a VM), which
//! alone would be a fifth of the tracer's budget per buffer. Reports only
//! need ages to the millisecond, so a ticker thread stores the time every
//! millisecond and hot paths read that. The ticker runs while at least one
//! [`ClockUser`] exists and parks otherwise.

use crate::sync::MutexExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(1);

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
static NOW_NS: AtomicU64 = AtomicU64::new(0);
static USERS: AtomicUsize = AtomicUsize::new(0);
static TICKER: Mutex<Option<Thread>> = Mutex::new(None);

/// Nanoseconds since the clock's epoch, exact.
pub(crate) fn precise_ns() -> u64 {
    u64::try_from(EPOCH.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds since the clock's epoch, at most about a tick old while a
/// [`ClockUser`] exists (exact when the ticker could not be started).
#[inline]
pub(crate) fn coarse_ns() -> u64 {
    NOW_NS.load(Ordering::Relaxed)
}

/// Keeps the ticker running while it lives.
#[derive(Debug)]
pub(crate) struct ClockUser(());

impl ClockUser {
    pub(crate) fn new() -> ClockUser {
        NOW_NS.fetch_max(precise_ns(), Ordering::Relaxed);
        USERS.fetch_add(1, Ordering::AcqRel);
        let mut ticker = TICKER.locked();
        match ticker.as_ref() {
            Some(thread) => thread.unpark(),
            None => {
                let spawned = std::thread::Builder::new()
                    .name("framecast-trace-clock".into())
                    .spawn(tick);
                if let Ok(handle) = spawned {
                    *ticker = Some(handle.thread().clone());
                }
            }
        }
        ClockUser(())
    }
}

impl Drop for ClockUser {
    fn drop(&mut self) {
        USERS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The ticker: stores the time every tick while there are users, parks
/// while there are none. Lives as long as the process.
fn tick() {
    loop {
        if USERS.load(Ordering::Acquire) == 0 {
            std::thread::park();
            continue;
        }
        NOW_NS.fetch_max(precise_ns(), Ordering::Relaxed);
        std::thread::sleep(TICK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_follows_precise() {
        let user = ClockUser::new();
        let a = coarse_ns();
        std::thread::sleep(Duration::from_millis(30));
        let b = coarse_ns();
        assert!(b >= a + 10_000_000, "{a} -> {b}");
        assert!(b <= precise_ns());
        drop(user);
    }
}
