//! One RTSP control connection from the client side: requests with their
//! `CSeq`, the `Session` once the server gave one, and Digest
//! authentication (RFC 2617, through `http-auth`) answered once per
//! challenge.
//!
//! The write half is shared ([`SharedWriter`]): on TCP-interleaved
//! transport RTP frames and keepalive requests travel on the same stream
//! and must not cut into each other.

use framecast_core::sync::MutexExt;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtsp_types::{headers, HeaderName, Method, Request, Response, Version};

use super::reader::{Item, MessageReader};
use super::url::RtspUrl;
use crate::{Error, Result};

/// What we call ourselves in `User-Agent`.
pub const USER_AGENT: &str = concat!("framecast/", env!("CARGO_PKG_VERSION"));

/// The TCP stream's write half, with a scratch buffer so that an
/// interleaved frame goes out in one write without allocating.
#[derive(Debug, Clone)]
pub struct SharedWriter(Arc<Mutex<(TcpStream, Vec<u8>)>>);

impl SharedWriter {
    fn new(stream: TcpStream) -> SharedWriter {
        SharedWriter(Arc::new(Mutex::new((stream, Vec::with_capacity(2048)))))
    }

    /// Writes `bytes` whole.
    ///
    /// # Errors
    ///
    /// The socket's error (a write timeout is `WouldBlock`/`TimedOut`).
    pub fn write_all(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.locked().0.write_all(bytes)
    }

    /// Writes `payload` as one interleaved frame on `channel` (RFC 2326
    /// §10.12).
    ///
    /// # Errors
    ///
    /// A payload over 65535 bytes, or the socket's error.
    pub fn write_interleaved(&self, channel: u8, payload: &[u8]) -> std::io::Result<()> {
        let len = u16::try_from(payload.len()).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "interleaved frame over 65535 bytes",
            )
        })?;
        let mut g = self.0.locked();
        let (stream, scratch) = &mut *g;
        scratch.clear();
        scratch.extend_from_slice(&[b'$', channel]);
        scratch.extend_from_slice(&len.to_be_bytes());
        scratch.extend_from_slice(payload);
        stream.write_all(scratch)
    }

    /// Shuts the socket down both ways, which also wakes a reader
    /// blocked on it.
    pub fn shutdown(&self) {
        let _ = self.0.locked().0.shutdown(std::net::Shutdown::Both);
    }
}

/// A client control connection.
#[derive(Debug)]
pub struct Connection {
    url: RtspUrl,
    read: TcpStream,
    writer: SharedWriter,
    reader: MessageReader,
    cseq: u32,
    session: Option<String>,
    session_timeout: Option<Duration>,
    auth: Option<http_auth::PasswordClient>,
    timeout: Duration,
}

impl Connection {
    /// Connects to the server of `url`, waiting at most `timeout` for the
    /// connection and for each answer later.
    ///
    /// # Errors
    ///
    /// A name that does not resolve, or a refused or timed out connection.
    pub fn open(url: &RtspUrl, timeout: Duration) -> Result<Connection> {
        let addr = url.socket_addr()?;
        let io = |what: &str| {
            let what = format!("{what} {addr} ({url})");
            move |source| Error::Io {
                context: what,
                source,
            }
        };
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(io("connecting to"))?;
        stream.set_nodelay(true).map_err(io("configuring"))?;
        stream
            .set_read_timeout(Some(timeout))
            .map_err(io("configuring"))?;
        stream
            .set_write_timeout(Some(timeout))
            .map_err(io("configuring"))?;
        let read = stream.try_clone().map_err(io("configuring"))?;
        Ok(Connection {
            url: url.clone(),
            read,
            writer: SharedWriter::new(stream),
            reader: MessageReader::new(),
            cseq: 0,
            session: None,
            session_timeout: None,
            auth: None,
            timeout,
        })
    }

    /// The URL connected to.
    pub fn url(&self) -> &RtspUrl {
        &self.url
    }

    /// The shared write half.
    pub fn writer(&self) -> &SharedWriter {
        &self.writer
    }

    /// The session id the server gave in SETUP.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The session timeout the server announced (RFC 2326 §12.37; 60 s
    /// when it said none).
    pub fn session_timeout(&self) -> Duration {
        self.session_timeout.unwrap_or(Duration::from_secs(60))
    }

    /// Changes how long a read may wait (the play loop reads with a short
    /// timeout to keep its keepalives on time).
    ///
    /// # Errors
    ///
    /// The socket's error.
    pub fn set_read_timeout(&self, timeout: Duration) -> Result<()> {
        self.read
            .set_read_timeout(Some(timeout))
            .map_err(|source| Error::Io {
                context: format!("configuring the connection to {}", self.url),
                source,
            })
    }

    /// Sends a request without waiting for its answer; returns its CSeq.
    ///
    /// # Errors
    ///
    /// The socket's error.
    pub fn send(
        &mut self,
        method: Method,
        uri: &rtsp_types::Url,
        extra: &[(HeaderName, String)],
        body: Option<(&str, &[u8])>,
    ) -> Result<u32> {
        self.cseq += 1;
        let cseq = self.cseq;
        let mut b = Request::builder(method.clone(), Version::V1_0)
            .request_uri(uri.clone())
            .header(headers::CSEQ, cseq.to_string())
            .header(headers::USER_AGENT, USER_AGENT);
        if let Some(session) = &self.session {
            b = b.header(headers::SESSION, session.clone());
        }
        if let (Some(auth), Some(user)) = (self.auth.as_mut(), self.url.user()) {
            let method_name = method_name(&method);
            let value = auth
                .respond(&http_auth::PasswordParams {
                    username: user,
                    password: self.url.password().unwrap_or(""),
                    uri: uri.as_str(),
                    method: &method_name,
                    body: Some(body.map(|(_, b)| b).unwrap_or(&[])),
                })
                .map_err(|why| Error::Unauthorized {
                    method: method_name.clone(),
                    url: uri.to_string(),
                    why,
                })?;
            b = b.header(headers::AUTHORIZATION, value);
        }
        for (name, value) in extra {
            b = b.header(name.clone(), value.clone());
        }
        let request = match body {
            Some((content_type, bytes)) => b
                .header(headers::CONTENT_TYPE, content_type)
                .build(bytes.to_vec()),
            None => b.build(Vec::new()),
        };
        let mut wire = Vec::with_capacity(512);
        request.write(&mut wire).map_err(|e| Error::Malformed {
            what: format!("cannot write {}: {e}", method_name(&method)),
        })?;
        self.writer.write_all(&wire).map_err(|source| Error::Io {
            context: format!("sending {} to {}", method_name(&method), self.url),
            source,
        })?;
        Ok(cseq)
    }

    /// Sends a request and waits for its answer, answering one Digest
    /// challenge with the URL's credentials. Interleaved frames that
    /// arrive meanwhile are dropped.
    ///
    /// # Errors
    ///
    /// The socket's error, no answer within the timeout, a 401 that
    /// credentials do not lift ([`Error::Unauthorized`]), or another
    /// status outside 2xx ([`Error::Status`]).
    pub fn request(
        &mut self,
        method: Method,
        uri: &rtsp_types::Url,
        extra: &[(HeaderName, String)],
        body: Option<(&str, &[u8])>,
    ) -> Result<Response<Vec<u8>>> {
        let mut tried_auth = false;
        loop {
            let cseq = self.send(method.clone(), uri, extra, body)?;
            let response = self.wait_response(cseq, &method)?;
            let code = u16::from(response.status());
            if code == 401 {
                let fail = |why: &str| Error::Unauthorized {
                    method: method_name(&method),
                    url: uri.to_string(),
                    why: why.to_string(),
                };
                if self.url.user().is_none() {
                    return Err(fail(
                        "the server wants credentials: give rtsp://user:password@host/path",
                    ));
                }
                if tried_auth {
                    return Err(fail("the server refused the user name or password"));
                }
                let challenge = response
                    .header(&headers::WWW_AUTHENTICATE)
                    .map(|v| v.as_str().to_string())
                    .ok_or_else(|| fail("401 without WWW-Authenticate"))?;
                let client = http_auth::PasswordClient::builder()
                    .challenges(&challenge)
                    .build()
                    .map_err(|why| fail(&format!("cannot answer {challenge:?}: {why}")))?;
                self.auth = Some(client);
                tried_auth = true;
                continue;
            }
            if !(200..300).contains(&code) {
                return Err(Error::Status {
                    method: method_name(&method),
                    url: uri.to_string(),
                    code,
                    reason: response.reason_phrase().to_string(),
                });
            }
            if let Ok(Some(s)) = response.typed_header::<headers::Session>() {
                self.session = Some(s.0.clone());
                if let Some(t) = s.1 {
                    self.session_timeout = Some(Duration::from_secs(t.max(1)));
                }
            }
            return Ok(response);
        }
    }

    fn wait_response(&mut self, cseq: u32, method: &Method) -> Result<Response<Vec<u8>>> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.poll()? {
                Some(Item::Response(r)) => {
                    let theirs = r
                        .header(&headers::CSEQ)
                        .and_then(|v| v.as_str().trim().parse::<u32>().ok());
                    if theirs.is_none_or(|c| c == cseq) {
                        return Ok(r);
                    }
                }
                Some(_) => {}
                None if Instant::now() >= deadline => {
                    return Err(Error::Timeout {
                        what: format!("{} {}", method_name(method), self.url),
                        timeout: self.timeout,
                    })
                }
                None => {}
            }
        }
    }

    /// The next item from the server: one read (waiting at most the read
    /// timeout) when nothing complete is buffered; `None` when the read
    /// timed out.
    ///
    /// # Errors
    ///
    /// The server closed the connection, a socket error, or a malformed
    /// or oversized message.
    pub fn poll(&mut self) -> Result<Option<Item<'_>>> {
        // Two steps so that the borrow of a returned item does not cover
        // the read.
        if self.reader.next_item()?.is_none() {
            match self.read.read(self.reader.spare()) {
                Ok(0) => {
                    return Err(Error::Closed {
                        context: format!("reading from {}", self.url),
                    })
                }
                Ok(n) => self.reader.filled(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    return Ok(None)
                }
                Err(source) => {
                    return Err(Error::Io {
                        context: format!("reading from {}", self.url),
                        source,
                    })
                }
            }
            return self.reader.next_item();
        }
        self.reader.unread_last();
        self.reader.next_item()
    }
}

/// The method as written on the request line.
pub(crate) fn method_name(method: &Method) -> String {
    let s: &str = method.into();
    s.to_string()
}
