//! What a [`Route`](crate::Route) answers: a status, headers and a body,
//! whole or streamed.
//!
//! The server adds `Content-Length` (whole bodies), `Connection`, `Server`
//! and the CORS headers to every answer; helpers here add `Location`,
//! `ETag` and the usual types.

use std::fmt;

use crate::stream::StreamOut;

/// A long-lived body: it writes parts to the connection until the client
/// goes or it is done (multipart MJPEG, server-sent events). The
/// connection closes after it returns.
pub type StreamBody = Box<dyn FnOnce(&mut StreamOut) + Send>;

/// A response body.
pub enum Body {
    /// Bytes sent whole, with `Content-Length`.
    Bytes(Vec<u8>),
    /// A page shipped inside the binary.
    Static(&'static [u8]),
    /// Streamed until it returns; no `Content-Length`, the connection
    /// closes after.
    Stream(StreamBody),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Bytes(b) => write!(f, "Bytes({})", b.len()),
            Body::Static(b) => write!(f, "Static({})", b.len()),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header fields the route sets.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl Response {
    /// A response with no body.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
        }
    }

    /// A plain-text answer (error messages end in a newline).
    pub fn text(status: u16, text: impl Into<String>) -> Response {
        let mut text = text.into();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Response::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(text.into_bytes())
    }

    /// A JSON answer (200).
    pub fn json(json: impl Into<String>) -> Response {
        Response::new(200)
            .header("Content-Type", "application/json")
            .header("Cache-Control", "no-store")
            .body(json.into().into_bytes())
    }

    /// A page shipped inside the binary (200).
    pub fn html(page: &'static str) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: Body::Static(page.as_bytes()),
        }
    }

    /// A streamed answer (200) of `content_type`.
    pub fn stream(content_type: &str, body: StreamBody) -> Response {
        Response {
            status: 200,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Cache-Control".into(), "no-cache, no-store".into()),
            ],
            body: Body::Stream(body),
        }
    }

    /// `308 Permanent Redirect` to `location` (`/cam` to `/cam/`).
    pub fn redirect(location: &str) -> Response {
        Response::new(308).location(location)
    }

    /// `404 Not Found` naming the path.
    pub fn not_found(path: &str) -> Response {
        Response::text(404, format!("nothing is served at {path}"))
    }

    /// `405 Method Not Allowed` with the methods that are.
    pub fn method_not_allowed(method: &str, allow: &str) -> Response {
        Response::text(
            405,
            format!("{method} is not allowed here (allowed: {allow})"),
        )
        .header("Allow", allow)
    }

    /// The answer to a CORS preflight (`OPTIONS`): 204 allowing `methods`.
    /// The server adds `Access-Control-Allow-Origin` and the allowed and
    /// exposed headers.
    pub fn preflight(methods: &str) -> Response {
        Response::new(204)
            .header("Allow", methods)
            .header("Access-Control-Allow-Methods", methods)
            .header("Access-Control-Max-Age", "600")
    }

    /// Adds a header field.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: Vec<u8>) -> Response {
        self.body = Body::Bytes(body);
        self
    }

    /// Adds `Location` (a WHEP session's resource URL, a redirect target).
    #[must_use]
    pub fn location(self, url: &str) -> Response {
        self.header("Location", url)
    }

    /// Adds a strong `ETag` for `tag` (quoted here: pass it bare).
    #[must_use]
    pub fn etag(self, tag: &str) -> Response {
        self.header("ETag", etag(tag))
    }

    /// The first value of header `name` the route set.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A strong entity tag: `tag` in quotes (RFC 9110 §8.8.3).
pub fn etag(tag: &str) -> String {
    format!("\"{}\"", tag.replace('"', ""))
}

/// Whether an `If-Match` value matches entity tag `tag` (bare): `*`, or
/// any listed tag, weak or strong.
pub fn if_match(header: &str, tag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == tag)
}

/// The reason phrase for `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        428 => "Precondition Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}
