//! A framecast sender and receiver with a bad network between them: the
//! impairment relay (support/impair.rs) reorders, delays with jitter,
//! duplicates, injects strays and fakes a sender restart, and the
//! receiver must lose nothing that arrived. Each run is a few seconds of
//! 640x360 H.264 at 30 fps (1 Mbit/s); every wait is bounded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use framecast::receiver::Receiver;
use framecast::sender::Codec;

use framecast_test_support::ports;
use ports::free_port_pair;

use framecast_test_support::impair;
use impair::{Impairment, Relay, RelayStats};

use framecast_test_support::frames;
use frames::{push_moving_bar, test_sender_builder};

const W: usize = 640;
const H: usize = 360;

/// What one run through the relay saw.
#[derive(Debug)]
struct Outcome {
    sent: u64,
    decoded: u64,
    relay: RelayStats,
    lost: u64,
    late: u64,
    duplicates: u64,
    stray: u64,
    restarts: u64,
    discarded: u64,
    decode_errors: u64,
    concealed: u64,
    decoder_dropped: u64,
    fec_recovered: u64,
    nacks: u64,
    rtx: u64,
    /// Packets the senders resent as RTX.
    retransmissions: u64,
}

fn counter(rx: &Receiver, element: &str, name: &str) -> u64 {
    rx.pipeline()
        .by_name(element)
        .map(|e| e.counter(name))
        .unwrap_or_else(|| panic!("no {element} in the receiver"))
}

/// A counter of the receiver's decoder (found by its factory).
fn decoder_counter(rx: &Receiver, name: &str) -> u64 {
    rx.pipeline()
        .elements()
        .into_iter()
        .find(|e| e.factory().name == "openh264dec")
        .map(|e| e.counter(name))
        .expect("an openh264dec in the receiver")
}

/// `sent` is what the senders encoded (pushed frames minus those their
/// latest-wins queue dropped under load).
///
/// Sends `runs` streams one after the other (each a fresh `Sender`: a new
/// SSRC and sequence), `frames` frames each at 30 fps, through a relay
/// with `impairment`, into one `Receiver`; pulls until every frame is in
/// or the stream has been quiet for 1.5 s.
fn run(impairment: Impairment, runs: u32, frames: u64) -> Outcome {
    run_with(impairment, runs, frames, true, 0, RECEIVER_LATENCY)
}

/// The receiver's default jitter-buffer latency, which the repair tests
/// race (a retransmission must land within it).
const RECEIVER_LATENCY: Duration = Duration::from_millis(50);

/// For the tests that expect every frame: room for a loaded machine's
/// stalls (a relay or receiver thread descheduled for tens of ms) on top
/// of the impairment's own delays, which stay far inside it.
const LOSSLESS_LATENCY: Duration = Duration::from_millis(200);

/// [`run`] with [`LOSSLESS_LATENCY`].
fn run_lossless(impairment: Impairment, runs: u32, frames: u64) -> Outcome {
    run_with(impairment, runs, frames, true, 0, LOSSLESS_LATENCY)
}

/// [`run`], with retransmission requests on or off, and FEC groups of
/// `fec` packets (0: none).
fn run_with(
    impairment: Impairment,
    runs: u32,
    frames: u64,
    nack: bool,
    fec: u32,
    latency: Duration,
) -> Outcome {
    let port = free_port_pair();
    let rx = Receiver::builder()
        .port(port)
        .address("127.0.0.1")
        .codec(Codec::H264)
        .latency(latency)
        .retransmission(nack)
        .build()
        .expect("receiver");
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let relay = Relay::start(impairment, to);
    let relay_port = relay.port();
    let sending = std::thread::spawn(move || {
        let mut sent = 0;
        let mut retransmissions = 0;
        for _ in 0..runs {
            let tx = test_sender_builder(relay_port, W, H)
                .fec(fec)
                .build()
                .expect("sender");
            let start = Instant::now();
            for n in 0..frames {
                push_moving_bar(&tx, W, H, n);
                sent += 1;
                let due = start + Duration::from_millis(33 * (n + 1));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            retransmissions += tx
                .pipeline()
                .by_name("sink")
                .map_or(0, |s| s.counter("retransmissions"));
            // What reached the encoder (under load the sender's queue
            // drops the oldest frame: latest wins).
            let stats = tx.finish().expect("finish");
            sent -= stats.dropped;
            // A restarting sender takes a moment to come back.
            std::thread::sleep(Duration::from_millis(100));
        }
        (sent, retransmissions)
    });
    let expected = frames * u64::from(runs);
    let deadline = Instant::now() + Duration::from_secs(10 * u64::from(runs) + 10);
    let mut decoded = 0;
    let mut quiet_since = Instant::now();
    while decoded < expected && Instant::now() < deadline {
        match rx.pull(Some(Duration::from_millis(100))) {
            Ok(Some(_)) => {
                decoded += 1;
                quiet_since = Instant::now();
            }
            Ok(None) => {
                if sending.is_finished() && quiet_since.elapsed() > Duration::from_millis(1500) {
                    break;
                }
            }
            Err(e) => panic!("receiver failed: {e}"),
        }
    }
    let (sent, retransmissions) = sending.join().expect("sender thread");
    let outcome = Outcome {
        sent,
        decoded,
        relay: relay.stop(),
        lost: counter(&rx, "jb", "num-lost"),
        late: counter(&rx, "jb", "num-late"),
        duplicates: counter(&rx, "jb", "num-duplicates"),
        stray: counter(&rx, "jb", "num-stray"),
        restarts: counter(&rx, "jb", "num-resets"),
        discarded: rx.stats().frames_discarded,
        decode_errors: decoder_counter(&rx, "decode-errors"),
        concealed: decoder_counter(&rx, "frames-concealed"),
        decoder_dropped: decoder_counter(&rx, "frames-dropped"),
        fec_recovered: counter(&rx, "jb", "num-fec-recovered"),
        nacks: counter(&rx, "jb", "num-nacks"),
        rtx: counter(&rx, "jb", "num-rtx"),
        retransmissions,
    };
    for w in rx.take_warnings() {
        eprintln!("WARN {w}");
    }
    let _ = rx.stop();
    eprintln!("{outcome:?}");
    outcome
}

/// Asserts that at least `percent` % of the frames sent were shown.
fn assert_shown(o: &Outcome, percent: u64) {
    assert!(
        o.decoded * 100 >= o.sent * percent,
        "{} of {} frames shown (want {percent} %): {o:?}",
        o.decoded,
        o.sent
    );
}

/// 5 % random loss, as every loss test here has it.
fn five_percent_loss() -> Impairment {
    Impairment {
        loss: 0.05,
        ..Impairment::default()
    }
}

#[test]
fn reordering_loses_nothing_not_even_the_first_frames() {
    // A quarter of the packets 5 ms late: the jitter buffer puts them
    // back, the first keyframe's included (the start-up window).
    let o = run_lossless(
        Impairment {
            reorder: 0.25,
            reorder_by: Duration::from_millis(5),
            ..Impairment::default()
        },
        1,
        90,
    );
    assert!(o.relay.reordered > 50, "{o:?}");
    assert_eq!(o.decoded, o.sent, "{o:?}");
    assert_eq!((o.lost, o.discarded), (0, 0), "{o:?}");
    // A packet late past the retransmission delay (10 ms) was asked for
    // too: whichever copy came second is late, nothing else is.
    assert!(o.late <= o.rtx, "{o:?}");
}

#[test]
fn delay_with_jitter_loses_nothing() {
    // 20 ms +- 10 ms on every packet: they arrive in any order within
    // 20 ms, well inside the latency.
    let o = run_lossless(
        Impairment {
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(10),
            ..Impairment::default()
        },
        1,
        90,
    );
    assert_eq!(o.decoded, o.sent, "{o:?}");
    assert_eq!((o.lost, o.discarded), (0, 0), "{o:?}");
}

#[test]
fn duplicates_are_dropped_and_cost_nothing() {
    let o = run_lossless(
        Impairment {
            duplicate: 0.1,
            ..Impairment::default()
        },
        1,
        60,
    );
    assert!(o.relay.duplicated > 5, "{o:?}");
    assert_eq!(o.decoded, o.sent, "{o:?}");
    assert_eq!((o.lost, o.discarded), (0, 0), "{o:?}");
    // A copy is a duplicate while the first is held, late once it has
    // gone out (as GStreamer counts them).
    // (and a packet resent because it was slow adds one more copy).
    assert_eq!(o.duplicates + o.late, o.relay.duplicated + o.rtx, "{o:?}");
}

#[test]
fn stray_packets_of_another_ssrc_cannot_move_the_window() {
    // A packet of another SSRC, 500 ahead in sequence, five times a
    // second: each is counted as stray and nothing else changes (it used
    // to move the window and drop thousands of genuine packets as late).
    let o = run_lossless(
        Impairment {
            stray_every: Some(Duration::from_millis(200)),
            ..Impairment::default()
        },
        1,
        90,
    );
    assert!(o.relay.strays >= 10, "{o:?}");
    assert_eq!(o.decoded, o.sent, "{o:?}");
    assert_eq!((o.lost, o.discarded), (0, 0), "{o:?}");
    assert!(o.late <= o.rtx, "{o:?}");
    assert_eq!(o.stray, o.relay.strays, "{o:?}");
}

#[test]
fn a_sender_restarting_500_behind_loses_nothing() {
    // The second sender is rewritten into the first restarting with the
    // same SSRC and sequence numbers 500 behind its last: adopted as a
    // restart, and every frame of both runs decodes.
    let o = run_lossless(
        Impairment {
            restart_behind: Some(500),
            ..Impairment::default()
        },
        2,
        45,
    );
    assert!(o.relay.rewritten > 0, "{o:?}");
    assert_eq!(o.decoded, o.sent, "{o:?}");
    assert_eq!(o.restarts, 1, "{o:?}");
    assert_eq!((o.lost, o.discarded), (0, 0), "{o:?}");
}

#[test]
fn a_sender_restarting_with_a_new_ssrc_loses_nothing() {
    let o = run_lossless(Impairment::default(), 2, 45);
    assert_eq!(o.decoded, o.sent, "{o:?}");
    assert_eq!(o.restarts, 1, "{o:?}");
    assert_eq!((o.lost, o.discarded), (0, 0), "{o:?}");
}

#[test]
fn at_five_percent_loss_without_feedback_concealment_keeps_the_picture_going() {
    // 5 % random loss and no retransmission: frames that lost packets are
    // decoded with what arrived and concealed. Before, every frame after a
    // loss was dropped until a keyframe arrived whole: almost none did.
    let o = run_with(five_percent_loss(), 1, 150, false, 0, RECEIVER_LATENCY);
    assert!(o.relay.dropped > 10, "{o:?}");
    assert_eq!((o.nacks, o.rtx), (0, 0), "{o:?}");
    assert!(o.lost > 0, "{o:?}");
    assert!(o.concealed > 0, "{o:?}");
    // Nothing is dropped waiting for a keyframe: only access units that
    // gave no picture at all are lost.
    assert_eq!(o.decoder_dropped, o.decode_errors, "{o:?}");
    assert_shown(&o, 80);
}

#[test]
fn at_five_percent_loss_retransmission_repairs_nearly_everything() {
    // The receiver asks (RTCP Generic NACK) for what the relay dropped;
    // the sender resends it as RTX through the same lossy relay, within
    // the 50 ms jitter-buffer latency.
    let o = run(five_percent_loss(), 1, 150);
    assert!(o.relay.dropped > 10, "{o:?}");
    assert!(o.relay.feedback > 0 && o.nacks > 0, "{o:?}");
    assert!(o.retransmissions > 0 && o.rtx > 0, "{o:?}");
    // Repaired: what stays lost is what was lost twice (a resent packet
    // dropped too), about 5 % of the 5 %.
    assert!(o.lost * 4 <= o.relay.dropped, "{o:?}");
    assert_shown(&o, 95);
}

#[test]
fn at_five_percent_loss_without_feedback_fec_rebuilds_what_was_lost() {
    // A one-way link (no NACK): a parity packet per frame (or per 5
    // packets) lets the receiver rebuild one lost packet of each group.
    let o = run_with(five_percent_loss(), 1, 150, false, 5, RECEIVER_LATENCY);
    assert!(o.relay.dropped > 10, "{o:?}");
    assert_eq!(o.nacks, 0, "{o:?}");
    assert!(o.fec_recovered > 0, "{o:?}");
    // What stays lost is what FEC could not rebuild (two losses in a
    // group, or the parity packet itself lost with another).
    assert!(o.lost * 2 <= o.relay.dropped, "{o:?}");
    assert_shown(&o, 95);
}

/// An RTP packet (payload type 96) of a stranger's SSRC carrying one NAL
/// unit: what a sender that does not know the stream can put in front of a
/// receiver.
fn blind_packet(seq: u16, nal: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&90_000u32.to_be_bytes());
    p.extend_from_slice(&0x0bad_f00du32.to_be_bytes());
    p.extend_from_slice(nal);
    p
}

#[test]
fn two_blind_packets_with_an_unsupported_sps_leave_the_receiver_decoding() {
    // An SPS of High 4:4:4 (profile_idc 244) and a PPS: before, such a pair
    // ended the receiver (exit status 1). They are strays now (another
    // SSRC), and had they reached the decoder it would have warned and
    // gone on (codecs.rs tests that part).
    let sps = [0x67, 244, 0x00, 0x1e, 0x8c, 0x8d, 0x40, 0x50, 0x1e, 0xd0];
    let pps = [0x68, 0xce, 0x06, 0xe2];
    let o = run_lossless(
        Impairment {
            inject_at: Some((
                Duration::from_millis(1000),
                vec![blind_packet(7, &sps), blind_packet(8, &pps)],
            )),
            ..Impairment::default()
        },
        1,
        90,
    );
    assert_eq!(o.relay.injected, 2, "{o:?}");
    assert_eq!(o.decoded, o.sent, "{o:?}");
    assert_eq!((o.lost, o.decode_errors), (0, 0), "{o:?}");
    assert_eq!(o.stray, 2, "{o:?}");
}

#[test]
fn at_ten_percent_loss_retransmission_and_keyframe_requests_keep_nearly_every_frame() {
    // At 10 % the stream's first packet (SPS/PPS) is often among those
    // lost, before the jitter buffer knows the stream and can ask for it:
    // the decoder then asks for a keyframe, and the picture comes within
    // a round trip instead of at the next periodic IDR a second later.
    let o = run(
        Impairment {
            loss: 0.10,
            ..Impairment::default()
        },
        1,
        150,
    );
    assert!(o.relay.dropped > 20 && o.rtx > 0, "{o:?}");
    assert!(o.lost * 4 <= o.relay.dropped, "{o:?}");
    assert_shown(&o, 90);
}
