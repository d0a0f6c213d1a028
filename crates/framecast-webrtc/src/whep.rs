//! WHEP (RFC 9725's WHIP resource model, for playback): the HTTP requests
//! on `/<path>/whep` and `/<path>/whep/<session>` mapped to responses,
//! independent of the server that carries them.
//!
//! | request | answer |
//! |---|---|
//! | `POST /<path>/whep`, `application/sdp` offer | `201 Created`, the SDP answer, `Location: /<path>/whep/<id>`, `ETag`, `Accept-Patch` |
//! | `PATCH /<path>/whep/<id>`, `application/trickle-ice-sdpfrag` | `204 No Content` (candidates added); `412` when `If-Match` is not the `ETag`; `422` for an ICE restart (RFC 9725 section 4.3.2: one of trickle and restart is supported) |
//! | `DELETE /<path>/whep/<id>` | `200 OK`, the session ends |
//! | `OPTIONS` either | `204 No Content` with `Accept-Post` and `Accept-Patch` |
//! | `POST /<path>/whep/<id>/latency`, `arrival` or `capture` and milliseconds as text (framecast's, not WHEP's) | `204 No Content`: the viewer page's samples recorded ([`latency_report`](crate::latency_report)); `400` naming a bad sample, `413` past 4 KiB, `404` for no such session |
//!
//! CORS headers are the carrying server's to add (framecast-http adds them
//! to every answer, exposing `Location`, `ETag` and `Accept-Patch`), so a
//! page of another origin may play.
//!
//! The Bearer token (RFC 9725 section 4.5) is the carrying server's to
//! check too, before a request gets here: framecast-http checks one
//! token for every route it serves (WHEP, the dashboard, MJPEG), so it is
//! checked in one place. Bad offers get `400` naming what is wrong, a full
//! server `503`.

use std::sync::Arc;

use crate::trickle::Fragment;
use crate::{ErrorKind, WebrtcError, WebrtcStream};

/// Largest body taken (an offer is a few kilobytes).
pub const MAX_BODY: usize = 64 * 1024;

/// A WHEP request, as the HTTP server parsed it.
#[derive(Debug, Clone, Copy)]
pub struct WhepRequest<'a> {
    /// `POST`, `PATCH`, `DELETE`, `OPTIONS`.
    pub method: &'a str,
    /// The session id: the path segment after `whep/` (`None` on the
    /// endpoint itself).
    pub session: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `If-Match` header.
    pub if_match: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// The answer to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhepResponse {
    /// The status code.
    pub status: u16,
    /// Headers beyond `Content-Length` (the server adds that).
    pub headers: Vec<(&'static str, String)>,
    /// The body (`text/plain` explanations for errors).
    pub body: Vec<u8>,
}

impl WhepResponse {
    fn new(status: u16) -> Self {
        WhepResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn error(status: u16, why: &str) -> Self {
        let mut r = WhepResponse::new(status);
        r.headers.push(("Content-Type", "text/plain".into()));
        r.body = format!("{why}\n").into_bytes();
        r
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of a header this response carries.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The WHEP endpoint of one stream.
#[derive(Debug, Clone)]
pub struct Whep {
    stream: Arc<WebrtcStream>,
    /// The endpoint's path (`/cam/whep`); sessions are under it.
    endpoint: String,
}

/// The entity tag of a session (RFC 9725 section 4.3.1: it names the ICE
/// session; no restart, so one per session).
fn etag(id: &str) -> String {
    format!("\"{id}\"")
}

/// Whether a `Content-Type` is `want` (parameters and case aside).
fn is_type(content_type: Option<&str>, want: &str) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case(want))
}

impl Whep {
    /// The endpoint at `endpoint` (its path, e.g. `/cam/whep`) serving
    /// `stream`.
    pub fn new(stream: Arc<WebrtcStream>, endpoint: &str) -> Self {
        Whep {
            stream,
            endpoint: format!("/{}", endpoint.trim_matches('/')),
        }
    }

    /// The stream served.
    pub fn stream(&self) -> &Arc<WebrtcStream> {
        &self.stream
    }

    /// Answers one request.
    pub fn handle(&self, req: &WhepRequest<'_>) -> WhepResponse {
        if req.method.eq_ignore_ascii_case("OPTIONS") {
            return WhepResponse::new(204)
                .header("Accept-Post", "application/sdp")
                .header("Accept-Patch", "application/trickle-ice-sdpfrag");
        }
        if req.body.len() > MAX_BODY {
            return WhepResponse::error(413, &format!("the body exceeds {MAX_BODY} bytes"));
        }
        let Ok(body) = std::str::from_utf8(req.body) else {
            return WhepResponse::error(400, "the body is not UTF-8 text");
        };
        // Not WHEP's: the viewer page's own latency reports, under its
        // session (see `latency_report`).
        if let Some(id) = req.session.and_then(|s| s.strip_suffix("/latency")) {
            return match req.method {
                "POST" => {
                    let result = crate::latency_report::parse(req.body)
                        .and_then(|report| self.stream.report_latency(id, &report));
                    match result {
                        Ok(()) => WhepResponse::new(204),
                        Err(e) => failure(&e),
                    }
                }
                _ => WhepResponse::error(405, "a session's latency report takes POST")
                    .header("Allow", "POST"),
            };
        }
        match (req.method, req.session) {
            ("POST", None) => self.post(req, body),
            ("PATCH", Some(id)) => self.patch(req, id, body),
            ("DELETE", Some(id)) => match self.stream.close(id) {
                Ok(()) => WhepResponse::new(200),
                Err(e) => failure(&e),
            },
            (_, None) => WhepResponse::error(405, "the WHEP endpoint takes POST and OPTIONS")
                .header("Allow", "POST, OPTIONS"),
            (_, Some(_)) => {
                WhepResponse::error(405, "a WHEP session takes PATCH, DELETE and OPTIONS")
                    .header("Allow", "PATCH, DELETE, OPTIONS")
            }
        }
    }

    fn post(&self, req: &WhepRequest<'_>, body: &str) -> WhepResponse {
        if !is_type(req.content_type, "application/sdp") {
            return WhepResponse::error(415, "the offer must be Content-Type: application/sdp")
                .header("Accept-Post", "application/sdp");
        }
        match self.stream.offer(body) {
            Ok(answer) => {
                let mut r = WhepResponse::new(201)
                    .header("Content-Type", "application/sdp")
                    .header("Location", format!("{}/{}", self.endpoint, answer.id))
                    .header("ETag", etag(&answer.id))
                    .header("Accept-Patch", "application/trickle-ice-sdpfrag");
                r.body = answer.sdp.into_bytes();
                r
            }
            Err(e) => failure(&e),
        }
    }

    fn patch(&self, req: &WhepRequest<'_>, id: &str, body: &str) -> WhepResponse {
        if !self.stream.has_session(id) {
            return WhepResponse::error(404, &format!("no WHEP session {id:?}"));
        }
        if !is_type(req.content_type, "application/trickle-ice-sdpfrag") {
            return WhepResponse::error(
                415,
                "a PATCH must be Content-Type: application/trickle-ice-sdpfrag",
            )
            .header("Accept-Patch", "application/trickle-ice-sdpfrag");
        }
        if let Some(m) = req.if_match.map(str::trim) {
            if m != "*" && m != etag(id) {
                return WhepResponse::error(412, "If-Match is not the session's ETag");
            }
        }
        let result = Fragment::parse(body).and_then(|f| self.stream.trickle(id, &f));
        match result {
            Ok(()) => WhepResponse::new(204),
            Err(e) => failure(&e),
        }
    }
}

/// The status for an error of the WebRTC layer.
fn failure(e: &WebrtcError) -> WhepResponse {
    let status = match e.kind() {
        ErrorKind::BadRequest => 400,
        ErrorKind::NoSession => 404,
        ErrorKind::Unsupported => 422,
        ErrorKind::TooManySessions => 503,
        ErrorKind::TooLarge => 413,
        ErrorKind::Io => 500,
    };
    let r = WhepResponse::error(status, &e.to_string());
    if status == 503 {
        r.header("Retry-After", "5")
    } else {
        r
    }
}
