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

use std::sync::Mutex;

use framecast_core::Buffer;
use framecast_rtp::{JpegPayloader, JpegPayloaderConfig, RtpClock};

use super::net::pay::{
    codec_query, finish_src_caps, payloader_properties, InputStamp, PayBase, PayConfig,
};
use super::net::rtp_template;
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::{Error, Result};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "rtpjpegpay",
        "RTP JPEG payloader",
        "Codec/Payloader/Network/RTP",
        "Payload-encodes JPEG pictures into RTP packets (RFC 2435)",
        vec![
            PadTemplate::always(
                "sink",
                PadDirection::Sink,
                "image/jpeg".parse().unwrap_or_else(|_| Caps::new_any()),
            ),
            PadTemplate::always("src", PadDirection::Src, rtp_template("JPEG")),
        ],
        payloader_properties(u64::from(framecast_rtp::jpeg::PAYLOAD_TYPE)),
        || Box::new(RtpJpegPay::default()),
    )
}

struct Stream {
    cfg: PayConfig,
    clock: RtpClock,
    pay: JpegPayloader,
    input_caps: Option<Caps>,
    caps_sent: bool,
}

impl Stream {
    fn src_caps(&self) -> Caps {
        finish_src_caps(rtp_template("JPEG"), self.cfg.pt, self.input_caps.as_ref())
    }
}

/// The `rtpjpegpay` element.
#[derive(Default)]
pub struct RtpJpegPay {
    base: PayBase,
    stream: Mutex<Option<Stream>>,
}

impl RtpJpegPay {
    fn start(&self, element: &Element) -> Result<()> {
        let cfg = PayConfig::from_element(element);
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
        self.base.start(cfg.mtu)?;
        *self.stream.lock().unwrap_or_else(|e| e.into_inner()) = Some(Stream {
            clock: cfg.clock(),
            cfg,
            pay,
            input_caps: None,
            caps_sent: false,
        });
        Ok(())
    }
}

impl ElementImpl for RtpJpegPay {
    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.base.read_property(name)
    }

    fn chain(&self, element: &Element, pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        let input = InputStamp::of(&buffer);
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        let data = map.contiguous();
        let mut guard = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        let Some(st) = guard.as_mut() else {
            return Err(FlowError::Flushing);
        };
        if !st.caps_sent {
            if !src.push_event(Event::Caps(st.src_caps())) {
                return Err(FlowError::NotNegotiated);
            }
            st.caps_sent = true;
        }
        let ts = self.base.rtp_timestamp(pad, &buffer, &st.clock);
        let mtu = st.cfg.mtu;
        match st.pay.packetize(&data, ts) {
            Ok(mut packets) => self
                .base
                .push_packets(element, &src, &mut packets, &input, mtu),
            Err(e) => {
                if self.base.count_dropped() == 1 {
                    element.post_warning(
                        "dropping a JPEG that RFC 2435 cannot carry",
                        Some(e.to_string()),
                    );
                }
                Ok(FlowSuccess::Ok)
            }
        }
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => {
                let mut guard = self.stream.lock().unwrap_or_else(|e| e.into_inner());
                let Some(st) = guard.as_mut() else {
                    return false;
                };
                st.input_caps = Some(caps);
                let Some(src) = element.src_pad() else {
                    return false;
                };
                st.caps_sent = src.push_event(Event::Caps(st.src_caps()));
                st.caps_sent
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        codec_query(element, pad, query)
    }

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => self.start(element)?,
            StateChange::PausedToReady => {
                self.base.stop();
                *self.stream.lock().unwrap_or_else(|e| e.into_inner()) = None;
            }
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
