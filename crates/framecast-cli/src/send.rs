//! `framecast send`: frames from stdin (raw) or a test pattern to clients
//! over RTP/UDP, with a live stats line on stderr.

use std::io::Read;
use std::time::{Duration, Instant};

use framecast::sender::{Codec, Sender};
use framecast::{Buffer, VideoFormat, VideoInfo, VideoMeta};

/// Options.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// A client `HOST:PORT` (repeatable).
    #[arg(long = "to", required = true)]
    pub to: Vec<String>,
    /// Encoding on the wire.
    #[arg(long, value_parser = ["h264", "jpeg", "raw"], default_value = "h264")]
    pub codec: String,
    /// H.264 bitrate, kbit/s.
    #[arg(long, default_value_t = 4000)]
    pub bitrate: u32,
    /// Frame size `WxH`.
    #[arg(long, default_value = "1280x720")]
    pub size: String,
    /// Frames per second.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// `-` reads raw frames from standard input.
    #[arg(long)]
    pub input: Option<String>,
    /// Pixel format of the raw input: bgr, rgb, i420, nv12.
    #[arg(long, default_value = "bgr")]
    pub format: String,
    /// Send a test pattern instead of input: `ball`.
    #[arg(long, value_parser = ["ball"])]
    pub pattern: Option<String>,
    /// Stop after this many seconds (pattern mode; default: until Ctrl-C).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Write the stream's SDP here once it is known (open it with ffplay,
    /// VLC, GStreamer or `framecast receive`).
    #[arg(long)]
    pub sdp: Option<std::path::PathBuf>,
}

pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("--size {text:?}: expected WxH, e.g. 1280x720"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("--size {text:?}: {v:?} is not a number"))
    };
    Ok((parse(w)?, parse(h)?))
}

/// Copies one packed frame (default strides) into a pooled frame laid out
/// as its `VideoMeta` says.
pub(crate) fn fill_from_packed(
    frame: &mut Buffer,
    packed: &[u8],
    info: &VideoInfo,
) -> Result<(), String> {
    let f = frame.get_mut().ok_or("frame is shared")?;
    let meta = f.meta::<VideoMeta>().copied();
    let mut map = f.map_writable().map_err(|e| e.to_string())?;
    for plane in 0..info.n_planes {
        let (dst_off, dst_stride) = meta.map_or((info.offset[plane], info.stride[plane]), |m| {
            (m.offset[plane], m.stride[plane])
        });
        let row = info.comp_width(plane) as usize * info.format.pixel_stride(plane);
        for y in 0..info.comp_height(plane) as usize {
            let src = info.offset[plane] + y * info.stride[plane];
            let dst = dst_off + y * dst_stride;
            let (Some(s), Some(d)) = (packed.get(src..src + row), map.get_mut(dst..dst + row))
            else {
                return Err("frame layout out of range".into());
            };
            d.copy_from_slice(s);
        }
    }
    Ok(())
}

/// Whether `frame` holds its picture in the packed layout of `info` (no
/// row padding), so a packed frame can go straight into it.
fn is_packed(frame: &Buffer, info: &VideoInfo) -> bool {
    let layout_matches = frame.meta::<VideoMeta>().is_none_or(|m| {
        (0..info.n_planes).all(|p| m.offset[p] == info.offset[p] && m.stride[p] == info.stride[p])
    });
    layout_matches && frame.size() >= info.size
}

/// Where the frames come from.
enum FrameSource {
    /// Raw packed frames on standard input, as fast as they come.
    Stdin(std::io::StdinLock<'static>),
    /// The test pattern, paced at the frame rate.
    Pattern(BallPattern),
}

impl FrameSource {
    /// Fills `dst` (a packed frame, rows `stride` bytes apart) with frame
    /// `n`. `false` at the end of the input.
    fn next_frame(&mut self, dst: &mut [u8], stride: usize, n: u64) -> Result<bool, String> {
        match self {
            FrameSource::Stdin(stdin) => match stdin.read_exact(dst) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
                Err(e) => Err(format!("reading standard input: {e}")),
            },
            FrameSource::Pattern(pattern) => {
                pattern.paint(dst, stride, n);
                Ok(true)
            }
        }
    }
}

/// The `ball` test pattern: a white square bouncing over a textured
/// background that pans like a camera, in packed BGR. The texture (colour
/// gradients with fine detail) gives the encoder real work, as camera
/// frames do; a flat background would compress to almost nothing and
/// flatter every figure. It is made once; each frame copies a window of
/// it (one `memcpy` per row) and draws the square.
pub struct BallPattern {
    width: usize,
    height: usize,
    /// Texture rows, `width + PAN` pixels wide.
    texture: Vec<u8>,
}

/// How far the background pans before it wraps, in pixels.
const PAN: usize = 256;

impl BallPattern {
    /// The pattern for `width` x `height` frames.
    pub fn new(width: usize, height: usize) -> BallPattern {
        let tw = width + PAN;
        let mut texture = vec![0u8; tw * height * 3];
        for y in 0..height {
            for x in 0..tw {
                let i = (y * tw + x) * 3;
                // Smooth gradients plus a fine checker of varying contrast.
                let fine = if (x / 4 + y / 4) % 2 == 0 { 24 } else { 0 };
                let wave = ((x * 7 + y * 3) % 97) as u8;
                texture[i] = (x * 255 / tw) as u8 / 2 + fine + wave / 2;
                texture[i + 1] = (y * 255 / height.max(1)) as u8 / 2 + fine;
                texture[i + 2] = ((x + y) % 256) as u8 / 2 + wave / 3;
            }
        }
        BallPattern {
            width,
            height,
            texture,
        }
    }

    /// Paints frame `n` into `packed` (rows `stride` bytes apart).
    pub fn paint(&self, packed: &mut [u8], stride: usize, n: u64) {
        let (width, height) = (self.width, self.height);
        let tw = width + PAN;
        let bounce = |t: usize, span: usize| {
            let p = t % (2 * span);
            if p < span {
                p
            } else {
                2 * span - p
            }
        };
        let pan = bounce(n as usize * 2, PAN);
        for y in 0..height {
            let src = (y * tw + pan) * 3;
            if let (Some(d), Some(s)) = (
                packed.get_mut(y * stride..y * stride + width * 3),
                self.texture.get(src..src + width * 3),
            ) {
                d.copy_from_slice(s);
            }
        }
        let size = (width.min(height) / 8).max(2);
        let span_x = width.saturating_sub(size).max(1);
        let span_y = height.saturating_sub(size).max(1);
        let (x0, y0) = (
            bounce(n as usize * 7, span_x),
            bounce(n as usize * 5, span_y),
        );
        for y in y0..(y0 + size).min(height) {
            let row = y * stride;
            if let Some(px) = packed.get_mut(row + x0 * 3..row + (x0 + size).min(width) * 3) {
                px.fill(255);
            }
        }
    }
}

/// Runs `framecast send`.
pub fn run(args: SendArgs) -> Result<(), String> {
    framecast::init().map_err(|e| format!("FRAMECAST_TRACERS: {e}"))?;
    let result = send(&args).map(|report| {
        let s = report.stats;
        eprintln!(
            "\nsent {} frames ({} dropped), {} packets, {} bytes in {:.1} s",
            s.frames_in,
            s.dropped,
            s.packets,
            s.bytes,
            report.elapsed.as_secs_f64()
        );
    });
    framecast::deinit();
    result
}

/// What a send run did.
#[derive(Debug, Clone, Copy)]
pub struct SendReport {
    /// The sender's counters at the end.
    pub stats: framecast::sender::SenderStats,
    /// From the first frame to the end of the stream.
    pub elapsed: Duration,
}

/// Sends until the input ends, `--seconds` pass, or an error; the stream
/// is finished (end-of-stream, RTCP BYE) before returning.
pub fn send(args: &SendArgs) -> Result<SendReport, String> {
    let (width, height) = parse_size(&args.size)?;
    let from_stdin = match (args.input.as_deref(), args.pattern.as_deref()) {
        (Some("-"), None) => true,
        (None, Some(_)) | (None, None) => false,
        (Some(other), None) => {
            return Err(format!(
                "--input {other:?}: only - (standard input) is supported"
            ))
        }
        (Some(_), Some(_)) => return Err("give --input - or --pattern, not both".into()),
    };
    let format = if from_stdin {
        VideoFormat::from_name(&args.format).map_err(|e| format!("--format: {e}"))?
    } else {
        VideoFormat::Bgr
    };
    let codec = match args.codec.as_str() {
        "jpeg" => Codec::Jpeg,
        "raw" => Codec::Raw,
        _ => Codec::H264,
    };
    let info = VideoInfo::new(format, width, height).map_err(|e| e.to_string())?;
    let mut builder = Sender::builder()
        .codec(codec)
        .size(width, height)
        .fps(args.fps.max(1))
        .input_format(format)
        .bitrate(args.bitrate);
    for to in &args.to {
        builder = builder.to(to);
    }
    if let Some(path) = &args.sdp {
        // Written before the first frame, rewritten with the parameter sets.
        builder = builder.sdp_file(path);
    }
    let sender = builder.build().map_err(|e| e.to_string())?;
    let frame_time = Duration::from_secs_f64(1.0 / f64::from(args.fps.max(1)));
    let limit = args.seconds.map(Duration::from_secs_f64);
    // Only for pooled frames whose rows are padded (made on first need).
    let mut packed = Vec::new();
    let mut source = if from_stdin {
        // A bigger pipe: the producer hands a frame over in one or two
        // writes instead of 64 KiB at a time.
        let _ = framecast::elements::fdsrc::enlarge_pipe(std::io::stdin());
        FrameSource::Stdin(std::io::stdin().lock())
    } else {
        FrameSource::Pattern(BallPattern::new(width as usize, height as usize))
    };
    let start = Instant::now();
    let mut next_report = start + Duration::from_secs(1);
    let mut n: u64 = 0;
    loop {
        if limit.is_some_and(|l| start.elapsed() >= l) {
            break;
        }
        let mut frame = sender
            .frame()
            .map_err(|e| format!("no frame from the pool: {e}"))?;
        let got = if is_packed(&frame, &info) {
            // The pooled frame has the packed layout: read or paint
            // straight into it, no copy.
            let f = frame.get_mut().ok_or("frame is shared")?;
            let mut map = f.map_writable().map_err(|e| e.to_string())?;
            let dst = map
                .get_mut(..info.size)
                .ok_or("pooled frame smaller than a frame")?;
            source.next_frame(dst, info.stride[0], n)?
        } else {
            packed.resize(info.size, 0);
            let got = source.next_frame(&mut packed, info.stride[0], n)?;
            if got {
                fill_from_packed(&mut frame, &packed, &info)?;
            }
            got
        };
        if !got {
            break;
        }
        if let Err(refused) = sender.push(frame) {
            return Err(format!("frame {n}: {refused}"));
        }
        n += 1;
        if let Some(framecast::Message::Error {
            source, message, ..
        }) = sender
            .pipeline()
            .bus()
            .timed_pop_filtered(Some(Duration::ZERO), |m| {
                matches!(m, framecast::Message::Error { .. })
            })
        {
            return Err(format!("{source}: {message}"));
        }
        if Instant::now() >= next_report {
            let s = sender.stats();
            let secs = start.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\rframes={} fps={:.1} bitrate={:.0} kbit/s drops={} encode={:.2} ms/frame queue={} push->wire={:.1} ms (max {:.1})   ",
                s.frames_in,
                s.frames_out as f64 / secs,
                s.bitrate / 1000.0,
                s.dropped,
                s.encode_time.as_secs_f64() * 1000.0 / s.frames_out.max(1) as f64,
                s.frames_in.saturating_sub(s.frames_out + s.dropped),
                s.latency_last.as_secs_f64() * 1000.0,
                s.latency_max.as_secs_f64() * 1000.0,
            );
            next_report += Duration::from_secs(1);
        }
        if matches!(source, FrameSource::Pattern(_)) {
            let due = start + frame_time.mul_f64(n as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
    let stats = sender.finish().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    Ok(SendReport { stats, elapsed })
}
