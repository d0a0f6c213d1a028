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

/// How far behind the expected sequence number a packet may be and still
/// count as late (reordered or duplicated) rather than as a possible
/// start of a new stream (RFC 3550 Appendix A.1's `MAX_MISORDER`).
pub const MAX_MISORDER: u16 = 100;

/// What a packet's sequence number says about it, against the one a
/// depayloader expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqCheck {
    /// In order, after `lost` missing packets (0: none; also the first
    /// packet seen). Any jump forward within one SSRC is loss, however
    /// large: a 1080p raw frame alone is over 4 000 packets.
    Next {
        /// Packets missing just before this one.
        lost: u16,
    },
    /// At most [`MAX_MISORDER`] behind: reordered late or duplicated. The
    /// depayloader drops it.
    Late,
    /// Far behind, or from another SSRC, and not (yet) confirmed by the
    /// packet after it: a stray the depayloader drops. If the next packet
    /// follows it, the stream restarted (RFC 3550 A.1's probation).
    Stray,
    /// A new stream, confirmed: this packet follows a stray one (a sender
    /// restarted with a new SSRC or sequence-number offset). What was in
    /// progress belongs to the old stream; nothing counts as lost.
    Restart,
}

/// The sequence-number check every depayloader makes: which packets are
/// next, late, stray, or from a restarted stream. Without the restart
/// case, a sender restarting with a number behind the old one would have
/// every packet dropped as late for up to 32 767 packets; with probation,
/// one stray packet cannot throw away the frame in progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqTracker {
    expected: Option<u16>,
    ssrc: Option<u32>,
    /// The sequence number and SSRC that would confirm a restart.
    probation: Option<(u16, u32)>,
    /// A jitter buffer upstream vouched for the next packet (it marked it
    /// DISCONT): far away or of another SSRC, it is a restart, not a stray.
    vouched: bool,
}

impl SeqTracker {
    /// What packet `seq` of stream `ssrc` is, without taking it.
    pub fn classify(&self, seq: u16, ssrc: u32) -> SeqCheck {
        let Some(expected) = self.expected else {
            return SeqCheck::Next { lost: 0 };
        };
        let d = seq_delta(expected, seq);
        let same_stream = self.ssrc.is_none_or(|s| s == ssrc);
        if same_stream && d >= 0 {
            SeqCheck::Next {
                lost: d.unsigned_abs(),
            }
        } else if same_stream && d.unsigned_abs() <= MAX_MISORDER {
            SeqCheck::Late
        } else if self.probation == Some((seq, ssrc)) || self.vouched {
            SeqCheck::Restart
        } else {
            SeqCheck::Stray
        }
    }

    /// Takes packet `seq` of `ssrc`: the next one expected is `seq + 1`.
    pub fn accept(&mut self, seq: u16, ssrc: u32) {
        self.expected = Some(seq.wrapping_add(1));
        self.ssrc = Some(ssrc);
        self.probation = None;
        self.vouched = false;
    }

    /// The next packet comes after a discontinuity that the jitter buffer
    /// upstream has already judged (a restarted sender it adopted, or a
    /// gap it gave up on): wherever it lies, it is taken. Without this,
    /// the depayloader's own probation would drop the first packet of an
    /// adopted restart (often the SPS) as a stray.
    pub fn vouch_next(&mut self) {
        self.vouched = true;
    }

    /// Notes a stray packet: if the next packet follows it, that one is a
    /// [`SeqCheck::Restart`].
    pub fn note_stray(&mut self, seq: u16, ssrc: u32) {
        self.probation = Some((seq.wrapping_add(1), ssrc));
        self.vouched = false;
    }

    /// Classifies packet `seq` of `ssrc` and takes it when it is next or
    /// confirms a restart (a stray is noted, a late packet ignored).
    pub fn check(&mut self, seq: u16, ssrc: u32) -> SeqCheck {
        let verdict = self.classify(seq, ssrc);
        match verdict {
            SeqCheck::Next { .. } | SeqCheck::Restart => self.accept(seq, ssrc),
            SeqCheck::Stray => self.note_stray(seq, ssrc),
            SeqCheck::Late => {}
        }
        verdict
    }

    /// Expects `seq` next (its predecessors are accounted for).
    pub fn expect(&mut self, seq: u16, ssrc: u32) {
        self.expected = Some(seq);
        self.ssrc = Some(ssrc);
        self.probation = None;
        self.vouched = false;
    }
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
    fn tracker_tells_next_lost_late_stray_and_restart() {
        let mut t = SeqTracker::default();
        assert_eq!(t.check(65534, 7), SeqCheck::Next { lost: 0 });
        assert_eq!(t.check(65535, 7), SeqCheck::Next { lost: 0 });
        // Across the wrap, two lost.
        assert_eq!(t.check(2, 7), SeqCheck::Next { lost: 2 });
        // A duplicate and a reordered one are late and not taken.
        assert_eq!(t.check(2, 7), SeqCheck::Late);
        assert_eq!(t.check(65535, 7), SeqCheck::Late);
        assert_eq!(t.check(3, 7), SeqCheck::Next { lost: 0 });
        // A big jump forward is loss, not a new stream.
        assert_eq!(t.check(5003, 7), SeqCheck::Next { lost: 4999 });
        // Expected 5004: 5004 - 100 is late; 5004 - 101 is a stray, and
        // the stream goes on after it untouched.
        assert_eq!(t.check(5004 - MAX_MISORDER, 7), SeqCheck::Late);
        assert_eq!(t.check(5004 - MAX_MISORDER - 1, 7), SeqCheck::Stray);
        assert_eq!(t.check(5004, 7), SeqCheck::Next { lost: 0 });
        // A stray from another SSRC, then the stream goes on.
        assert_eq!(t.check(9, 8), SeqCheck::Stray);
        assert_eq!(t.check(5005, 7), SeqCheck::Next { lost: 0 });
        // A restarted sender far behind: its second packet confirms it.
        assert_eq!(t.check(1000, 7), SeqCheck::Stray);
        assert_eq!(t.check(1001, 7), SeqCheck::Restart);
        assert_eq!(t.check(1002, 7), SeqCheck::Next { lost: 0 });
        // A new SSRC, confirmed the same way, whatever its numbers.
        assert_eq!(t.check(1003, 9), SeqCheck::Stray);
        assert_eq!(t.check(1004, 9), SeqCheck::Restart);
        // `expect` charges a gap elsewhere: the packet is then next.
        t.expect(1500, 9);
        assert_eq!(t.classify(1500, 9), SeqCheck::Next { lost: 0 });
        assert_eq!(t.check(1500, 9), SeqCheck::Next { lost: 0 });
        // Vouched for by a jitter buffer, a far packet is a restart at
        // once; a late one stays late; the vouch is used up.
        t.vouch_next();
        assert_eq!(t.check(1501 - MAX_MISORDER, 9), SeqCheck::Late);
        assert_eq!(t.check(900, 9), SeqCheck::Restart);
        assert_eq!(t.check(1900, 3), SeqCheck::Stray);
    }

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
