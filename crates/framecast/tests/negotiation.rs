//! Negotiation failures reach the bus naming both elements; states restart.

use std::time::Duration;

use framecast_test_support::pipelines::{appsrc_queue_appsink, bus_error};

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::{make_element, Buffer, Pipeline, State};

#[test]
fn incompatible_caps_fail_with_not_negotiated_naming_both_elements() {
    let pipeline = Pipeline::new("p");
    let src = make_element("appsrc", Some("camera")).unwrap();
    let sink = make_element("appsink", Some("consumer")).unwrap();
    src.set_property_from_str(
        "caps",
        "video/x-raw,format=I420,width=64,height=48,framerate=30/1",
    )
    .unwrap();
    sink.set_property_from_str("caps", "video/x-raw,format=NV12")
        .unwrap();
    pipeline.add_and_link(&[&src, &sink]).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let (source, message) = bus_error(&pipeline, Duration::from_secs(10));
    assert_eq!(source, "camera");
    assert!(message.contains("not negotiated"), "{message}");
    assert!(
        message.contains("camera") && message.contains("consumer"),
        "{message}"
    );
    pipeline.set_state(State::Null).unwrap();
}

#[test]
fn playing_null_playing_restarts_cleanly() {
    let (pipeline, src, sink) =
        appsrc_queue_appsink("video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1");
    for round in 0..3u64 {
        pipeline.set_state(State::Playing).unwrap();
        assert_eq!(pipeline.state(), State::Playing);
        let appsrc = AppSrc::from_element(&src).unwrap();
        let appsink = AppSink::from_element(&sink).unwrap();
        for n in 0..5u64 {
            let mut b = appsrc.acquire_buffer().unwrap();
            b.get_mut().unwrap().set_offset(Some(round * 100 + n));
            appsrc.push_buffer(b).unwrap();
        }
        for n in 0..5u64 {
            let s = appsink
                .pull_sample(Some(Duration::from_secs(5)))
                .expect("sample");
            assert_eq!(s.buffer.offset(), Some(round * 100 + n));
        }
        // Leave a frame in flight, then stop: it must be freed, not leaked.
        appsrc.push_buffer(Buffer::with_size(64).unwrap()).unwrap();
        pipeline.set_state(State::Null).unwrap();
        assert_eq!(pipeline.state(), State::Null);
        assert_eq!(src.state(), State::Null);
        assert_eq!(appsrc.levels().buffers, 0);
    }
}
