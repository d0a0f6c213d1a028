//! [`PoolConfig`]: the typed configuration of a [`BufferPool`](super::BufferPool).

use std::fmt;
use std::sync::Arc;

use crate::memory::{AllocationParams, Allocator};
use crate::video::{VideoAlignment, VideoInfo};

/// What a pool makes: frame layout (caps), buffer size, how many buffers
/// (`min` preallocated, `max` outstanding, 0 = unlimited), which allocator
/// with which params, and options.
///
/// # Examples
///
/// ```
/// use framecast_core::{PoolConfig, VideoFormat, VideoInfo};
/// let info = VideoInfo::new(VideoFormat::I420, 1920, 1080).unwrap();
/// let config = PoolConfig::for_video(info, 2, 4).with_video_meta();
/// assert_eq!(config.size, 3_110_400);
/// ```
#[derive(Clone)]
pub struct PoolConfig {
    /// The frame layout (GStreamer's caps) for video pools; `None` for
    /// plain byte buffers.
    pub layout: Option<VideoInfo>,
    /// Bytes per buffer.
    pub size: usize,
    /// Buffers allocated when the pool is activated.
    pub min_buffers: u32,
    /// Most buffers in existence at once; acquire blocks beyond. 0 = no limit.
    pub max_buffers: u32,
    /// The allocator; `None` = the default allocator.
    pub allocator: Option<Arc<dyn Allocator>>,
    /// Layout of each allocation (alignment, prefix, padding, flags).
    pub params: AllocationParams,
    /// Add a [`VideoMeta`](crate::VideoMeta) to each buffer
    /// (`GstBufferPoolOptionVideoMeta`). Needs `layout`.
    pub video_meta: bool,
    /// Pad and align planes (`GstBufferPoolOptionVideoAlignment`); only
    /// honoured together with `video_meta`, as in GStreamer.
    pub video_alignment: Option<VideoAlignment>,
}

impl PoolConfig {
    /// Plain buffers of `size` bytes.
    pub fn new(size: usize, min_buffers: u32, max_buffers: u32) -> PoolConfig {
        PoolConfig {
            layout: None,
            size,
            min_buffers,
            max_buffers,
            allocator: None,
            params: AllocationParams::default(),
            video_meta: false,
            video_alignment: None,
        }
    }

    /// Video frames laid out as `info` (size = `info.size`).
    pub fn for_video(info: VideoInfo, min_buffers: u32, max_buffers: u32) -> PoolConfig {
        PoolConfig {
            layout: Some(info),
            ..PoolConfig::new(info.size, min_buffers, max_buffers)
        }
    }

    /// With this allocator (`None` = default) and params.
    pub fn with_allocator(
        mut self,
        allocator: Option<Arc<dyn Allocator>>,
        params: AllocationParams,
    ) -> PoolConfig {
        self.allocator = allocator;
        self.params = params;
        self
    }

    /// With the video-meta option.
    pub fn with_video_meta(mut self) -> PoolConfig {
        self.video_meta = true;
        self
    }

    /// With the video-alignment option.
    pub fn with_video_alignment(mut self, alignment: VideoAlignment) -> PoolConfig {
        self.video_alignment = Some(alignment);
        self
    }

    /// Whether this config satisfies a request (`gst_buffer_pool_config_validate_params`):
    /// same layout, at least `size` bytes, at least `min_buffers` (max is not checked).
    pub fn validate(
        &self,
        layout: Option<&VideoInfo>,
        size: usize,
        min_buffers: u32,
        _max_buffers: u32,
    ) -> bool {
        self.layout.as_ref() == layout && self.size >= size && self.min_buffers >= min_buffers
    }
}

impl PartialEq for PoolConfig {
    fn eq(&self, other: &Self) -> bool {
        let same_allocator = match (&self.allocator, &other.allocator) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)),
            _ => false,
        };
        same_allocator
            && self.layout == other.layout
            && self.size == other.size
            && self.min_buffers == other.min_buffers
            && self.max_buffers == other.max_buffers
            && self.params == other.params
            && self.video_meta == other.video_meta
            && self.video_alignment == other.video_alignment
    }
}

impl fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolConfig")
            .field("layout", &self.layout)
            .field("size", &self.size)
            .field("min_buffers", &self.min_buffers)
            .field("max_buffers", &self.max_buffers)
            .field("allocator", &self.allocator.as_ref().map(|a| a.mem_type()))
            .field("params", &self.params)
            .field("video_meta", &self.video_meta)
            .field("video_alignment", &self.video_alignment)
            .finish()
    }
}
