//! `rawvideoparse`: cuts a byte stream of raw video (from `fdsrc`,
//! `filesrc`, a pipe from OpenCV or numpy) into whole timestamped frames.
//!
//! The input arrives in chunks of any size; the parser copies them into
//! buffers from the negotiated pool until a frame is complete, stamps it
//! (PTS = n × frame duration, computed exactly from the framerate, not by
//! adding rounded durations) and pushes it with caps fixed from the
//! properties. A last frame cut short by end-of-stream is dropped with a
//! warning on the bus.
//!
//! The input layout is GStreamer's default for the format and size (rows
//! padded to 4 bytes where the format needs it — none of the common
//! sizes do), the same layout GStreamer's `rawvideoparse` expects; a
//! `frame-size` larger than a frame skips the extra bytes after each one.
//! When downstream asks for padded or aligned strides (video meta), each
//! frame is gathered first and then copied row by row into that layout.
//!
//! ```text
//! python3 make_frames.py | framecast launch "fdsrc ! rawvideoparse format=bgr width=1280 height=720 framerate=30/1 ! videoconvert ! ..."
//! ```

use framecast_core::sync::MutexExt;
use std::sync::Mutex;

use framecast_core::{Buffer, BufferPool, ClockTime, Fraction, VideoFormat, VideoInfo};

use crate::pipeline::base::{negotiate_pool, settings, Settings, SettingsLock};
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertySpec, PropertyValue, Query, Segment, StateChange,
    StateChangeSuccess,
};
use crate::{Error, Result};

/// The `format` nicks, as GStreamer's `GstVideoFormat` enum spells them.
const FORMATS: &[(&str, &str)] = &[
    ("i420", "Planar 4:2:0 YUV (I420)"),
    ("nv12", "Planar 4:2:0 YUV with interleaved UV plane (NV12)"),
    ("rgb", "Packed 24-bit RGB"),
    ("bgr", "Packed 24-bit BGR (OpenCV's order)"),
    ("rgba", "Packed 32-bit RGBA"),
    ("bgra", "Packed 32-bit BGRA"),
    ("rgbx", "Packed 32-bit RGB with padding byte (RGBx)"),
    ("bgrx", "Packed 32-bit BGR with padding byte (BGRx)"),
    ("gray8", "8-bit grayscale"),
];

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "rawvideoparse",
        "rawvideoparse",
        "Codec/Parser/Video",
        "Converts unformatted data streams into timestamped raw video frames",
        vec![
            PadTemplate::always("sink", PadDirection::Sink, Caps::new_any()),
            PadTemplate::always(
                "src",
                PadDirection::Src,
                Caps::video_raw_any(VideoFormat::ALL),
            ),
        ],
        RawVideoParseSettings::properties(),
        || Box::new(RawVideoParse::default()),
    )
}

settings! {
    /// `rawvideoparse`'s writable properties: the frames the byte stream
    /// holds.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct RawVideoParseSettings {
        /// `format`: a nick of [`FORMATS`].
        format: &'static str => PropertySpec::enumeration("format", "Format of frames in raw stream", FORMATS, "i420"),
        width: u32 => PropertySpec::int("width", "Width of frames in raw stream", 0..=i64::from(i32::MAX), 320),
        height: u32 => PropertySpec::int("height", "Height of frames in raw stream", 0..=i64::from(i32::MAX), 240),
        /// `framerate` (0/1 = unknown: no timestamps).
        framerate: Fraction => PropertySpec::fraction("framerate", "Rate of frames in raw stream (0/1 = unknown: no timestamps)", Fraction::from_integer(25)),
        pixel_aspect_ratio: Fraction => PropertySpec::fraction("pixel-aspect-ratio", "Pixel aspect ratio of frames in raw stream", Fraction::ONE),
        /// `frame-size`: bytes per frame, padding included (0 = packed).
        frame_size: u64 => PropertySpec::uint("frame-size", "Size of a frame in the stream (0 = frames are tightly packed together)", 0..=u32::MAX as u64, 0),
    }
}

/// The frame layout the settings describe.
fn info_from_settings(settings: &RawVideoParseSettings) -> Result<VideoInfo> {
    let format = VideoFormat::from_name(settings.format)?;
    Ok(VideoInfo::new(format, settings.width, settings.height)?
        .with_fps(settings.framerate)
        .with_par(settings.pixel_aspect_ratio))
}

/// Per-stream state, touched on the streaming thread.
#[derive(Default)]
struct Stream {
    /// Caps pushed and pool decided.
    negotiated: bool,
    /// Negotiation failed: every buffer is refused with this.
    failed: Option<FlowError>,
    info: Option<VideoInfo>,
    /// The pool's frame layout when it differs from the packed input
    /// layout (downstream asked for padding or stride alignment).
    padded: Option<VideoInfo>,
    /// Bytes of one frame in the input, padding included.
    frame_size: usize,
    pool: Option<BufferPool>,
    /// The frame being filled (direct mode).
    current: Option<Buffer>,
    /// The frame being gathered (padded mode).
    staging: Vec<u8>,
    /// Bytes of the current frame received.
    filled: usize,
    /// Bytes still to skip (frame padding) before the next frame.
    skip: usize,
    /// Frames pushed.
    frames: u64,
}

impl Stream {
    fn reset(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = pool.set_active(false);
        }
        *self = Stream::default();
    }

    fn drop_partial(&mut self) {
        self.current = None;
        self.staging.clear();
        self.filled = 0;
        self.skip = 0;
    }
}

/// The `rawvideoparse` element.
#[derive(Default)]
pub struct RawVideoParse {
    settings: SettingsLock<RawVideoParseSettings>,
    stream: Mutex<Stream>,
}

impl std::fmt::Debug for RawVideoParse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stream = self.lock();
        f.debug_struct("RawVideoParse")
            .field("info", &stream.info)
            .field("frames", &stream.frames)
            .field("filled", &stream.filled)
            .finish()
    }
}

/// Copies a packed frame into a buffer laid out as `padded`, row by row.
fn copy_padded(packed: &[u8], info: &VideoInfo, padded: &VideoInfo, out: &mut [u8]) -> bool {
    for plane in 0..info.n_planes {
        let rows = info.comp_height(plane) as usize;
        let row_bytes = info.stride[plane].min(padded.stride[plane]);
        for row in 0..rows {
            let src = info.offset[plane] + row * info.stride[plane];
            let dst = padded.offset[plane] + row * padded.stride[plane];
            let (Some(from), Some(to)) = (
                packed.get(src..src + row_bytes),
                out.get_mut(dst..dst + row_bytes),
            ) else {
                return false;
            };
            to.copy_from_slice(from);
        }
    }
    true
}

impl RawVideoParse {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stream> {
        self.stream.locked()
    }

    /// Fixed caps from the properties (the template when they are invalid).
    fn src_caps(&self, pad: &Pad) -> Caps {
        match self.settings.read(info_from_settings) {
            Ok(info) => Caps::from_video_info(&info),
            Err(_) => pad.template_caps().clone(),
        }
    }

    /// Pushes the caps and decides the pool, once per stream.
    fn negotiate(
        &self,
        element: &Element,
        stream: &mut Stream,
    ) -> std::result::Result<(), FlowError> {
        if let Some(failed) = stream.failed {
            return Err(failed);
        }
        if stream.negotiated {
            return Ok(());
        }
        let fail = |stream: &mut Stream, message: String, flow: FlowError| {
            element.post_error(message, None);
            stream.failed = Some(flow);
            Err(flow)
        };
        let settings = self.settings.get();
        let info = match info_from_settings(&settings) {
            Ok(info) => info,
            Err(e) => {
                return fail(
                    stream,
                    format!("invalid frame description: {e}"),
                    FlowError::NotNegotiated,
                )
            }
        };
        let frame_size = match settings.frame_size {
            0 => info.size,
            n => match usize::try_from(n) {
                Ok(n) if n >= info.size => n,
                _ => {
                    return fail(
                        stream,
                        format!(
                            "frame-size {n} is smaller than a {}x{} {} frame ({} bytes)",
                            info.width,
                            info.height,
                            info.format.name(),
                            info.size
                        ),
                        FlowError::NotNegotiated,
                    )
                }
            },
        };
        let Some(src) = element.src_pad() else {
            return fail(stream, "no source pad".into(), FlowError::NotLinked);
        };
        let caps = Caps::from_video_info(&info);
        if !src.push_event(Event::Caps(caps.clone())) {
            let downstream = src.peer_element_name();
            let err = Error::NotNegotiated {
                upstream: element.name().to_string(),
                downstream,
                reason: format!("downstream refused caps {caps}"),
            };
            return fail(stream, err.to_string(), FlowError::NotNegotiated);
        }
        let pool = match negotiate_pool(element, &src, &caps, info.size, 2) {
            Ok(pool) => pool,
            Err(e) => return fail(stream, format!("allocation failed: {e}"), FlowError::Error),
        };
        let layout = pool.frame_layout().unwrap_or(info);
        let n = info.n_planes;
        stream.padded =
            if layout.stride[..n] == info.stride[..n] && layout.offset[..n] == info.offset[..n] {
                None
            } else {
                Some(layout)
            };
        stream.info = Some(info);
        stream.frame_size = frame_size;
        stream.pool = Some(pool);
        stream.negotiated = true;
        Ok(())
    }

    /// Takes bytes of `data` into the current frame; returns how many
    /// were used and the frame, if it is now complete.
    fn take(
        stream: &mut Stream,
        data: &[u8],
    ) -> std::result::Result<(usize, Option<Buffer>), FlowError> {
        let mut used = 0;
        if stream.skip > 0 {
            let n = stream.skip.min(data.len());
            stream.skip -= n;
            used += n;
            if stream.skip > 0 {
                return Ok((used, None));
            }
        }
        let Some(info) = stream.info else {
            return Err(FlowError::NotNegotiated);
        };
        let rest = &data[used..];
        if rest.is_empty() {
            return Ok((used, None));
        }
        let want = info.size - stream.filled;
        let n = want.min(rest.len());
        if stream.padded.is_some() {
            if stream.staging.capacity() < info.size {
                stream
                    .staging
                    .reserve_exact(info.size - stream.staging.len());
            }
            stream.staging.extend_from_slice(&rest[..n]);
        } else {
            if stream.current.is_none() {
                let pool = stream.pool.as_ref().ok_or(FlowError::NotNegotiated)?;
                stream.current = Some(pool.acquire().map_err(FlowError::from_acquire)?);
            }
            let frame = stream
                .current
                .as_mut()
                .and_then(|b| b.get_mut())
                .ok_or(FlowError::Error)?;
            frame
                .fill(stream.filled, &rest[..n])
                .map_err(|_| FlowError::Error)?;
        }
        stream.filled += n;
        used += n;
        if stream.filled < info.size {
            return Ok((used, None));
        }
        // A whole frame.
        stream.filled = 0;
        stream.skip = stream.frame_size - info.size;
        let mut frame = match stream.padded {
            None => stream.current.take().ok_or(FlowError::Error)?,
            Some(padded) => {
                let pool = stream.pool.as_ref().ok_or(FlowError::NotNegotiated)?;
                let mut frame = pool.acquire().map_err(FlowError::from_acquire)?;
                {
                    let out = frame.get_mut().ok_or(FlowError::Error)?;
                    let mut map = out.map_writable().map_err(|_| FlowError::Error)?;
                    if !copy_padded(&stream.staging, &info, &padded, map.as_mut_slice()) {
                        return Err(FlowError::Error);
                    }
                }
                stream.staging.clear();
                frame
            }
        };
        let n = stream.frames;
        stream.frames += 1;
        let at = |i: u64| {
            let num = u64::try_from(info.fps.num).ok().filter(|&v| v > 0)?;
            let den = u64::try_from(info.fps.den).ok().filter(|&v| v > 0)?;
            ClockTime::SECOND.mul_div_floor(i.checked_mul(den)?, num)
        };
        let b = frame.get_mut().ok_or(FlowError::Error)?;
        if stream.padded.is_none() && b.size() != info.size {
            let _ = b.set_size(info.size);
        }
        let (pts, next) = (at(n), at(n + 1));
        b.set_pts(pts);
        b.set_dts(pts);
        b.set_duration(match (pts, next) {
            (Some(a), Some(b)) => b.checked_sub(a),
            _ => None,
        });
        b.set_offset(Some(n));
        b.set_offset_end(Some(n + 1));
        Ok((used, Some(frame)))
    }
}

impl ElementImpl for RawVideoParse {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        {
            let mut stream = self.lock();
            self.negotiate(element, &mut stream)?;
        }
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        for slice in map.slices() {
            let mut offset = 0;
            while offset < slice.len() {
                let (used, frame) = {
                    let mut stream = self.lock();
                    Self::take(&mut stream, &slice[offset..])?
                };
                offset += used;
                if let Some(frame) = frame {
                    // The lock is released: downstream may take its time.
                    src.push(frame)?;
                }
                if used == 0 {
                    break;
                }
            }
        }
        Ok(FlowSuccess::Ok)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::StreamStart { .. } => {
                let handled = element.forward_event(pad, event);
                let mut stream = self.lock();
                // Caps are known from the properties: announce them now,
                // before the segment, as a demuxer would.
                let _ = self.negotiate(element, &mut stream);
                handled
            }
            // Our caps come from the properties, not from upstream.
            Event::Caps(_) => true,
            // Upstream's segment is in bytes; ours is in time from zero.
            Event::Segment(_) => element.forward_event(pad, Event::Segment(Segment::default())),
            Event::Eos => {
                {
                    let mut stream = self.lock();
                    if stream.filled > 0 {
                        let size = stream.info.map_or(0, |i| i.size);
                        element.post_warning(
                            format!(
                                "dropping an incomplete last frame: {} of {size} bytes",
                                stream.filled
                            ),
                            Some(format!("after {} whole frames", stream.frames)),
                        );
                    }
                    stream.drop_partial();
                }
                element.forward_event(pad, Event::Eos)
            }
            Event::FlushStop { reset_time } => {
                self.lock().drop_partial();
                element.forward_event(pad, Event::FlushStop { reset_time })
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        match (pad.direction(), &mut *query) {
            (PadDirection::Src, Query::Caps { filter, result }) => {
                let mut caps = self.src_caps(pad);
                if let Some(f) = filter {
                    caps = caps.intersect(f);
                }
                *result = Some(caps);
                true
            }
            (PadDirection::Src, Query::AcceptCaps { caps, result }) => {
                *result = caps.can_intersect(&self.src_caps(pad));
                true
            }
            (PadDirection::Sink, Query::Caps { filter, result }) => {
                *result = Some(match filter {
                    Some(f) => pad.template_caps().intersect(f),
                    None => pad.template_caps().clone(),
                });
                true
            }
            (PadDirection::Sink, Query::AcceptCaps { result, .. }) => {
                *result = true;
                true
            }
            // Upstream's byte buffers are not our frames: no proposal.
            (PadDirection::Sink, Query::Allocation(_)) => false,
            _ => element.default_query(pad, query),
        }
    }

    fn change_state(&self, _element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        if matches!(
            change,
            StateChange::PausedToReady | StateChange::ReadyToPaused
        ) {
            self.lock().reset();
        }
        Ok(StateChangeSuccess::Success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_copy_moves_rows() {
        let info = VideoInfo::new(VideoFormat::Gray8, 4, 2).unwrap();
        let mut padded = info;
        padded.stride[0] = 8;
        padded.size = 16;
        let packed = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut out = [0u8; 16];
        assert!(copy_padded(&packed, &info, &padded, &mut out));
        assert_eq!(out, [1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 8, 0, 0, 0, 0]);
    }

    #[test]
    fn format_nicks_are_video_formats() {
        for (nick, _) in FORMATS {
            assert!(VideoFormat::from_name(nick).is_ok(), "{nick}");
        }
    }
}
