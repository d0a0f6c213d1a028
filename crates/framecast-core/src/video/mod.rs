//! Raw video: pixel formats and GStreamer's plane arithmetic.
//!
//! - [`VideoFormat`]: the pixel layouts (I420, NV12, RGB/BGR, 32-bit RGB
//!   variants, GRAY8) with their per-plane pixel strides and subsampling.
//! - [`VideoInfo`]: one frame's geometry, framerate and byte layout
//!   (strides, plane offsets, size), GStreamer's `GstVideoInfo`.
//! - [`VideoAlignment`]: padding and stride alignment, applied by
//!   [`VideoInfo::align`] exactly as `gst_video_info_align` does.
//!
//! The numbers are GStreamer's to the byte (the tests hold layouts printed
//! by GStreamer 1.22 itself), because frames are exchanged with GStreamer
//! elements and with numpy/OpenCV through nothing but offsets and strides.
//! Only progressive (non-interlaced) video is modelled.

mod alignment;
mod format;
mod info;

pub use alignment::VideoAlignment;
pub use format::VideoFormat;
pub use info::{VideoInfo, VIDEO_MAX_PLANES};
