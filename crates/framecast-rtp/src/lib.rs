//! RTP for framecast: packetizing and depacketizing H.264 (RFC 6184),
//! JPEG (RFC 2435) and uncompressed video (RFC 4175), RTCP sender reports
//! (RFC 3550 §6), and SDP (RFC 4566) — without sockets, without the
//! pipeline, and without a heap allocation per packet.
//!
//! # Shape
//!
//! - Every parser takes `&[u8]` from the network and returns a
//!   [`Result`]: no panic, no `unsafe`, and each is fuzzed (`fuzz/`).
//! - Payloaders borrow one frame and write packets into memory the caller
//!   owns, one [`PacketSource::next_into`] at a time (see [`packetizer`]).
//! - Depayloaders take packets in sequence order and count what they
//!   lose; a damaged frame is reported, never delivered half-built
//!   (except raw video, where a partial frame is still a picture).
//!
//! ```
//! use framecast_rtp::*;
//! let mut pay = H264Payloader::new(H264PayloaderConfig::default()).unwrap();
//! let mut depay = H264Depayloader::default();
//! let au = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88];
//! let mut slot = [0u8; 1400];
//! let mut pkts = pay.packetize(NalUnits::AnnexB(&au), 90_000).unwrap();
//! while let Some(meta) = pkts.next_into(&mut slot).unwrap() {
//!     depay.push(&RtpPacket::parse(&slot[..meta.len]).unwrap()).unwrap();
//! }
//! assert_eq!(depay.pull().unwrap().data, &au[..]);
//! ```
#![forbid(unsafe_code)]

mod base64;
pub mod error;
pub mod fec;
pub mod h264;
pub mod header_ext;
pub mod jitter;
pub mod jpeg;
pub mod nack;
pub mod packet;
pub mod packetizer;
pub mod raw;
pub mod rtcp;
pub mod rtx;
pub mod sdp;
pub mod seq;
pub mod timestamp;

pub use error::{Error, ErrorKind, PacketContext, Result};
pub use h264::{
    access_units, AccessUnit, AccessUnitKind, Aggregation, ConfigInterval, H264DepayStats,
    H264Depayloader, H264DepayloaderConfig, H264Packets, H264Payloader, H264PayloaderConfig,
    NalUnits,
};
pub use header_ext::{ExtensionIds, FrameExtensions};
pub use jpeg::{JpegDepayloader, JpegFrame, JpegPackets, JpegPayloader, JpegPayloaderConfig};
pub use packet::{RtpHeader, RtpPacket};
pub use packetizer::{PacketMeta, PacketSource};
pub use raw::{
    Plane, PlaneMut, RawDepayloader, RawFormat, RawFrameInfo, RawPackets, RawPayloader,
    RawPayloaderConfig, RawPush,
};
pub use rtcp::{NtpTimestamp, SenderReport, SenderStats};
pub use sdp::SessionDescription;
pub use timestamp::RtpClock;
