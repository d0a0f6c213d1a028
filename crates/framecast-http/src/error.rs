//! What can go wrong serving HTTP.

/// An HTTP server error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A request that does not parse (answered with 400).
    #[error("bad HTTP request: {0}")]
    BadRequest(String),
    /// A request head over [`MAX_HEAD`](crate::head::MAX_HEAD) bytes
    /// (answered with 431).
    #[error("HTTP request head over {0} bytes")]
    HeadTooLarge(usize),
    /// A request body over the server's limit (answered with 413).
    #[error("HTTP request body of {0} bytes is over the limit of {1}")]
    BodyTooLarge(usize, usize),
    /// A mount prefix already served on this server.
    #[error("path /{prefix} is already served on {addr}")]
    PathTaken {
        /// The prefix asked for.
        prefix: String,
        /// The server's address.
        addr: std::net::SocketAddr,
    },
    /// An address that does not parse.
    #[error("bad HTTP listen address {0:?} (want ADDR:PORT, e.g. 127.0.0.1:8080)")]
    BadAddress(String),
}

/// A result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
