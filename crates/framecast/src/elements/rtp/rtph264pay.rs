//! `rtph264pay`: H.264 access units (Annex B byte stream) into RTP
//! packets (RFC 6184, packetization-mode 1), through
//! [`framecast_rtp::H264Payloader`].
//!
//! Single NAL units, STAP-A for the parameter sets, FU-A above `mtu`, the
//! marker bit (and [`BufferFlags::MARKER`](framecast_core::BufferFlags))
//! on the last packet of each access unit. Defaults differ from GStreamer
//! where GStreamer's cost latency or a decodable stream:
//!
//! | property | framecast | GStreamer | why |
//! |---|---|---|---|
//! | `config-interval` | -1 (SPS/PPS before every IDR) | 0 (only in the SDP) | a receiver without the SDP, or one that joins late, decodes from the next IDR |
//! | `aggregate-mode` | `parameter-sets` (SPS+PPS in one STAP-A) | `none` | one packet fewer per IDR, no latency cost |
//!
//! Once SPS and PPS have been seen, the output caps carry
//! `sprop-parameter-sets` and `profile-level-id`, which `udpsink
//! sdp-file=` writes into the SDP.

use framecast_core::Buffer;
use framecast_rtp::h264::{profile_level_id, sprop_parameter_sets};
use framecast_rtp::{Aggregation, ConfigInterval, H264Payloader, H264PayloaderConfig, NalUnits};

use super::caps::rtp_template;
use super::pay::{
    finish_src_caps, payloader_properties, PacketOut, PayConfig, PayloadFormat, Payloader,
};
use crate::pipeline::base::settings;
use crate::pipeline::template_caps;
use crate::pipeline::{Caps, Element, ElementFactory, FlowResult, PadTemplate, PropertySpec};
use crate::{Error, Result};

const AGGREGATE: &[(&str, &str)] = &[
    ("none", "One NAL unit per packet"),
    (
        "zero-latency",
        "Aggregate NAL units up to the first slice of the access unit",
    ),
    (
        "max",
        "As zero-latency (framecast never holds NAL units back)",
    ),
    (
        "parameter-sets",
        "SPS and PPS share one STAP-A packet (framecast's default)",
    ),
];

/// Sink template: whole access units in Annex B.
pub const SINK_CAPS: &str = "video/x-h264,stream-format=byte-stream,alignment=au";

/// The factory.
pub fn factory() -> ElementFactory {
    let properties = payloader_properties::<H264>();
    ElementFactory::new(
        "rtph264pay",
        "RTP H264 payloader",
        "Codec/Payloader/Network/RTP",
        "Payload-encodes H.264 video into RTP packets (RFC 6184)",
        PadTemplate::sink_src(template_caps(SINK_CAPS), rtp_template("H264")),
        properties,
        || Box::new(Payloader::<H264>::default()),
    )
}

settings! {
    /// `rtph264pay`'s own writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct H264PaySettings {
        /// `config-interval`: -1 = SPS/PPS before every IDR, 0 = never, N =
        /// every N s.
        config_interval: i64 => PropertySpec::int("config-interval", "Send SPS/PPS in band: -1 = before every IDR, 0 = never (SDP only), N = every N s", -1..=3600, -1),
        /// `aggregate-mode`: a nick of [`AGGREGATE`].
        aggregate_mode: &'static str => PropertySpec::enumeration("aggregate-mode", "Which NAL units share a STAP-A packet", AGGREGATE, "parameter-sets"),
    }
}

/// RFC 6184, as a [`PayloadFormat`].
pub(crate) struct H264 {
    pay: H264Payloader,
    input_caps: Option<Caps>,
    /// The SPS and PPS the output caps announce.
    advertised: Option<(Vec<u8>, Vec<u8>)>,
}

impl H264 {
    fn src_caps(&self, cfg: &PayConfig) -> Caps {
        let mut caps = rtp_template("H264");
        if let Some(s) = caps.structure_mut(0) {
            let _ = s.set("packetization-mode", "1");
            if let Some((sps, pps)) = &self.advertised {
                if let Some(pli) = profile_level_id(sps) {
                    let _ = s.set("profile-level-id", pli);
                }
                let _ = s.set("sprop-parameter-sets", sprop_parameter_sets(&[sps, pps]));
            }
        }
        finish_src_caps(caps, cfg.pt, self.input_caps.as_ref())
    }
}

impl PayloadFormat for H264 {
    const DEFAULT_PT: u8 = 96;
    type Settings = H264PaySettings;

    fn start(element: &Element, cfg: &PayConfig, settings: &H264PaySettings) -> Result<Self> {
        let aggregation = match settings.aggregate_mode {
            "none" => Aggregation::None,
            "zero-latency" | "max" => Aggregation::ZeroLatency,
            _ => Aggregation::ParameterSets,
        };
        let interval = settings.config_interval;
        let pay = H264Payloader::new(H264PayloaderConfig {
            mtu: cfg.mtu,
            payload_type: cfg.pt,
            ssrc: cfg.ssrc,
            initial_sequence_number: cfg.seqnum_offset,
            config_interval: ConfigInterval::from_gst(i32::try_from(interval).unwrap_or(-1)),
            aggregation,
            strip_aud: true,
        })
        .map_err(|e| Error::Element {
            element: element.name().to_string(),
            message: e.to_string(),
        })?;
        Ok(H264 {
            pay,
            input_caps: None,
            advertised: None,
        })
    }

    fn initial_caps(&self, cfg: &PayConfig) -> Option<Caps> {
        Some(self.src_caps(cfg))
    }

    fn set_caps(&mut self, _element: &Element, cfg: &PayConfig, caps: &Caps) -> Result<Caps> {
        self.input_caps = Some(caps.clone());
        Ok(self.src_caps(cfg))
    }

    fn payload(&mut self, buffer: &Buffer, ts: u32, out: &mut PacketOut<'_>) -> FlowResult {
        let map = buffer.map_readable().map_err(|_| crate::FlowError::Error)?;
        let data = map.contiguous();
        if let Some((sps, pps)) = NalUnits::AnnexB(&data).parameter_sets() {
            let changed = self
                .advertised
                .as_ref()
                .is_none_or(|(s, p)| s[..] != *sps || p[..] != *pps);
            if changed {
                self.advertised = Some((sps.to_vec(), pps.to_vec()));
                out.set_caps(self.src_caps(out.cfg));
            }
        }
        match self.pay.packetize(NalUnits::AnnexB(&data), ts) {
            Ok(mut packets) => out.push(&mut packets),
            Err(e) => out.drop_frame("dropping a buffer that holds no H.264 NAL unit", e),
        }
    }
}
