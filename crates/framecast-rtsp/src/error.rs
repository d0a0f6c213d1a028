//! The crate's one error type.

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request that is not RTSP 1.0, or a header that does not parse.
    #[error("bad RTSP request: {0}")]
    BadRequest(String),
    /// A request head longer than the cap.
    #[error("RTSP request head over {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The peer took too long to send a whole request.
    #[error("RTSP request not complete within {0:?}")]
    Timeout(std::time::Duration),
    /// The peer closed the connection.
    #[error("connection closed by the peer")]
    Closed,
    /// A socket call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
