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

use std::time::{Duration, Instant};

use framecast_core::{Buffer, BufferFlags, VideoFormat};

use super::base::{copy_plane, decoder_properties, Damaged};
use super::decoder::{DecodeCtx, DecodeFormat, Decoded, VideoDecoder};
use super::openh264_concealing_decoder::ConcealingDecoder;
use crate::pipeline::base::{settings, Settings};
use crate::pipeline::template_caps;
use crate::pipeline::PropertySpec;
use crate::pipeline::{Caps, ElementFactory, FlowError, PadDirection, PadTemplate};
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
            properties.extend(DecSettings::properties());
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
        || Box::new(VideoDecoder::<OpenH264>::default()),
    )
}

/// The shortest time between two keyframe requests from a decoder.
pub use super::base::KEYFRAME_REQUEST_INTERVAL;

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

settings! {
    /// `openh264dec`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct DecSettings {
        /// `damaged`: conceal (decode damaged access units, copy in what is
        /// missing) or drop them.
        damaged: Damaged => Damaged::Conceal.property(),
    }
}

/// The indexes of [`OpenH264::EXTRA_COUNTERS`].
const CONCEALED: usize = 0;
const UNDECODABLE: usize = 1;

/// OpenH264, as a [`DecodeFormat`].
#[derive(Default)]
pub(crate) struct OpenH264 {
    decoder: Option<ConcealingDecoder>,
    /// `damaged=conceal` (read at start).
    conceal: bool,
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

/// Whether OpenH264 decodes streams of this caps `profile`: 8-bit 4:2:0
/// ones (it has no 4:2:2, 4:4:4, high bit depth or Extended-profile data
/// partitioning support).
fn decodable(profile: &str) -> bool {
    matches!(
        profile,
        "constrained-baseline" | "baseline" | "main" | "high"
    )
}

impl OpenH264 {
    fn failed(&mut self, ctx: &mut DecodeCtx<'_>, kind: ErrorKind, why: &str) {
        ctx.count_failed();
        // Parameter sets kept from the decoder leave its state as it was;
        // a bitstream error leaves references it cannot trust; only a
        // keyframe brings the picture back whole (the depayloader cannot
        // tell an IDR whose parameter sets were lost from one that will
        // decode).
        if matches!(kind, ErrorKind::Bitstream) {
            self.waiting_for_idr = true;
            ctx.request_keyframe();
        }
        if self.warned & kind as u8 == 0 {
            self.warned |= kind as u8;
            ctx.element().post_warning(
                format!("H.264 decoding error, dropping frames until the next keyframe: {why}"),
                None,
            );
        }
        why.clone_into(&mut self.last_error);
    }

    /// Input came: notes since when no picture has, and reports a stream
    /// that has not decoded for [`UNDECODABLE_AFTER`] (once).
    fn note_input(&mut self, ctx: &DecodeCtx<'_>) {
        let since = *self.no_picture_since.get_or_insert_with(Instant::now);
        if !self.reported_undecodable && since.elapsed() >= UNDECODABLE_AFTER {
            self.reported_undecodable = true;
            ctx.count(UNDECODABLE);
            let why = if self.last_error.is_empty() {
                "no keyframe arrived"
            } else {
                self.last_error.as_str()
            };
            ctx.element().post_warning(
                format!(
                    "the H.264 stream has not decoded for {} s: {why}",
                    UNDECODABLE_AFTER.as_secs()
                ),
                None,
            );
        }
    }
}

impl DecodeFormat for OpenH264 {
    const EXTRA_COUNTERS: &'static [&'static str] = &["frames-concealed", "undecodable"];

    type Settings = DecSettings;

    fn start(&mut self, settings: &DecSettings) {
        self.conceal = settings.damaged == Damaged::Conceal;
        self.decoder = None;
    }

    fn decode(&mut self, data: &[u8], buffer: &Buffer, ctx: &mut DecodeCtx<'_>) -> Decoded {
        let element = ctx.element();
        let kind = NalUnits::AnnexB(data).classify();
        self.note_input(ctx);
        if kind.parameter_sets {
            if let Some(profile) = NalUnits::AnnexB(data)
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
                self.failed(ctx, ErrorKind::Unsupported, &why);
                return Ok(None);
            }
        }
        let damaged_in = buffer.flags().contains(BufferFlags::CORRUPTED);
        if damaged_in && !self.conceal {
            // Packets of it were lost, and repaired pictures are not wanted.
            ctx.count_dropped();
            self.waiting_for_idr = true;
            return Ok(None);
        }
        if self.waiting_for_idr && !kind.idr {
            if kind.slice {
                ctx.count_dropped();
            }
            return Ok(None);
        }
        let conceal = self.conceal;
        if self.decoder.is_none() {
            match ConcealingDecoder::new(conceal) {
                Ok(d) => self.decoder = Some(d),
                Err(e) => {
                    element.post_error(format!("cannot start the OpenH264 decoder: {e}"), None);
                    return Err(FlowError::Error);
                }
            }
        }
        let bytes = data;
        let decoder = &mut self.decoder;
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
                ctx.count_failed();
                if self.warned & ErrorKind::Bitstream as u8 == 0 {
                    self.warned |= ErrorKind::Bitstream as u8;
                    element.post_warning(format!("H.264 decoding error, concealed: {why}"), None);
                }
                ctx.request_keyframe();
                why.clone_into(&mut self.last_error);
            } else {
                // Whatever state the error left behind goes with the decoder.
                self.decoder = None;
                self.failed(ctx, ErrorKind::Bitstream, &why);
            }
            return Ok(None);
        }
        // The picture of the call that succeeded (decoding again only to
        // borrow it would decode twice), taken from the decoder's store.
        let Some(dec) = self.decoder.as_mut() else {
            return Err(FlowError::Error);
        };
        let Some(picture) = dec.last_picture() else {
            if kind.idr {
                // An IDR that gives no picture yet still resets references.
                self.waiting_for_idr = false;
            }
            return Ok(None);
        };
        if picture.concealed && !conceal {
            ctx.count_dropped();
            self.waiting_for_idr = true;
            return Ok(None);
        }
        let (Ok(width), Ok(height)) = (u32::try_from(picture.width), u32::try_from(picture.height))
        else {
            return Ok(None);
        };
        let info = ctx
            .output
            .ensure(element, VideoFormat::I420, width, height)?;
        let mut out = ctx.output.frame(buffer, |frame| {
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
            ctx.count(CONCEALED);
        }
        self.waiting_for_idr = false;
        self.warned = 0;
        self.no_picture_since = None;
        self.reported_undecodable = false;
        ctx.count_decoded();
        Ok(Some(out))
    }

    /// Pictures after a flush need a fresh keyframe.
    fn flush(&mut self) {
        self.decoder = None;
    }

    fn stop(&mut self) {
        self.decoder = None;
        self.waiting_for_idr = false;
        self.warned = 0;
        self.no_picture_since = None;
        self.reported_undecodable = false;
        self.last_error.clear();
    }
}
