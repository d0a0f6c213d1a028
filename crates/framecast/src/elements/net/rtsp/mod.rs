//! RTSP elements (RFC 2326), over the `framecast-rtsp` crate.

pub mod rtspserversink;
