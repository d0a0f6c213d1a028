//! `framecast send`: frames from stdin (raw) or a test pattern to clients
//! over RTP/UDP, with a live stats line on stderr.

use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast::elements::fdsrc::wait_readable;
use framecast::elements::net::parse_clients;
use framecast::sender::{Codec, Sender};
use framecast::{Buffer, VideoFormat, VideoInfo, VideoMeta};

/// Options.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// A client `HOST:PORT` (repeatable; `send` needs one).
    #[arg(long = "to")]
    pub to: Vec<String>,
    /// The `rtsp://` URL to serve at too (`framecast serve` sets it).
    #[arg(skip)]
    pub serve: Option<String>,
    /// User and password RTSP viewers must give (`framecast serve --user
    /// --password` sets it).
    #[arg(skip)]
    pub serve_credentials: Option<(String, String)>,
    /// `ADDR:PORT`, path and token to serve browsers at too (`framecast
    /// serve --http` sets it).
    #[arg(skip)]
    pub http: Option<(String, String, Option<String>)>,
    /// Encoding on the wire.
    #[arg(long, value_parser = ["h264", "jpeg", "raw"], default_value = "h264")]
    pub codec: String,
    /// H.264 bitrate, kbit/s.
    #[arg(long, default_value_t = 4000)]
    pub bitrate: u32,
    /// H.264 keyframe interval: an IDR (with SPS/PPS) every N frames
    /// (0: one second of frames). Viewers joining mid-GOP get one at
    /// once anyway (they ask for it).
    #[arg(long, default_value_t = 0)]
    pub gop: u32,
    /// Forward error correction for links without feedback (multicast):
    /// one ULPFEC parity packet per N media packets and per frame
    /// (0: none; 10 costs about 10 %). Lost packets are also resent when
    /// the receiver asks (RTCP NACK), FEC or not.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=48))]
    pub fec: u32,
    /// Frame size `WxH`.
    #[arg(long, default_value = "1280x720")]
    pub size: String,
    /// Frames per second: the pattern's rate, and the most frames a
    /// second sent from --input (a file or a faster producer is held to
    /// it). 0, for --input only: each frame goes as it comes.
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

/// The options, checked: everything `send` needs to know before it starts
/// anything (the pipeline, a socket, `demo`'s receiver child), so that a
/// bad argument is an error before any of it.
#[derive(Debug, Clone)]
pub struct SendPlan {
    /// Format, size and rate of the frames pushed.
    info: VideoInfo,
    codec: Codec,
    /// The clients, resolved.
    clients: Vec<SocketAddr>,
    /// `rtsp://` servers to publish into (ANNOUNCE/RECORD).
    publish: Vec<String>,
    from_stdin: bool,
    /// Time between frames; `None` (`--fps 0`, standard input only) sends
    /// each frame as it comes.
    interval: Option<Duration>,
}

impl SendPlan {
    /// Format, size and rate of the frames.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }
}

impl SendArgs {
    /// Checks the options (and resolves `--to`).
    ///
    /// # Errors
    ///
    /// The option that is wrong, and why.
    pub fn plan(&self) -> Result<SendPlan, String> {
        let (width, height) = parse_size(&self.size)?;
        let from_stdin = match (self.input.as_deref(), self.pattern.as_deref()) {
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
            VideoFormat::from_name(&self.format).map_err(|e| format!("--format: {e}"))?
        } else {
            VideoFormat::Bgr
        };
        let codec = match self.codec.as_str() {
            "jpeg" => Codec::Jpeg,
            "raw" => Codec::Raw,
            _ => Codec::H264,
        };
        if self.fps == 0 && !from_stdin {
            return Err(
                "--fps 0 sends frames as they come from --input -; the pattern needs a rate".into(),
            );
        }
        let info = VideoInfo::new(format, width, height)
            .map_err(|e| format!("--size {}: {e}", self.size))?
            .with_fps(framecast::Fraction::from_integer(
                i32::try_from(self.fps).map_err(|_| format!("--fps {}: too many", self.fps))?,
            ));
        let mut clients = Vec::new();
        let mut publish = Vec::new();
        for to in &self.to {
            if to.trim().starts_with("rtsp://") {
                publish.push(to.trim().to_string());
                continue;
            }
            clients.extend(parse_clients(to).map_err(|e| format!("--to {to:?}: {e}"))?);
        }
        if clients.is_empty() && publish.is_empty() && self.serve.is_none() && self.http.is_none() {
            return Err("--to: give at least one client HOST:PORT or an rtsp:// URL".into());
        }
        if let Some(s) = self.seconds.filter(|s| !(s.is_finite() && *s >= 0.0)) {
            return Err(format!(
                "--seconds {s}: give a number of seconds, 0 or more"
            ));
        }
        Ok(SendPlan {
            info,
            codec,
            clients,
            publish,
            from_stdin,
            interval: (self.fps > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(self.fps))),
        })
    }
}

/// Runs `framecast send`. Ctrl-C ends the stream as its end would
/// (end-of-stream, RTCP BYE: receivers learn it ended) and prints the
/// summary; a second Ctrl-C while that happens exits at once.
pub fn run(args: SendArgs) -> Result<(), String> {
    let plan = args.plan()?;
    framecast::init().map_err(|e| format!("FRAMECAST_TRACERS: {e}"))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let result = interruptible(&interrupted, || send(&args, &plan, &interrupted));
    let result = result.and_then(|report| {
        let s = report.stats;
        let secs = report.elapsed.as_secs_f64();
        eprintln!(
            "\n{}sent {} frames ({} dropped), {} packets, {} bytes in {secs:.1} s ({:.1} fps)",
            if interrupted.load(Ordering::Acquire) {
                "interrupted: "
            } else {
                ""
            },
            s.frames_in,
            s.dropped,
            s.packets,
            s.bytes,
            s.frames_in as f64 / secs.max(1e-9),
        );
        if s.frames_in > 0 && s.packets == 0 && args.serve.is_none() && args.http.is_none() {
            return Err(format!(
                "{} frames pushed but no packet went out",
                s.frames_in
            ));
        }
        Ok(())
    });
    framecast::deinit();
    result
}

/// Runs `f` with Ctrl-C (SIGINT) setting `flag` instead of killing the
/// process, so that `f` can end its stream properly; a second Ctrl-C
/// while the flag is set exits at once with status 130 (the shell's for
/// SIGINT). `send`, `receive` and `demo` run so.
pub(crate) fn interruptible<T>(
    flag: &Arc<AtomicBool>,
    f: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    use signal_hook::consts::SIGINT;
    let fail = |e: std::io::Error| format!("cannot handle Ctrl-C: {e}");
    // Registered first, so it sees the flag as it was before this signal.
    let second = signal_hook::flag::register_conditional_shutdown(SIGINT, 130, flag.clone())
        .map_err(fail)?;
    let first = match signal_hook::flag::register(SIGINT, flag.clone()) {
        Ok(id) => id,
        Err(e) => {
            signal_hook::low_level::unregister(second);
            return Err(fail(e));
        }
    };
    let out = f();
    signal_hook::low_level::unregister(first);
    signal_hook::low_level::unregister(second);
    out
}

/// What a send run did.
#[derive(Debug, Clone, Copy)]
pub struct SendReport {
    /// The sender's counters at the end.
    pub stats: framecast::sender::SenderStats,
    /// From the first frame to the end of the stream.
    pub elapsed: Duration,
}

/// Where the frames come from.
enum FrameSource {
    /// Raw packed frames on standard input (a duplicate of fd 0, read
    /// unbuffered, so that waiting for it can be interrupted).
    Stdin {
        file: File,
        /// Bytes read so far.
        total: u64,
    },
    /// The test pattern.
    Pattern(BallPattern),
}

/// How reading a frame ended.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    /// A whole frame. `waited`: nothing of it was there when asked for, so
    /// its producer is live and sets the pace (a file, `/dev/zero` or a
    /// producer ahead of the sender always has the next frame ready).
    Frame { waited: bool },
    /// The input ended (or Ctrl-C came) before a whole frame.
    End,
}

impl FrameSource {
    /// Fills `dst` (a packed frame, rows `stride` bytes apart) with frame
    /// `n`. An input that ends inside a frame is warned about, with the
    /// byte counts: the partial frame is not sent.
    fn next_frame(
        &mut self,
        dst: &mut [u8],
        stride: usize,
        n: u64,
        interrupted: &AtomicBool,
    ) -> Result<Got, String> {
        let (file, total) = match self {
            FrameSource::Pattern(pattern) => {
                pattern.paint(dst, stride, n);
                return Ok(Got::Frame { waited: false });
            }
            FrameSource::Stdin { file, total } => (file, total),
        };
        let mut filled = 0;
        let mut waited = false;
        while filled < dst.len() {
            let asked = Instant::now();
            let readable = wait_readable(interrupted, &file.as_fd())
                .map_err(|e| format!("reading standard input: {e}"))?;
            if !readable {
                return Ok(Got::End);
            }
            // A poll that finds data returns in microseconds.
            if filled == 0 && asked.elapsed() >= Duration::from_millis(1) {
                waited = true;
            }
            match file.read(&mut dst[filled..]) {
                Ok(0) => break,
                Ok(got) => filled += got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading standard input: {e}")),
            }
        }
        *total += filled as u64;
        if filled == dst.len() {
            return Ok(Got::Frame { waited });
        }
        if filled > 0 {
            eprintln!("\n{}", truncation_warning(n, filled, dst.len(), *total));
        }
        Ok(Got::End)
    }
}

/// The warning for an input that ended `filled` bytes into frame `n`.
fn truncation_warning(n: u64, filled: usize, frame: usize, total: u64) -> String {
    format!(
        "framecast send: warning: standard input ended inside frame {n}: {filled} of its {frame} bytes \
         (the input's {total} bytes are not a multiple of the frame size: {n} whole frames and \
         {filled} bytes); the partial frame was not sent"
    )
}

/// Paces frames to `--fps` without delaying a live producer.
///
/// A frame that was ready when asked for (a file, `/dev/zero`, a producer
/// ahead of the sender, the pattern) waits for its slot, one interval
/// after the last one's: such input goes at the rate exactly (unpaced,
/// `/dev/zero` once went at ~520 fps, 89 % dropped). A frame the sender
/// had to wait for comes from a live producer, which already keeps time:
/// it goes at once unless it is more than a quarter interval early (a
/// producer faster than the rate is still held near it), and the slots
/// start again from it. Strict slots for those too would lock onto the
/// phase of the first frame and make every later one wait for it.
#[derive(Debug)]
struct Pacer {
    interval: Option<Duration>,
    /// When the next frame is due.
    slot: Option<Instant>,
}

impl Pacer {
    fn new(interval: Option<Duration>) -> Pacer {
        Pacer {
            interval,
            slot: None,
        }
    }

    /// Waits until the next frame may go (`waited`: the sender waited for
    /// it); `false` when `interrupted` came meanwhile.
    fn wait(&mut self, waited: bool, interrupted: &AtomicBool) -> bool {
        let Some(interval) = self.interval else {
            return true;
        };
        let Some(slot) = self.slot else {
            self.slot = Some(Instant::now() + interval);
            return true;
        };
        let earliest = if waited {
            slot.checked_sub(interval / 4).unwrap_or(slot)
        } else {
            slot
        };
        loop {
            if interrupted.load(Ordering::Acquire) {
                return false;
            }
            let Some(wait) = earliest.checked_duration_since(Instant::now()) else {
                break;
            };
            std::thread::sleep(wait.min(Duration::from_millis(50)));
        }
        let sent = Instant::now();
        // Ready input keeps to the slots (no drift from oversleeping)
        // unless it fell behind them (a stall: no burst to catch up); live
        // input restarts them.
        self.slot = Some(if waited || sent > slot + interval / 2 {
            sent + interval
        } else {
            slot + interval
        });
        true
    }
}

/// Sends until the input ends, `--seconds` pass, `interrupted` is set, or
/// an error; the stream is finished (end-of-stream, RTCP BYE) before
/// returning, in every case but an error.
pub fn send(
    args: &SendArgs,
    plan: &SendPlan,
    interrupted: &AtomicBool,
) -> Result<SendReport, String> {
    let info = plan.info;
    let (width, height) = (info.width, info.height);
    let mut builder = Sender::builder()
        .codec(plan.codec)
        .size(width, height)
        .fps(args.fps)
        .input_format(info.format)
        .bitrate(args.bitrate)
        .key_interval(args.gop)
        .fec(args.fec);
    for to in &plan.publish {
        builder = builder.to(to);
    }
    for to in &plan.clients {
        builder = builder.to(&to.to_string());
    }
    if let Some(url) = &args.serve {
        builder = builder.serve(url);
    }
    if let Some((user, password)) = &args.serve_credentials {
        builder = builder.serve_credentials(user, password);
    }
    if let Some((addr, path, token)) = &args.http {
        builder = builder.http(addr).http_options(path, token.as_deref());
    }
    if let Some(path) = &args.sdp {
        // Written before the first frame, rewritten with the parameter sets.
        builder = builder.sdp_file(path);
    }
    let sender = builder.build().map_err(|e| e.to_string())?;
    if let Some((url, _)) = sender.rtsp() {
        eprintln!("serving {url} (open it with ffplay, VLC, or gst-launch-1.0 rtspsrc)");
        if let Some((user, _)) = &args.serve_credentials {
            eprintln!("viewers authenticate as {user:?} (Digest): rtsp://{user}:PASSWORD@…");
        }
    }
    if let Some(url) = sender.http() {
        eprintln!("serving {url} in a browser (MJPEG at {url}mjpeg, the dashboard at /)");
    }
    let limit = args.seconds.map(Duration::from_secs_f64);
    // Only for pooled frames whose rows are padded (made on first need).
    let mut packed = Vec::new();
    let mut source = if plan.from_stdin {
        let stdin = std::io::stdin();
        // A bigger pipe: the producer hands a frame over in one or two
        // writes instead of 64 KiB at a time.
        let _ = framecast::elements::fdsrc::enlarge_pipe(&stdin);
        let fd = stdin
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| format!("standard input: {e}"))?;
        FrameSource::Stdin {
            file: File::from(fd),
            total: 0,
        }
    } else {
        FrameSource::Pattern(BallPattern::new(width as usize, height as usize))
    };
    let mut pacer = Pacer::new(plan.interval);
    let start = Instant::now();
    let mut next_report = start + Duration::from_secs(1);
    let mut n: u64 = 0;
    loop {
        if limit.is_some_and(|l| start.elapsed() >= l) || interrupted.load(Ordering::Acquire) {
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
            source.next_frame(dst, info.stride[0], n, interrupted)?
        } else {
            packed.resize(info.size, 0);
            let got = source.next_frame(&mut packed, info.stride[0], n, interrupted)?;
            if got != Got::End {
                fill_from_packed(&mut frame, &packed, &info)?;
            }
            got
        };
        let Got::Frame { waited } = got else {
            break;
        };
        if !pacer.wait(waited, interrupted) {
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
            if let Some(viewers) = sender.viewers() {
                eprint!("{}   ", crate::serve::viewers_line(&viewers));
            }
            next_report += Duration::from_secs(1);
        }
    }
    let stats = sender.finish().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    Ok(SendReport { stats, elapsed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_holds_ready_input_to_the_rate_and_passes_a_live_one() {
        let never = AtomicBool::new(false);
        // A long interval, so that a loaded machine's scheduling delays
        // (a few ms) stay far inside every margin below.
        let interval = Duration::from_millis(100);
        let ms = Duration::from_millis;
        let mut pacer = Pacer::new(Some(interval));
        let start = Instant::now();
        for _ in 0..11 {
            assert!(pacer.wait(false, &never));
        }
        // Ready frames: one every interval, the first at once.
        let took = start.elapsed();
        assert!(took >= ms(999), "{took:?}");
        assert!(took < ms(1500), "{took:?}");
        // After a stall the next frame goes at once, and no burst follows.
        std::thread::sleep(ms(250));
        let late = Instant::now();
        assert!(pacer.wait(false, &never));
        assert!(late.elapsed() < ms(50), "{:?}", late.elapsed());
        assert!(pacer.wait(false, &never));
        assert!(late.elapsed() >= ms(99), "{:?}", late.elapsed());
        // A live frame (waited for) 20 ms early goes at once: the slots
        // follow it, not the other way round.
        std::thread::sleep(ms(80));
        let live = Instant::now();
        assert!(pacer.wait(true, &never));
        assert!(live.elapsed() < ms(15), "{:?}", live.elapsed());
        // A live producer twice too fast is held to 3/4 of an interval.
        let live = Instant::now();
        std::thread::sleep(ms(50));
        assert!(pacer.wait(true, &never));
        assert!(live.elapsed() >= ms(74), "{:?}", live.elapsed());
        assert!(
            !pacer.wait(false, &AtomicBool::new(true)),
            "an interrupt ends the wait"
        );
        // As they come: no wait at all.
        let mut free = Pacer::new(None);
        let start = Instant::now();
        for _ in 0..1000 {
            assert!(free.wait(false, &never));
        }
        assert!(start.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn truncation_is_told_with_the_byte_counts() {
        let w = truncation_warning(10, 100, 4608, 46_180);
        assert!(
            w.contains("inside frame 10: 100 of its 4608 bytes")
                && w.contains("46180 bytes are not a multiple")
                && w.contains("10 whole frames and 100 bytes"),
            "{w}"
        );
    }

    fn args(extra: &[&str]) -> SendArgs {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            send: SendArgs,
        }
        let argv = ["send"].iter().chain(extra);
        Cli::try_parse_from(argv).map(|c| c.send).expect("parse")
    }

    #[test]
    fn plans_refuse_what_cannot_be_sent_and_say_why() {
        let err = |extra: &[&str]| args(extra).plan().err().unwrap_or_default();
        assert!(err(&["--to", "127.0.0.1"]).contains(":PORT is missing"));
        assert!(err(&["--to", "127.0.0.1:0"]).contains("port 0"));
        assert!(err(&["--to", "127.0.0.1:5000", "--size", "1280x720x3"]).contains("\"720x3\""));
        assert!(err(&["--to", "127.0.0.1:5000", "--fps", "0"]).contains("the pattern needs a rate"));
        let plan = args(&["--to", "127.0.0.1:5000", "--input", "-", "--fps", "0"])
            .plan()
            .expect("as they come");
        assert_eq!(plan.interval, None);
        let plan = args(&["--to", "127.0.0.1:5000,127.0.0.1:5002"])
            .plan()
            .expect("plan");
        assert_eq!(plan.clients.len(), 2);
        assert_eq!(plan.interval, Some(Duration::from_secs_f64(1.0 / 30.0)));
    }
}
