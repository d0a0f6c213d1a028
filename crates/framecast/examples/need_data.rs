//! The seed program done right, callback mode: appsrc asks for each frame
//! (`need-data`) and the callback writes it into a pooled buffer.
//!
//! ```text
//! cargo run --release -p framecast --example need_data -- [SECONDS] [SINK]
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast::elements::appsrc::{AppSrc, AppSrcCallbacks};
use framecast::{parse_launch, ClockTime, Message, State, VideoMeta};

mod common;
use common::{finish, rss_kib, seconds_and_sink, FPS, HEIGHT, WIDTH};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    framecast::init()?;
    let (seconds, sink) = seconds_and_sink()?;
    let total = seconds * FPS;
    let pipeline = parse_launch(&format!(
        "appsrc name=src caps=\"video/x-raw,format=BGR,width={WIDTH},height={HEIGHT},framerate={FPS}/1\" \
         ! videoconvert ! {sink}"
    ))?;
    let src = pipeline.by_name("src").ok_or("no appsrc")?;
    let appsrc = AppSrc::from_element(&src).ok_or("not an appsrc")?;
    let made = Arc::new(AtomicU64::new(0));
    let counter = made.clone();
    appsrc.set_callbacks(AppSrcCallbacks {
        need_data: Some(Box::new(move |appsrc, _hint| {
            let n = counter.load(Ordering::Relaxed);
            if n >= total {
                let _ = appsrc.end_of_stream();
                return;
            }
            let Ok(mut frame) = appsrc.acquire_buffer() else {
                return;
            };
            if let Some(f) = frame.get_mut() {
                // Timestamps from the frame number: the sink paces playback.
                f.set_pts(Some(ClockTime::from_nseconds(n * 1_000_000_000 / FPS)));
                f.set_duration(Some(ClockTime::from_nseconds(1_000_000_000 / FPS)));
                let (offset, stride) = f
                    .meta::<VideoMeta>()
                    .map_or((0, WIDTH * 3), |m| (m.offset[0], m.stride[0]));
                if let Ok(mut map) = f.map_writable() {
                    for (y, row) in map[offset..].chunks_mut(stride).take(HEIGHT).enumerate() {
                        row[..WIDTH * 3].fill((y as u64 + n) as u8);
                    }
                }
            }
            if appsrc.push_buffer(frame).is_ok() {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })),
        enough_data: None,
    });
    let start = Instant::now();
    let rss_start = rss_kib();
    pipeline.set_state(State::Playing)?;
    let bus = pipeline.bus();
    let deadline = Duration::from_secs(seconds + 10);
    loop {
        match bus.timed_pop(Some(Duration::from_secs(1))) {
            Some(Message::Eos) => break,
            Some(Message::Error {
                source, message, ..
            }) => {
                eprintln!("{source}: {message}");
                break;
            }
            _ => {}
        }
        println!(
            "t={:>3}s frames={} rss={} KiB",
            start.elapsed().as_secs(),
            made.load(Ordering::Relaxed),
            rss_kib()
        );
        if start.elapsed() > deadline {
            eprintln!("no EOS after {deadline:?}");
            break;
        }
    }
    let what = format!("delivered {} frames", made.load(Ordering::Relaxed));
    finish(pipeline, &what, start, rss_start)
}
