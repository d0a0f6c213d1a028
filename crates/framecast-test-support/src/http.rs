//! A small HTTP/1.1 client over std::net for the tests of framecast's
//! HTTP server and for the WebDriver client ([`crate::browser`]): one
//! request per connection (`Connection: close`), and raw bytes for the
//! bad-input tests. Every read has a timeout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a test waits for an answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The address of an `http://ADDR/...` URL (a served page's).
pub fn url_addr(url: &str) -> SocketAddr {
    let host = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("{url} is not an http:// URL"));
    host.parse()
        .unwrap_or_else(|e| panic!("{url}: {host} is not an address: {e}"))
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code (0 when the server closed without one).
    pub status: u16,
    /// Header fields as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut fields = self.headers.iter();
        fields.find_map(|(n, v)| n.eq_ignore_ascii_case(name).then_some(v.as_str()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Parses an answer's bytes (head and whole body).
pub fn parse_reply(bytes: &[u8]) -> Reply {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Reply {
            status: 0,
            headers: Vec::new(),
            body: bytes.to_vec(),
        };
    };
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = bytes[end + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends `bytes` and reads everything the server sends until it closes
/// (or [`TIMEOUT`]).
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    // A server may answer and close before taking all of it.
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// Sends one request and reads its answer: to its `Content-Length` when
/// it has one (a server may keep the connection open, as chromedriver
/// does), else to the close.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let _ = s.write_all(&bytes);
    let mut got = Vec::new();
    let mut b = [0u8; 65536];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_reply(&got[..end + 4]);
            if let Some(len) = head
                .header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
            {
                if got.len() >= end + 4 + len {
                    break;
                }
            }
        }
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    parse_reply(&got)
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[], &[])
}

/// A streamed answer being read (multipart MJPEG, server-sent events):
/// the head is read, the body comes through [`Stream::read_some`].
pub struct Stream {
    /// The connection.
    pub socket: TcpStream,
    /// The answer's status and headers (empty body).
    pub head: Reply,
    /// Body bytes read so far and not yet consumed.
    pub pending: Vec<u8>,
}

impl Stream {
    /// Opens `GET path` and reads the answer's head.
    pub fn open(addr: SocketAddr, path: &str) -> Stream {
        let mut socket = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
        socket
            .set_read_timeout(Some(TIMEOUT))
            .expect("read timeout");
        write!(socket, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("send");
        let mut got = Vec::new();
        let mut b = [0u8; 4096];
        let end = loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let n = socket.read(&mut b).expect("read the answer's head");
            assert!(
                n > 0,
                "closed before the head: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&b[..n]);
        };
        let mut head = parse_reply(&got[..end + 4]);
        head.body.clear();
        Stream {
            socket,
            head,
            pending: got[end + 4..].to_vec(),
        }
    }

    /// Reads more body bytes into `pending`; `false` when the server
    /// closed.
    pub fn read_some(&mut self) -> bool {
        let mut b = [0u8; 65536];
        match self.socket.read(&mut b) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.pending.extend_from_slice(&b[..n]);
                true
            }
        }
    }

    /// Reads until `pending` holds `count` occurrences of `marker` (or the
    /// stream ends, or [`TIMEOUT`]); returns how many it holds.
    pub fn read_until_count(&mut self, marker: &[u8], count: usize) -> usize {
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            let n = self
                .pending
                .windows(marker.len())
                .filter(|w| *w == marker)
                .count();
            if n >= count || std::time::Instant::now() > deadline || !self.read_some() {
                return n;
            }
        }
    }
}
