//! The receive side, as `framecast receive` and the Python `Receiver` run
//! it ([`Receiver`]: `udpsrc ! rtpjitterbuffer ! rtph264depay !
//! openh264dec ! videoconvert ! appsink`, with the sender's RTCP on
//! `sink_rtcp`), allocates nothing per frame on the Rust side in steady
//! state, `pull`, `copy_packed_to` and `stats` included: datagrams land in
//! udpsrc's pool, the jitter buffer holds them in a ring allocated at
//! start, the depayloader assembles access units into its frame pool, the
//! decoder and converter write into pooled frames. The frames come from a
//! `Sender` in the same process (itself allocation-free,
//! `sender_zero_alloc.rs`), so the count covers both ends. Counted with a
//! global counting allocator on every thread (OpenH264's own C++
//! allocations are not seen by it). This binary holds this one test so
//! nothing else allocates meanwhile.

use std::time::Duration;

use framecast::receiver::Receiver;
use framecast::sender::Sender;
use framecast::VideoFormat;

use framecast_test_support::alloc as counting_alloc;
framecast_test_support::install_counting_allocator!();
use framecast_test_support::frames;
use framecast_test_support::ports;
use ports::free_port_pair;

const W: usize = 320;
const H: usize = 240;

/// Sends `count` frames, each once the previous one came out decoded and
/// was copied out packed into `out`; returns how many had a latency (the
/// sender's NTP capture time).
fn run_frames(sender: &Sender, receiver: &Receiver, out: &mut [u8], from: u64, count: u64) -> u64 {
    let mut stamped = 0;
    for n in from..from + count {
        frames::push_moving_bar(sender, W, H, n);
        let frame = receiver
            .pull(Some(Duration::from_secs(5)))
            .expect("no pipeline error")
            .unwrap_or_else(|| panic!("frame {n} was not decoded"));
        assert_eq!(frame.copy_packed_to(out).expect("copy"), W * H * 3);
        if frame.latency.is_some() && frame.capture_time().is_some() {
            stamped += 1;
        }
        assert_eq!(frame.frame_id(), Some(n));
        assert_eq!(receiver.stats().lost, 0);
    }
    stamped
}

#[test]
fn the_receiver_allocates_nothing_per_frame() {
    let port = free_port_pair();
    let receiver = frames::local_receiver_builder(port)
        .output_format(VideoFormat::Bgr)
        .build()
        .expect("receiver");
    let sender = frames::test_sender(port, W, H);
    let mut out = vec![0u8; W * H * 3];

    // Warm-up: pools fill, the largest frame (an IDR) passes, RTCP starts.
    run_frames(&sender, &receiver, &mut out, 0, 100);
    let before = counting_alloc::allocations();
    let stamped = run_frames(&sender, &receiver, &mut out, 100, 300);
    let allocations = counting_alloc::allocations() - before;
    sender.finish().expect("finish");
    receiver.stop().expect("stop");
    assert_eq!(
        stamped, 300,
        "every frame carries the sender's capture time"
    );
    assert_eq!(
        allocations, 0,
        "heap allocations while receiving 300 steady-state frames"
    );
}
