//! [`ReceivedFrame`]: a decoded frame and what is known of it.

use super::*;
use crate::elements::video::frame::packed_layout;
use crate::elements::video::{convert, Frame, FrameMut, Matrix};

/// A decoded frame from [`Receiver::pull`].
#[derive(Debug, Clone)]
pub struct ReceivedFrame {
    /// The pixels, laid out as [`frame_layout`] says (rows may be padded:
    /// [`copy_packed_to`](Self::copy_packed_to) packs them).
    pub buffer: Buffer,
    /// Format and size, as negotiated.
    pub info: VideoInfo,
    /// From the sender's capture (its wall clock, carried by RTCP sender
    /// reports) to this frame being pulled (this machine's wall clock).
    /// `None` before the first sender report, from a sender that sends
    /// none, or when the capture time is ahead of this clock (the two
    /// machines' clocks disagree: see [`capture_time`](Self::capture_time)).
    /// Across machines it is as exact as their clock synchronisation.
    pub latency: Option<Duration>,
}

impl ReceivedFrame {
    /// When the sender captured the frame, by its wall clock (the
    /// `timestamp/x-ntp` reference timestamp the jitter buffer attaches):
    /// from the packets' `abs-capture-time` header extension (a framecast
    /// or WebRTC sender: exactly the time the sender was given), else
    /// from the RTCP sender reports' mapping of the RTP timestamp.
    pub fn capture_time(&self) -> Option<SystemTime> {
        let ntp_nanos =
            ReferenceTimestampMeta::find(&self.buffer, ReferenceTimestampMeta::NTP)?.nseconds();
        let unix_nanos = ntp_nanos.checked_sub(NTP_UNIX_OFFSET_NANOS)?;
        UNIX_EPOCH.checked_add(Duration::from_nanos(unix_nanos))
    }

    /// The sender's id of the frame ([`FrameInfo::frame_id`](crate::sender::FrameInfo::frame_id)),
    /// carried in an RTP header extension; `None` when it sent none.
    pub fn frame_id(&self) -> Option<u64> {
        crate::elements::rtp::header_ext::frame_id(&self.buffer)
    }

    /// Bytes of the frame packed: rows without padding, planes one after
    /// another (what [`copy_packed_to`](Self::copy_packed_to) writes; for
    /// BGR `width * height * 3`, for I420 `width * height * 3 / 2`).
    pub fn packed_size(&self) -> usize {
        packed_size(&self.info)
    }

    /// Copies the frame, packed (see [`packed_size`](Self::packed_size)),
    /// into the start of `out`; returns the bytes written. Allocates
    /// nothing: fit for a numpy array or an OpenCV `Mat` filled per frame.
    ///
    /// # Errors
    ///
    /// `out` shorter than [`packed_size`](Self::packed_size), or a buffer
    /// smaller than its format and size say (with the byte counts).
    pub fn copy_packed_to(&self, out: &mut [u8]) -> Result<usize> {
        let need = self.packed_size();
        if out.len() < need {
            return Err(Error::Element {
                element: "receiver".into(),
                message: format!(
                    "a packed {} {}x{} frame is {need} bytes; the destination holds {}",
                    self.info.format,
                    self.info.width,
                    self.info.height,
                    out.len()
                ),
            });
        }
        let mut at = 0;
        self.for_each_row(|piece| {
            out[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
            Ok(())
        })?;
        Ok(at)
    }

    /// Converts the frame into `format`, packed (rows without padding,
    /// planes one after another), at the start of `out`; returns the bytes
    /// written. One pass over the pixels, with `videoconvert`'s conversion
    /// and matrix (the same bytes); a copy when `format` is the frame's.
    /// Allocates nothing for a frame in one memory (a decoder's).
    ///
    /// # Errors
    ///
    /// `out` shorter than the packed `format` frame (with the byte counts),
    /// a conversion `videoconvert` does not do, a buffer smaller than its
    /// format and size say.
    pub fn convert_packed_to(&self, format: VideoFormat, out: &mut [u8]) -> Result<usize> {
        if format == self.info.format {
            return self.copy_packed_to(out);
        }
        let target = VideoInfo::new(format, self.info.width, self.info.height)?;
        let need = packed_size(&target);
        let Some(out) = out.get_mut(..need) else {
            return Err(Error::Element {
                element: "receiver".into(),
                message: format!(
                    "a packed {format} {}x{} frame is {need} bytes; the destination holds {}",
                    self.info.width,
                    self.info.height,
                    out.len()
                ),
            });
        };
        let layout = frame_layout(&self.buffer, &self.info)?;
        let map = self.buffer.map_readable()?;
        let bytes = map.contiguous();
        let src = Frame::new(layout, &bytes)?;
        let mut dst = FrameMut::new(packed_layout(&target), out)?;
        convert(&src, &mut dst, Matrix::for_height(self.info.height))?;
        Ok(need)
    }

    /// Writes the frame, packed (see [`packed_size`](Self::packed_size)),
    /// to `out` a row at a time; returns the bytes written. Allocates
    /// nothing; give it a buffered writer for files and pipes.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when writing fails; a buffer smaller than its format
    /// and size say.
    pub fn write_packed<W: Write + ?Sized>(&self, out: &mut W) -> Result<usize> {
        let mut written = 0;
        self.for_each_row(|piece| {
            out.write_all(piece).map_err(|source| Error::Io {
                context: "writing a frame".into(),
                source,
            })?;
            written += piece.len();
            Ok(())
        })?;
        Ok(written)
    }

    /// Calls `f` with the visible bytes of every row, planes in order (a
    /// row that spans two memories of the buffer comes in two pieces).
    fn for_each_row(&self, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let info = &self.info;
        let layout = frame_layout(&self.buffer, info)?;
        let map = self.buffer.map_readable()?;
        for plane in 0..info.n_planes {
            let row = row_bytes(info, plane);
            for y in 0..info.comp_height(plane) as usize {
                let start = layout.offset[plane] + y * layout.stride[plane];
                let got = pieces(&map, start, row, &mut f)?;
                if got != row {
                    return Err(Error::Element {
                        element: "receiver".into(),
                        message: format!(
                            "a {} {}x{} frame of {} bytes is smaller than its format says \
                             (plane {plane}, row {y})",
                            info.format,
                            info.width,
                            info.height,
                            self.buffer.size()
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}
