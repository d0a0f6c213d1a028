//! Watching costs no allocation either: with the tracers the dashboard
//! starts (leaks, stats, latency) active, 10 000 frames through `appsrc !
//! videoconvert ! appsink` allocate nothing per frame in steady state, on
//! any thread. 10 000 is more than the latency tracer keeps origins for
//! (4 096), so its bounded maps turn over while counted. This binary holds
//! this one test: the tracers are process-wide.

framecast_test_support::install_counting_allocator!();

#[test]
fn with_the_dashboards_tracers_a_pipeline_allocates_nothing_per_frame() {
    framecast::trace::start(
        "leaks(name=zero-alloc-leaks,log-leaks-on-deinit=false);stats(log-on-deinit=false);latency(log-on-deinit=false)",
    )
    .expect("the tracers start");
    let allocations =
        framecast_test_support::frames::bgr_to_i420_allocations("zero-alloc-traced", 10_000);
    // They did watch: the latency tracer has the path, the stats tracer
    // the pads.
    let latency = framecast::trace::latency()
        .expect("latency tracer")
        .summary();
    assert!(
        latency.paths.iter().any(|p| p.summary.count >= 10_000),
        "{latency}"
    );
    assert!(framecast::trace::stats().is_some());
    assert_eq!(
        allocations, 0,
        "heap allocations during 10 000 steady-state frames, traced"
    );
}
