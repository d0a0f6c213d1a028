//! Free UDP ports on 127.0.0.1 for network tests and benchmarks (bound,
//! read, released: free right now, which is as good as it gets without
//! handing the socket over).

use std::io;
use std::net::UdpSocket;

/// A UDP port on 127.0.0.1 that nobody listens on right now.
pub fn free_port() -> u16 {
    try_free_port().expect("bind 127.0.0.1:0")
}

/// [`free_port`], or why there is none.
pub fn try_free_port() -> io::Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A UDP port on 127.0.0.1 that is free, with the next one free too (RTP
/// and RTCP). Both are released before it returns.
pub fn free_port_pair() -> u16 {
    try_free_port_pair().expect("a free pair of UDP ports on 127.0.0.1")
}

/// [`free_port_pair`], or why there is none.
pub fn try_free_port_pair() -> io::Result<u16> {
    for _ in 0..64 {
        let port = try_free_port()?;
        if port < u16::MAX && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no free pair of UDP ports on 127.0.0.1"))
}

/// A TCP port on 127.0.0.1 that nobody listens on right now (RTSP).
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0 (TCP)")
}
