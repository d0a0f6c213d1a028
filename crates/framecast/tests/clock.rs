//! Live pipelines: the latency is computed from the elements and posted on
//! the bus; live sources stamp running time; sinks sync to the clock.

use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::{make_element, ClockTime, Message, Pipeline, State};

#[test]
fn live_pipeline_reports_its_latency_and_runs_in_real_time() {
    let pipeline = Pipeline::new("live");
    let src = make_element("testsrc", None).unwrap();
    let queue = make_element("queue", None).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property("is-live", true).unwrap();
    src.set_property("num-buffers", 10i64).unwrap();
    sink.set_property_from_str(
        "caps",
        "video/x-raw,format=GRAY8,width=32,height=32,framerate=50/1",
    )
    .unwrap();
    sink.set_property("sync", true).unwrap();
    pipeline.add_and_link(&[&src, &queue, &sink]).unwrap();
    let start = Instant::now();
    pipeline.set_state(State::Playing).unwrap();
    let latency = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(5)), |m| {
            // The first report comes before the source has negotiated its
            // framerate; the one after negotiation carries the frame time.
            matches!(m, Message::Latency { min, .. } if *min > ClockTime::ZERO)
        });
    let Some(Message::Latency { live, min, .. }) = latency else {
        panic!("no latency message: {latency:?}");
    };
    assert!(live);
    // One frame at 50 fps: the live source's own latency.
    assert_eq!(min, ClockTime::from_mseconds(20));
    assert_eq!(pipeline.latency(), ClockTime::from_mseconds(20));

    let appsink = AppSink::from_element(&sink).unwrap();
    let mut pts = Vec::new();
    while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(5))) {
        pts.push(sample.buffer.pts().expect("live buffers are stamped"));
    }
    assert_eq!(pts.len(), 10);
    assert_eq!(
        pipeline.position(),
        pts.last().copied(),
        "position = last rendered running time"
    );
    assert!(
        pts.windows(2).all(|w| w[0] < w[1]),
        "increasing running times: {pts:?}"
    );
    // 10 frames at 50 fps, rendered at running time + 20 ms latency.
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(180),
        "ran faster than real time: {elapsed:?}"
    );
    pipeline.set_state(State::Null).unwrap();
}

#[test]
fn eos_sent_to_a_live_pipeline_ends_it() {
    let pipeline = framecast::parse_launch("testsrc is-live=true ! video/x-raw,width=32,height=32,framerate=1/1 ! queue ! fakesink sync=false").unwrap();
    pipeline.set_state(State::Playing).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let start = Instant::now();
    assert!(pipeline.send_eos());
    let eos = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(5)), |m| {
            matches!(m, Message::Eos | Message::Error { .. })
        });
    assert!(matches!(eos, Some(Message::Eos)), "{eos:?}");
    // The source was waiting up to 100 ms for its next frame: EOS does not
    // wait for it.
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    pipeline.set_state(State::Null).unwrap();
}
