//! Metas: typed metadata on buffers (`GstMeta`).
//!
//! A meta type implements [`Meta`]: an API name and tags (what the meta
//! depends on), a transform deciding whether the meta survives a copy, and a
//! `clear` for pooled reuse. Construction is the meta's `init`, `Drop` its
//! `free`. Metas are stored inline in the buffer ([`MetaList`] keeps up to
//! four in the buffer itself, each up to 128 bytes), so adding one allocates
//! nothing — GStreamer mallocs every meta.
//!
//! Built-in: [`VideoMeta`], [`VideoCropMeta`],
//! [`ReferenceTimestampMeta`], [`ParentBufferMeta`].

mod parent;
mod reference_timestamp;
mod registry;
mod storage;
mod video;

pub use parent::ParentBufferMeta;
pub use reference_timestamp::ReferenceTimestampMeta;
pub use registry::{meta_api, register_meta, MetaApiInfo};
pub(crate) use storage::MetaList;
pub use storage::{MetaRef, META_INLINE_BYTES};
pub use video::{VideoCropMeta, VideoMeta};

use crate::flags::gst_flags;
use std::fmt;

/// Tag for metas that describe the memory layout (offsets, strides): they
/// are dropped when a copy changes the layout (a region, a merge, or a copy
/// without memory).
pub const TAG_MEMORY: &str = "memory";
/// Tag for metas that reference memory (parent buffers): dropped on deep copies.
pub const TAG_MEMORY_REFERENCE: &str = "memory-reference";

gst_flags! {
    /// Flags of a meta on a buffer (`GstMetaFlags`).
    pub struct MetaFlags: u32 {
        /// Advisory: the meta should not be changed.
        const READONLY = 1;
        /// Kept when the buffer returns to its pool.
        const POOLED = 2;
        /// Cannot be removed.
        const LOCKED = 4;
    }
}

/// Why a meta is being transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetaTransform {
    /// A buffer copy (`"gst-copy"`): `region` is true when only part of the
    /// buffer (`offset`, `size`) was copied.
    Copy {
        /// Part of the buffer only.
        region: bool,
        /// Start of the copied range in the source.
        offset: usize,
        /// Bytes copied.
        size: usize,
    },
    /// A video scale (`"gst-video-scale"`) from one size to another.
    VideoScale {
        /// Source width and height.
        from: (u32, u32),
        /// Destination width and height.
        to: (u32, u32),
    },
}

/// A meta type.
///
/// # Examples
///
/// ```
/// use framecast_core::{Buffer, Meta, MetaTransform};
///
/// #[derive(Debug, Clone, PartialEq)]
/// struct FrameNumber(u64);
///
/// impl Meta for FrameNumber {
///     const API: &'static str = "FrameNumberMetaAPI";
///     fn transform(&self, t: &MetaTransform) -> Option<Self> {
///         matches!(t, MetaTransform::Copy { .. }).then(|| self.clone())
///     }
/// }
///
/// let mut buf = Buffer::with_size(8).unwrap();
/// buf.get_mut().unwrap().add_meta(FrameNumber(7));
/// let copy = buf.copy();
/// assert_eq!(copy.meta::<FrameNumber>(), Some(&FrameNumber(7)));
/// ```
pub trait Meta: Send + Sync + fmt::Debug + Sized + 'static {
    /// The API name (`"GstVideoMetaAPI"`), unique per meta type.
    const API: &'static str;
    /// Tags: what the meta depends on ([`TAG_MEMORY`], `"video"`, …).
    const TAGS: &'static [&'static str] = &[];

    /// The meta to put on the result of `transform`, or `None` to drop it
    /// there. The default carries nothing.
    fn transform(&self, transform: &MetaTransform) -> Option<Self> {
        let _ = transform;
        None
    }

    /// Resets a POOLED meta when its buffer returns to the pool.
    fn clear(&mut self) {}
}
