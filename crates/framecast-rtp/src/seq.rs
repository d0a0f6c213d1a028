//! Sequence-number arithmetic (RFC 3550 §5.1, Appendix A.1).
//!
//! Sequence numbers are 16 bits and wrap every 65 536 packets (about 11
//! seconds at 6 000 packets/s, a 1080p keyframe burst rate), so "newer"
//! must be decided modulo 2^16: `b` is after `a` when the forward distance
//! from `a` to `b` is less than half the space (RFC 1982 serial number
//! arithmetic, which RFC 3550 Appendix A.1 uses for its `udelta`).

/// Signed distance from `a` to `b`: positive when `b` is newer.
///
/// # Examples
///
/// ```
/// use framecast_rtp::seq::seq_delta;
/// assert_eq!(seq_delta(65535, 1), 2);
/// assert_eq!(seq_delta(1, 65535), -2);
/// ```
pub fn seq_delta(a: u16, b: u16) -> i16 {
    // Two's complement wrap does the modular arithmetic.
    b.wrapping_sub(a) as i16
}

/// `true` when `a` comes strictly before `b` (modulo 2^16).
pub fn seq_before(a: u16, b: u16) -> bool {
    seq_delta(a, b) > 0
}

/// Extends 16-bit sequence numbers to 64 bits by counting wraps ("cycles"
/// in RFC 3550 Appendix A.1), so that gaps and order can be computed
/// without modular arithmetic downstream, and so that the "extended
/// highest sequence number received" of a receiver report (§6.4.1) can be
/// filled in.
///
/// A number that is older than the highest seen (a late or duplicated
/// packet) is extended relative to it, so it maps to a smaller value and
/// the cycle count does not move.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqUnwrapper {
    highest: Option<u64>,
}

impl SeqUnwrapper {
    /// A fresh unwrapper; the first number it sees is taken as is (cycle
    /// 0), offset by 2^16 so that a slightly older packet after it still
    /// maps to a non-negative value.
    pub const fn new() -> Self {
        Self { highest: None }
    }

    /// Extends `seq` and returns it.
    pub fn extend(&mut self, seq: u16) -> u64 {
        match self.highest {
            None => {
                let v = (1u64 << 16) + u64::from(seq);
                self.highest = Some(v);
                v
            }
            Some(h) => {
                let d = i64::from(seq_delta(h as u16, seq));
                let v = (h as i64 + d).max(0) as u64;
                if v > h {
                    self.highest = Some(v);
                }
                v
            }
        }
    }

    /// The highest extended number seen so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delta_and_order_wrap() {
        assert_eq!(seq_delta(10, 10), 0);
        assert_eq!(seq_delta(10, 12), 2);
        assert_eq!(seq_delta(0xfffe, 0x0001), 3);
        assert!(seq_before(0xffff, 0));
        assert!(!seq_before(0, 0xffff));
    }

    #[test]
    fn unwrapper_counts_cycles_and_tolerates_late_packets() {
        let mut u = SeqUnwrapper::new();
        let a = u.extend(65534);
        assert_eq!(u.extend(65535), a + 1);
        assert_eq!(u.extend(0), a + 2);
        assert_eq!(u.extend(65535), a + 1); // late duplicate
        assert_eq!(u.extend(1), a + 3);
        assert_eq!(u.highest(), Some(a + 3));
    }

    proptest! {
        #[test]
        fn unwrapper_is_monotonic_for_forward_steps(start: u16, steps in proptest::collection::vec(1u16..30000, 1..50)) {
            let mut u = SeqUnwrapper::new();
            let mut s = start;
            let mut prev = u.extend(s);
            for st in steps {
                s = s.wrapping_add(st);
                let v = u.extend(s);
                prop_assert_eq!(v, prev + u64::from(st));
                prev = v;
            }
        }
    }
}
