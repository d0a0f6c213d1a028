//! [`ClockTime`]: a point or span of time in nanoseconds.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A time in nanoseconds, GStreamer's `GstClockTime` as a newtype.
///
/// GStreamer encodes "no time" as `u64::MAX` (`GST_CLOCK_TIME_NONE`); framecast
/// uses `Option<ClockTime>` instead, so an unset timestamp can never take part
/// in arithmetic by accident.
///
/// Arithmetic saturates rather than wrapping: a timestamp that would go below
/// zero clamps at zero, as GStreamer clamps running time.
///
/// # Examples
///
/// ```
/// use framecast_core::ClockTime;
/// let frame = ClockTime::from_nseconds(1_000_000_000 / 30);
/// assert_eq!((frame * 30).to_string(), "0:00:00.999999990");
/// assert_eq!(ClockTime::from_mseconds(1500).to_string(), "0:00:01.500000000");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u64);

impl ClockTime {
    /// Zero.
    pub const ZERO: ClockTime = ClockTime(0);
    /// One second.
    pub const SECOND: ClockTime = ClockTime(1_000_000_000);
    /// One millisecond.
    pub const MSECOND: ClockTime = ClockTime(1_000_000);
    /// One microsecond.
    pub const USECOND: ClockTime = ClockTime(1_000);
    /// The largest representable time (one below GStreamer's NONE).
    pub const MAX: ClockTime = ClockTime(u64::MAX - 1);

    /// From nanoseconds. `u64::MAX` (GStreamer's NONE) clamps to [`ClockTime::MAX`].
    pub const fn from_nseconds(ns: u64) -> Self {
        if ns == u64::MAX {
            ClockTime::MAX
        } else {
            ClockTime(ns)
        }
    }
    /// From microseconds (saturating).
    pub const fn from_useconds(us: u64) -> Self {
        Self::from_nseconds(us.saturating_mul(1_000))
    }
    /// From milliseconds (saturating).
    pub const fn from_mseconds(ms: u64) -> Self {
        Self::from_nseconds(ms.saturating_mul(1_000_000))
    }
    /// From seconds (saturating).
    pub const fn from_seconds(s: u64) -> Self {
        Self::from_nseconds(s.saturating_mul(1_000_000_000))
    }
    /// Nanoseconds.
    pub const fn nseconds(self) -> u64 {
        self.0
    }
    /// Whole microseconds.
    pub const fn useconds(self) -> u64 {
        self.0 / 1_000
    }
    /// Whole milliseconds.
    pub const fn mseconds(self) -> u64 {
        self.0 / 1_000_000
    }
    /// Whole seconds.
    pub const fn seconds(self) -> u64 {
        self.0 / 1_000_000_000
    }
    /// `self * num / den` without intermediate overflow (`gst_util_uint64_scale`),
    /// rounding down. `None` when `den` is zero or the result does not fit.
    pub fn mul_div_floor(self, num: u64, den: u64) -> Option<ClockTime> {
        if den == 0 {
            return None;
        }
        let r = (self.0 as u128 * num as u128) / den as u128;
        u64::try_from(r)
            .ok()
            .filter(|&v| v != u64::MAX)
            .map(ClockTime)
    }
    /// Subtraction that reports underflow as `None`.
    pub fn checked_sub(self, rhs: ClockTime) -> Option<ClockTime> {
        self.0.checked_sub(rhs.0).map(ClockTime)
    }
    /// Addition that reports overflow as `None`.
    pub fn checked_add(self, rhs: ClockTime) -> Option<ClockTime> {
        self.0
            .checked_add(rhs.0)
            .filter(|&v| v != u64::MAX)
            .map(ClockTime)
    }
    /// Subtraction clamped at zero.
    pub fn saturating_sub(self, rhs: ClockTime) -> ClockTime {
        ClockTime(self.0.saturating_sub(rhs.0))
    }
    /// The duration this time represents.
    pub const fn as_duration(self) -> Duration {
        Duration::from_nanos(self.0)
    }
}

impl From<Duration> for ClockTime {
    fn from(d: Duration) -> Self {
        ClockTime::from_nseconds(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl From<ClockTime> for Duration {
    fn from(t: ClockTime) -> Self {
        t.as_duration()
    }
}

impl Add for ClockTime {
    type Output = ClockTime;
    fn add(self, rhs: ClockTime) -> ClockTime {
        ClockTime::from_nseconds(self.0.saturating_add(rhs.0))
    }
}
impl AddAssign for ClockTime {
    fn add_assign(&mut self, rhs: ClockTime) {
        *self = *self + rhs;
    }
}
impl Sub for ClockTime {
    type Output = ClockTime;
    fn sub(self, rhs: ClockTime) -> ClockTime {
        self.saturating_sub(rhs)
    }
}
impl SubAssign for ClockTime {
    fn sub_assign(&mut self, rhs: ClockTime) {
        *self = *self - rhs;
    }
}
impl std::ops::Mul<u64> for ClockTime {
    type Output = ClockTime;
    fn mul(self, rhs: u64) -> ClockTime {
        ClockTime::from_nseconds(self.0.saturating_mul(rhs))
    }
}
impl std::ops::Div<u64> for ClockTime {
    type Output = ClockTime;
    /// Division by zero gives [`ClockTime::MAX`] instead of panicking.
    fn div(self, rhs: u64) -> ClockTime {
        match self.0.checked_div(rhs) {
            Some(v) => ClockTime(v),
            None => ClockTime::MAX,
        }
    }
}

/// `H:MM:SS.nnnnnnnnn`, as GStreamer's `GST_TIME_FORMAT`.
impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let h = ns / 3_600_000_000_000;
        let m = (ns / 60_000_000_000) % 60;
        let s = (ns / 1_000_000_000) % 60;
        write!(f, "{h}:{m:02}:{s:02}.{:09}", ns % 1_000_000_000)
    }
}

impl fmt::Debug for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_display() {
        let a = ClockTime::from_mseconds(1500);
        assert_eq!(a.nseconds(), 1_500_000_000);
        assert_eq!((a + ClockTime::SECOND).seconds(), 2);
        assert_eq!(ClockTime::ZERO - a, ClockTime::ZERO);
        assert_eq!(a.checked_sub(ClockTime::from_seconds(2)), None);
        assert_eq!(a.to_string(), "0:00:01.500000000");
        assert_eq!(
            ClockTime::from_seconds(3723).to_string(),
            "1:02:03.000000000"
        );
        assert_eq!(ClockTime::from_nseconds(u64::MAX), ClockTime::MAX);
        assert_eq!(a / 0, ClockTime::MAX);
        assert_eq!(
            ClockTime::SECOND.mul_div_floor(90_000, 1_000_000_000),
            Some(ClockTime::from_nseconds(90_000))
        );
        assert_eq!(ClockTime::SECOND.mul_div_floor(1, 0), None);
        let d: Duration = ClockTime::MSECOND.into();
        assert_eq!(d, Duration::from_millis(1));
    }
}
