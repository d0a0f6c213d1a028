//! `videoscale`: resizes raw video (bilinear), same format and rate
//! (GStreamer's `videoscale` with `method=bilinear`).
//!
//! Passthrough when the size does not change. When downstream fixes only
//! one of width and height, the other is chosen to keep the display aspect
//! ratio, as GStreamer does; when it fixes neither, the input size is kept.
//! Frames with a [`VideoMeta`](crate::VideoMeta) (padded strides) are read
//! and written through it.

use framecast_core::sync::MutexExt;
use std::sync::Mutex;

use framecast_core::{AllocationQuery, Buffer, BufferRef, VideoInfo};

use crate::elements::video::{self, map_video_structures, Scaler};
use crate::pipeline::base::{Transform, TransformImpl};
use crate::pipeline::caps::IntRange;
use crate::pipeline::{Caps, Element, ElementFactory, FlowError, FlowResult, PadDirection, Value};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "videoscale",
        "Video scaler",
        "Filter/Converter/Video/Scaler",
        "Resizes raw video (bilinear), keeping the format",
        video::raw_video_filter_pads(),
        Vec::new(),
        || Box::new(Transform::new(VideoScale::default())),
    )
}

/// The `videoscale` element's implementation.
#[derive(Debug, Default)]
pub struct VideoScale {
    /// Input and output layouts and the scaler between them.
    state: Mutex<Option<(VideoInfo, VideoInfo, Scaler)>>,
}

impl TransformImpl for VideoScale {
    /// The same caps first (passthrough), then any size.
    fn transform_caps(&self, _element: &Element, _direction: PadDirection, caps: &Caps) -> Caps {
        let template = Caps::video_raw_any(video::FORMATS);
        let same = map_video_structures(caps, &template, |_| {});
        let any_size = IntRange::new(1, i32::MAX).map_or(Value::Int(1), Value::IntRange);
        let open = map_video_structures(caps, &template, |s| {
            let _ = s.set("width", any_size.clone());
            let _ = s.set("height", any_size.clone());
            s.remove("pixel-aspect-ratio");
        });
        same.merge(open)
    }

    fn fixate_caps(&self, _element: &Element, incaps: &Caps, othercaps: Caps) -> Caps {
        let Some(mut s) = othercaps.structure(0).cloned() else {
            return othercaps;
        };
        let input = incaps
            .structure(0)
            .and_then(|i| Some((i.get_int("width")?, i.get_int("height")?)));
        if let Some((iw, ih)) = input {
            match (s.get_int("width"), s.get_int("height")) {
                (Some(w), None) => {
                    let h = (i64::from(w) * i64::from(ih) / i64::from(iw.max(1))).max(1);
                    s.fixate_field_nearest_int("height", i32::try_from(h).unwrap_or(i32::MAX));
                }
                (None, Some(h)) => {
                    let w = (i64::from(h) * i64::from(iw) / i64::from(ih.max(1))).max(1);
                    s.fixate_field_nearest_int("width", i32::try_from(w).unwrap_or(i32::MAX));
                }
                _ => {
                    s.fixate_field_nearest_int("width", iw);
                    s.fixate_field_nearest_int("height", ih);
                }
            }
        }
        if let Some(rate) = incaps
            .structure(0)
            .and_then(|i| i.get_fraction("framerate"))
        {
            s.fixate_field_nearest_fraction("framerate", rate);
        }
        let first = Caps::from_structure(s);
        first.fixate().unwrap_or(first)
    }

    fn set_caps(&self, _element: &Element, incaps: &Caps, outcaps: &Caps) -> Result<usize> {
        let (i, o) = (incaps.video_info()?, outcaps.video_info()?);
        let scaler = Scaler::new(&i, &o)?;
        *self.state.locked() = Some((i, o, scaler));
        Ok(o.size)
    }

    fn passthrough(&self, _element: &Element, incaps: &Caps, outcaps: &Caps) -> bool {
        video::same_frames(incaps, outcaps)
    }

    fn transform(&self, element: &Element, input: &Buffer, output: &mut BufferRef) -> FlowResult {
        let mut state = self.state.locked();
        let Some((ii, oi, scaler)) = state.as_mut() else {
            return Err(FlowError::NotNegotiated);
        };
        video::transform_frame(element, (input, ii), (output, oi), "scaling", |src, dst| {
            scaler.scale(src, dst)
        })
    }

    fn propose_allocation(&self, _element: &Element, query: &mut AllocationQuery) -> bool {
        video::propose_video_allocation(query)
    }
}
