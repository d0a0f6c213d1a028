//! The contract every payloader here follows: pull packets into the
//! caller's memory.
//!
//! A payloader never allocates a packet. It is handed one frame (borrowed),
//! and the caller pulls packets out of it one by one, each written into a
//! `&mut [u8]` the caller owns — a slot of a `sendmmsg` batch, a pooled
//! buffer, or one reused scratch array:
//!
//! ```text
//!   frame ──► payloader.packetize(frame) ──► packets.next_into(&mut slot) ─► Some(meta)
//!                                                    ▲                        │
//!                                                    └──── until None ◄───────┘
//! ```
//!
//! So the cost per packet is one header write and one `memcpy` of payload,
//! and the zero-allocation promise is checkable: the crate's tests count
//! heap allocations around a steady-state packetize loop.

use crate::error::Result;

/// What a payloader wrote into the caller's slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketMeta {
    /// Bytes written, header included: the packet is `&out[..len]`.
    pub len: usize,
    /// The packet's RTP sequence number.
    pub sequence_number: u16,
    /// The packet's RTP timestamp.
    pub timestamp: u32,
    /// Whether the M bit is set (last packet of the frame or access unit).
    pub marker: bool,
}

/// A frame being cut into packets; see the module documentation.
pub trait PacketSource {
    /// Writes the next packet into `out` and describes it, or returns
    /// `Ok(None)` once the frame is fully sent.
    ///
    /// `out` must hold at least the payloader's MTU; on error nothing more
    /// is produced for this frame.
    fn next_into(&mut self, out: &mut [u8]) -> Result<Option<PacketMeta>>;

    /// Convenience loop: writes every remaining packet into `scratch` in
    /// turn and calls `f` with each; returns the packet count.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast_rtp::{H264Payloader, H264PayloaderConfig, NalUnits, PacketSource};
    /// let mut pay = H264Payloader::new(H264PayloaderConfig::default()).unwrap();
    /// let mut scratch = vec![0u8; 1400];
    /// let au = [0, 0, 0, 1, 0x65, 0x88, 0x84];
    /// let n = pay
    ///     .packetize(NalUnits::AnnexB(&au), 3000)
    ///     .unwrap()
    ///     .for_each_packet(&mut scratch, |pkt, meta| assert!(meta.marker && pkt.len() == 15))
    ///     .unwrap();
    /// assert_eq!(n, 1);
    /// ```
    fn for_each_packet<F>(&mut self, scratch: &mut [u8], mut f: F) -> Result<usize>
    where
        F: FnMut(&[u8], PacketMeta),
        Self: Sized,
    {
        let mut n = 0;
        while let Some(meta) = self.next_into(scratch)? {
            f(&scratch[..meta.len], meta);
            n += 1;
        }
        Ok(n)
    }
}
