//! Serving over HTTP: `httpserversink` (the viewer page and MJPEG, on
//! framecast-http's shared server; WHEP mounts beside it as `whepsink`).

pub mod httpserversink;
pub(crate) mod listen;
pub(crate) mod settings;
