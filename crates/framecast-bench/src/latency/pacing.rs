//! The producer: the moving test picture with the stamp, paced at
//! [`FPS`] like a camera, handed to a child's stdin or to a function.

use super::*;

/// A 0..=127..=0 triangle wave of period 256.
pub(crate) fn triangle(v: usize) -> u8 {
    let v = (v % 256) as u8;
    if v < 128 {
        v
    } else {
        255 - v
    }
}

/// `t` bouncing between 0 and `span`.
pub(crate) fn bounce(t: usize, span: usize) -> usize {
    let span = span.max(1);
    let p = t % (2 * span);
    if p < span {
        p
    } else {
        2 * span - p
    }
}

/// Rows the background scrolls through before repeating.
pub(crate) const PERIOD: usize = 256;

/// The moving test picture: smooth gradients scrolling upwards (real
/// motion for the encoder, no noise) and a white box bouncing across,
/// with the stamp over the top rows.
pub(crate) struct Pattern {
    pub(crate) format: Format,
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// `height + PERIOD` rows of the background (luma only for I420).
    pub(crate) background: Vec<u8>,
    pub(crate) frame: Vec<u8>,
}

impl Pattern {
    pub(crate) fn new(format: Format, width: usize, height: usize) -> Pattern {
        let rows = height + PERIOD;
        let mut background = Vec::with_capacity(rows * width * 3);
        for y in 0..rows {
            for x in 0..width {
                let t = triangle(y);
                match format {
                    Format::Bgr => background.extend_from_slice(&[
                        48 + (x * 128 / width) as u8,
                        48 + t,
                        48 + triangle(x / 2 + y) / 2 * 2,
                    ]),
                    Format::I420 => background.push(40 + (x * 80 / width) as u8 + t),
                }
            }
        }
        let frame = vec![128u8; format.frame_bytes(width, height)];
        Pattern {
            format,
            width,
            height,
            background,
            frame,
        }
    }

    /// Bytes per row of the first plane.
    pub(crate) fn stride(&self) -> usize {
        match self.format {
            Format::Bgr => self.width * 3,
            Format::I420 => self.width,
        }
    }

    /// Draws picture `n` (without the stamp).
    pub(crate) fn draw(&mut self, n: usize) {
        let stride = self.stride();
        let (w, h) = (self.width, self.height);
        let scroll = (n * 4) % PERIOD;
        let plane = &mut self.frame[..stride * h];
        plane.copy_from_slice(&self.background[scroll * stride..(scroll + h) * stride]);
        let top = Stamp::rows(w, h).unwrap_or(0) + 16;
        let size = (h - top) / 3;
        let x0 = bounce(n * 12, w - size);
        let y0 = top + bounce(n * 5, h - top - size);
        let (pixel, white) = match self.format {
            Format::Bgr => (3, 255),
            Format::I420 => (1, 235),
        };
        for y in y0..y0 + size {
            let row = y * stride;
            plane[row + x0 * pixel..row + (x0 + size) * pixel].fill(white);
        }
    }

    /// Paints `stamp` over the top rows.
    pub(crate) fn paint(&mut self, stamp: &Stamp) {
        stamp.paint(
            self.format.video_format(),
            &mut self.frame,
            self.width,
            self.height,
        );
    }
}

/// Writes all of `data` to the non-blocking pipe `out`, waiting in
/// `poll(2)` while it is full, until `deadline`.
pub(crate) fn write_all_by(
    out: &mut ChildStdin,
    data: &[u8],
    deadline: Instant,
) -> std::io::Result<()> {
    let mut written = 0;
    while written < data.len() {
        match out.write(&data[written..]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the sender stopped reading its input",
                    ));
                }
                let mut fd = libc::pollfd {
                    fd: out.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                let ms = left.as_millis().clamp(1, 100) as libc::c_int;
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut fd, 1, ms) };
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What the producer did.
#[derive(Debug, Default)]
pub(crate) struct Produced {
    /// Frames written.
    pub(crate) frames: u32,
    /// The first frame handed over after the warm-up second.
    pub(crate) first_counted: u32,
    /// Slots of the 30 fps schedule skipped because the sender was late.
    pub(crate) skipped: u64,
    /// The sender's CPU time at the warm-up mark.
    pub(crate) cpu_at_mark_ns: Option<u64>,
    /// How long the sender took to read each counted frame off the pipe
    /// (stamp to last byte written), ms.
    pub(crate) handover_ms: Vec<f64>,
    /// The sender's peak RSS once the last frame was handed over
    /// (`None` for the in-process sender: this process's RSS is the
    /// benchmark's).
    pub(crate) peak_rss_kib: Option<u64>,
}

/// The slot to send in next: `slot + 1`, unless the clock (`elapsed`) is
/// already past its end, in which case the current one (late slots are
/// skipped, as a camera drops frames nobody took).
pub(crate) fn next_slot(slot: u64, elapsed: Duration, period: Duration) -> u64 {
    let now_slot = (elapsed.as_nanos() / period.as_nanos().max(1)) as u64;
    (slot + 1).max(now_slot)
}

/// Feeds the sender frames through its standard input at [`FPS`] for
/// `seconds`.
pub(crate) fn produce(
    stdin: &mut ChildStdin,
    pid: u32,
    format: Format,
    size: (usize, usize),
    seconds: f64,
) -> Result<Produced, String> {
    // Non-blocking, so a sender that stops reading cannot hang us.
    let fd = stdin.as_raw_fd();
    // SAFETY: fcntl on a pipe we own.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) >= 0
    };
    if !ok {
        return Err(format!(
            "making the pipe non-blocking: {}",
            std::io::Error::last_os_error()
        ));
    }
    let write_deadline = Instant::now() + Duration::from_secs_f64(seconds) + EXIT_TIMEOUT;
    let mut produced = pace(
        format,
        size,
        seconds,
        |frame| write_all_by(stdin, frame, write_deadline).map_err(|e| e.to_string()),
        || process_cpu_ns(pid),
    )?;
    produced.peak_rss_kib = peak_rss_kib(pid);
    Ok(produced)
}

/// Paints frames of `format` and `size` at [`FPS`] for `seconds`, stamps
/// each and gives it to `hand_over`; `sender_cpu_ns` reads the sender's
/// CPU time (at the warm-up mark).
pub(crate) fn pace(
    format: Format,
    (width, height): (usize, usize),
    seconds: f64,
    mut hand_over: impl FnMut(&[u8]) -> Result<(), String>,
    sender_cpu_ns: impl Fn() -> Option<u64>,
) -> Result<Produced, String> {
    let mut pattern = Pattern::new(format, width, height);
    if format == Format::I420 {
        // The producer's own check: the stamp reads back from a frame.
        pattern.draw(0);
        let probe = Stamp::now(0);
        pattern.paint(&probe);
        if Stamp::read(format.video_format(), &pattern.frame, width, height) != Some(probe) {
            return Err("the painted stamp does not read back".into());
        }
    }
    let period = Duration::from_secs(1) / FPS;
    let length = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut produced = Produced::default();
    let mut marked = false;
    let mut slot: u64 = 0;
    loop {
        let due = period * slot as u32;
        if due >= length {
            break;
        }
        pattern.draw(produced.frames as usize);
        if let Some(wait) = (start + due).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if !marked && due >= WARMUP {
            marked = true;
            produced.first_counted = produced.frames;
            produced.cpu_at_mark_ns = sender_cpu_ns();
        }
        let stamp = Stamp::now(produced.frames);
        pattern.paint(&stamp);
        hand_over(&pattern.frame)
            .map_err(|e| format!("handing over frame {}: {e}", produced.frames))?;
        if marked {
            produced
                .handover_ms
                .push(stamp::monotonic_ns().saturating_sub(stamp.time_ns) as f64 / 1e6);
        }
        produced.frames += 1;
        let next = next_slot(slot, start.elapsed(), period);
        produced.skipped += next - slot - 1;
        slot = next;
    }
    if !marked {
        produced.first_counted = produced.frames;
    }
    Ok(produced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_slots_are_skipped() {
        let period = Duration::from_millis(10);
        assert_eq!(next_slot(0, Duration::from_millis(3), period), 1);
        assert_eq!(next_slot(4, Duration::from_millis(45), period), 5);
        assert_eq!(next_slot(4, Duration::from_millis(73), period), 7);
    }

    #[test]
    fn the_pattern_moves_and_carries_the_stamp() {
        for format in [Format::Bgr, Format::I420] {
            let mut p = Pattern::new(format, 320, 240);
            p.draw(0);
            let first = p.frame.clone();
            p.draw(1);
            assert_ne!(first, p.frame);
            assert_eq!(p.frame.len(), format.frame_bytes(320, 240));
        }
        let mut p = Pattern::new(Format::I420, 640, 360);
        p.draw(3);
        let s = Stamp::now(3);
        p.paint(&s);
        assert_eq!(
            Stamp::read(framecast::VideoFormat::I420, &p.frame, 640, 360),
            Some(s)
        );
    }
}
