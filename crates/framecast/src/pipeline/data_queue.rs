//! [`DataQueue`]: the bounded, policy-named queue behind `queue`, `appsrc`
//! and `appsink`.
//!
//! Every framecast queue has limits (buffers, bytes, time) and a named
//! overflow policy, and counts what it drops. Events travel in order with
//! the buffers, never count towards the limits and are never dropped.

use framecast_core::sync::{CondvarExt, MutexExt};
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use framecast_core::{Buffer, BufferFlags, ClockTime};

use super::event::Event;

/// What to do when a push finds the queue full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Wait for room (GStreamer `block=true` / `leaky=no`).
    Block,
    /// Drop the oldest queued buffer: the latest frame wins
    /// (`leaky=downstream`). The live default.
    DropOldest,
    /// Drop the incoming buffer (`leaky=upstream`).
    DropNewest,
}

impl Overflow {
    /// GStreamer's `leaky` nick for this policy (`no`, `upstream`, `downstream`).
    pub fn leaky_nick(self) -> &'static str {
        match self {
            Overflow::Block => "no",
            Overflow::DropNewest => "upstream",
            Overflow::DropOldest => "downstream",
        }
    }

    /// The policy for a `leaky` nick.
    pub fn from_leaky_nick(nick: &str) -> Option<Overflow> {
        match nick {
            "no" | "none" => Some(Overflow::Block),
            "upstream" => Some(Overflow::DropNewest),
            "downstream" => Some(Overflow::DropOldest),
            _ => None,
        }
    }
}

/// Limits: the queue is full when any non-zero limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Buffers (0 = no limit).
    pub buffers: u64,
    /// Bytes (0 = no limit).
    pub bytes: u64,
    /// Time between the oldest and newest queued buffer (zero = no limit).
    pub time: ClockTime,
}

/// One queued item.
#[derive(Debug)]
pub enum Item {
    /// A buffer.
    Buffer(Buffer),
    /// A serialized event.
    Event(Event),
}

/// Current levels and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Levels {
    /// Buffers queued.
    pub buffers: u64,
    /// Bytes queued.
    pub bytes: u64,
    /// Time span of the queued buffers.
    pub time: ClockTime,
    /// Buffers accepted.
    pub pushed: u64,
    /// Buffers taken out.
    pub popped: u64,
    /// Buffers dropped by the overflow policy.
    pub dropped: u64,
}

impl Levels {
    /// The level that the read-only property `name` of a queueing element
    /// reports (`current-level-buffers`, `-bytes`, `-time` in ns, as
    /// GStreamer's `queue` names them, and `dropped`); `None` for any other
    /// name.
    pub fn property(&self, name: &str) -> Option<u64> {
        Some(match name {
            "current-level-buffers" => self.buffers,
            "current-level-bytes" => self.bytes,
            "current-level-time" => self.time.nseconds(),
            "dropped" => self.dropped,
            _ => return None,
        })
    }
}

/// Why a push was refused; the item comes back with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Flushing (stopped, or between flush-start and flush-stop).
    Flushing,
    /// End-of-stream was queued: no more data.
    Eos,
    /// Full, and the policy is [`Overflow::DropNewest`]: the incoming
    /// buffer is the one dropped (counted).
    Dropped,
}

struct State {
    items: VecDeque<Item>,
    limits: Limits,
    overflow: Overflow,
    levels: Levels,
    newest_end: Option<ClockTime>,
    flushing: bool,
    eos: bool,
    /// A drop-newest drop happened: the gap lies before the next buffer
    /// *pushed*, which gets DISCONT as it is queued (GStreamer's queue
    /// `head_needs_discont`, appsrc `need_discont_upstream`).
    discont_on_push: bool,
    /// A drop-oldest drop happened: the gap lies before the next buffer
    /// *taken out*, which gets DISCONT as it is popped (queue
    /// `tail_needs_discont`, appsrc `need_discont_downstream`).
    discont_on_pop: bool,
}

/// A bounded queue with a named overflow policy.
pub struct DataQueue {
    state: Mutex<State>,
    not_empty: Condvar,
    not_full: Condvar,
}

impl DataQueue {
    /// A queue with these limits and policy, initially flushing (call
    /// [`set_flushing(false)`](Self::set_flushing) to start).
    pub fn new(limits: Limits, overflow: Overflow) -> DataQueue {
        DataQueue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(limits.buffers.clamp(1, 1024) as usize + 4),
                limits,
                overflow,
                levels: Levels::default(),
                newest_end: None,
                flushing: true,
                eos: false,
                discont_on_push: false,
                discont_on_pop: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.locked()
    }

    /// Changes the limits (wakes blocked pushers if there is room now).
    pub fn set_limits(&self, limits: Limits) {
        self.lock().limits = limits;
        self.not_full.notify_all();
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    /// Changes the overflow policy.
    pub fn set_overflow(&self, overflow: Overflow) {
        self.lock().overflow = overflow;
        self.not_full.notify_all();
    }

    /// The overflow policy.
    pub fn overflow(&self) -> Overflow {
        self.lock().overflow
    }

    /// Levels and counters.
    pub fn levels(&self) -> Levels {
        let state = self.lock();
        let mut levels = state.levels;
        levels.time = state.level_time();
        levels
    }

    /// Starts or stops flushing. Flushing drops everything queued (the
    /// buffers are freed now), wakes every waiter and refuses pushes;
    /// stopping it also clears a queued EOS.
    pub fn set_flushing(&self, flushing: bool) {
        let drained = {
            let mut state = self.lock();
            state.flushing = flushing;
            if flushing {
                state.levels.buffers = 0;
                state.levels.bytes = 0;
                state.newest_end = None;
                // What was dropped before the flush is gone with it.
                state.discont_on_push = false;
                state.discont_on_pop = false;
                std::mem::take(&mut state.items)
            } else {
                state.eos = false;
                VecDeque::new()
            }
        };
        self.not_empty.notify_all();
        self.not_full.notify_all();
        drop(drained);
    }

    /// Whether the queue is flushing.
    pub fn is_flushing(&self) -> bool {
        self.lock().flushing
    }

    /// Whether the queue is at a limit.
    pub fn is_full(&self) -> bool {
        self.lock().is_full()
    }

    /// Pushes an item. Events are always queued (EOS marks the end);
    /// buffers obey the limits and policy. A refused item comes back.
    pub fn push(&self, item: Item) -> Result<(), (Refused, Item)> {
        let mut state = self.lock();
        if state.flushing {
            return Err((Refused::Flushing, item));
        }
        if state.eos {
            return Err((Refused::Eos, item));
        }
        let mut buffer = match item {
            Item::Event(event) => {
                let eos = matches!(event, Event::Eos);
                state.eos |= eos;
                state.items.push_back(Item::Event(event));
                drop(state);
                self.not_empty.notify_one();
                if eos {
                    // Release pushers blocked on a full queue: no more data.
                    self.not_full.notify_all();
                }
                return Ok(());
            }
            Item::Buffer(buffer) => buffer,
        };
        // Dropped buffers are freed after unlocking (a pooled one goes home).
        let mut dropped_old: smallvec::SmallVec<[Buffer; 4]> = smallvec::SmallVec::new();
        while state.is_full() {
            match state.overflow {
                Overflow::Block => {
                    state = self.not_full.wait_locked(state);
                    if state.flushing {
                        return Err((Refused::Flushing, Item::Buffer(buffer)));
                    }
                    if state.eos {
                        return Err((Refused::Eos, Item::Buffer(buffer)));
                    }
                }
                Overflow::DropNewest => {
                    state.levels.dropped += 1;
                    state.discont_on_push = true;
                    return Err((Refused::Dropped, Item::Buffer(buffer)));
                }
                Overflow::DropOldest => match state.remove_oldest_buffer() {
                    Some(old) => {
                        state.levels.dropped += 1;
                        state.discont_on_pop = true;
                        dropped_old.push(old);
                    }
                    None => break, // only events queued: nothing to drop
                },
            }
        }
        if std::mem::take(&mut state.discont_on_push) {
            mark_discont(&mut buffer);
        }
        state.levels.buffers += 1;
        state.levels.bytes += buffer.size() as u64;
        state.levels.pushed += 1;
        if let Some(pts) = buffer.pts() {
            let end = pts + buffer.duration().unwrap_or(ClockTime::ZERO);
            state.newest_end = Some(state.newest_end.map_or(end, |e| e.max(end)));
        }
        state.items.push_back(Item::Buffer(buffer));
        drop(state);
        self.not_empty.notify_one();
        drop(dropped_old);
        Ok(())
    }

    /// Takes the oldest item, waiting up to `timeout` (`None` = until one
    /// comes or the queue flushes). `None` when flushing or timed out.
    pub fn pop(&self, timeout: Option<Duration>) -> Option<Item> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.lock();
        loop {
            if state.flushing {
                return None;
            }
            if let Some(mut item) = state.items.pop_front() {
                let mut discont = false;
                if let Item::Buffer(buffer) = &item {
                    state.levels.buffers -= 1;
                    state.levels.bytes -= buffer.size() as u64;
                    state.levels.popped += 1;
                    if state.levels.buffers == 0 {
                        state.newest_end = None;
                    }
                    discont = std::mem::take(&mut state.discont_on_pop);
                }
                drop(state);
                self.not_full.notify_one();
                if let (true, Item::Buffer(buffer)) = (discont, &mut item) {
                    mark_discont(buffer);
                }
                return Some(item);
            }
            match deadline {
                None => state = self.not_empty.wait_locked(state),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    state = self.not_empty.wait_timeout_locked(state, deadline - now).0;
                }
            }
        }
    }

    /// Reports the levels (and drops since the last report) to tracers that
    /// want queue events (the stats tracer). Costs one relaxed load when
    /// none does.
    pub fn trace_levels(
        &self,
        id: framecast_core::trace::ObjectId,
        name: &str,
        reported_drops: &std::sync::atomic::AtomicU64,
    ) {
        use framecast_core::trace::{self, Interest, QueueLevel};
        if !trace::interests().intersects(Interest::QUEUES) {
            return;
        }
        let (levels, max) = {
            let state = self.lock();
            (state.levels, state.limits.buffers)
        };
        trace::queue_level(id, name, || QueueLevel {
            buffers: levels.buffers as usize,
            bytes: levels.bytes as usize,
            max_buffers: max as usize,
        });
        let before = reported_drops.swap(levels.dropped, std::sync::atomic::Ordering::Relaxed);
        if levels.dropped > before {
            trace::queue_dropped(id, name, levels.dropped - before);
        }
    }

    /// Items queued (buffers and events).
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Flags the buffer after a gap. A shared buffer (the application kept a
/// clone, or a tee branch holds it) is shallow-copied first, as
/// `gst_buffer_make_writable` does: the flag must not be lost, and the other
/// holders must not see it change. Only runs after a drop, never per frame.
fn mark_discont(buffer: &mut Buffer) {
    buffer.make_mut().set_flags(BufferFlags::DISCONT);
}

impl State {
    fn level_time(&self) -> ClockTime {
        let oldest = self.items.iter().find_map(|i| match i {
            Item::Buffer(b) => b.pts(),
            Item::Event(_) => None,
        });
        match (oldest, self.newest_end) {
            (Some(o), Some(n)) => n.saturating_sub(o),
            _ => ClockTime::ZERO,
        }
    }

    fn is_full(&self) -> bool {
        let l = &self.limits;
        (l.buffers > 0 && self.levels.buffers >= l.buffers)
            || (l.bytes > 0 && self.levels.bytes >= l.bytes)
            || (l.time > ClockTime::ZERO && self.level_time() >= l.time)
    }

    fn remove_oldest_buffer(&mut self) -> Option<Buffer> {
        let index = self
            .items
            .iter()
            .position(|i| matches!(i, Item::Buffer(_)))?;
        match self.items.remove(index)? {
            Item::Buffer(b) => {
                self.levels.buffers -= 1;
                self.levels.bytes -= b.size() as u64;
                Some(b)
            }
            Item::Event(_) => None,
        }
    }
}

impl fmt::Debug for DataQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("DataQueue")
            .field("limits", &state.limits)
            .field("overflow", &state.overflow)
            .field("levels", &state.levels)
            .field("flushing", &state.flushing)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(pts_ms: u64) -> Buffer {
        let mut b = Buffer::with_size(100).unwrap();
        let f = b.get_mut().unwrap();
        f.set_pts(Some(ClockTime::from_mseconds(pts_ms)));
        f.set_duration(Some(ClockTime::from_mseconds(10)));
        b
    }

    fn buf(pts_ms: u64) -> Item {
        Item::Buffer(frame(pts_ms))
    }

    fn pts(item: Option<Item>) -> Option<u64> {
        match item {
            Some(Item::Buffer(b)) => b.pts().map(|t| t.mseconds()),
            _ => None,
        }
    }

    /// A queue of at most `buffers` buffers with `overflow`, not flushing.
    fn open_queue(buffers: u64, overflow: Overflow) -> DataQueue {
        open_with(
            Limits {
                buffers,
                ..Default::default()
            },
            overflow,
        )
    }

    /// A queue with `limits`, out of flushing (as a started element's).
    fn open_with(limits: Limits, overflow: Overflow) -> DataQueue {
        let q = DataQueue::new(limits, overflow);
        q.set_flushing(false);
        q
    }

    #[test]
    fn drop_oldest_keeps_the_latest() {
        let q = open_queue(2, Overflow::DropOldest);
        for t in 0..5 {
            q.push(buf(t * 10)).unwrap();
        }
        let levels = q.levels();
        assert_eq!(
            (levels.buffers, levels.bytes, levels.dropped, levels.pushed),
            (2, 200, 3, 5)
        );
        assert_eq!(levels.time, ClockTime::from_mseconds(20));
        let first = q.pop(Some(Duration::ZERO));
        match &first {
            Some(Item::Buffer(b)) => assert!(b.flags().contains(BufferFlags::DISCONT)),
            _ => panic!("expected a buffer"),
        }
        assert_eq!(pts(first), Some(30));
        assert_eq!(pts(q.pop(Some(Duration::ZERO))), Some(40));
    }

    fn discont(item: &Option<Item>) -> bool {
        match item {
            Some(Item::Buffer(b)) => b.flags().contains(BufferFlags::DISCONT),
            _ => panic!("expected a buffer"),
        }
    }

    /// GStreamer's `test_appsrc_limits` sequence: a drop-newest drop marks
    /// the next buffer *pushed*, a drop-oldest drop the next buffer *taken
    /// out*; with both pending, both buffers after the gaps are marked. The
    /// queued buffers are shared (the test keeps clones), as a tee branch
    /// or an application holding its frame makes them, and still get the
    /// flag, while the clones kept outside stay unflagged.
    #[test]
    fn discont_marks_the_buffer_after_each_gap_even_when_shared() {
        let q = open_queue(2, Overflow::DropNewest);
        let kept = [frame(1000), frame(2000)];
        for b in &kept {
            q.push(Item::Buffer(b.clone())).unwrap();
        }
        assert_eq!(q.push(buf(4000)).unwrap_err().0, Refused::Dropped);
        q.set_overflow(Overflow::DropOldest);
        let four = frame(4000);
        q.push(Item::Buffer(four.clone())).unwrap();
        assert_eq!(q.levels().dropped, 2);
        let two = q.pop(Some(Duration::ZERO));
        assert!(discont(&two), "2 s follows the dropped 1 s");
        assert_eq!(pts(two), Some(2000));
        let last = q.pop(Some(Duration::ZERO));
        assert!(discont(&last), "4 s follows the first, dropped 4 s");
        assert_eq!(pts(last), Some(4000));
        for b in kept.iter().chain([&four]) {
            assert!(
                !b.flags().contains(BufferFlags::DISCONT),
                "the caller's clones are not changed"
            );
        }
    }

    #[test]
    fn a_flush_forgets_pending_disconts() {
        let q = open_queue(1, Overflow::DropOldest);
        q.push(buf(0)).unwrap();
        q.push(buf(10)).unwrap();
        q.set_overflow(Overflow::DropNewest);
        assert_eq!(q.push(buf(20)).unwrap_err().0, Refused::Dropped);
        q.set_flushing(true);
        q.set_flushing(false);
        q.push(buf(30)).unwrap();
        assert!(!discont(&q.pop(Some(Duration::ZERO))));
    }

    #[test]
    fn drop_newest_hands_the_buffer_back() {
        let q = open_queue(1, Overflow::DropNewest);
        q.push(buf(0)).unwrap();
        let (why, item) = q.push(buf(10)).unwrap_err();
        assert_eq!(why, Refused::Dropped);
        assert_eq!(pts(Some(item)), Some(10));
        assert_eq!(q.levels().dropped, 1);
    }

    #[test]
    fn events_pass_limits_and_eos_ends() {
        let q = open_queue(1, Overflow::DropNewest);
        q.push(buf(0)).unwrap();
        q.push(Item::Event(Event::Eos)).unwrap();
        assert_eq!(q.push(buf(10)).unwrap_err().0, Refused::Eos);
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn block_waits_and_flush_releases() {
        let q = std::sync::Arc::new(open_queue(1, Overflow::Block));
        q.push(buf(0)).unwrap();
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.push(buf(10)).map_err(|(why, _)| why));
        std::thread::sleep(Duration::from_millis(50));
        q.set_flushing(true);
        assert_eq!(t.join().unwrap(), Err(Refused::Flushing));
        assert_eq!(q.levels().buffers, 0);
    }

    #[test]
    fn byte_and_time_limits() {
        let q = open_with(
            Limits {
                bytes: 250,
                ..Default::default()
            },
            Overflow::DropNewest,
        );
        q.push(buf(0)).unwrap();
        q.push(buf(10)).unwrap();
        q.push(buf(20)).unwrap();
        assert_eq!(q.push(buf(30)).unwrap_err().0, Refused::Dropped);
        let q = open_with(
            Limits {
                time: ClockTime::from_mseconds(25),
                ..Default::default()
            },
            Overflow::DropNewest,
        );
        q.push(buf(0)).unwrap();
        q.push(buf(10)).unwrap();
        q.push(buf(20)).unwrap();
        assert_eq!(q.levels().time, ClockTime::from_mseconds(30));
        assert_eq!(q.push(buf(30)).unwrap_err().0, Refused::Dropped);
    }
}
