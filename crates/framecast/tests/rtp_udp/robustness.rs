//! Robustness.

use super::*;

/// Pushes `packets` through `appsrc caps=<caps> ! <chain> ! fakesink`;
/// nothing may panic and no error may reach the bus.
fn feed(caps: &str, chain: &str, packets: &[Vec<u8>]) {
    let p = launch(&format!(
        "appsrc name=in caps=\"{caps}\" max-buffers=0 ! {chain} ! fakesink sync=false"
    ));
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    for pkt in packets {
        let b = Buffer::from_slice(pkt).unwrap();
        let _ = src.push_buffer(b);
    }
    let _ = src.end_of_stream();
    wait_eos(&p, Duration::from_secs(10));
    assert_no_error(&p);
    p.set_state(State::Null).unwrap();
}

fn h264_caps() -> String {
    "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264".into()
}

fn jpeg_caps() -> String {
    "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26".into()
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// An RTP-looking packet: a valid fixed header (sometimes), then
    /// arbitrary bytes; sequence numbers near each other so that
    /// reassembly paths run.
    fn packet() -> impl Strategy<Value = Vec<u8>> {
        (
            any::<bool>(),
            any::<bool>(),
            0u16..8,
            0u32..4,
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(valid, marker, seq, ts, body)| {
                if !valid {
                    return body;
                }
                let mut p = vec![0x80, (u8::from(marker) << 7) | 96];
                p.extend_from_slice(&seq.to_be_bytes());
                p.extend_from_slice(&(ts * 3000).to_be_bytes());
                p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
                p.extend_from_slice(&body);
                p
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn depayloaders_survive_random_packets(
            packets in proptest::collection::vec(packet(), 0..60)
        ) {
            feed(&h264_caps(), "rtpjitterbuffer latency=5 ! rtph264depay", &packets);
            feed(&jpeg_caps(), "rtpjpegdepay", &packets);
            feed(RAW_RTP_CAPS, "rtpvrawdepay", &packets);
        }
    }
}

#[test]
fn h264_depay_puts_sdp_parameter_sets_before_an_idr_that_lacks_them() {
    let p = launch(
        "appsrc name=in caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,\
         sprop-parameter-sets=(string)\\\"Z0LAHtkA,aM48gA==\\\"\" \
         ! rtph264depay ! appsink name=sink sync=false max-buffers=0",
    );
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    // One IDR slice as a single NAL unit packet, marker set.
    let mut pkt = vec![0x80, 0x80 | 96, 0, 1, 0, 0, 0x0b, 0xb8, 0, 0, 0, 7];
    pkt.extend_from_slice(&[0x65, 0x88, 0x84, 0x21]);
    let _ = src.push_buffer(Buffer::from_slice(&pkt).unwrap());
    let got = pull(&p, "sink", 1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    let map = got[0].0.map_readable().unwrap();
    let data = map.contiguous();
    let mut expected = vec![0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00];
    expected.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
    expected.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21]);
    assert_eq!(&data[..], &expected[..]);
    assert!(!got[0].0.flags().contains(BufferFlags::DELTA_UNIT));
    p.set_state(State::Null).unwrap();
}

/// Pushes `packets` (with PTS 10 ms, 20 ms, ...) into `appsrc caps=<caps>
/// ! <depay> name=depay ! appsink`, ends the stream, and returns what the
/// sink got and the depayloader's `frames-out` and `frames-discarded`.
fn depayload_to_eos(caps: &str, depay: &str, packets: &[Vec<u8>]) -> (Vec<Buffer>, u64, u64) {
    let p = launch(&format!(
        "appsrc name=in caps=\"{caps}\" max-buffers=0 ! {depay} name=depay \
         ! appsink name=sink sync=false max-buffers=0"
    ));
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    for (i, pkt) in packets.iter().enumerate() {
        let mut b = Buffer::from_slice(pkt).unwrap();
        b.get_mut()
            .unwrap()
            .set_pts(Some(ClockTime::from_mseconds(10 * (i as u64 + 1))));
        src.push_buffer(b).unwrap();
    }
    src.end_of_stream().unwrap();
    let sink_el = element(&p, "sink");
    let sink = AppSink::from_element(&sink_el).unwrap();
    let mut got = Vec::new();
    while let Some(sample) = sink.pull_sample(Some(Duration::from_secs(5))) {
        got.push(sample.buffer);
    }
    wait_eos(&p, Duration::from_secs(5));
    assert_no_error(&p);
    let depay = element(&p, "depay");
    let counts = (uint(&depay, "frames-out"), uint(&depay, "frames-discarded"));
    p.set_state(State::Null).unwrap();
    (got, counts.0, counts.1)
}

#[test]
fn h264_depay_sends_the_last_access_unit_at_eos_like_any_other() {
    // A P slice whose packet lacks the marker bit: only end-of-stream
    // finishes its access unit. It must come out stamped and counted.
    let mut idr = vec![0x80, 0x80 | 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7];
    idr.extend_from_slice(&[0x65, 0x88, 0x84, 0x21]);
    let mut last = vec![0x80, 96, 0, 2, 0, 0, 0x0b, 0xb8, 0, 0, 0, 7];
    last.extend_from_slice(&[0x41, 0x9a, 0x02]);
    let (got, out, discarded) = depayload_to_eos(&h264_caps(), "rtph264depay", &[idr, last]);
    assert_eq!((got.len(), out, discarded), (2, 2, 0));
    assert_eq!(got[1].pts(), Some(ClockTime::from_mseconds(20)));
    assert!(got[1].flags().contains(BufferFlags::DELTA_UNIT));
    let map = got[1].map_readable().unwrap();
    assert_eq!(&map.contiguous()[..], &[0, 0, 0, 1, 0x41, 0x9a, 0x02]);
}

#[test]
fn h264_depay_forgets_an_access_unit_in_progress_at_a_flush() {
    let p = launch(&format!(
        "appsrc name=in caps=\"{}\" max-buffers=0 ! rtph264depay name=depay \
         ! appsink name=sink sync=false max-buffers=0",
        h264_caps()
    ));
    p.set_state(State::Playing).unwrap();
    let src_el = element(&p, "in");
    let src = AppSrc::from_element(&src_el).expect("appsrc");
    // An IDR slice whose packet lacks the marker: in progress at the flush.
    let mut pkt = vec![0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7];
    pkt.extend_from_slice(&[0x65, 0x88, 0x84, 0x21]);
    src.push_buffer(Buffer::from_slice(&pkt).unwrap()).unwrap();
    let out = src_el.src_pad().unwrap();
    // Let the queued packet through before flushing behind it.
    std::thread::sleep(Duration::from_millis(200));
    out.push_event(framecast::Event::FlushStart);
    out.push_event(framecast::Event::FlushStop { reset_time: false });
    src.end_of_stream().unwrap();
    wait_eos(&p, Duration::from_secs(5));
    let depay = element(&p, "depay");
    assert_eq!(uint(&depay, "packets-received"), 1);
    assert_eq!(
        uint(&depay, "frames-out"),
        0,
        "the pre-flush access unit came out"
    );
    p.set_state(State::Null).unwrap();
}

#[test]
fn vraw_depay_sends_a_frame_that_lost_its_marker_at_eos_flagged() {
    // 8x2 RGB in two packets of one line each; the second (the marker)
    // is lost, so end-of-stream has to end the frame.
    let caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,\
                sampling=RGB,depth=(string)8,width=(string)8,height=(string)2";
    let line = |seq: u8, y: u8, marker: bool| {
        let mut p = vec![
            0x80,
            (u8::from(marker) << 7) | 96,
            0,
            seq,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            9,
        ];
        // Extended seq, then length 24, line y (F=0), offset 0 (C=0).
        p.extend_from_slice(&[0, 0, 0, 24, 0, y, 0, 0]);
        p.extend(std::iter::repeat_n(0x40 + y, 24));
        p
    };
    let (got, out, discarded) = depayload_to_eos(caps, "rtpvrawdepay", &[line(1, 0, false)]);
    assert_eq!((got.len(), out, discarded), (1, 1, 1));
    assert!(got[0].flags().contains(BufferFlags::CORRUPTED));
    assert_eq!(got[0].pts(), Some(ClockTime::from_mseconds(10)));
    let map = got[0].map_readable().unwrap();
    assert_eq!(&map.contiguous()[..24], &[0x40; 24][..]);
}
