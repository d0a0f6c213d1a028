//! After a pipeline goes to Null, no buffer, memory or pool is alive — checked
//! with the leaks tracer's API. One test in this binary: the tracer is
//! process-wide.

use std::time::Duration;

use framecast_test_support::pipelines::appsrc_to_appsink;

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::{trace, Buffer, State};

#[test]
fn after_null_no_buffer_memory_or_pool_is_alive() {
    trace::start("leaks(filters=Buffer,Memory,BufferPool)").expect("leaks tracer");
    let leaks = trace::leaks().expect("active");
    assert_eq!(leaks.live_count(), 0);

    let (pipeline, src, sink) = appsrc_to_appsink(
        "p",
        "video/x-raw,format=BGR,width=64,height=48,framerate=30/1",
        &["videoconvert", "queue"],
    );

    for round in 0..2 {
        pipeline.set_state(State::Playing).unwrap();
        let appsrc = AppSrc::from_element(&src).unwrap();
        let appsink = AppSink::from_element(&sink).unwrap();
        for _ in 0..10 {
            let frame = appsrc.acquire_buffer().unwrap();
            appsrc.push_buffer(frame).unwrap();
        }
        let first = appsink
            .pull_sample(Some(Duration::from_secs(5)))
            .expect("a frame");
        drop(first);
        // Leave frames queued in appsrc, the queue and the appsink, plus one
        // in flight from the application, then stop.
        appsrc
            .push_buffer(Buffer::with_size(64 * 48 * 3).unwrap())
            .ok();
        assert!(
            leaks.live_count() > 0,
            "round {round}: objects exist while playing"
        );
        pipeline.set_state(State::Null).unwrap();
        let alive = leaks.live_count();
        assert_eq!(
            alive,
            0,
            "round {round}: alive after Null: {:#?}",
            leaks.live_objects()
        );
    }
    drop(pipeline);
    trace::stop("leaks");
}
