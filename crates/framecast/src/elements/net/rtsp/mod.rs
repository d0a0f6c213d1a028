//! RTSP elements (RFC 2326), over the `framecast-rtsp` crate: a server
//! sink many viewers open, a client sink that publishes into a server,
//! and a source that plays from one.

pub mod rtspclientsink;
pub mod rtspserversink;
pub mod rtspsrc;
