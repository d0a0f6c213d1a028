//! H.264 over RTP (RFC 6184), packetization-mode 1 (non-interleaved).
//!
//! Every RTP payload starts with a one-byte NAL unit header (RFC 6184
//! §5.3, H.264 §7.3.1):
//!
//! ```text
//! +---------------+
//! |0|1|2|3|4|5|6|7|
//! +-+-+-+-+-+-+-+-+
//! |F|NRI|  Type   |
//! +---------------+
//! ```
//!
//! Type 1–23 is a single NAL unit packet (§5.6), the NAL unit as is.
//! Type 24 is a STAP-A (§5.7.1), several NAL units each behind a 16-bit
//! size:
//!
//! ```text
//! |STAP-A NAL HDR | NALU 1 Size (16)              | NALU 1 HDR    |
//! | NALU 1 Data ...                               | NALU 2 Size ...
//! ```
//!
//! Type 28 is an FU-A (§5.8), one fragment of a NAL unit too large for
//! one packet. The original header byte is not sent; F and NRI travel in
//! the FU indicator, the type in the FU header, with S(tart) and E(nd):
//!
//! ```text
//! | FU indicator  |   FU header   |                               |
//! |F|NRI|  28     |S|E|R|  Type   |   FU payload ...              |
//! ```
//!
//! Mode 1 forbids STAP-B, MTAP and FU-B (§6.3); the depayloader rejects
//! them. The marker bit is set on the last packet of an access unit
//! (§5.1), and all packets of an access unit share its timestamp.

mod depay;
mod nal;
mod pay;
mod sprop;

pub use depay::*;
pub use nal::*;
pub use pay::*;
pub use sprop::*;

#[cfg(test)]
mod tests;
