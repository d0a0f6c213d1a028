//! `appsrc (acquire_buffer) ! openh264enc ! openh264dec ! appsink`
//! allocates nothing per frame on the Rust side in steady state: the
//! encoder reads the pooled frame in place and writes each access unit
//! into a pooled buffer, the decoder copies each picture into a pooled
//! frame. Counted with a global counting allocator (OpenH264's own C++
//! allocations are not seen by it; OpenH264 allocates its frame stores at
//! initialisation). This binary holds this one test so nothing else
//! allocates meanwhile.
//!
//! (The JPEG elements are not here: `jpeg-encoder` and `zune-jpeg`
//! allocate their working buffers per image.)

framecast_test_support::install_counting_allocator!();
use framecast_test_support::frames;
use framecast_test_support::pipelines::appsrc_to_appsink;

const W: usize = 320;
const H: usize = 240;

#[test]
fn openh264_encode_decode_allocates_nothing_per_frame() {
    let (pipeline, src, sink) = appsrc_to_appsink(
        "zero-alloc-h264",
        &format!("video/x-raw,format=I420,width={W},height={H},framerate=30/1"),
        &["openh264enc", "openh264dec"],
    );
    // 200 warm-up frames (pools fill, caps settle), then 1 000 counted.
    let allocations =
        frames::steady_state_allocations(&pipeline, &src, &sink, (W, H, 1), 200, 1_000);
    assert_eq!(
        allocations, 0,
        "heap allocations during 1 000 steady-state frames"
    );
}
