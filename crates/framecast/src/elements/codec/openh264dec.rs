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
//! Robust as `avdec_h264` is expected to be: garbage, truncated access
//! units or missing references never panic or stop the stream. What it
//! shows after damage is the `damaged` property:
//!
//! - `conceal` (the default, for live viewing, like `avdec_h264
//!   output-corrupt=true`): OpenH264's error concealment is on; access
//!   units the depayloader flagged `CORRUPTED` (packets lost) are decoded
//!   with what arrived, the rest copied from the previous picture, and
//!   such pictures go out flagged `CORRUPTED` (`frames-concealed`). The
//!   picture freezes only while nothing decodable arrives.
//! - `drop`: no repaired pictures. A damaged or failed access unit is
//!   dropped (`frames-dropped`), and every one after it until the next IDR
//!   decodes.
//!
//! Either way a failed access unit is counted (`decode-errors`) and
//! reported once per kind of error and burst as a bus warning. Parameter sets of a profile OpenH264 cannot decode (4:2:2, 4:4:4,
//! high bit depth) are such an error too, not the end of the stream: two
//! hostile packets must not stop a receiver whose real stream decodes.
//! Only input that yields no picture for [`UNDECODABLE_AFTER`] is reported
//! as a stream that does not decode (a warning naming the last reason; the
//! application decides whether that ends it).
//!
//! Output: I420 in buffers from a pool negotiated downstream (the picture
//! is copied once out of the decoder's own frame store, honouring the pool
//! buffer's [`VideoMeta`](crate::VideoMeta) strides), with the input's
//! PTS/DTS/duration and [`ReferenceTimestampMeta`](crate::ReferenceTimestampMeta) (no reordering delay).

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use framecast_core::{Buffer, BufferFlags, VideoFormat};

use super::base::{
    codec_query, copy_plane, damaged_property, decoder_properties, push_output, DecoderCounters,
    RawOutput,
};
use super::openh264_concealing_decoder::ConcealingDecoder;
use crate::pipeline::template_caps;
use crate::pipeline::PropertySpec;
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, Pad, PadDirection,
    PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::Result;
use framecast_rtp::h264::NalUnits;

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
                template_caps("video/x-h264,stream-format=byte-stream,alignment=au"),
            ),
            PadTemplate::always(
                "src",
                PadDirection::Src,
                Caps::video_raw_any(&[VideoFormat::I420]),
            ),
        ],
        {
            let mut properties = decoder_properties();
            properties.push(damaged_property());
            properties.push(PropertySpec::counter(
                "undecodable",
                "Times the input went 5 s without a picture (each also a warning)",
            ));
            properties.push(PropertySpec::counter(
                "frames-concealed",
                "Pictures output with missing data filled in (damaged=conceal), flagged CORRUPTED",
            ));
            properties
        },
        || Box::new(OpenH264Dec::default()),
    )
}

/// The shortest time between two keyframe requests from a decoder.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_secs(1);

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
    decoder: Option<ConcealingDecoder>,
    /// `damaged=conceal` (read at start).
    conceal: bool,
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
    /// When this decoder last asked upstream for a keyframe.
    keyframe_asked: Option<Instant>,
}

/// The `openh264dec` element.
#[derive(Default)]
pub struct OpenH264Dec {
    stream: Mutex<Stream>,
    counters: DecoderCounters,
    concealed: AtomicU64,
    /// Times input went [`UNDECODABLE_AFTER`] without a picture.
    undecodable: AtomicU64,
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

impl OpenH264Dec {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stream> {
        self.stream.locked()
    }

    /// Asks upstream for a keyframe (an IDR with its SPS/PPS), at most
    /// once a second: after an error only a keyframe brings the picture
    /// back whole (GStreamer's video decoders request a sync point the
    /// same way); the depayloader cannot tell an IDR whose parameter sets
    /// were lost from one that will decode.
    fn ask_for_keyframe(element: &Element, stream: &mut Stream) {
        let now = Instant::now();
        if stream
            .keyframe_asked
            .is_some_and(|t| now.duration_since(t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        stream.keyframe_asked = Some(now);
        if let Some(sink) = element.sink_pad() {
            sink.push_event(Event::force_key_unit_upstream(true));
        }
    }

    fn failed(&self, element: &Element, stream: &mut Stream, kind: ErrorKind, why: &str) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        // Parameter sets kept from the decoder leave its state as it was;
        // a bitstream error leaves references it cannot trust.
        if matches!(kind, ErrorKind::Bitstream) {
            stream.waiting_for_idr = true;
            Self::ask_for_keyframe(element, stream);
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
            self.undecodable.fetch_add(1, Ordering::Relaxed);
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
        let kind = NalUnits::AnnexB(&data).classify();
        let mut guard = self.lock();
        let stream = &mut *guard;
        self.note_input(element, stream);
        if kind.parameter_sets {
            if let Some(profile) = NalUnits::AnnexB(&data)
                .sps_profile()
                .filter(|p| !decodable(p))
            {
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
        let damaged_in = buffer.flags().contains(BufferFlags::CORRUPTED);
        if damaged_in && !stream.conceal {
            // Packets of it were lost, and repaired pictures are not wanted.
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            stream.waiting_for_idr = true;
            return Ok(None);
        }
        if stream.waiting_for_idr && !kind.idr {
            if kind.slice {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(None);
        }
        let conceal = stream.conceal;
        if stream.decoder.is_none() {
            match ConcealingDecoder::new(conceal) {
                Ok(d) => stream.decoder = Some(d),
                Err(e) => {
                    element.post_error(format!("cannot start the OpenH264 decoder: {e}"), None);
                    return Err(FlowError::Error);
                }
            }
        }
        let bytes: &[u8] = &data;
        let Stream {
            decoder, output, ..
        } = stream;
        let Some(dec) = decoder.as_mut() else {
            return Err(FlowError::Error);
        };
        let failure = dec.decode(bytes).err();
        let failure = match failure {
            Some(why) if kind.idr && kind.parameter_sets && !damaged_in => {
                // A complete IDR can fail only because of what came before
                // (a truncated picture still pending inside the decoder):
                // start afresh and decode it again.
                *decoder = None;
                let fresh = match ConcealingDecoder::new(conceal) {
                    Ok(d) => decoder.insert(d),
                    Err(e) => {
                        element.post_error(format!("cannot start the OpenH264 decoder: {e}"), None);
                        return Err(FlowError::Error);
                    }
                };
                match fresh.decode(bytes) {
                    Ok(_) => None,
                    Err(again) => Some(format!("{why}; on a fresh decoder: {again}")),
                }
            }
            other => other,
        };
        if let Some(why) = failure {
            if conceal {
                // Concealment goes on from the pictures the decoder has
                // (across IDRs too): only what this access unit would
                // have added is lost, and no keyframe is waited for.
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                if stream.warned & ErrorKind::Bitstream as u8 == 0 {
                    stream.warned |= ErrorKind::Bitstream as u8;
                    element.post_warning(format!("H.264 decoding error, concealed: {why}"), None);
                }
                Self::ask_for_keyframe(element, stream);
                why.clone_into(&mut stream.last_error);
            } else {
                // Whatever state the error left behind goes with the decoder.
                stream.decoder = None;
                self.failed(element, stream, ErrorKind::Bitstream, &why);
            }
            return Ok(None);
        }
        // The picture of the call that succeeded (decoding again only to
        // borrow it would decode twice), taken from the decoder's store.
        let Some(dec) = decoder.as_mut() else {
            return Err(FlowError::Error);
        };
        let Some(picture) = dec.last_picture() else {
            if kind.idr {
                // An IDR that gives no picture yet still resets references.
                stream.waiting_for_idr = false;
            }
            return Ok(None);
        };
        if picture.concealed && !conceal {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            stream.waiting_for_idr = true;
            return Ok(None);
        }
        let (Ok(width), Ok(height)) = (u32::try_from(picture.width), u32::try_from(picture.height))
        else {
            return Ok(None);
        };
        let info = output.ensure(element, VideoFormat::I420, width, height)?;
        let mut out = output.frame(buffer, |frame| {
            for (p, (src, stride)) in picture.planes.into_iter().enumerate() {
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
        if picture.concealed || damaged_in {
            if let Some(b) = out.get_mut() {
                b.set_flags(BufferFlags::CORRUPTED);
            }
            self.concealed.fetch_add(1, Ordering::Relaxed);
        }
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
        match name {
            "frames-concealed" => Some(PropertyValue::UInt(self.concealed.load(Ordering::Relaxed))),
            "undecodable" => Some(PropertyValue::UInt(
                self.undecodable.load(Ordering::Relaxed),
            )),
            _ => self.counters.read(name),
        }
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

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        if change == StateChange::ReadyToPaused {
            let mut stream = self.lock();
            stream.conceal = element.prop("damaged").as_str() != Some("drop");
            stream.decoder = None;
            self.concealed.store(0, Ordering::Relaxed);
            self.undecodable.store(0, Ordering::Relaxed);
        }
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
