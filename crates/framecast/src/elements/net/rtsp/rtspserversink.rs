//! `rtspserversink`: serves the H.264 stream on its sink pad over RTSP
//! (`rtsp://address:port/path`), packetized once for every viewer.
//!
//! Viewers come and go (ffmpeg, ffplay, GStreamer's `rtspsrc`, NVRs):
//! UDP unicast, TCP interleaved or UDP multicast, as `transports` allows.
//! Each access unit is cut into RTP packets once (framecast-rtp's
//! [`H264Payloader`], SPS/PPS before every IDR) into a pooled shared
//! frame; UDP viewers get it in `sendmmsg` batches (64 datagrams a call,
//! all viewers together), TCP viewers through their own bounded
//! latest-wins queue, so a slow viewer never slows the encoder or the
//! others (one that stops reading is disconnected, with a warning naming
//! it). A viewer's PLAY, and an RTCP PLI/FIR, send a force-key-unit event
//! upstream (at most one per 250 ms): the encoder's next frame is an IDR
//! with SPS/PPS, so a late joiner sees a picture within about a frame.
//!
//! Several `rtspserversink`s with one `address:port` in a process share
//! the listening socket, each on its own `path`. With `user` and
//! `password` set, viewers must authenticate (Digest, RFC 2617).

use framecast_core::sync::MutexExt;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use framecast_core::Buffer;
use framecast_rtp::h264::{nal_type, nal_unit_type};
use framecast_rtp::{H264Payloader, H264PayloaderConfig, NalUnits, PacketSource};
use framecast_rtsp::digest::DigestAuth;
use framecast_rtsp::server::{
    DatagramSender, MountConfig, MountHandle, MountHooks, Server, Transports,
};

use crate::elements::net::sys::{self, RawAddr, MMSG_CHUNK};
use crate::elements::rtp::caps::{caps_framerate, random_u32};
use crate::elements::rtp::pay::{PayBase, PayConfig};
use crate::pipeline::base::{integer, sink_properties, Settings, SettingsLock, Sink, SinkImpl};
use crate::pipeline::{Caps, Element, ElementFactory, Event, PadDirection, PadTemplate};
use crate::pipeline::{PropertySpec, PropertyValue};
use crate::{Error, FlowError, FlowResult, FlowSuccess, Result};

/// Sink template: whole H.264 access units in Annex B.
pub const SINK_CAPS: &str = "video/x-h264,stream-format=byte-stream,alignment=au";

/// Largest RTP packet sent.
const MTU: usize = 1400;

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = sink_properties(false);
    properties.extend(RtspServerSinkSettings::properties());
    properties.extend([
        PropertySpec::counter("viewers", "Sessions playing now"),
        PropertySpec::counter("frames-sent", "Access units fanned out"),
        PropertySpec::counter("packets-sent", "RTP packets sent, all viewers together"),
        PropertySpec::counter("bytes-sent", "Bytes of them"),
        PropertySpec::counter(
            "keyframe-requests",
            "Keyframe requests sent upstream (PLAY, PLI/FIR)",
        ),
        PropertySpec::counter(
            "viewers-stalled",
            "TCP viewers disconnected for not reading",
        ),
        PropertySpec::counter("bound-port", "The port listened on (for port=0)"),
    ]);
    ElementFactory::new(
        "rtspserversink",
        "RTSP server sink",
        "Sink/Network",
        "Serves H.264 over RTSP to any number of viewers, packetized once",
        vec![PadTemplate::always(
            "sink",
            PadDirection::Sink,
            SINK_CAPS.parse().unwrap_or_else(|_| Caps::new_any()),
        )],
        properties,
        || Box::new(Sink::new(RtspServerSink::default())),
    )
}

/// The `address=… port=… path=…` properties for `rtsp://HOST:PORT/PATH`
/// (the Sender's and the CLI's `serve`).
///
/// # Errors
///
/// The URL is not `rtsp://` with an IP address host.
pub fn server_properties(url: &str) -> Result<String> {
    let bad = |why: &str| Error::InvalidPropertyValue {
        element: "rtspserversink".into(),
        property: "serve".into(),
        value: url.to_string(),
        reason: format!("{why} (give rtsp://ADDRESS:PORT/PATH, e.g. rtsp://127.0.0.1:8554/cam)"),
    };
    let rest = url
        .strip_prefix("rtsp://")
        .ok_or_else(|| bad("not an rtsp:// URL"))?;
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, "stream"));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("bad port"))?),
        None => (hostport, 8554),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host == "localhost" {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse()
            .map_err(|_| bad("the host must be an IP address"))?
    };
    let path = path.trim_matches('/');
    if path.is_empty() || path.contains(|c: char| c.is_whitespace() || c == '"') {
        return Err(bad("bad path"));
    }
    Ok(format!("address={ip} port={port} path={path}"))
}

/// [`DatagramSender`] over framecast's `sendmmsg` batches.
struct Batched;

impl DatagramSender for Batched {
    fn send(&mut self, socket: &UdpSocket, msgs: &[(&[u8], SocketAddr)]) -> u64 {
        let mut failed = 0;
        for chunk in msgs.chunks(MMSG_CHUNK) {
            let nowhere = RawAddr::new(SocketAddr::from(([0, 0, 0, 0], 0)));
            let mut addrs = [nowhere; MMSG_CHUNK];
            for (a, (_, to)) in addrs.iter_mut().zip(chunk) {
                *a = RawAddr::new(*to);
            }
            let empty: &[u8] = &[];
            let mut batch = [(empty, &addrs[0]); MMSG_CHUNK];
            for (i, (b, (data, _))) in batch.iter_mut().zip(chunk).enumerate() {
                *b = (data, &addrs[i]);
            }
            failed += sys::send_batch(socket, &batch[..chunk.len()]).failed;
        }
        failed
    }
}

struct Stream {
    handle: MountHandle,
    pay: Option<H264Payloader>,
    cfg: PayConfig,
    framerate: Option<f64>,
    /// The SPS/PPS the SDP announces.
    announced: Option<(Vec<u8>, Vec<u8>)>,
}

/// The element's implementation.
#[derive(Default)]
pub struct RtspServerSink {
    settings: SettingsLock<RtspServerSinkSettings>,
    stream: Mutex<Option<Stream>>,
    base: PayBase,
}

impl std::fmt::Debug for RtspServerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtspServerSink").finish_non_exhaustive()
    }
}

/// `rtspserversink`'s writable properties.
#[derive(Debug, Clone)]
pub(crate) struct RtspServerSinkSettings {
    /// `address` to listen on (an empty one counts as the default).
    address: Option<String>,
    port: u16,
    /// `path` viewers open.
    path: Option<String>,
    /// `transports`: `udp,tcp,udp-mcast` or a part of it.
    transports: Option<String>,
    multicast_address: Option<String>,
    multicast_port: u16,
    max_clients: usize,
    session_timeout: Duration,
    /// `user` and `password`: both, or neither (no authentication).
    user: Option<String>,
    password: Option<String>,
}

impl Default for RtspServerSinkSettings {
    fn default() -> Self {
        RtspServerSinkSettings {
            address: Some("127.0.0.1".into()),
            port: 8554,
            path: Some("stream".into()),
            transports: Some("udp,tcp,udp-mcast".into()),
            multicast_address: Some("239.255.42.42".into()),
            multicast_port: 5004,
            max_clients: 64,
            session_timeout: Duration::from_secs(60),
            user: None,
            password: None,
        }
    }
}

impl Settings for RtspServerSinkSettings {
    /// The string defaults are written here as the literals
    /// [`RtspServerSinkSettings::default`] holds (`PropertySpec` takes
    /// `&'static str`).
    fn properties() -> Vec<PropertySpec> {
        let d = RtspServerSinkSettings::default();
        vec![
            PropertySpec::string(
                "address",
                "Address to listen on (loopback unless given)",
                Some("127.0.0.1"),
            ),
            PropertySpec::int(
                "port",
                "RTSP port to listen on",
                0..=65_535,
                i64::from(d.port),
            ),
            PropertySpec::string(
                "path",
                "Path viewers open: rtsp://address:port/PATH",
                Some("stream"),
            ),
            PropertySpec::string(
                "transports",
                "Transports viewers may set up: udp, tcp, udp-mcast",
                Some("udp,tcp,udp-mcast"),
            ),
            PropertySpec::string(
                "multicast-address",
                "Multicast group for udp-mcast viewers",
                Some("239.255.42.42"),
            ),
            PropertySpec::int(
                "multicast-port",
                "RTP port of the multicast group",
                1..=65_534,
                i64::from(d.multicast_port),
            ),
            PropertySpec::uint(
                "max-clients",
                "Most RTSP connections at once (more get 503)",
                1..=4096,
                d.max_clients as u64,
            ),
            PropertySpec::uint(
                "session-timeout",
                "Seconds a session lives without a keepalive or RTCP",
                1..=3600,
                d.session_timeout.as_secs(),
            ),
            PropertySpec::string("user", "User viewers must authenticate as (Digest)", None),
            PropertySpec::string("password", "Password for user", None),
        ]
    }

    fn set(&mut self, name: &str, value: &PropertyValue) -> bool {
        let text = match value {
            PropertyValue::String(s) => Some(s.clone()),
            _ => None,
        };
        let done = match name {
            "address" => text.map(|s| self.address = s),
            "port" => integer(value).map(|n| self.port = n),
            "path" => text.map(|s| self.path = s),
            "transports" => text.map(|s| self.transports = s),
            "multicast-address" => text.map(|s| self.multicast_address = s),
            "multicast-port" => integer(value).map(|n| self.multicast_port = n),
            "max-clients" => integer(value).map(|n| self.max_clients = n),
            "session-timeout" => value
                .as_u64()
                .map(|s| self.session_timeout = Duration::from_secs(s)),
            "user" => text.map(|s| self.user = s),
            "password" => text.map(|s| self.password = s),
            _ => None,
        };
        done.is_some()
    }
}

/// A string setting trimmed, `None` when unset or empty.
fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A string setting, the default's when unset or empty.
fn text_or(value: &Option<String>, default: Option<String>) -> String {
    text(value).or(default).unwrap_or_default()
}

impl RtspServerSink {
    /// The `rtspserversink` behind an element.
    pub fn from_element(element: &Element) -> Option<&RtspServerSink> {
        element.imp::<Sink<RtspServerSink>>().map(Sink::imp)
    }

    /// The URL viewers open, once started.
    pub fn url(&self) -> Option<String> {
        self.stream.locked().as_ref().map(|s| s.handle.url())
    }

    /// Every session's figures (loss, jitter, RTT from its RTCP).
    pub fn viewers(&self) -> Vec<framecast_rtsp::server::ViewerInfo> {
        self.stream
            .locked()
            .as_ref()
            .map(|s| s.handle.mount().viewers())
            .unwrap_or_default()
    }

    fn open(&self, element: &Element) -> Result<()> {
        let bad = |message: String| Error::Element {
            element: element.name().to_string(),
            message,
        };
        let settings = self.settings.get();
        let d = RtspServerSinkSettings::default();
        let host = text_or(&settings.address, d.address);
        let ip: IpAddr = host
            .parse()
            .map_err(|_| bad(format!("address {host:?} is not an IP address")))?;
        let port = settings.port;
        let mut config = MountConfig::new(&text_or(&settings.path, d.path));
        config.transports = Transports::parse(&text_or(&settings.transports, d.transports))
            .map_err(|e| bad(e.to_string()))?;
        let group = text_or(&settings.multicast_address, d.multicast_address);
        let group: std::net::Ipv4Addr = group
            .parse()
            .ok()
            .filter(|g: &std::net::Ipv4Addr| g.is_multicast())
            .ok_or_else(|| {
                bad(format!(
                    "multicast-address {group:?} is not an IPv4 multicast group"
                ))
            })?;
        config.multicast = SocketAddrV4::new(group, settings.multicast_port);
        config.session_timeout = settings.session_timeout;
        config.auth = match (text(&settings.user), text(&settings.password)) {
            (Some(u), Some(p)) => Some(DigestAuth::new(&u, &p)),
            (None, None) => None,
            _ => return Err(bad("set both user and password, or neither".into())),
        };
        let max = settings.max_clients;
        let server =
            Server::bind(SocketAddr::new(ip, port), max).map_err(|e| bad(e.to_string()))?;
        let pad = Mutex::new(element.sink_pad());
        let warn = Mutex::new(element.clone());
        let hooks = MountHooks {
            keyframe: Box::new(move || {
                if let Some(p) = pad.locked().as_ref() {
                    p.push_event(Event::force_key_unit_upstream(true));
                }
            }),
            log: Box::new(move |m| warn.locked().post_warning(m.to_string(), None)),
        };
        let handle = server
            .mount(config, hooks)
            .map_err(|e| bad(e.to_string()))?;
        let cfg = PayConfig {
            mtu: MTU,
            wire_mtu: MTU,
            pt: 96,
            ssrc: random_u32(),
            seqnum_offset: (random_u32() & 0xffff) as u16,
            timestamp_offset: random_u32(),
        };
        let pay = H264Payloader::new(H264PayloaderConfig {
            mtu: MTU,
            payload_type: cfg.pt,
            ssrc: cfg.ssrc,
            initial_sequence_number: cfg.seqnum_offset,
            ..Default::default()
        })
        .map_err(|e| bad(e.to_string()))?;
        *self.stream.locked() = Some(Stream {
            handle,
            pay: Some(pay),
            cfg,
            framerate: None,
            announced: None,
        });
        Ok(())
    }
}

/// The SDP DESCRIBE answers: the stream's medium with `a=control`, no
/// address (the transport comes from SETUP).
fn describe(st: &Stream, sps: &[u8], pps: &[u8]) -> String {
    let mut sdp = framecast_rtp::sdp::SessionDescription::h264(
        IpAddr::from([0, 0, 0, 0]),
        0,
        st.cfg.pt,
        Some((sps, pps)),
        st.framerate,
    );
    sdp.session_name = "framecast".into();
    sdp.attributes.push(("control".into(), Some("*".into())));
    sdp.attributes
        .push(("range".into(), Some("npt=now-".into())));
    if let Some(m) = sdp.media.first_mut() {
        m.direction = None;
        m.attributes
            .push(("control".into(), Some("stream=0".into())));
    }
    sdp.to_string()
}

impl SinkImpl for RtspServerSink {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn set_caps(&self, _element: &Element, caps: &Caps) -> Result<()> {
        if let Some(st) = self.stream.locked().as_mut() {
            st.framerate = caps.structure(0).and_then(caps_framerate);
        }
        Ok(())
    }

    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        let mut guard = self.stream.locked();
        let Some(st) = guard.as_mut() else {
            return Err(FlowError::Flushing);
        };
        let Some(pad) = element.sink_pad() else {
            return Err(FlowError::Error);
        };
        let ts = self.base.rtp_timestamp(&pad, &buffer, &st.cfg.clock());
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        let data = map.contiguous();
        let mount = st.handle.mount().clone();
        let mut frame = mount.frame();
        let Some(pay) = st.pay.as_mut() else {
            return Err(FlowError::Error);
        };
        if let Some(f) = Arc::get_mut(&mut frame) {
            f.set_keyframe(
                NalUnits::AnnexB(&data)
                    .iter()
                    .any(|n| nal_unit_type(n[0]) == nal_type::IDR),
            );
            let Ok(mut packets) = pay.packetize(NalUnits::AnnexB(&data), ts) else {
                self.base.count_dropped();
                return Ok(FlowSuccess::Ok);
            };
            loop {
                match packets.next_into(f.slot(MTU)) {
                    Ok(Some(meta)) => f.commit(meta.len),
                    Ok(None) | Err(_) => {
                        f.abandon();
                        break;
                    }
                }
            }
        }
        drop(map);
        // The SDP once the parameter sets are known (and when they change).
        if let Some((sps, pps)) = pay.parameter_sets() {
            let changed = st
                .announced
                .as_ref()
                .is_none_or(|(s, p)| s.as_slice() != sps || p.as_slice() != pps);
            if changed {
                let (sps, pps) = (sps.to_vec(), pps.to_vec());
                mount.set_sdp(describe(st, &sps, &pps));
                st.announced = Some((sps, pps));
            }
        }
        drop(guard);
        mount.send(frame, &mut Batched);
        Ok(FlowSuccess::Ok)
    }

    fn start(&self, element: &Element) -> Result<()> {
        self.open(element)
    }

    fn stop(&self, _element: &Element) {
        let st = self.stream.locked().take();
        drop(st);
    }

    fn read_property(
        &self,
        _element: &Element,
        name: &str,
    ) -> Option<crate::pipeline::PropertyValue> {
        let guard = self.stream.locked();
        let st = guard.as_ref();
        let m = st.map(|s| s.handle.mount());
        let c = |f: fn(&framecast_rtsp::server::mount::MountCounters) -> u64| {
            m.map(|m| f(&m.counters)).unwrap_or(0)
        };
        let v = match name {
            "viewers" => m.map(|m| m.playing() as u64).unwrap_or(0),
            "frames-sent" => c(|c| c.frames.load(Ordering::Relaxed)),
            "packets-sent" => c(|c| c.packets.load(Ordering::Relaxed)),
            "bytes-sent" => c(|c| c.bytes.load(Ordering::Relaxed)),
            "keyframe-requests" => c(|c| c.keyframe_requests.load(Ordering::Relaxed)),
            "viewers-stalled" => c(|c| c.stalled.load(Ordering::Relaxed)),
            "bound-port" => st
                .map(|s| u64::from(s.handle.server().local_addr().port()))
                .unwrap_or(0),
            _ => return None,
        };
        Some(crate::pipeline::PropertyValue::UInt(v))
    }
}
