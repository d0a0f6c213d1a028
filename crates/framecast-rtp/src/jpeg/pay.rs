//! The JPEG payloader (RFC 2435 §3): a baseline JFIF image to RTP packets.

use super::*;
use crate::error::{Error, Result};
use crate::h264::check_mtu_pt;
use crate::packet::{RtpHeader, FIXED_HEADER_LEN};
use crate::packetizer::{PacketMeta, PacketSource};

/// Settings of a [`JpegPayloader`].
#[derive(Debug, Clone)]
pub struct JpegPayloaderConfig {
    /// Largest RTP packet, header included (default 1400).
    pub mtu: usize,
    /// Payload type, default [`PAYLOAD_TYPE`] (26, static).
    pub payload_type: u8,
    /// SSRC.
    pub ssrc: u32,
    /// Sequence number of the first packet.
    pub initial_sequence_number: u16,
}

impl Default for JpegPayloaderConfig {
    fn default() -> Self {
        Self {
            mtu: 1400,
            payload_type: PAYLOAD_TYPE,
            ssrc: 0,
            initial_sequence_number: 0,
        }
    }
}

/// Cuts baseline JPEG frames into RFC 2435 packets (Q = 255, tables in
/// band, restart header when the JPEG has a DRI), into caller slots like
/// every payloader here ([`PacketSource`]).
#[doc(alias = "rtpjpegpay")]
#[derive(Debug)]
pub struct JpegPayloader {
    pub(super) cfg: JpegPayloaderConfig,
    pub(super) seq: u16,
}

impl JpegPayloader {
    /// A payloader with `cfg`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if the MTU cannot hold the headers plus one
    /// byte of scan data in the first packet (12 + 8 + 4 + 4 + 128 + 1).
    pub fn new(cfg: JpegPayloaderConfig) -> Result<Self> {
        check_mtu_pt(cfg.mtu, cfg.payload_type)?;
        let min =
            FIXED_HEADER_LEN + MAIN_HEADER_LEN + RESTART_HEADER_LEN + QUANT_HEADER_LEN + 128 + 1;
        if cfg.mtu < min {
            return Err(Error::config(
                "mtu",
                "must hold the RTP/JPEG headers and in-band tables (157 bytes)",
                cfg.mtu as u64,
            ));
        }
        Ok(Self {
            seq: cfg.initial_sequence_number,
            cfg,
        })
    }

    /// Sequence number of the next packet.
    pub fn next_sequence_number(&self) -> u16 {
        self.seq
    }

    /// Starts packetizing `jpeg` (a complete JFIF/JPEG file) with RTP
    /// timestamp `timestamp`.
    ///
    /// # Errors
    ///
    /// As [`parse_jpeg`].
    pub fn packetize<'p>(&'p mut self, jpeg: &'p [u8], timestamp: u32) -> Result<JpegPackets<'p>> {
        let info = parse_jpeg(jpeg)?;
        Ok(JpegPackets {
            info,
            offset: 0,
            seq: &mut self.seq,
            cfg: &self.cfg,
            timestamp,
            done: false,
        })
    }
}

/// The packets of one JPEG frame; see [`PacketSource`].
#[derive(Debug)]
pub struct JpegPackets<'p> {
    info: JpegInfo<'p>,
    pub(super) offset: usize,
    pub(super) seq: &'p mut u16,
    pub(super) cfg: &'p JpegPayloaderConfig,
    pub(super) timestamp: u32,
    done: bool,
}

impl JpegPackets<'_> {
    /// The parsed frame.
    pub fn info(&self) -> &JpegInfo<'_> {
        &self.info
    }
}

impl PacketSource for JpegPackets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Result<Option<PacketMeta>> {
        if self.done {
            return Ok(None);
        }
        let mtu = self.cfg.mtu;
        if out.len() < mtu {
            return Err(Error::too_small("RTP/JPEG packet", mtu, out.len()));
        }
        let info = &self.info;
        if self.offset > 0xff_ffff {
            return Err(Error::input(
                "JPEG",
                self.offset,
                "scan longer than the 24-bit fragment offset (RFC 2435 §3.1.2)",
                self.offset as u64,
            ));
        }
        let mut pos = FIXED_HEADER_LEN;
        // Main header (§3.1): type-specific 0 = progressive frame.
        let off = (self.offset as u32).to_be_bytes();
        out[pos..pos + 8].copy_from_slice(&[
            0,
            off[1],
            off[2],
            off[3],
            info.rtp_type,
            255,
            (info.width / 8) as u8,
            (info.height / 8) as u8,
        ]);
        pos += MAIN_HEADER_LEN;
        if info.restart_interval > 0 {
            // §3.1.7: packets are not cut at restart boundaries, so F = L =
            // 1 and count 0x3FFF ("the packet contains no restart marker
            // alignment information").
            let ri = info.restart_interval.to_be_bytes();
            out[pos..pos + 4].copy_from_slice(&[ri[0], ri[1], 0xff, 0xff]);
            pos += RESTART_HEADER_LEN;
        }
        if self.offset == 0 {
            // §3.1.8, Q = 255: tables in every frame's first packet.
            out[pos..pos + 4].copy_from_slice(&[0, 0, 0, 128]);
            out[pos + 4..pos + 68].copy_from_slice(info.luma_quant);
            out[pos + 68..pos + 132].copy_from_slice(info.chroma_quant);
            pos += QUANT_HEADER_LEN + 128;
        }
        let room = mtu - pos;
        let end = (self.offset + room).min(info.scan.len());
        let last = end == info.scan.len();
        out[pos..pos + end - self.offset].copy_from_slice(&info.scan[self.offset..end]);
        pos += end - self.offset;
        let seq = *self.seq;
        RtpHeader {
            marker: last,
            payload_type: self.cfg.payload_type,
            sequence_number: seq,
            timestamp: self.timestamp,
            ssrc: self.cfg.ssrc,
        }
        .write(out)?;
        *self.seq = seq.wrapping_add(1);
        self.offset = end;
        self.done = last;
        Ok(Some(PacketMeta {
            len: pos,
            sequence_number: seq,
            timestamp: self.timestamp,
            marker: last,
        }))
    }
}
