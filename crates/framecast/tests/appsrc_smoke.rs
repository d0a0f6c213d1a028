//! Smoke test: frames pushed into `appsrc` come out of `appsink`, through a
//! `queue`, in order.

use std::time::Duration;

use framecast_test_support::pipelines::appsrc_queue_appsink;

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::{ClockTime, Message, State};

#[test]
fn appsrc_queue_appsink_delivers_frames_in_order() {
    let (pipeline, src, sink) =
        appsrc_queue_appsink("video/x-raw,format=I420,width=320,height=240,framerate=30/1");
    pipeline.set_state(State::Playing).unwrap();

    let appsrc = AppSrc::from_element(&src).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let producer = std::thread::scope(|s| {
        let h = s.spawn(|| {
            for n in 0..20u64 {
                let mut frame = appsrc.acquire_buffer().expect("pooled frame");
                {
                    let f = frame.get_mut().unwrap();
                    f.set_pts(Some(ClockTime::from_mseconds(n * 33)));
                    f.map_writable().unwrap()[0] = n as u8;
                }
                appsrc.push_buffer(frame).expect("push");
            }
            appsrc.end_of_stream().unwrap();
        });
        let mut got = Vec::new();
        while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(5))) {
            let first = sample.buffer.map_readable().unwrap().contiguous()[0];
            got.push((first, sample.buffer.pts().map(|t| t.mseconds())));
            assert!(
                sample.buffer.pool_id().is_some(),
                "frames come from the negotiated pool"
            );
        }
        h.join().unwrap();
        got
    });
    assert_eq!(producer.len(), 20);
    for (n, (first, pts)) in producer.iter().enumerate() {
        assert_eq!(*first, n as u8);
        assert_eq!(*pts, Some(n as u64 * 33));
    }
    assert!(appsink.is_eos());
    let bus = pipeline.bus();
    let eos = bus.timed_pop_filtered(Some(Duration::from_secs(5)), |m| {
        matches!(m, Message::Eos | Message::Error { .. })
    });
    assert!(matches!(eos, Some(Message::Eos)), "{eos:?}");
    pipeline.set_state(State::Null).unwrap();
}
