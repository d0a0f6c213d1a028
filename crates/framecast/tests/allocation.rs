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
