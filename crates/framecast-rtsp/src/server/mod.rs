//! The RTSP server: one listening socket, any number of mounts (paths),
//! one thread per connection.
//!
//! Servers are shared per listening address within a process
//! ([`Server::bind`] returns the running one), so several
//! `rtspserversink`s on one port serve several paths. Connections beyond
//! `max_clients` get `503 Service Unavailable` to their first request and
//! are closed.

use framecast_core::accept::{shared_by_addr, url_host, Acceptor};
use framecast_core::sync::MutexExt;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, Weak};

pub mod connection;
pub mod frame;
pub mod head;
pub mod mount;
mod rtcp;
pub mod viewer;

pub use frame::{Frame, Run};
pub use mount::{DatagramSender, Datagrams, Mount, MountConfig, MountHooks, SendTo, Transports};
pub use viewer::ViewerInfo;

use crate::{Error, Result};

/// Default most simultaneous connections.
pub const DEFAULT_MAX_CLIENTS: usize = 64;

pub(crate) struct Inner {
    pub(crate) addr: SocketAddr,
    pub(crate) mounts: Mutex<Vec<Arc<Mount>>>,
    pub(crate) stop: Arc<AtomicBool>,
}

impl Inner {
    pub(crate) fn mount_for(&self, path: &str) -> Option<Arc<Mount>> {
        let path = path.trim_matches('/');
        self.mounts
            .locked()
            .iter()
            .filter(|m| {
                let p = m.path();
                path == p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|m| m.path().len())
            .cloned()
    }
}

/// A listening RTSP server.
pub struct Server {
    inner: Arc<Inner>,
    acceptor: Acceptor,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Server({:?})", self.acceptor)
    }
}

static SERVERS: Mutex<Vec<Weak<Server>>> = Mutex::new(Vec::new());

impl Server {
    /// The server listening on `addr` in this process, or a new one
    /// (`max_clients` applies to a new one). Port 0 always makes a new one.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the address cannot be bound.
    pub fn bind(addr: SocketAddr, max_clients: usize) -> Result<Arc<Server>> {
        shared_by_addr(
            &SERVERS,
            addr,
            |s| s.local_addr(),
            || {
                let state = |addr, stop| {
                    Arc::new(Inner {
                        addr,
                        mounts: Mutex::new(Vec::new()),
                        stop,
                    })
                };
                let (acceptor, inner) = Acceptor::bind(
                    addr,
                    "fc-rtsp",
                    max_clients,
                    state,
                    connection::serve,
                    connection::refuse,
                )
                .map_err(|source| Error::Io {
                    context: format!("listening on {addr}"),
                    source,
                })?;
                Ok(Arc::new(Server { inner, acceptor }))
            },
        )
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Adds a mount at `config.path`.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] when the path is taken; [`Error::Io`] when its
    /// UDP ports cannot be bound.
    pub fn mount(self: &Arc<Self>, config: MountConfig, hooks: MountHooks) -> Result<MountHandle> {
        let mut mounts = self.inner.mounts.locked();
        if mounts.iter().any(|m| m.path() == config.path) {
            return Err(Error::BadRequest(format!(
                "path /{} is already served on {}",
                config.path, self.inner.addr
            )));
        }
        let mount = Mount::new(config, hooks, self.inner.addr.ip())?;
        mounts.push(mount.clone());
        Ok(MountHandle {
            server: self.clone(),
            mount,
        })
    }

    /// Open connections.
    pub fn clients(&self) -> usize {
        self.acceptor.connections()
    }
}

/// A mount being served; dropping it removes the path and ends its
/// sessions.
#[derive(Debug)]
pub struct MountHandle {
    server: Arc<Server>,
    mount: Arc<Mount>,
}

impl MountHandle {
    /// The mount.
    pub fn mount(&self) -> &Arc<Mount> {
        &self.mount
    }

    /// The server.
    pub fn server(&self) -> &Arc<Server> {
        &self.server
    }

    /// The URL viewers open (`rtsp://127.0.0.1:8554/cam`).
    pub fn url(&self) -> String {
        let a = self.server.local_addr();
        format!("rtsp://{}:{}/{}", url_host(a), a.port(), self.mount.path())
    }
}

impl Drop for MountHandle {
    fn drop(&mut self) {
        self.server
            .inner
            .mounts
            .locked()
            .retain(|m| !Arc::ptr_eq(m, &self.mount));
        self.mount.shut();
    }
}
