//! The byte-stream and plumbing elements running in pipelines: filesrc,
//! filesink, fdsrc, fdsink, rawvideoparse, tee, capsfilter, fakesink, and
//! rtpjitterbuffer's RTCP side (sender reports, BYE).

use framecast_test_support::files;
use framecast_test_support::pipelines::bus_error;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::pipeline::{PropertyValue, Query};
use framecast::{
    parse_launch, AllocationQuery, Buffer, Caps, ClockTime, Message, MetaParams, Pipeline, State,
    VideoFormat, VideoInfo, VideoMeta,
};

const TIMEOUT: Duration = Duration::from_secs(20);

/// A fresh path in the temp dir for this test.
fn temp_path(name: &str) -> PathBuf {
    files::temp_path("framecast-stream", name)
}

/// Deterministic bytes that do not repeat with a short period.
fn pattern(len: usize) -> Vec<u8> {
    files::pattern(0x1234_5678, len)
}

/// Plays `pipeline` until EOS or an error (bounded), collecting every
/// message, then stops it.
fn run(pipeline: &Pipeline) -> Vec<Message> {
    pipeline.set_state(State::Playing).expect("playing");
    let messages = collect(pipeline);
    pipeline.set_state(State::Null).expect("null");
    messages
}

fn collect(pipeline: &Pipeline) -> Vec<Message> {
    let deadline = Instant::now() + TIMEOUT;
    let mut messages = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no EOS within {TIMEOUT:?}: {messages:?}");
        let Some(message) = pipeline.bus().timed_pop(Some(left)) else {
            continue;
        };
        let done = matches!(message, Message::Eos | Message::Error { .. });
        messages.push(message);
        if done {
            return messages;
        }
    }
}

fn assert_eos(messages: &[Message]) {
    assert!(
        matches!(messages.last(), Some(Message::Eos)),
        "expected EOS: {messages:?}"
    );
}

#[test]
fn filesrc_to_filesink_copies_exactly() {
    let input = temp_path("copy-in.bin");
    let output = temp_path("copy-out.bin");
    let data = pattern(100_003);
    std::fs::write(&input, &data).unwrap();
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" blocksize=1000 ! filesink location=\"{}\"",
        input.display(),
        output.display()
    ))
    .unwrap();
    assert_eos(&run(&pipeline));
    assert_eq!(std::fs::read(&output).unwrap(), data);
}

#[test]
fn filesrc_buffers_carry_byte_offsets() {
    let input = temp_path("offsets.bin");
    std::fs::write(&input, pattern(250)).unwrap();
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" blocksize=100 ! appsink name=sink",
        input.display()
    ))
    .unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let mut ranges = Vec::new();
    while let Some(sample) = appsink.pull_sample(Some(TIMEOUT)) {
        ranges.push((
            sample.buffer.offset(),
            sample.buffer.offset_end(),
            sample.buffer.size(),
        ));
    }
    pipeline.set_state(State::Null).unwrap();
    assert_eq!(
        ranges,
        [
            (Some(0), Some(100), 100),
            (Some(100), Some(200), 100),
            (Some(200), Some(250), 50)
        ]
    );
}

#[test]
fn a_missing_file_fails_naming_the_file_and_the_os_error() {
    let missing = temp_path("does-not-exist/nothing.bin");
    let pipeline = parse_launch(&format!(
        "filesrc name=reader location=\"{}\" ! fakesink",
        missing.display()
    ))
    .unwrap();
    let err = pipeline.set_state(State::Playing).unwrap_err().to_string();
    assert!(err.contains("nothing.bin"), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    let (source, message) = bus_error(&pipeline, TIMEOUT);
    assert_eq!(source, "reader");
    assert!(message.contains("nothing.bin"), "{message}");
    pipeline.set_state(State::Null).unwrap();
}

#[test]
fn filesink_into_a_missing_directory_fails() {
    let input = temp_path("sink-fail-in.bin");
    std::fs::write(&input, b"abc").unwrap();
    let bad = temp_path("no-such-dir/out.bin");
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" ! filesink name=writer location=\"{}\"",
        input.display(),
        bad.display()
    ))
    .unwrap();
    let err = pipeline.set_state(State::Playing).unwrap_err().to_string();
    assert!(
        err.contains("out.bin") && err.contains("for writing"),
        "{err}"
    );
    pipeline.set_state(State::Null).unwrap();
    // No location at all.
    let pipeline = parse_launch("filesrc location=/dev/null ! filesink").unwrap();
    let err = pipeline.set_state(State::Playing).unwrap_err().to_string();
    assert!(err.contains("No file name specified"), "{err}");
    pipeline.set_state(State::Null).unwrap();
}

#[test]
fn fdsrc_and_fdsink_use_the_given_descriptors() {
    let input = temp_path("fd-in.bin");
    let output = temp_path("fd-out.bin");
    let data = pattern(20_000);
    std::fs::write(&input, &data).unwrap();
    let reader = File::open(&input).unwrap();
    let writer = File::create(&output).unwrap();
    let pipeline = parse_launch(&format!(
        "fdsrc fd={} blocksize=3000 ! fdsink fd={}",
        reader.as_raw_fd(),
        writer.as_raw_fd()
    ))
    .unwrap();
    assert_eos(&run(&pipeline));
    drop((reader, writer));
    assert_eq!(std::fs::read(&output).unwrap(), data);
    // A descriptor that is not open.
    let pipeline = parse_launch("fdsrc fd=987654 ! fakesink").unwrap();
    let err = pipeline.set_state(State::Playing).unwrap_err().to_string();
    assert!(err.contains("file descriptor 987654"), "{err}");
    pipeline.set_state(State::Null).unwrap();
}

#[test]
fn fakesink_num_buffers_ends_the_stream() {
    let input = temp_path("fakesink.bin");
    std::fs::write(&input, pattern(1000)).unwrap();
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" blocksize=10 ! fakesink name=s num-buffers=3 silent=false",
        input.display()
    ))
    .unwrap();
    pipeline.set_state(State::Playing).unwrap();
    assert_eos(&collect(&pipeline));
    let sink = pipeline.by_name("s").unwrap();
    assert_eq!(sink.property("rendered").unwrap(), PropertyValue::UInt(3));
    let last = sink.property("last-message").unwrap();
    assert!(
        last.as_str()
            .is_some_and(|m| m.contains("eos") || m.contains("10 bytes")),
        "{last:?}"
    );
    pipeline.set_state(State::Null).unwrap();
}

/// GRAY8 16x8 frames, frame n filled with byte n+1.
fn gray_frames(n: usize, tail: usize, padding: usize) -> Vec<u8> {
    let mut data = Vec::new();
    for i in 0..n {
        data.extend(std::iter::repeat_n(i as u8 + 1, 128));
        data.extend(std::iter::repeat_n(0xEE, padding));
    }
    data.extend(std::iter::repeat_n(0x77, tail));
    data
}

#[test]
fn rawvideoparse_cuts_frames_from_any_chunking() {
    let input = temp_path("frames.gray");
    std::fs::write(&input, gray_frames(3, 50, 0)).unwrap();
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" blocksize=37 ! rawvideoparse name=parse format=gray8 width=16 height=8 framerate=30/1 ! appsink name=sink",
        input.display()
    ))
    .unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let info = VideoInfo::new(VideoFormat::Gray8, 16, 8)
        .unwrap()
        .with_fps(framecast::Fraction::from_integer(30));
    let mut frames = Vec::new();
    while let Some(sample) = appsink.pull_sample(Some(TIMEOUT)) {
        assert_eq!(
            sample.caps.as_deref(),
            Some(&Caps::from_video_info(&info)),
            "caps"
        );
        frames.push(sample.buffer);
    }
    let messages = collect(&pipeline);
    pipeline.set_state(State::Null).unwrap();
    assert_eq!(frames.len(), 3);
    for (n, frame) in frames.iter().enumerate() {
        let bytes = frame.map_readable().unwrap().contiguous().into_owned();
        assert_eq!(bytes, vec![n as u8 + 1; 128], "frame {n}");
        let pts = ClockTime::SECOND.mul_div_floor(n as u64, 30).unwrap();
        assert_eq!(frame.pts(), Some(pts), "pts of frame {n}");
        let next = ClockTime::SECOND.mul_div_floor(n as u64 + 1, 30).unwrap();
        assert_eq!(frame.duration(), Some(next - pts));
        assert_eq!(frame.offset(), Some(n as u64));
        assert!(frame.pool_id().is_some(), "frame {n} is not from a pool");
    }
    assert_eos(&messages);
    let warning = messages.iter().find_map(|m| match m {
        Message::Warning {
            source, message, ..
        } => Some((source.clone(), message.clone())),
        _ => None,
    });
    let (source, message) = warning.expect("a warning about the partial frame");
    assert_eq!(source, "parse");
    assert!(message.contains("50 of 128 bytes"), "{message}");
}

#[test]
fn rawvideoparse_skips_frame_padding() {
    let input = temp_path("frames-padded.gray");
    std::fs::write(&input, gray_frames(4, 0, 7)).unwrap();
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" blocksize=100 ! rawvideoparse format=gray8 width=16 height=8 frame-size=135 ! appsink name=sink",
        input.display()
    ))
    .unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let mut n = 0u8;
    while let Some(sample) = appsink.pull_sample(Some(TIMEOUT)) {
        let bytes = sample
            .buffer
            .map_readable()
            .unwrap()
            .contiguous()
            .into_owned();
        assert_eq!(bytes, vec![n + 1; 128]);
        n += 1;
    }
    pipeline.set_state(State::Null).unwrap();
    assert_eq!(n, 4);
}

#[test]
fn rawvideoparse_refuses_a_bad_frame_description() {
    let pipeline = parse_launch(
        "filesrc location=/dev/zero num-buffers=2 ! rawvideoparse name=parse width=0 ! fakesink",
    )
    .unwrap();
    let messages = run(&pipeline);
    let error = messages.iter().find_map(|m| match m {
        Message::Error {
            source, message, ..
        } => Some((source.clone(), message.clone())),
        _ => None,
    });
    let (source, message) = error.expect("an error");
    assert_eq!(source, "parse");
    assert!(message.contains("invalid frame description"), "{message}");
}

#[test]
fn tee_gives_every_branch_the_same_buffer() {
    let input = temp_path("tee.bin");
    std::fs::write(&input, pattern(1000)).unwrap();
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" blocksize=100 ! tee name=t t. ! queue ! appsink name=a t. ! queue ! appsink name=b",
        input.display()
    ))
    .unwrap();
    let a = pipeline.by_name("a").unwrap();
    let b = pipeline.by_name("b").unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let (a, b) = (
        AppSink::from_element(&a).unwrap(),
        AppSink::from_element(&b).unwrap(),
    );
    let mut n = 0;
    while let Some(x) = a.pull_sample(Some(TIMEOUT)) {
        let y = b.pull_sample(Some(TIMEOUT)).expect("branch b has as many");
        assert!(
            Buffer::ptr_eq(&x.buffer, &y.buffer),
            "buffer {n} was copied"
        );
        n += 1;
    }
    assert!(b.pull_sample(Some(Duration::from_secs(5))).is_none());
    assert_eos(&collect(&pipeline));
    pipeline.set_state(State::Null).unwrap();
    assert_eq!(n, 10);
}

#[test]
fn tee_aggregates_allocation_proposals() {
    let pipeline = parse_launch(
        "appsrc name=src ! tee name=t t. ! appsink name=a t. ! queue ! appsink name=b",
    )
    .unwrap();
    let a = pipeline.by_name("a").unwrap();
    let b = pipeline.by_name("b").unwrap();
    AppSink::from_element(&a).unwrap().propose_pool(3, 0);
    AppSink::from_element(&b).unwrap().propose_pool(5, 0);
    let info = VideoInfo::new(VideoFormat::I420, 64, 48).unwrap();
    let mut query = Query::Allocation(AllocationQuery::new(Some(info), true));
    let tee_sink = pipeline.by_name("t").unwrap().sink_pad().unwrap();
    assert!(tee_sink.query(&mut query));
    let Query::Allocation(answer) = query else {
        panic!("query changed type");
    };
    assert_eq!(answer.pools.len(), 1);
    let pool = &answer.pools[0];
    assert!(pool.pool.is_none(), "a tee never hands out a branch's pool");
    assert_eq!(pool.size, info.size);
    assert_eq!(pool.min_buffers, 6, "largest minimum + 1 for the tee");
    assert_eq!(pool.max_buffers, 0);
    assert!(answer.supports::<VideoMeta>());
    assert_eq!(answer.metas[0].params, MetaParams::None);

    // A branch that refuses the query fails it for the tee.
    let pipeline =
        parse_launch("appsrc ! tee name=t t. ! appsink t. ! rawvideoparse ! appsink").unwrap();
    let mut query = Query::Allocation(AllocationQuery::new(Some(info), true));
    let tee_sink = pipeline.by_name("t").unwrap().sink_pad().unwrap();
    assert!(!tee_sink.query(&mut query));
}

/// GStreamer's `test_allocation_query_allow_not_linked`: a tee with one
/// linked and one unlinked branch fails the ALLOCATION query, unless
/// `allow-not-linked=true`; then the unlinked branch does not count (no +1
/// for a second branch).
#[test]
fn tee_allocation_fails_with_an_unlinked_branch_unless_allowed() {
    let pipeline = parse_launch("appsrc ! tee name=t t. ! appsink name=a").unwrap();
    AppSink::from_element(&pipeline.by_name("a").unwrap())
        .unwrap()
        .propose_pool(3, 0);
    let tee = pipeline.by_name("t").unwrap();
    let _unlinked = tee.request_pad("src_%u").unwrap();
    assert_eq!(tee.property("num-src-pads").unwrap(), PropertyValue::Int(2));
    let info = VideoInfo::new(VideoFormat::I420, 64, 48).unwrap();
    let ask = || {
        let mut query = Query::Allocation(AllocationQuery::new(Some(info), true));
        let answered = tee.sink_pad().unwrap().query(&mut query);
        let Query::Allocation(answer) = query else {
            panic!("query changed type");
        };
        answered.then_some(answer)
    };
    assert!(ask().is_none(), "an unlinked branch fails the query");
    tee.set_property("allow-not-linked", true).unwrap();
    let answer = ask().expect("allow-not-linked: the linked branch answers");
    assert_eq!(answer.pools.len(), 1);
    assert_eq!(
        (answer.pools[0].size, answer.pools[0].min_buffers),
        (info.size, 3),
        "one answering branch: its minimum, no +1"
    );
}

#[test]
fn capsfilter_restricts_negotiation() {
    // The filter's fixed caps go to a byte stream that had none.
    let input = temp_path("capsfilter.gray");
    std::fs::write(&input, gray_frames(2, 0, 0)).unwrap();
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" blocksize=256 ! video/x-raw,format=GRAY8,width=16,height=16,framerate=0/1 ! appsink name=sink",
        input.display()
    ))
    .unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let sample = appsink.pull_sample(Some(TIMEOUT)).expect("one buffer");
    let expected: Caps = "video/x-raw,format=GRAY8,width=16,height=16,framerate=0/1"
        .parse()
        .unwrap();
    assert_eq!(sample.caps.as_deref(), Some(&expected));
    pipeline.set_state(State::Null).unwrap();

    // Caps that do not fit the filter are not negotiated.
    let pipeline = parse_launch(&format!(
        "filesrc location=\"{}\" ! rawvideoparse format=gray8 width=16 height=8 ! video/x-raw,format=I420 ! fakesink",
        input.display()
    ))
    .unwrap();
    let messages = run(&pipeline);
    let error = messages.iter().find_map(|m| match m {
        Message::Error { message, .. } => Some(message.clone()),
        _ => None,
    });
    let message = error.expect("a negotiation error");
    assert!(message.contains("do not match the filter"), "{message}");
}

#[test]
fn capsfilter_answers_caps_queries_with_the_filter() {
    let pipeline = parse_launch(
        "appsrc ! capsfilter name=f caps=video/x-raw,format={I420,NV12} ! appsink caps=video/x-raw,format=NV12",
    )
    .unwrap();
    let filter = pipeline.by_name("f").unwrap();
    let caps = filter
        .sink_pad()
        .unwrap()
        .peer()
        .unwrap()
        .peer_query_caps(None);
    let expected: Caps = "video/x-raw,format=NV12".parse().unwrap();
    assert!(caps.is_subset(&expected), "{caps}");
    assert!(!caps.is_empty());
}

/// An RTP packet: version 2, payload type 96, `marker` on, and 8 bytes.
fn rtp_packet(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0x80 | 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    p
}

#[test]
fn jitterbuffer_stamps_sender_ntp_time_from_rtcp_and_ends_on_bye() {
    use framecast::elements::appsrc::AppSrc;
    use framecast::rtp::rtcp::{CompoundWriter, NtpTimestamp, SenderReport};
    use framecast::ReferenceTimestampMeta;

    let pipeline = parse_launch(
        "appsrc name=rtp is-live=true caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtpjitterbuffer name=jb eos-on-bye=true ! appsink name=sink sync=false max-buffers=0 \
         appsrc name=rtcp is-live=true ! jb.sink_rtcp",
    )
    .expect("pipeline");
    pipeline.set_state(State::Playing).expect("playing");
    let el = |name: &str| pipeline.by_name(name).expect(name);
    let (rtp_el, rtcp_el, sink_el, jb) = (el("rtp"), el("rtcp"), el("sink"), el("jb"));
    let rtp = AppSrc::from_element(&rtp_el).expect("appsrc");
    let rtcp = AppSrc::from_element(&rtcp_el).expect("appsrc");
    let sink = AppSink::from_element(&sink_el).expect("appsink");
    let ssrc = 0x1234_5678;
    let pull = || sink.pull_sample(Some(TIMEOUT)).expect("a packet").buffer;

    // Before any report: no NTP stamp.
    let push = |src: &AppSrc, bytes: &[u8]| {
        assert!(src
            .push_buffer(Buffer::from_slice(bytes).expect("buffer"))
            .is_ok());
    };
    push(rtp, &rtp_packet(1, 1000, ssrc));
    assert_eq!(
        ReferenceTimestampMeta::find(&pull(), ReferenceTimestampMeta::NTP),
        None
    );

    // Garbage on the RTCP pad is counted and changes nothing.
    push(rtcp, &[0xde, 0xad, 0xbe, 0xef, 0, 0]);
    // A report: RTP time 10_000 was NTP second 4_000_000_000.5.
    let ntp = NtpTimestamp((4_000_000_000u64 << 32) | (1 << 31));
    let mut buf = [0u8; 256];
    let len = {
        let mut w = CompoundWriter::new(&mut buf);
        let sr = SenderReport {
            ssrc,
            ntp_timestamp: ntp,
            rtp_timestamp: 10_000,
            packet_count: 1,
            octet_count: 8,
        };
        w.sender_report(&sr, &[]).expect("sr");
        w.finish()
    };
    push(rtcp, &buf[..len]);
    let deadline = Instant::now() + TIMEOUT;
    while jb
        .property("num-sender-reports")
        .ok()
        .and_then(|v| v.as_u64())
        != Some(1)
    {
        assert!(Instant::now() < deadline, "the report was not taken");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(jb.property("num-invalid").ok().and_then(|v| v.as_u64()) >= Some(1));

    // A packet 0.1 s (9000 ticks) after the report's RTP time.
    push(rtp, &rtp_packet(2, 19_000, ssrc));
    let stamped = ReferenceTimestampMeta::find(&pull(), ReferenceTimestampMeta::NTP)
        .expect("NTP capture time");
    assert_eq!(stamped.nseconds(), ntp.as_nanos() + 100_000_000);

    // The sender's BYE ends the stream.
    let len = {
        let mut w = CompoundWriter::new(&mut buf);
        w.bye(&[ssrc], None).expect("bye");
        w.finish()
    };
    push(rtcp, &buf[..len]);
    let deadline = Instant::now() + TIMEOUT;
    while !sink.is_eos() {
        assert!(Instant::now() < deadline, "no end-of-stream after BYE");
        let _ = sink.pull_sample(Some(Duration::from_millis(20)));
    }
    pipeline.set_state(State::Null).expect("null");
}

#[test]
fn a_tee_branch_added_while_playing_gets_the_stream_and_its_caps() {
    use framecast::make_element;
    let pipeline = parse_launch(
        "testsrc is-live=true ! video/x-raw,format=I420,width=64,height=48,framerate=30/1 \
         ! tee name=t t. ! queue ! appsink name=a sync=false max-buffers=0",
    )
    .expect("pipeline");
    pipeline.set_state(State::Playing).expect("playing");
    let a_el = pipeline.by_name("a").expect("a");
    let a = AppSink::from_element(&a_el).expect("appsink");
    for _ in 0..3 {
        assert!(a.pull_sample(Some(TIMEOUT)).is_some(), "first branch flows");
    }
    // A second branch, made and linked mid-stream (a client joining).
    let queue = make_element("queue", Some("q2")).expect("queue");
    let sink = make_element("appsink", Some("b")).expect("appsink");
    sink.set_property("sync", false).expect("sync");
    pipeline.add(&queue).expect("add");
    pipeline.add(&sink).expect("add");
    queue
        .src_pad()
        .expect("src")
        .link(&sink.sink_pad().expect("sink"))
        .expect("link");
    sink.set_state(State::Playing).expect("sink playing");
    queue.set_state(State::Playing).expect("queue playing");
    let tee = pipeline.by_name("t").expect("tee");
    let branch = tee.request_pad("src_%u").expect("request pad");
    branch
        .link(&queue.sink_pad().expect("queue sink"))
        .expect("link branch");
    let b = AppSink::from_element(&sink).expect("appsink");
    let sample = b
        .pull_sample(Some(TIMEOUT))
        .expect("the new branch gets frames");
    let caps = sample.caps.expect("and the caps, replayed before them");
    let info = caps.video_info().expect("video caps");
    assert_eq!((info.width, info.height), (64, 48));
    assert!(sample.buffer.pts().is_some());
    let error = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::ZERO), |m| matches!(m, Message::Error { .. }));
    assert!(error.is_none(), "{error:?}");
    pipeline.set_state(State::Null).expect("null");
}
