//! A jitter buffer as a plain type: packets in, packets out in sequence
//! order, with no socket, thread or clock of its own (the caller passes
//! `now`), so that it can be tested, property-tested and fuzzed without a
//! network. The `rtpjitterbuffer` element wraps it with a thread.
//!
//! # What it promises
//!
//! - **In order, at once.** The next expected packet is handed out as
//!   soon as it arrives; in-order traffic is never delayed (after the
//!   start-up window, below).
//! - **A gap waits at most `latency`**, counted from the arrival of the
//!   first packet after it. What comes in time goes out in order; what
//!   does not is declared lost (`lost` += the gap) and the next packet out
//!   carries `discont`.
//! - **A start-up window** orders the first packets: a stream's first
//!   packets may arrive reordered, and a buffer that started at whichever
//!   came first would drop the earlier ones as late (with H.264 that is
//!   the first keyframe, and a second without a picture). The first
//!   packet goes out `startup` after it arrived, with whatever came
//!   before it in sequence by then.
//! - **One source is followed; others cannot move it.** The stream is one
//!   SSRC and one run of sequence numbers. A packet of another SSRC, or of
//!   the same SSRC but far outside the window (more than
//!   [`MAX_MISORDER`] behind, or half a ring's worth ahead), is a *stray*: it
//!   is set aside, never moves the window, and is counted as `stray` when
//!   it is dropped. RFC 3550 (A.1) calls this probation.
//! - **A restart is adopted, not lost.** A sender that restarts (new SSRC,
//!   or new sequence numbers behind or ahead of the old) shows up as
//!   strays that follow each other. Once [`MIN_SEQUENTIAL`] of them are in
//!   sequence and the followed source has been silent for
//!   `switch_after` while the candidate went on sending through at least
//!   a quarter of that silence (or at once, for the same SSRC, whose old sequence
//!   cannot go on beside the new), what is held of the old stream goes out
//!   first, then the new stream from its first packet set aside: nothing
//!   of either is lost, and `restarts` counts it. Two interleaved live
//!   sources therefore never take the window from each other.
//! - **Bounded.** At most `capacity` packets are held in the window (a
//!   ring allocated once) and [`SET_ASIDE`] packets of a candidate source;
//!   nothing allocates per packet.
//!
//! - **Retransmission requests** (with `nack`): the sequence numbers of a
//!   gap are reported for a Generic NACK (RFC 4585 §6.2.1) once they have
//!   had `nack_delay` to arrive reordered, and retried every `nack_retry`
//!   while the gap's wait lasts; a packet resent in time fills its slot
//!   like any other.
//!
//! Counters ([`JitterStats`]): `pushed`, `lost` (only sequence numbers
//! given up within the followed stream), `late` (arrived after their slot
//! was given up or pushed, within [`MAX_MISORDER`]), `duplicates`, `stray`,
//! `restarts`, `nacks`.

use std::time::{Duration, Instant};

use crate::seq::seq_delta;

/// A packet this far behind the next expected one, in the followed
/// source, is late (reordered or duplicated). Further behind, it is a
/// stray, or the first packet of a restarted sender.
pub const MAX_MISORDER: u64 = 100;

/// Packets of a candidate source that must follow each other in sequence
/// before it can replace the followed one (RFC 3550 A.1's
/// `MIN_SEQUENTIAL`).
pub const MIN_SEQUENTIAL: usize = 2;

/// Packets of a candidate source kept aside while it is on probation
/// (a keyframe at 4 Mbit/s is about 50 packets).
pub const SET_ASIDE: usize = 512;

mod types;

pub use types::{Filed, JitterConfig, JitterStats, PacketInfo, Popped};

struct Slot<T> {
    item: T,
    info: PacketInfo,
    arrival: Instant,
}

/// Retransmission requests made for one missing sequence number.
#[derive(Debug, Clone, Copy)]
struct Requested {
    ext: u64,
    tries: u8,
    last: Instant,
}

/// A candidate source on probation: its packets set aside, in arrival
/// order, and how many of them follow each other in sequence.
struct Candidate {
    ssrc: u32,
    /// The sequence number that continues the run.
    next_seq: u16,
    /// Length of the run ending in the last packet.
    run: usize,
    /// When its latest packet arrived.
    last: Instant,
}

/// The jitter buffer: see the [module docs](self).
pub struct JitterBuffer<T> {
    config: JitterConfig,
    slots: Vec<Option<Slot<T>>>,
    /// Per slot: the requests made for the missing packet of that slot.
    requested: Vec<Option<Requested>>,
    mask: u64,
    held: usize,
    /// The stream has started: a start-up window is behind it.
    started: bool,
    /// Extended sequence number of the next packet to hand out.
    next: Option<u64>,
    /// Highest extended number held.
    highest: u64,
    /// The followed source.
    ssrc: Option<u32>,
    /// When the first packet arrived, until it has gone out.
    startup_since: Option<Instant>,
    /// When the followed source last sent a packet that was filed.
    last_arrival: Option<Instant>,
    /// The next packet out carries DISCONT.
    discont: bool,
    candidate: Option<Candidate>,
    /// Packets of the candidate, oldest first (a ring of `SET_ASIDE`).
    aside: Vec<Option<(PacketInfo, T)>>,
    aside_start: usize,
    aside_len: usize,
    /// Packets of the old stream still to go out after a restart, oldest
    /// first (a ring of `capacity`), each with whether packets are
    /// missing before it.
    draining: Vec<Option<(PacketInfo, T, bool)>>,
    drain_start: usize,
    drain_len: usize,
    stats: JitterStats,
}

impl<T> JitterBuffer<T> {
    /// A jitter buffer; its rings are allocated here, once.
    pub fn new(config: JitterConfig) -> Self {
        let capacity = config.capacity.clamp(16, 1 << 16).next_power_of_two();
        JitterBuffer {
            config: JitterConfig { capacity, ..config },
            slots: (0..capacity).map(|_| None).collect(),
            requested: vec![None; capacity],
            mask: capacity as u64 - 1,
            held: 0,
            started: false,
            next: None,
            highest: 0,
            ssrc: None,
            startup_since: None,
            last_arrival: None,
            discont: false,
            candidate: None,
            aside: (0..SET_ASIDE).map(|_| None).collect(),
            aside_start: 0,
            aside_len: 0,
            draining: (0..capacity).map(|_| None).collect(),
            drain_start: 0,
            drain_len: 0,
            stats: JitterStats::default(),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> JitterConfig {
        self.config
    }

    /// Changes the longest wait for a missing packet (and caps the
    /// start-up window at it).
    pub fn set_latency(&mut self, latency: Duration) {
        self.config.latency = latency;
    }

    /// Switches retransmission requests on or off.
    pub fn set_nack(&mut self, nack: bool) {
        self.config.nack = nack;
    }

    /// The counters so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// The source followed, once a packet has been filed.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Packets held (window, set aside, and draining).
    pub fn len(&self) -> usize {
        self.held + self.aside_len + self.drain_len
    }

    /// Nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every packet and the stream (a flush, or a new start); the
    /// counters stay.
    pub fn clear(&mut self) {
        for s in &mut self.slots {
            *s = None;
        }
        for r in &mut self.requested {
            *r = None;
        }
        for s in &mut self.aside {
            *s = None;
        }
        for s in &mut self.draining {
            *s = None;
        }
        self.held = 0;
        self.aside_start = 0;
        self.aside_len = 0;
        self.drain_start = 0;
        self.drain_len = 0;
        self.started = false;
        self.next = None;
        self.highest = 0;
        self.ssrc = None;
        self.startup_since = None;
        self.last_arrival = None;
        self.discont = false;
        self.candidate = None;
    }

    /// Zeroes the counters.
    pub fn reset_stats(&mut self) {
        self.stats = JitterStats::default();
    }

    /// The source `ssrc` said it ended (RTCP BYE): a candidate replacing
    /// it need not wait for `switch_after`.
    pub fn source_ended(&mut self, ssrc: u32) {
        if self.ssrc == Some(ssrc) {
            self.last_arrival = None;
        }
    }

    fn index(&self, ext: u64) -> usize {
        (ext & self.mask) as usize
    }

    /// Files a packet that arrived at `now`.
    pub fn insert(&mut self, info: PacketInfo, item: T, now: Instant) -> Filed {
        let Some(ssrc) = self.ssrc else {
            self.start_stream(info, item, now);
            return Filed::Held;
        };
        let Some(next) = self.next else {
            self.start_stream(info, item, now);
            return Filed::Held;
        };
        if info.ssrc != ssrc {
            return self.on_probation(info, item, now);
        }
        // Where this packet falls, relative to the window, without moving
        // the unwrapper for a packet that may be a stray.
        let ext = self.extend(info.seq);
        let capacity = self.config.capacity as u64;
        if ext < next {
            let behind = next - ext;
            if behind <= MAX_MISORDER {
                if self.startup_since.is_some() && self.highest - ext < capacity {
                    // Still ordering the first packets: an earlier one is
                    // welcome.
                    self.next = Some(ext);
                    return self.hold(ext, info, item, now);
                }
                self.stats.late += 1;
                return Filed::Late;
            }
            return self.on_probation(info, item, now);
        }
        if ext - next >= capacity / 2 {
            // Half a window ahead or more: one packet that far (in-stream,
            // but bogus) would make the gap before it be given up whole;
            // a real jump is confirmed by the packet after it.
            return self.on_probation(info, item, now);
        }
        // A packet of the followed stream ends any probation of the same
        // SSRC (its old sequence goes on: the strays were strays).
        if self.candidate.as_ref().is_some_and(|c| c.ssrc == ssrc) {
            self.drop_candidate();
        }
        self.hold(ext, info, item, now)
    }

    fn hold(&mut self, ext: u64, info: PacketInfo, item: T, now: Instant) -> Filed {
        let i = self.index(ext);
        if self.slots[i].is_some() {
            self.stats.duplicates += 1;
            return Filed::Duplicate;
        }
        self.slots[i] = Some(Slot {
            item,
            info,
            arrival: now,
        });
        self.held += 1;
        self.highest = self.highest.max(ext);
        self.last_arrival = Some(now);
        Filed::Held
    }

    /// `seq` extended to 64 bits next to the window (RFC 3550 A.1's
    /// cycle count, relative to the highest number held or expected).
    fn extend(&self, seq: u16) -> u64 {
        let reference = self.highest.max(self.next.unwrap_or(0));
        (reference as i64 + i64::from(seq_delta(reference as u16, seq))).max(0) as u64
    }

    fn start_stream(&mut self, info: PacketInfo, item: T, now: Instant) {
        // Offset by 2^16, so that earlier packets still extend above 0.
        let ext = (1u64 << 16) + u64::from(info.seq);
        self.ssrc = Some(info.ssrc);
        self.next = Some(ext);
        self.highest = ext;
        if !self.started {
            self.started = true;
            self.startup_since = Some(now);
        }
        self.hold(ext, info, item, now);
    }

    /// A packet outside the followed stream: set aside, and maybe the
    /// restart it confirms.
    fn on_probation(&mut self, info: PacketInfo, item: T, now: Instant) -> Filed {
        let continues = self
            .candidate
            .as_ref()
            .is_some_and(|c| c.ssrc == info.ssrc && c.next_seq == info.seq);
        if continues {
            if let Some(c) = self.candidate.as_mut() {
                c.run += 1;
                c.next_seq = info.seq.wrapping_add(1);
                c.last = now;
            }
        } else if self.candidate.as_ref().is_some_and(|c| c.ssrc == info.ssrc) {
            // Same candidate source, out of its run: the run starts again
            // (its earlier packets stay aside, in case it is reordered).
            if let Some(c) = self.candidate.as_mut() {
                c.run = 1;
                c.next_seq = info.seq.wrapping_add(1);
                c.last = now;
            }
        } else {
            self.drop_candidate();
            self.candidate = Some(Candidate {
                ssrc: info.ssrc,
                next_seq: info.seq.wrapping_add(1),
                run: 1,
                last: now,
            });
        }
        self.set_aside(info, item);
        self.stats.stray += 1;
        if self.candidate_confirmed(now) {
            self.adopt_candidate(now);
            return Filed::Restart;
        }
        Filed::Stray
    }

    fn candidate_confirmed(&self, now: Instant) -> bool {
        let Some(c) = self.candidate.as_ref() else {
            return false;
        };
        if c.run < MIN_SEQUENTIAL {
            return false;
        }
        if Some(c.ssrc) == self.ssrc {
            // The same SSRC cannot send two sequences at once: the old one
            // ended.
            return true;
        }
        // Another SSRC takes over only when the followed source has been
        // silent for `switch_after` and the candidate went on sending
        // for a quarter of that silence at least: a restarted sender
        // does, while a pair of strays that happened to come just before
        // the followed source stalled (a loaded machine, a Wi-Fi hiccup)
        // does not.
        self.last_arrival.is_none_or(|t| {
            now.saturating_duration_since(t) >= self.config.switch_after
                && c.last.saturating_duration_since(t) >= self.config.switch_after / 4
        })
    }

    fn set_aside(&mut self, info: PacketInfo, item: T) {
        if self.aside_len == SET_ASIDE {
            // Full: the oldest goes.
            self.aside[self.aside_start] = None;
            self.aside_start = (self.aside_start + 1) % SET_ASIDE;
            self.aside_len -= 1;
        }
        let i = (self.aside_start + self.aside_len) % SET_ASIDE;
        self.aside[i] = Some((info, item));
        self.aside_len += 1;
    }

    fn drop_candidate(&mut self) {
        for k in 0..self.aside_len {
            self.aside[(self.aside_start + k) % SET_ASIDE] = None;
        }
        self.aside_start = 0;
        self.aside_len = 0;
        self.candidate = None;
    }

    /// The candidate becomes the followed stream: the old window drains
    /// first, then the candidate's packets set aside are filed.
    fn adopt_candidate(&mut self, now: Instant) {
        let Some(candidate) = self.candidate.take() else {
            return;
        };
        self.stats.restarts += 1;
        if let Some(next) = self.next {
            let mut ext = next;
            // The old window's gaps are given up now: counted, and the
            // packet after each one marked.
            let mut gap = std::mem::take(&mut self.discont);
            while self.held > 0 && ext <= self.highest {
                let i = self.index(ext);
                self.requested[i] = None;
                if let Some(slot) = self.slots[i].take() {
                    self.held -= 1;
                    if self.drain_len == self.draining.len() {
                        // Still draining an earlier restart: the window
                        // cannot hold both.
                        self.stats.lost += 1;
                        gap = true;
                        ext += 1;
                        continue;
                    }
                    let d = (self.drain_start + self.drain_len) % self.draining.len();
                    self.draining[d] = Some((slot.info, slot.item, std::mem::take(&mut gap)));
                    self.drain_len += 1;
                } else {
                    self.stats.lost += 1;
                    gap = true;
                }
                ext += 1;
            }
        }
        self.held = 0;
        self.next = None;
        self.ssrc = None;
        self.startup_since = None;
        // Mark the first packet of the new stream.
        self.discont = true;
        for k in 0..self.aside_len {
            let i = (self.aside_start + k) % SET_ASIDE;
            let Some((info, item)) = self.aside[i].take() else {
                continue;
            };
            if info.ssrc != candidate.ssrc {
                continue;
            }
            if self.ssrc.is_none() {
                self.start_stream(info, item, now);
                self.stats.stray = self.stats.stray.saturating_sub(1);
                continue;
            }
            // File it in the new window (earlier ones too: the candidate's
            // own reordering within MAX_MISORDER is kept).
            let next = self.next.unwrap_or(0);
            let ext = self.extend(info.seq);
            let capacity = self.config.capacity as u64;
            if ext < next && next - ext <= MAX_MISORDER && self.highest - ext < capacity {
                self.next = Some(ext);
            } else if ext < next || ext - next >= capacity {
                continue;
            }
            if self.hold(ext, info, item, now) != Filed::Held {
                continue;
            }
            self.stats.stray = self.stats.stray.saturating_sub(1);
        }
        self.aside_start = 0;
        self.aside_len = 0;
        self.last_arrival = Some(now);
    }

    /// The next packet due at `now`, or when to ask again.
    pub fn pop(&mut self, now: Instant) -> Popped<T> {
        self.pop_inner(now, false)
    }

    /// The next packet held, giving up any gap at once (end of stream):
    /// call until it is [`Popped::Empty`].
    pub fn pop_draining(&mut self) -> Popped<T> {
        // `now` is irrelevant when gaps are given up; any instant will do.
        self.pop_inner(Instant::now(), true)
    }

    fn pop_inner(&mut self, now: Instant, drain: bool) -> Popped<T> {
        if self.drain_len > 0 {
            let i = self.drain_start;
            self.drain_start = (self.drain_start + 1) % self.draining.len();
            self.drain_len -= 1;
            if let Some((info, item, discont)) = self.draining[i].take() {
                self.stats.pushed += 1;
                return Popped::Packet {
                    item,
                    info,
                    discont,
                };
            }
        }
        if !drain {
            if let Some(since) = self.startup_since {
                let until = since + self.config.startup.min(self.config.latency);
                if now < until {
                    return Popped::WaitUntil(until);
                }
            }
            if self.candidate_confirmed(now) {
                self.adopt_candidate(now);
                return self.pop_inner(now, drain);
            }
        }
        let Some(next) = self.next.filter(|_| self.held > 0) else {
            return self.idle(drain);
        };
        let i = self.index(next);
        if let Some(slot) = self.slots[i].take() {
            self.held -= 1;
            self.next = Some(next + 1);
            self.startup_since = None;
            self.stats.pushed += 1;
            return Popped::Packet {
                item: slot.item,
                info: slot.info,
                discont: std::mem::take(&mut self.discont),
            };
        }
        // A gap: the first packet held after it says since when we wait.
        let Some((ext, arrival)) = self.first_held_after(next) else {
            return self.idle(drain);
        };
        let deadline = arrival + self.config.latency;
        if drain || now >= deadline {
            self.stats.lost += ext - next;
            self.next = Some(ext);
            self.discont = true;
            return self.pop_inner(now, drain);
        }
        Popped::WaitUntil(deadline)
    }

    /// Nothing in the window: a candidate on probation may be adopted
    /// once the followed source has been silent long enough.
    fn idle(&mut self, drain: bool) -> Popped<T> {
        if drain {
            // The end: a candidate never confirmed was strays (counted).
            self.drop_candidate();
            return Popped::Empty;
        }
        match (&self.candidate, self.last_arrival) {
            (Some(c), Some(t))
                if c.run >= MIN_SEQUENTIAL
                    && c.last.saturating_duration_since(t) >= self.config.switch_after / 4 =>
            {
                Popped::WaitUntil(t + self.config.switch_after)
            }
            _ => Popped::Empty,
        }
    }

    /// The sequence numbers to ask the sender for now (RFC 4585 Generic
    /// NACK), each passed to `request`: those missing between the next
    /// packet due and the highest held, not asked for in the last
    /// `nack_retry`, and asked fewer than `nack_max` times. `request`
    /// returns `false` when it can take no more (those not taken stay due
    /// for the next call). Nothing with `nack` off. Allocates nothing.
    pub fn nack_requests(&mut self, now: Instant, mut request: impl FnMut(u16) -> bool) {
        if !self.config.nack || self.held == 0 {
            return;
        }
        let Some(next) = self.next else {
            return;
        };
        for ext in next..self.highest {
            let i = self.index(ext);
            if self.slots[i].is_some() {
                continue;
            }
            let r = &mut self.requested[i];
            match r {
                Some(q) if q.ext == ext => {
                    let wait = if q.tries == 0 {
                        self.config.nack_delay
                    } else {
                        self.config.nack_retry
                    };
                    if q.tries >= self.config.nack_max
                        || now.saturating_duration_since(q.last) < wait
                    {
                        continue;
                    }
                    q.tries += 1;
                    q.last = now;
                }
                _ => {
                    // Noticed now; asked for once it has had `nack_delay`
                    // to arrive reordered.
                    let ask = self.config.nack_delay.is_zero();
                    *r = Some(Requested {
                        ext,
                        tries: u8::from(ask),
                        last: now,
                    });
                    if !ask {
                        continue;
                    }
                }
            }
            if !request(ext as u16) {
                // Not taken: undo this try; it is due again next call.
                if let Some(q) = self.requested[i].as_mut() {
                    q.tries -= 1;
                }
                return;
            }
            self.stats.nacks += 1;
        }
    }

    /// Files a packet the sender resent (RTX) at `now`. It is taken only
    /// for a sequence number this buffer asked for and still waits for:
    /// a copy that comes too late, or one never asked for (an old
    /// sender's, after a restart), is dropped as late, and never put on
    /// probation, so late copies cannot pass for a restarted sender.
    pub fn insert_resent(&mut self, info: PacketInfo, item: T, now: Instant) -> Filed {
        let (Some(ssrc), Some(next)) = (self.ssrc, self.next) else {
            self.stats.late += 1;
            return Filed::Late;
        };
        let ext = self.extend(info.seq);
        let asked = info.ssrc == ssrc
            && ext >= next
            && ext < self.highest
            && self.requested[self.index(ext)].is_some_and(|q| q.ext == ext && q.tries > 0);
        if !asked {
            self.stats.late += 1;
            return Filed::Late;
        }
        self.hold(ext, info, item, now)
    }

    /// Each sequence number missing between the next packet due and the
    /// highest held, until `f` returns `false` (what FEC may rebuild).
    pub fn for_each_missing(&self, mut f: impl FnMut(u16) -> bool) {
        let Some(next) = self.next.filter(|_| self.held > 0) else {
            return;
        };
        for ext in next..self.highest {
            if self.slots[self.index(ext)].is_none() && !f(ext as u16) {
                return;
            }
        }
    }

    /// When [`nack_requests`](Self::nack_requests) will next have
    /// something to ask (a retry falls due), if anything is missing.
    pub fn next_nack_due(&self) -> Option<Instant> {
        if !self.config.nack || self.held == 0 {
            return None;
        }
        let next = self.next?;
        (next..self.highest)
            .filter(|&ext| self.slots[self.index(ext)].is_none())
            .filter_map(|ext| match self.requested[self.index(ext)] {
                Some(q) if q.ext == ext && q.tries >= self.config.nack_max => None,
                Some(q) if q.ext == ext && q.tries == 0 => Some(q.last + self.config.nack_delay),
                Some(q) if q.ext == ext => Some(q.last + self.config.nack_retry),
                _ => self.last_arrival,
            })
            .min()
    }

    fn first_held_after(&self, next: u64) -> Option<(u64, Instant)> {
        (next + 1..=self.highest).find_map(|ext| {
            self.slots[self.index(ext)]
                .as_ref()
                .map(|s| (ext, s.arrival))
        })
    }
}

impl<T> std::fmt::Debug for JitterBuffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("ssrc", &self.ssrc)
            .field("next", &self.next)
            .field("held", &self.held)
            .field("aside", &self.aside_len)
            .field("draining", &self.drain_len)
            .field("stats", &self.stats)
            .finish()
    }
}
