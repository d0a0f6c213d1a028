//! The seed program done right, loop mode: a program makes 1280x720 BGR
//! frames (as OpenCV does) and pushes them into a pipeline.
//!
//! Each frame is written straight into a buffer from the negotiated pool
//! (`acquire_buffer`), so nothing is allocated per frame; appsrc is live
//! with a bounded queue where the latest frame wins, and timestamps are the
//! capture times. RSS is printed every second: it stays flat.
//!
//! ```text
//! cargo run --release -p framecast --example push_loop -- [SECONDS] [SINK]
//! ```
//! SINK defaults to `fakesink sync=true`.

use std::time::{Duration, Instant};

use framecast::elements::appsrc::AppSrc;
use framecast::{parse_launch, Message, State, VideoMeta};

mod common;
use common::{finish, rss_kib, seconds_and_sink, FPS, HEIGHT, WIDTH};

/// Paints frame `n` of a moving gradient into a BGR plane.
fn paint(bgr: &mut [u8], stride: usize, n: u64) {
    for (y, row) in bgr.chunks_mut(stride).take(HEIGHT).enumerate() {
        for (x, px) in row[..WIDTH * 3].chunks_exact_mut(3).enumerate() {
            px[0] = (x as u64 + n) as u8;
            px[1] = (y as u64 + 2 * n) as u8;
            px[2] = ((x + y) as u64) as u8;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    framecast::init()?;
    let (seconds, sink) = seconds_and_sink()?;
    let pipeline = parse_launch(&format!(
        "appsrc name=src is-live=true do-timestamp=true max-buffers=2 \
         caps=\"video/x-raw,format=BGR,width={WIDTH},height={HEIGHT},framerate={FPS}/1\" \
         ! videoconvert ! {sink}"
    ))?;
    let src = pipeline.by_name("src").ok_or("no appsrc")?;
    let appsrc = AppSrc::from_element(&src).ok_or("not an appsrc")?;
    pipeline.set_state(State::Playing)?;

    let frame_time = Duration::from_nanos(1_000_000_000 / FPS);
    let start = Instant::now();
    let rss_start = rss_kib();
    let mut next_report = start + Duration::from_secs(1);
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        let mut frame = appsrc.acquire_buffer()?;
        if let Some(f) = frame.get_mut() {
            let (offset, stride) = f
                .meta::<VideoMeta>()
                .map_or((0, WIDTH * 3), |m| (m.offset[0], m.stride[0]));
            let mut map = f.map_writable()?;
            paint(&mut map[offset..], stride, n);
        }
        if let Err(refused) = appsrc.push_buffer(frame) {
            eprintln!("frame {n} refused: {refused}");
            break;
        }
        n += 1;
        if let Some(Message::Error {
            source, message, ..
        }) = pipeline
            .bus()
            .timed_pop_filtered(Some(Duration::ZERO), |m| matches!(m, Message::Error { .. }))
        {
            eprintln!("{source}: {message}");
            break;
        }
        if Instant::now() >= next_report {
            let levels = appsrc.levels();
            println!(
                "t={:>3}s frames={n} dropped={} queued={} rss={} KiB",
                start.elapsed().as_secs(),
                levels.dropped,
                levels.buffers,
                rss_kib()
            );
            next_report += Duration::from_secs(1);
        }
        // Pace like a camera.
        let due = start + frame_time * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let _ = appsrc.end_of_stream();
    let _ = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(5)), |m| matches!(m, Message::Eos));
    finish(pipeline, &format!("pushed {n} frames"), start, rss_start)
}
