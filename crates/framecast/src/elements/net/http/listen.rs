//! Where an HTTP-serving sink listens, and the server it binds there:
//! what `httpserversink` and `whepsink` both do when they start (one
//! address check, one path check, one `HttpConfig`), so the two cannot
//! drift apart (e.g. one of them forgetting the connection limit).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use framecast_http::{HttpConfig, HttpServer};

use crate::pipeline::Element;
use crate::{Error, Result};

/// A sink's listening settings, the defaults already applied but for the
/// address (loopback when unset).
#[derive(Debug, Clone)]
pub(crate) struct Listen<'a> {
    /// The address to listen on; `None` for 127.0.0.1.
    pub(crate) address: Option<&'a str>,
    /// The port (0: any free one).
    pub(crate) port: u16,
    /// The stream's path, slashes allowed around it.
    pub(crate) path: &'a str,
    /// The Bearer token requests must carry.
    pub(crate) token: Option<String>,
    /// Most HTTP connections at once.
    pub(crate) max_connections: usize,
}

/// What [`open`] bound.
#[derive(Debug)]
pub(crate) struct Listening {
    /// The server (shared with every other mount on its address).
    pub(crate) server: Arc<HttpServer>,
    /// The address it listens on.
    pub(crate) ip: IpAddr,
    /// The path, without slashes.
    pub(crate) path: String,
}

/// An error of `element`, saying `message`.
pub(crate) fn element_error(element: &Element, message: String) -> Error {
    Error::Element {
        element: element.name().to_string(),
        message,
    }
}

/// Checks `listen` and binds (or joins) the server for `element`.
///
/// # Errors
///
/// An address that is not an IP address, a path a URL cannot carry, or a
/// server that cannot be bound.
pub(crate) fn open(element: &Element, listen: Listen<'_>) -> Result<Listening> {
    let bad = |message: String| element_error(element, message);
    let host = listen.address.unwrap_or("127.0.0.1");
    let ip: IpAddr = host
        .parse()
        .map_err(|_| bad(format!("address {host:?} is not an IP address")))?;
    let path = listen.path.trim_matches('/').to_string();
    if path.is_empty() || path.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
        return Err(bad(format!("path {path:?} is not a URL path")));
    }
    let config = HttpConfig {
        token: listen.token,
        max_connections: listen.max_connections,
        ..HttpConfig::default()
    };
    let server = HttpServer::bind(SocketAddr::new(ip, listen.port), config)
        .map_err(|e| bad(e.to_string()))?;
    Ok(Listening { server, ip, path })
}
