//! `whepsink`: serves the H.264 stream on its sink pad to browsers over
//! WebRTC, set up by WHEP at `http://address:port/<path>/whep`, without a
//! second encode.
//!
//! The access units go to every viewer as they are (framecast-webrtc over
//! str0m: ICE-lite, DTLS-SRTP, one shared copy per access unit, a bounded
//! latest-wins queue per viewer). A new viewer, and an RTCP PLI/FIR, send
//! a force-key-unit event upstream (at most one per 250 ms), so the
//! encoder's next frame is an IDR with SPS/PPS. The HTTP server is
//! framecast-http's, shared with every other mount on the same address
//! (the viewer page and MJPEG at `/<path>/`, the dashboard at `/`); the
//! viewers' figures appear on `/api/stats` and `/metrics` as
//! `whep:/<path>`. With `token` set, WHEP requests need
//! `Authorization: Bearer <token>`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use framecast_core::sync::MutexExt;
use framecast_core::Buffer;
use framecast_http::stats::{register, Registered, StatsSource};
use framecast_http::{HttpServer, Mounted};
use framecast_webrtc::{StreamConfig, StreamHooks, WebrtcStream, WhepRoute};

use crate::elements::net::http::listen::{self, Listen, Listening};
use crate::elements::net::http::settings::{MAX_DOC, PATH, PORT};
use crate::elements::net::text_setting;
use crate::pipeline::base::{settings, sink_properties, Settings, SettingsLock, Sink, SinkImpl};
use crate::pipeline::{Caps, Element, ElementFactory, PadDirection, PadTemplate};
use crate::pipeline::{PropertySpec, PropertyValue};
use crate::{FlowError, FlowResult, FlowSuccess, Result};

/// Sink template: whole H.264 access units in Annex B, the profile
/// browsers decode (constrained baseline is what framecast's encoders
/// emit).
pub const SINK_CAPS: &str = "video/x-h264,stream-format=byte-stream,alignment=au";

/// The read-only counters, answered from the running stream.
const COUNTERS: [(&str, &str); 5] = [
    ("viewers", "WebRTC sessions now"),
    ("frames-sent", "Access units fanned out"),
    ("keyframe-requests", "Keyframe requests sent upstream"),
    ("bound-port", "The HTTP port listened on (for port=0)"),
    ("bound-udp-port", "The UDP port of the WebRTC media"),
];

/// The factory.
pub fn factory() -> ElementFactory {
    let counters = COUNTERS
        .iter()
        .map(|&(name, blurb)| PropertySpec::counter(name, blurb));
    let properties: Vec<PropertySpec> = sink_properties(false)
        .into_iter()
        .chain(WhepSinkSettings::properties())
        .chain(counters)
        .collect();
    let caps = SINK_CAPS.parse().unwrap_or_else(|_| Caps::new_any());
    let sink = PadTemplate::always("sink", PadDirection::Sink, caps);
    let blurb = "Serves H.264 to browsers over WebRTC (WHEP), without re-encoding";
    let make =
        || -> Box<dyn crate::pipeline::ElementImpl> { Box::new(Sink::new(WhepSink::default())) };
    ElementFactory::new(
        "whepsink",
        "WHEP sink",
        "Sink/Network",
        blurb,
        vec![sink],
        properties,
        make,
    )
}

settings! {
    /// `whepsink`'s writable properties; unset strings take the defaults
    /// when the sink starts.
    #[derive(Debug, Clone)]
    pub(crate) struct WhepSinkSettings {
        address: Option<String> => PropertySpec::string("address", "HTTP and WebRTC address (loopback unless given)", Some("127.0.0.1")),
        port: u16 => PropertySpec::int("port", "HTTP port", 0..=65_535, i64::from(PORT)),
        path: Option<String> => PropertySpec::string("path", "WHEP at http://address:port/PATH/whep", Some(PATH)),
        token: Option<String> => PropertySpec::string("token", "Bearer token WHEP requests must carry", None),
        udp_port: u16 => PropertySpec::int("udp-port", "UDP port of the WebRTC media (0: any)", 0..=65_535, 0),
        max_sessions: usize => PropertySpec::uint("max-sessions", "Most viewers (more get 503)", 1..=1024, 16),
        max_connections: usize => PropertySpec::uint("max-connections", MAX_DOC, 1..=65_536, framecast_http::DEFAULT_MAX_CONNECTIONS as u64),
    }
}

impl WhepSinkSettings {
    /// The path, without slashes, `PATH` when unset.
    fn path(&self) -> String {
        text_setting(&self.path)
            .unwrap_or_else(|| PATH.to_string())
            .trim_matches('/')
            .to_string()
    }
}

/// What runs while the element streams.
#[derive(Debug)]
struct Serving {
    stream: Arc<WebrtcStream>,
    server: Arc<HttpServer>,
    _mounted: Mounted,
    _stats: Registered,
    _route: Arc<WhepRoute>,
}

/// The element's implementation.
#[derive(Debug, Default)]
pub struct WhepSink {
    settings: SettingsLock<WhepSinkSettings>,
    serving: Mutex<Option<Serving>>,
}

impl WhepSink {
    /// The `whepsink` behind an element.
    pub fn from_element(element: &Element) -> Option<&WhepSink> {
        element.imp::<Sink<WhepSink>>().map(Sink::imp)
    }

    /// The WHEP endpoint's URL, once started.
    pub fn url(&self) -> Option<String> {
        let path = self.settings.read(WhepSinkSettings::path);
        let serving = self.serving.locked();
        serving.as_ref().map(|s| {
            let base = s.server.url(&format!("{path}/whep"));
            base.split('?').next().unwrap_or(&base).to_string()
        })
    }

    /// Every viewer's figures.
    pub fn viewers(&self) -> Vec<framecast_webrtc::ViewerStats> {
        let serving = self.serving.locked();
        serving
            .as_ref()
            .map_or_else(Vec::new, |s| s.stream.viewers())
    }

    fn open(&self, element: &Element) -> Result<()> {
        let settings = self.settings.get();
        let bad = |message: String| listen::element_error(element, message);
        let address = text_setting(&settings.address);
        let path = settings.path();
        let listen = Listen {
            address: address.as_deref(),
            port: settings.port,
            path: &path,
            token: text_setting(&settings.token),
            max_connections: settings.max_connections,
        };
        let Listening { server, ip, path } = listen::open(element, listen)?;
        let (keyframe, log) = crate::elements::net::server_hooks(element);
        let hooks = StreamHooks { keyframe, log };
        let stream_config = StreamConfig {
            address: ip,
            udp_port: settings.udp_port,
            max_sessions: settings.max_sessions,
            ..StreamConfig::default()
        };
        let stream =
            Arc::new(WebrtcStream::start(stream_config, hooks).map_err(|e| bad(e.to_string()))?);
        let endpoint = format!("{path}/whep");
        let route = Arc::new(WhepRoute::new(Arc::clone(&stream), &endpoint));
        let mounted = server
            .mount(&endpoint, route.clone())
            .map_err(|e| bad(e.to_string()))?;
        let source: Arc<dyn StatsSource> = route.clone();
        let stats = register(&format!("whep:/{path}"), &source);
        *self.serving.locked() = Some(Serving {
            stream,
            server,
            _mounted: mounted,
            _stats: stats,
            _route: route,
        });
        Ok(())
    }
}

impl SinkImpl for WhepSink {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        let stream = match self.serving.locked().as_ref() {
            Some(s) => Arc::clone(&s.stream),
            None => return Err(FlowError::Flushing),
        };
        let pts = match (buffer.pts(), element.sink_pad()) {
            (Some(pts), Some(pad)) => pad.segment().to_running_time(pts).map(Duration::from),
            _ => None,
        };
        // The capture time (the push's, or the camera's the program gave)
        // goes to the browser as RTP's sampling instant and abs-capture-time.
        let captured = || {
            let clock_now = element.context().map(|c| c.clock.time());
            crate::elements::rtp::header_ext::extensions_of(&buffer, clock_now)
                .capture_time
                .map(|t| t.to_system_time())
        };
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        stream.send(&map.contiguous(), pts.unwrap_or_default(), captured);
        Ok(FlowSuccess::Ok)
    }

    fn start(&self, element: &Element) -> Result<()> {
        self.open(element)
    }

    fn stop(&self, _element: &Element) {
        // Unmounts WHEP, ends the sessions and the stream's thread.
        drop(self.serving.locked().take());
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let serving = self.serving.locked();
        let Some(s) = serving.as_ref() else {
            return COUNTERS
                .iter()
                .any(|(n, _)| *n == name)
                .then_some(PropertyValue::UInt(0));
        };
        let counters = s.stream.counters();
        Some(PropertyValue::UInt(match name {
            "viewers" => s.stream.viewers().len() as u64,
            "frames-sent" => counters.frames.load(Ordering::Relaxed),
            "keyframe-requests" => counters.keyframe_requests.load(Ordering::Relaxed),
            "bound-port" => s.server.local_addr().port().into(),
            "bound-udp-port" => s.stream.local_addr().port().into(),
            _ => return None,
        }))
    }
}
