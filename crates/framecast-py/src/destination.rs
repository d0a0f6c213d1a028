//! Where a `VideoWriter` sends: its filename, read as a URL. One scheme
//! is one arm of [`Destination::parse`] and one of the writer's `start`,
//! so the forms still to come (RTSP publish and serve, HTTP serve, local
//! files) are a line each there once the Rust sender has them.

use std::fmt;
use std::path::PathBuf;

/// A parsed destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// `rtp://host:port[?sdp=FILE]`: RTP/UDP to one client (RTCP on port
    /// + 1), the SDP kept in FILE for the viewer.
    Rtp { to: String, sdp: Option<PathBuf> },
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Rtp { to, .. } => write!(f, "rtp://{to}"),
        }
    }
}

impl Destination {
    /// Reads `url`, or says what is wrong and which forms exist.
    pub(crate) fn parse(url: &str) -> Result<Destination, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!(
                "{url:?}: writing to a local file is not supported yet; \
                 give rtp://host:port[?sdp=FILE]"
            ));
        };
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        match scheme.to_ascii_lowercase().as_str() {
            "rtp" => {
                let mut sdp = None;
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("sdp", path)) if !path.is_empty() => sdp = Some(path.into()),
                        _ => {
                            return Err(format!(
                                "{url:?}: unknown option {pair:?} (rtp:// takes ?sdp=FILE)"
                            ))
                        }
                    }
                }
                if address.is_empty() {
                    return Err(format!("{url:?}: expected rtp://host:port"));
                }
                Ok(Destination::Rtp {
                    to: address.to_string(),
                    sdp,
                })
            }
            // Publishing to an RTSP server, serving RTSP (`?listen=1`) and
            // serving HTTP come with the Rust sender's `to("rtsp://...")`
            // and `serve(...)`.
            "rtsp" | "rtsps" | "http" | "https" => Err(format!(
                "{url:?}: {scheme}:// is not supported yet (only rtp://host:port[?sdp=FILE])"
            )),
            _ => Err(format!(
                "{url:?}: unknown scheme {scheme:?} (framecast writes rtp://host:port[?sdp=FILE])"
            )),
        }
    }
}
