//! `openh264dec`: H.264 (Annex B byte-stream, one access unit per buffer)
//! to I420 with OpenH264's decoder, through the `openh264` crate's safe
//! wrapper.
//!
//! Why this decoder: it is the same library as the default encoder, built
//! from the same bundled source (no system packages, BSD), it decodes the
//! baseline/constrained-baseline streams real-time senders make (ours,
//! GStreamer's `x264enc tune=zerolatency`, FFmpeg's `-tune zerolatency`)
//! and High profile without B-frame delay (`DecodeFrameNoDelay`), and it is
//! continuously fuzzed upstream (OSS-Fuzz). The pure-Rust H.264 decoders on
//! crates.io are incomplete or unmaintained.
//!
//! Robust as `avdec_h264` is expected to be, and stricter about what it
//! shows: garbage, truncated access units or missing references never
//! panic or stop the stream. A failed access unit is counted
//! (`decode-errors`), dropped (`frames-dropped`), reported once per burst as
//! a bus warning, and every access unit after it is dropped until the next
//! IDR decodes — no half-decoded pictures reach the sink.
//!
//! Output: I420 in buffers from a pool negotiated downstream (the picture
//! is copied once out of the decoder's own frame store, honouring the pool
//! buffer's [`VideoMeta`](crate::VideoMeta) strides), with the input's
//! PTS/DTS/duration and [`ReferenceTimestampMeta`] (no reordering delay).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use framecast_core::{
    Buffer, BufferFlags, BufferPool, Fraction, ReferenceTimestampMeta, VideoFormat, VideoInfo,
};
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use super::h264_nal::{classify, sps_profile};
use super::queue::read_only;
use super::video::{frame_layout, FrameMut};
use crate::pipeline::base::negotiate_pool;
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::{Error, Result};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "openh264dec",
        "OpenH264 video decoder",
        "Codec/Decoder/Video",
        "Decodes H.264 byte-stream to I420 with OpenH264; bad data is counted and dropped, \
         pictures resume at the next IDR",
        vec![
            PadTemplate::always(
                "sink",
                PadDirection::Sink,
                "video/x-h264,stream-format=byte-stream,alignment=au"
                    .parse()
                    .unwrap_or_else(|_| Caps::new_any()),
            ),
            PadTemplate::always(
                "src",
                PadDirection::Src,
                Caps::video_raw_any(&[VideoFormat::I420]),
            ),
        ],
        decoder_properties(),
        || Box::new(OpenH264Dec::default()),
    )
}

/// The read-only counters every decoder element has.
pub(crate) fn decoder_properties() -> Vec<crate::pipeline::PropertySpec> {
    vec![
        read_only("frames-decoded", "Pictures output"),
        read_only("decode-errors", "Input buffers the decoder rejected"),
        read_only(
            "frames-dropped",
            "Input buffers dropped: errors, and everything after one until the next keyframe",
        ),
    ]
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

    pub(crate) fn refuse_write(element: &Element, name: &str) -> Result<()> {
        if matches!(name, "frames-decoded" | "decode-errors" | "frames-dropped") {
            return Err(Error::InvalidPropertyValue {
                element: element.name().to_string(),
                property: name.to_string(),
                value: String::new(),
                reason: "read-only".into(),
            });
        }
        Ok(())
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
        let mut out = pool.acquire().map_err(|e| match e {
            framecast_core::Error::Flushing => FlowError::Flushing,
            _ => FlowError::Error,
        })?;
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

/// Per-stream decoder state.
#[derive(Default)]
struct Stream {
    decoder: Option<Decoder>,
    output: RawOutput,
    /// After an error: drop everything until an IDR decodes.
    waiting_for_idr: bool,
    /// A warning was posted for the current burst of errors.
    warned: bool,
}

/// The `openh264dec` element.
#[derive(Default)]
pub struct OpenH264Dec {
    stream: Mutex<Stream>,
    counters: DecoderCounters,
}

fn new_decoder() -> std::result::Result<Decoder, String> {
    Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
        .map_err(|e| e.to_string())
}

/// Whether OpenH264 decodes streams of this caps `profile`: 8-bit 4:2:0
/// ones (it has no 4:2:2, 4:4:4, high bit depth or Extended-profile data
/// partitioning support).
fn decodable(profile: &str) -> bool {
    matches!(
        profile,
        "constrained-baseline" | "baseline" | "main" | "high"
    )
}

/// Decodes one access unit. The decoder is C++ behind a Rust wrapper: a
/// panic in the wrapper is caught and reported as an error like any bad
/// access unit (the caller then drops the decoder), never passed up the
/// stream.
fn run_decoder<'a>(
    decoder: &'a mut Decoder,
    bytes: &[u8],
) -> std::result::Result<Option<DecodedYUV<'a>>, String> {
    match catch_unwind(AssertUnwindSafe(move || {
        let decoder = decoder;
        decoder.decode(bytes)
    })) {
        Ok(Ok(picture)) => Ok(picture),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the decoder panicked; restarted".into()),
    }
}

impl OpenH264Dec {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stream> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn failed(&self, element: &Element, stream: &mut Stream, why: &str) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        stream.waiting_for_idr = true;
        if !stream.warned {
            stream.warned = true;
            element.post_warning(
                format!("H.264 decoding error, dropping frames until the next keyframe: {why}"),
                None,
            );
        }
    }

    fn decode(
        &self,
        element: &Element,
        buffer: &Buffer,
    ) -> std::result::Result<Option<Buffer>, FlowError> {
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        let data = map.contiguous();
        let kind = classify(&data);
        if kind.parameter_sets {
            if let Some(profile) = sps_profile(&data).filter(|p| !decodable(p)) {
                // OpenH264 would take these access units and never output a
                // picture: say so instead of decoding nothing in silence.
                element.post_error(
                    format!(
                        "the stream is H.264 profile {profile}; openh264dec decodes 8-bit 4:2:0 \
                         (constrained-baseline, baseline, main, high): have the sender encode \
                         I420 (e.g. `videoconvert ! video/x-raw,format=I420` before the encoder)"
                    ),
                    None,
                );
                return Err(FlowError::NotNegotiated);
            }
        }
        let mut guard = self.lock();
        let stream = &mut *guard;
        if stream.waiting_for_idr && !kind.idr {
            if kind.slice {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(None);
        }
        if stream.decoder.is_none() {
            match new_decoder() {
                Ok(d) => stream.decoder = Some(d),
                Err(e) => {
                    element.post_error(format!("cannot start the OpenH264 decoder: {e}"), None);
                    return Err(FlowError::Error);
                }
            }
        }
        let Some(decoder) = stream.decoder.as_mut() else {
            return Err(FlowError::Error);
        };
        let bytes: &[u8] = &data;
        let yuv = match run_decoder(decoder, bytes) {
            Ok(Some(yuv)) => yuv,
            Ok(None) => {
                if kind.idr {
                    // An IDR that gives no picture yet still resets references.
                    stream.waiting_for_idr = false;
                }
                return Ok(None);
            }
            Err(why) if kind.idr && kind.parameter_sets => {
                // A complete IDR can fail only because of what came before
                // (a truncated picture still pending inside the decoder):
                // start afresh and decode it again.
                stream.decoder = None;
                let fresh = match new_decoder() {
                    Ok(d) => stream.decoder.insert(d),
                    Err(e) => {
                        element.post_error(format!("cannot start the OpenH264 decoder: {e}"), None);
                        return Err(FlowError::Error);
                    }
                };
                match run_decoder(fresh, bytes) {
                    Ok(Some(yuv)) => yuv,
                    Ok(None) => {
                        stream.waiting_for_idr = false;
                        return Ok(None);
                    }
                    Err(again) => {
                        stream.decoder = None;
                        self.failed(
                            element,
                            stream,
                            &format!("{why}; on a fresh decoder: {again}"),
                        );
                        return Ok(None);
                    }
                }
            }
            Err(why) => {
                // Whatever state the error left behind goes with the decoder.
                stream.decoder = None;
                self.failed(element, stream, &why);
                return Ok(None);
            }
        };
        let (w, h) = yuv.dimensions();
        let (sy, su, sv) = yuv.strides();
        let (Ok(width), Ok(height)) = (u32::try_from(w), u32::try_from(h)) else {
            return Ok(None);
        };
        let info = stream
            .output
            .ensure(element, VideoFormat::I420, width, height)?;
        let out = stream.output.frame(buffer, |frame| {
            let planes = [(yuv.y(), sy), (yuv.u(), su), (yuv.v(), sv)];
            for (p, (src, stride)) in planes.into_iter().enumerate() {
                let dst_stride = frame.stride(p);
                copy_plane(
                    src,
                    stride,
                    frame.plane_mut(p),
                    dst_stride,
                    info.comp_width(p) as usize,
                    info.comp_height(p) as usize,
                )?;
            }
            Ok(())
        })?;
        stream.waiting_for_idr = false;
        stream.warned = false;
        self.counters.decoded.fetch_add(1, Ordering::Relaxed);
        Ok(Some(out))
    }
}

impl ElementImpl for OpenH264Dec {
    fn property_changed(
        &self,
        element: &Element,
        name: &str,
        _value: &PropertyValue,
    ) -> Result<()> {
        DecoderCounters::refuse_write(element, name)
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.counters.read(name)
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let out = self.decode(element, &buffer)?;
        drop(buffer);
        match out {
            Some(out) => match element.src_pad() {
                Some(src) => src.push(out),
                None => Err(FlowError::NotLinked),
            },
            None => Ok(FlowSuccess::Ok),
        }
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => {
                self.lock().output.set_input_caps(&caps);
                true
            }
            Event::FlushStop { reset_time } => {
                // Pictures after a flush need a fresh keyframe.
                let mut stream = self.lock();
                stream.decoder = None;
                drop(stream);
                element.forward_event(pad, Event::FlushStop { reset_time })
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
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
            // Coded input: upstream's buffers are its own business.
            Query::Allocation(_) => false,
            _ => element.default_query(pad, query),
        }
    }

    fn change_state(&self, _element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        if change == StateChange::PausedToReady {
            let mut stream = self.lock();
            stream.decoder = None;
            stream.output.reset();
            stream.waiting_for_idr = false;
            stream.warned = false;
        }
        Ok(StateChangeSuccess::Success)
    }
}
