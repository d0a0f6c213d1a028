//! testsrc, videoconvert and videoscale in real pipelines: every frame
//! arrives in order with the right timestamps, the frame counter decodes in
//! every format, and every format pair converts to within +-1 of a scalar
//! reference conversion (the textbook formulas in floating point, below).

use std::time::{Duration, Instant};

use framecast::elements::appsink::AppSink;
use framecast::elements::video::{decode_counter_buffer, frame_layout, Frame, Matrix, FORMATS};
use framecast::pipeline::Caps;
use framecast::{
    make_element, Buffer, ClockTime, Message, Pipeline, State, VideoFormat, VideoInfo,
};

/// Runs `testsrc pattern=counter ! capsfilter(src_caps) [! middle] !
/// appsink(sink_caps)` for `n` frames; returns the frames and the caps the
/// sink got.
fn run(
    src_caps: &str,
    middle: Option<&str>,
    sink_caps: Option<&str>,
    n: u64,
    extra: &[(&str, &str)],
) -> (Vec<Buffer>, Caps) {
    let pipeline = Pipeline::new("p");
    let src = make_element("testsrc", None).unwrap();
    src.set_property_from_str("pattern", "counter").unwrap();
    src.set_property_from_str("num-buffers", &n.to_string())
        .unwrap();
    for (k, v) in extra {
        src.set_property_from_str(k, v).unwrap();
    }
    let filter = make_element("capsfilter", None).unwrap();
    filter.set_property_from_str("caps", src_caps).unwrap();
    let sink = make_element("appsink", None).unwrap();
    sink.set_property("sync", false).unwrap();
    if let Some(c) = sink_caps {
        sink.set_property_from_str("caps", c).unwrap();
    }
    let mid = middle.map(|m| make_element(m, None).unwrap());
    let mut chain = vec![&src, &filter];
    if let Some(m) = &mid {
        chain.push(m);
    }
    chain.push(&sink);
    pipeline.add_and_link(&chain).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let appsink = AppSink::from_element(&sink).unwrap();
    let mut frames = Vec::new();
    let mut caps = None;
    while let Some(sample) = appsink.pull_sample(Some(Duration::from_secs(10))) {
        caps = sample.caps.as_deref().cloned();
        frames.push(sample.buffer);
    }
    let bus = pipeline.bus();
    let end = bus.timed_pop_filtered(Some(Duration::from_secs(5)), |m| {
        matches!(m, Message::Eos | Message::Error { .. })
    });
    assert!(
        matches!(end, Some(Message::Eos)),
        "{src_caps} {middle:?} {sink_caps:?}: {end:?}"
    );
    pipeline.set_state(State::Null).unwrap();
    (frames, caps.expect("caps reached the sink"))
}

// ---- reference conversion ---------------------------------------------

/// A frame as f64 RGB(A) per pixel, or Y/U/V samples, read generically.
struct Pixels {
    info: VideoInfo,
    data: Vec<u8>,
}

impl Pixels {
    fn new(buffer: &Buffer, info: &VideoInfo) -> Pixels {
        let layout = frame_layout(buffer, info).unwrap();
        let map = buffer.map_readable().unwrap();
        // Repack to the default layout so the reference can index simply.
        let frame_data = map.contiguous().into_owned();
        let frame = Frame::new(layout, &frame_data).unwrap();
        let mut data = vec![0u8; info.size];
        for p in 0..info.n_planes {
            let n = info.comp_width(p) as usize * info.format.pixel_stride(p);
            for row in 0..info.comp_height(p) as usize {
                let s = &frame.plane(p)[row * layout.stride[p]..][..n];
                data[info.offset[p] + row * info.stride[p]..][..n].copy_from_slice(s);
            }
        }
        Pixels { info: *info, data }
    }

    fn at(&self, plane: usize, x: usize, y: usize) -> &[u8] {
        let i = &self.info;
        let ps = i.format.pixel_stride(plane);
        &self.data[i.offset[plane] + y * i.stride[plane] + x * ps..][..ps]
    }

    /// (r, g, b, a) of an RGB-family pixel.
    fn rgba(&self, x: usize, y: usize) -> [u8; 4] {
        let p = self.at(0, x, y);
        use VideoFormat::*;
        match self.info.format {
            Rgb => [p[0], p[1], p[2], 255],
            Bgr => [p[2], p[1], p[0], 255],
            Rgba => [p[0], p[1], p[2], p[3]],
            Bgra => [p[2], p[1], p[0], p[3]],
            Rgbx => [p[0], p[1], p[2], 255],
            Bgrx => [p[2], p[1], p[0], 255],
            f => panic!("{f} is not RGB"),
        }
    }

    /// (y, u, v) of a YUV pixel (chroma of its 2x2 block).
    fn yuv(&self, x: usize, y: usize) -> [u8; 3] {
        let luma = self.at(0, x, y)[0];
        match self.info.format {
            VideoFormat::I420 => [
                luma,
                self.at(1, x / 2, y / 2)[0],
                self.at(2, x / 2, y / 2)[0],
            ],
            VideoFormat::Nv12 => {
                let uv = self.at(1, x / 2, y / 2);
                [luma, uv[0], uv[1]]
            }
            VideoFormat::Gray8 => [luma, 128, 128],
            f => panic!("{f} is not YUV"),
        }
    }
}

fn is_rgb(f: VideoFormat) -> bool {
    f.is_rgb()
}

fn clamp8(v: f64) -> f64 {
    v.round().clamp(0.0, 255.0)
}

fn rgb_to_yuv(m: Matrix, r: f64, g: f64, b: f64) -> [f64; 3] {
    let (kr, kb) = m.kr_kb();
    let kg = 1.0 - kr - kb;
    let y = kr * r + kg * g + kb * b;
    [
        16.0 + 219.0 * y / 255.0,
        128.0 + 224.0 * (b - y) / (2.0 * (1.0 - kb)) / 255.0,
        128.0 + 224.0 * (r - y) / (2.0 * (1.0 - kr)) / 255.0,
    ]
}

fn yuv_to_rgb(m: Matrix, y: u8, u: u8, v: u8) -> [f64; 3] {
    let (kr, kb) = m.kr_kb();
    let kg = 1.0 - kr - kb;
    let yy = (f64::from(y) - 16.0) * 255.0 / 219.0;
    let pb = (f64::from(u) - 128.0) * 255.0 / 224.0;
    let pr = (f64::from(v) - 128.0) * 255.0 / 224.0;
    let r = yy + 2.0 * (1.0 - kr) * pr;
    let b = yy + 2.0 * (1.0 - kb) * pb;
    let g = (yy - kr * r - kb * b) / kg;
    [clamp8(r), clamp8(g), clamp8(b)]
}

/// The largest per-sample difference between `out` (format `df`) and the
/// reference conversion of `src`.
fn max_error(src: &Pixels, out: &Pixels) -> u32 {
    let (sf, df) = (src.info.format, out.info.format);
    let (w, h) = (src.info.width as usize, src.info.height as usize);
    let m = Matrix::for_height(src.info.height);
    let mut worst = 0u32;
    let mut check = |got: u8, want: f64| {
        let d = (f64::from(got) - want.round()).abs() as u32;
        worst = worst.max(d);
    };
    for y in 0..h {
        for x in 0..w {
            if is_rgb(df) {
                let want: [f64; 4] = if is_rgb(sf) {
                    let p = src.rgba(x, y);
                    let a = if df.has_alpha() {
                        f64::from(p[3])
                    } else {
                        255.0
                    };
                    [p[0].into(), p[1].into(), p[2].into(), a]
                } else if sf == VideoFormat::Gray8 {
                    let g = f64::from(src.yuv(x, y)[0]);
                    [g, g, g, 255.0]
                } else {
                    let [yy, u, v] = src.yuv(x, y);
                    let [r, g, b] = yuv_to_rgb(m, yy, u, v);
                    [r, g, b, 255.0]
                };
                let got = out.rgba(x, y);
                for c in 0..4 {
                    check(got[c], want[c]);
                }
                continue;
            }
            // YUV or GRAY8 output.
            let got = out.yuv(x, y);
            if !is_rgb(sf) {
                // YUV <-> YUV / GRAY8: samples copied, chroma neutral from gray.
                let s = src.yuv(x, y);
                check(got[0], f64::from(s[0]));
                if df != VideoFormat::Gray8 {
                    check(got[1], f64::from(s[1]));
                    check(got[2], f64::from(s[2]));
                }
                continue;
            }
            let p = src.rgba(x, y);
            if df == VideoFormat::Gray8 {
                let l = 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
                check(got[0], l);
                continue;
            }
            let [ly, _, _] = rgb_to_yuv(m, p[0].into(), p[1].into(), p[2].into());
            check(got[0], ly);
            if x % 2 == 0 && y % 2 == 0 {
                // Chroma of the 2x2 block's mean colour (pixels that exist).
                let mut acc = [0.0f64; 3];
                let mut n = 0.0;
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    if x + dx < w && y + dy < h {
                        let q = src.rgba(x + dx, y + dy);
                        for c in 0..3 {
                            acc[c] += f64::from(q[c]);
                        }
                        n += 1.0;
                    }
                }
                let [_, u, v] = rgb_to_yuv(m, acc[0] / n, acc[1] / n, acc[2] / n);
                check(got[1], u);
                check(got[2], v);
            }
        }
    }
    worst
}

fn caps_for(format: VideoFormat, w: u32, h: u32) -> String {
    format!("video/x-raw,format={format},width={w},height={h},framerate=30/1")
}

#[test]
fn every_format_pair_converts_within_one() {
    for (w, h) in [(64, 48), (35, 27)] {
        for &sf in FORMATS {
            let (src_frames, src_caps) = run(&caps_for(sf, w, h), None, None, 2, &[]);
            let src_info = src_caps.video_info().unwrap();
            for &df in FORMATS {
                let dst_caps = format!("video/x-raw,format={df}");
                let (frames, caps) = run(
                    &caps_for(sf, w, h),
                    Some("videoconvert"),
                    Some(&dst_caps),
                    2,
                    &[],
                );
                let info = caps.video_info().unwrap();
                assert_eq!((info.format, info.width, info.height), (df, w, h));
                assert_eq!(frames.len(), 2, "{sf} -> {df}");
                for (s, o) in src_frames.iter().zip(&frames) {
                    let err = max_error(&Pixels::new(s, &src_info), &Pixels::new(o, &info));
                    assert!(err <= 1, "{sf} -> {df} at {w}x{h}: off by {err}");
                    // The stamp survives every conversion.
                    let stamp = decode_counter_buffer(o, &info);
                    assert_eq!(stamp.map(|s| s.frame), o.offset(), "{sf} -> {df}");
                }
            }
        }
    }
}

#[test]
fn frames_arrive_in_order_with_exact_timestamps() {
    let n = 40;
    let (frames, caps) = run(
        &caps_for(VideoFormat::Bgr, 320, 240),
        Some("videoconvert"),
        Some("video/x-raw,format=I420"),
        n,
        &[],
    );
    let info = caps.video_info().unwrap();
    assert_eq!(frames.len() as u64, n);
    for (i, b) in frames.iter().enumerate() {
        let i = i as u64;
        let pts = ClockTime::from_nseconds(i * 1_000_000_000 / 30);
        let next = ClockTime::from_nseconds((i + 1) * 1_000_000_000 / 30);
        assert_eq!(b.pts(), Some(pts), "frame {i}");
        assert_eq!(b.duration(), next.checked_sub(pts));
        assert_eq!(b.offset(), Some(i));
        assert_eq!(b.offset_end(), Some(i + 1));
        let stamp = decode_counter_buffer(b, &info).expect("stamp");
        assert_eq!(stamp.frame, i);
        assert_eq!(stamp.timestamp, Some(pts));
    }
}

#[test]
fn testsrc_fixates_like_videotestsrc() {
    let pipeline = Pipeline::new("p");
    let src = make_element("testsrc", None).unwrap();
    src.set_property("num-buffers", 1i64).unwrap();
    let sink = make_element("appsink", None).unwrap();
    sink.set_property("sync", false).unwrap();
    pipeline.add_and_link(&[&src, &sink]).unwrap();
    pipeline.set_state(State::Playing).unwrap();
    let sample = AppSink::from_element(&sink)
        .unwrap()
        .pull_sample(Some(Duration::from_secs(10)))
        .expect("one frame");
    let info = sample.caps.unwrap().video_info().unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (VideoFormat::I420, 320, 240)
    );
    assert_eq!(info.fps, framecast::Fraction::from_integer(30));
    pipeline.set_state(State::Null).unwrap();
}

#[test]
fn bgr_prefers_i420_and_passes_through_when_it_can() {
    // GStreamer would pick RGBA (closest to BGR); receivers want 4:2:0.
    let (_, caps) = run(
        &caps_for(VideoFormat::Bgr, 64, 48),
        Some("videoconvert"),
        Some("video/x-raw,format={RGBA,NV12,I420}"),
        1,
        &[],
    );
    assert_eq!(caps.video_info().unwrap().format, VideoFormat::I420);
    let (frames, caps) = run(
        &caps_for(VideoFormat::Bgr, 64, 48),
        Some("videoconvert"),
        None,
        1,
        &[],
    );
    assert_eq!(caps.video_info().unwrap().format, VideoFormat::Bgr);
    assert_eq!(frames.len(), 1);
}

#[test]
fn videoscale_halves_and_the_counter_survives() {
    for &f in FORMATS {
        let (frames, caps) = run(
            &caps_for(f, 320, 240),
            Some("videoscale"),
            Some("video/x-raw,width=160,height=120"),
            3,
            &[],
        );
        let info = caps.video_info().unwrap();
        assert_eq!((info.format, info.width, info.height), (f, 160, 120));
        for (i, b) in frames.iter().enumerate() {
            let stamp = decode_counter_buffer(b, &info);
            assert_eq!(stamp.map(|s| s.frame), Some(i as u64), "{f}");
        }
    }
    // Only the width given: the height keeps the aspect ratio.
    let (_, caps) = run(
        &caps_for(VideoFormat::I420, 320, 240),
        Some("videoscale"),
        Some("video/x-raw,width=640"),
        1,
        &[],
    );
    let info = caps.video_info().unwrap();
    assert_eq!((info.width, info.height), (640, 480));
}

#[test]
fn live_testsrc_paces_frames_on_the_clock() {
    let start = Instant::now();
    let (frames, _) = run(
        "video/x-raw,format=I420,width=64,height=48,framerate=50/1",
        None,
        None,
        10,
        &[("is-live", "true")],
    );
    let elapsed = start.elapsed();
    assert_eq!(frames.len(), 10);
    assert!(
        elapsed >= Duration::from_millis(170),
        "{elapsed:?}: 10 frames at 50 fps take 180 ms"
    );
    let pts: Vec<u64> = frames.iter().map(|b| b.pts().unwrap().nseconds()).collect();
    for pair in pts.windows(2) {
        assert_eq!(pair[1] - pair[0], 20_000_000, "{pts:?}");
    }
}

/// Runs GStreamer's videoconvert on `input` (a raw `from` frame), if
/// `gst-launch-1.0` is installed.
fn gst_convert(
    input: &[u8],
    from: VideoFormat,
    to: VideoFormat,
    w: u32,
    h: u32,
) -> Option<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("fc-vc-{}-{from}-{to}-{w}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let (inp, out) = (dir.join("in.raw"), dir.join("out.raw"));
    std::fs::write(&inp, input).ok()?;
    let status = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(
            format!(
            "filesrc location={} ! rawvideoparse format={} width={w} height={h} ! videoconvert ! \
             video/x-raw,format={to} ! filesink location={}",
            inp.display(),
            from.name().to_lowercase(),
            out.display()
        )
            .split(' '),
        )
        .status()
        .ok()?;
    let data = status.success().then(|| std::fs::read(&out).ok()).flatten();
    let _ = std::fs::remove_dir_all(&dir);
    data
}

/// Our conversion against GStreamer 1.22's on the same random frame: the
/// largest per-sample difference for each pair.
#[test]
fn matches_gstreamer_videoconvert() {
    use framecast::elements::video::{convert, FrameMut};
    let pairs = [
        (VideoFormat::Bgr, VideoFormat::I420, 1),
        (VideoFormat::Rgba, VideoFormat::I420, 1),
        (VideoFormat::Bgr, VideoFormat::Nv12, 1),
        (VideoFormat::Bgr, VideoFormat::Gray8, 1),
        (VideoFormat::I420, VideoFormat::Gray8, 0),
        (VideoFormat::Gray8, VideoFormat::Bgr, 0),
        (VideoFormat::I420, VideoFormat::Nv12, 0),
        (VideoFormat::Bgr, VideoFormat::Rgbx, 0),
        // GStreamer's YUV -> RGB interpolates chroma and rounds its 8-bit
        // coefficients down: a few levels below the exact result.
        (VideoFormat::I420, VideoFormat::Bgr, 8),
    ];
    for (w, h) in [(64u32, 48u32), (1280, 720)] {
        for (from, to, tolerance) in pairs {
            if h > 576 && from.is_yuv() && to.is_gray() {
                // GStreamer copies Y at SD but at HD goes through RGB
                // (BT.709 limited -> BT.601 full range); we always copy Y.
                continue;
            }
            let si = VideoInfo::new(from, w, h).unwrap();
            let di = VideoInfo::new(to, w, h).unwrap();
            // A smooth image plus noise: random per-pixel values alone would
            // measure chroma filtering more than conversion.
            let mut input: Vec<u8> = (0..si.size)
                .map(|i| {
                    ((i / 3 % w as usize) as u32 * 3 + (i as u32).wrapping_mul(2654435761) % 24)
                        as u8
                })
                .collect();
            if from == VideoFormat::I420 {
                // Smooth chroma: GStreamer interpolates chroma between
                // samples where we repeat them, which on noise differs by
                // tens of levels and says nothing about the matrix.
                // Luma in the legal 16..=235: the yuv crate treats Y < 16
                // as 16 (saturating), GStreamer extrapolates below black.
                for v in &mut input[..si.plane_size(0)] {
                    *v = (*v).clamp(16, 235);
                }
                for plane in 1..3 {
                    let cw = si.comp_width(plane) as usize;
                    for (j, v) in input[si.offset[plane]..][..si.plane_size(plane)]
                        .iter_mut()
                        .enumerate()
                    {
                        *v = (100 + (j % si.stride[plane]).min(cw) * 50 / cw) as u8;
                    }
                }
            }
            let Some(theirs) = gst_convert(&input, from, to, w, h) else {
                eprintln!("gst-launch-1.0 not available: skipped");
                return;
            };
            let mut ours = vec![0u8; di.size];
            convert(
                &Frame::new(si, &input).unwrap(),
                &mut FrameMut::new(di, &mut ours).unwrap(),
                Matrix::for_height(h),
            )
            .unwrap();
            assert_eq!(theirs.len(), ours.len(), "{from} -> {to}");
            let worst = ours
                .iter()
                .zip(&theirs)
                .enumerate()
                .filter(|(i, _)| {
                    // RGBx's padding byte is undefined.
                    !(to == VideoFormat::Rgbx && i % 4 == 3)
                })
                .map(|(_, (a, b))| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            eprintln!("{from} -> {to} {w}x{h}: max difference from GStreamer {worst}");
            // HD: GStreamer sites chroma on the left luma sample
            // (`chroma-site=mpeg2`) and filters [1 2 1]; we average the pair.
            let tolerance = if h > 576 && from.is_rgb() && !to.is_rgb() {
                tolerance + 1
            } else {
                tolerance
            };
            assert!(
                worst <= tolerance,
                "{from} -> {to} {w}x{h}: {worst} > {tolerance}"
            );
        }
    }
}
