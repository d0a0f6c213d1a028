//! 10 000 frames through `appsrc (acquire_buffer) ! videoconvert ! appsink`
//! allocate nothing per frame in steady state — on any thread. Counted
//! with a global counting allocator; this binary holds this one test so
//! nothing else allocates meanwhile.

use std::time::Duration;

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::{make_element, ClockTime, Pipeline, State, VideoMeta};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

const W: usize = 320;
const H: usize = 240;

fn run_frames(appsrc: &AppSrc, appsink: &AppSink, from: u64, count: u64) {
    for n in from..from + count {
        let mut frame = appsrc.acquire_buffer().expect("pooled frame");
        {
            let f = frame.get_mut().expect("unique");
            let (offset, stride) = f
                .meta::<VideoMeta>()
                .map_or((0, W * 3), |m| (m.offset[0], m.stride[0]));
            {
                let mut map = f.map_writable().expect("map");
                for row in map[offset..].chunks_mut(stride).take(H) {
                    row[..W * 3].fill(n as u8);
                }
            }
            f.set_pts(Some(ClockTime::from_nseconds(n * 33_333_333)));
        }
        appsrc.push_buffer(frame).expect("push");
        let sample = appsink
            .pull_sample(Some(Duration::from_secs(5)))
            .expect("frame out");
        assert_eq!(
            sample.buffer.pts(),
            Some(ClockTime::from_nseconds(n * 33_333_333))
        );
    }
}

#[test]
fn appsrc_videoconvert_appsink_allocates_nothing_per_frame() {
    let pipeline = Pipeline::new("zero-alloc");
    let src = make_element("appsrc", Some("src")).unwrap();
    let convert = make_element("videoconvert", None).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property_from_str(
        "caps",
        &format!("video/x-raw,format=BGR,width={W},height={H},framerate=30/1"),
    )
    .unwrap();
    sink.set_property_from_str("caps", "video/x-raw,format=I420")
        .unwrap();
    sink.set_property("sync", false).unwrap();
    pipeline.add_and_link(&[&src, &convert, &sink]).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&src).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();

    run_frames(appsrc, appsink, 0, 500); // warm-up: pools fill, threads start
    let before = counting_alloc::allocations();
    run_frames(appsrc, appsink, 500, 10_000);
    let allocations = counting_alloc::allocations() - before;
    pipeline.set_state(State::Null).unwrap();
    assert_eq!(
        allocations, 0,
        "heap allocations during 10 000 steady-state frames"
    );
}
