//! The Sender API end to end on 127.0.0.1: frames written into pooled
//! buffers arrive decoded at a framecast receiver; the SDP describes them.

use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::sender::{Codec, Sender};
use framecast::{parse_launch, State, VideoFormat, VideoMeta};

#[test]
fn sender_h264_to_a_loopback_receiver() {
    let receiver = parse_launch(
        "udpsrc name=net port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtpjitterbuffer latency=50 ! rtph264depay ! openh264dec ! appsink name=out sync=false max-buffers=64",
    )
    .unwrap();
    receiver.set_state(State::Playing).unwrap();
    let port = receiver
        .by_name("net")
        .unwrap()
        .property("port")
        .unwrap()
        .as_u64()
        .unwrap();
    assert_ne!(port, 0);

    let sender = Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(Codec::H264)
        .size(320, 240)
        .fps(30)
        .input_format(VideoFormat::Bgr)
        .build()
        .unwrap();
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
