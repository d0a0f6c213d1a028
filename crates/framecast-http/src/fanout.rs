//! One producer, many subscribers, each with its own one-slot latest-wins
//! mailbox: a slow subscriber (a tab on a bad link, a paused `curl`) loses
//! only its own items, never blocks the producer or the others.
//!
//! Publishing clones the item (an `Arc` or a pooled buffer: a reference
//! count) into each slot, replacing what the subscriber has not taken yet
//! (counted as dropped). With the subscriber list warm it allocates
//! nothing.

use framecast_core::sync::{CondvarExt, MutexExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

struct Slot<T> {
    state: Mutex<SlotState<T>>,
    ready: Condvar,
    taken: AtomicU64,
    dropped: AtomicU64,
}

struct SlotState<T> {
    latest: Option<T>,
    closed: bool,
}

/// What [`Subscriber::next`] got.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// The newest item.
    Item(T),
    /// Nothing new within the timeout.
    Timeout,
    /// The producer closed the fan-out.
    Closed,
}

/// The producer side: publish to every current subscriber.
pub struct Fanout<T> {
    subs: Mutex<Vec<Arc<Slot<T>>>>,
}

impl<T> std::fmt::Debug for Fanout<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("subscribers", &self.subs.locked().len())
            .finish()
    }
}

impl<T: Clone> Default for Fanout<T> {
    fn default() -> Self {
        Fanout {
            subs: Mutex::new(Vec::with_capacity(16)),
        }
    }
}

impl<T: Clone> Fanout<T> {
    /// An empty fan-out.
    pub fn new() -> Arc<Fanout<T>> {
        Arc::new(Fanout::default())
    }

    /// A new subscriber; it sees items published from now on.
    pub fn subscribe(self: &Arc<Self>) -> Subscriber<T> {
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                latest: None,
                closed: false,
            }),
            ready: Condvar::new(),
            taken: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        self.subs.locked().push(slot.clone());
        Subscriber {
            fanout: self.clone(),
            slot,
        }
    }

    /// Current subscribers (0: the producer may stop producing).
    pub fn subscribers(&self) -> usize {
        self.subs.locked().len()
    }

    /// Hands `item` to every subscriber, replacing any it has not taken.
    pub fn publish(&self, item: &T) {
        for s in self.subs.locked().iter() {
            let old = {
                let mut st = s.state.locked();
                st.latest.replace(item.clone())
            };
            if old.is_some() {
                s.dropped.fetch_add(1, Ordering::Relaxed);
            }
            s.ready.notify_one();
            // `old` drops here, outside the slot's lock.
        }
    }

    /// Ends every subscriber's stream ([`Next::Closed`]).
    pub fn close(&self) {
        for s in self.subs.locked().iter() {
            s.state.locked().closed = true;
            s.ready.notify_one();
        }
    }
}

/// One subscriber; dropping it unsubscribes.
pub struct Subscriber<T: Clone> {
    fanout: Arc<Fanout<T>>,
    slot: Arc<Slot<T>>,
}

impl<T: Clone> std::fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("taken", &self.taken())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl<T: Clone> Subscriber<T> {
    /// Waits up to `timeout` for an item newer than the last one taken.
    pub fn next(&self, timeout: Duration) -> Next<T> {
        let mut st = self.slot.state.locked();
        if st.latest.is_none() && !st.closed {
            st = self.slot.ready.wait_timeout_locked(st, timeout).0;
        }
        match st.latest.take() {
            Some(item) => {
                self.slot.taken.fetch_add(1, Ordering::Relaxed);
                Next::Item(item)
            }
            None if st.closed => Next::Closed,
            None => Next::Timeout,
        }
    }

    /// Items taken.
    pub fn taken(&self) -> u64 {
        self.slot.taken.load(Ordering::Relaxed)
    }

    /// Items replaced before this subscriber took them.
    pub fn dropped(&self) -> u64 {
        self.slot.dropped.load(Ordering::Relaxed)
    }
}

impl<T: Clone> Drop for Subscriber<T> {
    fn drop(&mut self) {
        self.fanout
            .subs
            .locked()
            .retain(|s| !Arc::ptr_eq(s, &self.slot));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_subscriber_loses_only_its_own_items() {
        let f = Fanout::<Arc<u32>>::new();
        let fast = f.subscribe();
        let slow = f.subscribe();
        for i in 0..5 {
            f.publish(&Arc::new(i));
            assert_eq!(fast.next(Duration::ZERO), Next::Item(Arc::new(i)));
        }
        assert_eq!(slow.next(Duration::ZERO), Next::Item(Arc::new(4)));
        assert_eq!(slow.dropped(), 4);
        assert_eq!(fast.dropped(), 0);
        assert_eq!(fast.next(Duration::from_millis(1)), Next::Timeout);
        drop(slow);
        assert_eq!(f.subscribers(), 1);
        f.close();
        assert_eq!(fast.next(Duration::from_secs(1)), Next::Closed);
    }

    #[test]
    fn next_wakes_on_publish_from_another_thread() {
        let f = Fanout::<u8>::new();
        let s = f.subscribe();
        let p = f.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            p.publish(&7);
        });
        assert_eq!(s.next(Duration::from_secs(5)), Next::Item(7));
        t.join().unwrap();
    }
}
