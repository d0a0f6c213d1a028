//! Reading what a client sends on its RTSP connection: requests, and
//! interleaved `$`-framed RTCP (RFC 2326 §10.12) once a TCP viewer plays.
//!
//! [`frame`] and [`parse_request`] are pure functions over bytes (the fuzz
//! target and the property test call them directly); [`HeadReader`] adds
//! the socket: a request head is capped at [`MAX_HEAD`] bytes and must
//! arrive whole within a timeout once its first byte has, so a slow or
//! garbage client cannot pin its thread or grow its buffer.

use std::io::Read;
use std::time::{Duration, Instant};

use rtsp_types::{Message, Method, Request, Version};

use crate::{Error, Result};

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 8 * 1024;

/// Largest request body accepted (SET_PARAMETER, GET_PARAMETER).
pub const MAX_BODY: usize = 8 * 1024;

/// One message cut from the front of the connection's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A whole request, head and body.
    Request(&'a [u8]),
    /// An interleaved binary frame: channel and payload.
    Interleaved {
        /// The channel byte.
        channel: u8,
        /// The frame's bytes.
        data: &'a [u8],
    },
}

fn content_length(head: &[u8]) -> Result<usize> {
    let text = std::str::from_utf8(head)
        .map_err(|_| Error::BadRequest("request head is not UTF-8".into()))?;
    for line in text.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                return value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| Error::BadRequest(format!("Content-Length {:?}", value.trim())));
            }
        }
    }
    Ok(0)
}

/// Cuts the first message from `buf`: `Ok(None)` while more bytes are
/// needed, the message and the bytes it took otherwise.
///
/// # Errors
///
/// [`Error::HeadTooLarge`] for a head (no blank line yet) over [`MAX_HEAD`] or
/// a body over [`MAX_BODY`]; [`Error::BadRequest`] for a head that is not
/// text or has a bad `Content-Length`.
pub fn frame(buf: &[u8]) -> Result<Option<(Incoming<'_>, usize)>> {
    if buf.first() == Some(&b'$') {
        if buf.len() < 4 {
            return Ok(None);
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if buf.len() < 4 + len {
            return Ok(None);
        }
        return Ok(Some((
            Incoming::Interleaved {
                channel: buf[1],
                data: &buf[4..4 + len],
            },
            4 + len,
        )));
    }
    let window = &buf[..buf.len().min(MAX_HEAD + 4)];
    let Some(end) = window.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_HEAD {
            return Err(Error::HeadTooLarge { limit: MAX_HEAD });
        }
        return Ok(None);
    };
    let head_len = end + 4;
    if head_len > MAX_HEAD {
        return Err(Error::HeadTooLarge { limit: MAX_HEAD });
    }
    let body = content_length(&buf[..end])?;
    if body > MAX_BODY {
        return Err(Error::BodyTooLarge {
            length: body,
            limit: MAX_BODY,
        });
    }
    let total = head_len + body;
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some((Incoming::Request(&buf[..total]), total)))
}

/// Parses one whole request (as [`frame`] cut it).
///
/// # Errors
///
/// [`Error::BadRequest`] for anything that is not one RTSP/1.0 request.
pub fn parse_request(bytes: &[u8]) -> Result<Request<Vec<u8>>> {
    let (msg, _) = Message::<Vec<u8>>::parse(bytes)
        .map_err(|e| Error::BadRequest(format!("not an RTSP message ({e})")))?;
    match msg {
        Message::Request(r) if r.version() == Version::V1_0 => Ok(r),
        Message::Request(r) => Err(Error::BadRequest(format!(
            "version {:?}, not RTSP/1.0",
            r.version()
        ))),
        _ => Err(Error::BadRequest(
            "a response or data, not a request".into(),
        )),
    }
}

/// The header names (re-exported for the fuzz target).
pub use rtsp_types::headers;

/// The method's name, for Digest and messages.
pub fn method_name(m: &Method) -> &str {
    m.into()
}

/// Reads messages from a connection into a fixed buffer.
#[derive(Debug)]
pub struct HeadReader {
    buf: Vec<u8>,
    filled: usize,
    consumed: usize,
    timeout: Duration,
    started: Option<Instant>,
}

/// What [`HeadReader::next`] got.
#[derive(Debug)]
pub enum Received {
    /// A parsed request.
    Request(Request<Vec<u8>>),
    /// An interleaved frame (channel, bytes copied out).
    Interleaved(u8, usize),
    /// Nothing within the socket's read timeout (the caller checks its
    /// sessions and calls again).
    Idle,
}

impl HeadReader {
    /// A reader whose requests must arrive whole within `timeout`.
    pub fn new(timeout: Duration) -> Self {
        HeadReader {
            buf: vec![0; MAX_HEAD + MAX_BODY + 8],
            filled: 0,
            consumed: 0,
            timeout,
            started: None,
        }
    }

    fn compact(&mut self) {
        if self.consumed > 0 {
            self.buf.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }

    /// The next message; interleaved data is copied into `data` (cut to
    /// its length). The socket must have a read timeout set (the idle
    /// tick).
    ///
    /// # Errors
    ///
    /// What [`frame`] and [`parse_request`] return, [`Error::Timeout`] for
    /// a request not whole in time, [`Error::Closed`] at end of stream,
    /// [`Error::Io`] for a socket error.
    pub fn next(&mut self, r: &mut impl Read, data: &mut [u8]) -> Result<Received> {
        loop {
            let pending = &self.buf[self.consumed..self.filled];
            if let Some((msg, used)) = frame(pending)? {
                let out = match msg {
                    Incoming::Request(bytes) => Received::Request(parse_request(bytes)?),
                    Incoming::Interleaved { channel, data: d } => {
                        let n = d.len().min(data.len());
                        data[..n].copy_from_slice(&d[..n]);
                        Received::Interleaved(channel, n)
                    }
                };
                self.consumed += used;
                self.started = (self.consumed < self.filled).then(Instant::now);
                return Ok(out);
            }
            if let Some(t) = self.started {
                if t.elapsed() > self.timeout {
                    return Err(Error::Timeout {
                        what: "a whole RTSP request".into(),
                        timeout: self.timeout,
                    });
                }
            }
            self.compact();
            match r.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    return Err(Error::Closed {
                        context: "reading a request".into(),
                    })
                }
                Ok(n) => {
                    if self.filled == 0 {
                        self.started = Some(Instant::now());
                    }
                    self.filled += n;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.filled == self.consumed {
                        return Ok(Received::Idle);
                    }
                    if self.started.is_some_and(|t| t.elapsed() > self.timeout) {
                        return Err(Error::Timeout {
                            what: "a whole RTSP request".into(),
                            timeout: self.timeout,
                        });
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::Io {
                        context: "reading a request".into(),
                        source: e,
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_requests_bodies_and_interleaved_data() {
        let req = b"OPTIONS rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\n\r\nGET_PARAMETER rtsp://h/s RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\nabc";
        let (m, n) = frame(req).unwrap().unwrap();
        assert!(matches!(m, Incoming::Request(b) if b.ends_with(b"\r\n\r\n")));
        let (m, n2) = frame(&req[n..]).unwrap().unwrap();
        assert!(matches!(m, Incoming::Request(b) if b.ends_with(b"abc")));
        assert_eq!(n + n2, req.len());
        assert!(frame(&req[n..req.len() - 1]).unwrap().is_none());
        let data = [b'$', 1, 0, 2, 9, 9, 7];
        assert_eq!(
            frame(&data).unwrap(),
            Some((
                Incoming::Interleaved {
                    channel: 1,
                    data: &[9, 9]
                },
                6
            ))
        );
        assert!(parse_request(&req[..n]).is_ok());
    }

    #[test]
    fn an_oversized_head_is_refused() {
        let mut big = b"OPTIONS rtsp://h/s RTSP/1.0\r\nX: ".to_vec();
        big.resize(MAX_HEAD + 1, b'a');
        assert!(matches!(frame(&big), Err(Error::HeadTooLarge { .. })));
        let body = b"SET_PARAMETER * RTSP/1.0\r\nContent-Length: 99999\r\n\r\n";
        assert!(matches!(
            frame(body),
            Err(Error::BodyTooLarge { length: 99999, .. })
        ));
    }

    #[test]
    fn garbage_and_other_versions_are_bad_requests() {
        assert!(parse_request(b"\x16\x03\x01 hello\r\n\r\n").is_err());
        assert!(parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_err());
        assert!(parse_request(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n").is_err());
    }

    #[test]
    fn the_reader_times_out_a_slow_head() {
        struct Slow(usize);
        impl Read for Slow {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    self.0 += 1;
                    buf[..7].copy_from_slice(b"OPTIONS");
                    return Ok(7);
                }
                std::thread::sleep(Duration::from_millis(5));
                Err(std::io::ErrorKind::WouldBlock.into())
            }
        }
        let mut r = HeadReader::new(Duration::from_millis(30));
        let mut d = [0; 16];
        let got = r.next(&mut Slow(0), &mut d);
        assert!(matches!(got, Err(Error::Timeout { .. })), "{got:?}");
    }

    proptest! {
        /// Any bytes: framing and parsing return (a message, a need for
        /// more, or an error) and never panic; a cut message is within
        /// the input and the caps.
        #[test]
        fn framing_and_parsing_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                                           prefix in prop_oneof![Just(&b""[..]), Just(&b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n"[..]), Just(&b"$"[..])]) {
            let mut input = prefix.to_vec();
            input.extend_from_slice(&bytes);
            if let Ok(Some((m, used))) = frame(&input) {
                prop_assert!(used <= input.len());
                if let Incoming::Request(b) = m {
                    prop_assert!(b.len() <= MAX_HEAD + MAX_BODY);
                    let _ = parse_request(b);
                }
            }
            let _ = parse_request(&input);
        }

        /// A well-formed request with random header values parses back
        /// with its CSeq.
        #[test]
        fn well_formed_requests_parse(cseq in 0u32..1_000_000, value in "[ -~]{0,200}") {
            let text = format!("OPTIONS rtsp://127.0.0.1:8554/s RTSP/1.0\r\nCSeq: {cseq}\r\nX-Junk: {}\r\n\r\n", value.trim());
            let (m, used) = frame(text.as_bytes()).unwrap().unwrap();
            prop_assert_eq!(used, text.len());
            let Incoming::Request(b) = m else { unreachable!() };
            let r = parse_request(b).unwrap();
            let c = r.header(&rtsp_types::headers::CSEQ).map(|v| v.as_str().to_string());
            prop_assert_eq!(c, Some(cseq.to_string()));
        }
    }
}
