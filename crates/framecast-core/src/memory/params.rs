//! [`AllocationParams`]: how an allocation should be laid out.

use super::MemoryFlags;
use crate::{Error, Result};

/// How to lay out an allocation (`GstAllocationParams`).
///
/// The memory made from these params has `maxsize = prefix + size + padding`
/// exactly, `offset = prefix`, and its data pointer (the first visible byte)
/// aligned to `align + 1` bytes. `ZERO_PREFIXED` / `ZERO_PADDED` in `flags`
/// request zeroed prefix / padding, and are then set on the memory.
///
/// # Examples
///
/// ```
/// use framecast_core::{AllocationParams, Memory, MemoryFlags};
/// let params = AllocationParams {
///     flags: MemoryFlags::ZERO_PREFIXED,
///     align: 63,
///     prefix: 16,
///     padding: 8,
/// };
/// let mem = Memory::alloc(100, &params).unwrap();
/// assert_eq!((mem.offset(), mem.size(), mem.maxsize()), (16, 100, 124));
/// assert_eq!(mem.map_readable().unwrap().as_ptr() as usize % 64, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AllocationParams {
    /// Flags to set on the memory (READONLY, ZERO_PREFIXED, ZERO_PADDED, …).
    pub flags: MemoryFlags,
    /// Alignment as a mask: `align + 1` must be a power of two (7 = 8 bytes).
    pub align: usize,
    /// Bytes reserved before the data.
    pub prefix: usize,
    /// Bytes reserved after the data.
    pub padding: usize,
}

/// GStreamer's default `gst_memory_alignment` (malloc alignment): 8 bytes.
pub(crate) const DEFAULT_ALIGN: usize = 7;

impl AllocationParams {
    /// Params with only an alignment mask.
    pub fn aligned(align: usize) -> Self {
        AllocationParams {
            align,
            ..Default::default()
        }
    }

    /// Checks the alignment mask and returns the effective one
    /// (`align | 7`, as GStreamer ORs in its default alignment).
    pub fn effective_align(&self) -> Result<usize> {
        match self.align.checked_add(1) {
            Some(n) if n.is_power_of_two() => Ok(self.align | DEFAULT_ALIGN),
            _ => Err(Error::InvalidAlignment { align: self.align }),
        }
    }

    /// `prefix + size + padding`, or an error on overflow.
    pub fn maxsize_for(&self, size: usize) -> Result<usize> {
        self.prefix
            .checked_add(size)
            .and_then(|n| n.checked_add(self.padding))
            .ok_or_else(|| Error::AllocationFailed {
                size,
                allocator: String::new(),
                reason: "prefix + size + padding overflows".into(),
            })
    }

    /// Merges two proposals the way GStreamer's tee aggregates them: the
    /// largest alignment, prefix and padding win, flags are united.
    pub fn merge(&self, other: &AllocationParams) -> AllocationParams {
        AllocationParams {
            flags: self.flags | other.flags,
            align: self.align.max(other.align),
            prefix: self.prefix.max(other.prefix),
            padding: self.padding.max(other.padding),
        }
    }
}
