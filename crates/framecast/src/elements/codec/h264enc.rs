//! `h264enc`: H.264 encoding with the best encoder this build has, and the
//! element every H.264 encoder runs in (`openh264enc`, `x264enc`).
//!
//! `h264enc` picks from the [encoder registry](super::registry) by
//! tier (`x264` when built with the `x264` feature, else `openh264`; a
//! registered hardware encoder first), or the one named by its `encoder`
//! property. `openh264enc` and `x264enc` are the same element fixed to one
//! back-end, with that back-end's extra properties.
//!
//! Low latency by default, for every back-end (the defaults GStreamer
//! users learn to set by hand, `tune=zerolatency key-int-max=30`):
//! no B-frames, no lookahead, no frame skipping, an IDR every `gop-size`
//! frames (default: one second of frames) with SPS/PPS in front of it.
//!
//! Input: `video/x-raw,format=I420`, read in place at the buffer's strides
//! (its [`VideoMeta`](crate::VideoMeta)); upstream is offered a video pool.
//! Output: one access unit per buffer,
//! `video/x-h264,stream-format=byte-stream,alignment=au,profile=...`
//! (what `rtph264pay`, `avdec_h264` and `h264parse` take), in buffers from
//! a pool negotiated downstream — the encoder's own output is copied once.
//! PTS, DTS (= PTS: no reordering), duration and the
//! [`ReferenceTimestampMeta`] (capture time) follow the frame; non-IDR
//! buffers are flagged `DELTA_UNIT`, those carrying SPS/PPS `HEADER`.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use framecast_core::{
    AllocationQuery, Buffer, BufferFlags, BufferPool, ClockTime, ReferenceTimestampMeta,
    VideoFormat, VideoInfo,
};

use super::base::{codec_query, push_output};
use super::registry::{
    best_h264_encoder, find_h264_encoder, resolve_threads, H264Encoder, H264EncoderConfig,
    H264EncoderDescriptor,
};
use crate::elements::video::{frame_layout, propose_video_allocation, Frame};
use crate::pipeline::base::counters;
use crate::pipeline::base::{negotiate_pool, settings, Settings, SettingsLock};
use crate::pipeline::template_caps;
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, Pad, PadDirection,
    PadTemplate, PropertySpec, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::{Error, Result};
use framecast_rtp::h264::{AccessUnitKind, NalUnits};

/// `h264enc`'s factory.
pub fn factory() -> ElementFactory {
    let mut properties = common_properties();
    properties.extend(EncoderChoice::properties());
    ElementFactory::new(
        "h264enc",
        "H.264 encoder (best available)",
        "Codec/Encoder/Video",
        "Encodes I420 to H.264 with the best registered encoder (preferred, standard, fallback \
         tiers); low latency: no B-frames, no lookahead, IDR + SPS/PPS every second",
        templates(),
        properties,
        || Box::new(H264Enc::new(None)),
    )
}

/// The pad templates of every H.264 encoder element.
pub(crate) fn templates() -> Vec<PadTemplate> {
    vec![
        PadTemplate::always(
            "sink",
            PadDirection::Sink,
            Caps::video_raw_any(&[VideoFormat::I420]),
        ),
        PadTemplate::always("src", PadDirection::Src, h264_template()),
    ]
}

/// `video/x-h264,stream-format=byte-stream,alignment=au` at any size and rate.
pub fn h264_template() -> Caps {
    template_caps(
        "video/x-h264,stream-format=byte-stream,alignment=au,width=[1,2147483647],\
     height=[1,2147483647],framerate=[0/1,2147483647/1]",
    )
}

settings! {
    /// The writable properties every H.264 encoder element has (a
    /// back-end's own, such as `openh264enc`'s `complexity`, are its
    /// descriptor's).
    #[derive(Debug, Clone)]
    pub(crate) struct EncSettings {
        /// `bitrate`, kbit/s.
        bitrate: u32 => PropertySpec::uint("bitrate", "Target bitrate in kbit/s (as GStreamer's x264enc)", 1..=2_048_000, 2048),
        /// `gop-size`: frames per IDR; 0 = one second of frames.
        gop_size: u64 => PropertySpec::uint("gop-size", "An IDR (with SPS/PPS) every this many frames; 0 = one second of frames", 0..=100_000, 0),
        /// `threads`: 0 = one per core.
        threads: u64 => PropertySpec::uint("threads", "Encoder threads; 0 = one per core", 0..=64, 0),
        /// `min-force-key-unit-interval`, ns.
        min_force_key_unit_interval: u64 => PropertySpec::uint("min-force-key-unit-interval", "Least time between keyframes forced by upstream requests (GstForceKeyUnit), in \
            ns; a request sooner waits for it", 0..=u64::MAX, DEFAULT_MIN_FORCE_KEY_UNIT_INTERVAL),
    }
}

settings! {
    /// `h264enc`'s own writable property: which back-end.
    #[derive(Debug, Clone)]
    pub(crate) struct EncoderChoice {
        /// `encoder`: a registered back-end's name; unset = the best by tier.
        encoder: Option<String> => PropertySpec::string("encoder", "The encoder to use (openh264, x264, ...); unset = the best available by tier", None),
    }
}

/// Properties every H.264 encoder element has.
pub(crate) fn common_properties() -> Vec<PropertySpec> {
    let mut properties = EncSettings::properties();
    properties.extend(counters! {
        "frames-encoded" => "Access units produced",
        "keyframes" => "IDR access units produced",
        "bytes-encoded" => "Bytes of H.264 produced",
        "frames-skipped" => "Frames the encoder produced no output for",
        "encode-time-us" => "Time spent in the encoder, microseconds, in total",
    });
    properties
}

/// Default `min-force-key-unit-interval`: 200 ms. GStreamer's video
/// encoders default to 0 (no limit); but an IDR costs several P-frames
/// of bitrate and requests come in storms (receivers on a lossy link,
/// many RTSP viewers joining), so at most five forced IDRs a second. Not
/// more than that: a request inside the interval waits for its end, and
/// that wait is a late RTSP viewer's time to its first picture (at 500 ms
/// viewers joining 370 ms apart waited 237 ms at p50). The interval sits
/// below `rtspserversink`'s own 250 ms between requests, so those are
/// never held here. The first request after a quiet spell is honoured on
/// the next frame.
pub const DEFAULT_MIN_FORCE_KEY_UNIT_INTERVAL: u64 = 200_000_000;

/// Read-only properties that are not counters (counters refuse writes
/// by their type).
const READ_ONLY: &[&str] = &["asm"];

/// An encoder element's factory for one back-end: the common properties
/// plus the back-end's own.
pub(crate) fn backend_factory(
    descriptor: &H264EncoderDescriptor,
    long_name: &'static str,
    description: &'static str,
    create: fn() -> Box<dyn ElementImpl>,
) -> ElementFactory {
    let mut properties = common_properties();
    properties.extend((descriptor.properties)());
    ElementFactory::new(
        descriptor.element,
        long_name,
        "Codec/Encoder/Video",
        description,
        templates(),
        properties,
        create,
    )
}

/// Per-stream state: touched on the streaming thread only.
struct Stream {
    encoder: Box<dyn H264Encoder>,
    backend: &'static str,
    info: VideoInfo,
    pool: Option<BufferPool>,
    /// Bytes a pool buffer holds (a bigger access unit gets its own buffer).
    pool_size: usize,
    /// What the pool is asked for: a raw frame plus headroom.
    max_size: usize,
}

#[derive(Default)]
struct Counters {
    frames: AtomicU64,
    keyframes: AtomicU64,
    bytes: AtomicU64,
    skipped: AtomicU64,
    encode_ns: AtomicU64,
}

/// The H.264 encoder element: runs one back-end from the registry.
pub struct H264Enc {
    /// The back-end (`None`: `h264enc`, chosen at stream start).
    fixed: Option<&'static str>,
    settings: SettingsLock<EncSettings>,
    /// `h264enc`'s `encoder` (a back-end's element has no such property).
    choice: SettingsLock<EncoderChoice>,
    input: Mutex<Option<VideoInfo>>,
    stream: Mutex<Option<Stream>>,
    chosen: Mutex<Option<&'static str>>,
    force_keyframe: AtomicBool,
    /// PTS (ns) + 1 of the last keyframe a request forced; 0 = none yet.
    last_forced: AtomicU64,
    counters: Counters,
}

impl H264Enc {
    /// An encoder element running back-end `fixed`, or the best one.
    pub fn new(fixed: Option<&'static str>) -> H264Enc {
        H264Enc {
            fixed,
            settings: SettingsLock::default(),
            choice: SettingsLock::default(),
            input: Mutex::new(None),
            stream: Mutex::new(None),
            chosen: Mutex::new(None),
            force_keyframe: AtomicBool::new(false),
            last_forced: AtomicU64::new(0),
            counters: Counters::default(),
        }
    }

    /// Asks for an IDR (with SPS/PPS) on the next frame: a receiver joined
    /// or lost packets. What an upstream force-key-unit event
    /// ([`Event::force_key_unit_upstream`]) does; at most one forced IDR
    /// per `min-force-key-unit-interval`.
    pub fn force_keyframe(&self) {
        self.force_keyframe.store(true, Ordering::Relaxed);
    }

    /// Whether to force an IDR on the frame at `pts`: a request is pending
    /// and the last forced IDR is at least `min-force-key-unit-interval`
    /// older; a request too soon stays pending for a later frame.
    fn take_key_unit_request(&self, pts: Option<ClockTime>) -> bool {
        if !self.force_keyframe.load(Ordering::Relaxed) {
            return false;
        }
        let min = self.settings.read(|s| s.min_force_key_unit_interval);
        let last = self.last_forced.load(Ordering::Relaxed);
        if let Some(pts) = pts {
            // Too soon after the last forced IDR; timestamps that went
            // back (a flush, a restarted source) start the count again.
            let since_last = last > 0 && pts.nseconds() >= last - 1;
            if since_last && pts.nseconds() < (last - 1).saturating_add(min) {
                return false;
            }
            self.last_forced
                .store(pts.nseconds().saturating_add(1), Ordering::Relaxed);
        }
        self.force_keyframe.store(false, Ordering::Relaxed);
        true
    }

    /// The back-end in use (once the input caps are set), e.g. `"openh264"`.
    pub fn backend(&self) -> Option<&'static str> {
        *self.chosen.locked()
    }

    fn descriptor(&self, element: &Element) -> Result<H264EncoderDescriptor> {
        let fail = |message: String| Error::Element {
            element: element.name().to_string(),
            message,
        };
        let wanted = self
            .fixed
            .map(str::to_string)
            .or_else(|| self.choice.get().encoder);
        match wanted {
            Some(name) => match find_h264_encoder(&name) {
                Some(d) if (d.available)() => Ok(d),
                Some(_) => Err(fail(format!(
                    "H.264 encoder {name:?} is not available here"
                ))),
                None => {
                    let known: Vec<&str> = super::registry::h264_encoders()
                        .iter()
                        .map(|d| d.name)
                        .collect();
                    Err(fail(format!(
                        "no H.264 encoder named {name:?}; registered: {}",
                        known.join(", ")
                    )))
                }
            },
            None => best_h264_encoder().ok_or_else(|| fail("no H.264 encoder available".into())),
        }
    }

    fn start_stream(&self, element: &Element, info: VideoInfo) -> Result<Stream> {
        let descriptor = self.descriptor(element)?;
        let fps_frames = if info.fps.num > 0 && info.fps.den > 0 {
            // Round to the nearest whole frame, at least one.
            ((i64::from(info.fps.num) + i64::from(info.fps.den) / 2) / i64::from(info.fps.den))
                .max(1) as u64
        } else {
            30
        };
        let settings = self.settings.get();
        let mut gop = settings.gop_size;
        // `key-int-max` is x264enc's own (its descriptor declares it).
        if let Ok(v) = element.property("key-int-max") {
            gop = v.as_u64().filter(|&v| v > 0).unwrap_or(gop);
        }
        if gop == 0 {
            gop = fps_frames;
        }
        let config = H264EncoderConfig {
            info,
            bitrate_kbps: settings.bitrate,
            gop_size: u32::try_from(gop).unwrap_or(u32::MAX).max(1),
            threads: resolve_threads(settings.threads),
        };
        let encoder = (descriptor.create)(element, &config).map_err(|message| Error::Element {
            element: element.name().to_string(),
            message: format!("cannot start the {} encoder: {message}", descriptor.name),
        })?;
        *self.chosen.locked() = Some(descriptor.name);
        // A raw frame's size plus headroom holds any sane access unit; a
        // bigger one gets a buffer of its own.
        let max_size = info.size + 64 * 1024;
        Ok(Stream {
            encoder,
            backend: descriptor.name,
            info,
            pool: None,
            pool_size: 0,
            max_size,
        })
    }

    /// Opens the encoder for `info` now, when the caps arrive, unless one
    /// is open: opening (x264 allocates its frames and starts its threads,
    /// OpenH264 its slice threads) takes tens of milliseconds, and done at
    /// the first frame it held that frame up and blocked a live producer
    /// behind it. A source that knows its caps before its data
    /// (`rawvideoparse`, `appsrc` with caps) gets it done before the first
    /// frame is even read. False, with an error posted, if it cannot open.
    fn open_stream(&self, element: &Element, info: VideoInfo) -> bool {
        let mut guard = self.stream.locked();
        if guard.is_some() {
            return true;
        }
        match self.start_stream(element, info) {
            Ok(s) => {
                *guard = Some(s);
                true
            }
            Err(e) => {
                element.post_error(e.to_string(), None);
                false
            }
        }
    }

    fn output_caps(info: &VideoInfo, profile: Option<&str>) -> Caps {
        let mut text = format!(
            "video/x-h264,stream-format=byte-stream,alignment=au,width={},height={},framerate={},\
             pixel-aspect-ratio={}",
            info.width, info.height, info.fps, info.par
        );
        if let Some(p) = profile {
            text.push_str(",profile=");
            text.push_str(p);
        }
        text.parse().unwrap_or_else(|_| h264_template())
    }

    fn encode(
        &self,
        element: &Element,
        buffer: Buffer,
    ) -> std::result::Result<Option<Buffer>, FlowError> {
        let Some(info) = *self.input.locked() else {
            element.post_error("no caps before the first frame", None);
            return Err(FlowError::NotNegotiated);
        };
        let mut guard = self.stream.locked();
        if guard.is_none() {
            match self.start_stream(element, info) {
                Ok(s) => *guard = Some(s),
                Err(e) => {
                    element.post_error(e.to_string(), None);
                    return Err(FlowError::Error);
                }
            }
        }
        let Some(stream) = guard.as_mut() else {
            return Err(FlowError::Error);
        };
        let layout = match frame_layout(&buffer, &stream.info) {
            Ok(l) => l,
            Err(e) => {
                element.post_error(format!("input frame: {e}"), None);
                return Err(FlowError::Error);
            }
        };
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        let data = map.contiguous();
        let frame = match Frame::new(layout, &data) {
            Ok(f) => f,
            Err(e) => {
                element.post_error(format!("input frame: {e}"), None);
                return Err(FlowError::Error);
            }
        };
        let force = self.take_key_unit_request(buffer.pts());
        let started = Instant::now();
        let encoded = match stream.encoder.encode(&frame, buffer.pts(), force) {
            Ok(e) => e,
            Err(message) => {
                element.post_error(
                    format!("{} encoder failed: {message}", stream.backend),
                    None,
                );
                return Err(FlowError::Error);
            }
        };
        self.counters
            .encode_ns
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if encoded.is_empty() {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let total = encoded.len();
        // The first NALs tell parameter sets and IDR apart; stop at the first slice.
        let mut kind = AccessUnitKind::default();
        for chunk in &encoded.chunks {
            let k = NalUnits::AnnexB(chunk).classify();
            kind.parameter_sets |= k.parameter_sets;
            kind.idr |= k.idr;
            if k.slice {
                break;
            }
        }
        let keyframe = encoded.keyframe || kind.idr;
        if stream.pool.is_none() {
            let profile = encoded
                .chunks
                .iter()
                .find_map(|c| NalUnits::AnnexB(c).sps_profile());
            let caps = Self::output_caps(&stream.info, profile);
            let Some(src) = element.src_pad() else {
                return Err(FlowError::NotLinked);
            };
            if !src.push_event(Event::Caps(caps.clone())) {
                element.post_error(format!("downstream refused {caps}"), None);
                return Err(FlowError::NotNegotiated);
            }
            match negotiate_pool(element, &src, &caps, stream.max_size, 2) {
                Ok(pool) => {
                    stream.pool_size = pool.config().map_or(0, |c| c.size);
                    stream.pool = Some(pool);
                }
                Err(e) => {
                    element.post_error(format!("output pool: {e}"), None);
                    return Err(FlowError::Error);
                }
            }
        }
        let pooled = stream
            .pool
            .as_ref()
            .filter(|_| stream.pool_size >= total)
            .map(|p| p.acquire());
        let mut out = match pooled {
            Some(Ok(b)) => b,
            Some(Err(framecast_core::Error::Flushing)) => return Err(FlowError::Flushing),
            Some(Err(_)) => return Err(FlowError::Error),
            None => Buffer::with_size(total).map_err(|_| FlowError::Error)?,
        };
        {
            let Some(o) = out.get_mut() else {
                return Err(FlowError::Error);
            };
            {
                let mut w = o.map_writable().map_err(|_| FlowError::Error)?;
                let dst: &mut [u8] = &mut w;
                if dst.len() < total {
                    return Err(FlowError::Error);
                }
                let mut at = 0;
                for chunk in &encoded.chunks {
                    dst[at..at + chunk.len()].copy_from_slice(chunk);
                    at += chunk.len();
                }
            }
            o.set_size(total).map_err(|_| FlowError::Error)?;
            o.set_pts(buffer.pts());
            o.set_dts(buffer.dts().or(buffer.pts()));
            o.set_duration(buffer.duration());
            o.set_offset(buffer.offset());
            o.set_offset_end(buffer.offset_end());
            let mut flags = buffer.flags() & (BufferFlags::DISCONT | BufferFlags::LIVE);
            if !keyframe {
                flags |= BufferFlags::DELTA_UNIT;
            }
            if kind.parameter_sets {
                flags |= BufferFlags::HEADER;
            }
            o.set_flags(flags);
            ReferenceTimestampMeta::copy_all(&buffer, o);
        }
        drop(encoded);
        drop(guard);
        self.counters.frames.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes
            .fetch_add(total as u64, Ordering::Relaxed);
        if keyframe {
            self.counters.keyframes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Some(out))
    }

    fn reset(&self) {
        let old = self.stream.locked().take();
        if let Some(pool) = old.and_then(|s| s.pool) {
            let _ = pool.set_active(false);
        }
    }
}

impl ElementImpl for H264Enc {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        if READ_ONLY.contains(&name) {
            return Err(Error::InvalidPropertyValue {
                element: element.name().to_string(),
                property: name.to_string(),
                value: String::new(),
                reason: "read-only".into(),
            });
        }
        self.settings.write(element, name, value)?;
        self.choice.write(element, name, value)
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let c = &self.counters;
        let v = match name {
            "frames-encoded" => c.frames.load(Ordering::Relaxed),
            "keyframes" => c.keyframes.load(Ordering::Relaxed),
            "bytes-encoded" => c.bytes.load(Ordering::Relaxed),
            "frames-skipped" => c.skipped.load(Ordering::Relaxed),
            "encode-time-us" => c.encode_ns.load(Ordering::Relaxed) / 1000,
            "encoder" => {
                return self
                    .backend()
                    .map(|b| PropertyValue::String(Some(b.to_string())))
            }
            _ => return None,
        };
        Some(PropertyValue::UInt(v))
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let out = self.encode(element, buffer)?;
        push_output(element, out)
    }

    fn src_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        if event.is_force_key_unit_upstream() {
            // Honoured here, as GStreamer's video encoders do: upstream of
            // the encoder no element can make a keyframe.
            self.force_keyframe();
            return true;
        }
        element.forward_event(pad, event)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => match caps.video_info() {
                Ok(info) if info.format == VideoFormat::I420 => {
                    let changed = {
                        let mut input = self.input.locked();
                        let changed = *input != Some(info);
                        *input = Some(info);
                        changed
                    };
                    if changed {
                        // A new encoder (and new output caps) for the new input.
                        self.reset();
                    }
                    // Output caps now, not at the first encoded frame: what
                    // comes downstream (a payloader, `udpsink sdp-file=`, a
                    // Sender's SDP) knows the stream before any frame. The
                    // first frame adds the profile its SPS names.
                    if let Some(src) = element.src_pad() {
                        let _ = src.push_event(Event::Caps(Self::output_caps(&info, None)));
                    }
                    // The encoder opens now too, not on the first frame
                    // (which would wait behind it).
                    self.open_stream(element, info)
                }
                Ok(info) => {
                    element.post_error(
                        format!(
                            "{} input is not supported: convert to I420 first",
                            info.format
                        ),
                        None,
                    );
                    false
                }
                Err(e) => {
                    element.post_error(format!("bad input caps: {e}"), None);
                    false
                }
            },
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        match query {
            Query::Allocation(q) if pad.direction() == PadDirection::Sink => propose_allocation(q),
            Query::Latency { .. } => {
                let handled = element.default_query(pad, query);
                let extra = self.latency();
                if let Query::Latency { min, max, .. } = query {
                    *min += extra;
                    if let Some(m) = max.as_mut() {
                        *m += extra;
                    }
                }
                handled
            }
            _ => codec_query(element, pad, query),
        }
    }

    fn change_state(&self, _element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        if change == StateChange::PausedToReady {
            self.reset();
            *self.input.locked() = None;
            self.force_keyframe.store(false, Ordering::Relaxed);
            self.last_forced.store(0, Ordering::Relaxed);
        }
        Ok(StateChangeSuccess::Success)
    }
}

impl H264Enc {
    /// The encoder's own delay: frames held back times the frame duration.
    fn latency(&self) -> ClockTime {
        let guard = self.stream.locked();
        let Some(stream) = guard.as_ref() else {
            return ClockTime::ZERO;
        };
        let frames = u64::from(stream.encoder.latency_frames());
        let fps = stream.info.fps;
        match (u64::try_from(fps.num), u64::try_from(fps.den)) {
            (Ok(num), Ok(den)) if num > 0 && frames > 0 => ClockTime::SECOND
                .mul_div_floor(frames.saturating_mul(den), num)
                .unwrap_or(ClockTime::ZERO),
            _ => ClockTime::ZERO,
        }
    }
}

fn propose_allocation(query: &mut AllocationQuery) -> bool {
    propose_video_allocation(query)
}
