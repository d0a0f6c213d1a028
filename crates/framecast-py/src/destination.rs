//! Where a `VideoWriter` sends: its filename, read as a URL (or a plain
//! path, for recording). One scheme is one arm of [`Destination::parse`]
//! and one of the writer's `start`.

use std::fmt;
use std::path::PathBuf;

/// A parsed destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// `rtp://host:port[?sdp=FILE]`: RTP/UDP to one client (RTCP on port
    /// + 1), the SDP kept in FILE for the viewer.
    Rtp { to: String, sdp: Option<PathBuf> },
    /// `rtsp://[user:pass@]host:port/path`: published into that server
    /// (ANNOUNCE/RECORD, reconnecting by itself).
    RtspPublish { url: String },
    /// `rtsp://[user:pass@]host:port/path?listen=1`: served by this
    /// process; viewers open the URL (without the query), giving the
    /// credentials when it has them (Digest).
    RtspServe { url: String },
    /// `http://host:port/path[?token=T]`: served to browsers by this
    /// process (a viewer page at `/path/`, MJPEG at `/path/mjpeg`), the
    /// Bearer token required beyond loopback.
    Http {
        addr: String,
        path: String,
        token: Option<String>,
    },
    /// A plain path: the encoded stream recorded into the file, in the
    /// container its extension names.
    File { path: PathBuf, container: Container },
}

/// What a recorded file holds, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// `.h264`, `.264`: an H.264 Annex B byte stream.
    H264,
    /// `.mjpeg`, `.mjpg`: concatenated JPEGs.
    Mjpeg,
    /// `.yuv`, `.raw`: raw I420 frames.
    RawI420,
}

impl Container {
    fn for_path(path: &str) -> Option<Container> {
        let ext = std::path::Path::new(path)
            .extension()?
            .to_str()?
            .to_ascii_lowercase();
        match ext.as_str() {
            "h264" | "264" => Some(Container::H264),
            "mjpeg" | "mjpg" => Some(Container::Mjpeg),
            "yuv" | "raw" => Some(Container::RawI420),
            _ => None,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Rtp { to, .. } => write!(f, "rtp://{to}"),
            Destination::RtspPublish { url } | Destination::RtspServe { url } => f.write_str(url),
            Destination::Http { addr, path, .. } => write!(f, "http://{addr}/{path}"),
            Destination::File { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

impl Destination {
    /// Reads `url`, or says what is wrong and which forms exist.
    pub(crate) fn parse(url: &str) -> Result<Destination, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return match Container::for_path(url) {
                Some(container) => Ok(Destination::File {
                    path: url.into(),
                    container,
                }),
                None => Err(format!(
                    "{url:?}: a file to record must end in .h264/.264 (H.264), \
                     .mjpeg/.mjpg (JPEG) or .yuv/.raw (raw I420)"
                )),
            };
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
            "rtsp" => {
                let base = &url[..url.len() - query.len() - usize::from(!query.is_empty())];
                match query {
                    "" => Ok(Destination::RtspPublish {
                        url: base.to_string(),
                    }),
                    "listen=1" => Ok(Destination::RtspServe {
                        url: base.to_string(),
                    }),
                    other => Err(format!(
                        "{url:?}: unknown option {other:?} (rtsp:// takes ?listen=1 to serve)"
                    )),
                }
            }
            "http" => {
                let (addr, path) = address.split_once('/').unwrap_or((address, ""));
                let path = path.trim_matches('/');
                if addr.is_empty() || path.is_empty() {
                    return Err(format!("{url:?}: expected http://host:port/path"));
                }
                let token = match query.split_once('=') {
                    None if query.is_empty() => None,
                    Some(("token", t)) if !t.is_empty() => Some(t.to_string()),
                    _ => {
                        return Err(format!(
                            "{url:?}: unknown option {query:?} (http:// takes ?token=T)"
                        ))
                    }
                };
                Ok(Destination::Http {
                    addr: addr.to_string(),
                    path: path.to_string(),
                    token,
                })
            }
            "rtsps" | "https" => Err(format!(
                "{url:?}: {scheme}:// is not supported yet (rtp://host:port[?sdp=FILE], \
                 rtsp://host:port/path[?listen=1], http://host:port/path or a file path)"
            )),
            _ => Err(format!(
                "{url:?}: unknown scheme {scheme:?} (framecast writes rtp://host:port[?sdp=FILE], \
                 rtsp://host:port/path[?listen=1], http://host:port/path or a file path)"
            )),
        }
    }
}
