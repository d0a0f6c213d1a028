//! Writing compound RTCP packets (RFC 3550 §6.1) into a caller buffer.

use super::*;
use crate::error::{Error, Result};

/// Builds a compound RTCP packet in a caller's slice (§6.1).
///
/// # Examples
///
/// ```
/// use framecast_rtp::rtcp::{CompoundWriter, NtpTimestamp, RtcpPacket, parse_compound};
/// use framecast_rtp::SenderStats;
/// let mut stats = SenderStats::new(0x1234);
/// stats.on_packet(1400, 12);
/// let mut buf = [0u8; 256];
/// let mut w = CompoundWriter::new(&mut buf);
/// w.sender_report(&stats.report(NtpTimestamp::now(), 90_000), &[]).unwrap();
/// w.sdes_cname(0x1234, "framecast@127.0.0.1").unwrap();
/// let n = w.finish();
/// let kinds: Vec<_> = parse_compound(&buf[..n]).map(|p| p.unwrap().packet_type()).collect();
/// assert_eq!(kinds, [200, 202]);
/// ```
#[derive(Debug)]
pub struct CompoundWriter<'a> {
    pub(super) buf: &'a mut [u8],
    pub(super) pos: usize,
}

impl<'a> CompoundWriter<'a> {
    /// Starts writing at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn reserve(&mut self, what: &'static str, len: usize) -> Result<&mut [u8]> {
        let end = self.pos + len;
        if end > self.buf.len() {
            return Err(Error::too_small(what, end, self.buf.len()));
        }
        let s = &mut self.buf[self.pos..end];
        s.fill(0);
        self.pos = end;
        Ok(s)
    }

    pub(super) fn header(o: &mut [u8], count: u8, pt: u8, len: usize) {
        o[0] = 0x80 | (count & 0x1f);
        o[1] = pt;
        o[2..4].copy_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
    }

    /// Appends an SR with up to 31 report blocks.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`], or [`Error::InvalidConfig`] for more
    /// than 31 blocks (the 5-bit count).
    pub fn sender_report(&mut self, sr: &SenderReport, blocks: &[ReportBlock]) -> Result<()> {
        if blocks.len() > 31 {
            return Err(Error::config(
                "report blocks",
                "at most 31 per packet",
                blocks.len() as u64,
            ));
        }
        let len = 28 + REPORT_BLOCK_LEN * blocks.len();
        let o = self.reserve("RTCP SR", len)?;
        Self::header(o, blocks.len() as u8, PT_SR, len);
        o[4..8].copy_from_slice(&sr.ssrc.to_be_bytes());
        o[8..16].copy_from_slice(&sr.ntp_timestamp.0.to_be_bytes());
        o[16..20].copy_from_slice(&sr.rtp_timestamp.to_be_bytes());
        o[20..24].copy_from_slice(&sr.packet_count.to_be_bytes());
        o[24..28].copy_from_slice(&sr.octet_count.to_be_bytes());
        for (b, chunk) in blocks
            .iter()
            .zip(o[28..].chunks_exact_mut(REPORT_BLOCK_LEN))
        {
            b.write(chunk);
        }
        Ok(())
    }

    /// Appends an RR from `ssrc` with up to 31 report blocks.
    ///
    /// # Errors
    ///
    /// As [`CompoundWriter::sender_report`].
    pub fn receiver_report(&mut self, ssrc: u32, blocks: &[ReportBlock]) -> Result<()> {
        if blocks.len() > 31 {
            return Err(Error::config(
                "report blocks",
                "at most 31 per packet",
                blocks.len() as u64,
            ));
        }
        let len = 8 + REPORT_BLOCK_LEN * blocks.len();
        let o = self.reserve("RTCP RR", len)?;
        Self::header(o, blocks.len() as u8, PT_RR, len);
        o[4..8].copy_from_slice(&ssrc.to_be_bytes());
        for (b, chunk) in blocks.iter().zip(o[8..].chunks_exact_mut(REPORT_BLOCK_LEN)) {
            b.write(chunk);
        }
        Ok(())
    }

    /// Appends an SDES with one chunk holding the CNAME (§6.5.1).
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`], or [`Error::InvalidConfig`] if the CNAME
    /// exceeds the 255-octet item length.
    pub fn sdes_cname(&mut self, ssrc: u32, cname: &str) -> Result<()> {
        let n = cname.len();
        if n > 255 {
            return Err(Error::config("CNAME", "longer than 255 octets", n as u64));
        }
        // SSRC + type + len + text + at least one null octet, to 32 bits.
        let chunk = (4 + 2 + n + 1).div_ceil(4) * 4;
        let len = 4 + chunk;
        let o = self.reserve("RTCP SDES", len)?;
        Self::header(o, 1, PT_SDES, len);
        o[4..8].copy_from_slice(&ssrc.to_be_bytes());
        o[8] = SDES_CNAME;
        o[9] = n as u8;
        o[10..10 + n].copy_from_slice(cname.as_bytes());
        Ok(())
    }

    /// Appends a BYE for `ssrcs` (at most 31) with an optional reason.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] or [`Error::InvalidConfig`].
    pub fn bye(&mut self, ssrcs: &[u32], reason: Option<&str>) -> Result<()> {
        if ssrcs.len() > 31 {
            return Err(Error::config(
                "BYE sources",
                "at most 31",
                ssrcs.len() as u64,
            ));
        }
        let rlen = reason.map_or(0, str::len);
        if rlen > 255 {
            return Err(Error::config(
                "BYE reason",
                "longer than 255 octets",
                rlen as u64,
            ));
        }
        let reason_bytes = reason.map_or(0, |r| 1 + r.len());
        let len = 4 + 4 * ssrcs.len() + reason_bytes.div_ceil(4) * 4;
        let o = self.reserve("RTCP BYE", len)?;
        Self::header(o, ssrcs.len() as u8, PT_BYE, len);
        for (s, c) in ssrcs.iter().zip(o[4..].chunks_exact_mut(4)) {
            c.copy_from_slice(&s.to_be_bytes());
        }
        if let Some(r) = reason {
            let at = 4 + 4 * ssrcs.len();
            o[at] = r.len() as u8;
            o[at + 1..at + 1 + r.len()].copy_from_slice(r.as_bytes());
        }
        Ok(())
    }

    /// Appends a PLI (RFC 4585 §6.3.1) from `sender_ssrc` about the
    /// stream `media_ssrc`: "I lost the picture, send a keyframe". A
    /// receiver that joined mid-stream or lost packets sends it so that it
    /// need not wait for the next periodic IDR.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`].
    pub fn picture_loss(&mut self, sender_ssrc: u32, media_ssrc: u32) -> Result<()> {
        let o = self.reserve("RTCP PLI", 12)?;
        Self::header(o, FMT_PLI, PT_PSFB, 12);
        o[4..8].copy_from_slice(&sender_ssrc.to_be_bytes());
        o[8..12].copy_from_slice(&media_ssrc.to_be_bytes());
        Ok(())
    }

    /// Appends a Generic NACK (RFC 4585 §6.2.1) from `sender_ssrc` about
    /// `media_ssrc` for the sequence numbers `lost` (ascending); returns
    /// its length (0, nothing appended, when `lost` is empty). See
    /// [`crate::nack::write_generic_nack`].
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`].
    pub fn generic_nack(
        &mut self,
        sender_ssrc: u32,
        media_ssrc: u32,
        lost: impl IntoIterator<Item = u16>,
    ) -> Result<usize> {
        let n = crate::nack::write_generic_nack(
            &mut self.buf[self.pos..],
            sender_ssrc,
            media_ssrc,
            lost,
        )?;
        self.pos += n;
        Ok(n)
    }

    /// Bytes written so far: the compound packet is `&buf[..finish()]`.
    pub fn finish(self) -> usize {
        self.pos
    }
}
