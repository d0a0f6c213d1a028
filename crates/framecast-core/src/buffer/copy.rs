//! Buffer copies: `copy`, `copy_deep`, `copy_region` with GStreamer's
//! copy-flag semantics.

use std::panic::Location;

use super::handle::BufferBox;
use super::meta::{MetaTransform, ParentBufferMeta};
use super::{BufferCopyFlags, BufferFlags, BufferRef};
use crate::memory::{AllocationParams, Memory, MemoryFlags};
use crate::{Buffer, Error, Result};

impl Buffer {
    /// A shallow copy (`gst_buffer_copy`): flags, timestamps and metas
    /// copied, memories referenced, not duplicated. The copy is writable;
    /// its memories become writable again only once copied on write.
    #[track_caller]
    #[doc(alias = "gst_buffer_copy")]
    pub fn copy(&self) -> Buffer {
        match self.copy_region_at(BufferCopyFlags::ALL, 0, None, Location::caller()) {
            Ok(copy) => copy,
            // A whole, non-deep copy only references memories (or copies a
            // NO_SHARE one, falling back to a reference) and cannot fail.
            Err(_) => unreachable!("whole shallow copy failed"),
        }
    }

    /// A deep copy (`gst_buffer_copy_deep`): the bytes are copied too.
    #[track_caller]
    #[doc(alias = "gst_buffer_copy_deep")]
    pub fn copy_deep(&self) -> Result<Buffer> {
        self.copy_region_at(
            BufferCopyFlags::ALL | BufferCopyFlags::DEEP,
            0,
            None,
            Location::caller(),
        )
    }

    /// Copies `size` bytes (to the end when `None`) from `offset` into a new
    /// buffer, with what `flags` names (`gst_buffer_copy_region`):
    ///
    /// - FLAGS: all flags but TAG_MEMORY.
    /// - TIMESTAMPS: with `offset == 0`, PTS, DTS and offset; and when the
    ///   whole buffer is copied, duration and offset_end too. Otherwise unset.
    /// - MEMORY: whole memories referenced, partial ones shared (zero-copy),
    ///   copied with DEEP or for NO_SHARE memory; MERGE merges into one.
    ///   Sharing memory of a pooled buffer adds a [`ParentBufferMeta`] so
    ///   the pooled buffer stays out of its pool while the bytes are in use.
    /// - META: each meta's transform decides; layout metas (tag "memory")
    ///   are dropped for regions, merges and copies without memory; memory
    ///   references are dropped on DEEP copies.
    #[track_caller]
    #[doc(alias = "gst_buffer_copy_region")]
    pub fn copy_region(
        &self,
        flags: BufferCopyFlags,
        offset: usize,
        size: Option<usize>,
    ) -> Result<Buffer> {
        self.copy_region_at(flags, offset, size, Location::caller())
    }

    fn copy_region_at(
        &self,
        flags: BufferCopyFlags,
        offset: usize,
        size: Option<usize>,
        site: &'static Location<'static>,
    ) -> Result<Buffer> {
        let bufsize = self.size();
        let size = match size {
            Some(s) => s,
            None => bufsize
                .checked_sub(offset)
                .ok_or_else(|| Error::out_of_bounds("copy_region", offset as i128, 0, bufsize))?,
        };
        if offset.checked_add(size).is_none_or(|end| end > bufsize) {
            return Err(Error::out_of_bounds(
                "copy_region",
                offset as i128,
                size,
                bufsize,
            ));
        }
        let region = offset > 0 || size < bufsize;
        let deep = flags.contains(BufferCopyFlags::DEEP);
        let mut dest = BufferRef::new(site, None);

        if flags.contains(BufferCopyFlags::FLAGS) {
            dest.set_flags(self.flags() - BufferFlags::TAG_MEMORY);
        }
        if flags.contains(BufferCopyFlags::TIMESTAMPS) && offset == 0 {
            dest.set_pts(self.pts());
            dest.set_dts(self.dts());
            dest.set_offset(self.offset());
            if size == bufsize {
                dest.set_duration(self.duration());
                dest.set_offset_end(self.offset_end());
            }
        }
        let mut shared_pooled_memory = false;
        if flags.contains(BufferCopyFlags::MEMORY) {
            let mut skip = offset;
            let mut left = size;
            for mem in self.memories() {
                if left == 0 {
                    break;
                }
                let bsize = mem.size();
                if skip >= bsize {
                    skip -= bsize;
                    continue;
                }
                let take = (bsize - skip).min(left);
                let no_share = mem.flags().contains(MemoryFlags::NO_SHARE);
                let piece = if take < bsize || deep || no_share {
                    if !deep && !no_share {
                        shared_pooled_memory = true;
                        mem.share(skip, Some(take))?
                    } else if !deep && take == bsize {
                        // A whole NO_SHARE memory is copied, as GStreamer
                        // does; should that copy fail, referencing it is
                        // still safe (writes need a unique handle) and keeps
                        // `Buffer::copy` / `make_mut` infallible.
                        match mem.copy(skip, Some(take)) {
                            Ok(copy) => copy,
                            Err(_) => {
                                shared_pooled_memory = true;
                                mem.clone()
                            }
                        }
                    } else {
                        mem.copy(skip, Some(take))?
                    }
                } else {
                    shared_pooled_memory = true;
                    mem.clone()
                };
                dest.push_memory_untracked(piece);
                skip = 0;
                left -= take;
            }
            if flags.contains(BufferCopyFlags::MERGE) && dest.n_memory() > 1 {
                let mut merged = Memory::alloc(size, &AllocationParams::default())?;
                {
                    let map = dest.map_readable()?;
                    let mut out = merged.map_writable()?;
                    map.copy_to(0, &mut out);
                }
                dest.replace_all_memory(merged);
                shared_pooled_memory = false;
            }
            dest.unset_flags(BufferFlags::TAG_MEMORY);
        }
        if flags.contains(BufferCopyFlags::META) {
            let layout_changes = region
                || !flags.contains(BufferCopyFlags::MEMORY)
                || flags.contains(BufferCopyFlags::MERGE);
            let transform = MetaTransform::Copy {
                region,
                offset,
                size,
            };
            self.metas_list()
                .copy_into(dest.metas_list_mut(), layout_changes, deep, &transform);
        }
        if shared_pooled_memory && self.pool_id().is_some() {
            dest.add_meta(ParentBufferMeta {
                buffer: self.clone(),
            });
        }
        Ok(Buffer::from_box(BufferBox::new(dest)))
    }
}
