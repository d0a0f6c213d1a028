//! The tracing layer's error type.
//!
//! Tracing has its own error rather than a variant of [`crate::Error`]
//! because its failures are about configuration (a bad `FRAMECAST_TRACERS`
//! spec, an output file that cannot be opened) or about misuse of the
//! run-time API (a checkpoint before tracking started), never about media.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong when configuring or driving tracers.
///
/// Match on [`TraceError::kind`] for the category; the `Display` text is for
/// people and names the offending part of the spec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// A `FRAMECAST_TRACERS` spec (or a string given to
    /// [`start`](super::start)) could not be understood.
    #[error("bad tracer spec {spec:?}: at {part:?} (byte {position}): {reason}")]
    Spec {
        /// The whole spec.
        spec: String,
        /// The part that was rejected (an entry, a parameter, a value).
        part: String,
        /// Byte offset of `part` inside `spec`.
        position: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The leaks tracer's `output=` file could not be created.
    #[error("tracer {tracer}: cannot create output file {}: {source}", path.display())]
    Output {
        /// Tracer instance name.
        tracer: String,
        /// The path from `output=`.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `activity_checkpoint` (or `activity_log_checkpoint`) was called while
    /// activity tracking was off. GStreamer logs criticals and returns empty
    /// lists here; framecast says so.
    #[error("activity tracking was not started (call activity_start_tracking first)")]
    NotTracking,
    /// `activity_start_tracking` was called while tracking was already on.
    #[error("activity tracking is already started")]
    AlreadyTracking,
    /// A tracer factory with this name is already registered.
    #[error("a tracer named {0:?} is already registered")]
    AlreadyRegistered(String),
}

/// The category of a [`TraceError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceErrorKind {
    /// A spec or parameter was rejected.
    InvalidSpec,
    /// An output file could not be written.
    Io,
    /// The activity-tracking API was used out of order.
    State,
    /// A registry clash.
    Registry,
}

impl TraceError {
    /// The category of this error.
    pub fn kind(&self) -> TraceErrorKind {
        match self {
            TraceError::Spec { .. } => TraceErrorKind::InvalidSpec,
            TraceError::Output { .. } => TraceErrorKind::Io,
            TraceError::NotTracking | TraceError::AlreadyTracking => TraceErrorKind::State,
            TraceError::AlreadyRegistered(_) => TraceErrorKind::Registry,
        }
    }
}

impl fmt::Display for TraceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
