//! `udpsink`: sends each buffer as one UDP datagram to one or more clients
//! (GStreamer's `udpsink`/`multiudpsink` in one element).
//!
//! # Batching
//!
//! RTP packets are gathered until the packet that ends an access unit or
//! frame (the buffer's `MARKER` flag, or the RTP marker bit) and then sent
//! together, to every client, with as few `sendmmsg(2)` calls as possible
//! (64 datagrams each): one system call per frame instead of one per
//! packet. A batch is also sent when it reaches 64 packets or 256 KiB, and
//! at end of stream. A buffer that is not RTP is sent at once. Packets are
//! copied into the batch (one `memcpy` of at most `mtu` bytes each), so the
//! payloader's buffers go back to its pool immediately and no pool size has
//! to cover a whole batch.
//!
//! # Clients
//!
//! `host` and `port` name one client; `clients=h:p,h:p` names several and
//! replaces them. Both may change while playing. A multicast address gets
//! `ttl-mc` and `loop`, and goes out of `multicast-iface` (an interface
//! name or an IPv4 address on it; default the routing table's choice);
//! unicast gets `ttl`. A client that is not listening (its
//! host answers with ICMP port unreachable, which Linux reports as
//! `ECONNREFUSED` on a later send) never stops the stream: the refusal is
//! counted (`refused`) and the datagram sent again; other send errors drop
//! the one datagram, are counted (`send-errors`), and the first posts a
//! warning.
//!
//! # RTCP
//!
//! With `rtcp=true` (the default) and RTP input, a sender report
//! (RFC 3550 §6.4.1) and an SDES CNAME go to port + 1 of every client about
//! once a second (the RFC's 5 s minimum is relaxed as GStreamer's rtpbin
//! does for one sender, so a receiver maps RTP time to wall clock quickly),
//! and a BYE at end of stream. This is what GStreamer's `rtpbin` does next
//! to a payloader: a receiver pairs the report's NTP time with its RTP
//! timestamp to learn the wall-clock time of every frame. The report's RTP
//! timestamp is the last packet's, advanced by the running time since it.
//!
//! Clients' RTCP comes back to the socket the stream leaves from (one
//! socket for RTP and RTCP); a thread reads it as it arrives. A keyframe
//! request in it (PLI, RFC 4585 §6.3.1, or FIR, RFC 5104 §4.3.1, which
//! framecast's `udpsrc` sends for a joining or damaged receiver) goes
//! upstream as a force-key-unit event: the encoder sends an IDR on its
//! next frame (`keyframe-requests` counts them). With
//! `rtx-payload-type` set, the last `rtx-history` packets sent are kept
//! (a ring allocated at start) and a Generic NACK (RFC 4585 §6.2.1) is
//! answered at once: each packet asked for is resent as RTX (RFC 4588, on
//! that payload type and its own SSRC) to the client that asked
//! (`retransmissions`; `retransmissions-missed` when the history no
//! longer held it). The SDP then advertises `a=rtcp-fb` nack, nack pli
//! and ccm fir, and the RTX payload type (`apt=` the media's).
//!
//! # Latency
//!
//! When a frame's packets carry the capture time framecast's sources stamp
//! at `push` (a `ReferenceTimestampMeta` `timestamp/x-framecast-capture`),
//! the time from it to the frame's last packet leaving is measured against
//! the pipeline clock: `latency-last-us`, `latency-avg-us`,
//! `latency-max-us`. This is the sender's half of the end-to-end latency,
//! with no receiver needed.
//!
//! # SDP
//!
//! `sdp-file=PATH` writes the SDP of the stream being sent (from the RTP
//! caps: `sprop-parameter-sets` for H.264 once the payloader has seen
//! them, JPEG, raw video's sampling and size) for the first client, as
//! soon as the caps arrive (before the first packet: the encoders send
//! their caps with their input's), and rewrites it when the caps change.
//! An IPv4 multicast `c=` carries `ttl-mc` as its TTL. `ffplay -protocol_whitelist
//! file,udp,rtp PATH`, `ffmpeg -i PATH`, VLC and `framecast receive --sdp`
//! open it.
//!
//! # `sync`
//!
//! `sync` defaults to `false` (GStreamer: `true`): framecast's live
//! sources stamp capture time and the chain upstream runs at their pace, so
//! waiting for the clock would only add the pipeline latency as real delay
//! (GStreamer's sinks wait for each buffer's running time plus the
//! pipeline latency before sending). Set `sync=true` to pace a non-live
//! source (a file) at its framerate.

use framecast_core::sync::MutexExt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use framecast_core::{Buffer, BufferFlags, ClockTime, ReferenceTimestampMeta};
use framecast_rtp::fec::FecEncoder;
use framecast_rtp::rtcp::{CompoundWriter, NtpTimestamp};
use framecast_rtp::rtx::RetransmissionHistory;
use framecast_rtp::{RtpPacket, SenderStats};

mod fec;
mod rtcp;
mod settings;
use fec::{fec_settings_of, FecSend, FEC_PACKET_MAX};
use rtcp::Rtcp;
use settings::UdpSinkSettings;

use super::feedback::{FeedbackCounters, FeedbackThread, Retransmission};
use super::sys::{self, RawAddr, SendOutcome, MMSG_CHUNK};
use super::{
    advertise_fec, advertise_feedback, parse_clients, resolve, sdp_for_caps, write_sdp_file,
    FEC_PAYLOAD_TYPE,
};
use crate::elements::rtp::caps::{random_u32, RTP_MEDIA_TYPE};
use crate::pipeline::base::counters;
use crate::pipeline::base::{sink_properties_with, Settings, SettingsLock, Sink, SinkImpl};
use crate::pipeline::PropertySpec;
use crate::pipeline::{
    Caps, Element, ElementFactory, Event, PadDirection, PadTemplate, PropertyValue,
};
use crate::{Error, FlowError, FlowResult, FlowSuccess, Result};

/// Most packets gathered before a batch is sent.
pub const BATCH_PACKETS: usize = 64;

/// Most bytes gathered before a batch is sent.
pub const BATCH_BYTES: usize = 256 * 1024;

/// The `rtx-payload-type` property (None: 0, no retransmission).
fn rtx_payload_type_of(settings: &UdpSinkSettings) -> Option<u8> {
    Some(settings.rtx_pt).filter(|&v| v != 0)
}

/// Bytes of one retransmission-history slot: an MTU-sized packet.
const RTX_SLOT: usize = 1500;

/// Time between RTCP sender reports.
pub const RTCP_INTERVAL: Duration = Duration::from_secs(1);

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "udpsink",
        "UDP packet sender",
        "Sink/Network",
        "Sends each buffer as a UDP datagram to one or more clients, batched per access unit",
        vec![PadTemplate::always_any("sink", PadDirection::Sink)],
        [sink_properties_with::<UdpSinkSettings>(false), counters! {
        "packets-sent" => "Datagrams sent (to all clients)",
        "bytes-sent" => "Bytes sent (to all clients)",
        "batches" => "sendmmsg calls made for media packets",
        "send-errors" => "Datagrams dropped after a send error",
        "refused" => "ICMP port unreachable reports (a client not listening)",
        "rtcp-sent" => "RTCP compound packets sent (to all clients)",
        "keyframe-requests" => "RTCP PLI/FIR received from clients, each passed upstream as a force-key-unit request",
        "fec-packets" => "FEC packets sent (to all clients)",
        "nacks-received" => "RTCP Generic NACKs received from clients",
        "retransmissions" => "Packets resent as RTX",
        "retransmissions-missed" => "Packets asked for that were no longer in the history",
        "latency-last-us" => "Capture (push) to last packet sent, of the last frame, in µs",
        "latency-avg-us" => "Capture (push) to last packet sent, averaged over the frames, in µs",
        "latency-max-us" => "Capture (push) to last packet sent, the worst frame, in µs",
    }].concat(),
        || Box::new(Sink::new(UdpSink::default())),
    )
}

/// One destination.
#[derive(Debug, Clone, Copy)]
struct Client {
    addr: SocketAddr,
    rtp: RawAddr,
    rtcp: RawAddr,
    /// Whether the RTP port leaves room for an RTCP port above it.
    has_rtcp: bool,
}

impl Client {
    fn new(addr: SocketAddr, v6_socket: bool) -> Client {
        let addr = match (addr, v6_socket) {
            (SocketAddr::V4(a), true) => {
                SocketAddr::new(IpAddr::V6(a.ip().to_ipv6_mapped()), a.port())
            }
            _ => addr,
        };
        let mut rtcp = addr;
        // RTCP goes to the next port (RFC 3550 §11); a client on 65535
        // has none, so it gets no reports rather than reports to port 0.
        let has_rtcp = addr.port() < u16::MAX;
        rtcp.set_port(addr.port().saturating_add(1));
        Client {
            addr,
            rtp: RawAddr::new(addr),
            rtcp: RawAddr::new(rtcp),
            has_rtcp,
        }
    }
}

/// Per-stream state, touched on the streaming thread.
#[derive(Debug, Default)]
struct Stream {
    socket: Option<UdpSocket>,
    /// Whether the socket is IPv6 (IPv4 clients then go v4-mapped).
    v6: bool,
    /// The batch: packet bytes back to back, and `(offset, len)` of each.
    slab: Vec<u8>,
    packets: Vec<(usize, usize)>,
    rtcp: Rtcp,
    caps: Option<Caps>,
    /// The packets sent last, for retransmission (with `rtx-payload-type`).
    history: Option<Arc<Mutex<RetransmissionHistory>>>,
    /// The RTX payload type (0: none), for the SDP.
    rtx_pt: u8,
    /// Forward error correction (with `fec-group`).
    fec: Option<FecSend>,
}

#[derive(Debug, Default)]
struct Counters {
    packets: AtomicU64,
    bytes: AtomicU64,
    batches: AtomicU64,
    errors: AtomicU64,
    refused: AtomicU64,
    rtcp: AtomicU64,
    fec: AtomicU64,
    /// Frames whose capture-to-wire latency was measured, and its sum,
    /// last and max in µs.
    latency_frames: AtomicU64,
    latency_sum_us: AtomicU64,
    latency_last_us: AtomicU64,
    latency_max_us: AtomicU64,
}

/// The `udpsink` element's implementation (wrapped in [`Sink`]).
pub struct UdpSink {
    settings: SettingsLock<UdpSinkSettings>,
    clients: ArcSwap<Vec<Client>>,
    stream: Mutex<Stream>,
    counters: Counters,
    warned: AtomicBool,
    /// The `rtcp` property, read once per access unit without the
    /// property lock.
    rtcp_enabled: AtomicBool,
    /// The thread answering clients' RTCP feedback, while started.
    feedback: Mutex<Option<FeedbackThread>>,
    feedback_counters: Arc<FeedbackCounters>,
}

impl Default for UdpSink {
    fn default() -> Self {
        UdpSink {
            settings: SettingsLock::default(),
            clients: ArcSwap::from_pointee(Vec::new()),
            stream: Mutex::new(Stream::default()),
            counters: Counters::default(),
            warned: AtomicBool::new(false),
            rtcp_enabled: AtomicBool::new(true),
            feedback: Mutex::new(None),
            feedback_counters: Arc::new(FeedbackCounters::default()),
        }
    }
}

impl std::fmt::Debug for UdpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSink")
            .field("clients", &self.clients.load().len())
            .field(
                "packets_sent",
                &self.counters.packets.load(Ordering::Relaxed),
            )
            .finish()
    }
}

/// The client addresses the settings name.
fn client_addrs(settings: &UdpSinkSettings) -> Result<Vec<SocketAddr>> {
    if let Some(list) = settings.clients.as_deref().filter(|s| !s.trim().is_empty()) {
        return parse_clients(list);
    }
    let host = settings.host.as_deref().unwrap_or("localhost");
    Ok(vec![resolve(host, settings.port)?])
}

impl UdpSink {
    /// The `udpsink` behind an element.
    pub fn from_element(element: &Element) -> Option<&UdpSink> {
        element.imp::<Sink<UdpSink>>().map(Sink::imp)
    }

    /// Whether `addr` is one of the clients (IPv4 or its v4-mapped form).
    fn is_client(&self, addr: SocketAddr) -> bool {
        let norm = |a: SocketAddr| match a.ip() {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map_or(a, |v4| SocketAddr::new(IpAddr::V4(v4), a.port())),
            _ => a,
        };
        let addr = norm(addr);
        self.clients.load().iter().any(|c| norm(c.addr) == addr)
    }

    /// Clients to send to now.
    pub fn client_addresses(&self) -> Vec<SocketAddr> {
        self.clients.load().iter().map(|c| c.addr).collect()
    }

    fn set_clients(&self, addrs: &[SocketAddr], v6: bool) {
        let clients = addrs.iter().map(|a| Client::new(*a, v6)).collect();
        self.clients.store(Arc::new(clients));
    }

    /// Latency from `push` to the wire: the clock now against the capture
    /// time stamped on the frame's last packet (when the frame has one).
    fn record_latency(&self, element: &Element, last_packet: &Buffer) {
        let (Some(ctx), Some(captured)) = (
            element.context(),
            ReferenceTimestampMeta::find(last_packet, ReferenceTimestampMeta::CAPTURE),
        ) else {
            return;
        };
        let now = ctx.clock.time();
        if now < captured {
            return;
        }
        let us = (now - captured).nseconds() / 1000;
        let c = &self.counters;
        c.latency_frames.fetch_add(1, Ordering::Relaxed);
        c.latency_sum_us.fetch_add(us, Ordering::Relaxed);
        c.latency_last_us.store(us, Ordering::Relaxed);
        c.latency_max_us.fetch_max(us, Ordering::Relaxed);
    }

    fn record(&self, element: &Element, out: SendOutcome, rtcp: bool) {
        let c = &self.counters;
        if rtcp {
            c.rtcp.fetch_add(out.sent, Ordering::Relaxed);
        } else {
            c.packets.fetch_add(out.sent, Ordering::Relaxed);
            c.bytes.fetch_add(out.bytes, Ordering::Relaxed);
            c.batches.fetch_add(out.calls, Ordering::Relaxed);
        }
        c.errors.fetch_add(out.failed, Ordering::Relaxed);
        c.refused.fetch_add(out.refused, Ordering::Relaxed);
        if let Some(e) = out.first_error {
            if !self.warned.swap(true, Ordering::Relaxed) {
                element.post_warning(
                    "could not send a datagram; dropping it and going on",
                    Some(e.to_string()),
                );
            }
        }
    }

    /// Sends the gathered batch to every client and empties it.
    /// Sends the gathered batch (`frame_end`: it ends an access unit, so a
    /// FEC group in progress is closed too) and empties it.
    fn flush(&self, element: &Element, st: &mut Stream, frame_end: bool) {
        if st.packets.is_empty() {
            return;
        }
        let clients = self.clients.load();
        if let (Some(sock), Some(first)) = (st.socket.as_ref(), clients.first()) {
            let empty: &[u8] = &[];
            let mut msgs = [(empty, &first.rtp); MMSG_CHUNK];
            let mut n = 0;
            for client in clients.iter() {
                for &(off, len) in &st.packets {
                    msgs[n] = (&st.slab[off..off + len], &client.rtp);
                    n += 1;
                    if n == MMSG_CHUNK {
                        self.record(element, sys::send_batch(sock, &msgs[..n]), false);
                        n = 0;
                    }
                }
            }
            if n > 0 {
                self.record(element, sys::send_batch(sock, &msgs[..n]), false);
            }
        }
        if let Some(history) = st.history.as_ref() {
            let mut h = history.locked();
            for &(off, len) in &st.packets {
                h.record(&st.slab[off..off + len]);
            }
        }
        if st.fec.is_some() {
            self.protect(st, frame_end);
        }
        st.packets.clear();
        st.slab.clear();
    }

    fn write_sdp(&self, element: &Element, caps: &Caps) {
        let settings = self.settings.get();
        let Some(path) = settings.sdp_file.as_deref().map(PathBuf::from) else {
            return;
        };
        let Some(first) = self.clients.load().first().copied() else {
            return;
        };
        let ip = match first.addr.ip() {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        let result = sdp_for_caps(caps, ip, first.addr.port()).and_then(|mut sdp| {
            // An IPv4 multicast c= carries the TTL the datagrams go out with.
            sdp.connection_ttl = Some(settings.ttl_mc);
            advertise_feedback(&mut sdp, rtx_payload_type_of(&settings));
            crate::elements::rtp::header_ext::advertise_header_extensions(&mut sdp);
            if let Some((_, pt)) = fec_settings_of(&settings) {
                advertise_fec(&mut sdp, pt);
            }
            write_sdp_file(&path, &sdp)
        });
        if let Err(e) = result {
            element.post_warning(
                format!("cannot write the SDP to {}", path.display()),
                Some(e.to_string()),
            );
        }
    }

    fn open(&self, element: &Element) -> Result<()> {
        let settings = self.settings.get();
        self.rtcp_enabled.store(settings.rtcp, Ordering::Relaxed);
        let addrs = client_addrs(&settings)?;
        let v6 = addrs.iter().any(|a| a.is_ipv6());
        let bind_ip: IpAddr = match settings.bind_address.as_deref() {
            Some(a) if !a.trim().is_empty() => resolve(a, 0)?.ip(),
            _ if v6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        let bind = SocketAddr::new(bind_ip, settings.bind_port);
        let io = |what: &str, source| Error::Io {
            context: format!("{}: {what}", element.name()),
            source,
        };
        let sock = sys::bind_udp(bind, false).map_err(|e| io(&format!("binding {bind}"), e))?;
        let size = settings.buffer_size;
        if size > 0 {
            let want = usize::try_from(size).unwrap_or(0);
            let got = sys::set_buffer_size(&sock, sys::BufferDir::Send, want)
                .map_err(|e| io("setting the send buffer", e))?;
            if got < want {
                element.post_warning(
                    format!("send buffer is {got} bytes, not the {want} asked for"),
                    Some("raise net.core.wmem_max".into()),
                );
            }
        }
        let multicast = addrs.iter().any(|a| a.ip().is_multicast());
        let looped = settings.looped;
        if multicast {
            if let Some(spec) = settings
                .multicast_iface
                .as_deref()
                .filter(|s| !s.trim().is_empty())
            {
                sys::Iface::resolve(spec)
                    .and_then(|i| sys::set_multicast_iface(&sock, i, v6))
                    .map_err(|e| io(&format!("multicast-iface={spec}"), e))?;
            }
            if v6 {
                let _ = sock.set_multicast_loop_v6(looped);
            } else {
                let _ = sock.set_multicast_ttl_v4(u32::from(settings.ttl_mc));
                let _ = sock.set_multicast_loop_v4(looped);
            }
        }
        if !v6 {
            let _ = sock.set_ttl(u32::from(settings.ttl));
        }
        self.set_clients(&addrs, v6);
        let local = sock.local_addr().ok();
        let rtx_pt = rtx_payload_type_of(&settings).unwrap_or(0);
        let history = (rtx_pt != 0).then(|| {
            let packets = settings.rtx_history;
            Arc::new(Mutex::new(RetransmissionHistory::new(packets, RTX_SLOT)))
        });
        self.start_feedback(element, &sock, rtx_pt, history.clone())?;
        let mut st = self.stream.locked();
        st.socket = Some(sock);
        st.history = history;
        st.rtx_pt = rtx_pt;
        st.fec = fec_settings_of(&settings).and_then(|(group, payload_type)| {
            Some(FecSend {
                encoder: FecEncoder::new(usize::from(group)).ok()?,
                payload_type,
                ssrc: random_u32(),
                seq: (random_u32() & 0xffff) as u16,
                timestamp: 0,
                out: vec![0; FEC_PACKET_MAX],
            })
        });
        st.v6 = v6;
        st.slab = Vec::with_capacity(BATCH_BYTES);
        st.packets = Vec::with_capacity(BATCH_PACKETS);
        st.rtcp = Rtcp {
            cname: format!(
                "framecast@{}",
                local.map(|a| a.ip().to_string()).unwrap_or_default()
            ),
            ..Rtcp::default()
        };
        st.caps = None;
        self.warned.store(false, Ordering::Relaxed);
        let c = &self.counters;
        for v in [
            &c.packets,
            &c.bytes,
            &c.batches,
            &c.errors,
            &c.refused,
            &c.rtcp,
            &c.fec,
            &c.latency_frames,
            &c.latency_sum_us,
            &c.latency_last_us,
            &c.latency_max_us,
        ] {
            v.store(0, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Sends one buffer too large for a batch on its own.
    fn send_single(&self, element: &Element, st: &Stream, data: &[u8]) {
        let Some(sock) = st.socket.as_ref() else {
            return;
        };
        let clients = self.clients.load();
        for chunk in clients.chunks(MMSG_CHUNK) {
            let empty: &[u8] = &[];
            let mut msgs = [(empty, &chunk[0].rtp); MMSG_CHUNK];
            for (m, c) in msgs.iter_mut().zip(chunk) {
                *m = (data, &c.rtp);
            }
            self.record(element, sys::send_batch(sock, &msgs[..chunk.len()]), false);
        }
    }
}

impl SinkImpl for UdpSink {
    fn set_caps(&self, element: &Element, caps: &Caps) -> Result<()> {
        let mut st = self.stream.locked();
        if let Some(rate) = caps
            .structure(0)
            .filter(|s| s.has_name(RTP_MEDIA_TYPE))
            .and_then(|s| s.get_int("clock-rate"))
            .and_then(|r| u32::try_from(r).ok())
            .filter(|r| *r > 0)
        {
            st.rtcp.clock_rate = rate;
        }
        if st.caps.as_ref() != Some(caps) {
            st.caps = Some(caps.clone());
            drop(st);
            if caps
                .structure(0)
                .is_some_and(|s| s.has_name(RTP_MEDIA_TYPE))
            {
                self.write_sdp(element, caps);
            }
        }
        Ok(())
    }

    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        let mut guard = self.stream.locked();
        let st = &mut *guard;
        if st.socket.is_none() {
            return Err(FlowError::Flushing);
        }
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        let len = map.len();
        if len == 0 {
            return Ok(FlowSuccess::Ok);
        }
        if len > BATCH_BYTES.saturating_sub(st.slab.len()) || st.packets.len() >= BATCH_PACKETS {
            self.flush(element, st, false);
        }
        if len > BATCH_BYTES {
            let data = map.contiguous();
            self.send_single(element, st, &data);
            return Ok(FlowSuccess::Ok);
        }
        let off = st.slab.len();
        st.slab.resize(off + len, 0);
        map.copy_to(0, &mut st.slab[off..]);
        drop(map);
        st.packets.push((off, len));
        let mut end = buffer.flags().contains(BufferFlags::MARKER);
        match RtpPacket::parse(&st.slab[off..]) {
            Ok(pkt) => {
                end |= pkt.marker();
                let r = &mut st.rtcp;
                if !r.active || r.stats.ssrc != pkt.ssrc() {
                    r.stats = SenderStats::new(pkt.ssrc());
                    r.active = true;
                    r.last_report = None;
                }
                r.stats.on_packet(len, pkt.payload_offset());
                r.last_rtp_ts = pkt.timestamp();
                r.last_running_time = buffer.pts().and_then(|pts| {
                    element
                        .sink_pad()
                        .and_then(|p| p.segment().to_running_time(pts))
                });
            }
            Err(_) => end = true,
        }
        if end || st.packets.len() >= BATCH_PACKETS {
            self.flush(element, st, end);
            if end {
                self.record_latency(element, &buffer);
            }
            self.maybe_rtcp(element, st, false);
        }
        Ok(FlowSuccess::Ok)
    }

    fn eos(&self, element: &Element) {
        let mut guard = self.stream.locked();
        let st = &mut *guard;
        self.flush(element, st, true);
        self.maybe_rtcp(element, st, true);
    }

    fn start(&self, element: &Element) -> Result<()> {
        self.open(element)
    }

    fn stop(&self, element: &Element) {
        let mut guard = self.stream.locked();
        let st = &mut *guard;
        self.flush(element, st, true);
        drop(guard);
        // Joined before the socket goes (it reads a clone of it).
        let feedback = self.feedback.locked().take();
        drop(feedback);
        let mut guard = self.stream.locked();
        let st = &mut *guard;
        st.socket = None;
        st.history = None;
        st.rtcp.active = false;
    }

    /// The clients (`host`, `port`, `clients`) change at once; the new
    /// value is refused, and the settings stay as they were, when it does
    /// not resolve.
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        let mut next = self.settings.get();
        if matches!(name, "host" | "port" | "clients") {
            next.write(element.name(), name, value)?;
        }
        let addrs = match name {
            "host" | "port" | "clients" => Some(client_addrs(&next)?),
            _ => None,
        };
        self.settings.write(element, name, value)?;
        if name == "rtcp" {
            let rtcp = self.settings.read(|s| s.rtcp);
            self.rtcp_enabled.store(rtcp, Ordering::Relaxed);
        }
        if let Some(addrs) = addrs {
            let st = self.stream.locked();
            if st.socket.is_some() {
                let v6 = st.v6;
                drop(st);
                self.set_clients(&addrs, v6);
            }
        }
        Ok(())
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let c = &self.counters;
        let v = match name {
            "packets-sent" => &c.packets,
            "bytes-sent" => &c.bytes,
            "batches" => &c.batches,
            "send-errors" => &c.errors,
            "refused" => {
                // Port-unreachable reports are read by the feedback thread
                // too (it reads a clone of the socket).
                let n = c.refused.load(Ordering::Relaxed)
                    + self.feedback_counters.refused.load(Ordering::Relaxed);
                return Some(PropertyValue::UInt(n));
            }
            "rtcp-sent" => &c.rtcp,
            "fec-packets" => &c.fec,
            "keyframe-requests" => &self.feedback_counters.keyframe_requests,
            "nacks-received" => &self.feedback_counters.nacks,
            "retransmissions" => &self.feedback_counters.retransmissions,
            "retransmissions-missed" => &self.feedback_counters.missed,
            "latency-last-us" => &c.latency_last_us,
            "latency-max-us" => &c.latency_max_us,
            "latency-avg-us" => {
                let n = c.latency_frames.load(Ordering::Relaxed);
                let sum = c.latency_sum_us.load(Ordering::Relaxed);
                return Some(PropertyValue::UInt(sum.checked_div(n).unwrap_or(0)));
            }
            _ => return None,
        };
        Some(PropertyValue::UInt(v.load(Ordering::Relaxed)))
    }
}
