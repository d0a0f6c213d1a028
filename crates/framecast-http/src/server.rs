//! The HTTP server: one listening socket, any number of mounts (path
//! prefixes), one thread per connection.
//!
//! Servers are shared per listening address within a process
//! ([`HttpServer::bind`] returns the running one), so the dashboard, an
//! MJPEG sink and a WHEP sink on one port serve their paths side by side,
//! as `rtspserversink`s share an RTSP port. Connections beyond
//! [`HttpConfig::max_connections`] get `503 Service Unavailable` and are
//! closed.

use framecast_core::accept::{shared_by_addr, url_host, Acceptor};
use framecast_core::sync::MutexExt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::{connection, token, Error, Result, Route};

/// Default most simultaneous connections (a browser opens up to 6 per
/// page; MJPEG and event streams hold theirs).
pub const DEFAULT_MAX_CONNECTIONS: usize = 128;

/// How a new server behaves. A server already running on the address keeps
/// its own.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Most open connections; more are answered 503.
    pub max_connections: usize,
    /// The Bearer token every non-public request must carry. `None` on a
    /// loopback address serves openly; `None` beyond loopback generates
    /// one and prints it (an exposed dashboard is never open by accident).
    pub token: Option<String>,
    /// Longest a request may take to arrive once its first byte has.
    pub request_timeout: Duration,
    /// Longest a kept-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// Largest request body (SDP offers, ICE fragments).
    pub max_body: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            token: None,
            request_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            max_body: 64 * 1024,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) addr: SocketAddr,
    pub(crate) config: HttpConfig,
    mounts: Mutex<Vec<(String, Arc<dyn Route>)>>,
    pub(crate) stop: Arc<AtomicBool>,
}

impl Inner {
    fn new(addr: SocketAddr, config: HttpConfig, stop: Arc<AtomicBool>) -> Inner {
        let mounts = Mutex::default();
        Inner {
            addr,
            config,
            mounts,
            stop,
        }
    }

    /// The route of the longest mount prefix `path` is under, with that
    /// prefix.
    pub(crate) fn route_for(&self, path: &str) -> Option<(String, Arc<dyn Route>)> {
        let path = path.trim_start_matches('/');
        self.mounts
            .locked()
            .iter()
            .filter(|(p, _)| under(path, p))
            .max_by_key(|(p, _)| p.len())
            .map(|(p, r)| (p.clone(), r.clone()))
    }
}

/// Whether `path` (no leading slash) is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
}

/// A listening HTTP server.
pub struct HttpServer {
    inner: Arc<Inner>,
    acceptor: Acceptor,
}

/// The servers of this process, found by address.
static SERVERS: Mutex<Vec<Weak<HttpServer>>> = Mutex::new(Vec::new());

/// Parses `ADDR:PORT` (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`).
///
/// # Errors
///
/// [`Error::BadAddress`] naming the text.
pub fn parse_addr(addr: &str) -> Result<SocketAddr> {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Error::BadAddress(addr.to_string()))
}

impl HttpServer {
    /// The server listening on `addr` in this process, or a new one with
    /// `config`. Port 0 always makes a new one.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the address cannot be bound or the random source
    /// for a generated token fails.
    pub fn bind(addr: SocketAddr, config: HttpConfig) -> Result<Arc<HttpServer>> {
        shared_by_addr(&SERVERS, addr, |s| s.local_addr(), || start(addr, config))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The token requests must carry, if any.
    pub fn token(&self) -> Option<&str> {
        self.inner.config.token.as_deref()
    }

    /// The URL of `path` on this server (`http://127.0.0.1:8080/cam/`),
    /// with the token as `access_token` when one is required, as a browser
    /// opens it.
    pub fn url(&self, path: &str) -> String {
        let (a, host) = (self.inner.addr, url_host(self.inner.addr));
        let path = path.trim_start_matches('/');
        match self.token() {
            Some(t) => format!("http://{host}:{}/{path}?access_token={t}", a.port()),
            None => format!("http://{host}:{}/{path}", a.port()),
        }
    }

    /// Serves `route` under `prefix` (`"cam"`, `"cam/whep"`; `""` for
    /// everything no other mount takes) until the returned handle drops. The
    /// longest matching prefix takes a request.
    ///
    /// # Errors
    ///
    /// [`Error::PathTaken`] when the prefix is already mounted.
    pub fn mount(self: &Arc<Self>, prefix: &str, route: Arc<dyn Route>) -> Result<Mounted> {
        let prefix = prefix.trim_matches('/').to_string();
        let mut mounts = self.inner.mounts.locked();
        if mounts.iter().any(|(p, _)| *p == prefix) {
            return Err(Error::PathTaken {
                prefix,
                addr: self.inner.addr,
            });
        }
        mounts.push((prefix.clone(), route));
        Ok(Mounted {
            server: self.clone(),
            prefix,
        })
    }

    /// The mounted prefixes, sorted.
    pub fn mounts(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .inner
            .mounts
            .locked()
            .iter()
            .map(|(p, _)| p.clone())
            .collect();
        v.sort();
        v
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.acceptor.connections()
    }
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpServer({:?})", self.acceptor)
    }
}

/// A mounted route; dropping it removes the prefix (the server stops when
/// its last handle goes).
#[derive(Debug)]
pub struct Mounted {
    server: Arc<HttpServer>,
    prefix: String,
}

impl Mounted {
    /// The server.
    pub fn server(&self) -> &Arc<HttpServer> {
        &self.server
    }

    /// The prefix, without slashes.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The URL of the mount's root with a trailing slash
    /// (`http://127.0.0.1:8080/cam/`).
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            self.server.url("")
        } else {
            self.server.url(&format!("{}/", self.prefix))
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.server
            .inner
            .mounts
            .locked()
            .retain(|(p, _)| *p != self.prefix);
    }
}

/// Binds a new server (a token generated when it is reachable beyond
/// loopback without one).
fn start(addr: SocketAddr, mut config: HttpConfig) -> Result<Arc<HttpServer>> {
    let ctx = || format!("listening for HTTP on {addr}");
    if config.token.is_none() && !addr.ip().is_loopback() {
        let t = token::generate().map_err(|e| Error::io(ctx(), std::io::Error::other(e)))?;
        config.token = Some(t);
    }
    let max = config.max_connections;
    let shared = move |addr, stop| Arc::new(Inner::new(addr, config, stop));
    let (acceptor, inner) = Acceptor::bind(
        addr,
        "fc-http",
        max,
        shared,
        connection::serve,
        connection::refuse,
    )
    .map_err(|e| Error::io(ctx(), e))?;
    let local = acceptor.local_addr();
    if let (Some(t), false) = (&inner.config.token, local.ip().is_loopback()) {
        eprintln!(
            "framecast: HTTP on {local} is reachable beyond this machine; access token {t} \
             (send `Authorization: Bearer {t}` or open http://HOST:{}/?access_token={t})",
            local.port()
        );
    }
    Ok(Arc::new(HttpServer { inner, acceptor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(under("cam/whep", "cam"));
        assert!(under("cam", "cam"));
        assert!(!under("camera", "cam"));
        assert!(under("anything", ""));
        assert!(under("cam/whep/x", "cam/whep"));
    }

    #[test]
    fn addresses_parse_or_say_which() {
        assert_eq!(parse_addr("127.0.0.1:8080").unwrap().port(), 8080);
        let e = parse_addr("nonsense").unwrap_err().to_string();
        assert!(e.contains("nonsense"), "{e}");
    }
}
