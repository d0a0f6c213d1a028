//! Interop.

use super::*;

/// FFmpeg decodes what `encoder` writes through filesink: every frame,
/// counter intact.
fn ffmpeg_decodes(encoder: &str, tag: &str) {
    if !tool_available("ffmpeg") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("framecast-codecs-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.h264");
    let n = 45u64;
    let pipeline = parse_launch(&format!(
        "testsrc pattern=counter num-buffers={n} ! {RAW} ! {encoder} ! filesink location={}",
        file.display()
    ))
    .unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let end = pipeline
        .bus()
        .timed_pop_filtered(Some(Duration::from_secs(20)), |m| {
            matches!(m, Message::Eos | Message::Error { .. })
        });
    pipeline.set_state(State::Null).unwrap();
    assert!(matches!(end, Some(Message::Eos)), "{end:?}");
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "h264", "-i"])
        .arg(&file)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = VideoInfo::new(framecast::VideoFormat::I420, 320, 240).unwrap();
    assert_eq!(
        out.stdout.len(),
        info.size * n as usize,
        "{tag}: ffmpeg decodes every frame"
    );
    for (i, frame) in out.stdout.chunks_exact(info.size).enumerate() {
        let frame = Frame::new(info, frame).unwrap();
        let stamp = framecast::elements::video::decode_counter(&frame).expect("counter");
        assert_eq!(stamp.frame, i as u64, "{tag}: ffmpeg frame order");
    }
}

#[test]
fn ffmpeg_decodes_openh264_output() {
    ffmpeg_decodes("openh264enc", "openh264");
}

#[cfg(feature = "x264")]
#[test]
fn x264_intra_refresh_has_one_idr_and_no_keyframe_burst() {
    let (aus, _, _) = encode("x264enc intra-refresh=true gop-size=30", 90);
    let sizes: Vec<usize> = aus.iter().map(|a| a.size()).collect();
    // Only the first frame holds an IDR slice (x264 marks the end of each
    // refresh wave as a recovery point, a place a decoder may join).
    let idrs: Vec<usize> = aus
        .iter()
        .enumerate()
        .filter(|(_, a)| NalUnits::AnnexB(&bytes_of(a)).classify().idr)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(idrs, [0], "only the first frame is an IDR");
    // The refresh is spread over frames: once the rate control has
    // settled, no frame comes near the size of the IDRs the same stream
    // has every 30 frames without intra refresh.
    let (plain, _, _) = encode("x264enc gop-size=30", 90);
    let idr_sizes = [plain[30].size(), plain[60].size()];
    let largest = sizes[10..].iter().copied().max().unwrap_or(0);
    eprintln!("intra refresh: largest {largest} B; IDRs without it {idr_sizes:?}");
    assert!(
        largest * 3 < idr_sizes[0].min(idr_sizes[1]) * 2,
        "largest refreshed frame {largest} B, IDRs without refresh {idr_sizes:?}; sizes {sizes:?}"
    );
    // Everything decodes, in order.
    let (decoded, caps, _) = run(&format!(
        "testsrc pattern=counter num-buffers=90 ! {RAW} ! x264enc intra-refresh=true gop-size=30 \
         ! openh264dec ! appsink name=sink"
    ));
    let info = caps.expect("caps").video_info().unwrap();
    let numbers: Vec<u64> = decoded
        .iter()
        .filter_map(|f| decode_counter_buffer(f, &info).map(|s| s.frame))
        .collect();
    assert_eq!(numbers, (0..90).collect::<Vec<u64>>());
}

#[cfg(feature = "x264")]
#[test]
fn ffmpeg_decodes_x264_output() {
    ffmpeg_decodes("x264enc", "x264");
}
