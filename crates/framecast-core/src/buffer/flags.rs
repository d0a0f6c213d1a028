//! Buffer flags and copy flags, with GStreamer's values.

use crate::flags::gst_flags;

gst_flags! {
    /// Flags of a [`Buffer`](super::Buffer) (`GstBufferFlags`), same bits as
    /// GStreamer.
    ///
    /// `contains` asks whether *all* given flags are set, `intersects`
    /// whether *any* is (GStreamer's `gst_buffer_has_flags` is "any" although
    /// its docs say "all"; here the name says which).
    ///
    /// ```
    /// use framecast_core::BufferFlags;
    /// let f = BufferFlags::DISCONT | BufferFlags::MARKER;
    /// assert!(f.contains(BufferFlags::DISCONT));
    /// assert!(!f.contains(BufferFlags::DISCONT | BufferFlags::HEADER));
    /// assert!(f.intersects(BufferFlags::DISCONT | BufferFlags::HEADER));
    /// ```
    pub struct BufferFlags: u32 {
        /// Produced by a live source.
        const LIVE = 16;
        /// To be decoded but not displayed.
        const DECODE_ONLY = 32;
        /// A discontinuity: data was lost or skipped before this buffer.
        const DISCONT = 64;
        /// Timestamps may have jumped.
        const RESYNC = 128;
        /// The data may be damaged.
        const CORRUPTED = 256;
        /// Media-specific marker (RTP: last packet of a frame).
        const MARKER = 512;
        /// Stream header data (SPS/PPS), needed before other buffers.
        const HEADER = 1024;
        /// Empty, to fill a gap; no meaningful data.
        const GAP = 2048;
        /// May be dropped without breaking decoding.
        const DROPPABLE = 4096;
        /// Cannot be decoded on its own (not a keyframe).
        const DELTA_UNIT = 8192;
        /// The memories were changed since allocation.
        const TAG_MEMORY = 16384;
        /// Sinks should sync after rendering this buffer.
        const SYNC_AFTER = 32768;
        /// Must not be dropped (even by a leaky queue).
        const NON_DROPPABLE = 65536;
    }
}

gst_flags! {
    /// What [`copy_region`](super::BufferRef::copy_region) copies
    /// (`GstBufferCopyFlags`).
    pub struct BufferCopyFlags: u32 {
        /// Flags (all but TAG_MEMORY).
        const FLAGS = 1;
        /// PTS, DTS, offset (and duration, offset_end when the whole buffer
        /// is copied); with a non-zero offset they are left unset.
        const TIMESTAMPS = 2;
        /// Metas, each deciding through its transform.
        const META = 4;
        /// Memories: whole ones by reference, partial ones shared.
        const MEMORY = 8;
        /// Merge the copied memories into one.
        const MERGE = 16;
        /// Copy the bytes instead of referencing them.
        const DEEP = 32;
        /// FLAGS | TIMESTAMPS | META.
        const METADATA = 1 | 2 | 4;
        /// METADATA | MEMORY.
        const ALL = 1 | 2 | 4 | 8;
    }
}
