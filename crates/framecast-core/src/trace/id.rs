//! Process-unique object ids, handed out without contention.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A process-unique id for a tracked object (memory, buffer, pool, element…).
///
/// Ids are never reused within a process. They are unique but not globally
/// ordered: each thread takes a block of ids at a time so creating objects on
/// many threads never contends on one counter. Tracers that need an order
/// (checkpoints) keep their own sequence numbers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(NonZeroU64);

const BLOCK: u64 = 1 << 12;
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// (next id, end of this thread's block)
    static LOCAL: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

impl ObjectId {
    /// A fresh id.
    pub fn next() -> ObjectId {
        let raw = LOCAL
            .try_with(|local| {
                let (mut next, mut end) = local.get();
                if next == end {
                    next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                    end = next + BLOCK;
                }
                local.set((next + 1, end));
                next
            })
            // Thread-local storage is gone during thread teardown: take a
            // whole block for this one id rather than fail.
            .unwrap_or_else(|_| NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed));
        // Blocks start at 1 and only grow, so `raw` is never zero; u64 ids do
        // not run out in the life of a process.
        ObjectId(NonZeroU64::new(raw).unwrap_or(NonZeroU64::MIN))
    }

    /// The numeric value.
    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_across_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..10_000).map(|_| ObjectId::next()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for id in h.join().unwrap() {
                assert!(all.insert(id), "duplicate id {id}");
            }
        }
        assert_eq!(all.len(), 40_000);
    }
}
