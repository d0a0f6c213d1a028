//! The RTSP server: one listening socket, any number of mounts (paths),
//! one thread per connection.
//!
//! Servers are shared per listening address within a process
//! ([`Server::bind`] returns the running one), so several
//! `rtspserversink`s on one port serve several paths. Connections beyond
//! `max_clients` get `503 Service Unavailable` to their first request and
//! are closed.

use framecast_core::sync::MutexExt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

pub mod connection;
pub mod frame;
pub mod head;
pub mod mount;
pub mod viewer;

pub use frame::{Frame, Run};
pub use mount::{DatagramSender, Datagrams, Mount, MountConfig, MountHooks, SendTo, Transports};
pub use viewer::ViewerInfo;

use crate::{Error, Result};

/// Default most simultaneous connections.
pub const DEFAULT_MAX_CLIENTS: usize = 64;

/// Connections refused with 503 at once (each takes a short thread);
/// beyond it, a connection is closed without an answer.
const MAX_REFUSING: usize = 16;

pub(crate) struct Inner {
    pub(crate) addr: SocketAddr,
    pub(crate) max_clients: usize,
    pub(crate) mounts: Mutex<Vec<Arc<Mount>>>,
    pub(crate) clients: AtomicUsize,
    refusing: AtomicUsize,
    pub(crate) stop: AtomicBool,
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
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
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
        let mut servers = SERVERS.locked();
        servers.retain(|w| w.strong_count() > 0);
        if addr.port() != 0 {
            if let Some(s) = servers
                .iter()
                .filter_map(Weak::upgrade)
                .find(|s| s.inner.addr == addr)
            {
                return Ok(s);
            }
        }
        let io = |context: String, source| Error::Io { context, source };
        let listener =
            TcpListener::bind(addr).map_err(|e| io(format!("listening on {addr}"), e))?;
        let local = listener
            .local_addr()
            .map_err(|e| io(format!("listening on {addr}"), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| io(format!("listening on {addr}"), e))?;
        let inner = Arc::new(Inner {
            addr: local,
            max_clients: max_clients.max(1),
            mounts: Mutex::new(Vec::new()),
            clients: AtomicUsize::new(0),
            refusing: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let accept = {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name("fc-rtsp-accept".into())
                .spawn(move || accept_loop(&listener, &inner))
                .map_err(|e| io("starting the RTSP accept thread".into(), e))?
        };
        let server = Arc::new(Server {
            inner,
            accept: Mutex::new(Some(accept)),
        });
        servers.push(Arc::downgrade(&server));
        Ok(server)
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
        self.inner.clients.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.locked().take() {
            let _ = t.join();
        }
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
        let host = if a.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else if a.is_ipv6() {
            format!("[{}]", a.ip())
        } else {
            a.ip().to_string()
        };
        format!("rtsp://{host}:{}/{}", a.port(), self.mount.path())
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

fn accept_loop(listener: &TcpListener, inner: &Arc<Inner>) {
    while !inner.stop.load(Ordering::Relaxed) {
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let _ = stream.set_nonblocking(false);
        if inner.clients.load(Ordering::Relaxed) >= inner.max_clients {
            refuse(inner, stream);
            continue;
        }
        inner.clients.fetch_add(1, Ordering::Relaxed);
        let conn_inner = inner.clone();
        let spawned = std::thread::Builder::new()
            .name("fc-rtsp-conn".into())
            .spawn(move || {
                connection::serve(&conn_inner, stream, peer);
                conn_inner.clients.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            inner.clients.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Answers a connection over the limit with 503 to its first request.
fn refuse(inner: &Arc<Inner>, stream: TcpStream) {
    if inner.refusing.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSING {
        inner.refusing.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let inner = inner.clone();
    let spawned = std::thread::Builder::new()
        .name("fc-rtsp-refuse".into())
        .spawn({
            let inner = inner.clone();
            move || {
                connection::refuse(stream);
                inner.refusing.fetch_sub(1, Ordering::Relaxed);
            }
        });
    if spawned.is_err() {
        inner.refusing.fetch_sub(1, Ordering::Relaxed);
    }
}
