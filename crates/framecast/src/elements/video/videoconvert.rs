//! `videoconvert`: converts raw video between I420, NV12, RGB, BGR, RGBA,
//! BGRA, RGBx, BGRx and GRAY8 (GStreamer's `videoconvert`), same size and
//! rate.
//!
//! The pixel work is [`video::convert`](super::video::convert) — SIMD via the
//! `yuv` crate for RGB <-> YUV, BT.601/BT.709/BT.2020 by frame height as
//! GStreamer assumes, limited range. It honours a [`VideoMeta`](crate::VideoMeta)
//! on input and output buffers (padded, aligned frames).
//!
//! Negotiation differs from GStreamer's on purpose in one place. When the
//! input format can pass through it does (no work at all). Otherwise
//! GStreamer picks the output format closest to the input, which for
//! BGR/RGB input is a 4:4:4 format (Y444) if downstream allows it — and
//! most H.264 receivers cannot decode 4:4:4. Here the preference is I420,
//! then NV12 (4:2:0, what every encoder and decoder takes), keeping alpha
//! formats first only when the input has alpha.
//!
//! Upstream is offered a video pool for the input caps with video-meta
//! support, so `appsrc ! videoconvert` frames are written straight into
//! pooled memory.

use framecast_core::sync::MutexExt;
use std::sync::Mutex;

use framecast_core::{AllocationQuery, Buffer, BufferRef, VideoFormat, VideoInfo};

use crate::elements::video::{self, any_format, convert, map_video_structures, Matrix};
use crate::pipeline::base::{Transform, TransformImpl};
use crate::pipeline::{Caps, Element, ElementFactory, FlowError, FlowResult, PadDirection, Value};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "videoconvert",
        "Colorspace converter",
        "Filter/Converter/Video",
        "Converts video between raw formats (SIMD); BGR/RGB input goes to 4:2:0 by default",
        video::raw_video_filter_pads(),
        Vec::new(),
        || Box::new(Transform::new(VideoConvert::default())),
    )
}

/// The `videoconvert` element's implementation.
#[derive(Debug, Default)]
pub struct VideoConvert {
    /// Input and output layouts, once negotiated.
    infos: Mutex<Option<(VideoInfo, VideoInfo)>>,
}

/// Output formats in order of preference for input `from`: itself, then
/// 4:2:0, then packed RGB (alpha ones first when `from` has alpha), GRAY8
/// last (it loses colour).
fn preference(from: VideoFormat) -> [VideoFormat; 10] {
    use VideoFormat::*;
    if from.has_alpha() {
        [from, Bgra, Rgba, I420, Nv12, Bgrx, Rgbx, Bgr, Rgb, Gray8]
    } else {
        [from, I420, Nv12, Bgrx, Rgbx, Bgr, Rgb, Bgra, Rgba, Gray8]
    }
}

fn input_format(incaps: &Caps) -> Option<VideoFormat> {
    incaps
        .structure(0)
        .and_then(|s| s.get::<VideoFormat>("format"))
}

impl TransformImpl for VideoConvert {
    /// The same caps first (so passthrough wins when possible), then the
    /// same size and rate in any format.
    fn transform_caps(&self, _element: &Element, _direction: PadDirection, caps: &Caps) -> Caps {
        let template = Caps::video_raw_any(video::FORMATS);
        let same = map_video_structures(caps, &template, |_| {});
        let open = map_video_structures(caps, &template, |s| {
            s.remove("colorimetry");
            s.remove("chroma-site");
            s.remove("format");
            let _ = s.set("format", any_format());
        });
        same.merge(open)
    }

    fn fixate_caps(&self, _element: &Element, incaps: &Caps, othercaps: Caps) -> Caps {
        let Some(mut s) = othercaps.structure(0).cloned() else {
            return othercaps;
        };
        if let Some(from) = input_format(incaps) {
            let allowed = |f: VideoFormat| {
                s.value("format")
                    .is_none_or(|v| v.can_intersect(&Value::from(f)))
            };
            if let Some(chosen) = preference(from).into_iter().find(|&f| allowed(f)) {
                let _ = s.set("format", chosen);
            }
        }
        if let Some(insize) = incaps.structure(0) {
            for field in ["width", "height"] {
                if let Some(v) = insize.get_int(field) {
                    s.fixate_field_nearest_int(field, v);
                }
            }
            if let Some(rate) = insize.get_fraction("framerate") {
                s.fixate_field_nearest_fraction("framerate", rate);
            }
        }
        let first = Caps::from_structure(s);
        first.fixate().unwrap_or(first)
    }

    fn set_caps(&self, element: &Element, incaps: &Caps, outcaps: &Caps) -> Result<usize> {
        let (i, o) = (incaps.video_info()?, outcaps.video_info()?);
        if (i.width, i.height) != (o.width, o.height) {
            return Err(crate::Error::Element {
                element: element.name().to_string(),
                message: format!(
                    "videoconvert does not scale: {}x{} in, {}x{} out (add videoscale)",
                    i.width, i.height, o.width, o.height
                ),
            });
        }
        *self.infos.locked() = Some((i, o));
        Ok(o.size)
    }

    fn passthrough(&self, _element: &Element, incaps: &Caps, outcaps: &Caps) -> bool {
        video::same_frames(incaps, outcaps)
    }

    fn transform(&self, element: &Element, input: &Buffer, output: &mut BufferRef) -> FlowResult {
        let Some((ii, oi)) = *self.infos.locked() else {
            return Err(FlowError::NotNegotiated);
        };
        video::transform_frame(
            element,
            (input, &ii),
            (output, &oi),
            "conversion",
            // The YUV side decides the matrix; both sides have the same size.
            |src, dst| convert(src, dst, Matrix::for_height(ii.height)),
        )
    }

    fn propose_allocation(&self, _element: &Element, query: &mut AllocationQuery) -> bool {
        video::propose_video_allocation(query)
    }
}
