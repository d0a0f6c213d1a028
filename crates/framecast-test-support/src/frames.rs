//! Test frames for the zero-allocation tests: a bar that moves with the
//! frame number over a vertical gradient, written into the first plane of
//! a pooled frame in place (so every frame differs and an encoder has
//! work, and nothing is allocated to make it).

use std::time::Duration;

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::receiver::{Receiver, ReceiverBuilder};
use framecast::sender::{Codec, Sender, SenderBuilder};
use framecast::{Buffer, ClockTime, Element, Pipeline, State, VideoFormat, VideoMeta};

/// Paints frame `n` into plane 0 of `frame` (`width` x `height` pixels of
/// `pixel` bytes; the strides from its `VideoMeta`).
pub fn paint_moving_bar(frame: &mut Buffer, width: usize, height: usize, pixel: usize, n: u64) {
    let f = frame.get_mut().expect("a unique frame");
    let (offset, stride) = f
        .meta::<VideoMeta>()
        .map_or((0, width * pixel), |m| (m.offset[0], m.stride[0]));
    let mut map = f.map_writable().expect("map");
    // Lit where (x + 4n) mod 64 < 16: runs of 16 pixels every 64, filled
    // a run at a time (per pixel is too slow for 10 000 frames in a debug
    // build).
    let shift = (n as usize * 4) % 64;
    for (y, row) in map[offset..].chunks_mut(stride).take(height).enumerate() {
        let row = &mut row[..width * pixel];
        row.fill((y % 200) as u8 + 16);
        if shift < 16 {
            row[..(16 - shift).min(width) * pixel].fill(235);
        }
        for start in ((64 - shift) % 64..width).step_by(64) {
            row[start * pixel..(start + 16).min(width) * pixel].fill(235);
        }
    }
}

/// Pushes frames `from..from + count` (plane 0 `width` x `height` of
/// `pixel` bytes, painted in place, PTS at 30 fps) through `appsrc`, each
/// pulled back out of `appsink` with its PTS intact before the next.
pub fn push_and_pull(
    appsrc: &AppSrc,
    appsink: &AppSink,
    (width, height, pixel): (usize, usize, usize),
    from: u64,
    count: u64,
) {
    for n in from..from + count {
        let mut frame = appsrc.acquire_buffer().expect("pooled frame");
        paint_moving_bar(&mut frame, width, height, pixel, n);
        let pts = ClockTime::from_nseconds(n * 33_333_333);
        frame.get_mut().expect("unique").set_pts(Some(pts));
        appsrc.push_buffer(frame).expect("push");
        let sample = appsink
            .pull_sample(Some(Duration::from_secs(5)))
            .expect("frame out");
        assert_eq!(sample.buffer.pts(), Some(pts));
    }
}

/// Plays `pipeline`, pushes `warmup` frames from `src` (an appsrc) to
/// `sink` (an appsink) so that pools fill, caps settle and threads start,
/// then counts the heap allocations while `count` more go through (as
/// [`push_and_pull`]), and stops it: the number a zero-allocation test
/// wants to be 0. The test binary must install
/// [`Counting`](crate::alloc::Counting) as its global allocator.
pub fn steady_state_allocations(
    pipeline: &Pipeline,
    src: &Element,
    sink: &Element,
    frame: (usize, usize, usize),
    warmup: u64,
    count: u64,
) -> u64 {
    pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(src).expect("an appsrc");
    let appsink = AppSink::from_element(sink).expect("an appsink");
    push_and_pull(appsrc, appsink, frame, 0, warmup);
    let before = crate::alloc::allocations();
    push_and_pull(appsrc, appsink, frame, warmup, count);
    let allocations = crate::alloc::allocations() - before;
    pipeline.set_state(State::Null).unwrap();
    allocations
}

/// [`steady_state_allocations`] of `appsrc (BGR 320x240) ! videoconvert !
/// appsink (I420)` named `name`: 500 frames to warm up, then `count`.
pub fn bgr_to_i420_allocations(name: &str, count: u64) -> u64 {
    let (w, h) = (320, 240);
    let (pipeline, src, sink) = crate::pipelines::appsrc_to_appsink(
        name,
        &format!("video/x-raw,format=BGR,width={w},height={h},framerate=30/1"),
        &["videoconvert"],
    );
    sink.set_property_from_str("caps", "video/x-raw,format=I420")
        .unwrap();
    steady_state_allocations(&pipeline, &src, &sink, (w, h, 3), 500, count)
}

/// The `Sender` the zero-allocation tests drive: BGR `width` x `height` at
/// 30 fps, H.264 at 1 Mbit/s, to 127.0.0.1:`port` (RTCP on `port + 1`).
pub fn test_sender(port: u16, width: usize, height: usize) -> Sender {
    test_sender_builder(port, width, height)
        .build()
        .expect("sender")
}

/// [`test_sender`]'s settings, for a test to add to.
pub fn test_sender_builder(port: u16, width: usize, height: usize) -> SenderBuilder {
    Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(Codec::H264)
        .size(width as u32, height as u32)
        .fps(30)
        .input_format(VideoFormat::Bgr)
        .bitrate(1000)
}

/// Pushes frame `n` into `sender`: a frame from its pool with the moving
/// bar of frame `n` painted in ([`paint_moving_bar`], 3-byte pixels),
/// captured now and with `n` as its frame id (so the header extensions'
/// path runs too), as the zero-allocation tests feed it (it allocates
/// nothing).
pub fn push_moving_bar(sender: &Sender, width: usize, height: usize, n: u64) {
    let mut frame = sender.frame().expect("pooled frame");
    paint_moving_bar(&mut frame, width, height, 3, n);
    let info = framecast::sender::FrameInfo {
        capture_time: Some(std::time::SystemTime::now()),
        frame_id: Some(n),
    };
    assert!(sender.push_info(frame, info).is_ok(), "push refused");
}

/// A `Receiver` on 127.0.0.1:`port` (RTCP on `port + 1`), H.264, for a
/// test to add to.
pub fn local_receiver_builder(port: u16) -> ReceiverBuilder {
    Receiver::builder().port(port).address("127.0.0.1")
}

/// Receives on `socket` until an RTP packet with the marker bit (the
/// last of an access unit) arrives, at most 5 s; returns the packets
/// seen. Allocates nothing.
pub fn wait_access_unit(socket: &std::net::UdpSocket, frame: u64) -> u64 {
    let mut buf = [0u8; 2048];
    let mut packets = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "frame {frame} never went out"
        );
        let Ok(len) = socket.recv(&mut buf) else {
            continue;
        };
        packets += 1;
        if len >= 12 && buf[1] & 0x80 != 0 {
            return packets;
        }
    }
}
