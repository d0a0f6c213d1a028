//! The latency and stats tracers on a real pipeline:
//! `fakesrc ! queue ! fakesink`, wired through the pad-push hooks.

use framecast_test_support::child;

use std::sync::Arc;
use std::time::Duration;

use framecast::trace::{self, LatencyTracer, StatsTracer, Tracer};
use framecast::{Message, State};

#[test]
fn latency_and_stats_on_fakesrc_queue_fakesink() {
    let _g = child::serial();
    let latency = LatencyTracer::new("it-latency");
    let stats = StatsTracer::new("it-stats");
    trace::add_tracer(latency.clone() as Arc<dyn Tracer>);
    trace::add_tracer(stats.clone() as Arc<dyn Tracer>);

    let pipeline = framecast::parse_launch(
        "fakesrc name=src num-buffers=100 sizetype=fixed sizemax=64 ! queue name=q ! fakesink name=sink",
    )
    .unwrap();
    let bus = pipeline.bus();
    pipeline.set_state(State::Playing).unwrap();
    let msg = bus.timed_pop_filtered(Some(Duration::from_secs(30)), |m| {
        matches!(m, Message::Eos | Message::Error { .. })
    });
    pipeline.set_state(State::Null).unwrap();
    trace::remove_tracer("it-latency");
    trace::remove_tracer("it-stats");
    assert!(matches!(msg, Some(Message::Eos)), "{msg:?}");

    let l = latency.summary();
    let to_queue = l.path("src", "q").unwrap_or_else(|| panic!("{l}"));
    assert_eq!(to_queue.summary.count, 100, "{l}");
    let to_sink = l.path("src", "sink").unwrap_or_else(|| panic!("{l}"));
    assert!(to_sink.sink, "{l}");
    assert_eq!(to_sink.summary.count, 100, "{l}");
    assert!(to_sink.summary.p50 >= to_queue.summary.p50, "{l}");
    assert!(l.element("sink").is_some(), "{l}");
    assert!(
        l.to_string().contains("src -> sink (sink): count 100"),
        "{l}"
    );

    let s = stats.summary();
    let pad = s.pad("src:src").unwrap_or_else(|| panic!("{s}"));
    assert_eq!((pad.buffers, pad.bytes), (100, 6400), "{s}");
    assert_eq!(pad.push_time.count, 100);
    assert_eq!(s.pad("q:src").map(|p| p.buffers), Some(100), "{s}");
    let acquired: u64 = s.pools.iter().map(|p| p.acquired).sum();
    assert_eq!(acquired, 100, "{s}");
    assert!(
        s.objects_of("Element").is_some_and(|e| e.created >= 3),
        "{s}"
    );
}
