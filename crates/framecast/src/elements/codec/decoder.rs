//! The video-decoder base (GStreamer's `GstVideoDecoder`, reduced):
//! [`VideoDecoder`] is the element, generic over a [`DecodeFormat`]
//! (`openh264dec`, `jpegdec` are its two formats), the way the payloader
//! and depayloader bases (`rtp/pay.rs`, `rtp/depay.rs`) are for RTP.
//!
//! The base owns the element shape every decoder has: the chain (input
//! mapped, decoded under the stream lock, the picture pushed after it is
//! released), the input caps (framerate and pixel aspect ratio for the
//! output), the raw-video output side ([`RawOutput`]: caps, pool), the
//! counters, rate-limited keyframe requests upstream, flushes, the state
//! lifecycle and the caps queries. A format only opens, decodes, flushes
//! and resets its codec.

use framecast_core::sync::MutexExt;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use framecast_core::Buffer;

use super::base::{
    codec_query, push_output, DecoderCounters, ExtraCounters, KeyframeRequests, RawOutput,
};
use crate::pipeline::base::Settings;
use crate::pipeline::{
    Element, ElementImpl, Event, FlowError, FlowResult, Pad, PropertyValue, Query, StateChange,
    StateChangeSuccess,
};

/// What one codec does on top of [`VideoDecoder`]. The format's state is
/// made once ([`Default`]) and lives as long as the element; `start` and
/// `stop` bracket each run.
pub(crate) trait DecodeFormat: Default + Send + 'static {
    /// Names of the format's own read-only counters, indexes for
    /// [`DecodeCtx::count`]; zeroed at each start.
    const EXTRA_COUNTERS: &'static [&'static str] = &[];

    /// The format's own writable properties, typed (`()` for none).
    type Settings: Settings;

    /// READY to PAUSED: takes the settings a run uses.
    fn start(&mut self, _settings: &Self::Settings) {}

    /// Decodes one coded frame `data` (the mapped `input`); the picture, if
    /// one is ready, comes from [`DecodeCtx::output`]. Bad data is never an
    /// error here: it is counted and dropped (`Ok(None)`).
    fn decode(&mut self, data: &[u8], input: &Buffer, ctx: &mut DecodeCtx<'_>) -> Decoded;

    /// After a flush: what comes next does not continue what came before.
    fn flush(&mut self) {}

    /// PAUSED to READY: closes the codec and forgets the run.
    fn stop(&mut self) {}
}

/// What decoding one frame gave: a picture to push, nothing (bad data,
/// counted; or no picture yet), or a flow error.
pub(crate) type Decoded = std::result::Result<Option<Buffer>, FlowError>;

/// What the base lends a [`DecodeFormat`] for one frame.
pub(crate) struct DecodeCtx<'a> {
    element: &'a Element,
    /// The raw-video output side.
    pub(crate) output: &'a mut RawOutput,
    counters: &'a DecoderCounters,
    extra: &'a ExtraCounters,
    requests: &'a mut KeyframeRequests,
}

impl<'a> DecodeCtx<'a> {
    /// The element (for messages, properties and downstream caps).
    pub(crate) fn element(&self) -> &'a Element {
        self.element
    }

    /// A picture went out (`frames-decoded`).
    pub(crate) fn count_decoded(&self) {
        self.counters.decoded.fetch_add(1, Ordering::Relaxed);
    }

    /// The codec rejected an input buffer, which is dropped
    /// (`decode-errors`, `frames-dropped`).
    pub(crate) fn count_failed(&self) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        self.count_dropped();
    }

    /// An input buffer was dropped (`frames-dropped`).
    pub(crate) fn count_dropped(&self) {
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one on the format's own counter `i` of
    /// [`DecodeFormat::EXTRA_COUNTERS`].
    pub(crate) fn count(&self, i: usize) {
        self.extra.add(i);
    }

    /// Asks upstream for a keyframe (an IDR with its parameter sets), at
    /// most once every
    /// [`KEYFRAME_REQUEST_INTERVAL`](super::base::KEYFRAME_REQUEST_INTERVAL):
    /// after an error only a keyframe brings the picture back whole
    /// (GStreamer's video decoders request a sync point the same way).
    pub(crate) fn request_keyframe(&mut self) {
        if !self.requests.due() {
            return;
        }
        if let Some(sink) = self.element.sink_pad() {
            sink.push_event(Event::force_key_unit_upstream(true));
        }
    }
}

/// Per-stream state: the format's and the base's.
#[derive(Default)]
struct Stream<F> {
    format: F,
    output: RawOutput,
    requests: KeyframeRequests,
}

/// A video-decoder element: one [`DecodeFormat`] on the shared machinery.
#[derive(Default)]
pub(crate) struct VideoDecoder<F: DecodeFormat> {
    settings: Mutex<F::Settings>,
    stream: Mutex<Stream<F>>,
    counters: DecoderCounters,
    extra: ExtraCounters,
}

impl<F: DecodeFormat> VideoDecoder<F> {
    fn decode(&self, element: &Element, buffer: &Buffer) -> Decoded {
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        let data = map.contiguous();
        let mut guard = self.stream.locked();
        let Stream {
            format,
            output,
            requests,
        } = &mut *guard;
        let mut ctx = DecodeCtx {
            element,
            output,
            counters: &self.counters,
            extra: &self.extra,
            requests,
        };
        format.decode(&data, buffer, &mut ctx)
    }
}

impl<F: DecodeFormat> ElementImpl for VideoDecoder<F> {
    /// A property set lands in the typed settings.
    fn property_changed(&self, e: &Element, name: &str, v: &PropertyValue) -> crate::Result<()> {
        self.settings.locked().write(e.name(), name, v)
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.extra
            .read(F::EXTRA_COUNTERS, name)
            .or_else(|| self.counters.read(name))
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let out = self.decode(element, &buffer)?;
        drop(buffer);
        push_output(element, out)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => {
                self.stream.locked().output.set_input_caps(&caps);
                true
            }
            flush @ Event::FlushStop { .. } => {
                self.stream.locked().format.flush();
                element.forward_event(pad, flush)
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        // Coded input: upstream's buffers are its own business.
        codec_query(element, pad, query)
    }

    fn change_state(&self, _: &Element, change: StateChange) -> crate::Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => {
                self.extra.store(Default::default());
                let settings = self.settings.locked().clone();
                self.stream.locked().format.start(&settings);
            }
            StateChange::PausedToReady => {
                let mut stream = self.stream.locked();
                stream.output.reset();
                stream.format.stop();
            }
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}

#[cfg(test)]
mod tests {
    use crate::pipeline::make_element;

    /// Every writable property of the elements on the decoder and
    /// depayloader bases is one their typed settings hold: setting each
    /// (to its default) through the real element is accepted.
    #[test]
    fn the_settings_hold_every_writable_property() {
        for name in [
            "openh264dec",
            "jpegdec",
            "rtph264depay",
            "rtpjpegdepay",
            "rtpvrawdepay",
        ] {
            let element = make_element(name, None).expect(name);
            let factory = element.factory();
            for spec in factory.properties.iter().filter(|p| p.is_writable()) {
                element
                    .set_property(spec.name, spec.default_value())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        let dec = make_element("openh264dec", None).expect("openh264dec");
        dec.set_property("damaged", "drop").expect("damaged=drop");
        assert_eq!(dec.prop_enum("damaged"), "drop");
    }
}
