//! Allocators and memories: the bottom of the memory model.
//!
//! A [`Memory`] is one region of bytes with a `maxsize` and a visible window
//! (`offset`, `size`) inside it, made by an [`Allocator`]. It is read through
//! [`Memory::map_readable`] and written through [`Memory::map_writable`]; the
//! guards borrow the memory, so a write map can never coexist with any other
//! map and nothing needs to be unmapped by hand.
//!
//! # Writability, in one rule
//!
//! A memory can be written iff it is not [`MemoryFlags::READONLY`] and its
//! handle is unique: no clone of it and no [`share`](Memory::share) of it is
//! alive. (GStreamer has two models — refcount for buffers, an exclusive-lock
//! counter for memory; framecast has this one.)
//!
//! Most of framecast-core's `unsafe` lives here: raw allocations, `mmap` and the
//! aliasing rules that make the safe API sound. The rest is the buffer handle
//! (`buffer/handle.rs`), the inline metas (`buffer/meta/storage.rs`) and one
//! measured spot in `buffer/pool.rs` (ARCHITECTURE.md, "Where `unsafe` lives").

mod allocator;
mod block;
mod flags;
mod map;
mod mem;
mod memfd;
mod params;

pub use allocator::{
    default_allocator, find_allocator, register_allocator, set_default_allocator, Allocator,
    SystemAllocator, SYSTEM_MEMORY,
};
pub use block::Block;
pub use flags::{AllocatorFlags, MemoryFlags};
pub use map::{MapRead, MapWrite};
pub use mem::Memory;
pub use memfd::{MemfdAllocator, MEMFD_MEMORY};
pub use params::AllocationParams;
