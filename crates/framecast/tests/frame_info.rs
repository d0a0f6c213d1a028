//! A frame's capture time and id, given to `Sender::push_info`, reach the
//! receiver's frame exactly (RTP header extensions, RFC 8285) through a
//! network that loses 5 % of the packets and reorders a quarter of them
//! (the impairment relay): every frame shown carries the id it was sent
//! with and that frame's capture time, in order. 640x360 H.264 at 30 fps
//! for 3 s; every wait is bounded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use framecast::sender::FrameInfo;
use framecast_test_support::frames::{
    local_receiver_builder, paint_moving_bar, test_sender_builder,
};
use framecast_test_support::impair::{Impairment, Relay};
use framecast_test_support::ports::free_port_pair;

const W: usize = 640;
const H: usize = 360;
const FRAMES: u64 = 90;

#[test]
fn ids_and_capture_times_survive_loss_and_reordering() {
    run(true);
}

#[test]
fn without_retransmission_a_frame_whose_last_packet_is_lost_keeps_its_own() {
    // No NACK: a frame whose marker packet is lost ends at the next
    // frame's first packet, and must not take that packet's id and time.
    run(false);
}

/// Streams 90 frames with ids and capture times through 5 % loss and 25 %
/// reordering, with retransmission requests on or off, and checks every
/// frame shown.
fn run(nack: bool) {
    let port = free_port_pair();
    let rx = local_receiver_builder(port)
        .retransmission(nack)
        .build()
        .expect("receiver");
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let relay = Relay::start(
        Impairment {
            loss: 0.05,
            reorder: 0.25,
            reorder_by: Duration::from_millis(5),
            ..Impairment::default()
        },
        to,
    );
    let relay_port = relay.port();
    let sending = std::thread::spawn(move || {
        let tx = test_sender_builder(relay_port, W, H)
            .build()
            .expect("sender");
        let sdp = tx.sdp().expect("sdp");
        let start = Instant::now();
        let mut captured = HashMap::new();
        for n in 0..FRAMES {
            let mut frame = tx.frame().expect("pooled frame");
            paint_moving_bar(&mut frame, W, H, 3, n);
            // Ids far from the frame count and capture times in the past
            // (as a camera's), so neither can come from anything else.
            let id = 1_000_000_007 * (n + 1);
            let at = SystemTime::now() - Duration::from_millis(40 + n);
            captured.insert(id, at);
            let info = FrameInfo {
                capture_time: Some(at),
                frame_id: Some(id),
            };
            tx.push_info(frame, info).expect("push");
            let due = start + Duration::from_millis(33 * (n + 1));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let _ = tx.finish();
        (sdp, captured)
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut got = Vec::new();
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        match rx.pull(Some(Duration::from_millis(100))) {
            Ok(Some(frame)) => {
                got.push((frame.frame_id(), frame.capture_time(), frame.latency));
                quiet_since = Instant::now();
            }
            Ok(None) if rx.is_eos() => break,
            Ok(None) => {
                if sending.is_finished() && quiet_since.elapsed() > Duration::from_millis(1500) {
                    break;
                }
            }
            Err(e) => panic!("receiver failed: {e}"),
        }
    }
    let (sdp, captured) = sending.join().expect("sender thread");
    let relay = relay.stop();
    let lost = rx.stats().lost;
    eprintln!(
        "{} frames shown, {relay:?}, {lost} lost, {:?}",
        got.len(),
        rx.stats()
    );
    let _ = rx.stop();
    assert!(
        sdp.contains("a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time")
            && sdp.contains("a=extmap:2 urn:x-framecast:rtp-hdrext:frame-id"),
        "{sdp}"
    );
    assert!(relay.dropped > 5 && relay.reordered > 50, "{relay:?}");
    assert!(
        got.len() as u64 * 100 >= FRAMES * if nack { 80 } else { 50 },
        "{} of {FRAMES} frames shown ({relay:?}, {lost} lost)",
        got.len()
    );
    let mut last = 0;
    for (id, at, latency) in &got {
        let id = id.unwrap_or_else(|| panic!("a frame without its id: {got:?}"));
        assert!(id > last, "ids out of order or repeated: {got:?}");
        last = id;
        let sent = captured
            .get(&id)
            .unwrap_or_else(|| panic!("id {id} was never sent"));
        let at = at.unwrap_or_else(|| panic!("frame {id} without its capture time"));
        // NTP's 2^-32 s steps: within a nanosecond or two.
        let off = at.duration_since(*sent).unwrap_or_else(|e| e.duration());
        assert!(
            off < Duration::from_micros(1),
            "frame {id}: {at:?} vs {sent:?}"
        );
        // Captured 40+ ms before the push: the latency says so.
        let latency = latency.unwrap_or_else(|| panic!("frame {id} without latency"));
        assert!(
            latency >= Duration::from_millis(40) && latency < Duration::from_secs(5),
            "frame {id}: {latency:?}"
        );
    }
}
