//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong in framecast-core, with the context needed to
/// find the cause (sizes, offsets, indices, names).
///
/// Match on [`Error::kind`] for the category; the `Display` text is for people.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `AllocationParams::align` is not of the form `2^n - 1`.
    #[error("invalid alignment mask {align:#x}: align + 1 must be a power of two")]
    InvalidAlignment {
        /// The rejected mask.
        align: usize,
    },
    /// The allocator could not provide the memory.
    #[error("allocating {size} bytes from {allocator} failed: {reason}")]
    AllocationFailed {
        /// Requested payload size.
        size: usize,
        /// Allocator name (`mem_type`).
        allocator: String,
        /// What the allocator reported.
        reason: String,
    },
    /// A region (offset, size) does not fit in the space available.
    #[error("{what}: offset {offset} + size {size} is outside 0..{limit}")]
    OutOfBounds {
        /// The operation that was refused.
        what: &'static str,
        /// Requested start (may be negative for a resize).
        offset: i128,
        /// Requested size.
        size: usize,
        /// The bound that was exceeded (maxsize, buffer size, memory count).
        limit: usize,
    },
    /// Write access to memory flagged READONLY.
    #[error("memory is read-only")]
    ReadOnly,
    /// Write access to something that is shared (another reference, or a
    /// share of it, is alive).
    #[error("{0} is not writable: it is shared")]
    NotWritable(&'static str),
    /// The memory has the NOT_MAPPABLE flag.
    #[error("memory is not mappable")]
    NotMappable,
    /// `share` on memory flagged NO_SHARE.
    #[error("memory has NO_SHARE set and cannot be shared")]
    NoShare,
    /// No allocator or meta registered under that name.
    #[error("no {what} registered under the name {name:?}")]
    NotRegistered {
        /// "allocator" or "meta API".
        what: &'static str,
        /// The name looked up.
        name: String,
    },
    /// A registration clashed with an existing name.
    #[error("a {what} named {name:?} is already registered")]
    AlreadyRegistered {
        /// "allocator" or "meta API".
        what: &'static str,
        /// The clashing name.
        name: String,
    },
    /// A LOCKED meta cannot be removed.
    #[error("meta {api} is LOCKED and cannot be removed")]
    MetaLocked {
        /// The meta API name.
        api: &'static str,
    },
    /// Something else is wrong with a meta (e.g. inconsistent strides).
    #[error("meta {api}: {reason}")]
    InvalidMeta {
        /// The meta API name.
        api: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A video layout request that cannot be satisfied.
    #[error("video layout: {0}")]
    InvalidVideoInfo(String),
    /// A pool configuration was rejected; `suggested` holds one that would
    /// be accepted, where one can be computed.
    #[error("buffer pool config rejected: {reason}")]
    PoolConfigRejected {
        /// Why.
        reason: String,
        /// A corrected configuration, when the pool can compute one.
        suggested: Option<Box<crate::buffer::PoolConfig>>,
    },
    /// A pool with outstanding or queued buffers cannot do this while active.
    #[error("buffer pool is active: {0}")]
    PoolActive(&'static str),
    /// `set_active(true)` on a pool that was never configured.
    #[error("buffer pool is not configured")]
    PoolNotConfigured,
    /// The pool is inactive or flushing (GStreamer's `GST_FLOW_FLUSHING`).
    #[error("buffer pool is flushing or inactive")]
    Flushing,
    /// `DONT_WAIT` acquire with every buffer out (GStreamer returns EOS here).
    #[error("buffer pool would block: all {max} buffers are outstanding")]
    WouldBlock {
        /// The pool's `max`.
        max: u32,
    },
    /// An allocation query failed (a branch refused it, or nothing fits).
    #[error("allocation query: {0}")]
    Allocation(String),
    /// A tracer spec (`FRAMECAST_TRACERS`, or a string given to
    /// `trace::start`) could not be understood.
    #[error("bad tracer spec {spec:?}: at {part:?} (byte {position}): {reason}")]
    TracerSpec {
        /// The whole spec.
        spec: String,
        /// The part that was rejected (an entry, a parameter, a value).
        part: String,
        /// Byte offset of `part` inside `spec`.
        position: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A tracer's `output=` file could not be created.
    #[error("tracer {tracer}: cannot create output file {}: {source}", path.display())]
    TracerOutput {
        /// Tracer instance name.
        tracer: String,
        /// The path from `output=`.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `activity_checkpoint` while activity tracking was off. GStreamer logs
    /// criticals and returns empty lists here; framecast says so.
    #[error("activity tracking was not started (call activity_start_tracking first)")]
    NotTracking,
    /// `activity_start_tracking` while tracking was already on.
    #[error("activity tracking is already started")]
    AlreadyTracking,
    /// An operating-system call failed.
    #[error("{call} failed: {source}")]
    Os {
        /// The call, e.g. `memfd_create`.
        call: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The category of an [`Error`], for matching without destructuring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad arguments: alignment, bounds, layouts, configs.
    InvalidArgument,
    /// Write access refused (read-only or shared).
    NotWritable,
    /// Mapping refused.
    NotMappable,
    /// Allocation failed.
    AllocationFailed,
    /// Registry lookups and clashes.
    Registry,
    /// Meta rules (locked metas).
    Meta,
    /// Pool state (active, unconfigured, flushing, would block).
    Pool,
    /// Operating-system failures.
    Os,
    /// Tracer API used out of order (checkpoint before tracking).
    Tracing,
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        use Error::*;
        match self {
            InvalidAlignment { .. }
            | OutOfBounds { .. }
            | InvalidVideoInfo(_)
            | PoolConfigRejected { .. }
            | NoShare
            | TracerSpec { .. }
            | Allocation(_) => ErrorKind::InvalidArgument,
            ReadOnly | NotWritable(_) => ErrorKind::NotWritable,
            NotMappable => ErrorKind::NotMappable,
            AllocationFailed { .. } => ErrorKind::AllocationFailed,
            NotRegistered { .. } | AlreadyRegistered { .. } => ErrorKind::Registry,
            MetaLocked { .. } | InvalidMeta { .. } => ErrorKind::Meta,
            PoolActive(_) | PoolNotConfigured | Flushing | WouldBlock { .. } => ErrorKind::Pool,
            Os { .. } | TracerOutput { .. } => ErrorKind::Os,
            NotTracking | AlreadyTracking => ErrorKind::Tracing,
        }
    }

    pub(crate) fn out_of_bounds(
        what: &'static str,
        offset: i128,
        size: usize,
        limit: usize,
    ) -> Self {
        Error::OutOfBounds {
            what,
            offset,
            size,
            limit,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
