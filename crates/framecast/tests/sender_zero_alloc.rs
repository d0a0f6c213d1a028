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
//! nothing else allocates meanwhile. The same holds for a sender that
//! converts the program's BGR into I420 as it is pushed
//! (`convert_in_push`, as the Python bindings build it).

use std::net::UdpSocket;
use std::time::Duration;

use framecast::elements::video::frame::packed_layout;
use framecast::elements::video::Frame;
use framecast::sender::{FrameInfo, Sender};
use framecast::{VideoFormat, VideoInfo};

use framecast_test_support::alloc as counting_alloc;
framecast_test_support::install_counting_allocator!();
use framecast_test_support::frames;

const W: usize = 320;
const H: usize = 240;

/// Pushes `count` frames with `push`, each after the previous one's last
/// packet arrived; returns the packets seen.
fn run_frames(
    sender: &Sender,
    socket: &UdpSocket,
    from: u64,
    count: u64,
    push: &dyn Fn(&Sender, u64),
) -> u64 {
    let mut packets = 0;
    for n in from..from + count {
        push(sender, n);
        // What a live stats line reads, every frame here.
        let stats = sender.stats();
        assert!(stats.frames_in > n);
        packets += frames::wait_access_unit(socket, n);
    }
    packets
}

/// Warms `sender` up, then counts the allocations of 500 frames pushed
/// with `push`; checks that each went out and none was dropped.
fn allocations_per_500_frames(
    sender: Sender,
    socket: &UdpSocket,
    push: &dyn Fn(&Sender, u64),
) -> u64 {
    // Warm-up: pools fill, caps settle, the first RTCP report goes.
    run_frames(&sender, socket, 0, 100, push);
    let before = counting_alloc::allocations();
    let packets = run_frames(&sender, socket, 100, 500, push);
    let allocations = counting_alloc::allocations() - before;
    let stats = sender.finish().expect("finish");
    assert!(packets >= 500, "{packets} packets");
    assert_eq!(stats.dropped, 0);
    allocations
}

#[test]
fn the_sender_allocates_nothing_per_frame() {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let port = socket.local_addr().expect("addr").port();
    let pooled = |sender: &Sender, n| frames::push_moving_bar(sender, W, H, n);
    let allocations = allocations_per_500_frames(frames::test_sender(port, W, H), &socket, &pooled);
    assert_eq!(
        allocations, 0,
        "heap allocations while sending 500 steady-state frames"
    );

    // The program's own BGR memory converted into I420 as it is pushed
    // (what the Python bindings do), two images taking turns.
    let images: [Vec<u8>; 2] = [vec![40; W * H * 3], vec![200; W * H * 3]];
    let layout = packed_layout(&VideoInfo::new(VideoFormat::Bgr, W as u32, H as u32).unwrap());
    let converted = |sender: &Sender, n: u64| {
        let src = Frame::new(layout, &images[n as usize % 2]).expect("frame");
        let info = FrameInfo {
            capture_time: Some(std::time::SystemTime::now()),
            frame_id: Some(n),
        };
        sender.push_frame(&src, info).expect("push");
    };
    let sender = frames::test_sender_builder(port, W, H)
        .convert_in_push(true)
        .build()
        .expect("sender");
    let pooled_size = sender.frame().expect("pooled frame").size();
    assert_eq!(pooled_size, W * H * 3 / 2, "the pool holds I420 frames");
    let allocations = allocations_per_500_frames(sender, &socket, &converted);
    assert_eq!(
        allocations, 0,
        "heap allocations while converting and sending 500 steady-state frames"
    );
}
