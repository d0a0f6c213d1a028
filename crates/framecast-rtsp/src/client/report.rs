//! A player's RTCP receiver reports (RFC 3550 §6.4.2): every second, one
//! report block about the stream (loss, jitter, and the last sender
//! report's time and age) with an SDES CNAME, on the interleaved RTCP
//! channel (TCP) or to the server's RTCP port (UDP), as GStreamer's and
//! ffmpeg's clients send them. The server shows them as the viewer's
//! figures (round-trip time included) and counts them as a sign of life.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use framecast_rtp::rtcp::{parse_compound, CompoundWriter, ReceptionStats, RtcpPacket};
use framecast_rtp::RtpPacket;

use super::connection::SharedWriter;

/// How often a report goes out: RFC 3550 §6.2's reduced minimum for a
/// stream of a few hundred kbit/s and up is below this; the server sends
/// its sender reports as often.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Where the reports go.
#[derive(Debug)]
pub(crate) enum ReportTo {
    /// Interleaved on the RTSP connection, on this channel.
    Interleaved(SharedWriter, u8),
    /// From the client's RTCP socket to the server's RTCP port.
    Udp(UdpSocket, SocketAddr),
}

/// The reception statistics of the stream and its reports.
#[derive(Debug)]
pub(crate) struct Reporter {
    stats: ReceptionStats,
    own_ssrc: u32,
    to: ReportTo,
    next: Instant,
}

impl Reporter {
    /// Reports to `to` about a stream clocked at `clock_rate`.
    pub(crate) fn new(to: ReportTo, clock_rate: u32) -> Reporter {
        Reporter {
            stats: ReceptionStats::new(clock_rate),
            own_ssrc: crate::digest::random_u64() as u32,
            to,
            next: Instant::now() + REPORT_INTERVAL,
        }
    }

    /// Counts a received RTP packet.
    pub(crate) fn on_rtp(&mut self, packet: &[u8]) {
        if let Ok(p) = RtpPacket::parse(packet) {
            let now = Instant::now();
            self.stats
                .on_packet(p.ssrc(), p.sequence_number(), p.timestamp(), now);
        }
    }

    /// Reads the server's RTCP: its sender reports date our blocks.
    pub(crate) fn on_rtcp(&mut self, data: &[u8]) {
        let now = Instant::now();
        for p in parse_compound(data).map_while(|p| p.ok()) {
            if let RtcpPacket::SenderReport(sr, _) = p {
                self.stats.on_sender_report(&sr, now);
            }
        }
    }

    /// Reads what the server sent to our RTCP socket (UDP), without
    /// waiting.
    pub(crate) fn poll_udp(&mut self) {
        let mut buf = [0u8; 1500];
        for _ in 0..8 {
            let got = match &self.to {
                ReportTo::Udp(socket, _) => socket.recv(&mut buf),
                ReportTo::Interleaved(..) => return,
            };
            match got {
                Ok(n) => self.on_rtcp(&buf[..n]),
                Err(_) => return,
            }
        }
    }

    /// Sends a receiver report when one is due. A failed send is not an
    /// error of the session (the next one may go); the connection's own
    /// reads report a closed socket.
    pub(crate) fn tick(&mut self) {
        let now = Instant::now();
        if now < self.next {
            return;
        }
        self.next = now + REPORT_INTERVAL;
        let Some(block) = self.stats.report_block(now) else {
            return;
        };
        let mut buf = [0u8; 128];
        let mut w = CompoundWriter::new(&mut buf);
        if w.receiver_report(self.own_ssrc, &[block]).is_err()
            || w.sdes_cname(self.own_ssrc, "framecast").is_err()
        {
            return;
        }
        let n = w.finish();
        let _ = match &self.to {
            ReportTo::Interleaved(writer, channel) => writer.write_interleaved(*channel, &buf[..n]),
            ReportTo::Udp(socket, server) => socket.send_to(&buf[..n], server).map(|_| ()),
        };
    }
}
