//! The [`Allocator`] trait, the system allocator and the allocator registry.

use crate::sync::RwLockExt;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use super::{AllocationParams, AllocatorFlags, Block, MemfdAllocator, MEMFD_MEMORY};
use crate::Result;

/// Name (`mem_type`) of the default system allocator, as in GStreamer.
pub const SYSTEM_MEMORY: &str = "SystemMemory";

/// Makes the bytes behind memories.
///
/// An allocator only provides a [`Block`]; [`Memory::alloc_from`](super::Memory::alloc_from)
/// turns it into a tracked [`Memory`](super::Memory) with the offset, size
/// and flags the [`AllocationParams`] ask for. A custom allocator (a DMA
/// heap, a GPU-visible arena) implements this trait and is registered with
/// [`register_allocator`].
pub trait Allocator: Send + Sync + fmt::Debug + 'static {
    /// The memory type name (`"SystemMemory"`), used by
    /// [`Memory::is_type`](super::Memory::is_type).
    fn mem_type(&self) -> &'static str;

    /// Allocator flags (`CUSTOM_ALLOC`, `NO_COPY`).
    fn flags(&self) -> AllocatorFlags {
        AllocatorFlags::empty()
    }

    /// Provides a block of at least `params.prefix + size + params.padding`
    /// bytes whose byte at `params.prefix` is aligned to `align_mask + 1`
    /// (`align_mask` is `params.align` with the default alignment ORed in).
    /// The block's `maxsize` must be exactly `prefix + size + padding`.
    fn alloc_block(
        &self,
        size: usize,
        params: &AllocationParams,
        align_mask: usize,
    ) -> Result<Block>;
}

/// The default allocator: memory from the global allocator that reads as
/// zeros.
///
/// No byte of a [`Memory`](super::Memory) is ever read uninitialised, so
/// reading a fresh memory is defined behaviour; but the zeroing happens at
/// the memory's first map, not at allocation ([`Block`]'s docs say why), so
/// a memory made and dropped unmapped costs a `malloc` and a `free`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemAllocator;

impl Allocator for SystemAllocator {
    fn mem_type(&self) -> &'static str {
        SYSTEM_MEMORY
    }

    fn alloc_block(
        &self,
        size: usize,
        params: &AllocationParams,
        align_mask: usize,
    ) -> Result<Block> {
        Block::system(params.prefix, size, params.padding, align_mask)
    }
}

struct Registry {
    by_name: HashMap<String, Arc<dyn Allocator>>,
    default: Arc<dyn Allocator>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| {
    let system: Arc<dyn Allocator> = Arc::new(SystemAllocator);
    let memfd: Arc<dyn Allocator> = Arc::new(MemfdAllocator);
    let mut by_name = HashMap::new();
    by_name.insert(SYSTEM_MEMORY.to_string(), system.clone());
    by_name.insert(MEMFD_MEMORY.to_string(), memfd);
    RwLock::new(Registry {
        by_name,
        default: system,
    })
});

fn read() -> std::sync::RwLockReadGuard<'static, Registry> {
    REGISTRY.read_locked()
}

fn write() -> std::sync::RwLockWriteGuard<'static, Registry> {
    REGISTRY.write_locked()
}

/// Registers `allocator` under `name`, replacing (and returning) any
/// allocator registered under that name before. Registered allocators live
/// for the whole process and are never reported as leaks.
///
/// `"SystemMemory"` and `"MemfdMemory"` are registered from the start.
pub fn register_allocator(name: &str, allocator: Arc<dyn Allocator>) -> Option<Arc<dyn Allocator>> {
    write().by_name.insert(name.to_string(), allocator)
}

/// The allocator registered under `name`; `None` gives the default.
pub fn find_allocator(name: Option<&str>) -> Option<Arc<dyn Allocator>> {
    let registry = read();
    match name {
        None => Some(registry.default.clone()),
        Some(name) => registry.by_name.get(name).cloned(),
    }
}

/// The default allocator (initially [`SystemAllocator`]).
pub fn default_allocator() -> Arc<dyn Allocator> {
    read().default.clone()
}

/// Makes `allocator` the default, returning the previous default.
pub fn set_default_allocator(allocator: Arc<dyn Allocator>) -> Arc<dyn Allocator> {
    std::mem::replace(&mut write().default, allocator)
}
