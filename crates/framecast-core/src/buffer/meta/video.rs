//! Video metas: [`VideoMeta`] (plane layout) and [`VideoCropMeta`].

use super::{Meta, MetaTransform, TAG_MEMORY};
use crate::video::{VideoAlignment, VideoFormat, VideoInfo, VIDEO_MAX_PLANES};
use crate::{Error, Result};

/// The plane layout of a video frame in a buffer (`GstVideoMeta`): format,
/// size, and per plane the byte offset from the buffer's first byte and the
/// stride. Needed whenever strides are not the default ones (padded or
/// aligned frames from a video pool).
///
/// Tags: `video`, `memory` (dropped by copies that change the layout),
/// `colorspace`, `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoMeta {
    /// Pixel format.
    pub format: VideoFormat,
    /// Visible width.
    pub width: u32,
    /// Visible height.
    pub height: u32,
    /// Number of planes used.
    pub n_planes: u32,
    /// Identifies the meta when a buffer carries several frames (views).
    pub id: u32,
    /// Byte offset of each plane's first visible pixel.
    pub offset: [usize; VIDEO_MAX_PLANES],
    /// Bytes per row of each plane.
    pub stride: [usize; VIDEO_MAX_PLANES],
    /// The padding and stride alignment the layout was made with.
    pub alignment: VideoAlignment,
}

impl VideoMeta {
    /// The meta describing `info`'s layout, made with `alignment`.
    pub fn from_info(info: &VideoInfo, alignment: VideoAlignment) -> VideoMeta {
        VideoMeta {
            format: info.format,
            width: info.width,
            height: info.height,
            n_planes: info.n_planes as u32,
            id: 0,
            offset: info.offset,
            stride: info.stride,
            alignment,
        }
    }

    /// Sets the alignment after checking that the meta's strides are the
    /// ones that alignment produces (`gst_video_meta_set_alignment`); on a
    /// mismatch nothing changes and the error says which plane differs.
    pub fn set_alignment(&mut self, alignment: VideoAlignment) -> Result<()> {
        let mut info = VideoInfo::new(self.format, self.width, self.height)?;
        let mut align = alignment;
        info.align(&mut align)?;
        for plane in 0..self.n_planes as usize {
            if info.stride[plane] != self.stride[plane] {
                return Err(Error::InvalidMeta {
                    api: Self::API,
                    reason: format!(
                        "plane {plane} stride {} does not match the {} the alignment gives",
                        self.stride[plane], info.stride[plane]
                    ),
                });
            }
        }
        self.alignment = alignment;
        Ok(())
    }

    /// Byte range of plane `plane` inside a buffer of `buffer_size` bytes:
    /// from its offset to the next plane's offset (or the end).
    pub fn plane_range(&self, plane: usize, buffer_size: usize) -> Option<std::ops::Range<usize>> {
        if plane >= self.n_planes as usize {
            return None;
        }
        let start = self.offset[plane];
        let end = if plane + 1 < self.n_planes as usize {
            self.offset[plane + 1]
        } else {
            buffer_size
        };
        (start <= end && end <= buffer_size).then_some(start..end)
    }
}

impl Meta for VideoMeta {
    const API: &'static str = "GstVideoMetaAPI";
    const TAGS: &'static [&'static str] = &["video", TAG_MEMORY, "colorspace", "size"];

    /// Carried on whole copies (regions never reach here: the `memory` tag
    /// drops it first).
    fn transform(&self, transform: &MetaTransform) -> Option<Self> {
        match transform {
            MetaTransform::Copy { region: false, .. } => Some(*self),
            _ => None,
        }
    }
}

/// The visible rectangle of a frame (`GstVideoCropMeta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VideoCropMeta {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Meta for VideoCropMeta {
    const API: &'static str = "GstVideoCropMetaAPI";
    const TAGS: &'static [&'static str] = &["video", "size", "orientation"];

    /// Carried on every copy (regions too); scaled by `new / old` with
    /// integer division on a video scale.
    fn transform(&self, transform: &MetaTransform) -> Option<Self> {
        match *transform {
            MetaTransform::Copy { .. } => Some(*self),
            MetaTransform::VideoScale { from, to } => {
                if from.0 == 0 || from.1 == 0 {
                    return None;
                }
                let sx = |v: u32| (v as u64 * to.0 as u64 / from.0 as u64) as u32;
                let sy = |v: u32| (v as u64 * to.1 as u64 / from.1 as u64) as u32;
                Some(VideoCropMeta {
                    x: sx(self.x),
                    y: sy(self.y),
                    width: sx(self.width),
                    height: sy(self.height),
                })
            }
        }
    }
}
