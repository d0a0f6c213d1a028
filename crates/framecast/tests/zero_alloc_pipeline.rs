//! 10 000 frames through `appsrc (acquire_buffer) ! videoconvert ! appsink`
//! allocate nothing per frame in steady state — on any thread. Counted
//! with a global counting allocator; this binary holds this one test so
//! nothing else allocates meanwhile.

framecast_test_support::install_counting_allocator!();
use framecast_test_support::frames;
use framecast_test_support::pipelines::appsrc_to_appsink;

const W: usize = 320;
const H: usize = 240;

#[test]
fn appsrc_videoconvert_appsink_allocates_nothing_per_frame() {
    let (pipeline, src, sink) = appsrc_to_appsink(
        "zero-alloc",
        &format!("video/x-raw,format=BGR,width={W},height={H},framerate=30/1"),
        &["videoconvert"],
    );
    sink.set_property_from_str("caps", "video/x-raw,format=I420")
        .unwrap();
    // 500 warm-up frames (pools fill, threads start), then 10 000 counted.
    let allocations =
        frames::steady_state_allocations(&pipeline, &src, &sink, (W, H, 3), 500, 10_000);
    assert_eq!(
        allocations, 0,
        "heap allocations during 10 000 steady-state frames"
    );
}
