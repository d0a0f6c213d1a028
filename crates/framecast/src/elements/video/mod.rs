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

use framecast_core::{AllocationQuery, BufferPool, Meta, MetaParams, VideoMeta};

use crate::pipeline::{Caps, PadDirection, PadTemplate, Structure, Value};

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

/// The pads of a raw-video filter (`videoconvert`, `videoscale`): one
/// always sink and one always src pad, each taking every raw format.
pub(crate) fn raw_video_filter_pads() -> Vec<PadTemplate> {
    vec![
        PadTemplate::always("sink", PadDirection::Sink, Caps::video_raw_any(FORMATS)),
        PadTemplate::always("src", PadDirection::Src, Caps::video_raw_any(FORMATS)),
    ]
}

/// Registers the raw-video elements.
pub(crate) fn register(factories: &mut Vec<crate::pipeline::ElementFactory>) {
    factories.push(rawvideoparse::factory());
    factories.push(testsrc::factory());
    factories.push(videoconvert::factory());
    factories.push(videoscale::factory());
}
