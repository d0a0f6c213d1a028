//! `rtspserversink`: serves the H.264 or JPEG stream on its sink pad over
//! RTSP (`rtsp://address:port/path`), packetized once for every viewer.
//!
//! Viewers come and go (ffmpeg, ffplay, GStreamer's `rtspsrc`, NVRs):
//! UDP unicast, TCP interleaved or UDP multicast, as `transports` allows.
//! Each access unit is cut into RTP packets once (framecast-rtp's
//! [`H264Payloader`], SPS/PPS before every IDR; or its [`JpegPayloader`],
//! RFC 2435, payload type 26, every frame a picture of its own) into a
//! pooled shared frame; UDP viewers get it in `sendmmsg` batches (64
//! messages a call, all viewers together, each run of same-size packets
//! one UDP GSO message), TCP viewers through their own bounded
//! latest-wins queue, so a slow viewer never slows the encoder or the
//! others (one that stops reading is disconnected, with a warning naming
//! it). A viewer's PLAY, and an RTCP PLI/FIR, send a force-key-unit event
//! upstream (at most one per 250 ms): the encoder's next frame is an IDR
//! with SPS/PPS, so a late joiner sees a picture within about a frame.
//! Every viewer gets RTCP sender reports and its receiver reports are read
//! (UDP at the mount's RTCP port, TCP on its RTCP channel, multicast at
//! the group's RTCP port, which the mount joins): its loss, jitter and
//! round-trip time ([`RtspServerSink::viewers`]), and a sign of life
//! against `session-timeout`.
//!
//! Several `rtspserversink`s with one `address:port` in a process share
//! the listening socket, each on its own `path`. With `user` and
//! `password` set, viewers must authenticate (Digest, RFC 2617).

use framecast_core::sync::MutexExt;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use framecast_core::Buffer;
use framecast_rtp::h264::{nal_type, nal_unit_type};
use framecast_rtp::{
    H264Payloader, H264PayloaderConfig, JpegPayloader, JpegPayloaderConfig, NalUnits, PacketSource,
    SessionDescription,
};
use framecast_rtsp::digest::DigestAuth;
use framecast_rtsp::server::{
    DatagramSender, Datagrams, Frame, MountConfig, MountHandle, MountHooks, Server, Transports,
};

use crate::elements::net::sys::{self, RawAddr, MMSG_CHUNK};
use crate::elements::rtp::caps::{caps_framerate, random_u32};
use crate::elements::rtp::pay::{PayBase, PayConfig};
use crate::pipeline::base::counters;
use crate::pipeline::base::{settings, sink_properties, Settings, SettingsLock, Sink, SinkImpl};
use crate::pipeline::{Caps, Element, ElementFactory, PadDirection, PadTemplate};
use crate::pipeline::{PropertySpec, PropertyValue};
use crate::{Error, FlowError, FlowResult, FlowSuccess, Result};

/// Sink template: whole H.264 access units in Annex B, or JPEG frames.
pub const SINK_CAPS: &str = "video/x-h264,stream-format=byte-stream,alignment=au; image/jpeg";

/// Largest RTP packet sent.
const MTU: usize = 1400;

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = sink_properties(false);
    properties.extend(RtspServerSinkSettings::properties());
    properties.extend(counters! {
        "viewers" => "Sessions playing now",
        "frames-sent" => "Access units fanned out",
        "packets-sent" => "RTP packets sent, all viewers together",
        "bytes-sent" => "Bytes of them",
        "keyframe-requests" => "Keyframe requests sent upstream (PLAY, PLI/FIR)",
        "viewers-stalled" => "TCP viewers disconnected for not reading",
        "bound-port" => "The port listened on (for port=0)",
        "connections" => "RTSP connections its server serves now (all mounts; refused ones not counted)",
    });
    ElementFactory::new(
        "rtspserversink",
        "RTSP server sink",
        "Sink/Network",
        "Serves H.264 or JPEG over RTSP to any number of viewers, packetized once",
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

/// [`DatagramSender`] over framecast's `sendmmsg` batches, each run of
/// packets one UDP GSO message (`UDP_SEGMENT`): a viewer costs the kernel
/// one message per run (one to three a frame), not one per packet. Where
/// the kernel refuses segmenting, `no_gso` is set and each run goes
/// packet by packet from then on.
struct Batched<'a> {
    no_gso: &'a AtomicBool,
}

impl DatagramSender for Batched<'_> {
    fn send(&mut self, socket: &UdpSocket, msgs: &[Datagrams<'_>]) -> u64 {
        let mut failed = 0;
        let no_gso = self.no_gso.load(Ordering::Relaxed);
        for chunk in msgs.chunks(MMSG_CHUNK) {
            let nowhere = RawAddr::new(SocketAddr::from(([0, 0, 0, 0], 0)));
            let mut addrs = [nowhere; MMSG_CHUNK];
            for (a, m) in addrs.iter_mut().zip(chunk) {
                *a = RawAddr::new(m.to);
            }
            let none = sys::Segmented {
                bytes: &[],
                dest: &addrs[0],
                segment: 1,
            };
            let mut batch = [none; MMSG_CHUNK];
            for (i, (b, m)) in batch.iter_mut().zip(chunk).enumerate() {
                *b = sys::Segmented {
                    bytes: m.run.bytes,
                    dest: &addrs[i],
                    segment: u16::try_from(m.run.segment).unwrap_or(u16::MAX),
                };
            }
            if no_gso {
                for m in &batch[..chunk.len()] {
                    failed += sys::send_unsegmented(socket, m).failed;
                }
                continue;
            }
            let out = sys::send_batch(socket, &batch[..chunk.len()]);
            if out.segmenting_refused {
                self.no_gso.store(true, Ordering::Relaxed);
            }
            failed += out.failed;
        }
        failed
    }
}

/// The payload format, chosen by the input caps (H.264 until they say
/// `image/jpeg`).
enum Pay {
    H264(H264Payloader),
    Jpeg(JpegPayloader),
}

struct Stream {
    handle: MountHandle,
    pay: Pay,
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
    /// The kernel refused UDP GSO once: send packet by packet.
    no_gso: AtomicBool,
}

impl std::fmt::Debug for RtspServerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtspServerSink").finish_non_exhaustive()
    }
}

settings! {
    /// `rtspserversink`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct RtspServerSinkSettings {
        /// `address` to listen on (an empty one counts as the default).
        address: Option<String> => PropertySpec::string("address", "Address to listen on (loopback unless given)", Some("127.0.0.1")),
        port: u16 => PropertySpec::int("port", "RTSP port to listen on", 0..=65_535, 8554),
        /// `path` viewers open.
        path: Option<String> => PropertySpec::string("path", "Path viewers open: rtsp://address:port/PATH", Some("stream")),
        /// `transports`: `udp,tcp,udp-mcast` or a part of it.
        transports: Option<String> => PropertySpec::string("transports", "Transports viewers may set up: udp, tcp, udp-mcast", Some("udp,tcp,udp-mcast")),
        multicast_address: Option<String> => PropertySpec::string("multicast-address", "Multicast group for udp-mcast viewers", Some("239.255.42.42")),
        multicast_port: u16 => PropertySpec::int("multicast-port", "RTP port of the multicast group", 1..=65_534, 5004),
        max_clients: usize => PropertySpec::uint("max-clients", "Most RTSP connections at once (more get 503)", 1..=4096, 64),
        session_timeout: Duration as Duration::from_secs => PropertySpec::uint("session-timeout", "Seconds a session lives without a keepalive or RTCP", 1..=3600, 60),
        /// `user` and `password`: both, or neither (no authentication).
        user: Option<String> => PropertySpec::string("user", "User viewers must authenticate as (Digest)", None),
        password: Option<String> => PropertySpec::string("password", "Password for user", None),
    }
}

use crate::elements::net::text_setting as text;

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
        let (keyframe, log) = crate::elements::net::server_hooks(element);
        let hooks = MountHooks { keyframe, log };
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
            pay: Pay::H264(pay),
            cfg,
            framerate: None,
            announced: None,
        });
        Ok(())
    }
}

/// The SDP DESCRIBE answers: the stream's medium with `a=control`, no
/// address (the transport comes from SETUP). H.264 with its parameter
/// sets; JPEG (`a=rtpmap:26 JPEG/90000`) when `sps_pps` is `None`.
fn describe(st: &Stream, sps_pps: Option<(&[u8], &[u8])>) -> String {
    let nowhere = IpAddr::from([0, 0, 0, 0]);
    let mut sdp = match sps_pps {
        Some(sets) => SessionDescription::h264(nowhere, 0, st.cfg.pt, Some(sets), st.framerate),
        None => SessionDescription::jpeg(nowhere, 0, st.framerate),
    };
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

/// Writes every packet of `packets` into `frame`.
fn fill<P: PacketSource>(frame: &mut Frame, packets: &mut P) {
    loop {
        match packets.next_into(frame.slot(MTU)) {
            Ok(Some(meta)) => frame.commit(meta.len),
            Ok(None) | Err(_) => {
                frame.abandon();
                break;
            }
        }
    }
}

impl SinkImpl for RtspServerSink {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn set_caps(&self, element: &Element, caps: &Caps) -> Result<()> {
        let jpeg = caps.structure(0).is_some_and(|s| s.has_name("image/jpeg"));
        if let Some(st) = self.stream.locked().as_mut() {
            st.framerate = caps.structure(0).and_then(caps_framerate);
            if jpeg && !matches!(st.pay, Pay::Jpeg(_)) {
                let pay = JpegPayloader::new(JpegPayloaderConfig {
                    mtu: MTU,
                    payload_type: framecast_rtp::jpeg::PAYLOAD_TYPE,
                    ssrc: st.cfg.ssrc,
                    initial_sequence_number: st.cfg.seqnum_offset,
                })
                .map_err(|e| Error::Element {
                    element: element.name().to_string(),
                    message: e.to_string(),
                })?;
                st.pay = Pay::Jpeg(pay);
                st.cfg.pt = framecast_rtp::jpeg::PAYLOAD_TYPE;
            }
            if matches!(st.pay, Pay::Jpeg(_)) {
                // Every JPEG frame stands alone: the description is
                // known from the caps.
                st.handle.mount().set_sdp(describe(st, None));
            }
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
        if let Some(f) = Arc::get_mut(&mut frame) {
            let packed = match &mut st.pay {
                Pay::H264(pay) => {
                    f.set_keyframe(
                        NalUnits::AnnexB(&data)
                            .iter()
                            .any(|n| nal_unit_type(n[0]) == nal_type::IDR),
                    );
                    pay.packetize(NalUnits::AnnexB(&data), ts)
                        .map(|mut packets| fill(f, &mut packets))
                }
                Pay::Jpeg(pay) => {
                    f.set_keyframe(true);
                    pay.packetize(&data, ts)
                        .map(|mut packets| fill(f, &mut packets))
                }
            };
            if packed.is_err() {
                self.base.count_dropped();
                return Ok(FlowSuccess::Ok);
            }
        }
        drop(map);
        // The SDP once the parameter sets are known (and when they change).
        if let Pay::H264(pay) = &st.pay {
            if let Some((sps, pps)) = pay.parameter_sets() {
                let changed = st
                    .announced
                    .as_ref()
                    .is_none_or(|(s, p)| s.as_slice() != sps || p.as_slice() != pps);
                if changed {
                    let (sps, pps) = (sps.to_vec(), pps.to_vec());
                    mount.set_sdp(describe(st, Some((&sps, &pps))));
                    st.announced = Some((sps, pps));
                }
            }
        }
        drop(guard);
        mount.send(
            frame,
            &mut Batched {
                no_gso: &self.no_gso,
            },
        );
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
            "connections" => st.map(|s| s.handle.server().clients() as u64).unwrap_or(0),
            _ => return None,
        };
        Some(crate::pipeline::PropertyValue::UInt(v))
    }
}
