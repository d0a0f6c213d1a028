//! Playing a stream from an RTSP server (RFC 2326 §10.2 DESCRIBE, §10.4
//! SETUP, §10.5 PLAY): the SDP tells what the stream is, SETUP picks TCP
//! interleaved (default) or UDP, PLAY starts it, keepalives keep it, and
//! TEARDOWN ends it. [`Player::recv`] hands out the RTP packets for the
//! receive path (jitter buffer, depayloader, decoder), and sends the
//! server RTCP receiver reports about them (see [`super::report`]).

use std::time::{Duration, Instant};

use framecast_rtp::SessionDescription;
use rtsp_types::headers::{self, transport::TransportMode, Public};
use rtsp_types::{Method, Url};

use super::connection::{Connection, SharedWriter};
use super::reader::Item;
use super::report::{ReportTo, Reporter};
use super::transport::{
    agreed_transport, request_transport, transport_value, LowerTransport, UdpPair,
};
use super::url::RtspUrl;
use crate::{Error, Result};

/// How to play.
#[derive(Debug, Clone, Copy)]
pub struct PlayOptions {
    /// TCP interleaved (default) or UDP.
    pub transport: LowerTransport,
    /// Longest wait for the connection and for each answer.
    pub timeout: Duration,
}

impl Default for PlayOptions {
    fn default() -> Self {
        PlayOptions {
            transport: LowerTransport::Tcp,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A PLAY session.
#[derive(Debug)]
pub struct Player {
    conn: Connection,
    sdp: SessionDescription,
    channel: u8,
    rtcp_channel: u8,
    udp: Option<UdpPair>,
    /// Receiver reports about the stream, to the server.
    reports: Reporter,
    keepalive: Method,
    every: Duration,
    next_keepalive: Instant,
}

impl Player {
    /// DESCRIBE, SETUP of the first video medium, and PLAY.
    ///
    /// # Errors
    ///
    /// The connection, a refused step, or an SDP without video.
    pub fn open(url: &RtspUrl, options: PlayOptions) -> Result<Player> {
        let mut conn = Connection::open(url, options.timeout)?;
        let base: Url = url.url().clone();
        let answer = conn.request(Method::Options, &base, &[], None)?;
        let keepalive = match answer.typed_header::<Public>() {
            Ok(Some(p)) if p.contains(&Method::GetParameter) => Method::GetParameter,
            _ => Method::Options,
        };
        let described = conn.request(
            Method::Describe,
            &base,
            &[(headers::ACCEPT, "application/sdp".into())],
            None,
        )?;
        let text = std::str::from_utf8(described.body()).map_err(|_| Error::Sdp {
            what: "DESCRIBE answer is not UTF-8".into(),
        })?;
        let sdp = SessionDescription::parse(text).map_err(|e| Error::Sdp {
            what: format!("DESCRIBE answer: {e}"),
        })?;
        // RFC 2326 C.1.1: controls are relative to Content-Base when given.
        let content_base = described
            .header(&headers::CONTENT_BASE)
            .and_then(|v| RtspUrl::parse(v.as_str()).ok());
        let medium = sdp.video().ok_or_else(|| Error::Sdp {
            what: format!("{url} describes no video medium"),
        })?;
        let control = medium
            .attributes
            .iter()
            .find(|(k, _)| k == "control")
            .and_then(|(_, v)| v.clone())
            .unwrap_or_default();
        let media_url = content_base.as_ref().unwrap_or(url).join(&control);
        let udp = match options.transport {
            LowerTransport::Tcp => None,
            LowerTransport::Udp => {
                let ip = url.socket_addr()?.ip();
                let local = if ip.is_loopback() {
                    ip
                } else {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                };
                Some(UdpPair::bind(local)?)
            }
        };
        let ports = udp.as_ref().map(UdpPair::ports).unwrap_or((0, 0));
        let transport = request_transport(options.transport, TransportMode::Play, ports);
        let setup = conn.request(
            Method::Setup,
            &media_url,
            &[(headers::TRANSPORT, transport_value(&transport))],
            None,
        )?;
        let agreed = agreed_transport(&setup, options.transport)?;
        if let (Some(pair), Some((rtp, _))) = (&udp, agreed.server_ports) {
            // Lets the first datagrams through a NAT or stateful firewall.
            let mut to = url.socket_addr()?;
            to.set_port(rtp);
            let _ = pair.rtp.send_to(&[], to);
        }
        // The aggregate URL when SETUP answered with a session; many
        // servers also accept the medium's.
        let play_url = content_base.map(|c| c.url().clone()).unwrap_or(base);
        conn.request(
            Method::Play,
            &play_url,
            &[(headers::RANGE, "npt=0.000-".into())],
            None,
        )?;
        let every =
            (conn.session_timeout() / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
        conn.set_read_timeout(Duration::from_millis(50))?;
        let io = |source| Error::Io {
            context: "configuring the RTP/RTCP sockets".into(),
            source,
        };
        let report_to = match (&udp, agreed.server_ports) {
            (Some(pair), Some((_, rtcp))) => {
                pair.rtp
                    .set_read_timeout(Some(Duration::from_millis(50)))
                    .map_err(io)?;
                pair.rtcp.set_nonblocking(true).map_err(io)?;
                let mut server = url.socket_addr()?;
                server.set_port(rtcp);
                ReportTo::Udp(pair.rtcp.try_clone().map_err(io)?, server)
            }
            _ => ReportTo::Interleaved(conn.writer().clone(), agreed.rtcp_channel),
        };
        let clock_rate = sdp.video().map_or(90_000, |m| m.clock_rate);
        Ok(Player {
            conn,
            sdp,
            channel: agreed.channel,
            rtcp_channel: agreed.rtcp_channel,
            udp,
            reports: Reporter::new(report_to, clock_rate),
            keepalive,
            every,
            next_keepalive: Instant::now() + every,
        })
    }

    /// The server's description of the stream.
    pub fn sdp(&self) -> &SessionDescription {
        &self.sdp
    }

    /// A handle that closes the connection from another thread.
    pub fn closer(&self) -> SharedWriter {
        self.conn.writer().clone()
    }

    /// The next RTP packet, copied into `out`; `None` when none came
    /// within about 50 ms (keepalives are sent meanwhile).
    ///
    /// # Errors
    ///
    /// The server closed the connection, a socket error, or a malformed
    /// message.
    pub fn recv(&mut self, out: &mut [u8]) -> Result<Option<usize>> {
        if Instant::now() >= self.next_keepalive {
            let base = self.conn.url().url().clone();
            self.conn.send(self.keepalive.clone(), &base, &[], None)?;
            self.next_keepalive = Instant::now() + self.every;
        }
        self.reports.tick();
        if let Some(pair) = &self.udp {
            // Answers to keepalives (and anything else) on the control
            // connection are read and dropped without waiting.
            self.conn.set_read_timeout(Duration::from_millis(1))?;
            while self.conn.poll()?.is_some() {}
            self.reports.poll_udp();
            return match pair.rtp.recv(out) {
                Ok(n) => {
                    self.reports.on_rtp(&out[..n]);
                    Ok(Some(n))
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    Ok(None)
                }
                Err(source) => Err(Error::Io {
                    context: "receiving RTP".into(),
                    source,
                }),
            };
        }
        let (channel, rtcp_channel) = (self.channel, self.rtcp_channel);
        let deadline = Instant::now() + Duration::from_millis(50);
        loop {
            match self.conn.poll()? {
                Some(Item::Data {
                    channel: c,
                    payload,
                }) if c == channel => {
                    let n = payload.len().min(out.len());
                    out[..n].copy_from_slice(&payload[..n]);
                    self.reports.on_rtp(&out[..n]);
                    return Ok(Some(n));
                }
                Some(Item::Data {
                    channel: c,
                    payload,
                }) if c == rtcp_channel => self.reports.on_rtcp(payload),
                Some(_) => {}
                None => return Ok(None),
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// Ends the session (TEARDOWN) and closes the connection.
    pub fn teardown(mut self) {
        let base = self.conn.url().url().clone();
        let _ = self.conn.request(Method::Teardown, &base, &[], None);
        self.conn.writer().shutdown();
    }
}
