//! Memory and allocators: params honoured exactly (alignment by address,
//! maxsize, zeroed regions), resize, map guards, READONLY, copy, share,
//! is_span, NO_SHARE, size 0, the allocator registry and the memfd allocator.
//!
//! Figures follow GStreamer's `gstmemory.c` checks (section 1.1 of the
//! reference), with framecast's stricter rules where it does better
//! (maxsize exactly `prefix + size + padding`, typed errors, no change on
//! error).

use framecast_core::sync::MutexExt;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, MutexGuard};

use framecast_core::{
    default_allocator, find_allocator, register_allocator, set_default_allocator, AllocationParams,
    Allocator, AllocatorFlags, Block, Error, ErrorKind, MemfdAllocator, Memory, MemoryFlags,
    SystemAllocator, MEMFD_MEMORY, SYSTEM_MEMORY,
};

/// Serialises the tests that change (or depend on) the process-wide default
/// allocator; the other tests only use explicit allocators or ones that
/// behave exactly like the system allocator.
static DEFAULT_ALLOCATOR: Mutex<()> = Mutex::new(());

fn default_lock() -> MutexGuard<'static, ()> {
    DEFAULT_ALLOCATOR.locked()
}

fn params(flags: MemoryFlags, align: usize, prefix: usize, padding: usize) -> AllocationParams {
    AllocationParams {
        flags,
        align,
        prefix,
        padding,
    }
}

fn system() -> Arc<dyn Allocator> {
    Arc::new(SystemAllocator)
}

fn memfd() -> Arc<dyn Allocator> {
    Arc::new(MemfdAllocator)
}

fn data_addr(mem: &Memory) -> usize {
    mem.map_readable().unwrap().as_ptr() as usize
}

/// Makes the whole `maxsize` region visible and returns its bytes.
fn whole_region(mem: &mut Memory) -> Vec<u8> {
    let (offset, maxsize) = (mem.offset(), mem.maxsize());
    mem.resize(-(offset as isize), maxsize).unwrap();
    mem.map_readable().unwrap().to_vec()
}

fn filled(len: usize) -> Memory {
    let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
    Memory::from_slice(&bytes).unwrap()
}

/// An allocator of system memory under another name and with other
/// flags: for the registry and for flags such as `NO_COPY`.
#[derive(Debug)]
struct TestAllocator(&'static str, AllocatorFlags);

impl Allocator for TestAllocator {
    fn mem_type(&self) -> &'static str {
        self.0
    }
    fn flags(&self) -> AllocatorFlags {
        self.1
    }
    fn alloc_block(
        &self,
        size: usize,
        params: &AllocationParams,
        align_mask: usize,
    ) -> framecast_core::Result<Block> {
        SystemAllocator.alloc_block(size, params, align_mask)
    }
}

mod alloc_params;
mod copy;
mod empty;
mod guards;
mod memfd;
mod misc;
mod registry;
mod resize;
mod shares;
mod span;
