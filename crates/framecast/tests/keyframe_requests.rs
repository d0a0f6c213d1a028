//! Keyframe requests (GStreamer's upstream `GstForceKeyUnit`): the H.264
//! encoders honour them, rate-limited by `min-force-key-unit-interval`;
//! and a receiver that joins a stream between IDRs asks for one (depay ->
//! udpsrc -> RTCP PLI -> udpsink -> encoder), so its first picture comes
//! promptly instead of at the next periodic IDR. Also: the stream's caps
//! (and so its SDP) exist before the first frame.
//!
//! Every socket here is on 127.0.0.1, and every wait is bounded in time.

use framecast_test_support::pipelines::{element, launch, uint};
use framecast_test_support::ports::free_port;
use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::elements::video::decode_counter_buffer;
use framecast::pipeline::Event;
use framecast::{make_element, Buffer, ClockTime, State};

fn have(factory: &str) -> bool {
    make_element(factory, None).is_ok()
}

/// Frames pushed one at a time into `encoder gop-size=1000
/// min-force-key-unit-interval=1 s`, each pulled encoded before the next
/// goes in; force-key-unit requests sent upstream from the appsink's pad
/// after the frames `requests` lists. Returns the frames that came out as
/// IDRs.
fn forced_keyframes(encoder: &str, requests: &[(usize, usize)], n: usize) -> Vec<usize> {
    let p = launch(&format!(
        "appsrc name=src caps=\"video/x-raw,format=I420,width=64,height=48,framerate=30/1\" \
         ! {encoder} gop-size=1000 min-force-key-unit-interval=1000000000 \
         ! appsink name=sink sync=false max-buffers=0"
    ));
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "src");
    let sink_el = element(&p, "sink");
    let appsrc = AppSrc::from_element(&src_el).unwrap();
    let appsink = AppSink::from_element(&sink_el).unwrap();
    let pad = sink_el.sink_pad().unwrap();
    let mut idrs = Vec::new();
    for i in 0..n {
        let mut b = Buffer::with_size(64 * 48 * 3 / 2).unwrap();
        {
            let m = b.get_mut().unwrap();
            m.map_writable().unwrap().fill((i * 7) as u8);
            m.set_pts(Some(ClockTime::from_nseconds(
                i as u64 * 1_000_000_000 / 30,
            )));
        }
        appsrc.push_buffer(b).map_err(|_| "push").unwrap();
        let s = appsink
            .pull_sample(Some(Duration::from_secs(10)))
            .unwrap_or_else(|| panic!("{encoder}: frame {i} not encoded"));
        if !s
            .buffer
            .flags()
            .contains(framecast::BufferFlags::DELTA_UNIT)
        {
            idrs.push(i);
        }
        for &(after, count) in requests {
            if after == i {
                for _ in 0..count {
                    assert!(pad.push_event(Event::force_key_unit_upstream(true)));
                }
            }
        }
    }
    p.set_state(State::Null).unwrap();
    idrs
}

/// The encoder forces an IDR on the frame after a request; a request
/// within `min-force-key-unit-interval` of the last forced IDR (by PTS)
/// waits for the interval instead of being lost; a burst is one IDR.
#[test]
fn encoders_honour_force_key_unit_rate_limited() {
    for encoder in ["openh264enc", "x264enc"] {
        if !have(encoder) {
            eprintln!("skipping {encoder}: not built");
            continue;
        }
        // Five requests after frame 10: one IDR at 11. One after frame 20
        // (0.3 s later): held until 1 s after frame 11, frame 41. One after
        // 50: 0.3 s after 41, held until frame 71.
        let idrs = forced_keyframes(encoder, &[(10, 5), (20, 1), (50, 1)], 80);
        assert_eq!(idrs, [0, 11, 41, 71], "{encoder}");
    }
}

/// The encoder's output caps go downstream with the input caps, before
/// any frame: `udpsink sdp-file=` writes the SDP of a stream that has not
/// sent a packet yet.
#[test]
fn the_sdp_exists_before_the_first_frame() {
    if !have("openh264enc") {
        eprintln!("skipping: openh264enc not built");
        return;
    }
    let dir = std::env::temp_dir().join(format!("framecast-early-sdp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sdp = dir.join("early.sdp");
    let port = free_port();
    let p = launch(&format!(
        "appsrc name=src caps=\"video/x-raw,format=I420,width=64,height=48,framerate=30/1\" \
         ! openh264enc ! rtph264pay ! udpsink name=net host=127.0.0.1 port={port} sdp-file=\"{}\"",
        sdp.display()
    ));
    p.set_state(State::Playing).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let text = loop {
        if let Ok(t) = std::fs::read_to_string(&sdp) {
            break t;
        }
        assert!(Instant::now() < deadline, "no SDP within 5 s");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(uint(&element(&p, "net"), "packets-sent"), 0);
    assert!(
        text.contains(&format!("m=video {port} RTP/AVP 96")),
        "{text}"
    );
    assert!(text.contains("a=rtpmap:96 H264/90000"), "{text}");
    assert!(text.contains("packetization-mode=1"), "{text}");
    p.set_state(State::Null).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A receiver started mid-GOP (a 20 s GOP) decodes its first picture
/// within a second: rtph264depay asks for a keyframe, udpsrc sends a PLI
/// to the sender, udpsink passes it to the encoder as a force-key-unit
/// event. Without the request the first picture would come at the next
/// periodic IDR, 20 s later.
#[test]
fn a_receiver_joining_mid_gop_decodes_its_first_frame_promptly() {
    if !have("openh264enc") || !have("openh264dec") {
        eprintln!("skipping: openh264enc/openh264dec not built");
        return;
    }
    let port = free_port();
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true \
         ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 \
         ! openh264enc name=enc gop-size=600 ! rtph264pay ! udpsink name=net host=127.0.0.1 port={port}"
    ));
    tx.set_state(State::Playing).unwrap();
    let enc = element(&tx, "enc");
    // Well past the first IDR.
    let deadline = Instant::now() + Duration::from_secs(10);
    while uint(&enc, "frames-encoded") < 15 {
        assert!(Instant::now() < deadline, "the sender did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(uint(&enc, "keyframes"), 1);
    let rx = launch(&format!(
        "udpsrc name=src port={port} address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtph264depay name=depay ! openh264dec ! appsink name=sink sync=false max-buffers=0"
    ));
    let started = Instant::now();
    rx.set_state(State::Playing).unwrap();
    let sink_el = element(&rx, "sink");
    let sink = AppSink::from_element(&sink_el).unwrap();
    // The next IDR is 20 s away: a picture within 8 s (well under a
    // second on an idle machine) is the requested keyframe's.
    let first = sink.pull_sample(Some(Duration::from_secs(8)));
    let waited = started.elapsed();
    let first = first.expect("no picture within 8 s of joining (the next IDR is 20 s away)");
    eprintln!("first picture {waited:?} after joining");
    let info = first.caps.as_deref().unwrap().video_info().unwrap();
    let stamp = decode_counter_buffer(&first.buffer, &info).expect("a counter frame");
    assert!(stamp.frame >= 15, "frame {} decoded", stamp.frame);
    assert!(uint(&element(&rx, "depay"), "keyframes-requested") >= 1);
    assert!(uint(&element(&rx, "src"), "pli-sent") >= 1);
    assert!(uint(&element(&tx, "net"), "keyframe-requests") >= 1);
    assert!(uint(&enc, "keyframes") >= 2);
    rx.set_state(State::Null).unwrap();
    tx.set_state(State::Null).unwrap();
}
