//! The RTP transport of a client session: TCP interleaved on the control
//! connection (the default: it crosses NATs and firewalls, and is what
//! RTSP servers accept everywhere) or UDP to the server's ports; the
//! `Transport` header that asks for it and the answer that fixes it
//! (RFC 2326 §12.39), through `rtsp-types`' typed header.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;

use rtsp_types::headers::transport::{
    RtpLowerTransport, RtpProfile, RtpTransport, RtpTransportParameters, TransportMode,
};
use rtsp_types::headers::{self, Transport, Transports};

use super::connection::SharedWriter;
use crate::{Error, Result};

/// How RTP travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LowerTransport {
    /// Interleaved in the RTSP TCP connection (`RTP/AVP/TCP;interleaved=0-1`).
    #[default]
    Tcp,
    /// UDP datagrams (`RTP/AVP;unicast;client_port=a-b`).
    Udp,
}

impl std::str::FromStr for LowerTransport {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Ok(LowerTransport::Tcp),
            "udp" => Ok(LowerTransport::Udp),
            other => Err(format!(
                "unknown RTSP lower transport {other:?} (tcp or udp)"
            )),
        }
    }
}

/// A UDP socket pair for RTP (even port) and RTCP (the next one), as RFC
/// 3550 §11 and RFC 2326 §12.39 `client_port` expect.
#[derive(Debug)]
pub(crate) struct UdpPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
}

impl UdpPair {
    /// Binds an even/odd pair on `ip`, trying a few random ports.
    pub(crate) fn bind(ip: std::net::IpAddr) -> Result<UdpPair> {
        let io = |source| Error::Io {
            context: format!("binding UDP ports on {ip} for RTP"),
            source,
        };
        for _ in 0..16 {
            let rtp = UdpSocket::bind((ip, 0)).map_err(io)?;
            let port = rtp.local_addr().map_err(io)?.port();
            if port % 2 != 0 || port == u16::MAX {
                continue;
            }
            if let Ok(rtcp) = UdpSocket::bind((ip, port + 1)) {
                return Ok(UdpPair { rtp, rtcp });
            }
        }
        Err(io(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "no free even/odd port pair",
        )))
    }

    pub(crate) fn ports(&self) -> (u16, u16) {
        let port = |s: &UdpSocket| s.local_addr().map(|a| a.port()).unwrap_or(0);
        (port(&self.rtp), port(&self.rtcp))
    }
}

/// The `Transport` header a client sends in SETUP.
pub(crate) fn request_transport(
    lower: LowerTransport,
    mode: TransportMode,
    client_ports: (u16, u16),
) -> Transports {
    let mut params = RtpTransportParameters {
        unicast: true,
        mode: vec![mode],
        ..Default::default()
    };
    let lower_transport = match lower {
        LowerTransport::Tcp => {
            params.interleaved = Some((0, Some(1)));
            Some(RtpLowerTransport::Tcp)
        }
        LowerTransport::Udp => {
            params.client_port = Some((client_ports.0, Some(client_ports.1)));
            None
        }
    };
    Transports::from(vec![Transport::Rtp(RtpTransport {
        profile: RtpProfile::Avp,
        lower_transport,
        params,
    })])
}

/// What the server's SETUP answer fixed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Agreed {
    /// Interleaved RTP channel (TCP).
    pub channel: u8,
    /// Interleaved RTCP channel (TCP): the second of the pair, or the one
    /// after the RTP channel when the server gave one only.
    pub rtcp_channel: u8,
    /// Server RTP and RTCP ports (UDP).
    pub server_ports: Option<(u16, u16)>,
}

/// Reads the server's `Transport` answer.
pub(crate) fn agreed_transport(
    response: &rtsp_types::Response<Vec<u8>>,
    lower: LowerTransport,
) -> Result<Agreed> {
    let bad = |what: String| Error::Malformed { what };
    let transports = response
        .typed_header::<Transports>()
        .map_err(|e| bad(format!("SETUP answer's Transport header: {e}")))?
        .ok_or_else(|| bad("SETUP answer has no Transport header".into()))?;
    let rtp = transports
        .iter()
        .find_map(|t| match t {
            Transport::Rtp(r) => Some(r),
            Transport::Other(_) => None,
        })
        .ok_or_else(|| bad("SETUP answer offers no RTP transport".into()))?;
    match lower {
        LowerTransport::Tcp => {
            let (channel, rtcp) = rtp.params.interleaved.unwrap_or((0, Some(1)));
            Ok(Agreed {
                channel,
                rtcp_channel: rtcp.unwrap_or(channel.wrapping_add(1)),
                server_ports: None,
            })
        }
        LowerTransport::Udp => {
            let (rtp_port, rtcp) = rtp
                .params
                .server_port
                .ok_or_else(|| bad("SETUP answer for UDP has no server_port".into()))?;
            Ok(Agreed {
                channel: 0,
                rtcp_channel: 1,
                server_ports: Some((rtp_port, rtcp.unwrap_or(rtp_port.wrapping_add(1)))),
            })
        }
    }
}

/// Where a publisher's RTP packets go: cheap to clone, shared between the
/// streaming thread and the session.
#[derive(Debug, Clone)]
pub enum RtpOut {
    /// Interleaved frames on the control connection.
    Interleaved {
        /// The connection's write half.
        writer: SharedWriter,
        /// The RTP channel.
        channel: u8,
    },
    /// UDP datagrams to the server's RTP port.
    Udp {
        /// Our RTP socket.
        socket: Arc<UdpSocket>,
        /// The server's RTP address.
        to: SocketAddr,
    },
}

impl RtpOut {
    /// Sends one RTP packet.
    ///
    /// # Errors
    ///
    /// The socket's error: on TCP the server is gone or stalled past the
    /// write timeout.
    pub fn send(&self, packet: &[u8]) -> std::io::Result<()> {
        match self {
            RtpOut::Interleaved { writer, channel } => writer.write_interleaved(*channel, packet),
            RtpOut::Udp { socket, to } => socket.send_to(packet, to).map(|_| ()),
        }
    }
}

/// The header value of a typed `Transport`.
pub(crate) fn transport_value(t: &Transports) -> String {
    let request =
        rtsp_types::Request::builder(rtsp_types::Method::Options, rtsp_types::Version::V1_0)
            .typed_header(t)
            .empty();
    request
        .header(&headers::TRANSPORT)
        .map(|v| v.as_str().to_string())
        .unwrap_or_default()
        // rtsp-types quotes the mode as RFC 2326 §12.39's grammar reads
        // (`mode="RECORD"`), but ffmpeg's listen mode compares the bare
        // word and refuses the quoted one; `mode=record` is what
        // GStreamer's and ffmpeg's clients send, and every server takes.
        .replace("mode=\"RECORD\"", "mode=record")
        .replace("mode=\"PLAY\"", "mode=play")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_transport_is_what_servers_read() {
        let t = request_transport(LowerTransport::Tcp, TransportMode::Record, (0, 0));
        let v = transport_value(&t);
        assert_eq!(v, "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record");
        let t = request_transport(LowerTransport::Udp, TransportMode::Play, (5000, 5001));
        let v = transport_value(&t);
        assert_eq!(v, "RTP/AVP;unicast;client_port=5000-5001;mode=play");
    }
}
