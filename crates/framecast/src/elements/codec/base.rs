//! What codec elements share: the glue every one-in, one-out element
//! with different media on each side needs (encoders, decoders,
//! payloaders, depayloaders: caps queries answered from templates, pushing
//! an optional output), and the video decoders' common half (GStreamer's
//! `GstVideoDecoder`, reduced): read-only counters and the raw-video
//! output side (caps, pool, filling a pooled frame).

use std::sync::atomic::{AtomicU64, Ordering};

use framecast_core::{
    Buffer, BufferFlags, BufferPool, Fraction, ReferenceTimestampMeta, VideoFormat, VideoInfo,
};

use crate::elements::video::{frame_layout, FrameMut};
use crate::pipeline::base::counters;
use crate::pipeline::base::{negotiate_pool, FromProperty};
use crate::pipeline::PropertySpec;
use crate::pipeline::{
    Caps, Element, Event, FlowError, FlowResult, FlowSuccess, Pad, PadDirection, PropertyValue,
    Query,
};

/// Pushes a codec element's output, if the input made one.
pub(crate) fn push_output(element: &Element, out: Option<Buffer>) -> FlowResult {
    match out {
        Some(out) => match element.src_pad() {
            Some(src) => src.push(out),
            None => Err(FlowError::NotLinked),
        },
        None => Ok(FlowSuccess::Ok),
    }
}

/// The query handling of a one-in, one-out element whose two sides carry
/// different media (encoders, decoders, payloaders, depayloaders): caps
/// and accept-caps are answered from the pad's own template (the default
/// would intersect with the other side's media and find nothing), and
/// allocation is not forwarded upstream (the other side's pool holds
/// different buffers).
pub(crate) fn codec_query(element: &Element, pad: &Pad, query: &mut Query) -> bool {
    match query {
        Query::Caps { filter, result } => {
            let mut caps = pad.template_caps().clone();
            if let Some(f) = filter {
                caps = caps.intersect(f);
            }
            *result = Some(caps);
            true
        }
        Query::AcceptCaps { caps, result } => {
            *result = caps.can_intersect(pad.template_caps());
            true
        }
        Query::Allocation(_) if pad.direction() == PadDirection::Sink => false,
        _ => element.default_query(pad, query),
    }
}

/// The values of the `damaged` property of depayloaders and decoders:
/// what happens to a frame that lost packets.
pub(crate) const DAMAGED: &[(&str, &str)] = &[
    (
        "conceal",
        "Pass it on with what arrived, flagged CORRUPTED; the decoder conceals what is missing \
         (live viewing: the picture freezes only while nothing decodable arrives)",
    ),
    (
        "drop",
        "Drop it, and what depends on it until the next keyframe (no repaired pictures)",
    ),
];

/// What happens to a frame that lost packets (the `damaged` property of
/// depayloaders and decoders), typed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Damaged {
    /// Pass it on, flagged `CORRUPTED`; the decoder conceals the rest.
    #[default]
    Conceal,
    /// Drop it, and what depends on it until the next keyframe.
    Drop,
}

impl Damaged {
    /// The nick in [`DAMAGED`].
    pub(crate) fn nick(self) -> &'static str {
        match self {
            Damaged::Conceal => "conceal",
            Damaged::Drop => "drop",
        }
    }

    /// The `damaged` property, `self` its default.
    pub(crate) fn property(self) -> PropertySpec {
        PropertySpec::enumeration(
            "damaged",
            "What happens to a frame that lost packets",
            DAMAGED,
            self.nick(),
        )
    }
}

/// The value of a `damaged` property, by nick.
impl FromProperty for Damaged {
    fn from_property(value: &PropertyValue) -> Option<Damaged> {
        match value.as_str()? {
            "conceal" => Some(Damaged::Conceal),
            "drop" => Some(Damaged::Drop),
            _ => None,
        }
    }
}

/// The read-only counters every decoder element has.
pub(crate) fn decoder_properties() -> Vec<crate::pipeline::PropertySpec> {
    counters! {
        "frames-decoded" => "Pictures output",
        "decode-errors" => "Input buffers the decoder rejected",
        "frames-dropped" => "Input buffers dropped: errors, and everything after one until the next keyframe",
    }
}

/// Decoder counters, readable from any thread.
#[derive(Debug, Default)]
pub(crate) struct DecoderCounters {
    pub(crate) decoded: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

impl DecoderCounters {
    pub(crate) fn read(&self, name: &str) -> Option<PropertyValue> {
        let v = match name {
            "frames-decoded" => self.decoded.load(Ordering::Relaxed),
            "decode-errors" => self.errors.load(Ordering::Relaxed),
            "frames-dropped" => self.dropped.load(Ordering::Relaxed),
            _ => return None,
        };
        Some(PropertyValue::UInt(v))
    }
}

/// The raw-video output side shared by the decoders: caps and pool for
/// the current picture size, and filling a pooled frame.
#[derive(Debug)]
pub(crate) struct RawOutput {
    /// Framerate and pixel aspect ratio from the input caps.
    pub(crate) fps: Fraction,
    pub(crate) par: Option<Fraction>,
    pub(crate) info: Option<VideoInfo>,
    pub(crate) pool: Option<BufferPool>,
}

impl Default for RawOutput {
    fn default() -> Self {
        RawOutput {
            fps: Fraction::ZERO,
            par: None,
            info: None,
            pool: None,
        }
    }
}

impl RawOutput {
    /// Reads framerate and pixel aspect ratio from coded-video caps.
    pub(crate) fn set_input_caps(&mut self, caps: &Caps) {
        if let Some(s) = caps.structure(0) {
            self.fps = s.get_fraction("framerate").unwrap_or(Fraction::ZERO);
            self.par = s.get_fraction("pixel-aspect-ratio");
        }
    }

    /// Makes sure caps and a pool for `format` `width`x`height` are set up
    /// downstream; returns the output layout.
    pub(crate) fn ensure(
        &mut self,
        element: &Element,
        format: VideoFormat,
        width: u32,
        height: u32,
    ) -> std::result::Result<VideoInfo, FlowError> {
        if let (Some(info), Some(_)) = (self.info, self.pool.as_ref()) {
            if (info.format, info.width, info.height) == (format, width, height) {
                return Ok(info);
            }
        }
        let mut info = VideoInfo::new(format, width, height)
            .map_err(|e| {
                element.post_error(format!("decoded picture {width}x{height}: {e}"), None);
                FlowError::Error
            })?
            .with_fps(self.fps);
        if let Some(par) = self.par.filter(|p| p.num > 0 && p.den > 0) {
            info = info.with_par(par);
        }
        let caps = Caps::from_video_info(&info);
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        if !src.push_event(Event::Caps(caps.clone())) {
            element.post_error(format!("downstream refused {caps}"), None);
            return Err(FlowError::NotNegotiated);
        }
        let pool = negotiate_pool(element, &src, &caps, info.size, 2).map_err(|e| {
            element.post_error(format!("output pool: {e}"), None);
            FlowError::Error
        })?;
        if let Some(old) = self.pool.replace(pool) {
            let _ = old.set_active(false);
        }
        self.info = Some(info);
        Ok(info)
    }

    /// A pooled output buffer with the timestamps and capture-time meta of
    /// `input`, its frame filled by `fill`.
    pub(crate) fn frame(
        &self,
        input: &Buffer,
        fill: impl FnOnce(&mut FrameMut<'_>) -> std::result::Result<(), String>,
    ) -> std::result::Result<Buffer, FlowError> {
        let (Some(info), Some(pool)) = (self.info, self.pool.as_ref()) else {
            return Err(FlowError::NotNegotiated);
        };
        let mut out = pool.acquire().map_err(FlowError::from_acquire)?;
        let Some(o) = out.get_mut() else {
            return Err(FlowError::Error);
        };
        let layout = frame_layout(o, &info).map_err(|_| FlowError::Error)?;
        {
            let mut map = o.map_writable().map_err(|_| FlowError::Error)?;
            let mut frame = FrameMut::new(layout, &mut map).map_err(|_| FlowError::Error)?;
            fill(&mut frame).map_err(|_| FlowError::Error)?;
        }
        o.set_pts(input.pts());
        o.set_dts(input.dts());
        o.set_duration(input.duration().or_else(|| info.frame_duration()));
        o.set_offset(input.offset());
        o.set_flags(input.flags() & (BufferFlags::DISCONT | BufferFlags::LIVE));
        ReferenceTimestampMeta::copy_all(input, o);
        Ok(out)
    }

    pub(crate) fn reset(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = pool.set_active(false);
        }
        self.info = None;
    }
}

/// Copies `rows` rows of `width` bytes from `src` (at `src_stride`) into
/// `dst` (at `dst_stride`), refusing planes that are too short.
pub(crate) fn copy_plane(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    width: usize,
    rows: usize,
) -> std::result::Result<(), String> {
    if rows == 0 || width == 0 {
        return Ok(());
    }
    let need = |stride: usize| (rows - 1) * stride + width;
    if src_stride < width
        || dst_stride < width
        || src.len() < need(src_stride)
        || dst.len() < need(dst_stride)
    {
        return Err(format!(
            "plane of {width}x{rows} does not fit (source {} bytes at stride {src_stride}, \
             destination {} at {dst_stride})",
            src.len(),
            dst.len()
        ));
    }
    for row in 0..rows {
        dst[row * dst_stride..][..width].copy_from_slice(&src[row * src_stride..][..width]);
    }
    Ok(())
}

/// The shortest time between two keyframe requests from one element (a
/// PLI may be lost on the way; one a second while the wait lasts).
pub const KEYFRAME_REQUEST_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// When an element last asked upstream for a keyframe: requests go at most
/// every [`KEYFRAME_REQUEST_INTERVAL`].
#[derive(Debug, Default)]
pub(crate) struct KeyframeRequests {
    last: Option<std::time::Instant>,
}

impl KeyframeRequests {
    /// Whether a request may go now (and notes that it goes).
    pub(crate) fn due(&mut self) -> bool {
        let now = std::time::Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}

/// Most read-only counters an element on a base (decoder, depayloader)
/// adds to the base's own.
pub(crate) const MAX_EXTRA_COUNTERS: usize = 2;

/// The counters an element on a base adds to the base's, named by the
/// element (`names`, in order), as atomics so that reading one never waits
/// for a push.
#[derive(Debug, Default)]
pub(crate) struct ExtraCounters([AtomicU64; MAX_EXTRA_COUNTERS]);

impl ExtraCounters {
    /// The counter `name` of `names`, if it is one.
    pub(crate) fn read(&self, names: &[&str], name: &str) -> Option<PropertyValue> {
        let i = names.iter().position(|n| *n == name)?;
        let c = self.0.get(i)?;
        Some(PropertyValue::UInt(c.load(Ordering::Relaxed)))
    }

    /// Counts one on counter `i`.
    pub(crate) fn add(&self, i: usize) {
        if let Some(c) = self.0.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sets every counter (an element that keeps the counts itself).
    pub(crate) fn store(&self, values: [u64; MAX_EXTRA_COUNTERS]) {
        for (c, v) in self.0.iter().zip(values) {
            c.store(v, Ordering::Relaxed);
        }
    }
}
