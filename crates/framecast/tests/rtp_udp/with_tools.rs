//! Interop with GStreamer and FFmpeg (real tools, 127.0.0.1).

use super::*;

/// Waits (at most 10 s) until `child` holds UDP port `port` on 127.0.0.1.
fn wait_bound(child: &mut KillOnDrop, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the receiver never bound port {port}"
        );
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("the receiver exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Bound happens before Playing; datagrams in between wait in the
    // socket, but give the tool a moment anyway.
    std::thread::sleep(Duration::from_millis(300));
}

/// Waits (at most `timeout`) until `path` holds at least `len` bytes.
fn wait_file(path: &std::path::Path, len: usize, timeout: Duration) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    loop {
        let have = std::fs::metadata(path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        if have >= len || Instant::now() >= deadline {
            return std::fs::read(path).unwrap_or_default();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Frame numbers stamped in a file of back-to-back I420 frames.
fn counters_in_i420_file(data: &[u8], w: u32, h: u32) -> Vec<Option<u64>> {
    let info = VideoInfo::new(framecast::VideoFormat::I420, w, h).unwrap();
    data.chunks_exact(info.size)
        .map(|chunk| {
            let frame = Frame::new(info, chunk).ok()?;
            decode_counter(&frame).map(|s| s.frame)
        })
        .collect()
}

/// `gst-launch-1.0 -q udpsrc port=<port> caps=<caps> ! <chain> ! filesink`
/// writing every buffer to `out` unbuffered.
fn gst_receiver(port: u16, caps: &str, chain: &str, out: &std::path::Path) -> KillOnDrop {
    let mut args: Vec<String> = vec![
        "-q".into(),
        "udpsrc".into(),
        format!("port={port}"),
        "address=127.0.0.1".into(),
        format!("caps={caps}"),
    ];
    for item in chain.split_whitespace() {
        args.push(item.into());
    }
    args.extend([
        "!".into(),
        "filesink".into(),
        format!("location={}", out.display()),
        "buffer-mode=unbuffered".into(),
        "sync=false".into(),
    ]);
    let mut child = spawn("gst-launch-1.0", &args);
    wait_bound(&mut child, port);
    child
}

#[test]
fn gstreamer_receives_raw_video_exactly() {
    if !tool_available("gst-launch-1.0") {
        return;
    }
    let n: usize = 20;
    let frame_size = (W * H * 3 / 2) as usize;
    let dir = tmp_dir("gst-raw");
    let out = dir.join("out.yuv");
    let port = free_port();
    let gst = gst_receiver(
        port,
        &format!(
            "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,\
             sampling=YCbCr-4:2:0,depth=(string)8,width=(string){W},height=(string){H},payload=96"
        ),
        "! rtpvrawdepay",
        &out,
    );
    let tx = sender(
        n as u32,
        "video/x-raw,format=I420,width=64,height=48,framerate=50/1",
        &format!("rtpvrawpay ! udpsink host=127.0.0.1 port={port}"),
    );
    tx.set_state(State::Playing).unwrap();
    let sent = pull(&tx, "ref", n, Duration::from_secs(10));
    wait_eos(&tx, Duration::from_secs(10));
    tx.set_state(State::Null).unwrap();
    let data = wait_file(&out, n * frame_size, Duration::from_secs(10));
    drop(gst);
    assert_eq!(
        data.len(),
        n * frame_size,
        "GStreamer wrote {} bytes",
        data.len()
    );
    let sent = by_counter(&sent);
    for (i, chunk) in data.chunks(frame_size).enumerate() {
        let expected = &sent[&(i as u64)];
        assert!(
            chunk == &expected[..],
            "frame {i} differs after GStreamer's rtpvrawdepay"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// framecast encodes with `encoder`, payloads with `pay`; GStreamer
/// receives with `caps` and decodes with `chain` to I420; every frame
/// arrives, in order, with its counter.
fn gstreamer_decodes(encoder: &str, pay: &str, caps: &str, chain: &str, tag: &str) {
    if !tool_available("gst-launch-1.0") || !have(encoder) {
        eprintln!("skipping {tag}");
        return;
    }
    let (w, h, n) = (320u32, 240u32, 30usize);
    let frame_size = (w * h * 3 / 2) as usize;
    let dir = tmp_dir(tag);
    let out = dir.join("out.yuv");
    let port = free_port();
    let gst = gst_receiver(port, caps, chain, &out);
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers={n} \
         ! video/x-raw,format=I420,width={w},height={h},framerate=30/1 \
         ! {encoder} ! {pay} ! udpsink host=127.0.0.1 port={port}"
    ));
    tx.set_state(State::Playing).unwrap();
    wait_eos(&tx, Duration::from_secs(20));
    tx.set_state(State::Null).unwrap();
    let data = wait_file(&out, n * frame_size, Duration::from_secs(10));
    drop(gst);
    let frames = counters_in_i420_file(&data, w, h);
    let decoded: Vec<u64> = frames.iter().flatten().copied().collect();
    assert_eq!(
        decoded,
        (0..n as u64).collect::<Vec<_>>(),
        "{tag}: GStreamer decoded {} frames ({} bytes)",
        frames.len(),
        data.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gstreamer_decodes_our_h264() {
    gstreamer_decodes(
        "openh264enc",
        "rtph264pay",
        "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96",
        "! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=I420",
        "gst-h264",
    );
}

#[test]
fn gstreamer_decodes_our_jpeg() {
    gstreamer_decodes(
        "jpegenc",
        "rtpjpegpay",
        "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26",
        "! rtpjpegdepay ! jpegdec ! videoconvert ! video/x-raw,format=I420",
        "gst-jpeg",
    );
}

#[test]
fn ffmpeg_opens_our_h264_sdp() {
    if !tool_available("ffmpeg") || !have("openh264enc") {
        return;
    }
    let (w, h) = (320u32, 240u32);
    let dir = tmp_dir("ffmpeg-h264");
    let sdp = dir.join("stream.sdp");
    let out = dir.join("out.yuv");
    let port = free_port();
    // A long live stream; ffmpeg joins once the SDP exists and keeps 10
    // frames from its first IDR (one a second: gop-size default).
    let tx = launch(&format!(
        "testsrc pattern=counter is-live=true num-buffers=150 \
         ! video/x-raw,format=I420,width={w},height={h},framerate=30/1 \
         ! openh264enc ! rtph264pay ! udpsink host=127.0.0.1 port={port} sdp-file=\"{}\"",
        sdp.display()
    ));
    tx.set_state(State::Playing).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = std::fs::read_to_string(&sdp).unwrap_or_default();
        if text.contains("sprop-parameter-sets") || Instant::now() >= deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(text.contains("sprop-parameter-sets"), "{text}");
    let args: Vec<String> = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file,udp,rtp",
        "-i",
        &sdp.display().to_string(),
        "-frames:v",
        "10",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-y",
        &out.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut ff = spawn("ffmpeg", &args);
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = ff.0.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(ff);
    tx.set_state(State::Null).unwrap();
    let data = std::fs::read(&out).unwrap_or_default();
    let frames = counters_in_i420_file(&data, w, h);
    let decoded: Vec<u64> = frames.iter().flatten().copied().collect();
    assert!(decoded.len() >= 8, "ffmpeg decoded {frames:?} from our SDP");
    assert!(decoded.windows(2).all(|p| p[0] < p[1]), "{decoded:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn we_decode_gstreamer_x264_over_rtp() {
    if !tool_available("gst-launch-1.0") || !have("openh264dec") {
        return;
    }
    let n = 30;
    let (rx, port) = start_receiver(
        "udpsrc name=src port=0 address=127.0.0.1 \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" \
         ! rtpjitterbuffer ! rtph264depay name=depay ! openh264dec ! appsink name=sink sync=false max-buffers=0",
    );
    let args: Vec<String> = format!(
        "-q videotestsrc num-buffers={n} pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 \
         ! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 ! udpsink host=127.0.0.1 port={port} sync=true"
    )
    .split_whitespace()
    .map(str::to_string)
    .collect();
    let mut gst = spawn("gst-launch-1.0", &args);
    let got = pull(&rx, "sink", n, Duration::from_secs(15));
    let _ = gst.0.wait();
    let depay = element(&rx, "depay");
    assert!(
        got.len() >= n - 1,
        "decoded {} of {n} frames; depayloader: {} packets, {} frames out, {} lost, {} malformed",
        got.len(),
        uint(&depay, "packets-received"),
        uint(&depay, "frames-out"),
        uint(&depay, "packets-lost"),
        uint(&depay, "packets-malformed"),
    );
    let info = info_of(&got[0].1);
    assert_eq!((info.width, info.height), (320, 240));
    assert_eq!(uint(&element(&rx, "depay"), "packets-lost"), 0);
    assert_no_error(&rx);
    rx.set_state(State::Null).unwrap();
}

#[test]
fn we_decode_ffmpeg_h264_through_its_sdp() {
    if !tool_available("ffmpeg") || !have("openh264dec") {
        return;
    }
    let dir = tmp_dir("ffmpeg-send");
    let sdp = dir.join("ffmpeg.sdp");
    let port = free_port();
    // udpsrc takes caps and port from FFmpeg's SDP (FFmpeg 5.1 with
    // `-tune zerolatency` sends SPS/PPS in band and leaves
    // sprop-parameter-sets out of it).
    let args: Vec<String> = format!(
        "-hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=30 -frames:v 90 \
         -pix_fmt yuv420p -c:v libx264 -profile:v baseline -preset ultrafast -tune zerolatency -g 15 \
         -f rtp -sdp_file {} rtp://127.0.0.1:{port}",
        sdp.display()
    )
    .split_whitespace()
    .map(str::to_string)
    .collect();
    let mut ff = spawn("ffmpeg", &args);
    let deadline = Instant::now() + Duration::from_secs(10);
    // FFmpeg writes the file in pieces: wait for its last line.
    while !std::fs::read_to_string(&sdp).is_ok_and(|t| t.contains("a=fmtp:96")) {
        assert!(Instant::now() < deadline, "ffmpeg wrote no SDP");
        std::thread::sleep(Duration::from_millis(20));
    }
    let rx = launch(&format!(
        "udpsrc name=src address=127.0.0.1 sdp-file=\"{}\" ! rtpjitterbuffer ! rtph264depay name=depay \
         ! openh264dec ! appsink name=sink sync=false max-buffers=0",
        sdp.display()
    ));
    rx.set_state(State::Playing).unwrap();
    let got = pull(&rx, "sink", 30, Duration::from_secs(10));
    let _ = ff.0.wait();
    assert!(got.len() >= 30, "decoded {} frames from ffmpeg", got.len());
    let info = info_of(&got[0].1);
    assert_eq!((info.width, info.height), (320, 240));
    assert_no_error(&rx);
    rx.set_state(State::Null).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
