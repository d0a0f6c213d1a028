//! `udpsrc`: a live source of UDP datagrams, one buffer each (GStreamer's
//! `udpsrc`).
//!
//! Datagrams are received straight into buffers of the element's own pool
//! (`mtu` bytes each; a longer datagram is counted in `packets-truncated`
//! and dropped, never delivered cut), stamped with the running time of
//! arrival as PTS and the clock time as capture meta. The pool grows to
//! the most buffers in flight downstream (a jitter buffer holds a few
//! hundred at most) and stays there.
//!
//! # Properties
//!
//! - `port` (default 5004; 0 picks a free port, readable back once the
//!   element is in Paused), `address` (default `0.0.0.0`): where to listen.
//!   A multicast `address` (or `multicast-group`) is joined, and the
//!   socket bound to it, as GStreamer does on Linux, on the interface
//!   `multicast-iface` names (`lo`, `eth0`, or an IPv4 address on it);
//!   `reuse` (default false) lets several receivers share a unicast port.
//!   GStreamer's default is true, but on Linux two unicast sockets with
//!   `SO_REUSEADDR` on one port silently split the stream (the newer one
//!   takes it over), so a second receiver on a port is refused instead
//!   ("port 5000 is in use by another process"). A multicast socket always
//!   shares its port: several receivers of one group on one host is what
//!   multicast is for, and each of them gets every datagram.
//! - `caps`: the caps of the stream (`application/x-rtp,...`); without
//!   them the output is a byte stream and a depayloader cannot negotiate.
//! - `sdp-file`: read caps, port and multicast group from an SDP (what
//!   `udpsink sdp-file=` or `ffmpeg -f rtp` write); `caps` and a `port`
//!   other than 5004 win over it.
//! - `buffer-size` (default 4 MiB, GStreamer's is the kernel's 212 KB):
//!   `SO_RCVBUF`. The kernel's default drops packets in a keyframe burst
//!   (15 in 10 s of 720p H.264 here); if the kernel grants less (capped by
//!   `net.core.rmem_max` for an unprivileged process), a warning says so.
//! - `timeout` (ns, 0 = off): when no datagram arrived for that long, an
//!   element message `GstUDPSrcTimeout` (field `timeout`, ns as a double)
//!   is posted on the bus, again after every further period of silence.
//!
//! - Keyframe requests: an upstream force-key-unit event from downstream
//!   (`rtph264depay` sends one when it joins a stream mid-GOP or loses a
//!   frame) becomes an RTCP PLI (RFC 4585 §6.3.1) sent to the address the
//!   RTP stream comes from, where framecast's `udpsink` listens and asks
//!   its encoder for an IDR; so a viewer need not wait for the next
//!   periodic keyframe. (GStreamer does this in `rtpsession`.)
//!
//! - Retransmission requests: an upstream `GstRTPRetransmissionRequest`
//!   (from `rtpjitterbuffer do-retransmission=true`) becomes an RTCP
//!   Generic NACK (RFC 4585 §6.2.1) sent the same way; framecast's
//!   `udpsink` resends the packets as RTX (RFC 4588).
//!
//! Read-only: `packets-received`, `bytes-received`, `packets-truncated`,
//! `pli-sent`, `nack-sent`.

use framecast_core::sync::MutexExt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use framecast_core::{Buffer, BufferPool, PoolConfig};
use framecast_rtp::rtcp::CompoundWriter;
use rustix::event::{eventfd, poll, EventfdFlags, PollFd, PollFlags, Timespec};

use super::sys;
use super::{caps_for_sdp, read_sdp_file, resolve};
use crate::elements::rtp::caps::random_u32;
use crate::pipeline::base::counters;
use crate::pipeline::base::{
    settings, source_properties_with, CreateContext, SettingsLock, Source, SourceImpl,
};
use crate::pipeline::{
    Caps, Element, ElementFactory, Event, FlowError, Message, PadDirection, PadTemplate,
    PropertySpec, PropertyValue, Structure,
};
use crate::{Error, Result};

/// Default `buffer-size`: 4 MiB.
pub const DEFAULT_BUFFER_SIZE: i64 = 4 * 1024 * 1024;

/// Default `mtu`: the largest datagram received whole.
pub const DEFAULT_MTU: u64 = 1500;

/// Default `port` (GStreamer's).
pub const DEFAULT_PORT: i64 = 5004;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "udpsrc",
        "UDP packet receiver",
        "Source/Network",
        "Receives UDP datagrams into pooled buffers, stamped with their arrival time",
        vec![PadTemplate::always_any("src", PadDirection::Src)],
        [source_properties_with::<UdpSrcSettings>(), counters! {
        "packets-received" => "Datagrams received",
        "bytes-received" => "Bytes received",
        "packets-truncated" => "Datagrams longer than mtu (dropped)",
        "pli-sent" => "RTCP PLIs sent to the RTP sender (keyframe requests from downstream)",
        "nack-sent" => "RTCP Generic NACKs sent to the RTP sender (retransmission requests from downstream)",
    }].concat(),
        || Box::new(Source::new(UdpSrc::default())),
    )
}

settings! {
    /// `udpsrc`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct UdpSrcSettings {
        /// `port` (0 = any free port; an SDP's when left at the default).
        port: u16 => PropertySpec::int("port", "The port to listen on (0 = any free port, readable once in Paused)", 0..=65_535, DEFAULT_PORT),
        /// `address` to listen on; a multicast one is joined.
        address: Option<String> => PropertySpec::string("address", "The address to listen on (a multicast group is joined)", Some("0.0.0.0")),
        multicast_group: Option<String> => PropertySpec::string("multicast-group", "Multicast group to join (default: address, when it is one)", None),
        /// `multicast-iface`: a name or an IPv4 address on it.
        multicast_iface: Option<String> => PropertySpec::string("multicast-iface", "Interface to join the multicast group on: a name (lo, eth0) or an IPv4 address on it (default: the kernel's choice)", None),
        /// `caps` (ANY: from `sdp-file`, else none).
        caps: Caps => PropertySpec::caps("caps", "The caps of the stream (application/x-rtp,...)"),
        sdp_file: Option<String> => PropertySpec::string("sdp-file", "Read caps, port and multicast group from this SDP", None),
        /// `buffer-size`: socket receive buffer (0 = the kernel's default).
        buffer_size: i64 => PropertySpec::int("buffer-size", "Socket receive buffer in bytes (0 = the kernel's default)", 0..=i64::from(i32::MAX), DEFAULT_BUFFER_SIZE),
        /// `timeout`, ns (0 = off; may change while playing).
        timeout: u64 => PropertySpec::uint("timeout", "Post a GstUDPSrcTimeout element message after this many ns without data (0 = off)", 0..=u64::MAX, 0).mutable_in_playing(),
        reuse: bool => PropertySpec::bool("reuse", "Allow other sockets to bind the same unicast port (multicast always shares it)", false),
        /// `mtu`: largest datagram received whole.
        mtu: usize => PropertySpec::uint("mtu", "Largest datagram received whole, in bytes", 64..=65_535, DEFAULT_MTU),
    }
}

struct Open {
    socket: UdpSocket,
    pool: BufferPool,
    mtu: usize,
}

/// The `udpsrc` element's implementation (wrapped in [`Source`]).
#[derive(Default)]
pub struct UdpSrc {
    settings: SettingsLock<UdpSrcSettings>,
    open: Mutex<Option<Open>>,
    /// An eventfd that `unlock` writes to wake a `create` blocked in poll.
    wake: Mutex<Option<Arc<OwnedFd>>>,
    unlocked: AtomicBool,
    /// Caps read from `sdp-file`.
    sdp_caps: Mutex<Option<Caps>>,
    bound_port: AtomicU64,
    received: AtomicU64,
    bytes: AtomicU64,
    truncated: AtomicU64,
    /// The `timeout` property (ns), read per datagram without the
    /// property lock.
    timeout_ns: AtomicU64,
    /// The RTP sender's address and SSRC, for keyframe requests; and its
    /// SSRC + 1 (0: none yet), read per datagram without the lock.
    sender: Mutex<Option<(SocketAddr, u32)>>,
    sender_key: AtomicU64,
    /// A second handle on the socket, for sending feedback while `create`
    /// holds the first in poll.
    feedback: Mutex<Option<UdpSocket>>,
    /// The SSRC this receiver's RTCP feedback is sent as.
    own_ssrc: AtomicU32,
    /// The stream's payload type from the caps (above 127: not known).
    media_pt: AtomicU32,
    pli_sent: AtomicU64,
    nack_sent: AtomicU64,
}

/// The SSRC of an RTP packet (version 2, not an RTCP packet type) of
/// payload type `media_pt` (any, when it is above 127: not known): the
/// stream's sender, not an RTX or stray packet, is who feedback goes to.
fn rtp_ssrc(data: &[u8], media_pt: u32) -> Option<u32> {
    let rtcp = (200..=206).contains(data.get(1)?);
    let pt = u32::from(data[1] & 0x7f);
    (data.len() >= 12 && data[0] >> 6 == 2 && !rtcp && (media_pt > 127 || pt == media_pt))
        .then(|| u32::from_be_bytes([data[8], data[9], data[10], data[11]]))
}

impl std::fmt::Debug for UdpSrc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSrc")
            .field("port", &self.bound_port.load(Ordering::Relaxed))
            .field("received", &self.received.load(Ordering::Relaxed))
            .finish()
    }
}

impl UdpSrc {
    /// The port the socket is bound to, once in Paused.
    pub fn bound_port(&self) -> Option<u16> {
        u16::try_from(self.bound_port.load(Ordering::Relaxed))
            .ok()
            .filter(|p| *p != 0)
    }

    /// The `udpsrc` behind an element.
    pub fn from_element(element: &Element) -> Option<&UdpSrc> {
        element.imp::<Source<UdpSrc>>().map(Source::imp)
    }

    fn bind(&self, element: &Element) -> Result<Open> {
        let name = element.name().to_string();
        let io = |what: String, source| Error::Io {
            context: format!("{name}: {what}"),
            source,
        };
        let settings = self.settings.get();
        let mut port = settings.port;
        let mut address = settings.address.unwrap_or_else(|| "0.0.0.0".to_string());
        let mut group: Option<IpAddr> = None;
        *self.sdp_caps.locked() = None;
        if let Some(path) = settings.sdp_file.as_deref().map(PathBuf::from) {
            let sdp = read_sdp_file(&path)?;
            let (caps, addr, sdp_port) = caps_for_sdp(&sdp)?;
            if i64::from(port) == DEFAULT_PORT {
                port = sdp_port;
            }
            if let Some(a) = addr.filter(|a| a.is_multicast()) {
                group = Some(a);
            }
            *self.sdp_caps.locked() = Some(caps);
        }
        if let Some(g) = settings.multicast_group.as_deref() {
            if !g.trim().is_empty() && g.trim() != "0.0.0.0" {
                group = Some(resolve(g, 0)?.ip());
            }
        }
        let local = resolve(&address, port)?;
        if group.is_none() && local.ip().is_multicast() {
            group = Some(local.ip());
        }
        if let Some(g) = group {
            address = g.to_string();
        }
        let bind = match group {
            Some(g) => SocketAddr::new(g, port),
            None => local,
        };
        let reuse = group.is_some() || settings.reuse;
        let socket = sys::bind_udp(bind, reuse).map_err(|e| {
            let what = if e.kind() == std::io::ErrorKind::AddrInUse {
                format!(
                    "port {port} is in use by another process \
                     (binding {bind}; set reuse=true to share it)"
                )
            } else {
                format!("binding {bind}")
            };
            io(what, e)
        })?;
        let iface = match settings.multicast_iface.as_deref() {
            Some(spec) if !spec.trim().is_empty() => Some(
                sys::Iface::resolve(spec).map_err(|e| io(format!("multicast-iface={spec}"), e))?,
            ),
            _ => None,
        };
        match group {
            Some(IpAddr::V4(g)) => match iface {
                Some(i) => sys::join_multicast_v4(&socket, g, i),
                None => socket.join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED),
            }
            .map_err(|e| io(format!("joining {g}"), e))?,
            Some(IpAddr::V6(g)) => socket
                .join_multicast_v6(&g, iface.map_or(0, sys::Iface::index))
                .map_err(|e| io(format!("joining {g}"), e))?,
            None => {}
        }
        let size = settings.buffer_size;
        if size > 0 {
            let want = usize::try_from(size).unwrap_or(0);
            let got = sys::set_buffer_size(&socket, sys::BufferDir::Receive, want)
                .map_err(|e| io("setting the receive buffer".into(), e))?;
            if got < want {
                element.post_warning(
                    format!(
                        "receive buffer is {got} bytes, not the {want} asked for: \
                         packets may be dropped in bursts"
                    ),
                    Some(format!(
                        "raise net.core.rmem_max (sysctl -w net.core.rmem_max={want}) \
                         or run with CAP_NET_ADMIN ({address}:{port})"
                    )),
                );
            }
        }
        let bound = socket
            .local_addr()
            .map_err(|e| io("reading the bound address".into(), e))?;
        self.bound_port
            .store(u64::from(bound.port()), Ordering::Relaxed);
        let mtu = settings.mtu;
        let pool = BufferPool::new();
        pool.set_config(PoolConfig::new(mtu, 16, 0))?;
        pool.set_active(true)?;
        Ok(Open { socket, pool, mtu })
    }

    /// Remembers where the RTP stream comes from (checked per datagram
    /// with one atomic; the lock only when the SSRC or the address changes,
    /// so a sender whose NAT mapping moves still gets its feedback).
    fn note_sender(&self, from: SocketAddr, ssrc: u32) {
        let addr = match from.ip() {
            IpAddr::V4(v4) => u64::from(u32::from(v4)),
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                (bits as u64) ^ ((bits >> 64) as u64)
            }
        };
        let key = ((u64::from(ssrc) << 32) ^ addr.rotate_left(16) ^ u64::from(from.port())) | 1;
        if self.sender_key.swap(key, Ordering::Relaxed) != key {
            *self.sender.locked() = Some((from, ssrc));
        }
    }

    /// Sends an RTCP PLI (RFC 4585 §6.3.1, behind an empty RR so that the
    /// packet is a valid compound) to where the RTP stream comes from:
    /// framecast's `udpsink` sends RTP and RTCP from one socket and reads
    /// feedback there, and passes the request to its encoder.
    fn send_picture_loss(&self) -> bool {
        self.send_feedback(&self.pli_sent, |w, own, media_ssrc| {
            w.picture_loss(own, media_ssrc).map(|()| true)
        })
    }

    /// Sends an RTCP Generic NACK (RFC 4585 §6.2.1) for `seqnums` to where
    /// the RTP stream comes from, as [`send_picture_loss`](Self::send_picture_loss)
    /// does a PLI: framecast's `udpsink` resends them as RTX.
    fn send_nack(&self, ssrc: u32, seqnums: &[u16]) -> bool {
        self.send_feedback(&self.nack_sent, |w, own, media_ssrc| {
            let media = if ssrc != 0 { ssrc } else { media_ssrc };
            w.generic_nack(own, media, seqnums.iter().copied())
                .map(|n| n > 0)
        })
    }

    /// Sends one feedback compound (an empty RR, then what `write` adds:
    /// `Ok(false)` sends nothing) to the RTP sender, and counts it.
    fn send_feedback(
        &self,
        counter: &AtomicU64,
        write: impl FnOnce(&mut CompoundWriter<'_>, u32, u32) -> framecast_rtp::Result<bool>,
    ) -> bool {
        let Some((to, media_ssrc)) = *self.sender.locked() else {
            return false;
        };
        let guard = self.feedback.locked();
        let Some(sock) = guard.as_ref() else {
            return false;
        };
        let own = self.own_ssrc.load(Ordering::Relaxed);
        let mut buf = [0u8; 12 + 8 + 12 + 4 * framecast_rtp::nack::MAX_ENTRIES];
        let mut w = CompoundWriter::new(&mut buf);
        if w.receiver_report(own, &[]).is_err()
            || !matches!(write(&mut w, own, media_ssrc), Ok(true))
        {
            return false;
        }
        let n = w.finish();
        let sent = sock.send_to(&buf[..n], to).is_ok();
        if sent {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    fn post_timeout(element: &Element, timeout_ns: u64) {
        let structure = Structure::builder("GstUDPSrcTimeout")
            .field("timeout", timeout_ns as f64)
            .build();
        if let Ok(structure) = structure {
            element.post_message(Message::Element {
                source: element.name().to_string(),
                structure,
            });
        }
    }
}

impl SourceImpl for UdpSrc {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)?;
        if name == "timeout" {
            let timeout = self.settings.read(|s| s.timeout);
            self.timeout_ns.store(timeout, Ordering::Relaxed);
        }
        Ok(())
    }

    fn caps(&self, _element: &Element) -> Caps {
        if let Some(c) = self
            .settings
            .read(|s| Some(s.caps.clone()).filter(|c| !c.is_any()))
        {
            return c;
        }
        self.sdp_caps.locked().clone().unwrap_or_else(Caps::new_any)
    }

    fn set_caps(&self, _element: &Element, _caps: &Caps) -> Result<usize> {
        // Buffers come from the element's own pool of mtu-sized buffers.
        Ok(0)
    }

    fn is_live(&self, _element: &Element) -> bool {
        true
    }

    fn start(&self, element: &Element) -> Result<()> {
        let timeout = self.settings.read(|s| s.timeout);
        self.timeout_ns.store(timeout, Ordering::Relaxed);
        let open = self.bind(element)?;
        let wake =
            eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).map_err(|e| Error::Io {
                context: format!("{}: eventfd", element.name()),
                source: e.into(),
            })?;
        *self.wake.locked() = Some(Arc::new(wake));
        for c in [
            &self.received,
            &self.bytes,
            &self.truncated,
            &self.pli_sent,
            &self.nack_sent,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        *self.feedback.locked() = open.socket.try_clone().ok();
        *self.sender.locked() = None;
        self.sender_key.store(0, Ordering::Relaxed);
        self.own_ssrc.store(random_u32(), Ordering::Relaxed);
        let media_pt = self
            .caps(element)
            .structure(0)
            .and_then(|s| s.get_int("payload"))
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(u32::MAX);
        self.media_pt.store(media_pt, Ordering::Relaxed);
        *self.open.locked() = Some(open);
        Ok(())
    }

    fn stop(&self, _element: &Element) {
        if let Some(open) = self.open.locked().take() {
            let _ = open.pool.set_active(false);
        }
        *self.wake.locked() = None;
        *self.feedback.locked() = None;
        self.bound_port.store(0, Ordering::Relaxed);
    }

    fn upstream_event(&self, _element: &Element, event: &Event) -> bool {
        if let Some((ssrc, seqnums)) = event.as_retransmission_request() {
            return self.send_nack(ssrc, &seqnums);
        }
        event.is_force_key_unit_upstream() && self.send_picture_loss()
    }

    fn unlock(&self, _element: &Element) {
        self.unlocked.store(true, Ordering::Release);
        if let Some(fd) = self.wake.locked().as_ref() {
            let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
        }
    }

    fn unlock_stop(&self, _element: &Element) {
        self.unlocked.store(false, Ordering::Release);
        if let Some(fd) = self.wake.locked().as_ref() {
            let mut b = [0u8; 8];
            let _ = rustix::io::read(fd, &mut b);
        }
    }

    fn create(
        &self,
        element: &Element,
        _ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError> {
        let guard = self.open.locked();
        let Some(open) = guard.as_ref() else {
            return Err(FlowError::Flushing);
        };
        // A clone, so that `unlock` never waits for this thread's poll.
        let wake = self.wake.locked().clone();
        let Some(wake) = wake else {
            return Err(FlowError::Flushing);
        };
        loop {
            if self.unlocked.load(Ordering::Acquire) {
                return Err(FlowError::Flushing);
            }
            let timeout_ns = self.timeout_ns.load(Ordering::Relaxed);
            let timeout = (timeout_ns > 0).then(|| Timespec {
                tv_sec: i64::try_from(timeout_ns / 1_000_000_000).unwrap_or(i64::MAX),
                tv_nsec: (timeout_ns % 1_000_000_000) as _,
            });
            let mut fds = [
                PollFd::new(&open.socket, PollFlags::IN),
                PollFd::new(&*wake, PollFlags::IN),
            ];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(0) => {
                    Self::post_timeout(element, timeout_ns);
                    continue;
                }
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    element.post_error("polling the socket failed", Some(e.to_string()));
                    return Err(FlowError::Error);
                }
            }
            if !fds[1].revents().is_empty() {
                return Err(FlowError::Flushing);
            }
            if fds[0].revents().is_empty() {
                continue;
            }
            let mut buffer = open.pool.acquire().map_err(FlowError::from_acquire)?;
            let Some(b) = buffer.get_mut() else {
                return Err(FlowError::Error);
            };
            let (got, ssrc) = {
                let mut map = b.map_writable().map_err(|_| FlowError::Error)?;
                let got = sys::recv_datagram(&open.socket, map.as_mut_slice());
                let ssrc = match &got {
                    Ok(Some((n, _))) => rtp_ssrc(
                        &map[..(*n).min(map.len())],
                        self.media_pt.load(Ordering::Relaxed),
                    ),
                    _ => None,
                };
                (got, ssrc)
            };
            let (n, from) = match got {
                Ok(Some((0, _))) | Ok(None) => continue,
                Ok(Some(got)) => got,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                Err(e) => {
                    element.post_error("receiving from the socket failed", Some(e.to_string()));
                    return Err(FlowError::Error);
                }
            };
            if n > open.mtu {
                if self.truncated.fetch_add(1, Ordering::Relaxed) == 0 {
                    element.post_warning(
                        format!("dropping a {n}-byte datagram larger than mtu {}", open.mtu),
                        Some("raise the mtu property".into()),
                    );
                }
                continue;
            }
            b.set_size(n).map_err(|_| FlowError::Error)?;
            if let (Some(from), Some(ssrc)) = (from, ssrc) {
                self.note_sender(from, ssrc);
            }
            self.received.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(n as u64, Ordering::Relaxed);
            return Ok(buffer);
        }
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let v = match name {
            "port" => {
                let p = self.bound_port.load(Ordering::Relaxed);
                if p == 0 {
                    return None;
                }
                return Some(PropertyValue::Int(p as i64));
            }
            "packets-received" => &self.received,
            "bytes-received" => &self.bytes,
            "packets-truncated" => &self.truncated,
            "pli-sent" => &self.pli_sent,
            "nack-sent" => &self.nack_sent,
            _ => return None,
        };
        Some(PropertyValue::UInt(v.load(Ordering::Relaxed)))
    }
}
