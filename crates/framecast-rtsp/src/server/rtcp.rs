//! A mount's RTCP (RFC 3550 §6): the sender reports it sends its viewers
//! every second, and the receiver reports it reads from them.
//!
//! Reports arrive three ways, and each is read by [`Mount::read_rtcp`]:
//! - UDP unicast viewers send to the mount's RTCP socket (RTP port + 1);
//!   a report belongs to the viewer whose `client_port` it comes from.
//! - TCP viewers send on their interleaved RTCP channel; the connection
//!   hands it over.
//! - UDP multicast viewers send to the group's RTCP port (the group's RTP
//!   port + 1, §6 and RFC 2326 §12.39), which the mount joins on the
//!   interface it serves from (`lo` for 127.0.0.1). Every viewer of the
//!   group sends there, often from the same host and from an address that
//!   says nothing (GStreamer's `rtspsrc` sends from `0.0.0.0:port`), so a
//!   report is attributed by its sender SSRC: a known SSRC goes to the
//!   viewer that sent it before; a new one goes to a multicast viewer
//!   that has none yet (once the report has a block about this mount's
//!   stream: several mounts may share a group), one from the report's
//!   host first, else any (so
//!   two viewers joining the group from one host at the same moment may
//!   swap figures, but never share them). A BYE for a viewer's SSRC
//!   makes it forget that one: GStreamer hears its own reports come back
//!   through the group, takes them for an SSRC collision (§8.2), says BYE
//!   and reports under a new SSRC from then on. The
//!   mount's own sender reports, which come back to it through the group,
//!   are skipped by their SSRC.
//!
//! A report counts as the viewer's sign of life against session expiry,
//! its blocks about the stream give loss, jitter and round-trip time
//! (RFC 3550 §6.4.1, from the sender reports sent to every viewer: UDP to
//! the client's RTCP port, TCP on its RTCP channel, multicast to the
//! group), and a PLI/FIR asks the encoder for a keyframe.

use framecast_core::sync::MutexExt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use framecast_rtp::rtcp::{parse_compound, CompoundWriter, NtpTimestamp, RtcpPacket};

use super::mount::Mount;
use super::viewer::{Delivery, Viewer};

/// How often sender reports go out.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Which of a mount's RTCP sockets a loop reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Socket {
    /// The unicast RTCP port (this loop also sends the sender reports).
    Unicast,
    /// The multicast group's RTCP port.
    Multicast,
}

/// A socket on the group's RTCP port, bound to the group address (so it
/// reads nothing else) and joined on the interface of `ip`.
/// `SO_REUSEADDR`: the viewers on this host bind the same port.
pub(crate) fn join_group(group: SocketAddrV4, ip: IpAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Type};
    let rtcp = SocketAddrV4::new(*group.ip(), group.port().wrapping_add(1));
    let s = socket2::Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.bind(&SocketAddr::V4(rtcp).into())?;
    let iface = match ip {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    s.join_multicast_v4(group.ip(), &iface)?;
    let s: UdpSocket = s.into();
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    Ok(s)
}

/// Who a compound says it is from: its first packet's sender SSRC.
fn sender_ssrc(data: &[u8]) -> Option<u32> {
    match parse_compound(data).next()?.ok()? {
        RtcpPacket::ReceiverReport(ssrc, _) => Some(ssrc),
        RtcpPacket::SenderReport(sr, _) => Some(sr.ssrc),
        _ => None,
    }
}

/// Whether a compound has a BYE for `ssrc`.
fn says_bye(data: &[u8], ssrc: u32) -> bool {
    parse_compound(data)
        .map_while(|p| p.ok())
        .any(|p| matches!(p, RtcpPacket::Bye(b) if b.ssrcs().any(|s| s == ssrc)))
}

/// Whether a compound has a report block about stream `ssrc`.
fn reports_on(data: &[u8], ssrc: u32) -> bool {
    parse_compound(data).map_while(|p| p.ok()).any(|p| match p {
        RtcpPacket::ReceiverReport(_, b) | RtcpPacket::SenderReport(_, b) => {
            b.iter().any(|b| b.ssrc == ssrc)
        }
        _ => false,
    })
}

impl Mount {
    /// Reads a receiver report's blocks about our stream into `viewer`.
    pub(crate) fn read_rtcp(&self, viewer: &Viewer, data: &[u8]) {
        viewer.touch();
        let ssrc = self.position.locked().ssrc;
        let mut keyframe = false;
        for packet in parse_compound(data).map_while(|p| p.ok()) {
            if packet.is_keyframe_request() {
                keyframe = true;
            }
            let blocks = match packet {
                RtcpPacket::ReceiverReport(_, b) | RtcpPacket::SenderReport(_, b) => b,
                _ => continue,
            };
            for b in blocks.iter().filter(|b| b.ssrc == ssrc) {
                let c = &viewer.counters;
                c.reports.fetch_add(1, Ordering::Relaxed);
                c.fraction_lost
                    .store(u64::from(b.fraction_lost), Ordering::Relaxed);
                c.cumulative_lost
                    .store(b.cumulative_lost.max(0) as u64, Ordering::Relaxed);
                c.jitter.store(u64::from(b.jitter), Ordering::Relaxed);
                if b.last_sr != 0 {
                    // RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s.
                    let a = NtpTimestamp::now().middle32();
                    let rtt = a
                        .wrapping_sub(b.last_sr)
                        .wrapping_sub(b.delay_since_last_sr);
                    if rtt < 65_536 * 10 {
                        // At least 1 µs: 0 means "unknown" (loopback RTTs
                        // round to 0 in 1/65536 s).
                        let us = (u64::from(rtt) * 1_000_000 / 65_536).max(1);
                        c.rtt_us.store(us, Ordering::Relaxed);
                    }
                }
            }
        }
        if keyframe {
            self.request_keyframe();
        }
    }

    /// The viewer a report that came to `socket` from `from` is about
    /// (the rules in the module docs).
    fn reporter(&self, socket: Socket, from: SocketAddr, data: &[u8]) -> Option<Arc<Viewer>> {
        let viewers = self.viewers.locked();
        if socket == Socket::Unicast {
            return viewers
                .iter()
                .find(|v| matches!(&v.delivery, Delivery::Udp { rtcp, .. } if *rtcp == from))
                .cloned();
        }
        let ssrc = sender_ssrc(data)?;
        let ours = self.position.locked().ssrc;
        if ssrc == ours {
            return None;
        }
        let group = || {
            viewers
                .iter()
                .filter(|v| matches!(v.delivery, Delivery::Multicast))
        };
        if let Some(v) = group().find(|v| v.rtcp_ssrc() == Some(ssrc)) {
            if says_bye(data, ssrc) {
                v.forget_rtcp_ssrc();
            }
            return Some(v.clone());
        }
        if !reports_on(data, ours) {
            // Not (yet) about this stream: another mount's viewer on the
            // same group, or a receiver that has not received anything.
            return None;
        }
        let unknown = || group().filter(|v| v.rtcp_ssrc().is_none());
        let v = unknown()
            .find(|v| v.peer.ip() == from.ip())
            .or_else(|| unknown().next())?;
        v.learn_rtcp_ssrc(ssrc);
        Some(v.clone())
    }

    /// Sends a sender report to every playing viewer: UDP ones at their
    /// RTCP port, TCP ones on their RTCP channel, and the group once.
    fn send_reports(&self) {
        let pos = *self.position.locked();
        let Some(stats) = pos.stats else {
            return;
        };
        let sr = stats.report(NtpTimestamp::now(), pos.rtptime_now(90_000));
        let mut buf = [0u8; 256];
        let mut w = CompoundWriter::new(&mut buf);
        if w.sender_report(&sr, &[]).is_err() || w.sdes_cname(pos.ssrc, "framecast").is_err() {
            return;
        }
        let len = w.finish();
        let report = &buf[..len];
        let viewers = self.viewers.locked();
        let mut multicast = false;
        for v in viewers.iter().filter(|v| v.playing.load(Ordering::Relaxed)) {
            match &v.delivery {
                Delivery::Udp { rtcp, .. } => {
                    let _ = self.rtcp.send_to(report, rtcp);
                }
                Delivery::Multicast => multicast = true,
                Delivery::Tcp {
                    rtcp_channel, out, ..
                } => {
                    // Only on an idle connection: a writer busy with a
                    // stalled socket skips this second's report instead
                    // of holding up everyone's.
                    out.send_control(*rtcp_channel, report);
                }
            }
        }
        drop(viewers);
        if multicast {
            let mut group = self.config.multicast;
            group.set_port(group.port().wrapping_add(1));
            let _ = self.rtcp.send_to(report, group);
        }
    }
}

/// Reads one of `mount`'s RTCP sockets until the mount stops; the unicast
/// loop also sends the sender reports.
pub(crate) fn rtcp_loop(mount: &Weak<Mount>, socket: Socket) {
    let mut buf = [0u8; 1500];
    let mut last_report = Instant::now();
    loop {
        let Some(m) = mount.upgrade() else {
            return;
        };
        if m.stop.load(Ordering::Relaxed) {
            return;
        }
        if socket == Socket::Unicast && last_report.elapsed() >= REPORT_INTERVAL {
            last_report = Instant::now();
            m.send_reports();
        }
        let sock = match socket {
            Socket::Unicast => Some(&m.rtcp),
            Socket::Multicast => m.group_rtcp.as_ref(),
        };
        let Some(sock) = sock else {
            return;
        };
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if let Some(v) = m.reporter(socket, from, &buf[..n]) {
            m.read_rtcp(&v, &buf[..n]);
        }
    }
}
