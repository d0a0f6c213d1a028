//! Robustness.

use super::*;

/// `appsrc ! <decoder> ! appsink`, fed `inputs` in order; returns the
/// decoded frames and the decoder's error and drop counters.
fn feed(decoder: &str, caps: &str, inputs: Vec<Vec<u8>>) -> (Vec<Buffer>, u64, u64) {
    feed_flagged(
        decoder,
        caps,
        inputs.into_iter().map(|b| (b, false)).collect(),
    )
}

/// [`feed`], with each input flagged `CORRUPTED` (packets of it lost) or
/// not.
fn feed_flagged(
    decoder: &str,
    caps: &str,
    inputs: Vec<(Vec<u8>, bool)>,
) -> (Vec<Buffer>, u64, u64) {
    let pipeline = parse_launch(&format!(
        "appsrc name=src caps=\"{caps}\" ! {decoder} name=dec ! appsink name=sink"
    ))
    .unwrap();
    let src = pipeline.by_name("src").unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    sink.set_property("sync", false).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsrc = AppSrc::from_element(&src).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let frames = std::thread::scope(|s| {
        s.spawn(|| {
            for (i, (bytes, corrupted)) in inputs.into_iter().enumerate() {
                let mut b = Buffer::from_slice(&bytes).unwrap_or_else(|_| Buffer::new());
                b.make_mut()
                    .set_pts(Some(ClockTime::from_mseconds(i as u64 * 33)));
                if corrupted {
                    b.make_mut().set_flags(BufferFlags::CORRUPTED);
                }
                appsrc.push_buffer(b).map_err(|_| "push").unwrap();
            }
            appsrc.end_of_stream().unwrap();
        });
        let mut frames = Vec::new();
        while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(20))) {
            frames.push(sample.buffer);
        }
        frames
    });
    let end = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(10)), |m| {
            matches!(m, Message::Eos | Message::Error { .. })
        });
    assert!(matches!(end, Some(Message::Eos)), "{decoder}: {end:?}");
    let dec = pipeline.by_name("dec").unwrap();
    let errors = dec.property("decode-errors").unwrap().as_u64().unwrap();
    let dropped = dec.property("frames-dropped").unwrap().as_u64().unwrap();
    pipeline.set_state(State::Null).unwrap();
    (frames, errors, dropped)
}

/// A deterministic byte generator (xorshift), so failures reproduce.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

const H264_CAPS: &str = "video/x-h264,stream-format=byte-stream,alignment=au";

#[test]
fn openh264dec_survives_garbage_and_resumes_at_the_next_idr() {
    let (aus, _, _) = encode("openh264enc gop-size=10", 30);
    let aus: Vec<Vec<u8>> = aus.iter().map(bytes_of).collect();
    let mut inputs = Vec::new();
    // Random bytes, some with start codes sprinkled in, before any IDR.
    for i in 0..20 {
        let mut junk = noise(i, 50 + (i as usize * 997) % 4000);
        if i % 2 == 0 {
            junk[..4].copy_from_slice(&[0, 0, 0, 1]);
        }
        inputs.push(junk);
    }
    inputs.push(Vec::new());
    // A good GOP, then the next IDR truncated and its P-frames (which now
    // miss their reference), then the third GOP intact.
    inputs.extend(aus[..10].iter().cloned());
    let cut = aus[10].len() / 3;
    inputs.push(aus[10][..cut].to_vec());
    inputs.extend(aus[11..20].iter().cloned());
    // Garbage inside an otherwise valid P-frame.
    inputs.extend(aus[20..30].iter().cloned());
    let mut corrupt = aus[25].clone();
    let mid = corrupt.len() / 2;
    let tail = noise(99, corrupt.len() - mid);
    corrupt[mid..].copy_from_slice(&tail);
    inputs.push(corrupt);
    let (frames, errors, dropped) = feed("openh264dec", H264_CAPS, inputs);
    eprintln!(
        "openh264dec: {} pictures, {errors} errors, {dropped} dropped",
        frames.len()
    );
    assert!(errors >= 1, "garbage is counted");
    assert!(dropped >= errors);
    // The first GOP and the last GOP decode; the broken GOP does not
    // produce pictures after the truncated IDR.
    let info: VideoInfo = RAW.parse::<Caps>().unwrap().video_info().unwrap();
    let numbers: Vec<u64> = frames
        .iter()
        .filter_map(|f| decode_counter_buffer(f, &info).map(|s| s.frame))
        .collect();
    for n in (0..10).chain(20..30) {
        assert!(numbers.contains(&n), "frame {n} decoded: {numbers:?}");
    }
    assert!(
        numbers.iter().all(|n| !(11..20).contains(n)),
        "no pictures from the GOP whose IDR was cut: {numbers:?}"
    );
}

/// An access unit whose SPS announces High 4:4:4 (profile_idc 244),
/// which OpenH264 cannot decode: what a hostile or stray sender may put
/// in front of a receiver.
fn unsupported_sps_au() -> Vec<u8> {
    vec![
        0, 0, 0, 1, 0x67, 244, 0x00, 0x1e, 0x8c, 0x8d, 0x40, 0x50, 0x1e, 0xd0, 0, 0, 0, 1, 0x68,
        0xce, 0x06, 0xe2, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33, 0xff,
    ]
}

#[test]
fn openh264dec_keeps_decoding_through_parameter_sets_it_cannot_decode() {
    let (aus, _, _) = encode("openh264enc gop-size=30", 30);
    let aus: Vec<Vec<u8>> = aus.iter().map(bytes_of).collect();
    let mut inputs: Vec<Vec<u8>> = aus[..10].to_vec();
    // Two hostile access units in the middle of a GOP: counted and
    // dropped, and the P-frames after them still decode (the decoder
    // never saw them); the pipeline ends with EOS, not an error.
    inputs.push(unsupported_sps_au());
    inputs.push(unsupported_sps_au());
    inputs.extend(aus[10..].iter().cloned());
    let (frames, errors, dropped) = feed("openh264dec", H264_CAPS, inputs);
    assert_eq!((errors, dropped), (2, 2));
    let info: VideoInfo = RAW.parse::<Caps>().unwrap().video_info().unwrap();
    let numbers: Vec<u64> = frames
        .iter()
        .filter_map(|f| decode_counter_buffer(f, &info).map(|s| s.frame))
        .collect();
    assert_eq!(numbers, (0..30).collect::<Vec<u64>>());
}

#[test]
fn openh264dec_conceals_damaged_frames_or_drops_them_when_asked() {
    // A moving picture in 4 slices per frame (4 threads); one P-frame
    // loses its second half, as a depayloader delivers it after a loss
    // (flagged CORRUPTED).
    let (aus, _, _) = encode("openh264enc gop-size=30 threads=4", 20);
    let aus: Vec<Vec<u8>> = aus.iter().map(bytes_of).collect();
    let inputs = |cut: usize| -> Vec<(Vec<u8>, bool)> {
        aus.iter()
            .enumerate()
            .map(|(i, au)| {
                if i == cut {
                    (au[..au.len() / 2].to_vec(), true)
                } else {
                    (au.clone(), false)
                }
            })
            .collect()
    };
    let info: VideoInfo = RAW.parse::<Caps>().unwrap().video_info().unwrap();
    // conceal (the default): every frame comes out; the damaged one and
    // those that predict from it are flagged CORRUPTED, the frames before
    // it are not.
    let (frames, errors, _) = feed_flagged("openh264dec", H264_CAPS, inputs(5));
    let seen: Vec<(Option<u64>, bool)> = frames
        .iter()
        .map(|f| {
            (
                decode_counter_buffer(f, &info).map(|s| s.frame),
                f.flags().contains(BufferFlags::CORRUPTED),
            )
        })
        .collect();
    eprintln!("conceal: {seen:?}, {errors} errors");
    // The half frame may give no picture of its own (OpenH264 rejects a
    // slice cut short), but every frame after it does, flagged, and the
    // stamp in their top rows (which predicts from intact pictures)
    // still reads.
    assert!(frames.len() >= 19, "{seen:?}");
    let expected: Vec<(Option<u64>, bool)> = (0..5).map(|i| (Some(i), false)).collect();
    assert_eq!(seen[..5], expected[..], "{seen:?}");
    let after: Vec<(Option<u64>, bool)> = (6..20).map(|i| (Some(i), true)).collect();
    assert_eq!(seen[seen.len() - 14..], after[..], "{seen:?}");
    // drop: nothing from the damaged frame until the next IDR (there is
    // none in these 20), and nothing flagged.
    let (frames, _, dropped) = feed_flagged("openh264dec damaged=drop", H264_CAPS, inputs(5));
    assert_eq!(frames.len(), 5);
    assert!(frames
        .iter()
        .all(|f| !f.flags().contains(BufferFlags::CORRUPTED)));
    assert_eq!(dropped, 15);
}

#[test]
fn openh264dec_random_inputs_never_panic() {
    let (aus, _, _) = encode("openh264enc gop-size=5", 10);
    let aus: Vec<Vec<u8>> = aus.iter().map(bytes_of).collect();
    let mut inputs = Vec::new();
    for seed in 0..60u64 {
        let base = &aus[(seed as usize) % aus.len()];
        let mut v = base.clone();
        // Flip bytes, truncate, or splice: mutations of real streams reach
        // deeper than pure noise.
        match seed % 3 {
            0 => {
                for (k, b) in noise(seed, 16).into_iter().enumerate() {
                    let at = (b as usize * 131 + k * 977) % v.len();
                    v[at] ^= b | 1;
                }
            }
            1 => v.truncate((seed as usize * 37) % v.len()),
            _ => v.extend(noise(seed, 300)),
        }
        inputs.push(v);
    }
    let (_, errors, _) = feed("openh264dec", H264_CAPS, inputs);
    eprintln!("openh264dec mutated inputs: {errors} errors");
}

#[test]
fn jpegdec_survives_garbage() {
    let (jpegs, _, _) = run(&format!(
        "testsrc pattern=counter num-buffers=3 ! {RAW} ! jpegenc ! appsink name=sink"
    ));
    let jpegs: Vec<Vec<u8>> = jpegs.iter().map(bytes_of).collect();
    let mut inputs = vec![noise(1, 1000), Vec::new(), vec![0xff, 0xd8]];
    inputs.push(jpegs[0][..jpegs[0].len() / 2].to_vec());
    let mut flipped = jpegs[1].clone();
    for (k, b) in noise(7, 40).into_iter().enumerate() {
        let at = 700 + (b as usize * 31 + k * 101) % (flipped.len() - 800);
        flipped[at] ^= b | 1;
    }
    inputs.push(flipped);
    for seed in 0..30u64 {
        let mut v = jpegs[2].clone();
        v.truncate(2 + (seed as usize * 211) % (v.len() - 2));
        inputs.push(v);
    }
    inputs.push(jpegs[2].clone());
    let count = inputs.len();
    let (frames, errors, _) = feed("jpegdec", "image/jpeg", inputs);
    eprintln!(
        "jpegdec: {} of {count} decoded, {errors} errors",
        frames.len()
    );
    assert!(errors >= 3, "garbage is counted ({errors})");
    // The last, intact JPEG decodes after all that.
    let last = frames.last().expect("the intact JPEG decodes");
    let info = VideoInfo::new(framecast::VideoFormat::I420, 320, 240).unwrap();
    assert_eq!(decode_counter_buffer(last, &info).map(|s| s.frame), Some(2));
}
