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

use framecast_core::sync::MutexExt;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use framecast_core::{Buffer, BufferFlags};
use framecast_rtp::JpegDepayloader;

use super::caps::rtp_template;
use super::depay::{
    depayloader_properties, frame_buffer, with_packet, DepayCounters, DepayFigures, FramePool,
};
use crate::elements::codec::base::codec_query;
use crate::pipeline::template_caps;
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
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
        vec![
            PadTemplate::always("sink", PadDirection::Sink, sink),
            PadTemplate::always("src", PadDirection::Src, template_caps("image/jpeg")),
        ],
        depayloader_properties(),
        || Box::new(RtpJpegDepay::default()),
    )
}

struct Stream {
    depay: JpegDepayloader,
    /// The size the output caps announce.
    size: Option<(u16, u16)>,
    not_rtp: u64,
    frames: FramePool,
}

/// The `rtpjpegdepay` element.
#[derive(Default)]
pub struct RtpJpegDepay {
    counters: DepayCounters,
    stream: Mutex<Option<Stream>>,
}

impl ElementImpl for RtpJpegDepay {
    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.counters.read(name)
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        let mut guard = self.stream.locked();
        let Some(st) = guard.as_mut() else {
            return Err(FlowError::Flushing);
        };
        if buffer.flags().contains(BufferFlags::DISCONT) {
            st.depay.upstream_discont();
        }
        let mut not_rtp = false;
        let out = with_packet(&buffer, |p| {
            let pkt = match p {
                Ok(pkt) => pkt,
                Err(_) => {
                    not_rtp = true;
                    return None;
                }
            };
            match st.depay.push(&pkt) {
                Ok(Some(frame)) => Some((
                    (frame.width, frame.height),
                    frame_buffer(
                        &mut st.frames,
                        &[frame.data],
                        &buffer,
                        frame.discontinuity,
                        false,
                    ),
                )),
                // Malformed payloads are counted by the depayloader.
                Ok(None) | Err(_) => None,
            }
        })?;
        if not_rtp {
            st.not_rtp += 1;
        }
        let s = st.depay.stats();
        self.counters.store(DepayFigures {
            received: s.packets + st.not_rtp,
            lost: s.lost_packets,
            late: s.late_packets,
            malformed: s.malformed_packets + st.not_rtp,
            discarded: s.discarded_frames,
            restarts: s.restarts,
        });
        let Some((size, out)) = out else {
            return Ok(FlowSuccess::Ok);
        };
        let out = out?;
        if st.size != Some(size) {
            let caps = Caps::builder("image/jpeg")
                .field("width", i32::from(size.0))
                .field("height", i32::from(size.1))
                .build()
                .map_err(|_| FlowError::Error)?;
            if !src.push_event(Event::Caps(caps)) {
                return Err(FlowError::NotNegotiated);
            }
            st.size = Some(size);
        }
        self.counters.frames.fetch_add(1, Ordering::Relaxed);
        src.push(out)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            // The output caps follow the frames' size, sent with the first.
            Event::Caps(_) => true,
            flush @ Event::FlushStop { .. } => {
                // What comes after a flush does not continue what came
                // before it.
                if let Some(st) = self.stream.locked().as_mut() {
                    st.depay.reset();
                }
                element.forward_event(pad, flush)
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        codec_query(element, pad, query)
    }

    fn change_state(&self, _element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => {
                self.counters.reset();
                *self.stream.locked() = Some(Stream {
                    depay: JpegDepayloader::new(),
                    size: None,
                    not_rtp: 0,
                    frames: FramePool::default(),
                });
            }
            StateChange::PausedToReady => {
                *self.stream.locked() = None;
            }
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
