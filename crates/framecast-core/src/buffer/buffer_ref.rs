//! [`BufferRef`]: what a [`Buffer`] holds — memories, timestamps, flags, metas.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::io::IoSlice;
use std::panic::Location;
use std::sync::Arc;

use smallvec::SmallVec;

use super::handle::BufferBox;
use super::meta::{Meta, MetaFlags, MetaList, MetaRef};
use super::pool::PoolShared;
use super::BufferFlags;
use crate::memory::{AllocationParams, MapRead, MapWrite, Memory};
use crate::trace::{self, ObjectId, ObjectInfo, ObjectKind};
use crate::{Buffer, ClockTime, Error, Result};

/// How a pooled buffer finds its way home, and the layout to restore there.
pub(crate) struct PoolLink {
    pub(crate) home: Arc<PoolShared>,
    pub(crate) pool_id: ObjectId,
    /// (memory id, offset, size) of each memory as allocated.
    pub(crate) layout: SmallVec<[(ObjectId, usize, usize); 1]>,
}

/// The contents of a [`Buffer`]: a list of memories (no hard cap; four
/// inline), PTS/DTS/duration, offset/offset_end, flags and metas.
///
/// `&BufferRef` (from any handle) reads; `&mut BufferRef` (from
/// [`Buffer::get_mut`] or [`Buffer::make_mut`]) writes. Reading never changes
/// the buffer: [`map_readable`](Self::map_readable) gives one slice per
/// memory; merging into one memory is the explicit
/// [`make_contiguous`](Self::make_contiguous).
pub struct BufferRef {
    id: ObjectId,
    memories: SmallVec<[Memory; 4]>,
    pts: Option<ClockTime>,
    dts: Option<ClockTime>,
    duration: Option<ClockTime>,
    offset: Option<u64>,
    offset_end: Option<u64>,
    flags: BufferFlags,
    metas: MetaList,
    pub(crate) pool: Option<PoolLink>,
}

impl Drop for BufferRef {
    fn drop(&mut self) {
        trace::object_destroyed(self.id, ObjectKind::Buffer);
    }
}

impl BufferRef {
    pub(crate) fn new(site: &'static Location<'static>, pool: Option<ObjectId>) -> BufferRef {
        let id = ObjectId::next();
        trace::object_created(|| ObjectInfo {
            id,
            kind: ObjectKind::Buffer,
            site,
            size: 0,
            parent: pool,
            description: "",
            may_be_leaked: false,
        });
        BufferRef {
            id,
            memories: SmallVec::new(),
            pts: None,
            dts: None,
            duration: None,
            offset: None,
            offset_end: None,
            flags: BufferFlags::empty(),
            metas: MetaList::default(),
            pool: None,
        }
    }

    /// Resets a returning pooled buffer; `Err(reason)` if it cannot be reused.
    pub(crate) fn reset_for_pool(&mut self) -> std::result::Result<(), super::DiscardReason> {
        use super::DiscardReason;
        self.flags = BufferFlags::empty();
        self.pts = None;
        self.dts = None;
        self.duration = None;
        self.offset = None;
        self.offset_end = None;
        self.metas.reset_for_pool();
        let Some(link) = &self.pool else {
            return Err(DiscardReason::MemoryChanged);
        };
        if link.layout.len() != self.memories.len() {
            return Err(DiscardReason::MemoryChanged);
        }
        for (mem, &(id, offset, size)) in self.memories.iter_mut().zip(link.layout.iter()) {
            if mem.id() != id {
                return Err(DiscardReason::MemoryChanged);
            }
            if !mem.is_writable() {
                return Err(DiscardReason::MemoryShared);
            }
            if mem.offset() != offset || mem.size() != size {
                let delta = offset as isize - mem.offset() as isize;
                mem.resize(delta, size)
                    .map_err(|_| DiscardReason::MemoryShared)?;
            }
        }
        Ok(())
    }

    /// This buffer's process-unique id (for tracers).
    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// Id of the pool this buffer belongs to, if any.
    pub fn pool_id(&self) -> Option<ObjectId> {
        self.pool.as_ref().map(|link| link.pool_id)
    }

    // ---- timestamps and flags ------------------------------------------

    /// Presentation timestamp.
    pub fn pts(&self) -> Option<ClockTime> {
        self.pts
    }
    /// Sets the presentation timestamp.
    pub fn set_pts(&mut self, pts: Option<ClockTime>) {
        self.pts = pts;
    }
    /// Decoding timestamp.
    pub fn dts(&self) -> Option<ClockTime> {
        self.dts
    }
    /// Sets the decoding timestamp.
    pub fn set_dts(&mut self, dts: Option<ClockTime>) {
        self.dts = dts;
    }
    /// DTS if set, else PTS (`GST_BUFFER_DTS_OR_PTS`).
    pub fn dts_or_pts(&self) -> Option<ClockTime> {
        self.dts.or(self.pts)
    }
    /// Duration.
    pub fn duration(&self) -> Option<ClockTime> {
        self.duration
    }
    /// Sets the duration.
    pub fn set_duration(&mut self, duration: Option<ClockTime>) {
        self.duration = duration;
    }
    /// Media-specific offset (frame number for video).
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
    /// Sets the offset.
    pub fn set_offset(&mut self, offset: Option<u64>) {
        self.offset = offset;
    }
    /// Media-specific end offset.
    pub fn offset_end(&self) -> Option<u64> {
        self.offset_end
    }
    /// Sets the end offset.
    pub fn set_offset_end(&mut self, offset_end: Option<u64>) {
        self.offset_end = offset_end;
    }
    /// Flags.
    pub fn flags(&self) -> BufferFlags {
        self.flags
    }
    /// Sets the given flags (others unchanged).
    pub fn set_flags(&mut self, flags: BufferFlags) {
        self.flags.insert(flags);
    }
    /// Clears the given flags (others unchanged).
    pub fn unset_flags(&mut self, flags: BufferFlags) {
        self.flags.remove(flags);
    }

    // ---- memories -----------------------------------------------------

    /// Number of memories.
    pub fn n_memory(&self) -> usize {
        self.memories.len()
    }
    /// All memories, in order.
    pub fn memories(&self) -> &[Memory] {
        &self.memories
    }
    /// Memory `index`, borrowed (`gst_buffer_peek_memory`). Clone it for a
    /// reference of your own (`gst_buffer_get_memory`).
    #[doc(alias = "gst_buffer_peek_memory")]
    pub fn memory(&self, index: usize) -> Option<&Memory> {
        self.memories.get(index)
    }
    /// Memory `index`, mutably (to resize or write-map it).
    pub fn memory_mut(&mut self, index: usize) -> Option<&mut Memory> {
        self.memories.get_mut(index)
    }

    fn touched(&mut self) {
        self.flags.insert(BufferFlags::TAG_MEMORY);
    }

    /// Appends a memory.
    pub fn append_memory(&mut self, memory: Memory) {
        trace::object_linked(memory.id(), self.id);
        self.memories.push(memory);
        self.touched();
    }

    /// Prepends a memory.
    pub fn prepend_memory(&mut self, memory: Memory) {
        trace::object_linked(memory.id(), self.id);
        self.memories.insert(0, memory);
        self.touched();
    }

    /// Inserts a memory at `index` (0..=n_memory). Any index and any count
    /// work: there is no 16-memory cap and no merge. On a bad index the
    /// memory comes back with the error.
    #[doc(alias = "gst_buffer_insert_memory")]
    pub fn insert_memory(
        &mut self,
        index: usize,
        memory: Memory,
    ) -> std::result::Result<(), (Error, Memory)> {
        if index > self.memories.len() {
            let err = Error::out_of_bounds("insert_memory", index as i128, 1, self.memories.len());
            return Err((err, memory));
        }
        trace::object_linked(memory.id(), self.id);
        self.memories.insert(index, memory);
        self.touched();
        Ok(())
    }

    fn range(
        &self,
        what: &'static str,
        index: usize,
        len: Option<usize>,
    ) -> Result<std::ops::Range<usize>> {
        let n = self.memories.len();
        let len = len.unwrap_or(n.saturating_sub(index));
        match index.checked_add(len) {
            Some(end) if end <= n && (index < n || len == 0) => Ok(index..end),
            _ => Err(Error::out_of_bounds(what, index as i128, len, n)),
        }
    }

    /// Removes and returns memory `index`.
    pub fn remove_memory(&mut self, index: usize) -> Result<Memory> {
        self.range("remove_memory", index, Some(1))?;
        let mem = self.memories.remove(index);
        trace::object_unlinked(mem.id(), self.id);
        self.touched();
        Ok(mem)
    }

    /// Removes `len` memories from `index` (all to the end when `None`).
    pub fn remove_memory_range(&mut self, index: usize, len: Option<usize>) -> Result<()> {
        let range = self.range("remove_memory_range", index, len)?;
        for mem in self.memories.drain(range) {
            trace::object_unlinked(mem.id(), self.id);
        }
        self.touched();
        Ok(())
    }

    /// Removes every memory.
    pub fn remove_all_memory(&mut self) {
        for mem in self.memories.drain(..) {
            trace::object_unlinked(mem.id(), self.id);
        }
        self.touched();
    }

    /// Replaces memory `index` and returns the old one; on a bad index the
    /// new memory comes back with the error.
    pub fn replace_memory(
        &mut self,
        index: usize,
        memory: Memory,
    ) -> std::result::Result<Memory, (Error, Memory)> {
        match self.memories.get_mut(index) {
            Some(slot) => {
                trace::object_linked(memory.id(), self.id);
                let old = std::mem::replace(slot, memory);
                trace::object_unlinked(old.id(), self.id);
                self.touched();
                Ok(old)
            }
            None => {
                let err =
                    Error::out_of_bounds("replace_memory", index as i128, 1, self.memories.len());
                Err((err, memory))
            }
        }
    }

    /// Replaces `len` memories from `index` (all to the end when `None`)
    /// with `memory`; on a bad range `memory` comes back with the error.
    /// The range must not be empty (as in GStreamer): replacing nothing
    /// would silently be an insert.
    pub fn replace_memory_range(
        &mut self,
        index: usize,
        len: Option<usize>,
        memory: Memory,
    ) -> std::result::Result<(), (Error, Memory)> {
        let range = match self.range("replace_memory_range", index, len) {
            Ok(r) if !r.is_empty() => r,
            Ok(r) => {
                let n = self.memories.len();
                let err = Error::out_of_bounds("replace_memory_range", index as i128, r.len(), n);
                return Err((err, memory));
            }
            Err(e) => return Err((e, memory)),
        };
        let start = range.start;
        for old in self.memories.drain(range) {
            trace::object_unlinked(old.id(), self.id);
        }
        trace::object_linked(memory.id(), self.id);
        self.memories.insert(start, memory);
        self.touched();
        Ok(())
    }

    /// Replaces all memories with `memory`.
    pub fn replace_all_memory(&mut self, memory: Memory) {
        self.remove_all_memory();
        self.append_memory(memory);
    }

    /// Total visible bytes over all memories.
    pub fn size(&self) -> usize {
        self.memories.iter().map(Memory::size).sum()
    }

    /// `(size, offset, maxsize)` as `gst_buffer_get_sizes`: `offset` is the
    /// first non-empty memory's offset plus the maxsizes of leading empty
    /// memories; `maxsize` adds the padding after the last non-empty memory
    /// and trailing empty memories (inner padding is not counted).
    pub fn sizes(&self) -> (usize, usize, usize) {
        let (mut size, mut offs, mut extra) = (0usize, 0usize, 0usize);
        for mem in &self.memories {
            let (s, o, ms) = mem.sizes();
            if s > 0 {
                if size == 0 {
                    offs = extra + o;
                }
                size += s;
                extra = ms - (o + s);
            } else {
                extra += ms;
            }
        }
        (size, offs, offs + size + extra)
    }

    /// Locates `size` bytes (to the end when `None`) from byte `offset`:
    /// `(index of the first memory, number of memories, bytes to skip in the
    /// first)`. Empty memories are skipped. `None` if the range is not
    /// entirely inside the buffer.
    #[doc(alias = "gst_buffer_find_memory")]
    pub fn find_memory(&self, offset: usize, size: Option<usize>) -> Option<(usize, usize, usize)> {
        let mut offset = offset;
        let mut iter = self.memories.iter().enumerate();
        let (first, skip) = loop {
            let (i, mem) = iter.next()?;
            if mem.size() <= offset {
                offset -= mem.size();
                continue;
            }
            break (i, offset);
        };
        let Some(mut want) = size else {
            return Some((first, self.memories.len() - first, skip));
        };
        let available = self.memories[first].size() - skip;
        if available >= want {
            return Some((first, 1, skip));
        }
        want -= available;
        for (i, mem) in iter {
            if mem.size() >= want {
                return Some((first, i - first + 1, skip));
            }
            want -= mem.size();
        }
        None
    }

    /// Moves the buffer's window: drops `offset_delta` bytes from the front
    /// (or reveals prefix bytes when negative) and sets the total size
    /// (unchanged end when `None`), as `gst_buffer_resize`. Memories that
    /// cannot be resized in place are replaced by shares (or copies).
    #[track_caller]
    #[doc(alias = "gst_buffer_resize")]
    pub fn resize(&mut self, offset_delta: isize, size: Option<usize>) -> Result<()> {
        let (bufsize, bufoffs, bufmax) = self.sizes();
        let size = match size {
            Some(s) => s,
            None => {
                let s = bufsize as i128 - offset_delta as i128;
                if s < 0 {
                    return Err(Error::out_of_bounds(
                        "buffer resize",
                        offset_delta as i128,
                        0,
                        bufsize,
                    ));
                }
                s as usize
            }
        };
        if size == bufsize && offset_delta == 0 {
            return Ok(());
        }
        let start = bufoffs as i128 + offset_delta as i128;
        if start < 0 || start + size as i128 > bufmax as i128 {
            return Err(Error::out_of_bounds("buffer resize", start, size, bufmax));
        }
        if self.memories.is_empty() {
            return Err(Error::out_of_bounds("buffer resize", start, size, 0));
        }
        let len = self.memories.len();
        let mut offset = offset_delta as i128;
        let mut remaining = size;
        for i in 0..len {
            let bsize = self.memories[i].size();
            let mut next_offset = 0i128;
            let left = if i + 1 == len {
                remaining
            } else if bsize as i128 <= offset {
                next_offset = offset - bsize as i128;
                offset = bsize as i128;
                0
            } else {
                ((bsize as i128 - offset) as usize).min(remaining)
            };
            if offset != 0 || left != bsize {
                let mem = &mut self.memories[i];
                if mem.resize(offset as isize, left).is_err() {
                    // Shared: replace with a share (or a copy) of the new window.
                    let window = if offset >= 0 {
                        mem.share(offset as usize, Some(left))
                            .or_else(|_| mem.copy(offset as usize, Some(left)))?
                    } else {
                        // Growing into the prefix of a shared memory: copy
                        // through a share with the wider window.
                        let mut tmp = mem.share(0, None)?;
                        tmp.resize(offset as isize, left)?;
                        tmp
                    };
                    trace::object_linked(window.id(), self.id);
                    let old = std::mem::replace(mem, window);
                    trace::object_unlinked(old.id(), self.id);
                    self.flags.insert(BufferFlags::TAG_MEMORY);
                }
            }
            offset = next_offset;
            remaining -= left;
        }
        Ok(())
    }

    /// Sets the size, keeping the start (`gst_buffer_set_size`).
    #[track_caller]
    pub fn set_size(&mut self, size: usize) -> Result<()> {
        self.resize(0, Some(size))
    }

    // ---- data access ----------------------------------------------------

    /// Maps every memory for reading: one slice per non-empty memory, with
    /// no merge and no change to the buffer.
    pub fn map_readable(&self) -> Result<BufferMap<'_>> {
        let mut maps = SmallVec::new();
        for mem in &self.memories {
            if mem.size() > 0 {
                maps.push(mem.map_readable()?);
            }
        }
        Ok(BufferMap { maps })
    }

    /// Copies bytes from `offset` into `dest`; returns the number copied
    /// (clipped to the buffer), as `gst_buffer_extract`.
    pub fn extract(&self, offset: usize, dest: &mut [u8]) -> Result<usize> {
        Ok(self.map_readable()?.copy_to(offset, dest))
    }

    /// Compares `data` with the bytes at `offset`; `None` if the range runs
    /// past the end (GStreamer returns -1 there).
    pub fn memcmp(&self, offset: usize, data: &[u8]) -> Result<Option<Ordering>> {
        if offset
            .checked_add(data.len())
            .is_none_or(|end| end > self.size())
        {
            return Ok(None);
        }
        let map = self.map_readable()?;
        let mut pos = 0usize;
        let mut skip = offset;
        for slice in map.slices() {
            if skip >= slice.len() {
                skip -= slice.len();
                continue;
            }
            let n = (slice.len() - skip).min(data.len() - pos);
            match slice[skip..skip + n].cmp(&data[pos..pos + n]) {
                Ordering::Equal => {}
                other => return Ok(Some(other)),
            }
            pos += n;
            skip = 0;
            if pos == data.len() {
                break;
            }
        }
        Ok(Some(Ordering::Equal))
    }

    /// Writes `src` at `offset`, copying shared memories first; returns the
    /// number of bytes written (clipped to the buffer), as `gst_buffer_fill`.
    #[track_caller]
    pub fn fill(&mut self, offset: usize, src: &[u8]) -> Result<usize> {
        let mut skip = offset;
        let mut pos = 0usize;
        for i in 0..self.memories.len() {
            if pos == src.len() {
                break;
            }
            let size = self.memories[i].size();
            if skip >= size {
                skip -= size;
                continue;
            }
            let mut map = self.memory_writable(i)?;
            let n = (size - skip).min(src.len() - pos);
            map[skip..skip + n].copy_from_slice(&src[pos..pos + n]);
            pos += n;
            skip = 0;
        }
        Ok(pos)
    }

    /// Write-maps memory `index`, first replacing it by a private copy if
    /// it is shared or read-only (copy-on-write).
    #[track_caller]
    pub fn memory_writable(&mut self, index: usize) -> Result<MapWrite<'_>> {
        let n = self.memories.len();
        let mem = self
            .memories
            .get_mut(index)
            .ok_or_else(|| Error::out_of_bounds("memory_writable", index as i128, 1, n))?;
        if !mem.is_writable() {
            let copy = mem.copy(0, None)?;
            trace::object_linked(copy.id(), self.id);
            let old = std::mem::replace(mem, copy);
            trace::object_unlinked(old.id(), self.id);
            self.flags.insert(BufferFlags::TAG_MEMORY);
        }
        self.memories[index].map_writable()
    }

    /// Merges all memories into one (a copy) unless there is at most one;
    /// the explicit, visible form of what GStreamer's map does implicitly.
    #[track_caller]
    pub fn make_contiguous(&mut self) -> Result<()> {
        if self.memories.len() <= 1 {
            return Ok(());
        }
        let size = self.size();
        let mut merged = Memory::alloc(size, &AllocationParams::default())?;
        {
            let map = self.map_readable()?;
            let mut dst = merged.map_writable()?;
            map.copy_to(0, &mut dst);
        }
        self.replace_all_memory(merged);
        Ok(())
    }

    /// Write-maps the buffer's bytes as one slice: merges memories
    /// ([`make_contiguous`](Self::make_contiguous)) and copies a shared one.
    /// An empty buffer maps as an empty slice.
    #[track_caller]
    pub fn map_writable(&mut self) -> Result<MapWrite<'_>> {
        self.make_contiguous()?;
        if self.memories.is_empty() {
            return Ok(MapWrite::empty());
        }
        self.memory_writable(0)
    }

    // ---- metas ----------------------------------------------------------

    /// Adds a meta (appended after existing ones) and returns it. No heap
    /// allocation for the first four metas of a buffer.
    pub fn add_meta<M: Meta>(&mut self, meta: M) -> &mut M {
        trace::object_annotated(self.id, M::API);
        self.metas.add(meta, MetaFlags::empty())
    }

    /// The first (oldest) meta of type `M`.
    pub fn meta<M: Meta>(&self) -> Option<&M> {
        self.metas.get::<M>()
    }

    /// The first meta of type `M`, mutably.
    pub fn meta_mut<M: Meta>(&mut self) -> Option<&mut M> {
        self.metas.get_mut::<M>()
    }

    /// Every meta of type `M`, oldest first.
    pub fn metas<M: Meta>(&self) -> impl Iterator<Item = &M> {
        self.metas.iter_of::<M>()
    }

    /// Every meta, of any type, in insertion order.
    pub fn iter_meta(&self) -> impl Iterator<Item = MetaRef<'_>> {
        self.metas.iter()
    }

    /// Number of metas.
    pub fn n_meta(&self) -> usize {
        self.metas.len()
    }

    /// Sets the flags of the first meta of type `M`; false if there is none.
    pub fn set_meta_flags<M: Meta>(&mut self, flags: MetaFlags) -> bool {
        self.metas.set_flags::<M>(flags)
    }

    /// Removes and returns the first meta of type `M` (`Ok(None)` if there
    /// is none); a LOCKED meta is an error and stays.
    pub fn remove_meta<M: Meta>(&mut self) -> Result<Option<M>> {
        self.metas.remove::<M>()
    }

    /// Keeps the metas for which `keep` returns true (GStreamer's
    /// `foreach_meta` with removal). LOCKED metas are never removed; asking
    /// to is reported as an error after the walk.
    pub fn retain_meta(&mut self, keep: impl FnMut(MetaRef<'_>) -> bool) -> Result<()> {
        self.metas.retain(keep)
    }

    pub(crate) fn metas_list(&self) -> &MetaList {
        &self.metas
    }

    pub(crate) fn metas_list_mut(&mut self) -> &mut MetaList {
        &mut self.metas
    }

    pub(crate) fn push_memory_untracked(&mut self, memory: Memory) {
        trace::object_linked(memory.id(), self.id);
        self.memories.push(memory);
    }
}

impl fmt::Debug for BufferRef {
    /// Sizes, timestamps, flags and meta names; never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("id", &self.id)
            .field("size", &self.size())
            .field("n_memory", &self.memories.len())
            .field("pts", &self.pts)
            .field("dts", &self.dts)
            .field("duration", &self.duration)
            .field("offset", &self.offset)
            .field("offset_end", &self.offset_end)
            .field("flags", &self.flags)
            .field("metas", &self.metas)
            .field("pool", &self.pool_id())
            .finish()
    }
}

/// A read mapping of a whole buffer: one slice per non-empty memory.
pub struct BufferMap<'a> {
    maps: SmallVec<[MapRead<'a>; 4]>,
}

impl<'a> BufferMap<'a> {
    /// The slices, in order.
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.maps.iter().map(|m| m.as_slice())
    }
    /// The slices as `IoSlice`s, for vectored writes (`sendmsg`, `write_vectored`).
    pub fn io_slices(&self) -> SmallVec<[IoSlice<'_>; 4]> {
        self.maps.iter().map(|m| IoSlice::new(m)).collect()
    }
    /// Total bytes.
    pub fn len(&self) -> usize {
        self.maps.iter().map(|m| m.len()).sum()
    }
    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The bytes as one slice: borrowed when there is one memory, a copy
    /// otherwise.
    pub fn contiguous(&self) -> Cow<'_, [u8]> {
        match self.maps.len() {
            0 => Cow::Borrowed(&[]),
            1 => Cow::Borrowed(self.maps[0].as_slice()),
            _ => Cow::Owned(self.slices().flat_map(|s| s.iter().copied()).collect()),
        }
    }
    /// Copies bytes from `offset` into `dest`; returns how many.
    pub fn copy_to(&self, offset: usize, dest: &mut [u8]) -> usize {
        let mut skip = offset;
        let mut pos = 0usize;
        for slice in self.slices() {
            if pos == dest.len() {
                break;
            }
            if skip >= slice.len() {
                skip -= slice.len();
                continue;
            }
            let n = (slice.len() - skip).min(dest.len() - pos);
            dest[pos..pos + n].copy_from_slice(&slice[skip..skip + n]);
            pos += n;
            skip = 0;
        }
        pos
    }
}

impl fmt::Debug for BufferMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferMap")
            .field("n_slices", &self.maps.len())
            .field("len", &self.len())
            .finish()
    }
}

// Constructors live on the handle.
impl Buffer {
    /// An empty buffer: no memory, no timestamps, no flags.
    #[track_caller]
    #[doc(alias = "gst_buffer_new")]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Buffer {
        Buffer::from_box(BufferBox::new(BufferRef::new(Location::caller(), None)))
    }

    /// A buffer with one zero-filled system memory of `size` bytes (none when
    /// `size` is 0, as `gst_buffer_new_allocate`).
    #[track_caller]
    #[doc(alias = "gst_buffer_new_allocate")]
    pub fn with_size(size: usize) -> Result<Buffer> {
        Self::with_params(size, &AllocationParams::default())
    }

    /// A buffer with one memory of `size` bytes laid out as `params` asks.
    #[track_caller]
    pub fn with_params(size: usize, params: &AllocationParams) -> Result<Buffer> {
        let mut buf = BufferRef::new(Location::caller(), None);
        if size > 0 {
            buf.push_memory_untracked(Memory::alloc(size, params)?);
        }
        Ok(Buffer::from_box(BufferBox::new(buf)))
    }

    /// A buffer holding `memory`.
    #[track_caller]
    pub fn from_memory(memory: Memory) -> Buffer {
        let mut buf = BufferRef::new(Location::caller(), None);
        buf.push_memory_untracked(memory);
        Buffer::from_box(BufferBox::new(buf))
    }

    /// A buffer holding a copy of `bytes` (`gst_buffer_new_memdup`).
    #[track_caller]
    pub fn from_slice(bytes: &[u8]) -> Result<Buffer> {
        let mut buf = BufferRef::new(Location::caller(), None);
        if !bytes.is_empty() {
            buf.push_memory_untracked(Memory::from_slice(bytes)?);
        }
        Ok(Buffer::from_box(BufferBox::new(buf)))
    }

    /// A read-only buffer over a foreign owner's bytes, without copying.
    #[track_caller]
    pub fn from_owner<T: AsRef<[u8]> + Send + 'static>(owner: T) -> Buffer {
        Self::from_memory(Memory::from_owner(owner))
    }

    /// A writable buffer over a foreign owner's bytes, without copying.
    #[track_caller]
    pub fn from_owner_mut<T: AsMut<[u8]> + Send + 'static>(owner: T) -> Buffer {
        Self::from_memory(Memory::from_owner_mut(owner))
    }
}
