//! A request as a [`Route`](crate::Route) sees it.

use std::net::SocketAddr;

use crate::head::Head;

/// One HTTP request, head and body, with where it came from and which
/// mount took it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The parsed head.
    pub head: Head,
    /// The body (`Content-Length` bytes; empty when none).
    pub body: Vec<u8>,
    /// The client's address.
    pub peer: SocketAddr,
    /// The server's address as the client reached it.
    pub local: SocketAddr,
    /// The prefix of the mount that took it, without slashes (`"cam"`;
    /// `""` for the root mount).
    pub prefix: String,
}

impl Request {
    /// `GET`, `POST`, ...
    pub fn method(&self) -> &str {
        &self.head.method
    }

    /// The full path (`/cam/whep`).
    pub fn path(&self) -> &str {
        &self.head.path
    }

    /// The path under the mount's prefix, without leading or trailing
    /// slash: `/cam/whep` on mount `cam` is `"whep"`, `/cam/` is `""`.
    pub fn subpath(&self) -> &str {
        let p = self.head.path.trim_start_matches('/');
        let rest = p.strip_prefix(self.prefix.as_str()).unwrap_or(p);
        rest.trim_matches('/')
    }

    /// Whether the path ends with `/` (`/cam/` is the viewer page, `/cam`
    /// is redirected to it).
    pub fn trailing_slash(&self) -> bool {
        self.head.path.ends_with('/')
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The value of query parameter `name` (not percent-decoded), if any.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.head
            .query
            .as_deref()?
            .split('&')
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// The body's media type (`Content-Type` without parameters,
    /// lower-cased), if given.
    pub fn content_type(&self) -> Option<String> {
        let ct = self.header("content-type")?;
        Some(
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase(),
        )
    }

    /// The Bearer token sent in `Authorization`, or in the `access_token`
    /// query parameter (RFC 6750 §2.3: the form a browser page uses for
    /// `<img>` and `EventSource`, which cannot set headers).
    pub fn bearer(&self) -> Option<&str> {
        if let Some(auth) = self.header("authorization") {
            let (scheme, token) = auth.split_once(' ')?;
            return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
        }
        self.query_param("access_token")
    }
}
