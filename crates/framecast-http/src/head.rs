//! Parsing what a client sends: the request head (by `httparse`) and the
//! framing of its body.
//!
//! [`parse`] is a pure function over bytes (the fuzz target and the
//! property test call it directly); the connection
//! ([`connection`](crate::connection)) adds the socket, the timeouts and
//! the body. A head is capped at [`MAX_HEAD`] bytes, so a garbage client
//! cannot grow its buffer; `Transfer-Encoding` bodies are refused (the
//! routes take small bodies: SDP offers, ICE fragments), so framing is
//! `Content-Length` only.

use crate::{Error, Result};

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 8 * 1024;

/// Most header fields in one request.
pub const MAX_HEADERS: usize = 64;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-encoding kept, without the query.
    pub path: String,
    /// The query after `?`, if any.
    pub query: Option<String>,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor_version: u8,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body's length from `Content-Length` (0 when absent).
    pub content_length: usize,
}

impl Head {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after the answer: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("");
        let has = |t: &str| conn.split(',').any(|c| c.trim().eq_ignore_ascii_case(t));
        if self.minor_version >= 1 {
            !has("close")
        } else {
            has("keep-alive")
        }
    }
}

/// Parses the head at the front of `buf`: `Ok(None)` while more bytes are
/// needed, the head and the bytes it took otherwise (the body follows).
///
/// # Errors
///
/// [`Error::HeadTooLarge`] when no complete head fits in [`MAX_HEAD`];
/// [`Error::BadRequest`] for bytes that are not an HTTP/1.x request, a
/// header that is not text, a bad or repeated `Content-Length`, or a
/// `Transfer-Encoding` (not supported).
pub fn parse(buf: &[u8]) -> Result<Option<(Head, usize)>> {
    let window = &buf[..buf.len().min(MAX_HEAD)];
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let used = match req.parse(window) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
            return Err(Error::HeadTooLarge(MAX_HEAD))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Error::BadRequest(format!(
                "more than {MAX_HEADERS} header fields"
            )))
        }
        Err(e) => return Err(Error::BadRequest(format!("request head: {e}"))),
    };
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err(Error::BadRequest("incomplete request line".into()));
    };
    let mut headers = Vec::with_capacity(req.headers.len());
    let mut content_length = None;
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| Error::BadRequest(format!("header {} is not UTF-8", h.name)))?
            .trim()
            .to_string();
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Error::BadRequest(format!(
                "Transfer-Encoding {value:?} is not supported (send Content-Length)"
            )));
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<usize>()
                .map_err(|_| Error::BadRequest(format!("Content-Length {value:?}")))?;
            if content_length.is_some_and(|c| c != n) {
                return Err(Error::BadRequest("conflicting Content-Length".into()));
            }
            content_length = Some(n);
        }
        headers.push((h.name.to_string(), value));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let asterisk = method == "OPTIONS" && path == "*";
    if !(path.starts_with('/') || asterisk) {
        return Err(Error::BadRequest(format!(
            "request target {target:?} is not an absolute path"
        )));
    }
    Ok(Some((
        Head {
            method: method.to_string(),
            path,
            query,
            minor_version,
            headers,
            content_length: content_length.unwrap_or(0),
        },
        used,
    )))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A WHEP offer's head, its body after.
    const OFFER: &[u8] = b"POST /cam/whep?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";

    #[test]
    fn parses_a_request_with_query_and_body_length() {
        let (head, used) = parse(OFFER).unwrap().unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.path, "/cam/whep");
        assert_eq!(head.query.as_deref(), Some("x=1"));
        assert_eq!(head.content_length, 3);
        assert_eq!(head.header("HOST"), Some("a"));
        assert_eq!(&OFFER[used..], b"abc");
        assert!(head.keep_alive());
    }

    #[test]
    fn partial_then_too_large() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost:").unwrap().is_none());
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD + 10, b'a');
        assert!(matches!(parse(&big), Err(Error::HeadTooLarge(_))));
    }

    #[test]
    fn refuses_garbage_chunked_and_bad_lengths() {
        assert!(matches!(
            parse(b"\x16\x03\x01garbage\r\n\r\n"),
            Err(Error::BadRequest(_))
        ));
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(parse(chunked), Err(Error::BadRequest(_))));
        let bad = b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
        assert!(matches!(parse(bad), Err(Error::BadRequest(_))));
        let two = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert!(matches!(parse(two), Err(Error::BadRequest(_))));
        assert!(matches!(
            parse(b"GET http://x/ HTTP/1.1\r\n\r\n"),
            Err(Error::BadRequest(_))
        ));
    }

    #[test]
    fn http10_closes_unless_asked() {
        let (h, _) = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!h.keep_alive());
        let (h, _) = parse(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.keep_alive());
    }

    proptest! {
        /// Any bytes give a head, a need for more, or an error — never a
        /// panic — and a parsed head never claims more bytes than it saw.
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            if let Ok(Some((_, used))) = parse(&bytes) {
                prop_assert!(used <= bytes.len());
            }
        }

        /// A valid request split anywhere parses the same once whole.
        #[test]
        fn any_prefix_is_partial(cut in 0usize..60) {
            let raw = b"GET /a/b?c=d HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
            let cut = cut.min(raw.len() - 1);
            prop_assert!(parse(&raw[..cut]).unwrap().is_none());
            prop_assert!(parse(raw).unwrap().is_some());
        }
    }
}
