//! Free UDP ports on 127.0.0.1 for network tests. Include with
//! `#[path = ".../support/ports.rs"] mod ports;` (the CLI's tests include
//! it from here too).

#![allow(dead_code)]

use std::net::UdpSocket;

/// A UDP port on 127.0.0.1 that is free, with the next one free too (RTP
/// and RTCP). Both are released before it returns.
pub fn free_port_pair() -> u16 {
    for _ in 0..64 {
        let a = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = a.local_addr().expect("addr").port();
        if port < u16::MAX && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}
