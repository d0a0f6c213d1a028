//! RTSP 1.0 (RFC 2326) for framecast.
#![forbid(unsafe_code)]

pub mod client;
pub mod error;

pub use error::{Error, Result};
