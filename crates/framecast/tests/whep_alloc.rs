//! Heap allocations per frame on the WebRTC fan-out path, counted by the
//! counting allocator over a whole live pipeline (testsrc → openh264enc →
//! whepsink) while headless Chromium views it (its allocations are in its
//! own process). One test in this binary: the count is process-wide.
//!
//! With no viewer the path allocates nothing (`send` returns before
//! making the shared copy). With viewers it allocates one shared
//! `Arc<[u8]>` per access unit in our code (str0m's `Writer::write` takes
//! the access unit as an `Arc<[u8]>`, so all viewers share it) plus what
//! str0m allocates inside per packet (packetizing, its NACK send buffer,
//! SRTP): bounded here per packet and per viewer.

use std::time::{Duration, Instant};

use framecast_test_support::alloc::{allocations, Counting};
use framecast_test_support::browser::Browser;
use framecast_test_support::pipelines::uint;
use framecast_test_support::whep::{play, serve};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations, frames sent and RTP packets sent over `window`.
fn measure(s: &framecast_test_support::whep::Served, window: Duration) -> (u64, u64, u64) {
    let sink =
        framecast::elements::net::whepsink::WhepSink::from_element(&s.sink).expect("whepsink");
    let packets = || sink.viewers().iter().map(|v| v.packets).sum::<u64>();
    // Frames the encoder produced: the element counts only frames sent
    // while a viewer was there, so count rendered buffers by time.
    let (a0, f0, p0, t0) = (
        allocations(),
        uint(&s.sink, "frames-sent"),
        packets(),
        Instant::now(),
    );
    std::thread::sleep(window);
    let (a1, f1, p1) = (allocations(), uint(&s.sink, "frames-sent"), packets());
    let frames = if f1 > f0 {
        f1 - f0
    } else {
        (t0.elapsed().as_secs_f64() * 30.0) as u64
    };
    (a1 - a0, frames, p1 - p0)
}

#[test]
fn the_webrtc_fan_out_allocates_nothing_without_viewers_and_a_bounded_few_with_them() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = serve(None);
    // Warm: pools filled, the encoder running.
    std::thread::sleep(Duration::from_secs(2));
    let (allocs, frames, _) = measure(&s, Duration::from_secs(2));
    eprintln!("no viewer: {allocs} allocations over {frames} frames");
    assert!(frames >= 30, "the pipeline did not run ({frames} frames)");
    assert!(
        allocs <= frames / 10,
        "{allocs} allocations over {frames} frames with no viewer"
    );

    play(&b, &s.page_url(None));
    std::thread::sleep(Duration::from_secs(2));
    let (allocs, frames, packets) = measure(&s, Duration::from_secs(3));
    let per_frame = allocs as f64 / frames as f64;
    let per_packet = allocs as f64 / packets.max(1) as f64;
    eprintln!(
        "1 viewer: {allocs} allocations over {frames} frames, {packets} packets: \
         {per_frame:.1}/frame, {per_packet:.2}/packet"
    );
    assert!(
        frames >= 45 && packets >= frames,
        "{frames} frames, {packets} packets"
    );
    // The bound: our one shared copy per frame, and a few str0m allocations
    // per packet (measured: 14 a frame, 6.7 a packet at 640x480 with one viewer; BENCHMARKS.md).
    assert!(
        allocs as f64 <= frames as f64 * 2.0 + packets as f64 * 10.0,
        "{per_frame:.1} allocations a frame ({per_packet:.2} a packet)"
    );
}
