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
//! (`decode-errors`), dropped (`frames-dropped`), reported once per kind of
//! error and burst as a bus warning, and every access unit after it is
//! dropped until the next IDR decodes — no half-decoded pictures reach the
//! sink. Parameter sets of a profile OpenH264 cannot decode (4:2:2, 4:4:4,
//! high bit depth) are such an error too, not the end of the stream: two
//! hostile packets must not stop a receiver whose real stream decodes.
//! Only input that yields no picture for [`UNDECODABLE_AFTER`] is reported
//! as a stream that does not decode (a warning naming the last reason; the
//! application decides whether that ends it).
//!
//! Output: I420 in buffers from a pool negotiated downstream (the picture
//! is copied once out of the decoder's own frame store, honouring the pool
//! buffer's [`VideoMeta`](crate::VideoMeta) strides), with the input's
//! PTS/DTS/duration and [`ReferenceTimestampMeta`] (no reordering delay).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use framecast_core::{Buffer, VideoFormat};
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use super::codec::{
    codec_query, copy_plane, decoder_properties, push_output, DecoderCounters, RawOutput,
};
use super::h264_nal::{classify, sps_profile};
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, Pad, PadDirection,
    PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::Result;

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

/// Input that has yielded no picture for this long is reported as a
/// stream that does not decode.
pub const UNDECODABLE_AFTER: Duration = Duration::from_secs(5);

/// Kinds of decoding error, each warned about once per burst.
#[derive(Debug, Clone, Copy)]
enum ErrorKind {
    /// Parameter sets of a profile OpenH264 has no support for.
    Unsupported = 1,
    /// The bitstream did not decode.
    Bitstream = 2,
}

/// Per-stream decoder state.
#[derive(Default)]
struct Stream {
    decoder: Option<Decoder>,
    output: RawOutput,
    /// After an error: drop everything until an IDR decodes.
    waiting_for_idr: bool,
    /// Kinds (bits of [`ErrorKind`]) warned about in the current burst.
    warned: u8,
    /// Since when input has come without a picture coming out.
    no_picture_since: Option<Instant>,
    /// Why the last access unit failed.
    last_error: String,
    /// The stream was reported as not decoding (until a picture comes).
    reported_undecodable: bool,
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

    fn failed(&self, element: &Element, stream: &mut Stream, kind: ErrorKind, why: &str) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        // Parameter sets kept from the decoder leave its state as it was;
        // a bitstream error leaves references it cannot trust.
        if matches!(kind, ErrorKind::Bitstream) {
            stream.waiting_for_idr = true;
        }
        if stream.warned & kind as u8 == 0 {
            stream.warned |= kind as u8;
            element.post_warning(
                format!("H.264 decoding error, dropping frames until the next keyframe: {why}"),
                None,
            );
        }
        why.clone_into(&mut stream.last_error);
    }

    /// Input came: notes since when no picture has, and reports a stream
    /// that has not decoded for [`UNDECODABLE_AFTER`] (once).
    fn note_input(&self, element: &Element, stream: &mut Stream) {
        let since = *stream.no_picture_since.get_or_insert_with(Instant::now);
        if !stream.reported_undecodable && since.elapsed() >= UNDECODABLE_AFTER {
            stream.reported_undecodable = true;
            let why = if stream.last_error.is_empty() {
                "no keyframe arrived"
            } else {
                stream.last_error.as_str()
            };
            element.post_warning(
                format!(
                    "the H.264 stream has not decoded for {} s: {why}",
                    UNDECODABLE_AFTER.as_secs()
                ),
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
        let mut guard = self.lock();
        let stream = &mut *guard;
        self.note_input(element, stream);
        if kind.parameter_sets {
            if let Some(profile) = sps_profile(&data).filter(|p| !decodable(p)) {
                // OpenH264 would take these access units and never output a
                // picture: say so instead of decoding nothing in silence,
                // and keep them from the decoder, whose state belongs to
                // the stream that does decode (one stray or hostile packet
                // must not end it).
                let why = format!(
                    "the stream is H.264 profile {profile}; openh264dec decodes 8-bit 4:2:0 \
                     (constrained-baseline, baseline, main, high): have the sender encode \
                     I420 (e.g. `videoconvert ! video/x-raw,format=I420` before the encoder)"
                );
                self.failed(element, stream, ErrorKind::Unsupported, &why);
                return Ok(None);
            }
        }
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
                            ErrorKind::Bitstream,
                            &format!("{why}; on a fresh decoder: {again}"),
                        );
                        return Ok(None);
                    }
                }
            }
            Err(why) => {
                // Whatever state the error left behind goes with the decoder.
                stream.decoder = None;
                self.failed(element, stream, ErrorKind::Bitstream, &why);
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
        stream.warned = 0;
        stream.no_picture_since = None;
        stream.reported_undecodable = false;
        self.counters.decoded.fetch_add(1, Ordering::Relaxed);
        Ok(Some(out))
    }
}

impl ElementImpl for OpenH264Dec {
    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.counters.read(name)
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let out = self.decode(element, &buffer)?;
        drop(buffer);
        push_output(element, out)
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
        // Coded input: upstream's buffers are its own business.
        codec_query(element, pad, query)
    }

    fn change_state(&self, _element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        if change == StateChange::PausedToReady {
            let mut stream = self.lock();
            stream.decoder = None;
            stream.output.reset();
            stream.waiting_for_idr = false;
            stream.warned = 0;
            stream.no_picture_since = None;
            stream.reported_undecodable = false;
            stream.last_error.clear();
        }
        Ok(StateChangeSuccess::Success)
    }
}
