//! The module's own heap allocations, counted: `framecast.leaks.heap_allocations()`.
//!
//! The Rust tests prove "no allocation per frame" with a counting global
//! allocator; the module installs the same kind, so a Python program (and
//! the Python tests) can prove it for `write`/`push`/`pull` too, and a user
//! can watch the Rust side's allocation rate while hunting a leak. It
//! counts this module's Rust allocations on every thread (pipeline threads
//! too), but neither Python's own (pymalloc, numpy), OpenH264's C++ ones,
//! nor another Rust extension's (each has its own global allocator).
//!
//! The cost is one relaxed atomic add per allocation, beside an
//! allocation itself; a frame's path makes none.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting allocations (a `realloc` counts: it may
/// move the block).
struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Heap allocations made by framecast's Rust code in this process so far
/// (every thread; not Python's own, nor OpenH264's). Sample it around a
/// loop: a steady-state `write`/`push` loop adds none.
#[pyfunction]
pub(crate) fn heap_allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}
