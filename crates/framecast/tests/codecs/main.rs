//! Encoders and decoders in real pipelines: H.264 (openh264, x264 with the
//! `x264` feature, `h264enc`'s choice) and JPEG round trips where every
//! frame arrives with its frame number readable and PSNR >= 35 dB against
//! the source; the keyframe interval and buffer flags; decoders fed
//! garbage and truncated streams (no panic, errors counted, pictures
//! resume at the next IDR); and FFmpeg decoding our H.264 (skipped when
//! ffmpeg is missing, unless `FRAMECAST_REQUIRE_INTEROP=1`).

use framecast_test_support::compare::psnr;
use framecast_test_support::interop;
use interop::tool_available;

use std::time::Duration;

use framecast::elements::appsink::AppSink;
use framecast::elements::appsrc::AppSrc;
use framecast::elements::video::{decode_counter_buffer, frame_layout, Frame};
use framecast::pipeline::Caps;
use framecast::{
    parse_launch, Buffer, BufferFlags, ClockTime, Message, Pipeline, ReferenceTimestampMeta, State,
    VideoInfo,
};
use framecast_rtp::h264::{nal_unit_type, NalUnits};

const RAW: &str = "video/x-raw,format=I420,width=320,height=240,framerate=30/1";

/// Runs a pipeline string ending in `appsink name=sink`; returns what the
/// sink got, its caps, and the pipeline (stopped) for reading properties.
fn run(description: &str) -> (Vec<Buffer>, Option<Caps>, Pipeline) {
    let pipeline = parse_launch(description).unwrap_or_else(|e| panic!("{description}: {e}"));
    let sink = pipeline.by_name("sink").expect("appsink named sink");
    sink.set_property("sync", false).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let mut frames = Vec::new();
    let mut caps = None;
    while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(20))) {
        caps = sample.caps.as_deref().cloned();
        frames.push(sample.buffer);
    }
    let end = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(10)), |m| {
            matches!(m, Message::Eos | Message::Error { .. })
        });
    assert!(matches!(end, Some(Message::Eos)), "{description}: {end:?}");
    pipeline.set_state(State::Null).unwrap();
    (frames, caps, pipeline)
}

/// The I420 planes of `buffer`, repacked tightly (Y, then U, then V).
fn planes(buffer: &Buffer, info: &VideoInfo) -> Vec<u8> {
    let layout = frame_layout(buffer, info).unwrap();
    let map = buffer.map_readable().unwrap();
    let data = map.contiguous();
    let frame = Frame::new(layout, &data).unwrap();
    let mut out = Vec::with_capacity(info.size);
    for p in 0..3 {
        let w = info.comp_width(p) as usize;
        for row in 0..info.comp_height(p) as usize {
            out.extend_from_slice(&frame.plane(p)[row * frame.stride(p)..][..w]);
        }
    }
    out
}

/// The source frames, straight from testsrc.
/// A buffer's bytes, copied out.
fn bytes_of(b: &Buffer) -> Vec<u8> {
    b.map_readable().unwrap().contiguous().into_owned()
}

fn reference(n: u32) -> Vec<Buffer> {
    let (frames, _, _) = run(&format!(
        "testsrc pattern=counter num-buffers={n} ! {RAW} ! appsink name=sink"
    ));
    assert_eq!(frames.len(), n as usize);
    frames
}

/// Checks decoded frames against the source: all there, in order, the
/// counter reads the right number, timestamps kept, PSNR >= `min_psnr`.
fn check_round_trip(what: &str, decoded: &[Buffer], caps: &Caps, source: &[Buffer], min_psnr: f64) {
    assert_eq!(decoded.len(), source.len(), "{what}: every frame arrives");
    let info = caps.video_info().unwrap();
    let src_info: VideoInfo = RAW.parse::<Caps>().unwrap().video_info().unwrap();
    assert_eq!((info.width, info.height), (320, 240), "{what}: {caps}");
    let mut worst = f64::INFINITY;
    for (i, (d, s)) in decoded.iter().zip(source).enumerate() {
        let stamp = decode_counter_buffer(d, &info)
            .unwrap_or_else(|| panic!("{what}: frame {i}: counter unreadable"));
        assert_eq!(stamp.frame, i as u64, "{what}: frame order");
        assert_eq!(d.pts(), s.pts(), "{what}: frame {i} PTS");
        let p = psnr(&planes(d, &info), &planes(s, &src_info));
        worst = worst.min(p);
    }
    eprintln!("{what}: {} frames, worst PSNR {worst:.1} dB", decoded.len());
    assert!(
        worst >= min_psnr,
        "{what}: worst PSNR {worst:.1} dB < {min_psnr}"
    );
}

#[test]
fn openh264_round_trip_every_frame_counter_and_psnr() {
    let source = reference(60);
    let (decoded, caps, pipeline) = run(&format!(
        "testsrc pattern=counter num-buffers=60 ! {RAW} ! videoconvert ! openh264enc name=enc ! \
         openh264dec name=dec ! videoconvert ! {RAW} ! appsink name=sink"
    ));
    check_round_trip("openh264", &decoded, &caps.expect("caps"), &source, 35.0);
    let enc = pipeline.by_name("enc").unwrap();
    assert_eq!(enc.property("frames-encoded").unwrap().as_u64(), Some(60));
    assert_eq!(enc.property("frames-skipped").unwrap().as_u64(), Some(0));
    let dec = pipeline.by_name("dec").unwrap();
    assert_eq!(dec.property("frames-decoded").unwrap().as_u64(), Some(60));
    assert_eq!(dec.property("decode-errors").unwrap().as_u64(), Some(0));
    eprintln!(
        "openh264enc asm: {:?}",
        enc.property("asm").unwrap().as_bool()
    );
}

/// Reads H.264 RBSP bits (emulation prevention bytes dropped).
struct Bits {
    rbsp: Vec<u8>,
    pos: usize,
}

impl Bits {
    /// The RBSP of `nal`, after its one-byte header.
    fn of(nal: &[u8]) -> Bits {
        let mut rbsp = Vec::new();
        let mut zeros = 0;
        for &b in &nal[1..] {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            rbsp.push(b);
        }
        Bits { rbsp, pos: 0 }
    }

    fn u(&mut self, n: u32) -> u32 {
        (0..n).fold(0, |acc, _| {
            let bit = (self.rbsp[self.pos / 8] >> (7 - self.pos % 8)) & 1;
            self.pos += 1;
            acc << 1 | u32::from(bit)
        })
    }

    /// ue(v); se(v) has the same length, which is all the parse needs.
    fn ue(&mut self) -> u32 {
        let mut leading = 0;
        while self.u(1) == 0 {
            leading += 1;
        }
        (1 << leading) - 1 + self.u(leading)
    }
}

/// `disable_deblocking_filter_idc` of the first IDR slice in `data`
/// (Annex B, baseline profile as OpenH264 writes it: frames only, no
/// slice groups), parsing the SPS, PPS and slice header
/// (H.264 7.3.2.1, 7.3.2.2, 7.3.3); 0 (filter on) when the PPS has no
/// deblocking control.
fn idr_disable_deblocking_filter_idc(data: &[u8]) -> u32 {
    let nal = |t: u8| {
        NalUnits::AnnexB(data)
            .iter()
            .find(|n| nal_unit_type(n[0]) == t)
            .unwrap()
    };
    let mut sps = Bits::of(nal(7));
    assert_eq!(sps.u(8), 66, "baseline profile");
    sps.u(16); // constraint flags, level_idc
    sps.ue(); // seq_parameter_set_id
    let log2_max_frame_num = sps.ue() + 4;
    let poc_type = sps.ue();
    let log2_max_poc_lsb = if poc_type == 0 { sps.ue() + 4 } else { 0 };
    assert_ne!(poc_type, 1, "POC type 1 is not parsed here");
    let mut pps = Bits::of(nal(8));
    pps.ue(); // pic_parameter_set_id
    pps.ue(); // seq_parameter_set_id
    assert_eq!(pps.u(1), 0, "CAVLC");
    let bottom_field_pic_order = pps.u(1) == 1;
    assert_eq!(pps.ue(), 0, "no slice groups");
    pps.ue(); // num_ref_idx_l0_default_active_minus1
    pps.ue(); // num_ref_idx_l1_default_active_minus1
    pps.u(3); // weighted_pred_flag, weighted_bipred_idc
    pps.ue(); // pic_init_qp_minus26
    pps.ue(); // pic_init_qs_minus26
    pps.ue(); // chroma_qp_index_offset
    let deblocking_control = pps.u(1) == 1;
    pps.u(1); // constrained_intra_pred_flag
    let redundant_pic_cnt = pps.u(1) == 1;
    let mut slice = Bits::of(nal(5));
    slice.ue(); // first_mb_in_slice
    slice.ue(); // slice_type
    slice.ue(); // pic_parameter_set_id
    slice.u(log2_max_frame_num); // frame_num
    slice.ue(); // idr_pic_id
    if poc_type == 0 {
        slice.u(log2_max_poc_lsb);
        if bottom_field_pic_order {
            slice.ue(); // delta_pic_order_cnt_bottom
        }
    }
    if redundant_pic_cnt {
        slice.ue();
    }
    slice.u(2); // no_output_of_prior_pics_flag, long_term_reference_flag
    slice.ue(); // slice_qp_delta
    if deblocking_control {
        slice.ue()
    } else {
        0
    }
}

#[test]
fn openh264_deblocking_off_by_default_and_on_when_asked() {
    let source = reference(30);
    let mut pictures = Vec::new();
    // disable_deblocking_filter_idc with one thread and with two: with
    // several, OpenH264 keeps the filter off slice boundaries (2) so that
    // slices filter in parallel; with one slice there are none.
    for (setting, one_thread, two_threads) in [
        ("", 1, 1),
        (" deblocking=on", 0, 2),
        (" deblocking=not-slice-boundaries", 0, 2),
    ] {
        for (threads, idc) in [(1, one_thread), (2, two_threads)] {
            let (aus, _, _) = encode(&format!("openh264enc threads={threads}{setting}"), 1);
            let data = aus[0].map_readable().unwrap().contiguous().into_owned();
            assert_eq!(
                idr_disable_deblocking_filter_idc(&data),
                idc,
                "openh264enc threads={threads}{setting}"
            );
        }
        if setting.contains("slice") {
            continue;
        }
        let what = format!("openh264enc threads=1{setting}");
        let (decoded, caps, _) = run(&format!(
            "testsrc pattern=counter num-buffers=30 ! {RAW} ! {what} bitrate=300 ! \
             openh264dec ! videoconvert ! {RAW} ! appsink name=sink"
        ));
        let caps = caps.expect("caps");
        check_round_trip(&what, &decoded, &caps, &source, 30.0);
        let info = caps.video_info().unwrap();
        pictures.push(planes(&decoded[29], &info));
    }
    assert_ne!(
        pictures[0], pictures[1],
        "the deblocking filter changes the decoded picture"
    );
}

/// Encodes `n` counter frames with `encoder` (and its properties) and
/// returns the access units and their caps.
fn encode(encoder: &str, n: u32) -> (Vec<Buffer>, Caps, Pipeline) {
    let (aus, caps, pipeline) = run(&format!(
        "testsrc pattern=counter num-buffers={n} ! {RAW} ! {encoder} ! appsink name=sink"
    ));
    assert_eq!(
        aus.len(),
        n as usize,
        "{encoder}: one access unit per frame"
    );
    (aus, caps.expect("caps"), pipeline)
}

/// Keyframes where expected, flags consistent with the NAL units, caps as
/// rtph264pay and avdec_h264 take them, timestamps and capture time kept.
fn check_access_units(what: &str, aus: &[Buffer], caps: &Caps, gop: usize) {
    let s = caps.structure(0).unwrap();
    assert_eq!(s.name(), "video/x-h264", "{what}: {caps}");
    assert_eq!(s.get_str("stream-format"), Some("byte-stream"));
    assert_eq!(s.get_str("alignment"), Some("au"));
    assert_eq!(
        (s.get_int("width"), s.get_int("height")),
        (Some(320), Some(240))
    );
    let profile = s.get_str("profile").expect("profile in caps");
    let mut keyframes = Vec::new();
    for (i, au) in aus.iter().enumerate() {
        let data = au.map_readable().unwrap().contiguous().into_owned();
        let kind = NalUnits::AnnexB(&data).classify();
        let delta = au.flags().contains(BufferFlags::DELTA_UNIT);
        assert_eq!(
            !delta, kind.idr,
            "{what}: AU {i}: DELTA_UNIT flag vs IDR NAL"
        );
        assert_eq!(
            au.flags().contains(BufferFlags::HEADER),
            kind.parameter_sets,
            "{what}: AU {i}: HEADER flag vs SPS/PPS"
        );
        if kind.idr {
            assert!(
                kind.parameter_sets,
                "{what}: AU {i}: SPS/PPS before every IDR"
            );
            assert_eq!(NalUnits::AnnexB(&data).sps_profile(), Some(profile));
            keyframes.push(i);
        }
        assert_eq!(
            au.pts(),
            Some(ClockTime::from_nseconds(i as u64 * 1_000_000_000 / 30))
        );
        assert!(au.duration().is_some());
    }
    let expected: Vec<usize> = (0..aus.len()).step_by(gop).collect();
    assert_eq!(keyframes, expected, "{what}: an IDR every {gop} frames");
}

#[test]
fn openh264_keyframe_interval_flags_and_caps() {
    let (aus, caps, _) = encode("openh264enc gop-size=10", 45);
    check_access_units("openh264 gop 10", &aus, &caps, 10);
    assert_eq!(
        caps.structure(0).unwrap().get_str("profile"),
        Some("constrained-baseline")
    );
    // Default: one second of frames.
    let (aus, caps, _) = encode("openh264enc", 65);
    check_access_units("openh264 default gop", &aus, &caps, 30);
}

#[test]
fn h264enc_picks_the_best_encoder() {
    let (aus, caps, pipeline) = encode("h264enc name=enc gop-size=15", 30);
    check_access_units("h264enc", &aus, &caps, 15);
    let chosen = pipeline
        .by_name("enc")
        .unwrap()
        .property("encoder")
        .unwrap();
    let expected = if cfg!(feature = "x264") {
        "x264"
    } else {
        "openh264"
    };
    assert_eq!(chosen.as_str(), Some(expected));
    // Forcing one by name.
    let (_, _, pipeline) = encode("h264enc name=enc encoder=openh264", 3);
    let chosen = pipeline
        .by_name("enc")
        .unwrap()
        .property("encoder")
        .unwrap();
    assert_eq!(chosen.as_str(), Some("openh264"));
}

/// The encoder opens when the caps arrive, before any frame is read:
/// opened at the first frame (tens of milliseconds for x264's frames and
/// threads), it held that frame up and blocked a live producer behind it.
/// `rawvideoparse` announces its caps at stream start, so with nothing
/// written to `fdsrc`'s pipe yet the encoder must already be open.
#[test]
fn encoder_opens_when_the_caps_arrive_before_the_first_frame() {
    use std::fs::File;
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::time::Instant;

    let expected = if cfg!(feature = "x264") {
        "x264"
    } else {
        "openh264"
    };
    for (element, backend) in [
        ("h264enc", expected),
        ("h264enc encoder=openh264", "openh264"),
    ] {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) writes two fresh descriptors into `fds`.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors are fresh and owned here from now on.
        let (reader, mut writer) =
            unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        let pipeline = parse_launch(&format!(
            "fdsrc fd={} ! rawvideoparse format=i420 width=320 height=240 framerate=30/1 ! \
             {element} name=enc ! fakesink",
            reader.as_raw_fd()
        ))
        .unwrap();
        pipeline.set_state(State::Playing).unwrap();
        let enc = pipeline.by_name("enc").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut opened = None;
        while Instant::now() < deadline {
            opened = enc
                .property("encoder")
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
            if opened.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            opened.as_deref(),
            Some(backend),
            "{element}: not open before any frame"
        );
        assert_eq!(enc.property("frames-encoded").unwrap().as_u64(), Some(0));
        // One frame, then end of stream: it is encoded by the open encoder.
        writer.write_all(&vec![16u8; 320 * 240 * 3 / 2]).unwrap();
        drop(writer);
        let end = pipeline
            .bus()
            .timed_pop_filtered(Some(Duration::from_secs(10)), |m| {
                matches!(m, Message::Eos | Message::Error { .. })
            });
        assert!(matches!(end, Some(Message::Eos)), "{element}: {end:?}");
        assert_eq!(enc.property("frames-encoded").unwrap().as_u64(), Some(1));
        pipeline.set_state(State::Null).unwrap();
        drop(reader);
    }
}

#[test]
fn unknown_encoder_name_is_an_error_on_the_bus() {
    let pipeline = parse_launch(&format!(
        "testsrc num-buffers=3 ! {RAW} ! h264enc encoder=nosuch ! fakesink"
    ))
    .unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let end = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(10)), |m| {
            matches!(m, Message::Eos | Message::Error { .. })
        });
    pipeline.set_state(State::Null).unwrap();
    match end {
        Some(Message::Error { message, .. }) => {
            assert!(
                message.contains("nosuch") && message.contains("openh264"),
                "{message}"
            )
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[cfg(feature = "x264")]
#[test]
fn x264_round_trip_and_keyframes() {
    let source = reference(40);
    let (decoded, caps, _) = run(&format!(
        "testsrc pattern=counter num-buffers=40 ! {RAW} ! x264enc key-int-max=20 ! openh264dec ! \
         appsink name=sink"
    ));
    check_round_trip("x264", &decoded, &caps.expect("caps"), &source, 35.0);
    let (aus, caps, _) = encode("x264enc", 40);
    check_access_units("x264 default gop", &aus, &caps, 30);
    let (aus, caps, _) = encode("x264enc speed-preset=medium tune=none gop-size=8", 24);
    check_access_units("x264 medium", &aus, &caps, 8);
}

#[test]
fn jpeg_round_trip_every_frame_counter_and_psnr() {
    let source = reference(20);
    let (decoded, caps, pipeline) = run(&format!(
        "testsrc pattern=counter num-buffers=20 ! {RAW} ! jpegenc ! jpegdec name=dec ! \
         appsink name=sink"
    ));
    let caps = caps.expect("caps");
    assert_eq!(caps.structure(0).unwrap().get_str("format"), Some("I420"));
    check_round_trip("jpeg", &decoded, &caps, &source, 35.0);
    let dec = pipeline.by_name("dec").unwrap();
    assert_eq!(dec.property("decode-errors").unwrap().as_u64(), Some(0));
}

#[test]
fn jpeg_is_baseline_420_with_standard_tables() {
    let (jpegs, caps, _) = run(&format!(
        "testsrc pattern=counter num-buffers=2 ! {RAW} ! jpegenc quality=95 ! appsink name=sink"
    ));
    let caps = caps.expect("caps");
    assert_eq!(
        caps.to_string(),
        "image/jpeg,width=320,height=240,framerate=30/1"
    );
    for jpeg in &jpegs {
        let data = jpeg.map_readable().unwrap().contiguous().into_owned();
        assert_eq!(&data[..2], &[0xff, 0xd8], "SOI");
        assert_eq!(&data[data.len() - 2..], &[0xff, 0xd9], "EOI");
        // SOF0 (baseline), three components, luma sampled 2x2 (4:2:0).
        let sof = data
            .windows(2)
            .position(|w| w == [0xff, 0xc0])
            .expect("SOF0");
        assert_eq!(data[sof + 9], 3);
        assert_eq!(data[sof + 11], 0x22, "luma 2x2");
        assert!(
            !data.windows(2).any(|w| w == [0xff, 0xc2]),
            "not progressive"
        );
        assert!(jpeg.meta::<ReferenceTimestampMeta>().is_none() || jpeg.pts().is_some());
    }
}

#[test]
fn jpegdec_outputs_rgb_when_downstream_wants_it() {
    let (frames, caps, _) = run(&format!(
        "testsrc pattern=counter num-buffers=3 ! {RAW} ! jpegenc ! jpegdec ! \
         video/x-raw,format=RGB ! appsink name=sink"
    ));
    let caps = caps.expect("caps");
    let info = caps.video_info().unwrap();
    assert_eq!(info.format, framecast::VideoFormat::Rgb);
    for (i, f) in frames.iter().enumerate() {
        let stamp = decode_counter_buffer(f, &info).expect("counter in RGB");
        assert_eq!(stamp.frame, i as u64);
    }
}

mod robustness;
mod with_tools;
