//! The pipeline clock: monotonic system time in nanoseconds.

use framecast_core::sync::{CondvarExt, MutexExt};
use std::sync::{Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

use framecast_core::ClockTime;

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// The monotonic system clock (`GstSystemClock` with `GST_CLOCK_TYPE_MONOTONIC`).
///
/// Its time is nanoseconds since the first use in this process. A pipeline
/// takes `base_time = clock.time()` when it starts playing; the running time
/// is `clock.time() - base_time`. Live sources stamp each buffer with the
/// running time at capture; sinks that sync wait until a buffer's running
/// time (plus the pipeline latency) has come.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// Now.
    pub fn time(&self) -> ClockTime {
        ClockTime::from(EPOCH.elapsed())
    }

    /// The instant that corresponds to clock time `t`.
    pub fn instant_of(&self, t: ClockTime) -> Instant {
        *EPOCH + Duration::from(t)
    }

    /// Waits until clock time `t`, or until `cancel` reports true (checked
    /// when `wake` is notified). Returns false if cancelled.
    pub fn wait_until(&self, t: ClockTime, cancel: &ClockCancel) -> bool {
        let deadline = self.instant_of(t);
        let mut cancelled = cancel.flag.locked();
        loop {
            if *cancelled {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            let (guard, _) = cancel.wake.wait_timeout_locked(cancelled, deadline - now);
            cancelled = guard;
        }
    }
}

/// Lets a thread blocked in [`SystemClock::wait_until`] be woken (flush,
/// state change) without waiting for the deadline.
#[derive(Debug, Default)]
pub struct ClockCancel {
    flag: Mutex<bool>,
    wake: Condvar,
}

impl ClockCancel {
    /// Cancels current and future waits until [`reset`](Self::reset).
    pub fn cancel(&self) {
        *self.flag.locked() = true;
        self.wake.notify_all();
    }
    /// Allows waiting again.
    pub fn reset(&self) {
        *self.flag.locked() = false;
    }
}
