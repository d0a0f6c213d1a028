//! `rtsp://[user:pass@]host[:port]/path`: where to connect, what to put in
//! the request line (the URL without credentials, RFC 2326 §3.2), and the
//! credentials for Digest authentication.

use std::net::SocketAddr;

use rtsp_types::Url;

use crate::{Error, Result};

/// RFC 2326 §3.2: the default port of `rtsp://`.
pub const DEFAULT_PORT: u16 = 554;

/// A parsed `rtsp://` URL.
#[derive(Debug, Clone)]
pub struct RtspUrl {
    url: Url,
    user: Option<String>,
    password: Option<String>,
}

impl RtspUrl {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// Not a URL, a scheme other than `rtsp`, or no host.
    pub fn parse(text: &str) -> Result<RtspUrl> {
        let mut url = Url::parse(text.trim()).map_err(|e| Error::Url {
            url: redact(text),
            why: e.to_string(),
        })?;
        if url.scheme() != "rtsp" {
            return Err(Error::Url {
                url: redact(text),
                why: format!(
                    "the scheme is {:?}; expected rtsp://host:port/path",
                    url.scheme()
                ),
            });
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::Url {
                url: redact(text),
                why: "no host".into(),
            });
        }
        let decode = |s: &str| {
            percent_decode(s).map_err(|why| Error::Url {
                url: redact(text),
                why,
            })
        };
        let user = (!url.username().is_empty())
            .then(|| decode(url.username()))
            .transpose()?;
        let password = url.password().map(decode).transpose()?;
        // Neither can fail on an rtsp:// URL with a host.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(RtspUrl {
            url,
            user,
            password,
        })
    }

    /// The URL without credentials: the Request-URI.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host as written (`[::1]` without brackets).
    pub fn host(&self) -> &str {
        self.url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or("")
    }

    /// The port (554 when not given).
    pub fn port(&self) -> u16 {
        self.url.port().unwrap_or(DEFAULT_PORT)
    }

    /// The user name, if the URL has one.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password, if the URL has one.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The server's address (a name is resolved, IPv4 preferred).
    ///
    /// # Errors
    ///
    /// A name that does not resolve.
    pub fn socket_addr(&self) -> Result<SocketAddr> {
        use std::net::ToSocketAddrs;
        let addrs: Vec<SocketAddr> = (self.host(), self.port())
            .to_socket_addrs()
            .map_err(|source| Error::Io {
                context: format!("resolving {}", self.host()),
                source,
            })?
            .collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| Error::Url {
                url: self.url.to_string(),
                why: format!("{} resolves to no address", self.host()),
            })
    }

    /// The URL of a medium whose SDP `a=control` is `control` (RFC 2326
    /// C.1.1: absolute, `*`, or relative to this URL as a directory).
    pub fn join(&self, control: &str) -> Url {
        if control.is_empty() || control == "*" {
            return self.url.clone();
        }
        if let Ok(abs) = Url::parse(control) {
            return abs;
        }
        let mut base = self.url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.join(control).unwrap_or_else(|_| self.url.clone())
    }
}

impl std::fmt::Display for RtspUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.url.fmt(f)
    }
}

/// `text` with any password replaced by `***`, for error messages.
fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(s), Some(at)) if at > s => match text[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &text[..s + 3], &text[at..]),
            None => text.to_string(),
        },
        _ => text.to_string(),
    }
}

/// `%XX` escapes of URL user info, decoded as UTF-8.
fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad %-escape in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "credentials are not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_request_uri() {
        let u = RtspUrl::parse("rtsp://us%40r:p%3Ass@127.0.0.1:8554/live/cam").unwrap();
        assert_eq!(u.user(), Some("us@r"));
        assert_eq!(u.password(), Some("p:ss"));
        assert_eq!(u.url().as_str(), "rtsp://127.0.0.1:8554/live/cam");
        assert_eq!(u.port(), 8554);
        assert_eq!(u.host(), "127.0.0.1");
    }

    #[test]
    fn controls_join_as_a_directory() {
        let u = RtspUrl::parse("rtsp://127.0.0.1:8554/cam").unwrap();
        assert_eq!(
            u.join("streamid=0").as_str(),
            "rtsp://127.0.0.1:8554/cam/streamid=0"
        );
        assert_eq!(u.join("*").as_str(), "rtsp://127.0.0.1:8554/cam");
        assert_eq!(
            u.join("rtsp://127.0.0.1:8554/cam/track1").as_str(),
            "rtsp://127.0.0.1:8554/cam/track1"
        );
        assert_eq!(RtspUrl::parse("rtsp://h/x").unwrap().port(), 554);
    }

    #[test]
    fn bad_urls_say_why_without_the_password() {
        let e = RtspUrl::parse("http://u:secret@h/x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("scheme") && !e.contains("secret"), "{e}");
        assert!(RtspUrl::parse("not a url").is_err());
    }
}
