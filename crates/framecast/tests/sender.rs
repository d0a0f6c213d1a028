//! The Sender API end to end on 127.0.0.1: frames written into pooled
//! buffers arrive decoded at a framecast receiver; the SDP describes them.

use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::sender::{Codec, Sender, SenderBuilder};
use framecast::{parse_launch, Pipeline, State, VideoFormat, VideoMeta};

/// Starts a receive pipeline whose `udpsrc name=net` binds port 0;
/// returns it and the port it got.
fn playing_receiver(description: &str) -> (Pipeline, u64) {
    let receiver = parse_launch(description).unwrap();
    receiver.set_state(State::Playing).unwrap();
    let port = receiver
        .by_name("net")
        .unwrap()
        .property("port")
        .unwrap()
        .as_u64()
        .unwrap();
    (receiver, port)
}

#[test]
fn sender_h264_to_a_loopback_receiver() {
    let (receiver, port) = playing_receiver(
        "udpsrc name=net port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtpjitterbuffer latency=50 ! rtph264depay ! openh264dec ! appsink name=out sync=false max-buffers=64",
    );
    assert_ne!(port, 0);

    let sender = Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(Codec::H264)
        .size(320, 240)
        .fps(30)
        .input_format(VideoFormat::Bgr)
        .encoder_threads(1)
        .build()
        .unwrap();
    let threads = sender
        .pipeline()
        .elements()
        .into_iter()
        .find_map(|e| e.property("threads").ok());
    assert_eq!(threads.and_then(|t| t.as_u64()), Some(1), "h264enc threads");
    // The SDP exists before any frame is pushed.
    let early = sender.sdp().expect("the SDP before the first frame");
    assert!(
        early.contains(&format!("m=video {port} RTP/AVP 96")),
        "{early}"
    );
    assert!(early.contains("H264/90000"), "{early}");
    let start = Instant::now();
    for n in 0..30u32 {
        let mut frame = sender.frame().expect("pooled frame");
        {
            let f = frame.get_mut().unwrap();
            let (offset, stride) = f
                .meta::<VideoMeta>()
                .map_or((0, 320 * 3), |m| (m.offset[0], m.stride[0]));
            let mut map = f.map_writable().unwrap();
            for (y, row) in map[offset..].chunks_mut(stride).take(240).enumerate() {
                row[..320 * 3].fill((y as u32 + n * 8) as u8);
            }
        }
        sender.push(frame).expect("push");
        let due = start + Duration::from_millis(33 * (n as u64 + 1));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let sdp = sender.sdp().unwrap();
    assert!(sdp.contains("m=video"), "{sdp}");
    assert!(sdp.contains("H264/90000"), "{sdp}");
    assert!(sdp.contains("sprop-parameter-sets="), "{sdp}");
    let stats = sender.stats();
    assert_eq!(stats.frames_in, 30);
    assert!(stats.packets >= 30, "{stats:?}");
    assert!(stats.bytes > 0 && stats.bitrate > 0.0, "{stats:?}");
    // push -> wire is measured for every frame, and on loopback it is far
    // below a frame interval at this size.
    assert!(stats.latency > Duration::ZERO, "{stats:?}");
    assert!(
        stats.latency_max >= stats.latency && stats.latency_max < Duration::from_secs(1),
        "{stats:?}"
    );

    let out = receiver.by_name("out").unwrap();
    let appsink = AppSink::from_element(&out).unwrap();
    let mut decoded = 0;
    while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(2))) {
        let info = sample.caps.as_ref().unwrap().video_info().unwrap();
        assert_eq!((info.width, info.height), (320, 240));
        decoded += 1;
    }
    // Live and latest-wins: a frame may be dropped if the encoder lags,
    // but the stream flows.
    assert!(decoded >= 25, "decoded {decoded} of 30, sender {stats:?}");
    sender.finish().unwrap();
    receiver.set_state(State::Null).unwrap();
}

/// `push_packed` copies packed pixels (as a numpy array or OpenCV `Mat`
/// holds them) into padded pooled frames: raw video arrives bit-exact,
/// a crop given by its stride too, and a wrong size is refused with the
/// size expected.
#[test]
fn push_packed_frames_arrive_bit_exact() {
    // 30x20 I420: luma rows padded to 32 bytes, chroma 15 -> 16, so
    // every plane of the pooled frame has padding.
    let (w, h) = (30usize, 20usize);
    let (receiver, sender) = raw_receiver(w, h, VideoFormat::I420);
    let sender = sender.build().unwrap();
    let info = *sender.video_info();
    let packed = framecast::elements::video::frame::packed_size(&info);
    assert_eq!(packed, w * h + 2 * (15 * 10));
    let err = sender.push_packed(&vec![0; packed - 1], None).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("a packed frame is {packed}")),
        "{err}"
    );

    let pixels: Vec<Vec<u8>> = (0..3u8)
        .map(|n| {
            (0..packed)
                .map(|i| (i * 7 + n as usize * 31) as u8)
                .collect()
        })
        .collect();
    let out = receiver.by_name("out").unwrap();
    let appsink = AppSink::from_element(&out).unwrap();
    for frame in &pixels {
        sender.push_packed(frame, None).expect("push_packed");
        let sample = appsink
            .pull_sample(Some(Duration::from_secs(5)))
            .expect("frame");
        let got = sample.buffer.map_readable().unwrap();
        let got = got.contiguous();
        // The depayloader's frame is I420 in GStreamer's default layout.
        let out_info = sample.caps.as_ref().unwrap().video_info().unwrap();
        let mut at = 0;
        for p in 0..3 {
            let row = out_info.comp_width(p) as usize;
            for y in 0..out_info.comp_height(p) as usize {
                let start = out_info.offset[p] + y * out_info.stride[p];
                assert_eq!(
                    &got[start..start + row],
                    &frame[at..at + row],
                    "plane {p} row {y}"
                );
                at += row;
            }
        }
    }
    sender.finish().unwrap();
    receiver.set_state(State::Null).unwrap();
}

/// A receive pipeline for raw I420 `w` x `h` (RFC 4175) into the appsink
/// `out`, on a port of its own, and a raw sender's settings (from
/// `format`) for it.
fn raw_receiver(w: usize, h: usize, format: VideoFormat) -> (Pipeline, SenderBuilder) {
    let (receiver, port) = playing_receiver(&format!(
        "udpsrc name=net port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,payload=96,\
         sampling=(string)YCbCr-4:2:0,depth=(string)8,width=(string){w},height=(string){h}\" \
         ! rtpvrawdepay ! appsink name=out sync=false max-buffers=64"
    ));
    let sender = Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(Codec::Raw)
        .size(w as u32, h as u32)
        .input_format(format);
    (receiver, sender)
}

/// Converting BGR into I420 as the frame is pushed
/// (`convert_in_push`, what the Python bindings build) sends exactly
/// what the pipeline's `videoconvert` sends from the same pixels: the
/// same matrix, range and chroma, into padded pooled frames (30x20: the
/// chroma rows of 15 bytes are padded to 16).
#[test]
fn converting_in_push_sends_what_videoconvert_sends() {
    let (w, h) = (30usize, 20usize);
    let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
    let received: Vec<Vec<u8>> = [false, true]
        .into_iter()
        .map(|convert| {
            let (receiver, sender) = raw_receiver(w, h, VideoFormat::Bgr);
            let sender = sender.convert_in_push(convert).build().unwrap();
            assert_eq!(sender.video_info().format, VideoFormat::Bgr);
            let pooled = sender.frame().unwrap().size();
            assert_eq!(pooled < w * h * 3, convert, "I420 pool: {pooled} bytes");
            sender.push_packed(&pixels, None).expect("push_packed");
            let out = receiver.by_name("out").unwrap();
            let sample = AppSink::from_element(&out)
                .unwrap()
                .pull_sample(Some(Duration::from_secs(5)))
                .expect("frame");
            let got = sample.buffer.map_readable().unwrap().contiguous().to_vec();
            sender.finish().unwrap();
            receiver.set_state(State::Null).unwrap();
            got
        })
        .collect();
    assert!(received[0].iter().any(|&b| b != received[0][0]));
    assert_eq!(received[0], received[1]);
}

/// A crop of a wider image (rows further apart than the frame's) is
/// copied row by row; a short one is refused with the size it needs.
#[test]
fn push_packed_takes_a_crop_by_its_stride() {
    let sender = Sender::builder()
        .to("127.0.0.1:9")
        .codec(Codec::Raw)
        .size(16, 8)
        .input_format(VideoFormat::Bgr)
        .build()
        .unwrap();
    let image = vec![1u8; 7 * 100 + 48];
    sender
        .push_packed(&image, Some(100))
        .expect("a 16x8 crop of 100-byte rows");
    let err = sender.push_packed(&image[..747], Some(100)).unwrap_err();
    assert!(err.to_string().contains("748 needed"), "{err}");
    sender.finish().unwrap();
}

/// A frame the chain cannot carry is refused when the sender is built,
/// with the element's reason (RFC 4175 4:2:0 needs an even height).
#[test]
fn an_unsendable_size_fails_at_build_with_the_reason() {
    let err = Sender::builder()
        .to("127.0.0.1:9")
        .codec(Codec::Raw)
        .size(30, 21)
        .input_format(VideoFormat::I420)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("rtpvrawpay"), "{err}");
    assert!(
        err.contains("height = 21") && err.contains("multiple"),
        "{err}"
    );
}

#[test]
fn a_client_without_a_port_or_on_port_0_is_refused_with_the_reason() {
    for (to, says) in [
        ("127.0.0.1", ":PORT is missing"),
        ("[::1]", ":PORT is missing"),
        ("127.0.0.1:0", "port 0"),
        ("127.0.0.1:99999", "1..=65535"),
    ] {
        let err = Sender::builder()
            .to(to)
            .size(64, 48)
            .build()
            .expect_err(to)
            .to_string();
        assert!(err.contains(says), "{to}: {err}");
    }
}

#[test]
fn nacks_are_answered_with_rtx_to_clients_only() {
    use framecast_rtp::nack::write_generic_nack;
    use framecast_rtp::RtpPacket;
    use std::net::UdpSocket;
    use std::time::{Duration, Instant};

    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let port = client.local_addr().unwrap().port();
    let tx = Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .size(64, 48)
        .codec(Codec::Jpeg)
        .build()
        .expect("sender");
    // Frames until a packet has come: where it came from is where the
    // sender reads feedback.
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(10);
    let (seq, ssrc, sender_addr) = loop {
        assert!(Instant::now() < deadline, "no packet from the sender");
        let frame = tx.frame().expect("frame");
        let _ = tx.push(frame);
        if let Ok((n, from)) = client.recv_from(&mut buf) {
            if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                if p.payload_type() == 26 {
                    break (p.sequence_number(), p.ssrc(), from);
                }
            }
        }
    };
    let nack = |from: &UdpSocket| {
        let mut rtcp = [0u8; 64];
        let n = write_generic_nack(&mut rtcp, 1, ssrc, [seq]).unwrap();
        from.send_to(&rtcp[..n], sender_addr).unwrap();
    };
    // Whether an RTX copy of `seq` reaches `sock` within a second.
    let mut rtx_arrives = |sock: &UdpSocket| {
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until {
            if let Ok(n) = sock.recv(&mut buf) {
                if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                    if p.payload_type() == 97 && p.payload()[..2] == seq.to_be_bytes() {
                        return true;
                    }
                }
            }
        }
        false
    };
    // A stranger's NACK (or one with a spoofed source) gets nothing.
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    nack(&stranger);
    assert!(!rtx_arrives(&stranger), "RTX sent to a non-client");
    // The client's is answered with the packet, as RTX (RFC 4588).
    nack(&client);
    assert!(rtx_arrives(&client), "no RTX for the client's NACK");
    let retransmissions = tx
        .pipeline()
        .by_name("sink")
        .map(|s| s.counter("retransmissions"))
        .unwrap_or(0);
    assert_eq!(retransmissions, 1);
    let _ = tx.finish();
}
