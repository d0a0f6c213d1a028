//! The crate's one error type: what went wrong, with the URL, method or
//! limit that makes it findable.

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong speaking RTSP.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An `rtsp://` URL that cannot be used.
    #[error("bad RTSP URL {url:?}: {why}")]
    Url {
        /// The URL as given (credentials removed).
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// A socket call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, and with whom.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The peer's message head (status line and headers) did not end
    /// within the cap: a broken or hostile peer.
    #[error("RTSP message head longer than {limit} bytes")]
    HeadTooLarge {
        /// The cap.
        limit: usize,
    },
    /// A request that is not RTSP 1.0, or a header that does not parse
    /// (the server answers 400 with this text).
    #[error("bad RTSP request: {0}")]
    BadRequest(String),
    /// A message announced a body above the cap.
    #[error("RTSP message body of {length} bytes is above the {limit}-byte cap")]
    BodyTooLarge {
        /// `Content-Length` as announced.
        length: usize,
        /// The cap.
        limit: usize,
    },
    /// Bytes that are not an RTSP message nor an interleaved frame.
    #[error("malformed RTSP message: {what}")]
    Malformed {
        /// What was wrong.
        what: String,
    },
    /// The server answered a request with an error status.
    #[error("{method} {url}: the server answered {code} {reason}")]
    Status {
        /// The request's method.
        method: String,
        /// The request URI.
        url: String,
        /// Status code.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
    /// The server refused the credentials (or none were given).
    #[error("{method} {url}: authentication failed ({why})")]
    Unauthorized {
        /// The request's method.
        method: String,
        /// The request URI.
        url: String,
        /// Wrong credentials, none given, or an unusable challenge.
        why: String,
    },
    /// No answer in time.
    #[error("{what}: no answer within {timeout:?}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: std::time::Duration,
    },
    /// The peer closed the connection.
    #[error("the peer closed the connection ({context})")]
    Closed {
        /// What was being done.
        context: String,
    },
    /// The server's SDP, or its absence, keeps us from setting up.
    #[error("session description: {what}")]
    Sdp {
        /// What is missing or wrong.
        what: String,
    },
}

impl Error {
    /// The server or the network failed, rather than the user's input:
    /// worth another try later (a publisher reconnects on these).
    pub fn is_transient(&self) -> bool {
        !matches!(self, Error::Url { .. } | Error::Unauthorized { .. })
    }
}
