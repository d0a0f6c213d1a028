//! A counting global allocator: the system allocator, plus one relaxed
//! increment per allocation. A binary installs it itself, so that linking
//! framecast never changes a program's allocator: the zero-allocation
//! tests (`framecast_test_support::install_counting_allocator!()`) and the
//! Python module, whose `framecast.leaks.heap_allocations()` reads it.
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: framecast_core::heap::Counting = framecast_core::heap::Counting;
//! ```
//!
//! Two counts: [`allocations`], process-wide (a test binary that holds a
//! single test, so nothing else allocates while it counts; a benchmark; a
//! Python program), and [`allocations_in`], on the calling thread only
//! while it runs a closure (so tests running in parallel do not disturb
//! it). Installed, it costs one relaxed add and a thread-local read per
//! allocation; nothing on a path that makes none.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static THREAD_COUNT: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

fn note() {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    // try_with: the allocator can run during thread teardown.
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = THREAD_COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Heap allocations so far, all threads (0 forever when [`Counting`] is
/// not the binary's global allocator).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::SeqCst)
}

/// Heap allocations `f` made on this thread.
pub fn allocations_in(f: impl FnOnce()) -> u64 {
    THREAD_COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    THREAD_COUNT.with(Cell::get)
}
