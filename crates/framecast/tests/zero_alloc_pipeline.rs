//! 10 000 frames through `appsrc (acquire_buffer) ! videoconvert ! appsink`
//! allocate nothing per frame in steady state — on any thread. Counted
//! with a global counting allocator; this binary holds this one test so
//! nothing else allocates meanwhile.

framecast_test_support::install_counting_allocator!();

#[test]
fn appsrc_videoconvert_appsink_allocates_nothing_per_frame() {
    // 500 warm-up frames (pools fill, threads start), then 10 000 counted.
    let allocations = framecast_test_support::frames::bgr_to_i420_allocations("zero-alloc", 10_000);
    assert_eq!(
        allocations, 0,
        "heap allocations during 10 000 steady-state frames"
    );
}
