//! The crate's one error type.
//!
//! Every parser in this crate reads bytes that came off the network, so an
//! error must say *where* it happened well enough to find the packet in a
//! capture: the RTP sequence number and SSRC when they are known, and the
//! byte offset inside the packet or payload. Errors on the per-packet path
//! carry only `&'static str` and integers, so reporting one does not
//! allocate; only SDP errors (not a per-packet path) own the offending line.

use std::fmt;

/// What went wrong, for callers that branch on the cause rather than print
/// it (`match err.kind()`), as `std::io::Error::kind` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended before a field it announced.
    Truncated,
    /// A field holds a value the specification forbids.
    Malformed,
    /// Valid by the specification, but a feature this crate does not handle
    /// (for example an RTP/JPEG type other than 0, 1, 64, 65).
    Unsupported,
    /// The caller's output slice cannot hold what must be written.
    BufferTooSmall,
    /// A configuration value (MTU, payload type, frame geometry) is invalid.
    InvalidConfig,
    /// Input handed to a payloader is not what it promises to be (not a
    /// JPEG, an H.264 stream with no NAL unit, ...).
    InvalidInput,
    /// An SDP line could not be understood.
    Sdp,
}

/// Where in the stream a packet-level error happened: the RTP sequence
/// number and SSRC of the packet being handled, when known.
///
/// Printed as ` (seq 4711, ssrc 0x1234abcd)`, or nothing when empty, so
/// that it can be appended to any message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PacketContext {
    /// RTP sequence number (RFC 3550 §5.1) of the packet, if known.
    pub seq: Option<u16>,
    /// SSRC (RFC 3550 §5.1) of the packet, if known.
    pub ssrc: Option<u32>,
}

impl PacketContext {
    /// A context naming one packet.
    pub const fn packet(seq: u16, ssrc: u32) -> Self {
        Self {
            seq: Some(seq),
            ssrc: Some(ssrc),
        }
    }
}

impl fmt::Display for PacketContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.seq, self.ssrc) {
            (None, None) => Ok(()),
            (Some(s), None) => write!(f, " (seq {s})"),
            (None, Some(c)) => write!(f, " (ssrc {c:#010x})"),
            (Some(s), Some(c)) => write!(f, " (seq {s}, ssrc {c:#010x})"),
        }
    }
}

/// The error type of every fallible function in `framecast-rtp`.
///
/// Use [`Error::kind`] to branch on the cause; the `Display` text names the
/// structure, the byte offset and the packet (see [`PacketContext`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a field it announced.
    #[error(
        "{what} truncated{ctx}: needs {needed} bytes at offset {offset}, {available} available"
    )]
    Truncated {
        /// The structure being read (`"RTP header"`, `"FU-A"`...).
        what: &'static str,
        /// Byte offset at which the missing field starts.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
        /// The packet being read.
        ctx: PacketContext,
    },
    /// A field holds a value the specification forbids.
    #[error("malformed {what}{ctx} at offset {offset}: {reason} (value {value})")]
    Malformed {
        /// The structure being read.
        what: &'static str,
        /// Byte offset of the bad field.
        offset: usize,
        /// What rule it breaks.
        reason: &'static str,
        /// The offending value.
        value: u64,
        /// The packet being read.
        ctx: PacketContext,
    },
    /// A valid feature this crate does not implement.
    #[error("unsupported {what}{ctx}: {reason} (value {value})")]
    Unsupported {
        /// The structure being read.
        what: &'static str,
        /// What is not supported.
        reason: &'static str,
        /// The value that selected it.
        value: u64,
        /// The packet being read.
        ctx: PacketContext,
    },
    /// The caller's output slice is too small.
    #[error("output buffer too small for {what}: needs {needed} bytes, has {available}")]
    BufferTooSmall {
        /// What was being written.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {what} = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        what: &'static str,
        /// Why it is rejected.
        reason: &'static str,
        /// Its value.
        value: u64,
    },
    /// Input handed to a payloader is not what it should be.
    #[error("invalid {what} input at offset {offset}: {reason} (value {value})")]
    InvalidInput {
        /// The kind of input (`"JPEG"`, `"H.264 access unit"`...).
        what: &'static str,
        /// Byte offset in the input.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
        /// The offending value.
        value: u64,
    },
    /// An SDP line could not be understood (RFC 4566 §5).
    #[error("SDP line {line}: {reason}: {text:?}")]
    Sdp {
        /// 1-based line number.
        line: usize,
        /// The offending line, without its line ending.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Error {
    /// The cause, to match on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Truncated { .. } => ErrorKind::Truncated,
            Error::Malformed { .. } => ErrorKind::Malformed,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::BufferTooSmall { .. } => ErrorKind::BufferTooSmall,
            Error::InvalidConfig { .. } => ErrorKind::InvalidConfig,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Sdp { .. } => ErrorKind::Sdp,
        }
    }

    /// The packet this error is about, if it is a packet-level error.
    pub fn packet_context(&self) -> Option<PacketContext> {
        match self {
            Error::Truncated { ctx, .. }
            | Error::Malformed { ctx, .. }
            | Error::Unsupported { ctx, .. } => Some(*ctx),
            _ => None,
        }
    }

    /// Attaches the packet's sequence number and SSRC.
    ///
    /// Payload parsers see only the payload; the depayloader that called
    /// them knows the packet, and adds it here so that the message points
    /// into a capture.
    #[must_use]
    pub fn in_packet(mut self, seq: u16, ssrc: u32) -> Self {
        if let Error::Truncated { ctx, .. }
        | Error::Malformed { ctx, .. }
        | Error::Unsupported { ctx, .. } = &mut self
        {
            *ctx = PacketContext::packet(seq, ssrc);
        }
        self
    }

    pub(crate) const fn truncated(
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    ) -> Self {
        Error::Truncated {
            what,
            offset,
            needed,
            available,
            ctx: PacketContext {
                seq: None,
                ssrc: None,
            },
        }
    }

    pub(crate) const fn malformed(
        what: &'static str,
        offset: usize,
        reason: &'static str,
        value: u64,
    ) -> Self {
        Error::Malformed {
            what,
            offset,
            reason,
            value,
            ctx: PacketContext {
                seq: None,
                ssrc: None,
            },
        }
    }

    pub(crate) const fn unsupported(what: &'static str, reason: &'static str, value: u64) -> Self {
        Error::Unsupported {
            what,
            reason,
            value,
            ctx: PacketContext {
                seq: None,
                ssrc: None,
            },
        }
    }

    pub(crate) const fn too_small(what: &'static str, needed: usize, available: usize) -> Self {
        Error::BufferTooSmall {
            what,
            needed,
            available,
        }
    }

    pub(crate) const fn config(what: &'static str, reason: &'static str, value: u64) -> Self {
        Error::InvalidConfig {
            what,
            reason,
            value,
        }
    }

    pub(crate) const fn input(
        what: &'static str,
        offset: usize,
        reason: &'static str,
        value: u64,
    ) -> Self {
        Error::InvalidInput {
            what,
            offset,
            reason,
            value,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_printed_and_kind_matches() {
        let e = Error::truncated("FU-A", 12, 2, 1).in_packet(4711, 0x1234_abcd);
        assert_eq!(e.kind(), ErrorKind::Truncated);
        let s = e.to_string();
        assert!(s.contains("seq 4711"), "{s}");
        assert!(s.contains("ssrc 0x1234abcd"), "{s}");
        assert!(s.contains("offset 12"), "{s}");
        assert_eq!(
            e.packet_context(),
            Some(PacketContext::packet(4711, 0x1234_abcd))
        );
        let e = Error::config("mtu", "too small", 3);
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert_eq!(e.packet_context(), None);
    }
}
