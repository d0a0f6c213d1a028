//! `rtspclientsink`: publishes H.264 into an existing RTSP server
//! (MediaMTX, gst-rtsp-server in RECORD mode, Wowza, `ffmpeg -rtsp_flags
//! listen`) with ANNOUNCE/RECORD, as GStreamer's element of that name.
//!
//! ```text
//! ... ! h264enc ! rtspclientsink location=rtsp://user:pass@127.0.0.1:8554/cam protocols=tcp
//! ```
//!
//! The access units are packetized here by framecast-rtp's
//! [`H264Payloader`] (RFC 6184; SPS/PPS before every IDR), or JPEG frames
//! by its [`JpegPayloader`] (RFC 2435), and go out
//! interleaved on the RTSP connection (`protocols=tcp`, default) or as UDP
//! datagrams (`protocols=udp`).
//!
//! # Reconnect
//!
//! The session lives on its own thread, so the streaming thread never
//! waits for a server. When the server refuses or goes away, the element
//! keeps running: it posts `rtspclientsink-state` (`state=disconnected`,
//! then `connected`) on the bus, counts the outage (`outages`), and retries
//! with a capped exponential backoff (0.25 s doubling to 2 s). Frames that
//! arrive meanwhile are dropped and counted (`frames-dropped`), never
//! queued. After each (re)connect it asks upstream for a keyframe
//! (force-key-unit) and drops frames until one comes, so the server's
//! first frame decodes. Wrong credentials are not transient: an error on
//! the bus, and no more tries.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use framecast_core::Buffer;
use framecast_rtp::h264::{nal_type, nal_unit_type};
use framecast_rtp::{
    Aggregation, ConfigInterval, H264Payloader, H264PayloaderConfig, JpegPayloader,
    JpegPayloaderConfig, NalUnits, PacketSource, RtpClock, SessionDescription,
};
use framecast_rtsp::client::{LowerTransport, PublishOptions, Publisher, RtpOut, RtspUrl};

use crate::elements::rtp::caps::random_u32;
use crate::elements::rtp::pay::DEFAULT_MTU;
use crate::pipeline::base::counters;
use crate::pipeline::base::{settings, sink_properties, Settings, SettingsLock, Sink, SinkImpl};
use crate::pipeline::{
    Caps, Element, ElementFactory, Event, FlowResult, FlowSuccess, Message, PadDirection,
    PadTemplate, PropertySpec, PropertyValue, Structure,
};
use crate::{Error, Result};

/// First wait before a new try.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// Longest wait between tries.
const BACKOFF_MAX: Duration = Duration::from_secs(2);

const PROTOCOLS: &[(&str, &str)] = &[
    ("tcp", "RTP interleaved in the RTSP TCP connection"),
    ("udp", "RTP as UDP datagrams to the server's ports"),
];

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = sink_properties(false);
    properties.extend(RtspClientSinkSettings::properties());
    properties.extend(counters! {
        "frames-sent" => "Access units sent to the server",
        "packets-sent" => "RTP packets sent to the server",
        "bytes-sent" => "RTP bytes sent to the server",
        "frames-dropped" => "Access units dropped while disconnected or waiting for a keyframe",
        "outages" => "Times the server refused or went away",
        "connects" => "Successful RECORD sessions set up",
        "connected" => "1 while a RECORD session is up",
    });
    ElementFactory::new(
        "rtspclientsink",
        "RTSP RECORD client sink",
        "Sink/Network",
        "Publishes H.264 or JPEG to an RTSP server (ANNOUNCE/RECORD), reconnecting by itself",
        vec![PadTemplate::always(
            "sink",
            PadDirection::Sink,
            format!(
                "{}; image/jpeg",
                crate::elements::rtp::rtph264pay::SINK_CAPS
            )
            .parse()
            .unwrap_or_else(|_| Caps::new_any()),
        )],
        properties,
        || Box::new(Sink::new(RtspClientSink::default())),
    )
}

/// What the session thread and the streaming thread share.
#[derive(Debug, Default)]
struct Shared {
    /// Where packets go while a session is up.
    out: Mutex<Option<RtpOut>>,
    /// The stream's description, once SPS/PPS are known.
    sdp: Mutex<Option<SessionDescription>>,
    stop: AtomicBool,
    /// A packet write failed: the session thread drops the session.
    broken: AtomicBool,
    /// Frames are dropped until the next IDR.
    need_key: AtomicBool,
    frames_sent: AtomicU64,
    packets_sent: AtomicU64,
    bytes_sent: AtomicU64,
    frames_dropped: AtomicU64,
    outages: AtomicU64,
    connects: AtomicU64,
}

/// The payload format, chosen by the input caps.
#[derive(Debug)]
enum Pay {
    H264(H264Payloader),
    Jpeg(JpegPayloader),
}

/// Per-stream state of the streaming thread.
#[derive(Debug)]
struct Stream {
    pay: Pay,
    clock: RtpClock,
    packet: Vec<u8>,
    server: std::net::IpAddr,
    framerate: Option<f64>,
}

settings! {
    /// `rtspclientsink`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct RtspClientSinkSettings {
        /// `location`: the server's `rtsp://` URL (unset by default).
        location: Option<String> => PropertySpec::string("location", "rtsp://[user:pass@]host:port/path of the server to publish to", None),
        /// `protocols`: a nick of [`PROTOCOLS`].
        protocols: &'static str => PropertySpec::enumeration("protocols", "How RTP travels to the server", PROTOCOLS, "tcp"),
        /// `latency`: longest wait for the server before it counts as gone.
        latency: Duration as Duration::from_millis => PropertySpec::uint("latency", "Longest wait in ms for the server (connect, each answer, a blocked TCP write) before it counts as gone", 50..=60_000, 2000),
    }
}

/// The element's implementation (wrapped in [`Sink`]).
#[derive(Debug, Default)]
pub struct RtspClientSink {
    settings: SettingsLock<RtspClientSinkSettings>,
    /// A fresh one per start (the stop flag of the last session stays
    /// set for its thread).
    shared: Mutex<Arc<Shared>>,
    stream: Mutex<Option<Stream>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

fn post_state(element: &Element, state: &str, detail: &str) {
    if let Ok(structure) = Structure::builder("rtspclientsink-state")
        .field("state", state)
        .field("detail", detail)
        .build()
    {
        element.post_message(Message::Element {
            source: element.name().to_string(),
            structure,
        });
    }
}

/// Sleeps `d` in small steps, returning early when `stop` is set.
fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(20);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}

/// The session thread: connect, keep alive, notice the end, retry.
fn run_session(element: Element, shared: Arc<Shared>, url: RtspUrl, options: PublishOptions) {
    let mut backoff = BACKOFF_MIN;
    let mut down_since_post = false;
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(sdp) = shared.sdp.locked().clone() else {
            sleep_unless(&shared.stop, Duration::from_millis(20));
            continue;
        };
        match Publisher::connect(&url, &sdp, options) {
            Ok(mut publisher) => {
                backoff = BACKOFF_MIN;
                down_since_post = false;
                shared.broken.store(false, Ordering::Relaxed);
                shared.need_key.store(true, Ordering::Relaxed);
                *shared.out.locked() = Some(publisher.rtp_out());
                shared.connects.fetch_add(1, Ordering::Relaxed);
                post_state(&element, "connected", &url.to_string());
                // Resume with a picture the server can decode at once.
                if let Some(pad) = element.sink_pad() {
                    pad.push_event(Event::force_key_unit_upstream(true));
                }
                let end = loop {
                    if shared.stop.load(Ordering::Relaxed) {
                        break None;
                    }
                    if shared.broken.load(Ordering::Relaxed) {
                        break Some("writing to the server failed".to_string());
                    }
                    if let Err(e) = publisher.service() {
                        break Some(e.to_string());
                    }
                };
                *shared.out.locked() = None;
                match end {
                    None => {
                        publisher.teardown();
                        return;
                    }
                    Some(why) => {
                        shared.outages.fetch_add(1, Ordering::Relaxed);
                        post_state(&element, "disconnected", &why);
                        element.post_warning(
                            format!("lost the RTSP session with {url}; reconnecting"),
                            Some(why),
                        );
                    }
                }
            }
            Err(e) if !e.is_transient() => {
                element.post_error(format!("cannot publish to {url}"), Some(e.to_string()));
                post_state(&element, "failed", &e.to_string());
                return;
            }
            Err(e) => {
                if !down_since_post {
                    down_since_post = true;
                    shared.outages.fetch_add(1, Ordering::Relaxed);
                    post_state(&element, "disconnected", &e.to_string());
                    element.post_warning(
                        format!("cannot publish to {url}; retrying"),
                        Some(e.to_string()),
                    );
                }
                sleep_unless(&shared.stop, backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Sends every packet of one frame; false when the frame cannot be
/// packetized or a write fails (the session is then marked broken).
fn send_packets<P: PacketSource>(
    packets: &mut P,
    packet: &mut [u8],
    out: &RtpOut,
    shared: &Shared,
) -> bool {
    loop {
        match packets.next_into(packet) {
            Ok(Some(meta)) => {
                if out.send(&packet[..meta.len]).is_err() {
                    shared.broken.store(true, Ordering::Relaxed);
                    *shared.out.locked() = None;
                    return false;
                }
                shared.packets_sent.fetch_add(1, Ordering::Relaxed);
                shared
                    .bytes_sent
                    .fetch_add(meta.len as u64, Ordering::Relaxed);
            }
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

fn is_idr(data: &[u8]) -> bool {
    NalUnits::AnnexB(data)
        .iter()
        .any(|nal| nal_unit_type(nal[0]) == nal_type::IDR)
}

impl RtspClientSink {
    fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared.locked())
    }

    fn stop_worker(&self) {
        self.shared().stop.store(true, Ordering::Relaxed);
        let worker = self.worker.locked().take();
        if let Some(worker) = worker {
            let _ = worker.join();
        }
    }

    fn drop_frame(&self) -> FlowResult {
        self.shared().frames_dropped.fetch_add(1, Ordering::Relaxed);
        Ok(FlowSuccess::Ok)
    }
}

impl SinkImpl for RtspClientSink {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn start(&self, element: &Element) -> Result<()> {
        let settings = self.settings.get();
        let location = settings.location.as_deref().unwrap_or("");
        let bad = |why: String| Error::InvalidPropertyValue {
            element: element.name().to_string(),
            property: "location".into(),
            value: location.to_string(),
            reason: why,
        };
        if location.is_empty() {
            return Err(bad("give rtsp://host:port/path".into()));
        }
        let url = RtspUrl::parse(location).map_err(|e| bad(e.to_string()))?;
        let server = url.socket_addr().map_err(|e| bad(e.to_string()))?.ip();
        let transport = match settings.protocols {
            "udp" => LowerTransport::Udp,
            _ => LowerTransport::Tcp,
        };
        let timeout = settings.latency.max(Duration::from_millis(50));
        let ssrc = random_u32();
        let pay = H264Payloader::new(H264PayloaderConfig {
            mtu: DEFAULT_MTU as usize,
            payload_type: 96,
            ssrc,
            initial_sequence_number: random_u32() as u16,
            config_interval: ConfigInterval::from_gst(-1),
            aggregation: Aggregation::ParameterSets,
            strip_aud: true,
        })
        .map_err(|e| Error::Element {
            element: element.name().to_string(),
            message: e.to_string(),
        })?;
        *self.stream.locked() = Some(Stream {
            pay: Pay::H264(pay),
            clock: RtpClock::video(random_u32()),
            packet: vec![0; DEFAULT_MTU as usize],
            server,
            framerate: None,
        });
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let el = element.clone();
        let options = PublishOptions { transport, timeout };
        let worker = std::thread::Builder::new()
            .name(format!("{}:rtsp", element.name()))
            .spawn(move || run_session(el, s, url, options))
            .map_err(|source| Error::Io {
                context: "starting the RTSP session thread".into(),
                source,
            })?;
        *self.worker.locked() = Some(worker);
        *self.shared.locked() = shared;
        Ok(())
    }

    fn set_caps(&self, element: &Element, caps: &Caps) -> Result<()> {
        let fps = caps
            .structure(0)
            .and_then(|s| s.get_fraction("framerate"))
            .filter(|f| f.num > 0 && f.den > 0)
            .map(|f| f64::from(f.num) / f64::from(f.den));
        let jpeg = caps.structure(0).is_some_and(|s| s.has_name("image/jpeg"));
        if let Some(st) = self.stream.locked().as_mut() {
            st.framerate = fps;
            if jpeg && !matches!(st.pay, Pay::Jpeg(_)) {
                let pay = JpegPayloader::new(JpegPayloaderConfig {
                    mtu: DEFAULT_MTU as usize,
                    payload_type: 26,
                    ssrc: random_u32(),
                    initial_sequence_number: random_u32() as u16,
                })
                .map_err(|e| Error::Element {
                    element: element.name().to_string(),
                    message: e.to_string(),
                })?;
                st.pay = Pay::Jpeg(pay);
                // Every JPEG frame stands alone: the description is known.
                let mut sdp = SessionDescription::jpeg(st.server, 0, fps);
                sdp.session_name = "framecast".into();
                *self.shared().sdp.locked() = Some(sdp);
            }
        }
        Ok(())
    }

    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        let shared = self.shared();
        let mut guard = self.stream.locked();
        let Some(st) = guard.as_mut() else {
            return self.drop_frame();
        };
        let Ok(map) = buffer.map_readable() else {
            return self.drop_frame();
        };
        let data = map.contiguous();
        let data: &[u8] = &data;
        if shared.sdp.locked().is_none() && matches!(st.pay, Pay::H264(_)) {
            if let Some((sps, pps)) = NalUnits::AnnexB(data).parameter_sets() {
                let mut sdp =
                    SessionDescription::h264(st.server, 0, 96, Some((sps, pps)), st.framerate);
                sdp.session_name = "framecast".into();
                *shared.sdp.locked() = Some(sdp);
            }
        }
        let Some(out) = shared.out.locked().clone() else {
            return self.drop_frame();
        };
        let h264 = matches!(st.pay, Pay::H264(_));
        if shared.need_key.load(Ordering::Relaxed) {
            if h264 && !is_idr(data) {
                return self.drop_frame();
            }
            shared.need_key.store(false, Ordering::Relaxed);
        }
        let rt = buffer.pts().and_then(|pts| {
            element
                .sink_pad()
                .and_then(|p| p.segment().to_running_time(pts))
        });
        let ts = st.clock.to_rtp(rt.map(Duration::from).unwrap_or_default());
        let Stream { pay, packet, .. } = st;
        let sent = match pay {
            Pay::H264(pay) => match pay.packetize(NalUnits::AnnexB(data), ts) {
                Ok(mut packets) => send_packets(&mut packets, packet, &out, &shared),
                Err(_) => false,
            },
            Pay::Jpeg(pay) => match pay.packetize(data, ts) {
                Ok(mut packets) => send_packets(&mut packets, packet, &out, &shared),
                Err(_) => false,
            },
        };
        if !sent {
            return self.drop_frame();
        }
        shared.frames_sent.fetch_add(1, Ordering::Relaxed);
        Ok(FlowSuccess::Ok)
    }

    fn eos(&self, _element: &Element) {
        // TEARDOWN after the last frame.
        self.stop_worker();
    }

    fn stop(&self, _element: &Element) {
        self.stop_worker();
        *self.stream.locked() = None;
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let s = self.shared();
        let v = match name {
            "frames-sent" => s.frames_sent.load(Ordering::Relaxed),
            "packets-sent" => s.packets_sent.load(Ordering::Relaxed),
            "bytes-sent" => s.bytes_sent.load(Ordering::Relaxed),
            "frames-dropped" => s.frames_dropped.load(Ordering::Relaxed),
            "outages" => s.outages.load(Ordering::Relaxed),
            "connects" => s.connects.load(Ordering::Relaxed),
            "connected" => u64::from(s.out.locked().is_some()),
            _ => return None,
        };
        Some(PropertyValue::UInt(v))
    }
}
