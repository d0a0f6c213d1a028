//! The crate's one error type.

use std::fmt;

/// What went wrong, to match on (and to pick an HTTP status by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The peer sent something that does not parse or cannot be answered
    /// (a malformed SDP offer, no H.264 the browser and we share).
    BadRequest,
    /// No session has that id (it ended, or never existed).
    NoSession,
    /// A body larger than the request takes.
    TooLarge,
    /// The session limit is reached.
    TooManySessions,
    /// The request asks for something this server does not do (an ICE
    /// restart).
    Unsupported,
    /// A socket or thread could not be set up.
    Io,
}

/// An error of the WebRTC layer, with what and where in its message.
#[derive(Debug, Clone)]
pub struct WebrtcError {
    kind: ErrorKind,
    message: String,
}

impl WebrtcError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WebrtcError {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for WebrtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WebrtcError {}
