//! A mount: one path of the server, one stream, its viewers, and the
//! fan-out that sends each packetized access unit to all of them.
//!
//! UDP viewers are sent to from the mount's RTP socket (its port is the
//! `server_port` of every UDP SETUP), all of them in as few batched calls
//! as the [`DatagramSender`] makes: each message is a run of same-size
//! packets for one viewer ([`super::frame::Run`]), which framecast's
//! element hands the kernel as one UDP GSO send, 64 messages a
//! `sendmmsg` (a viewer costs one to three messages a frame, not one per
//! packet); a multicast group is sent to once however many have joined
//! it. TCP viewers get the frame queued (see
//! [`super::viewer::TcpOut`]). Nothing on this path allocates once warm:
//! frames come from a pool, the viewer list and batch arrays are
//! preallocated.
//!
//! The mount's RTCP socket (RTP port + 1), and the multicast group's RTCP
//! port when multicast is offered, are read by a thread each (see
//! `server/rtcp.rs`).

use framecast_core::sync::{CondvarExt, MutexExt};
use std::net::{IpAddr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use framecast_rtp::rtcp::SenderStats;

use super::frame::{Frame, FramePool, Run};
use super::rtcp;
use super::viewer::{Delivery, Pushed, Viewer, ViewerInfo};
use crate::digest::DigestAuth;
use crate::{Error, Result};

/// Which transports SETUP may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    /// RTP/AVP over UDP unicast.
    pub udp: bool,
    /// RTP/AVP/TCP interleaved.
    pub tcp: bool,
    /// RTP/AVP over UDP multicast.
    pub multicast: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            udp: true,
            tcp: true,
            multicast: true,
        }
    }
}

impl Transports {
    /// From a list such as `udp,tcp,udp-mcast`.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] naming an unknown entry.
    pub fn parse(list: &str) -> Result<Transports> {
        let mut t = Transports {
            udp: false,
            tcp: false,
            multicast: false,
        };
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "udp" => t.udp = true,
                "tcp" => t.tcp = true,
                "udp-mcast" | "multicast" => t.multicast = true,
                other => {
                    return Err(Error::BadRequest(format!(
                        "transport {other:?} (use udp, tcp, udp-mcast)"
                    )))
                }
            }
        }
        Ok(t)
    }
}

/// A mount's settings.
#[derive(Debug, Clone)]
pub struct MountConfig {
    /// The path, without leading `/` (`cam`).
    pub path: String,
    /// Allowed transports.
    pub transports: Transports,
    /// The multicast group and its RTP port.
    pub multicast: SocketAddrV4,
    /// Multicast TTL.
    pub ttl: u8,
    /// Session timeout announced and enforced.
    pub session_timeout: Duration,
    /// Digest credentials, if viewers must authenticate.
    pub auth: Option<DigestAuth>,
}

impl MountConfig {
    /// Defaults for `path`.
    pub fn new(path: &str) -> MountConfig {
        MountConfig {
            path: path.trim_matches('/').to_string(),
            transports: Transports::default(),
            multicast: SocketAddrV4::new([239, 255, 42, 42].into(), 5004),
            ttl: 1,
            session_timeout: Duration::from_secs(60),
            auth: None,
        }
    }
}

/// What the mount calls back into its owner.
pub struct MountHooks {
    /// Ask the encoder for a keyframe (already rate-limited).
    pub keyframe: Box<dyn Fn() + Send + Sync>,
    /// Report something a user should see (a viewer disconnected for
    /// stalling).
    pub log: Box<dyn Fn(&str) + Send + Sync>,
}

impl Default for MountHooks {
    fn default() -> Self {
        MountHooks {
            keyframe: Box::new(|| {}),
            log: Box::new(|m| eprintln!("framecast-rtsp: {m}")),
        }
    }
}

/// One message for a [`DatagramSender`]: a [`Run`] of packets for one
/// address. A sender may hand the whole run to the kernel in one send
/// (UDP GSO) or send its packets one by one.
#[derive(Debug, Clone, Copy)]
pub struct Datagrams<'a> {
    /// The packets.
    pub run: Run<'a>,
    /// Where to.
    pub to: SocketAddr,
}

/// Sends datagrams, as many per call as it can.
pub trait DatagramSender {
    /// Sends every packet of each message from `socket`; returns how many
    /// packets failed.
    fn send(&mut self, socket: &UdpSocket, msgs: &[Datagrams<'_>]) -> u64;
}

/// One `send_to` per datagram (tests and tools without `sendmmsg`).
#[derive(Debug, Default)]
pub struct SendTo;

impl DatagramSender for SendTo {
    fn send(&mut self, socket: &UdpSocket, msgs: &[Datagrams<'_>]) -> u64 {
        msgs.iter()
            .flat_map(|m| m.run.packets().map(move |p| (p, m.to)))
            .filter(|(d, to)| socket.send_to(d, to).is_err())
            .count() as u64
    }
}

/// Messages ([`Datagrams`]) per [`DatagramSender::send`] call.
pub const BATCH: usize = 64;

/// Least time between two keyframe requests sent upstream.
pub const KEYFRAME_MIN_INTERVAL: Duration = Duration::from_millis(250);

/// Where the stream is: what PLAY's RTP-Info says.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamPosition {
    /// Sequence number of the next packet (None before the first).
    pub next_seq: Option<u16>,
    /// RTP timestamp of the last frame.
    pub rtptime: u32,
    /// When it was sent.
    pub at: Option<Instant>,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// RTCP sender counters.
    pub stats: Option<SenderStats>,
}

impl StreamPosition {
    /// The RTP timestamp now (the last one advanced by the time since it).
    pub fn rtptime_now(&self, clock_rate: u32) -> u32 {
        let dt = self.at.map(|t| t.elapsed()).unwrap_or_default();
        let ticks = dt.as_nanos() * u128::from(clock_rate) / 1_000_000_000;
        self.rtptime.wrapping_add(ticks as u32)
    }
}

/// Mount-wide counters.
#[derive(Debug, Default)]
pub struct MountCounters {
    /// Frames fanned out.
    pub frames: AtomicU64,
    /// Packets sent or queued, all viewers together (a multicast group
    /// counts once).
    pub packets: AtomicU64,
    /// Their bytes.
    pub bytes: AtomicU64,
    /// Datagrams the kernel refused.
    pub send_errors: AtomicU64,
    /// Keyframe requests sent upstream.
    pub keyframe_requests: AtomicU64,
    /// TCP viewers disconnected for stalling.
    pub stalled: AtomicU64,
}

/// One path's stream and viewers.
pub struct Mount {
    pub(crate) config: MountConfig,
    hooks: MountHooks,
    sdp: Mutex<Option<String>>,
    sdp_ready: Condvar,
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
    /// The multicast group's RTCP port, joined (multicast viewers'
    /// reports); `None` when multicast is not offered or the join failed.
    pub(crate) group_rtcp: Option<UdpSocket>,
    pub(crate) viewers: Mutex<Vec<Arc<Viewer>>>,
    pub(crate) position: Mutex<StreamPosition>,
    pool: FramePool,
    last_keyframe: Mutex<Option<Instant>>,
    /// Counters.
    pub counters: MountCounters,
    pub(crate) stop: AtomicBool,
    rtcp_threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("path", &self.config.path)
            .finish_non_exhaustive()
    }
}

/// An even RTP port and the RTCP port above it, on `ip`.
fn bind_pair(ip: IpAddr) -> Result<(UdpSocket, UdpSocket)> {
    let io = |source| Error::Io {
        context: format!("binding an RTP/RTCP port pair on {ip}"),
        source,
    };
    for _ in 0..64 {
        let rtp = UdpSocket::bind((ip, 0)).map_err(io)?;
        let port = rtp.local_addr().map_err(io)?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind((ip, port + 1)) {
            return Ok((rtp, rtcp));
        }
    }
    Err(io(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no free even/odd port pair in 64 tries",
    )))
}

impl Mount {
    pub(crate) fn new(config: MountConfig, hooks: MountHooks, ip: IpAddr) -> Result<Arc<Mount>> {
        let (rtp, rtcp) = bind_pair(ip)?;
        let _ = rtp.set_multicast_ttl_v4(u32::from(config.ttl));
        let _ = rtp.set_multicast_loop_v4(true);
        if let IpAddr::V4(v4) = ip {
            // The group goes out where the server listens (`lo` for
            // 127.0.0.1, so it stays on this machine), not where the
            // default route points.
            if !v4.is_unspecified() {
                let _ = socket2::SockRef::from(&rtp).set_multicast_if_v4(&v4);
            }
        }
        let _ = rtcp.set_read_timeout(Some(Duration::from_millis(200)));
        // Sender reports to the group leave where the RTP does.
        let _ = rtcp.set_multicast_ttl_v4(u32::from(config.ttl));
        if let IpAddr::V4(v4) = ip {
            if !v4.is_unspecified() {
                let _ = socket2::SockRef::from(&rtcp).set_multicast_if_v4(&v4);
            }
        }
        let group_rtcp = if config.transports.multicast {
            match rtcp::join_group(config.multicast, ip) {
                Ok(s) => Some(s),
                Err(e) => {
                    (hooks.log)(&format!(
                        "multicast viewers' RTCP is not read: joining {} on {ip}: {e}",
                        config.multicast
                    ));
                    None
                }
            }
        } else {
            None
        };
        let mount = Arc::new(Mount {
            config,
            hooks,
            sdp: Mutex::new(None),
            sdp_ready: Condvar::new(),
            rtp,
            rtcp,
            group_rtcp,
            viewers: Mutex::new(Vec::with_capacity(256)),
            position: Mutex::new(StreamPosition::default()),
            pool: FramePool::default(),
            last_keyframe: Mutex::new(None),
            counters: MountCounters::default(),
            stop: AtomicBool::new(false),
            rtcp_threads: Mutex::new(Vec::with_capacity(2)),
        });
        let mut sockets = vec![(rtcp::Socket::Unicast, "fc-rtsp-rtcp")];
        if mount.group_rtcp.is_some() {
            sockets.push((rtcp::Socket::Multicast, "fc-rtsp-mrtcp"));
        }
        for (socket, name) in sockets {
            let weak = Arc::downgrade(&mount);
            let thread = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || rtcp::rtcp_loop(&weak, socket))
                .map_err(|source| Error::Io {
                    context: "starting an RTCP thread".into(),
                    source,
                })?;
            mount.rtcp_threads.locked().push(thread);
        }
        Ok(mount)
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.config.path
    }

    /// The server's RTP and RTCP ports.
    pub fn server_ports(&self) -> (u16, u16) {
        let p = |s: &UdpSocket| s.local_addr().map(|a| a.port()).unwrap_or(0);
        (p(&self.rtp), p(&self.rtcp))
    }

    /// Sets the SDP DESCRIBE answers (once the parameter sets are known).
    pub fn set_sdp(&self, sdp: String) {
        *self.sdp.locked() = Some(sdp);
        self.sdp_ready.notify_all();
    }

    /// The SDP, waiting at most `wait` for the first one.
    pub fn sdp(&self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        let mut g = self.sdp.locked();
        while g.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            g = self.sdp_ready.wait_timeout_locked(g, left).0;
        }
        g.clone()
    }

    /// An empty frame to fill and [`Mount::send`].
    pub fn frame(&self) -> Arc<Frame> {
        self.pool.take()
    }

    /// Asks upstream for a keyframe, at most once per
    /// [`KEYFRAME_MIN_INTERVAL`]; whether it asked.
    pub fn request_keyframe(&self) -> bool {
        let mut last = self.last_keyframe.locked();
        if last.is_some_and(|t| t.elapsed() < KEYFRAME_MIN_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        drop(last);
        self.counters
            .keyframe_requests
            .fetch_add(1, Ordering::Relaxed);
        (self.hooks.keyframe)();
        true
    }

    /// Sends one access unit to every playing viewer, then returns the
    /// frame to the pool.
    pub fn send(&self, frame: Arc<Frame>, udp: &mut dyn DatagramSender) {
        let viewers = self.viewers.locked();
        let nothing = Datagrams {
            run: Run {
                bytes: &[],
                segment: 1,
            },
            to: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        let mut msgs = [nothing; BATCH];
        let mut n = 0;
        let mut failed = 0;
        let mut multicast = false;
        let count = frame.len() as u64;
        let mut copies = 0u64;
        let mut keyframe_needed = false;
        for v in viewers.iter() {
            if !v.playing.load(Ordering::Relaxed) {
                continue;
            }
            if v.waiting_keyframe.load(Ordering::Relaxed) {
                // Starts on a keyframe, so its first picture is whole;
                // asked for again while it waits (a request that fell in
                // the rate limit of another viewer's is not lost).
                if !frame.is_keyframe() {
                    keyframe_needed = true;
                    continue;
                }
                let first = frame.packets().next().and_then(|p| {
                    let pkt = framecast_rtp::RtpPacket::parse(p).ok()?;
                    Some((pkt.sequence_number(), pkt.timestamp()))
                });
                *v.start.locked() = first;
                v.waiting_keyframe.store(false, Ordering::Relaxed);
            }
            match &v.delivery {
                Delivery::Udp { rtp, .. } => {
                    for run in frame.runs() {
                        msgs[n] = Datagrams { run, to: *rtp };
                        n += 1;
                        if n == BATCH {
                            failed += udp.send(&self.rtp, &msgs[..n]);
                            n = 0;
                        }
                    }
                    v.counters.packets.fetch_add(count, Ordering::Relaxed);
                    copies += 1;
                }
                Delivery::Multicast => {
                    multicast = true;
                    v.counters.packets.fetch_add(count, Ordering::Relaxed);
                }
                Delivery::Tcp { out, .. } => match out.push(&frame) {
                    Pushed::Queued => {
                        v.counters.packets.fetch_add(count, Ordering::Relaxed);
                        copies += 1;
                    }
                    Pushed::DroppedOldest => {
                        copies += 1;
                        v.counters.packets.fetch_add(count, Ordering::Relaxed);
                        v.counters.dropped.fetch_add(1, Ordering::Relaxed);
                        // What it gets next refers to the frame it lost:
                        // it resumes on a keyframe instead.
                        v.waiting_keyframe.store(true, Ordering::Relaxed);
                        keyframe_needed = true;
                    }
                    Pushed::Stalled => {
                        self.counters.stalled.fetch_add(1, Ordering::Relaxed);
                        v.playing.store(false, Ordering::Relaxed);
                        (self.hooks.log)(&format!(
                            "RTSP viewer {} (session {}) stopped reading its TCP connection \
                             for over {:?}: disconnected",
                            v.peer,
                            v.session,
                            super::viewer::STALL_LIMIT
                        ));
                    }
                    Pushed::Closed => {}
                },
            }
        }
        if multicast {
            copies += 1;
            let group = SocketAddr::V4(self.config.multicast);
            for run in frame.runs() {
                msgs[n] = Datagrams { run, to: group };
                n += 1;
                if n == BATCH {
                    failed += udp.send(&self.rtp, &msgs[..n]);
                    n = 0;
                }
            }
        }
        if n > 0 {
            failed += udp.send(&self.rtp, &msgs[..n]);
        }
        drop(viewers);
        if keyframe_needed {
            self.request_keyframe();
        }
        if failed > 0 {
            self.counters
                .send_errors
                .fetch_add(failed, Ordering::Relaxed);
        }
        self.note_sent(&frame);
        self.counters.frames.fetch_add(1, Ordering::Relaxed);
        let c = &self.counters;
        c.packets.fetch_add(count * copies, Ordering::Relaxed);
        c.bytes
            .fetch_add(frame.bytes() as u64 * copies, Ordering::Relaxed);
        self.pool.give(frame);
    }

    fn note_sent(&self, frame: &Frame) {
        let mut pos = self.position.locked();
        for p in frame.packets() {
            let Ok(pkt) = framecast_rtp::RtpPacket::parse(p) else {
                continue;
            };
            if pos.stats.is_none_or(|s| s.ssrc != pkt.ssrc()) {
                pos.stats = Some(SenderStats::new(pkt.ssrc()));
                pos.ssrc = pkt.ssrc();
            }
            if let Some(s) = pos.stats.as_mut() {
                s.on_packet(p.len(), pkt.payload_offset());
            }
            pos.next_seq = Some(pkt.sequence_number().wrapping_add(1));
            pos.rtptime = pkt.timestamp();
            pos.at = Some(Instant::now());
        }
    }

    /// Every session's figures.
    pub fn viewers(&self) -> Vec<ViewerInfo> {
        self.viewers.locked().iter().map(|v| v.info()).collect()
    }

    /// How many sessions are playing.
    pub fn playing(&self) -> usize {
        self.viewers
            .locked()
            .iter()
            .filter(|v| v.playing.load(Ordering::Relaxed))
            .count()
    }

    pub(crate) fn add(&self, viewer: Arc<Viewer>) {
        if matches!(viewer.delivery, Delivery::Tcp { .. }) {
            // Each TCP queue holds frames the others reuse otherwise
            // (grown outside the viewers' lock, which the fan-out takes).
            let tcp = 1 + self
                .viewers
                .locked()
                .iter()
                .filter(|v| matches!(v.delivery, Delivery::Tcp { .. }))
                .count();
            self.pool.warm(tcp * (super::viewer::TCP_QUEUE_FRAMES + 2));
        }
        self.viewers.locked().push(viewer);
    }

    pub(crate) fn remove(&self, session: &str) -> Option<Arc<Viewer>> {
        let mut vs = self.viewers.locked();
        let i = vs.iter().position(|v| v.session == session)?;
        let v = vs.swap_remove(i);
        drop(vs);
        v.playing.store(false, Ordering::Relaxed);
        v.close();
        Some(v)
    }

    pub(crate) fn shut(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let all: Vec<Arc<Viewer>> = std::mem::take(&mut *self.viewers.locked());
        for v in all {
            v.playing.store(false, Ordering::Relaxed);
            v.close();
        }
        let threads = std::mem::take(&mut *self.rtcp_threads.locked());
        for t in threads {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}
