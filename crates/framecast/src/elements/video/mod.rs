//! The raw-video elements (`testsrc`, `videoconvert`, `videoscale`,
//! `rawvideoparse`) and the pixel code they share: plane access honouring
//! video metas ([`frame`]), format conversion ([`convert`]), bilinear
//! scaling ([`scale`]) and the frame-counter stamp tests and latency
//! probes read back ([`counter`]).

pub mod convert;
pub mod counter;
pub mod frame;
pub mod rawvideoparse;
pub mod scale;
pub mod testsrc;
pub mod videoconvert;
pub mod videoscale;

pub use convert::{convert, Matrix};
pub use counter::{
    counter_block_size, decode_counter, decode_counter_buffer, write_counter, write_counter_buffer,
    CounterStamp, COUNTER_BITS,
};
pub use frame::{frame_layout, Frame, FrameMut};
pub use scale::Scaler;

use framecast_core::VideoFormat;

/// The raw formats the video elements handle, in `testsrc`'s order of
/// preference (I420 first, as GStreamer's fixation of a format list picks
/// the first): every format the media model knows, in its declaration
/// order, which puts I420 first.
pub const FORMATS: &[VideoFormat] = VideoFormat::ALL;

use framecast_core::{
    AllocationQuery, Buffer, BufferPool, BufferRef, Meta, MetaParams, VideoInfo, VideoMeta,
};

use crate::pipeline::{
    Caps, Element, FlowError, FlowResult, FlowSuccess, PadTemplate, Structure, Value,
};

/// What a video filter answers an allocation query from upstream with: a
/// video pool for the frames it will receive (upstream configures it for
/// its caps; `appsrc`'s `acquire_buffer` then hands out its buffers) and
/// support for [`VideoMeta`], so padded or aligned frames need no copy.
pub(crate) fn propose_video_allocation(query: &mut AllocationQuery) -> bool {
    if query.pools.is_empty() {
        let pool = query.layout.map(|_| BufferPool::new_video());
        query.add_pool(pool, query.size, 2, 0);
    }
    query.add_meta(VideoMeta::API, MetaParams::None);
    true
}

/// The structures of `caps` that are raw video, each passed through `edit`;
/// `ANY` gives `template`.
pub(crate) fn map_video_structures(
    caps: &Caps,
    template: &Caps,
    mut edit: impl FnMut(&mut Structure),
) -> Caps {
    if caps.is_any() {
        return template.clone();
    }
    let mut out = Caps::new_empty();
    for s in caps.iter() {
        if !s.has_name(crate::pipeline::caps::VIDEO_RAW) {
            continue;
        }
        let mut s = s.clone();
        edit(&mut s);
        out.merge_structure(s);
    }
    out
}

/// `format` as a list of every supported format.
pub(crate) fn any_format() -> Value {
    Value::list(FORMATS.iter().copied())
}

/// The frame work of a raw-video filter's `transform`: maps `input`
/// (negotiated as `in_info`) and `output` (as `out_info`), each with the
/// strides of its `VideoMeta`, and runs `f` from one frame to the other.
/// A failure is posted on the bus as `<what> failed: <why>`. Allocates
/// nothing unless it fails.
pub(crate) fn transform_frame(
    element: &Element,
    (input, in_info): (&Buffer, &VideoInfo),
    (output, out_info): (&mut BufferRef, &VideoInfo),
    what: &str,
    f: impl FnOnce(&Frame<'_>, &mut FrameMut<'_>) -> crate::Result<()>,
) -> FlowResult {
    let result = (|| -> crate::Result<()> {
        let in_layout = frame_layout(input, in_info)?;
        let out_layout = frame_layout(output, out_info)?;
        let map = input.map_readable()?;
        let data = map.contiguous();
        let src = Frame::new(in_layout, &data)?;
        let mut out = output.map_writable()?;
        let mut dst = FrameMut::new(out_layout, &mut out)?;
        f(&src, &mut dst)
    })();
    match result {
        Ok(()) => Ok(FlowSuccess::Ok),
        Err(e) => {
            element.post_error(format!("{what} failed: {e}"), None);
            Err(FlowError::Error)
        }
    }
}

/// Whether a raw-video filter passes buffers through untouched: the same
/// format and size on both sides (other fields, such as the rate, do not
/// change a frame's bytes).
pub(crate) fn same_frames(incaps: &Caps, outcaps: &Caps) -> bool {
    match (incaps.video_info(), outcaps.video_info()) {
        (Ok(i), Ok(o)) => (i.format, i.width, i.height) == (o.format, o.width, o.height),
        _ => incaps == outcaps,
    }
}

/// The pads of a raw-video filter (`videoconvert`, `videoscale`): one
/// always sink and one always src pad, each taking every raw format.
pub(crate) fn raw_video_filter_pads() -> Vec<PadTemplate> {
    PadTemplate::sink_src(Caps::video_raw_any(FORMATS), Caps::video_raw_any(FORMATS))
}

/// Registers the raw-video elements.
pub(crate) fn register(factories: &mut Vec<crate::pipeline::ElementFactory>) {
    push_factories!(factories; rawvideoparse, testsrc, videoconvert, videoscale);
}
