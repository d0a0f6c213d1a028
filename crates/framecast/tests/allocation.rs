//! The allocation query in a running pipeline: a sink's proposed pool is
//! the one buffers come from; a tee merges its branches' proposals.

use std::time::Duration;

use framecast::elements::appsink::AppSink;
use framecast::{make_element, Pipeline, State, VideoMeta};

#[test]
fn appsink_proposed_pool_supplies_the_buffers() {
    let pipeline = Pipeline::new("p");
    let src = make_element("testsrc", None).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property("num-buffers", 10i64).unwrap();
    sink.set_property_from_str("caps", "video/x-raw,format=I420,width=64,height=48")
        .unwrap();
    sink.set_property("sync", false).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    appsink.propose_pool(3, 6);
    pipeline.add_and_link(&[&src, &sink]).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let mut count = 0;
    while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(5))) {
        let proposed = appsink.proposed_pool().expect("the sink proposed a pool");
        assert_eq!(
            sample.buffer.pool_id(),
            Some(proposed.id()),
            "buffer {count} from the proposed pool"
        );
        let meta = sample
            .buffer
            .meta::<VideoMeta>()
            .expect("video meta from the pool");
        assert_eq!((meta.width, meta.height), (64, 48));
        count += 1;
    }
    assert_eq!(count, 10);
    pipeline.set_state(State::Null).unwrap();
}

/// appsrc sizes its pool for its queue full, the frame the application
/// fills and the one downstream works on (the Sender's frames: with 2 the
/// pool grew by a 6 MiB 1080p frame whenever load lined all of them up),
/// made at once, before the first frame.
#[test]
fn appsrc_pool_holds_its_queue_and_the_frames_either_side() {
    for (max_buffers, want) in [(2u64, 4), (5, 7)] {
        let pipeline = framecast::parse_launch(&format!(
            "appsrc name=src max-buffers={max_buffers} caps=video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! appsink name=sink sync=false"
        ))
        .unwrap();
        let sink = pipeline.by_name("sink").unwrap();
        let appsink = AppSink::from_element(&sink).unwrap();
        // A pool of the sink's, asking for 1: what the source makes of it
        // can be read back.
        appsink.propose_pool(1, 0);
        pipeline.set_state(State::Playing).unwrap();
        let src = pipeline.by_name("src").unwrap();
        let appsrc = framecast::elements::appsrc::AppSrc::from_element(&src).unwrap();
        let frame = appsrc
            .acquire_buffer_timeout(Duration::from_secs(5))
            .expect("a pooled frame");
        let pool = appsink.proposed_pool().expect("the proposed pool was used");
        assert_eq!(frame.pool_id(), Some(pool.id()));
        let config = pool.config().expect("configured");
        assert_eq!(config.min_buffers, want, "max-buffers {max_buffers}");
        let stats = pool.stats();
        assert_eq!(
            (stats.allocated, stats.total_allocated),
            (want, u64::from(want))
        );
        drop(frame);
        pipeline.set_state(State::Null).unwrap();
    }
}
