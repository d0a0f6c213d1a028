//! Flow results: what a push returns.

use std::fmt;

/// A successful push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowSuccess {
    /// The buffer was taken.
    Ok,
}

/// Why a push failed (`GstFlowReturn`'s error values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowError {
    /// The pad is not linked.
    NotLinked,
    /// The pad is flushing (state change or seek): stop pushing.
    Flushing,
    /// Downstream reached end-of-stream and wants no more data.
    Eos,
    /// Caps were not negotiated (or the buffer does not match them).
    NotNegotiated,
    /// A fatal error; the element posted details on the bus.
    Error,
    /// The operation is not supported.
    NotSupported,
}

impl FlowError {
    /// GStreamer's numeric `GstFlowReturn` for this error.
    pub fn as_gst_flow_return(self) -> i32 {
        match self {
            FlowError::NotLinked => -1,
            FlowError::Flushing => -2,
            FlowError::Eos => -3,
            FlowError::NotNegotiated => -4,
            FlowError::Error => -5,
            FlowError::NotSupported => -6,
        }
    }

    /// What a failed [`BufferPool::acquire`](framecast_core::BufferPool::acquire)
    /// means for the stream: `Flushing` while the pool flushes (or is
    /// inactive), so the streaming thread stops quietly; an error otherwise.
    pub fn from_acquire(error: framecast_core::Error) -> FlowError {
        match error {
            framecast_core::Error::Flushing => FlowError::Flushing,
            _ => FlowError::Error,
        }
    }

    /// Whether a source should stop its loop on this result and post an
    /// error (GStreamer's `GST_FLOW_IS_FATAL` plus not-linked).
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            FlowError::NotLinked
                | FlowError::NotNegotiated
                | FlowError::Error
                | FlowError::NotSupported
        )
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlowError::NotLinked => "not-linked",
            FlowError::Flushing => "flushing",
            FlowError::Eos => "eos",
            FlowError::NotNegotiated => "not-negotiated",
            FlowError::Error => "error",
            FlowError::NotSupported => "not-supported",
        })
    }
}

impl std::error::Error for FlowError {}

/// The result of pushing a buffer or processing one.
pub type FlowResult = Result<FlowSuccess, FlowError>;
