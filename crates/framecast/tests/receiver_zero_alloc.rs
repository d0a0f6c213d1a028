//! The receive side (`udpsrc ! rtpjitterbuffer ! rtph264depay !
//! openh264dec ! appsink`, with the sender's RTCP on `sink_rtcp`, as
//! `framecast receive` runs it) allocates nothing per frame on the Rust
//! side in steady state: datagrams land in udpsrc's pool, the jitter
//! buffer holds them in a ring allocated at start, the depayloader
//! assembles access units into its frame pool, the decoder copies each
//! picture into a pooled frame. The frames come from a `Sender` in the
//! same process (itself allocation-free, `sender_zero_alloc.rs`), so the
//! count covers both ends. Counted with a global counting allocator on
//! every thread (OpenH264's own C++ allocations are not seen by it). This
//! binary holds this one test so nothing else allocates meanwhile.

use std::time::Duration;

use framecast::elements::appsink::AppSink;
use framecast::sender::Sender;
use framecast::{parse_launch, ReferenceTimestampMeta, State};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/frames.rs"]
mod frames;
#[path = "support/ports.rs"]
mod ports;
use ports::free_port_pair;

const W: usize = 320;
const H: usize = 240;

/// Sends `count` frames, each once the previous one came out decoded;
/// returns how many carried the sender's NTP capture time.
fn run_frames(sender: &Sender, sink: &AppSink, from: u64, count: u64) -> u64 {
    let mut stamped = 0;
    for n in from..from + count {
        let mut frame = sender.frame().expect("pooled frame");
        frames::paint_moving_bar(&mut frame, W, H, 3, n);
        assert!(sender.push(frame).is_ok(), "push refused");
        let sample = sink
            .pull_sample(Some(Duration::from_secs(5)))
            .unwrap_or_else(|| panic!("frame {n} was not decoded"));
        if ReferenceTimestampMeta::find(&sample.buffer, ReferenceTimestampMeta::NTP).is_some() {
            stamped += 1;
        }
    }
    stamped
}

#[test]
fn the_receiver_allocates_nothing_per_frame() {
    let port = free_port_pair();
    let receiver = parse_launch(&format!(
        "udpsrc port={port} address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtpjitterbuffer name=jb ! rtph264depay ! openh264dec \
         ! appsink name=sink sync=false max-buffers=0 \
         udpsrc port={} address=127.0.0.1 ! jb.sink_rtcp",
        port + 1
    ))
    .expect("receiver");
    receiver.set_state(State::Playing).expect("playing");
    let sink_element = receiver.by_name("sink").expect("sink");
    let sink = AppSink::from_element(&sink_element).expect("appsink");
    let sender = frames::test_sender(port, W, H);

    // Warm-up: pools fill, the largest frame (an IDR) passes, RTCP starts.
    run_frames(&sender, sink, 0, 100);
    let before = counting_alloc::allocations();
    let stamped = run_frames(&sender, sink, 100, 300);
    let allocations = counting_alloc::allocations() - before;
    sender.finish().expect("finish");
    receiver.set_state(State::Null).expect("null");
    assert_eq!(
        stamped, 300,
        "every frame carries the sender's capture time"
    );
    assert_eq!(
        allocations, 0,
        "heap allocations while receiving 300 steady-state frames"
    );
}
