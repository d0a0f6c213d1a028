//! One RTSP connection: reads requests (and interleaved RTCP), answers
//! them, and owns the sessions it set up.
//!
//! The session layer (RFC 2326 §§10, 12): OPTIONS, DESCRIBE, SETUP (UDP
//! unicast, TCP interleaved, UDP multicast; 461 for anything else), PLAY
//! (with `Range` and `RTP-Info`), PAUSE, TEARDOWN, GET/SET_PARAMETER as
//! keepalives; `Session: id;timeout=N`, CSeq echoed. A session that
//! hears neither a request nor RTCP for its timeout is expired here. A
//! request that does not parse gets 400 and the connection is closed, an
//! oversized one 413; a head that does not complete in time closes it.
//! When the connection closes, its sessions end.

use framecast_core::sync::MutexExt;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rtsp_types::headers::{
    self, RtpLowerTransport, RtpProfile, RtpTransport, Transport, Transports,
};
use rtsp_types::{Method, Request, Response, StatusCode, Version};

use super::head::{method_name, HeadReader, Received};
use super::mount::Mount;
use super::viewer::{Delivery, TcpOut, Viewer};
use super::Inner;
use crate::Error;

/// How long a request may take to arrive once it has begun.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The socket read timeout: how often the connection checks its sessions.
const TICK: Duration = Duration::from_millis(250);

/// Longest a PLAY answer waits for the keyframe its viewer starts on.
pub const KEYFRAME_WAIT: Duration = Duration::from_millis(1500);

/// What the server says it is.
const SERVER: &str = "framecast";

/// A connection's sessions and how to write to it.
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    sessions: Vec<(Arc<Mount>, Arc<Viewer>)>,
    /// The last answer was written by its handler (PLAY and TEARDOWN on
    /// TCP, ordered with the media).
    written: bool,
}

type Reply = Response<Vec<u8>>;

fn reply(status: StatusCode, cseq: Option<&str>) -> rtsp_types::ResponseBuilder {
    let mut b = Response::builder(Version::V1_0, status).header(headers::SERVER, SERVER);
    if let Some(c) = cseq {
        b = b.header(headers::CSEQ, c);
    }
    b
}

fn write_reply(w: &mut impl Write, r: &Reply) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(512);
    r.write(&mut out)
        .map_err(|_| std::io::Error::other("serialising an RTSP response"))?;
    w.write_all(&out)?;
    w.flush()
}

impl Conn {
    /// Writes a response: through the TCP viewer's writer when one plays
    /// on this connection (so it never lands inside a media frame).
    fn send(&mut self, r: &Reply) -> std::io::Result<()> {
        let out = self.sessions.iter().find_map(|(_, v)| match &v.delivery {
            Delivery::Tcp { out, .. } => Some(out.clone()),
            _ => None,
        });
        match out {
            Some(out) => write_reply(&mut *out.writer.locked(), r),
            None => write_reply(&mut self.stream, r),
        }
    }

    fn close_all(&mut self) {
        for (m, v) in self.sessions.drain(..) {
            m.remove(&v.session);
        }
    }
}

/// Serves a connection until it closes.
pub(crate) fn serve(inner: &Arc<Inner>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(TICK)).is_err() {
        return;
    }
    let Ok(read) = stream.try_clone() else {
        return;
    };
    let mut read = read;
    let mut conn = Conn {
        stream,
        peer,
        sessions: Vec::new(),
        written: false,
    };
    let mut reader = HeadReader::new(REQUEST_TIMEOUT);
    let mut data = [0u8; 2048];
    let mut idle = std::time::Instant::now();
    while !inner.stop.load(Ordering::Relaxed) {
        match reader.next(&mut read, &mut data) {
            Ok(Received::Request(req)) => {
                idle = std::time::Instant::now();
                let (r, close) = handle(inner, &mut conn, &req);
                let sent = std::mem::take(&mut conn.written) || conn.send(&r).is_ok();
                if !sent || close {
                    break;
                }
            }
            Ok(Received::Interleaved(channel, n)) => {
                for (m, v) in &conn.sessions {
                    if let Delivery::Tcp { rtcp_channel, .. } = &v.delivery {
                        if *rtcp_channel == channel {
                            m.read_rtcp(v, &data[..n]);
                        }
                    }
                }
            }
            Ok(Received::Idle) => {
                // Expire sessions that went silent; a connection with no
                // session left that stays idle as long goes too.
                let expired: Vec<String> = conn
                    .sessions
                    .iter()
                    .filter(|(m, v)| v.expired(m.config.session_timeout))
                    .map(|(_, v)| v.session.clone())
                    .collect();
                for s in expired {
                    if let Some(i) = conn.sessions.iter().position(|(_, v)| v.session == s) {
                        let (m, v) = conn.sessions.swap_remove(i);
                        m.remove(&v.session);
                    }
                }
                if conn.sessions.iter().any(|(_, v)| match &v.delivery {
                    Delivery::Tcp { out, .. } => out.is_closed(),
                    _ => false,
                }) {
                    break;
                }
                let timeout = inner
                    .mounts
                    .locked()
                    .iter()
                    .map(|m| m.config.session_timeout)
                    .max()
                    .unwrap_or(Duration::from_secs(60));
                if conn.sessions.is_empty() && idle.elapsed() > timeout {
                    break;
                }
            }
            Err(Error::HeadTooLarge { .. } | Error::BodyTooLarge { .. }) => {
                let _ = conn
                    .send(&reply(StatusCode::RequestMessageBodyTooLarge, None).build(Vec::new()));
                break;
            }
            Err(Error::BadRequest(_)) => {
                let _ = conn.send(&reply(StatusCode::BadRequest, None).build(Vec::new()));
                break;
            }
            Err(_) => break,
        }
    }
    conn.close_all();
    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
}

/// Reads one request with a short timeout and answers 503.
pub(crate) fn refuse(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(TICK));
    let Ok(mut read) = stream.try_clone() else {
        return;
    };
    let mut reader = HeadReader::new(Duration::from_secs(2));
    let mut data = [0u8; 64];
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        match reader.next(&mut read, &mut data) {
            Ok(Received::Request(req)) => {
                let cseq = req.header(&headers::CSEQ).map(|v| v.as_str().to_string());
                let r = reply(StatusCode::ServiceUnavailable, cseq.as_deref()).build(Vec::new());
                let mut s = &stream;
                let _ = write_reply(&mut s, &r);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn session_id() -> String {
    format!("{:016X}", crate::digest::random_u64())
}

/// Answers `req` (unless it sets `conn.written`, having written the
/// answer itself); `true` to close the connection after it.
fn handle(inner: &Arc<Inner>, conn: &mut Conn, req: &Request<Vec<u8>>) -> (Reply, bool) {
    let Some(cseq) = req.header(&headers::CSEQ).map(|v| v.as_str().to_string()) else {
        return (reply(StatusCode::BadRequest, None).build(Vec::new()), true);
    };
    let cseq = Some(cseq.as_str());
    let session_hdr = req.header(&headers::SESSION).map(|v| {
        v.as_str()
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    });
    // Any request naming one of our sessions keeps it alive.
    if let Some(s) = &session_hdr {
        for (_, v) in conn.sessions.iter().filter(|(_, v)| &v.session == s) {
            v.touch();
        }
    }
    let method = req.method();
    if *method == Method::Options {
        let public = headers::Public::builder()
            .method(Method::Options)
            .method(Method::Describe)
            .method(Method::Setup)
            .method(Method::Play)
            .method(Method::Pause)
            .method(Method::Teardown)
            .method(Method::GetParameter)
            .method(Method::SetParameter)
            .build();
        return (
            reply(StatusCode::Ok, cseq)
                .typed_header(&public)
                .build(Vec::new()),
            false,
        );
    }
    let url = req.request_uri();
    let path = url.map(|u| u.path().to_string()).unwrap_or_default();
    let mount = inner.mount_for(&path).or_else(|| {
        // A request on a session (PLAY with the aggregate URL of a
        // client that rewrote it): the session's mount.
        let s = session_hdr.as_ref()?;
        conn.sessions
            .iter()
            .find(|(_, v)| &v.session == s)
            .map(|(m, _)| m.clone())
    });
    let Some(mount) = mount else {
        let status = if matches!(method, Method::GetParameter | Method::SetParameter) {
            StatusCode::Ok
        } else {
            StatusCode::NotFound
        };
        return (reply(status, cseq).build(Vec::new()), false);
    };
    if let Some(auth) = &mount.config.auth {
        let ok = req
            .header(&headers::AUTHORIZATION)
            .is_some_and(|a| auth.verify(method_name(method), a.as_str()));
        if !ok {
            return (
                reply(StatusCode::Unauthorized, cseq)
                    .header(headers::WWW_AUTHENTICATE, auth.challenge())
                    .build(Vec::new()),
                false,
            );
        }
    }
    let own = |conn: &Conn| {
        let s = session_hdr.as_ref()?;
        conn.sessions
            .iter()
            .find(|(m, v)| &v.session == s && Arc::ptr_eq(m, &mount))
            .map(|(_, v)| v.clone())
    };
    match method {
        Method::Describe => {
            let Some(sdp) = mount.sdp(Duration::from_secs(3)) else {
                return (
                    reply(StatusCode::ServiceUnavailable, cseq).build(Vec::new()),
                    false,
                );
            };
            let base = match url {
                Some(u) if u.as_str().ends_with('/') => u.to_string(),
                Some(u) => format!("{u}/"),
                None => String::new(),
            };
            (
                reply(StatusCode::Ok, cseq)
                    .header(headers::CONTENT_TYPE, "application/sdp")
                    .header(headers::CONTENT_BASE, base)
                    .build(sdp.into_bytes()),
                false,
            )
        }
        Method::Setup => setup(conn, &mount, req, cseq, session_hdr.as_deref()),
        Method::Play => {
            let Some(v) = own(conn) else {
                return (
                    reply(StatusCode::SessionNotFound, cseq).build(Vec::new()),
                    false,
                );
            };
            let tcp_out = match &v.delivery {
                Delivery::Tcp { out, .. } => Some(out.clone()),
                _ => None,
            };
            // The viewer starts on the next keyframe, asked for now: the
            // answer waits for it (at most KEYFRAME_WAIT), so RTP-Info
            // names its first packet exactly. For TCP the writer is held
            // meanwhile: its media queue behind the answer.
            let writer = tcp_out.as_ref().map(|o| o.writer.locked());
            *v.start.locked() = None;
            v.waiting_keyframe.store(true, Ordering::Relaxed);
            v.playing.store(true, Ordering::Relaxed);
            mount.request_keyframe();
            let deadline = std::time::Instant::now() + KEYFRAME_WAIT;
            while v.waiting_keyframe.load(Ordering::Relaxed) && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            // No keyframe in time: the answer goes with the stream's
            // position, and the viewer still starts on the keyframe.
            let start = *v.start.locked();
            let start = start.or_else(|| {
                let pos = *mount.position.locked();
                pos.next_seq.map(|s| (s, pos.rtptime_now(90_000)))
            });
            let uri = url.map(|u| u.to_string()).unwrap_or_default();
            let mut info = format!("url={uri}");
            if let Some((seq, rtptime)) = start {
                info.push_str(&format!(";seq={seq};rtptime={rtptime}"));
            }
            let r = reply(StatusCode::Ok, cseq)
                .header(headers::RANGE, "npt=now-")
                .header(headers::RTP_INFO, info)
                .header(headers::SESSION, session_value(&v, &mount))
                .build(Vec::new());
            if let Some(mut w) = writer {
                let ok = write_reply(&mut *w, &r).is_ok();
                drop(w);
                // Already written: answer nothing more.
                conn.written = true;
                return (r, !ok);
            }
            (r, false)
        }
        Method::Pause => {
            let Some(v) = own(conn) else {
                return (
                    reply(StatusCode::SessionNotFound, cseq).build(Vec::new()),
                    false,
                );
            };
            v.playing.store(false, Ordering::Relaxed);
            (
                reply(StatusCode::Ok, cseq)
                    .header(headers::SESSION, session_value(&v, &mount))
                    .build(Vec::new()),
                false,
            )
        }
        Method::Teardown => {
            let Some(v) = own(conn) else {
                return (
                    reply(StatusCode::SessionNotFound, cseq).build(Vec::new()),
                    false,
                );
            };
            let tcp = matches!(v.delivery, Delivery::Tcp { .. });
            let r = reply(StatusCode::Ok, cseq).build(Vec::new());
            if tcp {
                // Answer before the writer goes with the session.
                let _ = conn.send(&r);
            }
            conn.sessions.retain(|(_, x)| !Arc::ptr_eq(x, &v));
            mount.remove(&v.session);
            if tcp {
                conn.written = true;
                return (r, true);
            }
            (r, false)
        }
        Method::GetParameter | Method::SetParameter => {
            let mut b = reply(StatusCode::Ok, cseq);
            if let Some(v) = own(conn) {
                b = b.header(headers::SESSION, session_value(&v, &mount));
            }
            (b.build(Vec::new()), false)
        }
        _ => (
            reply(StatusCode::MethodNotAllowed, cseq)
                .header(
                    headers::ALLOW,
                    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER",
                )
                .build(Vec::new()),
            false,
        ),
    }
}

fn session_value(v: &Viewer, m: &Mount) -> String {
    format!(
        "{};timeout={}",
        v.session,
        m.config.session_timeout.as_secs()
    )
}

fn setup(
    conn: &mut Conn,
    mount: &Arc<Mount>,
    req: &Request<Vec<u8>>,
    cseq: Option<&str>,
    session: Option<&str>,
) -> (Reply, bool) {
    let unsupported = || {
        (
            reply(StatusCode::UnsupportedTransport, cseq).build(Vec::new()),
            false,
        )
    };
    let Ok(Some(transports)) = req.typed_header::<Transports>() else {
        return unsupported();
    };
    let t = &mount.config.transports;
    let (rtp_port, rtcp_port) = mount.server_ports();
    let ssrc = mount.position.locked().ssrc;
    let mut chosen = None;
    for tr in transports.iter() {
        let Transport::Rtp(rtp) = tr else { continue };
        if !matches!(rtp.profile, RtpProfile::Avp) {
            continue;
        }
        let p = &rtp.params;
        let lower_tcp = matches!(rtp.lower_transport, Some(RtpLowerTransport::Tcp));
        let lower_udp = matches!(rtp.lower_transport, None | Some(RtpLowerTransport::Udp));
        if lower_tcp && t.tcp {
            let (ch, ch2) = p.interleaved.unwrap_or((0, Some(1)));
            let ch2 = ch2.unwrap_or(ch.wrapping_add(1));
            let Ok(out) = TcpOut::new(&conn.stream, ch) else {
                return (
                    reply(StatusCode::InternalServerError, cseq).build(Vec::new()),
                    true,
                );
            };
            let mut params = headers::RtpTransportParameters {
                unicast: true,
                interleaved: Some((ch, Some(ch2))),
                ..Default::default()
            };
            params.ssrc = vec![ssrc];
            chosen = Some((
                Delivery::Tcp {
                    channel: ch,
                    rtcp_channel: ch2,
                    out,
                },
                RtpTransport {
                    profile: RtpProfile::Avp,
                    lower_transport: Some(RtpLowerTransport::Tcp),
                    params,
                },
            ));
            break;
        }
        if lower_udp && p.multicast && t.multicast {
            let g = mount.config.multicast;
            let params = headers::RtpTransportParameters {
                multicast: true,
                destination: Some(g.ip().to_string()),
                port: Some((g.port(), Some(g.port().wrapping_add(1)))),
                ttl: Some(mount.config.ttl),
                ssrc: vec![ssrc],
                ..Default::default()
            };
            chosen = Some((
                Delivery::Multicast,
                RtpTransport {
                    profile: RtpProfile::Avp,
                    lower_transport: None,
                    params,
                },
            ));
            break;
        }
        if lower_udp && !p.multicast && t.udp {
            let Some((a, b)) = p.client_port else {
                continue;
            };
            let b = b.unwrap_or(a.wrapping_add(1));
            let ip: IpAddr = conn.peer.ip();
            let params = headers::RtpTransportParameters {
                unicast: true,
                client_port: Some((a, Some(b))),
                server_port: Some((rtp_port, Some(rtcp_port))),
                ssrc: vec![ssrc],
                ..Default::default()
            };
            chosen = Some((
                Delivery::Udp {
                    rtp: SocketAddr::new(ip, a),
                    rtcp: SocketAddr::new(ip, b),
                },
                RtpTransport {
                    profile: RtpProfile::Avp,
                    lower_transport: None,
                    params,
                },
            ));
            break;
        }
    }
    let Some((delivery, answer)) = chosen else {
        return unsupported();
    };
    // A SETUP on an existing session of ours replaces its transport.
    let id = match session {
        Some(s) => {
            if let Some(i) = conn
                .sessions
                .iter()
                .position(|(m, v)| v.session == s && Arc::ptr_eq(m, mount))
            {
                let (m, v) = conn.sessions.swap_remove(i);
                m.remove(&v.session);
                s.to_string()
            } else {
                return (
                    reply(StatusCode::SessionNotFound, cseq).build(Vec::new()),
                    false,
                );
            }
        }
        None => session_id(),
    };
    let viewer = Arc::new(Viewer::new(id, conn.peer, delivery));
    if let Delivery::Tcp { out, .. } = &viewer.delivery {
        let out = out.clone();
        if std::thread::Builder::new()
            .name("fc-rtsp-tcp-out".into())
            .spawn(move || out.run())
            .is_err()
        {
            return (
                reply(StatusCode::InternalServerError, cseq).build(Vec::new()),
                true,
            );
        }
    }
    mount.add(viewer.clone());
    conn.sessions.push((mount.clone(), viewer.clone()));
    (
        reply(StatusCode::Ok, cseq)
            .typed_header(&Transports::from(vec![Transport::Rtp(answer)]))
            .header(headers::SESSION, session_value(&viewer, mount))
            .build(Vec::new()),
        false,
    )
}
