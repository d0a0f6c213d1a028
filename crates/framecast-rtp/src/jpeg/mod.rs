//! JPEG over RTP (RFC 2435).
//!
//! RFC 2435 does not send a JPEG file: it sends the entropy-coded scan
//! and just enough numbers to rebuild the headers, which a receiver
//! regenerates with the standard Huffman tables (§3.1, Appendix B). Every
//! packet starts with the main JPEG header (§3.1):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Type-specific |              Fragment Offset                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Type     |       Q       |     Width     |     Height    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Types 64–127 (a restart interval is in use) add the restart marker
//! header (§3.1.7):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |       Restart Interval        |F|L|       Restart Count       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! and with Q ≥ 128 the first packet (fragment offset 0) carries the
//! quantization tables (§3.1.8):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      MBZ      |   Precision   |             Length            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Quantization Table Data                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Type 0 is YUV 4:2:2 (luma sampling factors 2×1), type 1 is YUV 4:2:0
//! (2×2); chroma is 1×1 in both (§4.1; GStreamer's rtpjpegpay maps SOF0
//! sampling 0x21 → 0 and 0x22 → 1 the same way).
//!
//! The payloader always sends Q = 255 with the encoder's own tables in
//! band, so the receiver dequantizes exactly as the encoder quantized.

mod depay;
mod parse;
mod pay;
mod tables;

pub use depay::*;
pub use parse::*;
pub use pay::*;
pub use tables::*;

/// Static payload type of JPEG (RFC 3551 §6, Table 5).
pub const PAYLOAD_TYPE: u8 = 26;

/// Size of the main JPEG header (§3.1).
pub const MAIN_HEADER_LEN: usize = 8;
/// Size of the restart marker header (§3.1.7).
pub const RESTART_HEADER_LEN: usize = 4;
/// Size of the quantization table header before its data (§3.1.8).
pub const QUANT_HEADER_LEN: usize = 4;

#[cfg(test)]
mod tests;
