//! `rtpjpegpay`: baseline JPEG frames into RTP packets (RFC 2435), through
//! [`framecast_rtp::JpegPayloader`]: Q = 255 with the quantization tables
//! in band (so any quality the encoder chose survives), a restart header
//! when the JPEG has restart markers, the marker bit on each frame's last
//! packet. Payload type 26 (static, RFC 3551) by default.
//!
//! RFC 2435 carries only what its fixed headers can express: 8-bit
//! baseline, 3 components, 4:2:0 or 4:2:2, sizes up to 2040 pixels in
//! multiples of 8, standard Huffman tables. A frame outside that is
//! dropped, counted in `frames-dropped`, with a warning on the bus.

use framecast_core::Buffer;
use framecast_rtp::{JpegPayloader, JpegPayloaderConfig};

use super::caps::rtp_template;
use super::pay::{
    finish_src_caps, payloader_properties, PacketOut, PayConfig, PayloadFormat, Payloader,
};
use crate::pipeline::template_caps;
use crate::pipeline::{Caps, Element, ElementFactory, FlowResult, PadTemplate};
use crate::{Error, Result};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "rtpjpegpay",
        "RTP JPEG payloader",
        "Codec/Payloader/Network/RTP",
        "Payload-encodes JPEG pictures into RTP packets (RFC 2435)",
        PadTemplate::sink_src(template_caps("image/jpeg"), rtp_template("JPEG")),
        payloader_properties::<Jpeg>(),
        || Box::new(Payloader::<Jpeg>::default()),
    )
}

/// RFC 2435, as a [`PayloadFormat`].
pub(crate) struct Jpeg {
    pay: JpegPayloader,
}

impl PayloadFormat for Jpeg {
    const DEFAULT_PT: u8 = framecast_rtp::jpeg::PAYLOAD_TYPE;
    type Settings = ();

    fn start(element: &Element, cfg: &PayConfig, _settings: &()) -> Result<Self> {
        let pay = JpegPayloader::new(JpegPayloaderConfig {
            mtu: cfg.mtu,
            payload_type: cfg.pt,
            ssrc: cfg.ssrc,
            initial_sequence_number: cfg.seqnum_offset,
        })
        .map_err(|e| Error::Element {
            element: element.name().to_string(),
            message: e.to_string(),
        })?;
        Ok(Jpeg { pay })
    }

    fn initial_caps(&self, cfg: &PayConfig) -> Option<Caps> {
        Some(finish_src_caps(rtp_template("JPEG"), cfg.pt, None))
    }

    fn set_caps(&mut self, _element: &Element, cfg: &PayConfig, caps: &Caps) -> Result<Caps> {
        Ok(finish_src_caps(rtp_template("JPEG"), cfg.pt, Some(caps)))
    }

    fn payload(&mut self, buffer: &Buffer, ts: u32, out: &mut PacketOut<'_>) -> FlowResult {
        let map = buffer.map_readable().map_err(|_| crate::FlowError::Error)?;
        let data = map.contiguous();
        match self.pay.packetize(&data, ts) {
            Ok(mut packets) => out.push(&mut packets),
            Err(e) => out.drop_frame("dropping a JPEG that RFC 2435 cannot carry", e),
        }
    }
}
