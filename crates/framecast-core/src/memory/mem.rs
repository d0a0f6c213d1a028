//! [`Memory`]: a refcounted region of bytes with a visible window.

use std::fmt;
use std::os::fd::BorrowedFd;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;

use super::{
    default_allocator, AllocationParams, Allocator, AllocatorFlags, Block, MapRead, MapWrite,
    MemoryFlags, SystemAllocator,
};
use crate::trace::{self, ObjectId, ObjectInfo, ObjectKind};
use crate::{Error, Result};

/// A region of bytes: `maxsize` bytes in all, of which `size` bytes starting
/// at `offset` are the visible data (`GstMemory`).
///
/// `Memory` is a handle: `Clone` takes a new reference to the same memory
/// (cheap, no copy). It is written only through [`map_writable`](Self::map_writable),
/// which needs `&mut self` and succeeds only while the handle is unique —
/// no clone and no share of it alive — and the memory is not READONLY.
///
/// # Examples
///
/// ```
/// use framecast_core::{AllocationParams, Memory};
/// let mut mem = Memory::alloc(4, &AllocationParams::default()).unwrap();
/// mem.map_writable().unwrap().copy_from_slice(b"abcd");
///
/// let tail = mem.share(2, None).unwrap(); // zero-copy, read-only
/// assert_eq!(&*tail.map_readable().unwrap(), b"cd");
/// assert!(mem.map_writable().is_err()); // shared now
/// drop(tail);
/// assert!(mem.map_writable().is_ok());
/// ```
pub struct Memory(Arc<MemoryObj>);

struct MemoryObj {
    id: ObjectId,
    allocator: Arc<dyn Allocator>,
    flags: MemoryFlags,
    align: usize,
    offset: usize,
    size: usize,
    maxsize: usize,
    /// Start of the `maxsize` region; for shares, the root's.
    base: NonNull<u8>,
    /// The root memory, for shares (GStreamer's `parent`).
    parent: Option<Memory>,
    /// The bytes, for roots.
    block: Option<Block>,
}

// SAFETY: the raw `base` pointer points into a `Block` (Send + Sync) kept
// alive by this object or its root. Bytes are read through `&Memory` and
// written only through `&mut Memory` with a unique Arc (see map_writable).
unsafe impl Send for MemoryObj {}
// SAFETY: as above.
unsafe impl Sync for MemoryObj {}

impl Drop for MemoryObj {
    fn drop(&mut self) {
        trace::object_destroyed(self.id, ObjectKind::Memory);
    }
}

impl Memory {
    /// Allocates `size` bytes from the default allocator.
    #[track_caller]
    #[doc(alias = "gst_allocator_alloc")]
    pub fn alloc(size: usize, params: &AllocationParams) -> Result<Memory> {
        Self::alloc_from(&default_allocator(), size, params)
    }

    /// Allocates `size` bytes from `allocator`, laid out as `params` asks:
    /// `maxsize = prefix + size + padding`, `offset = prefix`, the data
    /// aligned to `params.align + 1` (at least 8).
    #[track_caller]
    pub fn alloc_from(
        allocator: &Arc<dyn Allocator>,
        size: usize,
        params: &AllocationParams,
    ) -> Result<Memory> {
        let align = params.effective_align()?;
        let block = allocator.alloc_block(size, params, align)?;
        let expected = params.maxsize_for(size)?;
        if block.maxsize() != expected {
            return Err(Error::AllocationFailed {
                size,
                allocator: allocator.mem_type().into(),
                reason: format!(
                    "allocator returned {} bytes, expected {expected}",
                    block.maxsize()
                ),
            });
        }
        let mut flags = params.flags;
        if !block.is_writable() {
            flags |= MemoryFlags::READONLY;
        }
        Ok(Self::root(
            allocator.clone(),
            block,
            flags,
            align,
            params.prefix,
            size,
            Location::caller(),
        ))
    }

    /// Wraps a [`Block`] (e.g. a foreign owner) whole: offset 0, size =
    /// maxsize; READONLY when the block is not writable.
    #[track_caller]
    #[doc(alias = "gst_memory_new_wrapped")]
    pub fn from_block(block: Block) -> Memory {
        let flags = if block.is_writable() {
            MemoryFlags::empty()
        } else {
            MemoryFlags::READONLY
        };
        let size = block.maxsize();
        Self::root(
            Arc::new(SystemAllocator),
            block,
            flags,
            0,
            0,
            size,
            Location::caller(),
        )
    }

    /// Wraps a foreign owner's bytes without copying, read-only. The owner is
    /// dropped exactly once, when the last reference to this memory or any
    /// share of it goes. numpy arrays and OpenCV `Mat`s enter this way.
    ///
    /// ```
    /// use framecast_core::Memory;
    /// let mem = Memory::from_owner(vec![7u8; 16]);
    /// assert_eq!(mem.size(), 16);
    /// ```
    #[track_caller]
    pub fn from_owner<T: AsRef<[u8]> + Send + 'static>(owner: T) -> Memory {
        Self::from_block(Block::from_owner(owner))
    }

    /// Wraps a foreign owner's bytes without copying, writable.
    #[track_caller]
    pub fn from_owner_mut<T: AsMut<[u8]> + Send + 'static>(owner: T) -> Memory {
        Self::from_block(Block::from_owner_mut(owner))
    }

    /// A new writable system memory holding a copy of `bytes`.
    #[track_caller]
    pub fn from_slice(bytes: &[u8]) -> Result<Memory> {
        let mut mem = Self::alloc(bytes.len(), &AllocationParams::default())?;
        if let Some(obj) = Arc::get_mut(&mut mem.0) {
            obj.fill_from(bytes);
        }
        Ok(mem)
    }

    fn root(
        allocator: Arc<dyn Allocator>,
        block: Block,
        flags: MemoryFlags,
        align: usize,
        offset: usize,
        size: usize,
        site: &'static Location<'static>,
    ) -> Memory {
        let id = ObjectId::next();
        let maxsize = block.maxsize();
        trace::object_created(|| ObjectInfo {
            id,
            kind: ObjectKind::Memory,
            site,
            size: maxsize,
            parent: None,
            description: allocator.mem_type(),
            may_be_leaked: false,
        });
        Memory(Arc::new(MemoryObj {
            id,
            base: block.base(),
            allocator,
            flags,
            align,
            offset,
            size,
            maxsize,
            parent: None,
            block: Some(block),
        }))
    }

    /// This memory's process-unique id (for tracers).
    pub fn id(&self) -> ObjectId {
        self.0.id
    }
    /// Total bytes, prefix and padding included. Never changes.
    pub fn maxsize(&self) -> usize {
        self.0.maxsize
    }
    /// Start of the visible data inside the `maxsize` bytes.
    pub fn offset(&self) -> usize {
        self.0.offset
    }
    /// Visible bytes.
    pub fn size(&self) -> usize {
        self.0.size
    }
    /// `(size, offset, maxsize)`, as `gst_memory_get_sizes`.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.0.size, self.0.offset, self.0.maxsize)
    }
    /// Flags.
    pub fn flags(&self) -> MemoryFlags {
        self.0.flags
    }
    /// Alignment mask the data was allocated with.
    pub fn align(&self) -> usize {
        self.0.align
    }
    /// The allocator that made it.
    pub fn allocator(&self) -> &Arc<dyn Allocator> {
        &self.0.allocator
    }
    /// Whether the allocator's `mem_type` is `mem_type`.
    pub fn is_type(&self, mem_type: &str) -> bool {
        self.0.allocator.mem_type() == mem_type
    }
    /// The root memory this is a share of; `None` for a root.
    pub fn parent(&self) -> Option<&Memory> {
        self.0.parent.as_ref()
    }
    /// Whether both handles refer to the same memory.
    pub fn ptr_eq(a: &Memory, b: &Memory) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
    /// Number of live handles to this memory (shares of it count, as they
    /// hold their root).
    pub fn ref_count(&self) -> usize {
        Arc::strong_count(&self.0)
    }

    /// Whether [`map_writable`](Self::map_writable) would succeed now: not
    /// READONLY and this handle is the only one.
    pub fn is_writable(&self) -> bool {
        !self.0.flags.contains(MemoryFlags::READONLY) && Arc::strong_count(&self.0) == 1
    }

    /// Maps the visible bytes for reading.
    #[doc(alias = "gst_memory_map")]
    #[inline]
    pub fn map_readable(&self) -> Result<MapRead<'_>> {
        if self.0.flags.contains(MemoryFlags::NOT_MAPPABLE) {
            return Err(Error::NotMappable);
        }
        Ok(MapRead {
            bytes: self.0.bytes(),
            maxsize: self.0.maxsize - self.0.offset,
        })
    }

    /// Maps the visible bytes for writing. Fails with [`Error::ReadOnly`] for
    /// READONLY memory and [`Error::NotWritable`] while another handle or a
    /// share of this memory is alive.
    #[doc(alias = "gst_memory_map")]
    pub fn map_writable(&mut self) -> Result<MapWrite<'_>> {
        let flags = self.0.flags;
        if flags.contains(MemoryFlags::NOT_MAPPABLE) {
            return Err(Error::NotMappable);
        }
        if flags.contains(MemoryFlags::READONLY) {
            return Err(Error::ReadOnly);
        }
        let obj = Arc::get_mut(&mut self.0).ok_or(Error::NotWritable("memory"))?;
        let maxsize = obj.maxsize - obj.offset;
        Ok(MapWrite {
            bytes: obj.bytes_mut(),
            maxsize,
        })
    }

    /// Moves the visible window: `offset += offset_delta`, `size = size`.
    /// The window must stay inside `0..maxsize`; otherwise an
    /// [`Error::OutOfBounds`] and nothing changes. Needs a unique handle.
    ///
    /// Growing the offset clears ZERO_PREFIXED; growing the padding clears
    /// ZERO_PADDED (the bytes there may no longer be zero).
    #[doc(alias = "gst_memory_resize")]
    pub fn resize(&mut self, offset_delta: isize, size: usize) -> Result<()> {
        let (offset, maxsize, old_size) = (self.0.offset, self.0.maxsize, self.0.size);
        let new_offset = offset as i128 + offset_delta as i128;
        if new_offset < 0 || new_offset + size as i128 > maxsize as i128 {
            return Err(Error::out_of_bounds(
                "memory resize",
                new_offset,
                size,
                maxsize,
            ));
        }
        let obj = Arc::get_mut(&mut self.0).ok_or(Error::NotWritable("memory"))?;
        if offset_delta > 0 {
            obj.flags.remove(MemoryFlags::ZERO_PREFIXED);
        }
        if (offset_delta as i128 + size as i128) < old_size as i128 {
            obj.flags.remove(MemoryFlags::ZERO_PADDED);
        }
        obj.offset = new_offset as usize;
        obj.size = size;
        Ok(())
    }

    /// A new, writable memory holding a copy of `size` bytes (all to the end
    /// when `None`) starting `offset` bytes into the visible data. READONLY
    /// is not inherited. The copy comes from the same allocator unless it is
    /// CUSTOM_ALLOC or NO_COPY, then from the default allocator.
    #[track_caller]
    #[doc(alias = "gst_memory_copy")]
    pub fn copy(&self, offset: usize, size: Option<usize>) -> Result<Memory> {
        let size = size.unwrap_or(self.0.size.saturating_sub(offset));
        let available = self.0.maxsize - self.0.offset;
        if offset.checked_add(size).is_none_or(|end| end > available) {
            return Err(Error::out_of_bounds(
                "memory copy",
                offset as i128,
                size,
                available,
            ));
        }
        let allocator = if self
            .0
            .allocator
            .flags()
            .intersects(AllocatorFlags::CUSTOM_ALLOC | AllocatorFlags::NO_COPY)
        {
            default_allocator()
        } else {
            self.0.allocator.clone()
        };
        let mut copy =
            Self::alloc_from(&allocator, size, &AllocationParams::aligned(self.0.align))?;
        let src = self.0.window(self.0.offset + offset, size);
        if let Some(obj) = Arc::get_mut(&mut copy.0) {
            obj.fill_from(src);
        }
        Ok(copy)
    }

    /// A zero-copy sub-memory of `size` bytes (all to the end when `None`)
    /// starting `offset` bytes into the visible data. The share is READONLY;
    /// its parent is the root memory (shares of shares point at the root);
    /// while it lives, the root is not writable.
    #[track_caller]
    #[doc(alias = "gst_memory_share")]
    pub fn share(&self, offset: usize, size: Option<usize>) -> Result<Memory> {
        if self.0.flags.contains(MemoryFlags::NO_SHARE) {
            return Err(Error::NoShare);
        }
        let size = size.unwrap_or(self.0.size.saturating_sub(offset));
        let new_offset = self.0.offset.checked_add(offset);
        if new_offset
            .and_then(|o| o.checked_add(size))
            .is_none_or(|end| end > self.0.maxsize)
        {
            return Err(Error::out_of_bounds(
                "memory share",
                offset as i128,
                size,
                self.0.maxsize - self.0.offset,
            ));
        }
        let root = self.0.parent.clone().unwrap_or_else(|| self.clone());
        let id = ObjectId::next();
        let site = Location::caller();
        trace::object_created(|| ObjectInfo {
            id,
            kind: ObjectKind::Memory,
            site,
            size: 0,
            parent: Some(root.id()),
            description: "share",
            may_be_leaked: false,
        });
        Ok(Memory(Arc::new(MemoryObj {
            id,
            allocator: self.0.allocator.clone(),
            flags: self.0.flags | MemoryFlags::READONLY,
            align: self.0.align,
            offset: new_offset.unwrap_or(0),
            size,
            maxsize: self.0.maxsize,
            base: self.0.base,
            parent: Some(root),
            block: None,
        })))
    }

    /// If `self` and `other` are shares of one root, from one allocator, and
    /// `other` starts exactly where `self` ends, the offset of `self` inside
    /// the root's visible data; otherwise `None`. A root is never a span
    /// partner.
    #[doc(alias = "gst_memory_is_span")]
    pub fn is_span(&self, other: &Memory) -> Option<usize> {
        let (p1, p2) = (self.0.parent.as_ref()?, other.0.parent.as_ref()?);
        if !Memory::ptr_eq(p1, p2)
            || !std::ptr::addr_eq(
                Arc::as_ptr(&self.0.allocator),
                Arc::as_ptr(&other.0.allocator),
            )
        {
            return None;
        }
        if self.0.offset + self.0.size != other.0.offset {
            return None;
        }
        self.0.offset.checked_sub(p1.0.offset)
    }

    /// For memory backed by a file descriptor (memfd): the descriptor and
    /// the file offset of this memory's first visible byte, so another
    /// process can map the same frame.
    pub fn fd(&self) -> Option<(BorrowedFd<'_>, usize)> {
        let root = self.0.parent.as_ref().map_or(&*self.0, |p| &*p.0);
        let (fd, block_offset) = root.block.as_ref()?.fd()?;
        Some((fd, block_offset + self.0.offset))
    }

    /// A new handle to the same memory (`gst_memory_ref`), reported to
    /// reference-tracking tracers with the caller's site.
    #[track_caller]
    fn new_ref(&self) -> Memory {
        trace::object_reffed(self.0.id, ObjectKind::Memory, Location::caller());
        Memory(self.0.clone())
    }
}

impl MemoryObj {
    /// The block holding the bytes: this root's, or a share's root's.
    fn block(&self) -> Option<&Block> {
        match &self.block {
            Some(block) => Some(block),
            None => self.parent.as_ref().and_then(|root| root.0.block.as_ref()),
        }
    }

    /// Zeroes a fresh system block before its bytes are first reached.
    #[inline]
    fn ensure_initialised(&self) {
        if let Some(block) = self.block() {
            block.ensure_initialised();
        }
    }

    /// Writes `src` (exactly `size` bytes) as the visible bytes: into a
    /// fresh block in one pass, with the prefix and padding zeroed, instead
    /// of zeroing everything first.
    fn fill_from(&mut self, src: &[u8]) {
        let copied = self
            .block
            .as_ref()
            .is_some_and(|block| block.init_with_copy(self.offset, src));
        if !copied {
            self.bytes_mut().copy_from_slice(src);
        }
    }

    #[inline]
    fn window(&self, start: usize, len: usize) -> &[u8] {
        debug_assert!(start + len <= self.maxsize);
        self.ensure_initialised();
        // SAFETY: base points at `maxsize` bytes, initialised by the call
        // just above (blocks are zeroed at first use, or foreign-
        // initialised), kept alive by self or its root; start + len <=
        // maxsize is checked by every caller. Writes
        // happen only through `bytes_mut` on a unique Arc, which cannot
        // coexist with this shared borrow.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(start), len) }
    }

    fn bytes(&self) -> &[u8] {
        self.window(self.offset, self.size)
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        debug_assert!(self.offset + self.size <= self.maxsize);
        self.ensure_initialised();
        // SAFETY: `&mut self` on a MemoryObj is only reachable through
        // Arc::get_mut (unique handle). A unique handle to a root means no
        // share of it is alive (shares hold the root), and shares themselves
        // are READONLY and never reach here; so no other reference to these
        // bytes exists in this process. The window is inside maxsize.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(self.offset), self.size) }
    }
}

impl Clone for Memory {
    #[track_caller]
    fn clone(&self) -> Self {
        self.new_ref()
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        if Arc::strong_count(&self.0) > 1 {
            trace::object_unreffed(self.0.id, ObjectKind::Memory);
        }
    }
}

impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memory")
            .field("id", &self.0.id)
            .field("type", &self.0.allocator.mem_type())
            .field("offset", &self.0.offset)
            .field("size", &self.0.size)
            .field("maxsize", &self.0.maxsize)
            .field("flags", &self.0.flags)
            .field("share", &self.0.parent.is_some())
            .finish()
    }
}
