//! Memory and allocator flags, with GStreamer's values.

use crate::flags::gst_flags;

gst_flags! {
    /// Flags of a [`Memory`](super::Memory), bit-for-bit GStreamer's
    /// `GstMemoryFlags`.
    pub struct MemoryFlags: u32 {
        /// Never mapped writable. Shares always carry it.
        const READONLY = 2;
        /// `share` is refused; copies are made instead.
        const NO_SHARE = 16;
        /// The prefix region (before `offset`) is zero-filled.
        const ZERO_PREFIXED = 32;
        /// The padding region (after `offset + size`) is zero-filled.
        const ZERO_PADDED = 64;
        /// Physically contiguous (for DMA), as reported by the allocator.
        const PHYSICALLY_CONTIGUOUS = 128;
        /// The memory cannot be mapped into this process.
        const NOT_MAPPABLE = 256;
    }
}

gst_flags! {
    /// Flags of an [`Allocator`](super::Allocator) (`GstAllocatorFlags`).
    pub struct AllocatorFlags: u32 {
        /// The allocator has a custom alloc function that only its owner
        /// should call; copies go to the default allocator.
        const CUSTOM_ALLOC = 16;
        /// Copies of its memories are made by the default allocator.
        const NO_COPY = 32;
    }
}
