//! appsrc: levels and drop counts for each limit and overflow policy, EOS
//! handling, ownership of refused buffers, and the need-data mode; and the
//! DISCONT marking after drops, which appsrc and `queue` share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use framecast::elements::appsink::{AppSink, AppSinkCallbacks};
use framecast::elements::appsrc::{AppSrc, AppSrcCallbacks, PushError};
use framecast::elements::queue::Queue;
use framecast::pipeline::Overflow;
use framecast::{
    make_element, Buffer, BufferFlags, ClockTime, Element, FlowError, FlowSuccess, Message,
    Pipeline, ReferenceTimestampMeta, State,
};

const CAPS: &str = "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1";

/// A rendered buffer's offset and whether it carried DISCONT.
type Seen = (Option<u64>, bool);

/// appsrc ! appsink, with the sink blocked (a callback that waits on a gate)
/// so the appsrc queue fills deterministically.
struct Rig {
    pipeline: Pipeline,
    src: Element,
    gate: Arc<Mutex<()>>,
    rendered: Arc<AtomicU64>,
    /// (offset, DISCONT) of each rendered buffer, in order.
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn rig(props: &[(&str, &str)]) -> Rig {
    rig_through(props, None)
}

/// [`rig`] with `between` (a `queue`) linked between appsrc and appsink.
fn rig_through(props: &[(&str, &str)], between: Option<&Element>) -> Rig {
    let pipeline = Pipeline::new("rig");
    let src = make_element("appsrc", Some("src")).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property_from_str("caps", CAPS).unwrap();
    for (k, v) in props {
        src.set_property_from_str(k, v).unwrap();
    }
    sink.set_property("sync", false).unwrap();
    let gate = Arc::new(Mutex::new(()));
    let rendered = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    {
        let gate = gate.clone();
        let rendered = rendered.clone();
        let seen = seen.clone();
        AppSink::from_element(&sink)
            .unwrap()
            .set_callbacks(AppSinkCallbacks {
                new_sample: Some(Box::new(move |sample| {
                    let _held = gate.lock().unwrap();
                    let b = &sample.buffer;
                    seen.lock()
                        .unwrap()
                        .push((b.offset(), b.flags().contains(BufferFlags::DISCONT)));
                    rendered.fetch_add(1, Ordering::SeqCst);
                    Ok(FlowSuccess::Ok)
                })),
                eos: None,
            });
    }
    match between {
        Some(middle) => pipeline.add_and_link(&[&src, middle, &sink]).unwrap(),
        None => pipeline.add_and_link(&[&src, &sink]).unwrap(),
    }
    Rig {
        pipeline,
        src,
        gate,
        rendered,
        seen,
    }
}

fn frame(n: u64, size: usize) -> Buffer {
    let mut b = Buffer::with_size(size).unwrap();
    let f = b.get_mut().unwrap();
    f.set_pts(Some(ClockTime::from_mseconds(n * 33)));
    f.set_duration(Some(ClockTime::from_mseconds(33)));
    f.set_offset(Some(n));
    b
}

/// A frame that appsrc passes on untouched (PTS and capture meta already
/// set), so a clone the test keeps makes it shared all the way down.
fn kept_frame(n: u64) -> Buffer {
    let mut b = frame(n, 100);
    b.get_mut()
        .unwrap()
        .add_meta(ReferenceTimestampMeta::capture(ClockTime::ZERO));
    b
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Pushes one frame and waits until the streaming thread holds it inside
/// the (gated) sink, so the queue is empty and the stream is stuck.
fn clog(appsrc: &AppSrc) {
    appsrc.push_buffer(frame(1000, 256)).unwrap();
    wait_for("the first frame to reach the sink", || {
        appsrc.levels().popped == 1
    });
}

#[test]
fn drop_newest_returns_the_buffer_and_counts() {
    let r = rig(&[("max-buffers", "3"), ("overflow", "drop-newest")]);
    r.pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    assert_eq!(appsrc.overflow(), Overflow::DropNewest);
    let held = r.gate.lock().unwrap();
    clog(appsrc);
    for n in 0..3 {
        appsrc.push_buffer(frame(n, 256)).unwrap();
    }
    let refused = appsrc.push_buffer(frame(3, 256)).unwrap_err();
    assert!(matches!(refused, PushError::Full(_)));
    assert_eq!(
        refused.into_buffer().offset(),
        Some(3),
        "the refused frame comes back"
    );
    let levels = appsrc.levels();
    assert_eq!((levels.buffers, levels.bytes, levels.dropped), (3, 768, 1));
    assert_eq!(
        r.src.property("current-level-buffers").unwrap().as_u64(),
        Some(3)
    );
    assert_eq!(r.src.property("dropped").unwrap().as_u64(), Some(1));
    drop(held);
    wait_for("all frames rendered", || {
        r.rendered.load(Ordering::SeqCst) == 4
    });
    r.pipeline.set_state(State::Null).unwrap();
}

#[test]
fn drop_oldest_keeps_the_latest_frames() {
    let r = rig(&[("max-buffers", "2"), ("overflow", "drop-oldest")]);
    r.pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    let held = r.gate.lock().unwrap();
    clog(appsrc);
    for n in 0..6 {
        appsrc.push_buffer(frame(n, 100)).unwrap();
    }
    let levels = appsrc.levels();
    assert_eq!(
        (levels.buffers, levels.bytes, levels.dropped, levels.pushed),
        (2, 200, 4, 7)
    );
    drop(held);
    wait_for("rendered", || r.rendered.load(Ordering::SeqCst) == 3);
    r.pipeline.set_state(State::Null).unwrap();
}

/// GStreamer's `test_appsrc_limits`: with the first frame stuck in the sink
/// and two queued, a drop-newest drop (the first 4) marks the next frame
/// *pushed*, and after switching to drop-oldest, dropping frame 1 marks the
/// next frame *taken out* (2). Output: 1000, 2 (DISCONT), 4 (DISCONT). The
/// application keeps its frames (shared buffers), which must not lose the
/// flag; the first frame of the stream is DISCONT too, shared or not.
#[test]
fn discont_follows_each_drop_for_both_leaky_types_and_shared_frames() {
    let r = rig(&[("max-buffers", "2"), ("leaky-type", "upstream")]);
    r.pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    let held = r.gate.lock().unwrap();
    let kept: Vec<Buffer> = [1000, 1, 2, 4].map(kept_frame).into();
    appsrc.push_buffer(kept[0].clone()).unwrap();
    wait_for("the first frame to reach the sink", || {
        appsrc.levels().popped == 1
    });
    appsrc.push_buffer(kept[1].clone()).unwrap();
    appsrc.push_buffer(kept[2].clone()).unwrap();
    let refused = appsrc.push_buffer(frame(4, 100)).unwrap_err();
    assert!(matches!(refused, PushError::Full(_)), "{refused:?}");
    r.src
        .set_property_from_str("leaky-type", "downstream")
        .unwrap();
    assert_eq!(appsrc.overflow(), Overflow::DropOldest);
    appsrc.push_buffer(kept[3].clone()).unwrap();
    let levels = appsrc.levels();
    assert_eq!((levels.buffers, levels.dropped), (2, 2));
    drop(held);
    wait_for("three frames rendered", || {
        r.rendered.load(Ordering::SeqCst) == 3
    });
    assert_eq!(
        *r.seen.lock().unwrap(),
        [(Some(1000), true), (Some(2), true), (Some(4), true)]
    );
    assert!(
        kept.iter()
            .all(|b| !b.flags().contains(BufferFlags::DISCONT)),
        "the application's own handles are not written to"
    );
    r.pipeline.set_state(State::Null).unwrap();
}

/// The same sequence through `queue` (appsrc unbounded, so every frame
/// reaches the queue): `leaky=upstream` drops the first 4, `leaky=downstream`
/// then drops 1; the frames are shared (kept by the test) when the queue
/// marks them.
#[test]
fn queue_marks_discont_after_each_leak_for_both_leaky_types() {
    let queue = make_element("queue", Some("q")).unwrap();
    for (k, v) in [
        ("max-size-buffers", "2"),
        ("max-size-bytes", "0"),
        ("max-size-time", "0"),
        ("leaky", "upstream"),
    ] {
        queue.set_property_from_str(k, v).unwrap();
    }
    let r = rig_through(&[("max-buffers", "0"), ("overflow", "block")], Some(&queue));
    r.pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    let q = queue.imp::<Queue>().unwrap().data_queue();
    let held = r.gate.lock().unwrap();
    let kept: Vec<Buffer> = [1000, 1, 2, 4].map(kept_frame).into();
    appsrc.push_buffer(kept[0].clone()).unwrap();
    wait_for("the first frame to reach the sink", || {
        q.levels().popped == 1
    });
    appsrc.push_buffer(kept[1].clone()).unwrap();
    appsrc.push_buffer(kept[2].clone()).unwrap();
    appsrc.push_buffer(kept_frame(4)).unwrap();
    wait_for("the first 4 dropped", || q.levels().dropped == 1);
    queue.set_property_from_str("leaky", "downstream").unwrap();
    appsrc.push_buffer(kept[3].clone()).unwrap();
    wait_for("1 dropped for the second 4", || q.levels().dropped == 2);
    assert_eq!(q.levels().buffers, 2);
    drop(held);
    wait_for("three frames rendered", || {
        r.rendered.load(Ordering::SeqCst) == 3
    });
    assert_eq!(
        *r.seen.lock().unwrap(),
        [(Some(1000), true), (Some(2), true), (Some(4), true)]
    );
    assert!(kept
        .iter()
        .all(|b| !b.flags().contains(BufferFlags::DISCONT)));
    r.pipeline.set_state(State::Null).unwrap();
}

#[test]
fn live_appsrc_defaults_to_drop_oldest_and_non_live_to_block() {
    let r = rig(&[("is-live", "true")]);
    r.pipeline.set_state(State::Playing).unwrap();
    assert_eq!(
        AppSrc::from_element(&r.src).unwrap().overflow(),
        Overflow::DropOldest
    );
    r.pipeline.set_state(State::Null).unwrap();
    let r = rig(&[]);
    r.pipeline.set_state(State::Playing).unwrap();
    assert_eq!(
        AppSrc::from_element(&r.src).unwrap().overflow(),
        Overflow::Block
    );
    r.pipeline.set_state(State::Null).unwrap();
}

#[test]
fn byte_and_time_limits() {
    let r = rig(&[
        ("max-buffers", "0"),
        ("max-bytes", "1000"),
        ("overflow", "drop-newest"),
    ]);
    r.pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    let held = r.gate.lock().unwrap();
    clog(appsrc);
    for n in 0..4 {
        appsrc.push_buffer(frame(n, 256)).unwrap();
    }
    // 1024 bytes queued >= 1000: full.
    assert!(matches!(
        appsrc.push_buffer(frame(4, 256)),
        Err(PushError::Full(_))
    ));
    assert_eq!(appsrc.levels().bytes, 1024);
    drop(held);
    r.pipeline.set_state(State::Null).unwrap();

    let r = rig(&[
        ("max-buffers", "0"),
        ("max-time", "100000000"),
        ("overflow", "drop-newest"),
    ]);
    r.pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    let held = r.gate.lock().unwrap();
    clog(appsrc);
    // 33 ms frames: 0..=2 span 99 ms, the 4th makes 132 ms >= 100 ms.
    for n in 0..4 {
        appsrc.push_buffer(frame(n, 10)).unwrap();
    }
    assert_eq!(appsrc.levels().time, ClockTime::from_mseconds(132));
    assert!(matches!(
        appsrc.push_buffer(frame(4, 10)),
        Err(PushError::Full(_))
    ));
    drop(held);
    r.pipeline.set_state(State::Null).unwrap();
}

#[test]
fn eos_into_a_blocked_appsrc_does_not_hang() {
    let r = rig(&[("max-buffers", "1"), ("overflow", "block")]);
    r.pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    let held = r.gate.lock().unwrap();
    clog(appsrc);
    appsrc.push_buffer(frame(0, 10)).unwrap();
    std::thread::scope(|s| {
        let blocked = s.spawn(|| appsrc.push_buffer(frame(1, 10)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !blocked.is_finished(),
            "the push should block on the full queue"
        );
        appsrc.end_of_stream().unwrap();
        let result = blocked.join().unwrap();
        assert!(matches!(result, Err(PushError::Eos(_))), "{result:?}");
    });
    drop(held);
    let eos = r
        .pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(10)), |m| matches!(m, Message::Eos));
    assert!(eos.is_some(), "EOS reaches the bus after the queued data");
    r.pipeline.set_state(State::Null).unwrap();
}

#[test]
fn push_after_eos_or_before_start_returns_the_buffer() {
    let r = rig(&[]);
    let appsrc = AppSrc::from_element(&r.src).unwrap();
    let refused = appsrc.push_buffer(frame(7, 10)).unwrap_err();
    assert!(matches!(refused, PushError::Flushing(_)));
    assert_eq!(refused.flow_error(), FlowError::Flushing);
    r.pipeline.set_state(State::Playing).unwrap();
    appsrc.end_of_stream().unwrap();
    let refused = appsrc.push_buffer(frame(8, 10)).unwrap_err();
    assert!(matches!(refused, PushError::Eos(_)));
    assert_eq!(refused.into_buffer().offset(), Some(8));
    assert_eq!(appsrc.end_of_stream(), Err(FlowError::Eos));
    r.pipeline.set_state(State::Null).unwrap();
}

#[test]
fn need_data_mode_delivers_exactly_the_requested_frames() {
    let pipeline = Pipeline::new("need-data");
    let src = make_element("appsrc", Some("src")).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property_from_str("caps", CAPS).unwrap();
    sink.set_property("sync", false).unwrap();
    sink.set_property("max-buffers", 100u64).unwrap();
    pipeline.add_and_link(&[&src, &sink]).unwrap();
    let asked = Arc::new(AtomicU64::new(0));
    {
        let asked = asked.clone();
        AppSrc::from_element(&src)
            .unwrap()
            .set_callbacks(AppSrcCallbacks {
                need_data: Some(Box::new(move |appsrc, _hint| {
                    let n = asked.fetch_add(1, Ordering::SeqCst);
                    if n < 30 {
                        let mut frame = appsrc.acquire_buffer().expect("pool");
                        frame.get_mut().unwrap().set_offset(Some(n));
                        frame
                            .get_mut()
                            .unwrap()
                            .set_pts(Some(ClockTime::from_mseconds(n * 33)));
                        appsrc.push_buffer(frame).expect("push");
                    } else {
                        let _ = appsrc.end_of_stream();
                    }
                })),
                enough_data: None,
            });
    }
    pipeline.set_state(State::Playing).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let mut offsets = Vec::new();
    while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(10))) {
        offsets.push(sample.buffer.offset().unwrap());
    }
    assert_eq!(offsets, (0..30).collect::<Vec<_>>());
    assert_eq!(
        asked.load(Ordering::SeqCst),
        31,
        "30 frames + the call that ended the stream"
    );
    pipeline.set_state(State::Null).unwrap();
}

#[test]
fn do_timestamp_stamps_running_time_at_push() {
    let pipeline = Pipeline::new("ts");
    let src = make_element("appsrc", Some("src")).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property_from_str("caps", CAPS).unwrap();
    src.set_property("do-timestamp", true).unwrap();
    src.set_property("is-live", true).unwrap();
    sink.set_property("sync", false).unwrap();
    pipeline.add_and_link(&[&src, &sink]).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&src).unwrap();
    std::thread::sleep(Duration::from_millis(40));
    let before = pipeline.context().running_time();
    appsrc.push_buffer(Buffer::with_size(256).unwrap()).unwrap();
    let after = pipeline.context().running_time();
    let sample = AppSink::from_element(&sink)
        .unwrap()
        .pull_sample(Some(Duration::from_secs(5)))
        .expect("sample");
    let pts = sample.buffer.pts().expect("stamped");
    assert!(
        pts >= before && pts <= after,
        "{pts} not in {before}..{after}"
    );
    assert!(pts >= ClockTime::from_mseconds(40));
    assert!(sample
        .buffer
        .meta::<framecast::ReferenceTimestampMeta>()
        .is_some());
    pipeline.set_state(State::Null).unwrap();
}
