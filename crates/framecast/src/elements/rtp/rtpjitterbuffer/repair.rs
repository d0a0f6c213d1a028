//! Loss repair around the jitter buffer: the retransmission requests due
//! (sent upstream, where `udpsrc` makes them RTCP NACKs), RTX packets taken
//! back as their originals, and packets rebuilt from FEC.

use std::sync::atomic::Ordering;
use std::time::Instant;

use framecast_core::Buffer;
use framecast_rtp::jitter::{Filed, PacketInfo};
use framecast_rtp::{rtx, RtpPacket};

use super::{RtpJitterBuffer, State};
use crate::pipeline::Event;

impl State {
    /// The retransmission requests due at `now`, as one upstream event.
    pub(super) fn due_nacks(&mut self, now: Instant) -> Option<Event> {
        let ssrc = self.jb.ssrc()?;
        // A Generic NACK holds 64 entries of up to 17 packets each.
        let mut seqs = [0u16; 64 * 17];
        let mut n = 0;
        self.jb.nack_requests(now, |seq| match seqs.get_mut(n) {
            Some(slot) => {
                *slot = seq;
                n += 1;
                true
            }
            None => false,
        });
        (n > 0).then(|| Event::retransmission_request(ssrc, &seqs[..n]))
    }
}

/// The original packet an RTX `buffer` carries (rewritten in place: the
/// buffer is ours once the source pushed it), and its header fields.
pub(super) fn unwrap_rtx(
    mut buffer: Buffer,
    main_pt: u8,
    ssrc: u32,
) -> Option<(PacketInfo, Buffer)> {
    let b = buffer.make_mut();
    let len = {
        let mut map = b.map_writable().ok()?;
        rtx::unwrap_in_place(map.as_mut_slice(), main_pt, ssrc).ok()?
    };
    b.set_size(len).ok()?;
    let info = {
        let map = buffer.map_readable().ok()?;
        let data = map.contiguous();
        let p = RtpPacket::parse(&data).ok()?;
        PacketInfo {
            seq: p.sequence_number(),
            ssrc: p.ssrc(),
            rtp_ts: p.timestamp(),
        }
    };
    Some((info, buffer))
}

impl RtpJitterBuffer {
    /// Rebuilds what FEC can of the packets missing now and files them
    /// (a buffer per rebuilt packet: only on loss).
    pub(super) fn recover(&self, st: &mut State) {
        let Some(fec) = st.fec.as_ref() else {
            return;
        };
        let mut missing = [0u16; 48];
        let mut n = 0;
        st.jb.for_each_missing(|seq| {
            missing[n] = seq;
            n += 1;
            n < missing.len()
        });
        if n == 0 {
            // Nothing missing: the common case, and no work.
            return;
        }
        let mut rebuilt = [0u8; 12 + framecast_rtp::fec::MAX_PROTECTED];
        let mut found: [Option<Buffer>; 48] = std::array::from_fn(|_| None);
        for (slot, &seq) in found.iter_mut().zip(&missing[..n]) {
            if let Some(len) = fec.recover(seq, &mut rebuilt) {
                *slot = Buffer::from_slice(&rebuilt[..len]).ok();
            }
        }
        for buffer in found.into_iter().flatten() {
            let info = {
                let Ok(map) = buffer.map_readable() else {
                    continue;
                };
                let data = map.contiguous();
                let Ok(p) = RtpPacket::parse(&data) else {
                    continue;
                };
                PacketInfo {
                    seq: p.sequence_number(),
                    ssrc: p.ssrc(),
                    rtp_ts: p.timestamp(),
                }
            };
            if st.jb.insert(info, buffer, Instant::now()) == Filed::Held {
                self.shared
                    .counters
                    .fec_recovered
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
