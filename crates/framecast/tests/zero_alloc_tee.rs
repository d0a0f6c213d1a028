//! A tee's fan-out allocates nothing per buffer: 10 000 frames through
//! `appsrc ! tee ! (appsink, fakesink)` in steady state, counted on every
//! thread. One test in this binary.

use framecast_test_support::alloc as counting_alloc;
framecast_test_support::install_counting_allocator!();

use std::time::Duration;

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::{parse_launch, ClockTime, State};

#[test]
fn tee_fan_out_allocates_nothing_per_buffer() {
    let pipeline = parse_launch(
        "appsrc name=src caps=\"video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1\" \
         ! tee name=t t. ! appsink name=out sync=false t. ! fakesink",
    )
    .unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let src = pipeline.by_name("src").unwrap();
    let appsrc = AppSrc::from_element(&src).unwrap();
    let out = pipeline.by_name("out").unwrap();
    let appsink = AppSink::from_element(&out).unwrap();
    let run = |from: u64, count: u64| {
        for n in from..from + count {
            let mut frame = appsrc.acquire_buffer().expect("pooled frame");
            frame
                .get_mut()
                .unwrap()
                .set_pts(Some(ClockTime::from_nseconds(n)));
            appsrc.push_buffer(frame).expect("push");
            let sample = appsink
                .pull_sample(Some(Duration::from_secs(5)))
                .expect("frame out");
            assert_eq!(sample.buffer.pts(), Some(ClockTime::from_nseconds(n)));
        }
    };
    run(0, 500);
    let before = counting_alloc::allocations();
    run(500, 10_000);
    let allocations = counting_alloc::allocations() - before;
    pipeline.set_state(State::Null).unwrap();
    assert_eq!(
        allocations, 0,
        "heap allocations during 10 000 frames through a tee"
    );
}
