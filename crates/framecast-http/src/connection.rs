//! One HTTP connection: reads requests (persistent, pipelined in order),
//! dispatches them to their mount, writes the answers.
//!
//! A head that does not parse gets 400, one over
//! [`MAX_HEAD`](crate::head::MAX_HEAD) 431, a body over the limit 413, a
//! request that does not arrive whole within the request timeout 408;
//! each closes the connection. A connection idle past the idle timeout is
//! closed silently. A route that panics gets its client a 500.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::head::{self, Head};
use crate::response::{reason, Body};
use crate::server::Inner;
use crate::stream::StreamOut;
use crate::{token, Error, Request, Response};

/// The socket read timeout: how often a waiting connection checks its
/// deadlines and the server's stop flag.
const TICK: Duration = Duration::from_millis(200);

/// What the server says it is.
const SERVER: &str = "framecast";

/// Headers a browser page may send cross-origin, and read back.
const CORS: &str = "Access-Control-Allow-Origin: *\r\n\
Access-Control-Allow-Headers: Authorization, Content-Type, If-Match\r\n\
Access-Control-Expose-Headers: Location, ETag, Link, Accept-Patch, Accept-Post\r\n";

enum Got {
    Head(Head, usize),
    Closed,
    Fail(Response),
}

/// Serves a connection until it closes.
pub(crate) fn serve(inner: &Arc<Inner>, mut stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(TICK)).is_err() {
        return;
    }
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let (head, used) = match read_head(inner, &mut stream, &mut buf) {
            Got::Head(h, n) => (h, n),
            Got::Closed => return,
            Got::Fail(r) => {
                let _ = write_response(&mut stream, "GET", r, false);
                linger(&mut stream);
                return;
            }
        };
        buf.drain(..used);
        if head.content_length > inner.config.max_body {
            let e = Error::BodyTooLarge(head.content_length, inner.config.max_body);
            let _ = write_response(
                &mut stream,
                &head.method,
                Response::text(413, e.to_string()),
                false,
            );
            linger(&mut stream);
            return;
        }
        if head.content_length > buf.len()
            && head
                .header("expect")
                .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
            && stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let Some(body) = read_body(inner, &mut stream, &mut buf, head.content_length) else {
            let r = Response::text(408, "the request body did not arrive in time");
            let _ = write_response(&mut stream, &head.method, r, false);
            return;
        };
        let keep = head.keep_alive();
        let method = head.method.clone();
        let req = Request {
            head,
            body,
            peer,
            local,
            prefix: String::new(),
        };
        let response = dispatch(inner, req);
        if let Body::Stream(_) = response.body {
            let Ok(clone) = stream.try_clone() else {
                return;
            };
            let Response {
                status,
                headers,
                body,
            } = response;
            let head_only = Response {
                status,
                headers,
                body: Body::Bytes(Vec::new()),
            };
            if write_head(&mut stream, &head_only, None, false).is_err() {
                return;
            }
            if let Body::Stream(f) = body {
                let mut out = StreamOut::new(clone, inner.stop.clone());
                f(&mut out);
            }
            return;
        }
        if write_response(&mut stream, &method, response, keep).is_err() || !keep {
            return;
        }
    }
}

/// Reads until a whole head is in `buf`.
fn read_head(inner: &Inner, stream: &mut TcpStream, buf: &mut Vec<u8>) -> Got {
    let idle_since = Instant::now();
    let mut started = (!buf.is_empty()).then(Instant::now);
    let mut chunk = [0u8; 4096];
    loop {
        match head::parse(buf) {
            Ok(Some((h, n))) => return Got::Head(h, n),
            Ok(None) => {}
            Err(e @ Error::HeadTooLarge(_)) => {
                return Got::Fail(Response::text(431, e.to_string()))
            }
            Err(e) => return Got::Fail(Response::text(400, e.to_string())),
        }
        if inner.stop.load(Ordering::Relaxed) {
            return Got::Closed;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Got::Closed,
            Ok(n) => {
                started.get_or_insert_with(Instant::now);
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) if is_timeout(&e) => match started {
                Some(t) if t.elapsed() > inner.config.request_timeout => {
                    return Got::Fail(Response::text(
                        408,
                        format!(
                            "the request head did not arrive within {:?}",
                            inner.config.request_timeout
                        ),
                    ))
                }
                None if idle_since.elapsed() > inner.config.idle_timeout => return Got::Closed,
                _ => {}
            },
            Err(_) => return Got::Closed,
        }
    }
}

/// Reads `len` body bytes (some may be in `buf` already); `None` when they
/// do not come within the request timeout.
fn read_body(
    inner: &Inner,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    len: usize,
) -> Option<Vec<u8>> {
    let start = Instant::now();
    let mut chunk = [0u8; 4096];
    while buf.len() < len {
        if start.elapsed() > inner.config.request_timeout || inner.stop.load(Ordering::Relaxed) {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(_) => return None,
        }
    }
    Some(buf.drain(..len).collect())
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::Interrupted
    )
}

/// Finds the mount, checks the token, runs the route.
fn dispatch(inner: &Inner, mut req: Request) -> Response {
    let Some((prefix, route)) = inner.route_for(req.path()) else {
        return Response::not_found(req.path());
    };
    req.prefix = prefix;
    let run = AssertUnwindSafe(|| {
        if req.method() == "OPTIONS" {
            return route.options(&req);
        }
        if let Some(t) = &inner.config.token {
            if !route.public(&req) && !token::matches(t, req.bearer()) {
                return Response::text(
                    401,
                    "this server needs its access token: send `Authorization: Bearer TOKEN` \
                     (or ?access_token=TOKEN)",
                )
                .header("WWW-Authenticate", "Bearer realm=\"framecast\"");
            }
        }
        route.handle(&req)
    });
    std::panic::catch_unwind(run)
        .unwrap_or_else(|_| Response::text(500, format!("the handler of {} failed", req.path())))
}

/// Writes the status line and headers; `len` is the body's length (`None`
/// for a stream, which closes the connection).
fn write_head(
    w: &mut impl Write,
    r: &Response,
    len: Option<usize>,
    keep: bool,
) -> std::io::Result<()> {
    let mut h = String::with_capacity(256);
    let _ = write!(
        h,
        "HTTP/1.1 {} {}\r\nServer: {SERVER}\r\n{CORS}",
        r.status,
        reason(r.status)
    );
    for (n, v) in &r.headers {
        // A route's header value never splits the head.
        let v: String = v.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        let _ = write!(h, "{n}: {v}\r\n");
    }
    if let Some(len) = len {
        let _ = write!(h, "Content-Length: {len}\r\n");
    }
    h.push_str(if keep && len.is_some() {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    w.write_all(h.as_bytes())
}

/// Writes a whole response (no body for `HEAD`).
fn write_response(w: &mut TcpStream, method: &str, r: Response, keep: bool) -> std::io::Result<()> {
    let body: &[u8] = match &r.body {
        Body::Bytes(b) => b,
        Body::Static(b) => b,
        Body::Stream(_) => &[],
    };
    write_head(w, &r, Some(body.len()), keep)?;
    if method != "HEAD" && r.status != 204 && r.status != 304 {
        w.write_all(body)?;
    }
    w.flush()
}

/// Closes after an error answer without resetting it away: stop sending,
/// then drain what the client still sends for a moment.
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// Answers a connection over the limit: 503 at once, then close.
pub(crate) fn refuse(mut stream: TcpStream) {
    let r = Response::text(
        503,
        "too many connections to this server; try again shortly",
    )
    .header("Retry-After", "2");
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if write_response(&mut stream, "GET", r, false).is_ok() {
        linger(&mut stream);
    }
}
