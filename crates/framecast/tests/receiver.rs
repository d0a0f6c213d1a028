//! The Receiver API end to end on 127.0.0.1: a `Sender` in the same
//! process sends a known picture as H.264, JPEG and raw video; the
//! `Receiver` hands it back decoded, with its latency, packed into a
//! slice, and ends at the sender's BYE. Every wait is bounded.

use std::time::{Duration, Instant};

use framecast::pipeline::Query;
use framecast::receiver::{ReceivedFrame, Receiver, ReceiverBuilder, ReceiverStats};
use framecast::sender::{Codec, Sender, SenderStats};
use framecast::{AllocationQuery, VideoFormat, VideoInfo, VideoMeta};

use framecast_test_support::ports;
use ports::free_port_pair;

const FRAMES: u64 = 30;

/// The picture, packed in `format` (BGR or I420), `w` x `h`: smooth
/// gradients (an encoder keeps them well) with a different slope in each
/// channel, so swapped channels or planes show.
fn picture(format: VideoFormat, w: u32, h: u32) -> Vec<u8> {
    let info = VideoInfo::new(format, w, h).expect("info");
    let mut out = Vec::new();
    for plane in 0..info.n_planes {
        let cw = info.comp_width(plane) as usize * format.pixel_stride(plane);
        let ch = info.comp_height(plane) as usize;
        for y in 0..ch {
            for x in 0..cw {
                let v = match (format, plane) {
                    (VideoFormat::Bgr, _) => match x % 3 {
                        0 => 40 + (x / 3) * 150 / w as usize,
                        1 => 60 + y * 120 / ch,
                        _ => 200 - (x / 3 + y) * 120 / (w + h) as usize,
                    },
                    (_, 0) => 30 + (x + y) * 190 / (cw + ch),
                    (_, 1) => 90 + x * 60 / cw,
                    _ => 160 - y * 60 / ch,
                };
                out.push(v as u8);
            }
        }
    }
    out
}

/// Writes the packed `picture` into a pooled frame, by its `VideoMeta`.
fn send_picture(sender: &Sender, format: VideoFormat, w: u32, h: u32, picture: &[u8]) {
    let info = VideoInfo::new(format, w, h).expect("info");
    let mut frame = sender.frame().expect("pooled frame");
    {
        let f = frame.get_mut().expect("unique frame");
        let (offset, stride) = f
            .meta::<VideoMeta>()
            .map_or((info.offset, info.stride), |m| (m.offset, m.stride));
        let mut map = f.map_writable().expect("map");
        let mut at = 0;
        for plane in 0..info.n_planes {
            let row = info.comp_width(plane) as usize * format.pixel_stride(plane);
            for y in 0..info.comp_height(plane) as usize {
                let start = offset[plane] + y * stride[plane];
                map[start..start + row].copy_from_slice(&picture[at..at + row]);
                at += row;
            }
        }
    }
    sender.push(frame).expect("push");
}

/// What a receive run saw.
struct Run {
    frames: Vec<ReceivedFrame>,
    eos: bool,
    stats: ReceiverStats,
    sent: SenderStats,
}

/// Starts `receiver` on a fresh port pair, sends `FRAMES` frames of
/// `picture` (`format`, `w` x `h`) with `codec` from a sender thread at
/// 30 fps, then the sender's BYE; pulls until the end (at most 20 s).
fn run(receiver: ReceiverBuilder, codec: Codec, format: VideoFormat, (w, h): (u32, u32)) -> Run {
    let port = free_port_pair();
    let receiver = receiver
        .port(port)
        .address("127.0.0.1")
        .build()
        .expect("receiver");
    assert_eq!(receiver.local_port(), Some(port));
    let sender = Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(codec)
        .size(w, h)
        .fps(30)
        .input_format(format)
        .build()
        .expect("sender");
    let pic = picture(format, w, h);
    let sending = std::thread::spawn(move || {
        let start = Instant::now();
        for n in 0..FRAMES {
            send_picture(&sender, format, w, h, &pic);
            let due = start + Duration::from_millis(33 * (n + 1));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        sender.finish().expect("finish")
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut frames = Vec::new();
    let mut eos = false;
    for _ in 0..1000 {
        if Instant::now() >= deadline {
            break;
        }
        match receiver.pull(Some(Duration::from_millis(500))) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) if receiver.is_eos() => {
                eos = true;
                break;
            }
            Ok(None) => {}
            Err(e) => panic!("pull: {e}"),
        }
    }
    let sent = sending.join().expect("sender thread");
    // After the end, pull answers at once.
    if eos {
        let t = Instant::now();
        assert!(matches!(
            receiver.pull(Some(Duration::from_secs(5))),
            Ok(None)
        ));
        assert!(receiver.is_eos());
        assert!(t.elapsed() < Duration::from_secs(1));
    }
    let stats = receiver.stop().expect("stop");
    Run {
        frames,
        eos,
        stats,
        sent,
    }
}

/// Mean absolute difference of two pictures.
fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs())
        .sum::<f64>()
        / a.len() as f64
}

/// The common checks: the stream flowed, ended at the BYE, frames have
/// the size and format asked for, a latency under a second, and their
/// packed bytes are within `max_diff` of `want` on average (0: exact).
fn check(run: &Run, format: VideoFormat, (w, h): (u32, u32), want: &[u8], max_diff: f64) {
    let n = run.frames.len();
    assert!(
        n as u64 >= FRAMES - 5,
        "received {n} of {FRAMES}; sender {:?}, receiver {:?}",
        run.sent,
        run.stats
    );
    assert!(run.eos, "the sender's BYE did not end the stream");
    assert!(run.stats.bye, "{:?}", run.stats);
    assert_eq!(run.stats.stopped_without_bye(), None, "{:?}", run.stats);
    assert!(run.stats.packets >= n as u64, "{:?}", run.stats);
    let mut packed = vec![0u8; want.len() + 7];
    let mut stamped = 0;
    for frame in &run.frames {
        assert_eq!(
            (frame.info.format, frame.info.width, frame.info.height),
            (format, w, h)
        );
        assert_eq!(frame.packed_size(), want.len());
        assert_eq!(frame.copy_packed_to(&mut packed).expect("copy"), want.len());
        let diff = mean_abs_diff(&packed[..want.len()], want);
        assert!(diff <= max_diff, "mean difference {diff:.2} > {max_diff}");
        if let Some(latency) = frame.latency {
            stamped += 1;
            assert!(latency < Duration::from_secs(1), "{latency:?}");
            let captured = frame.capture_time().expect("a capture time");
            assert!(captured.elapsed().is_ok_and(|d| d >= latency));
        }
    }
    // The sender's first RTCP report goes with its first packet: every
    // frame but perhaps the first few knows when it was captured.
    assert!(stamped + 3 >= n, "{stamped} of {n} frames had a latency");
    // The same bytes through a writer.
    let last = run.frames.last().expect("a frame");
    let mut written = Vec::new();
    assert_eq!(last.write_packed(&mut written).expect("write"), want.len());
    assert_eq!(written, packed[..want.len()]);
}

/// Streams the test picture with `codec` at `size` to `receiver`, which
/// delivers it as `format`, and [`check`]s what arrived against it.
fn arrives(
    receiver: ReceiverBuilder,
    codec: Codec,
    format: VideoFormat,
    size: (u32, u32),
    max_diff: f64,
) {
    let run = run(receiver.output_format(format), codec, format, size);
    let want = picture(format, size.0, size.1);
    check(&run, format, size, &want, max_diff);
}

#[test]
fn h264_arrives_as_bgr_with_its_latency() {
    arrives(
        Receiver::builder().codec(Codec::H264),
        Codec::H264,
        VideoFormat::Bgr,
        (320, 240),
        3.0,
    );
}

#[test]
fn jpeg_arrives_as_bgr_with_its_latency() {
    arrives(
        Receiver::builder().codec(Codec::Jpeg),
        Codec::Jpeg,
        VideoFormat::Bgr,
        (320, 240),
        3.0,
    );
}

#[test]
fn raw_arrives_bit_exact() {
    arrives(
        Receiver::builder().codec(Codec::Raw).size(160, 120),
        Codec::Raw,
        VideoFormat::I420,
        (160, 120),
        0.0,
    );
}

#[test]
fn a_frame_does_not_fit_a_short_slice() {
    let size = (160, 120);
    let run = run(
        Receiver::builder().codec(Codec::Raw).size(size.0, size.1),
        Codec::Raw,
        VideoFormat::I420,
        size,
    );
    let frame = run.frames.first().expect("a frame");
    assert_eq!(frame.info.format, VideoFormat::I420, "as decoded");
    let mut short = vec![0u8; frame.packed_size() - 1];
    let err = frame.copy_packed_to(&mut short).expect_err("too short");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{} bytes", frame.packed_size())),
        "{text}"
    );
}

#[test]
fn an_sdp_file_from_the_sender_describes_the_stream() {
    let (w, h) = (160, 120);
    let port = free_port_pair();
    let sender = Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(Codec::Jpeg)
        .size(w, h)
        .input_format(VideoFormat::Bgr)
        .build()
        .expect("sender");
    let pic = picture(VideoFormat::Bgr, w, h);
    send_picture(&sender, VideoFormat::Bgr, w, h, &pic);
    // The SDP is known once the first frame is encoded.
    let deadline = Instant::now() + Duration::from_secs(5);
    let sdp = loop {
        match sender.sdp() {
            Ok(sdp) => break sdp,
            Err(e) => assert!(Instant::now() < deadline, "no SDP: {e}"),
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let path = std::env::temp_dir().join(format!("framecast-receiver-{}.sdp", std::process::id()));
    std::fs::write(&path, sdp).expect("write SDP");
    let receiver = Receiver::builder()
        .sdp_file(&path)
        .address("127.0.0.1")
        .output_format(VideoFormat::Bgr)
        .build()
        .expect("receiver");
    let _ = std::fs::remove_file(&path);
    assert_eq!(receiver.local_port(), Some(port));
    let mut frames = 0;
    for _ in 0..20 {
        send_picture(&sender, VideoFormat::Bgr, w, h, &pic);
        if let Some(frame) = receiver.pull(Some(Duration::from_secs(2))).expect("pull") {
            assert_eq!((frame.info.width, frame.info.height), (w, h));
            assert_eq!(frame.info.format, VideoFormat::Bgr);
            frames += 1;
        }
    }
    assert!(frames >= 15, "{frames} of 20 frames");
    assert!(receiver.stats().packets >= 15, "{:?}", receiver.stats());
    sender.finish().expect("finish");
    drop(receiver);
}

#[test]
fn streams_it_cannot_receive_are_errors_that_say_why() {
    let message = |b: ReceiverBuilder| match b.build() {
        Ok(_) => panic!("built a receiver that cannot work"),
        Err(e) => e.to_string(),
    };
    let port = free_port_pair();
    let text = message(Receiver::builder().address("127.0.0.1"));
    assert!(text.contains("give a port or an SDP file"), "{text}");
    let text = message(
        Receiver::builder()
            .port(port)
            .address("127.0.0.1")
            .codec(Codec::Raw),
    );
    assert!(
        text.contains("size") && text.contains("Codec::Raw"),
        "{text}"
    );
    let text = message(Receiver::builder().port(65535).address("127.0.0.1"));
    assert!(
        text.contains("65535") && text.contains("no room for RTCP"),
        "{text}"
    );
    let text = message(Receiver::builder().port(0).address("127.0.0.1"));
    assert!(text.contains("port") && text.contains("\"0\""), "{text}");
    let text = message(
        Receiver::builder()
            .port(port)
            .address("127.0.0.1 ! fakesink"),
    );
    assert!(text.contains("not a host name or IP address"), "{text}");

    let dir = std::env::temp_dir();
    let missing = dir.join(format!("framecast-missing-{}.sdp", std::process::id()));
    let text = message(Receiver::builder().sdp_file(&missing));
    assert!(text.contains(&missing.display().to_string()), "{text}");
    let vp8 = dir.join(format!("framecast-vp8-{}.sdp", std::process::id()));
    std::fs::write(
        &vp8,
        format!(
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=video {port} RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
        ),
    )
    .expect("write SDP");
    let text = message(Receiver::builder().sdp_file(&vp8));
    let _ = std::fs::remove_file(&vp8);
    assert!(text.contains("VP8"), "{text}");
}

#[test]
fn a_receiver_is_send_and_sync_and_stops_on_drop() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Receiver>();
    send_sync::<ReceivedFrame>();
    let port = free_port_pair();
    let receiver = Receiver::builder()
        .port(port)
        .address("127.0.0.1")
        .build()
        .expect("receiver");
    let pipeline = receiver.pipeline().clone();
    assert_eq!(pipeline.state(), framecast::State::Playing);
    // Nothing sent: a timeout, not the end.
    assert!(matches!(
        receiver.pull(Some(Duration::from_millis(50))),
        Ok(None)
    ));
    assert!(!receiver.is_eos());
    assert_eq!(receiver.stats(), ReceiverStats::default());
    drop(receiver);
    assert_eq!(pipeline.state(), framecast::State::Null);
}

/// `close` from another thread ends a `pull` that waits without a
/// timeout, and every later `pull` returns at once.
#[test]
fn close_ends_a_pull_waiting_in_another_thread() {
    let receiver = std::sync::Arc::new(
        Receiver::builder()
            .port(free_port_pair())
            .address("127.0.0.1")
            .build()
            .expect("receiver"),
    );
    let waiting = {
        let receiver = receiver.clone();
        std::thread::spawn(move || {
            receiver
                .pull(None)
                .map(|f| f.is_none())
                .map_err(|e| e.to_string())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let closed_at = Instant::now();
    receiver.close().expect("close");
    assert!(waiting.join().expect("no panic").expect("no error"));
    assert!(closed_at.elapsed() < Duration::from_secs(2));
    assert!(receiver.pull(None).expect("no error").is_none());
}

/// A receiver of raw 64x48 video on 127.0.0.1:`port`, to finish building.
fn raw_64x48_receiver(port: u16) -> ReceiverBuilder {
    Receiver::builder()
        .port(port)
        .address("127.0.0.1")
        .codec(Codec::Raw)
        .size(64, 48)
}

/// A sender of raw 64x48 I420 video to 127.0.0.1:`port`.
fn raw_64x48_sender(port: u16) -> Sender {
    Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(Codec::Raw)
        .size(64, 48)
        .input_format(VideoFormat::I420)
        .build()
        .expect("sender")
}

/// With `drop_old_frames`, a program that pulls late gets the newest
/// frame, and the ones it missed are counted.
#[test]
fn dropping_old_frames_keeps_the_newest() {
    let port = free_port_pair();
    let receiver = raw_64x48_receiver(port)
        .max_buffers(1)
        .drop_old_frames(true)
        .build()
        .expect("receiver");
    let sender = raw_64x48_sender(port);
    let packed = 64 * 48 * 3 / 2;
    for n in 0..10u8 {
        sender
            .push_packed(&vec![16 + n * 20; packed], None)
            .expect("push");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Everything has arrived and waited; only the newest is kept.
    let deadline = Instant::now() + Duration::from_secs(5);
    while receiver.stats().dropped < 9 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(receiver.stats().dropped, 9);
    let frame = receiver
        .pull(Some(Duration::from_secs(2)))
        .expect("no error")
        .expect("the newest frame");
    let mut out = vec![0u8; packed];
    frame.copy_packed_to(&mut out).expect("copy");
    assert!(out.iter().all(|&b| b == 16 + 9 * 20), "{:?}", &out[..4]);
    sender.finish().expect("finish");
}

/// A sender that stops without its BYE (dropped unfinished here; killed,
/// crashed or cut off in life) is told apart from one that ended: the
/// stats say the stream stopped without BYE, and how long it ran.
#[test]
fn a_stream_that_stops_without_bye_is_said_so() {
    let port = free_port_pair();
    let receiver = raw_64x48_receiver(port).build().expect("receiver");
    let quiet = receiver.stats();
    assert_eq!((quiet.silent_for, quiet.streamed), (None, Duration::ZERO));
    assert_eq!(quiet.stopped_without_bye(), None, "no stream yet");
    let sender = raw_64x48_sender(port);
    for n in 0..10u8 {
        sender
            .push_packed(&vec![16 + n * 20; 64 * 48 * 3 / 2], None)
            .expect("push");
        std::thread::sleep(Duration::from_millis(30));
    }
    // All ten on the wire (dropping the sender discards what it still
    // holds), then stopped without end-of-stream: no RTCP BYE goes out.
    let deadline = Instant::now() + Duration::from_secs(5);
    while sender.stats().frames_out < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sender.stats().frames_out, 10);
    // And their packets sent: the count holds still.
    let mut packets = sender.stats().packets;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        let now = sender.stats().packets;
        if now == packets {
            break;
        }
        packets = now;
    }
    drop(sender);
    let mut frames = 0;
    while let Some(_frame) = receiver
        .pull(Some(Duration::from_millis(500)))
        .expect("no error")
    {
        frames += 1;
        assert!(frames <= 10);
    }
    assert_eq!(frames, 10);
    assert!(!receiver.is_eos(), "nothing said the stream ended");
    let live = receiver.stats();
    assert!(!live.bye && live.silent_for.is_some(), "{live:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.stats().stopped_without_bye().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = receiver.stop().expect("stop");
    assert!(!stats.bye, "{stats:?}");
    assert!(
        stats.silent_for >= Some(ReceiverStats::STOPPED_AFTER),
        "{stats:?}"
    );
    // First packet to last: the ten frames' 270 ms, give or take.
    let ran = stats.stopped_without_bye().expect("stopped without BYE");
    assert_eq!(ran, stats.streamed);
    assert!(
        ran >= Duration::from_millis(200) && ran < Duration::from_secs(2),
        "{stats:?}"
    );
}

/// The receiver's appsink tells upstream what it holds at once (its
/// queue, the frame the program pulled, the one waiting to be pushed), so
/// the decoder's pool is that big from the start and never grows: with
/// the decoder's own 2 it grew a frame at a time whenever a slow pull let
/// the queue fill (a 1080p receiver: +3 MiB after 570 s).
#[test]
fn the_receivers_sink_claims_every_frame_it_can_hold() {
    for (max_buffers, claim) in [(4, 6), (1, 3)] {
        let receiver = Receiver::builder()
            .port(free_port_pair())
            .address("127.0.0.1")
            .codec(Codec::Raw)
            .size(64, 48)
            .max_buffers(max_buffers)
            .build()
            .expect("receiver");
        let sink = receiver.pipeline().by_name("sink").expect("the appsink");
        let info = VideoInfo::new(VideoFormat::I420, 64, 48).expect("info");
        let mut query = Query::Allocation(AllocationQuery::new(Some(info), true));
        assert!(sink.sink_pad().expect("sink pad").query(&mut query));
        let Query::Allocation(answer) = query else {
            panic!("the query changed type");
        };
        assert_eq!(answer.pools.len(), 1, "{answer:?}");
        assert_eq!(
            answer.pools[0].min_buffers, claim,
            "max_buffers {max_buffers}"
        );
        assert!(answer.pools[0].pool.is_none(), "a claim, not a pool");
        receiver.stop().expect("stop");
    }
}

/// Converting to the output format as the frame is copied out
/// (`convert_in_pull`, what the Python bindings build) gives exactly the
/// bytes the pipeline's `videoconvert` gives: the same I420 stream (raw,
/// so bit exact on the wire; 30x20 pads the chroma rows) received both
/// ways. The converting receiver delivers frames as decoded and says
/// which format to ask for; a short destination is refused.
#[test]
fn converting_in_pull_gives_what_videoconvert_gives() {
    let size = (30, 20);
    let [in_pipeline, in_pull] = [false, true].map(|convert| {
        let builder = Receiver::builder()
            .codec(Codec::Raw)
            .size(size.0, size.1)
            .output_format(VideoFormat::Bgr)
            .convert_in_pull(convert);
        let probe = builder.clone().port(free_port_pair()).address("127.0.0.1");
        let probe = probe.build().expect("receiver");
        let converters =
            framecast_test_support::pipelines::count_factory(probe.pipeline(), "videoconvert");
        assert_eq!(converters, usize::from(!convert));
        assert_eq!(probe.output_format(), convert.then_some(VideoFormat::Bgr));
        drop(probe);
        run(builder, Codec::Raw, VideoFormat::I420, size)
    });
    let bgr = |frame: &ReceivedFrame, format: Option<VideoFormat>| {
        let mut out = vec![0u8; 30 * 20 * 3];
        let n = match format {
            Some(f) => frame.convert_packed_to(f, &mut out).expect("convert"),
            None => frame.copy_packed_to(&mut out).expect("copy"),
        };
        assert_eq!(n, out.len());
        out
    };
    let a = in_pipeline.frames.last().expect("a frame");
    let b = in_pull.frames.last().expect("a frame");
    assert_eq!(a.info.format, VideoFormat::Bgr);
    assert_eq!(b.info.format, VideoFormat::I420, "as decoded");
    let want = bgr(a, None);
    assert!(
        want.iter().any(|&v| v != want[0]),
        "a picture, not a flat colour"
    );
    assert_eq!(bgr(b, Some(VideoFormat::Bgr)), want);
    // Converting to its own format is a copy.
    let mut i420 = vec![0u8; b.packed_size()];
    assert_eq!(
        b.convert_packed_to(VideoFormat::I420, &mut i420).unwrap(),
        i420.len()
    );
    let mut copied = vec![0u8; b.packed_size()];
    b.copy_packed_to(&mut copied).unwrap();
    assert_eq!(i420, copied);
    let err = b
        .convert_packed_to(VideoFormat::Bgr, &mut [0u8; 100])
        .expect_err("too short");
    assert!(err.to_string().contains("1800 bytes"), "{err}");
}
