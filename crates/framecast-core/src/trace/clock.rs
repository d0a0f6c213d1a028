//! The leaks tracer's clock: cheap enough to stamp every tracked object
//! with its creation time (for ages in reports).
//!
//! `Instant::now()` costs 20–45 ns (more in a VM), which alone would be a
//! fifth of the tracer's budget per buffer. Reports only need ages to a
//! few milliseconds, so hot paths read `CLOCK_MONOTONIC_COARSE`: the time
//! of the kernel's last tick (1–4 ms old), read from the vDSO without a
//! system call and without the TSC. It used to be a ticker thread storing
//! the time every millisecond, but its 1000 wake-ups a second cost 2–4 %
//! of a core on the 2-core VM (half the dashboard's measured cost, found
//! by `perf`), more than all the tracers' hooks together.

use std::sync::LazyLock;

/// `CLOCK_MONOTONIC` when the clock was first read: the epoch of both
/// readings, so they compare.
static EPOCH_NS: LazyLock<u64> = LazyLock::new(|| read(libc::CLOCK_MONOTONIC));

/// `clock` now, in nanoseconds.
fn read(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC and
    // CLOCK_MONOTONIC_COARSE exist on every Linux framecast runs on, and
    // on failure `ts` stays zero (an age of zero, not undefined state).
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Nanoseconds since the clock's epoch, exact.
pub(crate) fn precise_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC).saturating_sub(*EPOCH_NS)
}

/// Nanoseconds since the clock's epoch as of the kernel's last tick: at
/// most a few milliseconds behind [`precise_ns`], never ahead of it.
#[inline]
pub(crate) fn coarse_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC_COARSE).saturating_sub(*EPOCH_NS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn coarse_follows_precise_a_few_ms_behind() {
        let a = coarse_ns();
        std::thread::sleep(Duration::from_millis(30));
        let b = coarse_ns();
        let p = precise_ns();
        assert!(b >= a + 10_000_000, "{a} -> {b}");
        assert!(b <= p && p - b < 20_000_000, "coarse {b}, precise {p}");
    }
}
