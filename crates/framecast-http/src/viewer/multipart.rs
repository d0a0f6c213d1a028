//! `multipart/x-mixed-replace` framing for MJPEG (what browsers show in
//! an `<img>`, and what ffmpeg's and VLC's MJPEG inputs read).

use std::io::Write as _;

/// The part boundary.
pub const BOUNDARY: &str = "framecast";

/// The stream's content type.
pub const CONTENT_TYPE: &str = "multipart/x-mixed-replace; boundary=framecast";

/// One part's header, written into a fixed buffer (no allocation per
/// frame).
#[derive(Debug)]
pub struct PartHeader {
    buf: [u8; 96],
}

impl Default for PartHeader {
    fn default() -> Self {
        PartHeader { buf: [0; 96] }
    }
}

impl PartHeader {
    /// The header of a part of `len` JPEG bytes.
    pub fn for_len(&mut self, len: usize) -> &[u8] {
        let mut w = &mut self.buf[..];
        let room = w.len();
        // 96 bytes hold the fixed text and any usize.
        let _ = write!(
            w,
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len}\r\n\r\n"
        );
        let used = room - w.len();
        &self.buf[..used]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_headers_carry_the_length() {
        let mut h = PartHeader::default();
        assert_eq!(
            h.for_len(1234),
            b"--framecast\r\nContent-Type: image/jpeg\r\nContent-Length: 1234\r\n\r\n"
        );
        assert!(h.for_len(usize::MAX).ends_with(b"\r\n\r\n"));
    }
}
