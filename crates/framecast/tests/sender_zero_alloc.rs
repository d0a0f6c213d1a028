//! The whole sender, as `framecast::Sender` builds it (`appsrc` BGR, live,
//! latest-wins ! `videoconvert` ! `h264enc` ! `rtph264pay` ! `udpsink`,
//! RTCP included), allocates nothing per frame on the Rust side in steady
//! state: frames come from the appsrc pool, the encoder writes into pooled
//! buffers, the payloader writes packets into pooled buffers, udpsink
//! batches them into a reused slab and sends with one sendmmsg. Reading
//! `Sender::stats` allocates nothing either.
//!
//! The test thread waits for each frame's last packet (marker bit) on a
//! plain UDP socket, so every counted frame really went out. Counted
//! with a global counting allocator on every thread (OpenH264's own C++
//! allocations are not seen by it). This binary holds this one test so
//! nothing else allocates meanwhile.

use std::net::UdpSocket;
use std::time::{Duration, SystemTime};

use framecast::sender::{FrameInfo, Sender};

use framecast_test_support::alloc as counting_alloc;
#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;
use framecast_test_support::frames;

const W: usize = 320;
const H: usize = 240;

/// Pushes `count` frames, each after the previous one's last packet
/// arrived; returns the packets seen.
fn run_frames(sender: &Sender, socket: &UdpSocket, from: u64, count: u64) -> u64 {
    let mut packets = 0;
    for n in from..from + count {
        let mut frame = sender.frame().expect("pooled frame");
        frames::paint_moving_bar(&mut frame, W, H, 3, n);
        // With a capture time and id: the header extensions' path.
        let info = FrameInfo {
            capture_time: Some(SystemTime::now()),
            frame_id: Some(n),
        };
        assert!(sender.push_info(frame, info).is_ok(), "push refused");
        // What a live stats line reads, every frame here.
        let stats = sender.stats();
        assert!(stats.frames_in > n);
        packets += frames::wait_access_unit(socket, n);
    }
    packets
}

#[test]
fn the_sender_allocates_nothing_per_frame() {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let port = socket.local_addr().expect("addr").port();
    let sender = frames::test_sender(port, W, H);

    // Warm-up: pools fill, caps settle, the first RTCP report goes.
    run_frames(&sender, &socket, 0, 100);
    let before = counting_alloc::allocations();
    let packets = run_frames(&sender, &socket, 100, 500);
    let allocations = counting_alloc::allocations() - before;
    let stats = sender.finish().expect("finish");
    assert!(packets >= 500, "{packets} packets");
    assert_eq!(stats.dropped, 0);
    assert_eq!(
        allocations, 0,
        "heap allocations while sending 500 steady-state frames ({packets} packets)"
    );
}
