//! `rtpjpegdepay`: RTP packets (RFC 2435) back into JPEG files
//! (`image/jpeg,width=W,height=H`), through
//! [`framecast_rtp::JpegDepayloader`], which rebuilds the JFIF headers
//! (tables from Q or in band, restart interval, sampling) that RFC 2435
//! leaves out.
//!
//! Packets must come in order (an `rtpjitterbuffer` upstream reorders). A
//! frame that lost a packet is dropped and counted (`frames-discarded`);
//! the next one carries `DISCONT`. Every JPEG is a key frame. Counters as
//! every depayloader: `packets-received`, `packets-lost`, `packets-late`,
//! `packets-malformed`, `frames-out`, `frames-discarded`,
//! `stream-restarts`.

use framecast_core::Buffer;
use framecast_rtp::{JpegDepayloader, RtpPacket};

use super::caps::rtp_template;
use super::depay::{
    depay_figures, depayloader_properties, frame_buffer, DepayFigures, DepayloadFormat,
    Depayloader, FrameOut, FramePool,
};
use crate::pipeline::template_caps;
use crate::pipeline::{
    Caps, Element, ElementFactory, FlowError, FlowResult, FlowSuccess, Pad, PadTemplate,
};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    let mut sink = rtp_template("JPEG");
    if let Ok(static_pt) =
        "application/x-rtp,media=video,clock-rate=90000,payload=26".parse::<Caps>()
    {
        sink = sink.merge(static_pt);
    }
    ElementFactory::new(
        "rtpjpegdepay",
        "RTP JPEG depayloader",
        "Codec/Depayloader/Network/RTP",
        "Extracts JPEG pictures from RTP packets (RFC 2435)",
        PadTemplate::sink_src(sink, template_caps("image/jpeg")),
        depayloader_properties(),
        || Box::new(Depayloader::<Jpeg>::default()),
    )
}

/// RFC 2435, as a [`DepayloadFormat`].
pub(crate) struct Jpeg {
    depay: JpegDepayloader,
    /// The size the output caps announce.
    size: Option<(u16, u16)>,
    frames: FramePool,
}

impl DepayloadFormat for Jpeg {
    type Settings = ();

    fn start(_element: &Element, _settings: &()) -> Result<Self> {
        Ok(Jpeg {
            depay: JpegDepayloader::new(),
            size: None,
            frames: FramePool::default(),
        })
    }

    /// The output caps follow the frames' size, sent with the first.
    fn set_caps(&mut self, _element: &Element, _src: &Pad, _caps: &Caps) -> bool {
        true
    }

    fn upstream_discont(&mut self) {
        self.depay.upstream_discont();
    }

    fn depayload(&mut self, pkt: &RtpPacket<'_>, buf: &Buffer, out: &FrameOut<'_>) -> FlowResult {
        let (size, frame) = match self.depay.push(pkt) {
            Ok(Some(frame)) => (
                (frame.width, frame.height),
                frame_buffer(
                    &mut self.frames,
                    &[frame.data],
                    buf,
                    frame.discontinuity,
                    false,
                ),
            ),
            // Malformed payloads are counted by the depayloader.
            Ok(None) | Err(_) => return Ok(FlowSuccess::Ok),
        };
        let frame = frame?;
        if self.size != Some(size) {
            let caps = Caps::builder("image/jpeg")
                .field("width", i32::from(size.0))
                .field("height", i32::from(size.1))
                .build()
                .map_err(|_| FlowError::Error)?;
            out.push_caps(caps)?;
            self.size = Some(size);
        }
        out.push(frame)
    }

    fn reset(&mut self) {
        self.depay.reset();
    }

    fn figures(&self) -> DepayFigures {
        let s = self.depay.stats();
        depay_figures!(s, discarded: s.discarded_frames)
    }
}
