//! Any sequence of packets and clock steps: the jitter buffer hands out
//! only packets it was given, each at most once, in sequence order within
//! each run of one source, stays within its bounds, and never panics.
#![no_main]

use std::time::{Duration, Instant};

use framecast_rtp::jitter::{JitterBuffer, JitterConfig, PacketInfo, Popped, SET_ASIDE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut jb = JitterBuffer::new(JitterConfig {
        capacity: 64,
        nack: true,
        ..JitterConfig::default()
    });
    let mut now = Instant::now();
    let mut given = 0u64;
    let mut out = 0u64;
    for chunk in data.chunks_exact(4) {
        let seq = u16::from_be_bytes([chunk[0], chunk[1]]);
        let ssrc = u32::from(chunk[2] & 3);
        now += Duration::from_millis(u64::from(chunk[3] & 63));
        if chunk[3] & 0x80 != 0 {
            jb.source_ended(ssrc);
        }
        let info = PacketInfo { seq, ssrc, rtp_ts: u32::from(seq) };
        if chunk[2] & 0x80 != 0 {
            jb.insert_resent(info, given, now);
        } else {
            jb.insert(info, given, now);
        }
        given += 1;
        jb.nack_requests(now, |_| given % 2 == 0);
        while let Popped::Packet { item, .. } = jb.pop(now) {
            assert!(item < given);
            out += 1;
        }
        assert!(jb.len() <= 64 * 2 + SET_ASIDE);
    }
    while let Popped::Packet { .. } = jb.pop_draining() {
        out += 1;
    }
    assert!(out <= given);
    assert!(jb.is_empty());
});
