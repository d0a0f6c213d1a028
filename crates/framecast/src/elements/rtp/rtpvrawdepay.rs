//! `rtpvrawdepay`: RTP packets (RFC 4175) back into raw video frames,
//! through [`framecast_rtp::RawDepayloader`], which writes each packet's
//! pixels straight into a pooled output frame (negotiated with downstream
//! by the allocation query, with its strides): no intermediate frame.
//!
//! The sink caps must say `sampling`, `width` and `height` (as strings, as
//! GStreamer and SDP write them, or as ints); `a-framerate` becomes the
//! output framerate. A lost packet leaves its lines as the pool buffer had
//! them and the frame is still delivered, flagged `CORRUPTED` (for
//! uncompressed video a few stale lines beat a missing picture). Counters as
//! every depayloader, `frames-discarded` counting those incomplete frames.

use framecast_core::{Buffer, BufferFlags, BufferPool, Fraction, VideoInfo};
use framecast_rtp::raw::{PlaneMut, RawDepayStats, RawFrameInfo, RawPush};
use framecast_rtp::{RawDepayloader, RawFormat, RtpPacket};

use super::caps::{caps_framerate, field_text, field_usize, rtp_template, video_format_of};
use super::depay::{
    depay_figures, depayloader_properties, stamp, DepayFigures, DepayloadFormat, Depayloader,
    FrameOut,
};
use super::rtpvrawpay::FORMATS;
use crate::elements::video::{frame_layout, FrameMut};
use crate::pipeline::base::negotiate_pool;
use crate::pipeline::{
    Caps, Element, ElementFactory, Event, FlowError, FlowResult, FlowSuccess, Pad, PadTemplate,
};
use crate::{Error, Result};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "rtpvrawdepay",
        "RTP Raw Video depayloader",
        "Codec/Depayloader/Network/RTP",
        "Extracts raw video from RTP packets (RFC 4175)",
        PadTemplate::sink_src(rtp_template("RAW"), Caps::video_raw_any(FORMATS)),
        depayloader_properties(),
        || Box::new(Depayloader::<VRaw>::default()),
    )
}

struct Format {
    info: VideoInfo,
    depay: RawDepayloader,
    pool: BufferPool,
}

/// RFC 4175, as a [`DepayloadFormat`].
#[derive(Default)]
pub(crate) struct VRaw {
    format: Option<Format>,
    /// The frame being filled, and whether its first packet started at
    /// line 0, offset 0 (if not, its head was lost with the previous
    /// frame's tail, and the depayloader charged the loss to that one).
    frame: Option<(Buffer, bool)>,
    /// Frames the depayloader thought complete whose head was lost.
    head_lost: u64,
    /// Counters of depayloaders from earlier caps.
    carried: DepayFigures,
}

/// The output format for RTP raw-video `caps`.
fn output_info(caps: &Caps) -> Result<(VideoInfo, RawFormat)> {
    let bad = |why: String| Error::Element {
        element: "rtpvrawdepay".into(),
        message: format!("caps {caps}: {why}"),
    };
    let s = caps.structure(0).ok_or_else(|| bad("empty".into()))?;
    let sampling = field_text(s, "sampling").ok_or_else(|| bad("no sampling".into()))?;
    let depth = field_usize(s, "depth").unwrap_or(8);
    if depth != 8 {
        return Err(bad(format!("depth {depth} is not supported (8 only)")));
    }
    let format = RawFormat::from_sampling(&sampling)
        .ok_or_else(|| bad(format!("sampling {sampling} is not supported")))?;
    let video = video_format_of(format)
        .ok_or_else(|| bad(format!("sampling {sampling} has no framecast format")))?;
    let width = field_usize(s, "width").ok_or_else(|| bad("no width".into()))?;
    let height = field_usize(s, "height").ok_or_else(|| bad("no height".into()))?;
    let (w, h) = (
        u32::try_from(width).map_err(|_| bad("width too large".into()))?,
        u32::try_from(height).map_err(|_| bad("height too large".into()))?,
    );
    let mut info = VideoInfo::new(video, w, h)?;
    if let Some(fps) = caps_framerate(s) {
        let f = if (fps - fps.round()).abs() < 1e-6 {
            Fraction::new(fps.round() as i32, 1)
        } else {
            Fraction::new((fps * 1000.0).round() as i32, 1000)
        };
        if let Some(f) = f {
            info = info.with_fps(f);
        }
    }
    Ok((info, format))
}

impl VRaw {
    fn negotiate(&mut self, element: &Element, src: &Pad, caps: &Caps) -> Result<()> {
        let (info, format) = output_info(caps)?;
        let depay = RawDepayloader::new(format, info.width as usize, info.height as usize)
            .map_err(|e| Error::Element {
                element: element.name().to_string(),
                message: e.to_string(),
            })?;
        let out = Caps::from_video_info(&info);
        if !src.push_event(Event::Caps(out.clone())) {
            return Err(Error::NotNegotiated {
                upstream: element.name().to_string(),
                downstream: src
                    .peer()
                    .and_then(|p| p.element())
                    .map(|e| e.name().to_string())
                    .unwrap_or_default(),
                reason: format!("downstream refused {out}"),
            });
        }
        let pool = negotiate_pool(element, src, &out, info.size, 2)?;
        if let Some(old) = self.format.take() {
            self.carried = self.carried + figures(&old.depay.stats());
            let _ = old.pool.set_active(false);
        }
        self.frame = None;
        self.format = Some(Format { info, depay, pool });
        Ok(())
    }

    /// Stamps an ended frame from `packet`, flags it when incomplete or
    /// headless, and pushes it.
    fn push_frame(
        &mut self,
        out: &FrameOut<'_>,
        mut frame: Buffer,
        head: bool,
        info: &RawFrameInfo,
        packet: &Buffer,
    ) -> FlowResult {
        if let Some(b) = frame.get_mut() {
            stamp(b, packet, false, false);
            if info.complete && !head {
                self.head_lost += 1;
            }
            if !info.complete || !head {
                b.set_flags(BufferFlags::CORRUPTED);
            }
        }
        out.push(frame)
    }
}

/// The depayloader's own counts, as the properties show them.
fn figures(s: &RawDepayStats) -> DepayFigures {
    depay_figures!(s, discarded: s.incomplete_frames)
}

/// Whether `pkt` holds the first pixels of a frame: its first line
/// segment (RFC 4175 §4.3, after the 2-byte extended sequence number) is
/// line 0 at offset 0.
fn starts_frame(pkt: &framecast_rtp::RtpPacket<'_>) -> bool {
    match pkt.payload() {
        [_, _, _, _, l0, l1, o0, o1, ..] => {
            let line = u16::from_be_bytes([*l0, *l1]) & 0x7fff;
            let offset = u16::from_be_bytes([*o0, *o1]) & 0x7fff;
            line == 0 && offset == 0
        }
        _ => false,
    }
}

/// Writes `pkt`'s pixels into `frame`.
fn push_into(
    fmt: &mut Format,
    frame: &mut Buffer,
    pkt: &framecast_rtp::RtpPacket<'_>,
) -> std::result::Result<framecast_rtp::Result<RawPush>, FlowError> {
    let b = frame.get_mut().ok_or(FlowError::Error)?;
    let layout = frame_layout(b, &fmt.info).map_err(|_| FlowError::Error)?;
    let mut map = b.map_writable().map_err(|_| FlowError::Error)?;
    let mut fm = FrameMut::new(layout, map.as_mut_slice()).map_err(|_| FlowError::Error)?;
    let n = layout.n_planes.min(3);
    let strides = [fm.stride(0), fm.stride(1), fm.stride(2)];
    let planes = fm.planes_mut();
    let mut it = planes.iter_mut();
    let mut next = |i: usize| PlaneMut {
        data: it.next().map(|p| &mut p[..]).unwrap_or(&mut []),
        stride: strides[i],
    };
    let mut arr = [next(0), next(1), next(2)];
    Ok(fmt.depay.push(pkt, &mut arr[..n]))
}

impl DepayloadFormat for VRaw {
    type Settings = ();

    fn start(_element: &Element, _settings: &()) -> Result<Self> {
        Ok(VRaw::default())
    }

    fn set_caps(&mut self, element: &Element, src: &Pad, caps: &Caps) -> bool {
        match self.negotiate(element, src, caps) {
            Ok(()) => true,
            Err(e) => {
                element.post_error(format!("cannot depayload {caps}"), Some(e.to_string()));
                false
            }
        }
    }

    fn upstream_discont(&mut self) {
        if let Some(fmt) = self.format.as_mut() {
            fmt.depay.upstream_discont();
        }
    }

    fn depayload(&mut self, pkt: &RtpPacket<'_>, buf: &Buffer, out: &FrameOut<'_>) -> FlowResult {
        let mut result = Ok(FlowSuccess::Ok);
        // A packet is pushed at most twice: once to end the previous frame
        // (when its marker was lost), once into a fresh frame.
        for _ in 0..2 {
            let Some(fmt) = self.format.as_mut() else {
                return Err(FlowError::NotNegotiated);
            };
            let (mut frame, head) = match self.frame.take() {
                Some(f) => f,
                None => (
                    fmt.pool.acquire().map_err(FlowError::from_acquire)?,
                    starts_frame(pkt),
                ),
            };
            let pushed = push_into(fmt, &mut frame, pkt)?;
            let (info, again): (RawFrameInfo, bool) = match pushed {
                Ok(RawPush::InProgress) => {
                    self.frame = Some((frame, head));
                    break;
                }
                Ok(RawPush::Frame(info)) => (info, false),
                Ok(RawPush::FrameEndedPushAgain(info)) => (info, true),
                Err(_) => {
                    // A malformed segment (counted); the frame goes on.
                    self.frame = Some((frame, head));
                    break;
                }
            };
            result = self.push_frame(out, frame, head, &info, buf);
            if result.is_err() || !again {
                break;
            }
        }
        result
    }

    /// A frame whose marker packet was lost is still pending: it goes out
    /// flagged and counted incomplete.
    fn finish(&mut self, last: Option<Buffer>, out: &FrameOut<'_>) -> FlowResult {
        let info = self.format.as_mut().and_then(|f| f.depay.flush());
        match (info, self.frame.take(), last) {
            (Some(info), Some((frame, head)), Some(last)) => {
                self.push_frame(out, frame, head, &info, &last)
            }
            _ => Ok(FlowSuccess::Ok),
        }
    }

    /// The frame in progress is dropped and the sequence forgotten.
    fn reset(&mut self) {
        if let Some(f) = self.format.as_mut() {
            f.depay.reset();
        }
        self.frame = None;
    }

    fn stop(&mut self) {
        if let Some(fmt) = self.format.take() {
            let _ = fmt.pool.set_active(false);
        }
    }

    fn figures(&self) -> DepayFigures {
        let s = self
            .format
            .as_ref()
            .map(|f| f.depay.stats())
            .unwrap_or_default();
        let outside = DepayFigures {
            discarded: self.head_lost,
            ..DepayFigures::default()
        };
        self.carried + figures(&s) + outside
    }
}
