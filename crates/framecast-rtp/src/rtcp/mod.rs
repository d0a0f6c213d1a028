//! RTCP (RFC 3550 §6): sender reports, receiver report blocks, SDES CNAME
//! and BYE, in compound packets.
//!
//! A sender must send RTCP for a receiver to map RTP timestamps to wall
//! clock time (lip sync, latency measurement): the sender report pairs an
//! NTP timestamp with the RTP timestamp of the same instant (§6.4.1).
//! Every RTCP packet shares this header:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|  count  |      PT       |    length (32-bit words − 1)  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! A sender report (PT 200) continues with:
//!
//! ```text
//! |                         SSRC of sender                        |
//! |              NTP timestamp, most significant word             |
//! |             NTP timestamp, least significant word             |
//! |                         RTP timestamp                         |
//! |                     sender's packet count                     |
//! |                      sender's octet count                     |
//! |                 report blocks (24 bytes each) ...             |
//! ```
//!
//! and a report block (§6.4.1) is:
//!
//! ```text
//! |                 SSRC_n (SSRC of source)                       |
//! | fraction lost |       cumulative number of packets lost       |
//! |           extended highest sequence number received           |
//! |                      interarrival jitter                      |
//! |                         last SR (LSR)                         |
//! |                   delay since last SR (DLSR)                  |
//! ```
//!
//! §6.1: a compound packet starts with an SR or RR and carries an SDES
//! with the CNAME; BYE, when present, is last.

mod interarrival;
mod parse;
mod reception;
mod report;
mod write;

pub use interarrival::InterarrivalJitter;
pub use parse::*;
pub use reception::ReceptionStats;
pub use report::*;
pub use write::*;

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// SDES item type of CNAME (§6.5.1).
pub const SDES_CNAME: u8 = 1;
/// Payload-specific feedback (RFC 4585 §6.3).
pub const PT_PSFB: u8 = 206;
/// PSFB format: Picture Loss Indication (RFC 4585 §6.3.1).
pub const FMT_PLI: u8 = 1;
/// PSFB format: Full Intra Request (RFC 5104 §4.3.1).
pub const FMT_FIR: u8 = 4;

pub(super) const REPORT_BLOCK_LEN: usize = 24;
/// Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch).
pub(super) const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

#[cfg(test)]
mod tests;
