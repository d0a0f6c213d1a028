//! RTSP 1.0 (RFC 2326) for framecast.
//!
//! [`server`] serves one packetized stream per path to any number of
//! viewers (UDP unicast, TCP interleaved, UDP multicast): the stream is
//! packetized once and fanned out. [`digest`] is the server side of RFC
//! 2617 Digest authentication. [`client`] publishes into a server
//! (ANNOUNCE/RECORD, with reconnect) and plays from one (DESCRIBE/PLAY).
//! Messages are parsed and written by [`rtsp_types`]; the session layer
//! is ours.

#![forbid(unsafe_code)]

pub mod client;
pub mod digest;
pub mod error;
pub mod server;

pub use error::{Error, Result};
