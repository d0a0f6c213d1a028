//! The module's own heap allocations, counted: `framecast.leaks.heap_allocations()`.
//!
//! The Rust tests prove "no allocation per frame" with a counting global
//! allocator; the module installs the same one
//! ([`framecast::heap::Counting`]), so a Python program (and the Python
//! tests) can prove it for `write`/`push`/`pull` too, and a user can watch
//! the Rust side's allocation rate while hunting a leak. It counts this
//! module's Rust allocations on every thread (pipeline threads too), but
//! neither Python's own (pymalloc, numpy), OpenH264's C++ ones, nor another
//! Rust extension's (each has its own global allocator).

use pyo3::prelude::*;

#[global_allocator]
static GLOBAL: framecast::heap::Counting = framecast::heap::Counting;

/// Heap allocations made by framecast's Rust code in this process so far
/// (every thread; not Python's own, nor OpenH264's). Sample it around a
/// loop: a steady-state `write`/`push` loop adds none.
#[pyfunction]
pub(crate) fn heap_allocations() -> u64 {
    framecast::heap::allocations()
}
