//! The jitter buffer as a plain type: ordering, loss, the start-up window,
//! strays that cannot move the window, and restarts adopted without loss,
//! by example and as properties over arbitrary interleavings.

use std::time::{Duration, Instant};

use framecast_rtp::jitter::{Filed, JitterBuffer, JitterConfig, PacketInfo, Popped, MAX_MISORDER};
use proptest::prelude::*;

const MAIN: u32 = 0x1111_1111;
const OTHER: u32 = 0x2222_2222;

fn info(ssrc: u32, seq: u16) -> PacketInfo {
    PacketInfo {
        seq,
        ssrc,
        rtp_ts: u32::from(seq) * 3000,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A jitter buffer of (ssrc, seq) items, with a clock the test moves.
struct Harness {
    jb: JitterBuffer<(u32, u16)>,
    now: Instant,
    out: Vec<(u32, u16, bool)>,
}

impl Harness {
    fn new(config: JitterConfig) -> Self {
        Harness {
            jb: JitterBuffer::new(config),
            now: Instant::now(),
            out: Vec::new(),
        }
    }

    fn put(&mut self, ssrc: u32, seq: u16) -> Filed {
        let filed = self.jb.insert(info(ssrc, seq), (ssrc, seq), self.now);
        self.drain_due();
        filed
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.drain_due();
    }

    fn drain_due(&mut self) {
        for _ in 0..100_000 {
            match self.jb.pop(self.now) {
                Popped::Packet {
                    item,
                    info,
                    discont,
                } => {
                    assert_eq!((info.ssrc, info.seq), item);
                    self.out.push((item.0, item.1, discont));
                }
                _ => return,
            }
        }
        panic!("pop never stopped");
    }

    fn finish(&mut self) {
        for _ in 0..100_000 {
            match self.jb.pop_draining() {
                Popped::Packet { item, discont, .. } => self.out.push((item.0, item.1, discont)),
                Popped::Empty => return,
                Popped::WaitUntil(_) => panic!("draining waits"),
            }
        }
        panic!("draining never ended");
    }

    fn seqs(&self, ssrc: u32) -> Vec<u16> {
        self.out
            .iter()
            .filter(|o| o.0 == ssrc)
            .map(|o| o.1)
            .collect()
    }
}

fn no_startup() -> JitterConfig {
    JitterConfig {
        startup: Duration::ZERO,
        ..JitterConfig::default()
    }
}

#[test]
fn in_order_packets_go_out_at_once_after_the_startup_window() {
    let mut h = Harness::new(JitterConfig::default());
    assert_eq!(h.put(MAIN, 65530), Filed::Held);
    assert!(h.out.is_empty(), "the first packet waits for earlier ones");
    h.advance(ms(20));
    assert_eq!(h.seqs(MAIN), [65530]);
    for seq in (65531..=65535).chain(0..10) {
        h.put(MAIN, seq);
        assert_eq!(
            h.out.last().map(|o| o.1),
            Some(seq),
            "at once, across the wrap"
        );
    }
    assert!(h.out.iter().all(|o| !o.2), "no DISCONT");
    let s = h.jb.stats();
    assert_eq!((s.pushed, s.lost, s.late, s.stray), (16, 0, 0, 0));
}

#[test]
fn the_startup_window_orders_the_first_packets() {
    let mut h = Harness::new(JitterConfig::default());
    // The stream's first packets arrive reordered: 3 before 1 and 2.
    h.put(MAIN, 3);
    h.advance(ms(4));
    h.put(MAIN, 1);
    h.put(MAIN, 2);
    h.put(MAIN, 4);
    assert!(h.out.is_empty());
    h.advance(ms(16));
    assert_eq!(h.seqs(MAIN), [1, 2, 3, 4]);
    assert_eq!(h.jb.stats().late, 0);
    // After the start, an earlier packet is late.
    h.put(MAIN, 0);
    assert_eq!(h.jb.stats().late, 1);
}

#[test]
fn a_gap_waits_latency_then_counts_lost_and_marks_discont() {
    let mut h = Harness::new(no_startup());
    h.put(MAIN, 100);
    h.put(MAIN, 103);
    h.advance(ms(49));
    assert_eq!(h.seqs(MAIN), [100]);
    // One of the two comes in time.
    h.put(MAIN, 101);
    assert_eq!(h.seqs(MAIN), [100, 101]);
    h.advance(ms(1));
    assert_eq!(h.seqs(MAIN), [100, 101, 103]);
    assert_eq!(h.out[2], (MAIN, 103, true));
    assert_eq!(h.jb.stats().lost, 1);
    // The lost one, too late now.
    h.put(MAIN, 102);
    assert_eq!(h.jb.stats().late, 1);
    assert_eq!(h.jb.stats().lost, 1);
}

#[test]
fn a_stray_of_another_ssrc_far_ahead_moves_nothing() {
    let mut h = Harness::new(no_startup());
    for seq in 0..50u16 {
        h.put(MAIN, seq);
        if seq % 10 == 5 {
            assert_eq!(h.put(OTHER, seq.wrapping_add(500)), Filed::Stray);
        }
    }
    // And one of the main SSRC, far behind and far ahead.
    assert_eq!(
        h.put(MAIN, 50u16.wrapping_sub(MAX_MISORDER as u16 + 50)),
        Filed::Stray
    );
    assert_eq!(h.put(MAIN, 50 + 5000), Filed::Stray);
    for seq in 50..60u16 {
        h.put(MAIN, seq);
    }
    assert_eq!(h.seqs(MAIN), (0..60).collect::<Vec<_>>());
    assert!(h.seqs(OTHER).is_empty());
    let s = h.jb.stats();
    assert_eq!((s.lost, s.late, s.stray, s.restarts), (0, 0, 7, 0));
}

#[test]
fn a_sender_restarted_behind_with_the_same_ssrc_is_adopted_without_loss() {
    let mut h = Harness::new(no_startup());
    for seq in 1000..1100u16 {
        h.put(MAIN, seq);
    }
    // The sender restarts 500 behind: the first packet is a stray, the
    // second confirms it.
    assert_eq!(h.put(MAIN, 600), Filed::Stray);
    assert_eq!(h.put(MAIN, 601), Filed::Restart);
    for seq in 602..700u16 {
        h.put(MAIN, seq);
    }
    let expected: Vec<u16> = (1000..1100).chain(600..700).collect();
    assert_eq!(h.seqs(MAIN), expected);
    let first_new = h.out.iter().position(|o| o.1 == 600).unwrap();
    assert!(
        h.out[first_new].2,
        "the first packet of the new stream is DISCONT"
    );
    let s = h.jb.stats();
    assert_eq!((s.lost, s.late, s.stray, s.restarts), (0, 0, 0, 1));
}

#[test]
fn a_restart_with_a_new_ssrc_waits_for_the_old_to_fall_silent_and_keeps_its_packets() {
    let mut h = Harness::new(no_startup());
    for seq in 0..100u16 {
        h.put(MAIN, seq);
    }
    // The old sender's last packets are still held behind a gap.
    h.put(MAIN, 102);
    h.advance(ms(10));
    // The new sender starts at once, elsewhere in sequence space.
    for seq in 40_000..40_010u16 {
        assert_eq!(h.put(OTHER, seq), Filed::Stray);
        h.advance(ms(10));
    }
    // 250 ms after the old sender's last packet the new one is adopted.
    h.advance(ms(250));
    let expected: Vec<u16> = (0..100).chain([102]).collect();
    assert_eq!(h.seqs(MAIN), expected);
    assert_eq!(h.seqs(OTHER), (40_000..40_010).collect::<Vec<_>>());
    for seq in 40_010..40_020u16 {
        h.put(OTHER, seq);
    }
    assert_eq!(h.seqs(OTHER).len(), 20);
    let s = h.jb.stats();
    assert_eq!((s.stray, s.restarts), (0, 1), "{s:?}");
}

#[test]
fn strays_just_before_the_followed_source_stalls_do_not_take_over() {
    // Two in-sequence packets of another SSRC, then the followed source
    // stalls for longer than `switch_after` (a loaded receiver): the
    // strays sent nothing during the silence, so they stay strays and the
    // followed source goes on when it comes back.
    let mut h = Harness::new(no_startup());
    for seq in 0..50u16 {
        h.put(MAIN, seq);
    }
    assert_eq!(h.put(OTHER, 7), Filed::Stray);
    assert_eq!(h.put(OTHER, 8), Filed::Stray);
    h.advance(ms(600));
    for seq in 50..60u16 {
        assert_eq!(h.put(MAIN, seq), Filed::Held);
    }
    assert_eq!(h.seqs(MAIN), (0..60).collect::<Vec<_>>());
    assert!(h.seqs(OTHER).is_empty());
    let s = h.jb.stats();
    assert_eq!((s.stray, s.restarts, s.lost), (2, 0, 0), "{s:?}");
}

#[test]
fn an_rtcp_bye_lets_the_new_source_in_at_once() {
    let mut h = Harness::new(no_startup());
    for seq in 0..10u16 {
        h.put(MAIN, seq);
    }
    h.jb.source_ended(MAIN);
    h.put(OTHER, 7);
    assert_eq!(h.put(OTHER, 8), Filed::Restart);
    assert_eq!(h.seqs(OTHER), [7, 8]);
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let mut h = Harness::new(no_startup());
    h.put(MAIN, 1);
    h.put(MAIN, 3);
    assert_eq!(h.put(MAIN, 3), Filed::Duplicate);
    h.put(MAIN, 2);
    assert_eq!(h.put(MAIN, 2), Filed::Late);
    assert_eq!(h.seqs(MAIN), [1, 2, 3]);
    assert_eq!(h.jb.stats().duplicates, 1);
}

#[test]
fn end_of_stream_gives_every_gap_up() {
    let mut h = Harness::new(JitterConfig::default());
    h.put(MAIN, 5);
    h.put(MAIN, 9);
    h.finish();
    assert_eq!(h.seqs(MAIN), [5, 9]);
    assert_eq!(h.jb.stats().lost, 3);
}

/// What happens to the main stream's packets on their way in.
#[derive(Debug, Clone)]
enum Event {
    /// The next main packet.
    Main,
    /// A packet of another SSRC, anywhere in sequence space.
    Other(u16),
    /// A copy of one of the last main packets sent.
    Duplicate(u8),
    /// The clock moves on (ms).
    Wait(u8),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => Just(Event::Main),
        3 => any::<u16>().prop_map(Event::Other),
        1 => any::<u8>().prop_map(Event::Duplicate),
        1 => (0u8..30).prop_map(Event::Wait),
    ]
}

proptest! {
    /// Whatever a second source sends, duplicates included, across the
    /// sequence wrap, every packet of the main stream comes out once and
    /// in order, and nothing counts as lost.
    #[test]
    fn a_second_ssrc_never_costs_the_main_stream_a_packet(
        start: u16,
        other_ssrc in any::<u32>().prop_filter("not main", |s| *s != MAIN),
        events in proptest::collection::vec(event(), 1..600),
    ) {
        let mut h = Harness::new(JitterConfig::default());
        let mut sent: Vec<u16> = Vec::new();
        let mut seq = start;
        // The main stream is the one that starts first.
        for e in std::iter::once(Event::Main).chain(events) {
            match e {
                Event::Main => {
                    h.put(MAIN, seq);
                    sent.push(seq);
                    seq = seq.wrapping_add(1);
                }
                Event::Other(s) => {
                    h.put(other_ssrc, s);
                }
                Event::Duplicate(back) => {
                    if let Some(s) = sent.iter().rev().nth(usize::from(back) % 8) {
                        h.put(MAIN, *s);
                    }
                }
                // Shorter than `switch_after`: the main source stays live.
                Event::Wait(d) => h.advance(ms(u64::from(d) % 20)),
            }
        }
        h.finish();
        prop_assert_eq!(h.seqs(MAIN), sent);
        prop_assert_eq!(h.jb.stats().lost, 0);
        prop_assert!(h.seqs(other_ssrc).is_empty());
    }

    /// Packets reordered within the latency all come out in order, the
    /// first ones included (the start-up window).
    #[test]
    fn reordering_within_the_latency_loses_nothing(
        start: u16,
        swaps in proptest::collection::vec((0usize..200, 1usize..6), 0..60),
    ) {
        let mut order: Vec<u16> = (0..200u16).map(|i| start.wrapping_add(i)).collect();
        for (at, by) in swaps {
            let j = (at + by).min(order.len() - 1);
            order.swap(at, j);
        }
        let mut h = Harness::new(JitterConfig::default());
        for s in &order {
            h.put(MAIN, *s);
            h.advance(Duration::from_micros(500));
        }
        h.finish();
        let expected: Vec<u16> = (0..200u16).map(|i| start.wrapping_add(i)).collect();
        prop_assert_eq!(h.seqs(MAIN), expected);
        let s = h.jb.stats();
        prop_assert_eq!((s.lost, s.late), (0, 0));
    }

    /// Any input at all: output in the followed stream's order, bounded,
    /// never a panic.
    #[test]
    fn arbitrary_input_stays_bounded(
        packets in proptest::collection::vec((0u32..3, any::<u16>(), 0u8..20), 0..800),
    ) {
        let mut h = Harness::new(JitterConfig { capacity: 64, ..JitterConfig::default() });
        for (ssrc, seq, wait) in packets {
            h.put(ssrc, seq);
            h.advance(ms(u64::from(wait)));
            prop_assert!(h.jb.len() <= 64 * 2 + framecast_rtp::jitter::SET_ASIDE);
        }
        h.finish();
        prop_assert!(h.jb.is_empty());
    }
}

#[test]
fn gaps_are_asked_for_then_retried_then_given_up() {
    let mut h = Harness::new(JitterConfig {
        nack: true,
        nack_delay: Duration::ZERO,
        nack_retry: ms(10),
        nack_max: 2,
        ..no_startup()
    });
    let mut asked = Vec::new();
    h.put(MAIN, 65534);
    h.put(MAIN, 2); // 65535, 0 and 1 missing, across the wrap
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    assert_eq!(asked, [65535, 0, 1]);
    // Not again before the retry interval.
    asked.clear();
    h.advance(ms(5));
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    assert!(asked.is_empty());
    assert_eq!(h.jb.next_nack_due(), Some(h.now + ms(5)));
    // One came back; the other two are asked a second and last time.
    h.put(MAIN, 0);
    h.advance(ms(5));
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    assert_eq!(asked, [65535, 1]);
    asked.clear();
    h.advance(ms(10));
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    assert!(asked.is_empty(), "at most nack_max tries");
    assert_eq!(h.jb.next_nack_due(), None);
    assert_eq!(h.jb.stats().nacks, 5);
    // The retransmission of 65535 arrives in time: out in order.
    h.put(MAIN, 65535);
    assert_eq!(h.seqs(MAIN), [65534, 65535, 0]);
    h.advance(ms(50));
    assert_eq!(h.seqs(MAIN), [65534, 65535, 0, 2]);
    assert_eq!(h.jb.stats().lost, 1);
}

#[test]
fn without_nack_nothing_is_asked() {
    let mut h = Harness::new(no_startup());
    h.put(MAIN, 1);
    h.put(MAIN, 5);
    let mut asked = 0;
    h.jb.nack_requests(h.now, |_| {
        asked += 1;
        true
    });
    assert_eq!((asked, h.jb.next_nack_due()), (0, None));
}

#[test]
fn a_gap_is_given_time_to_arrive_reordered_before_it_is_asked_for() {
    let mut h = Harness::new(JitterConfig {
        nack: true,
        nack_delay: ms(10),
        ..no_startup()
    });
    let mut asked = Vec::new();
    h.put(MAIN, 1);
    h.put(MAIN, 3);
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    assert!(asked.is_empty(), "not at once");
    assert_eq!(h.jb.next_nack_due(), Some(h.now + ms(10)));
    // Reordered by 5 ms: it comes, nothing is asked.
    h.advance(ms(5));
    h.put(MAIN, 2);
    h.put(MAIN, 5);
    // (The element asks after every packet it files: 4 is noticed now.)
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    h.advance(ms(9));
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    assert!(asked.is_empty());
    // 4 has had its 10 ms: asked for.
    h.advance(ms(1));
    h.jb.nack_requests(h.now, |s| {
        asked.push(s);
        true
    });
    assert_eq!(asked, [4]);
}

#[test]
fn resent_packets_fill_only_what_was_asked_and_never_pass_for_a_restart() {
    let mut h = Harness::new(JitterConfig {
        nack: true,
        nack_delay: Duration::ZERO,
        ..no_startup()
    });
    for seq in 1000..1300u16 {
        if seq != 1290 {
            h.put(MAIN, seq);
        }
    }
    h.jb.nack_requests(h.now, |_| true);
    // Resent copies of packets long gone (far behind): late, never a
    // restart however many follow each other.
    for seq in 1000..1010u16 {
        let f = h.jb.insert_resent(info(MAIN, seq), (MAIN, seq), h.now);
        assert_eq!(f, Filed::Late);
    }
    // One never asked for, of another source: late too.
    assert_eq!(
        h.jb.insert_resent(info(OTHER, 1290), (OTHER, 1290), h.now),
        Filed::Late
    );
    // The one asked for fills its gap.
    assert_eq!(
        h.jb.insert_resent(info(MAIN, 1290), (MAIN, 1290), h.now),
        Filed::Held
    );
    h.advance(ms(1));
    assert_eq!(h.seqs(MAIN), (1000..1300).collect::<Vec<_>>());
    let s = h.jb.stats();
    assert_eq!((s.restarts, s.lost, s.late, s.stray), (0, 0, 11, 0));
}

#[test]
fn a_restart_gives_up_and_marks_the_old_windows_gaps() {
    let mut h = Harness::new(no_startup());
    h.put(MAIN, 10);
    h.put(MAIN, 12); // 11 missing, held behind the gap
    h.jb.source_ended(MAIN);
    h.put(OTHER, 500);
    h.put(OTHER, 501);
    let seen: Vec<(u32, u16, bool)> = h.out.clone();
    assert_eq!(
        seen,
        [
            (MAIN, 10, false),
            (MAIN, 12, true),
            (OTHER, 500, true),
            (OTHER, 501, false)
        ]
    );
    assert_eq!(h.jb.stats().lost, 1);
}

#[test]
fn one_packet_far_ahead_does_not_give_the_window_up() {
    let mut h = Harness::new(no_startup());
    for seq in 0..10u16 {
        h.put(MAIN, seq);
    }
    // In-stream (same SSRC) but 1500 ahead: a stray, not a 1490-packet gap.
    assert_eq!(h.put(MAIN, 1510), Filed::Stray);
    for seq in 10..20u16 {
        h.put(MAIN, seq);
        h.advance(ms(60));
    }
    assert_eq!(h.seqs(MAIN), (0..20).collect::<Vec<_>>());
    assert_eq!((h.jb.stats().lost, h.jb.stats().restarts), (0, 0));
}
