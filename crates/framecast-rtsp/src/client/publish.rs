//! Publishing into an existing RTSP server (RFC 2326 §10.3 ANNOUNCE,
//! §10.11 RECORD): OPTIONS → ANNOUNCE (the stream's SDP) → SETUP
//! `mode=record` per medium → RECORD, keepalives while streaming, and
//! TEARDOWN at the end. This is what GStreamer's `rtspclientsink` and
//! `ffmpeg -f rtsp` do, and what MediaMTX, gst-rtsp-server, Wowza and
//! `ffmpeg -rtsp_flags listen` accept.
//!
//! The session is sans-threads: the caller sends RTP through
//! [`Publisher::rtp_out`] (from any thread) and calls
//! [`Publisher::service`] now and then, which reads what the server says
//! (RTCP, answers to keepalives, its own requests) and keeps the session
//! alive.

use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast_rtp::SessionDescription;
use rtsp_types::headers::{self, transport::TransportMode, Public};
use rtsp_types::{Method, Url};

use super::connection::{method_name, Connection, SharedWriter};
use super::reader::Item;
use super::transport::{
    agreed_transport, request_transport, transport_value, LowerTransport, RtpOut, UdpPair,
};
use super::url::RtspUrl;
use crate::{Error, Result};

/// How to publish.
#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    /// TCP interleaved (default) or UDP.
    pub transport: LowerTransport,
    /// Longest wait for the connection and for each answer; on TCP also
    /// the longest a packet write may block before the server counts as
    /// gone.
    pub timeout: Duration,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            transport: LowerTransport::Tcp,
            timeout: Duration::from_secs(2),
        }
    }
}

/// A RECORD session on a server.
#[derive(Debug)]
pub struct Publisher {
    conn: Connection,
    out: RtpOut,
    /// Kept open so that the server's RTCP has somewhere to go.
    _udp: Option<UdpPair>,
    keepalive: Method,
    every: Duration,
    next_keepalive: Instant,
}

/// The `a=control` of every medium, added as `streamid=N` (ffmpeg's
/// words) where the SDP has none.
fn with_controls(sdp: &SessionDescription) -> (SessionDescription, Vec<String>) {
    let mut sdp = sdp.clone();
    let mut controls = Vec::new();
    for (i, m) in sdp.media.iter_mut().enumerate() {
        let control = m
            .attributes
            .iter()
            .find(|(k, _)| k == "control")
            .and_then(|(_, v)| v.clone());
        let control = control.unwrap_or_else(|| {
            let c = format!("streamid={i}");
            m.attributes.push(("control".into(), Some(c.clone())));
            c
        });
        controls.push(control);
    }
    (sdp, controls)
}

impl Publisher {
    /// Connects to `url` and sets up a RECORD session for the stream that
    /// `sdp` describes (its first medium carries the RTP).
    ///
    /// # Errors
    ///
    /// The connection, or any step the server refuses: a wrong password
    /// is [`Error::Unauthorized`], a path already published or not
    /// allowed is the server's [`Error::Status`].
    pub fn connect(
        url: &RtspUrl,
        sdp: &SessionDescription,
        options: PublishOptions,
    ) -> Result<Publisher> {
        let (sdp, controls) = with_controls(sdp);
        let control = controls.first().ok_or_else(|| Error::Sdp {
            what: "the stream's description has no medium".into(),
        })?;
        let mut conn = Connection::open(url, options.timeout)?;
        let base: Url = url.url().clone();
        let options_answer = conn.request(Method::Options, &base, &[], None)?;
        let keepalive = match options_answer.typed_header::<Public>() {
            // RFC 2326 §10.8 suggests GET_PARAMETER as the keepalive;
            // servers that do not list it get OPTIONS (as ffmpeg does).
            Ok(Some(p)) if p.contains(&Method::GetParameter) => Method::GetParameter,
            _ => Method::Options,
        };
        let text = sdp.to_string();
        conn.request(
            Method::Announce,
            &base,
            &[],
            Some(("application/sdp", text.as_bytes())),
        )?;
        let media_url = url.join(control);
        let udp = match options.transport {
            LowerTransport::Tcp => None,
            LowerTransport::Udp => {
                let ip = url.socket_addr()?.ip();
                let local = if ip.is_loopback() {
                    ip
                } else if ip.is_ipv4() {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                };
                Some(UdpPair::bind(local)?)
            }
        };
        let ports = udp.as_ref().map(UdpPair::ports).unwrap_or((0, 0));
        let transport = request_transport(options.transport, TransportMode::Record, ports);
        let setup = {
            let value = transport_value(&transport);
            conn.request(
                Method::Setup,
                &media_url,
                &[(headers::TRANSPORT, value)],
                None,
            )?
        };
        let agreed = agreed_transport(&setup, options.transport)?;
        let out = match &udp {
            None => RtpOut::Interleaved {
                writer: conn.writer().clone(),
                channel: agreed.channel,
            },
            Some(pair) => {
                let (rtp_port, _) = agreed.server_ports.unwrap_or((0, 0));
                let mut to = url.socket_addr()?;
                to.set_port(rtp_port);
                let socket = pair.rtp.try_clone().map_err(|source| Error::Io {
                    context: "sharing the RTP socket".into(),
                    source,
                })?;
                RtpOut::Udp {
                    socket: Arc::new(socket),
                    to,
                }
            }
        };
        conn.request(
            Method::Record,
            &base,
            &[(headers::RANGE, "npt=0.000-".to_string())],
            None,
        )?;
        // RFC 2326 §12.37: keep the session alive well inside its timeout.
        let every =
            (conn.session_timeout() / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
        conn.set_read_timeout(Duration::from_millis(100))?;
        Ok(Publisher {
            conn,
            out,
            _udp: udp,
            keepalive,
            every,
            next_keepalive: Instant::now() + every,
        })
    }

    /// Where RTP packets go (clone it into the streaming thread).
    pub fn rtp_out(&self) -> RtpOut {
        self.out.clone()
    }

    /// A handle that closes the connection from another thread (waking a
    /// [`service`](Self::service) call).
    pub fn closer(&self) -> SharedWriter {
        self.conn.writer().clone()
    }

    /// The session id.
    pub fn session(&self) -> Option<&str> {
        self.conn.session()
    }

    /// The keepalive method chosen from the server's `Public` header.
    pub fn keepalive_method(&self) -> &Method {
        &self.keepalive
    }

    /// Reads what the server sent (waiting up to 100 ms) and sends a
    /// keepalive when one is due.
    ///
    /// # Errors
    ///
    /// The server closed the connection or sent something malformed: the
    /// session is over.
    pub fn service(&mut self) -> Result<()> {
        let mut request: Option<(Method, String)> = None;
        match self.conn.poll()? {
            Some(Item::Request(r)) => {
                let cseq = r
                    .header(&headers::CSEQ)
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default();
                request = Some((r.method().clone(), cseq));
            }
            Some(Item::Response(_)) | Some(Item::Data { .. }) | None => {}
        }
        if let Some((method, cseq)) = request {
            self.answer(&method, &cseq)?;
        }
        if Instant::now() >= self.next_keepalive {
            let base = self.conn.url().url().clone();
            let method = self.keepalive.clone();
            self.conn.send(method, &base, &[], None)?;
            self.next_keepalive = Instant::now() + self.every;
        }
        Ok(())
    }

    /// Answers a server's request: 200 to keepalive-like methods, 501
    /// otherwise (RFC 2326 §7.1.1).
    fn answer(&mut self, method: &Method, cseq: &str) -> Result<()> {
        let (code, reason) = match method {
            Method::Options | Method::GetParameter | Method::SetParameter => (200, "OK"),
            _ => (501, "Not Implemented"),
        };
        let text = format!(
            "RTSP/1.0 {code} {reason}\r\nCSeq: {cseq}\r\nUser-Agent: {}\r\n\r\n",
            super::connection::USER_AGENT
        );
        self.conn
            .writer()
            .write_all(text.as_bytes())
            .map_err(|source| Error::Io {
                context: format!("answering {}", method_name(method)),
                source,
            })
    }

    /// Ends the session (TEARDOWN, not waiting long for the answer) and
    /// closes the connection.
    pub fn teardown(mut self) {
        let base = self.conn.url().url().clone();
        let _ = self.conn.request(Method::Teardown, &base, &[], None);
        self.conn.writer().shutdown();
    }
}
