//! Codecs (when the encoders exist).

use super::*;

#[test]
fn jpeg_frames_arrive_with_their_counters() {
    if !have("jpegenc") || !have("jpegdec") {
        eprintln!("skipping: jpegenc/jpegdec not built");
        return;
    }
    let n: u32 = 20;
    let (rx, port) = start_receiver(
        "udpsrc name=src port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26\" \
         ! rtpjpegdepay name=depay ! jpegdec ! appsink name=sink sync=false max-buffers=0",
    );
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers={n} \
         ! video/x-raw,format=I420,width=320,height=240,framerate=50/1 \
         ! jpegenc ! rtpjpegpay ! udpsink host=127.0.0.1 port={port}"
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(15));
    let got = pull(&rx, "sink", n as usize, Duration::from_secs(5));
    let frames: Vec<u64> = got
        .iter()
        .filter_map(|(b, c)| decode_counter_buffer(b, &info_of(c)).map(|s| s.frame))
        .collect();
    assert_eq!(frames, (0..u64::from(n)).collect::<Vec<_>>());
    assert_eq!(uint(&element(&rx, "depay"), "packets-lost"), 0);
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
}

#[test]
fn h264_frames_arrive_with_their_counters_and_sdp() {
    if !have("openh264enc") || !have("openh264dec") {
        eprintln!("skipping: openh264enc/openh264dec not built");
        return;
    }
    let n: u32 = 30;
    let dir = std::env::temp_dir().join(format!("framecast-rtp-h264-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sdp: PathBuf = dir.join("h264.sdp");
    let (rx, port) = start_receiver(
        "udpsrc name=src port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtph264depay name=depay ! openh264dec ! appsink name=sink sync=false max-buffers=0",
    );
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers={n} \
         ! video/x-raw,format=I420,width=320,height=240,framerate=50/1 \
         ! openh264enc ! rtph264pay name=pay ! udpsink host=127.0.0.1 port={port} sdp-file=\"{}\"",
        sdp.display()
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(20));
    let got = pull(&rx, "sink", n as usize, Duration::from_secs(5));
    let frames: Vec<u64> = got
        .iter()
        .filter_map(|(b, c)| decode_counter_buffer(b, &info_of(c)).map(|s| s.frame))
        .collect();
    assert!(frames.len() >= n as usize - 1, "decoded {frames:?}");
    assert!(frames.windows(2).all(|w| w[0] < w[1]), "{frames:?}");
    let text = std::fs::read_to_string(&sdp).expect("SDP written");
    assert!(text.contains("a=rtpmap:96 H264/90000"), "{text}");
    assert!(text.contains("sprop-parameter-sets="), "{text}");
    assert!(text.contains("profile-level-id="), "{text}");
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
