//! The listening half the RTSP and HTTP servers share: one accept thread
//! per listening socket, one thread per connection up to a limit, a few
//! short threads answering those over it (RTSP and HTTP both say `503`),
//! the rest closed at once; and the per-process registry that lets several
//! mounts share one address.

use crate::sync::MutexExt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// Connections refused with an answer at once (each takes a short thread);
/// beyond it, a connection over the limit is closed without one.
pub const MAX_REFUSING: usize = 16;

type ServeFn = Arc<dyn Fn(TcpStream, SocketAddr) + Send + Sync>;
type RefuseFn = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// A running accept loop; dropping it stops the loop (connections already
/// served end when they see [`Acceptor::stop_flag`]).
pub struct Acceptor {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Acceptor({}, {} open)", self.addr, self.connections())
    }
}

#[derive(Default)]
struct Counts {
    open: AtomicUsize,
    refusing: AtomicUsize,
}

/// Decrements a count however the thread holding it ends.
struct Held<'a>(&'a AtomicUsize);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Acceptor {
    /// Binds `addr` and accepts on a thread named `name`. `state` makes the
    /// server's shared state from the bound address and the stop flag
    /// (which connection threads watch; the acceptor sets it when
    /// dropped); up to `max` connections at once go to `serve` with it,
    /// more to `refuse`.
    ///
    /// # Errors
    ///
    /// The OS error when the address cannot be bound or the thread started.
    pub fn bind<S: Send + Sync + 'static>(
        addr: SocketAddr,
        name: &str,
        max: usize,
        state: impl FnOnce(SocketAddr, Arc<AtomicBool>) -> Arc<S>,
        serve: fn(&Arc<S>, TcpStream, SocketAddr),
        refuse: fn(TcpStream),
    ) -> std::io::Result<(Acceptor, Arc<S>)> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = state(local, stop.clone());
        let serve: ServeFn = {
            let shared = shared.clone();
            Arc::new(move |stream, peer| serve(&shared, stream, peer))
        };
        let counts = Arc::new(Counts::default());
        let thread = {
            let (stop, counts) = (stop.clone(), counts.clone());
            let conn_name = format!("{name}-conn");
            let refuse: RefuseFn = Arc::new(refuse);
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    accept_loop(
                        &listener,
                        max.max(1),
                        &stop,
                        &counts,
                        &conn_name,
                        &serve,
                        &refuse,
                    );
                })?
        };
        let acceptor = Acceptor {
            addr: local,
            stop,
            counts,
            thread: Mutex::new(Some(thread)),
        };
        Ok((acceptor, shared))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections being served now.
    pub fn connections(&self) -> usize {
        self.counts.open.load(Ordering::Relaxed)
    }

    /// The flag set when the acceptor stops.
    pub fn stop_flag(&self) -> &Arc<AtomicBool> {
        &self.stop
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.locked().take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    max: usize,
    stop: &AtomicBool,
    counts: &Arc<Counts>,
    name: &str,
    serve: &ServeFn,
    refuse: &RefuseFn,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((stream, peer)) = listener.accept() else {
            // WouldBlock (nothing pending) or a transient error (EMFILE):
            // wait a little either way.
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let over = counts.open.load(Ordering::Relaxed) >= max;
        let (count, limit) = if over {
            (&counts.refusing, MAX_REFUSING)
        } else {
            (&counts.open, usize::MAX)
        };
        if count.fetch_add(1, Ordering::Relaxed) >= limit {
            count.fetch_sub(1, Ordering::Relaxed);
            continue;
        }
        let (counts, serve, refuse) = (counts.clone(), serve.clone(), refuse.clone());
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let count = if over { &counts.refusing } else { &counts.open };
                let _held = Held(count);
                if over {
                    refuse(stream);
                } else {
                    serve(stream, peer);
                }
            });
        if spawned.is_err() {
            // The closure (and its stream) dropped without running.
            count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// The server in `registry` listening on `addr`, or a new one from `make`
/// (added to it). Port 0 always makes a new one. Dead entries are pruned.
///
/// # Errors
///
/// What `make` fails with.
pub fn shared_by_addr<T, E>(
    registry: &Mutex<Vec<Weak<T>>>,
    addr: SocketAddr,
    addr_of: impl Fn(&T) -> SocketAddr,
    make: impl FnOnce() -> Result<Arc<T>, E>,
) -> Result<Arc<T>, E> {
    let mut servers = registry.locked();
    servers.retain(|w| w.strong_count() > 0);
    if addr.port() != 0 {
        if let Some(s) = servers
            .iter()
            .filter_map(Weak::upgrade)
            .find(|s| addr_of(s) == addr)
        {
            return Ok(s);
        }
    }
    let server = make()?;
    servers.push(Arc::downgrade(&server));
    Ok(server)
}

/// The host part of a URL for a server bound to `addr`: `127.0.0.1` for
/// an unspecified address, `[v6]` bracketed.
pub fn url_host(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn connections_over_the_limit_are_refused_and_counted_out() {
        fn serve(_: &Arc<()>, mut s: TcpStream, _: SocketAddr) {
            let _ = s.write_all(b"served");
            let mut b = [0u8; 1];
            let _ = s.read(&mut b);
        }
        fn refuse(mut s: TcpStream) {
            let _ = s.write_all(b"refused");
        }
        let any = "127.0.0.1:0".parse().unwrap();
        let (a, _) =
            Acceptor::bind(any, "t-accept", 1, |_, _| Arc::new(()), serve, refuse).unwrap();
        let read = |s: &mut TcpStream| {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut b = [0u8; 16];
            let n = s.read(&mut b).unwrap();
            String::from_utf8_lossy(&b[..n]).into_owned()
        };
        let mut first = TcpStream::connect(a.local_addr()).unwrap();
        assert_eq!(read(&mut first), "served");
        let mut second = TcpStream::connect(a.local_addr()).unwrap();
        assert_eq!(read(&mut second), "refused");
        assert_eq!(a.connections(), 1);
        drop(first);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while a.connections() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(a.connections(), 0);
        assert_eq!(url_host("0.0.0.0:1".parse().unwrap()), "127.0.0.1");
        assert_eq!(url_host("[::1]:1".parse().unwrap()), "[::1]");
    }
}
