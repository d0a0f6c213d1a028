//! Reads what an RTSP server sends on its TCP connection: responses, the
//! occasional request, and (RFC 2326 §10.12) interleaved binary frames
//! `$ <channel> <length:16>` carrying RTP and RTCP.
//!
//! This is a parser of network input, so it bounds everything: the message
//! head must end within [`MAX_HEAD`] bytes and a body may announce at most
//! [`MAX_BODY`]; past either the peer is broken or hostile and the
//! connection is dropped, never buffered without end. The buffer is
//! allocated once, so interleaved media costs no allocation per packet.
//! Messages themselves are parsed by `rtsp-types`.

use rtsp_types::{Message, Request, Response};

use crate::{Error, Result};

/// Longest status line plus headers accepted.
pub const MAX_HEAD: usize = 8 * 1024;
/// Largest `Content-Length` accepted (an SDP is a few hundred bytes).
pub const MAX_BODY: usize = 64 * 1024;
/// Room for the largest item: a head with its largest body, or an
/// interleaved frame of 65535 bytes.
const CAPACITY: usize = MAX_HEAD + MAX_BODY;

/// One thing read from the connection.
#[derive(Debug)]
pub enum Item<'a> {
    /// A response to one of our requests.
    Response(Response<Vec<u8>>),
    /// A request from the server (some send `GET_PARAMETER` or
    /// `ANNOUNCE`).
    Request(Request<Vec<u8>>),
    /// An interleaved frame: `channel` as given in SETUP's
    /// `interleaved=` (RTP on the even one, RTCP on the odd).
    Data {
        /// The channel.
        channel: u8,
        /// The RTP or RTCP packet.
        payload: &'a [u8],
    },
}

/// Incremental reader: [`spare`](Self::spare) to read into,
/// [`filled`](Self::filled) to say how much came, then
/// [`next_item`](Self::next_item) until it says `None`.
#[derive(Debug)]
pub struct MessageReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes of the item last handed out, dropped at the next call.
    pending: usize,
}

impl Default for MessageReader {
    fn default() -> Self {
        MessageReader::new()
    }
}

impl MessageReader {
    /// An empty reader with its buffer allocated.
    pub fn new() -> MessageReader {
        MessageReader {
            buf: vec![0; CAPACITY],
            start: 0,
            end: 0,
            pending: 0,
        }
    }

    /// Space to read into (never empty: an item that could not fit is an
    /// error from [`next_item`](Self::next_item) first).
    pub fn spare(&mut self) -> &mut [u8] {
        self.consume_pending();
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf[self.end..]
    }

    /// Says that `n` bytes were read into [`spare`](Self::spare).
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Bytes buffered and not yet handed out.
    pub fn buffered(&self) -> usize {
        self.end - self.start - self.pending
    }

    /// Hands out the item last returned by
    /// [`next_item`](Self::next_item) again at the next call.
    pub fn unread_last(&mut self) {
        self.pending = 0;
    }

    fn consume_pending(&mut self) {
        self.start += self.pending;
        self.pending = 0;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// The next complete item, or `None` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// A head past [`MAX_HEAD`], a body past [`MAX_BODY`], or bytes that
    /// do not parse as RTSP. The reader is then unusable: drop the
    /// connection.
    pub fn next_item(&mut self) -> Result<Option<Item<'_>>> {
        self.consume_pending();
        let data = &self.buf[self.start..self.end];
        let Some(&first) = data.first() else {
            return Ok(None);
        };
        if first == b'$' {
            if data.len() < 4 {
                return Ok(None);
            }
            let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
            if data.len() < 4 + len {
                return Ok(None);
            }
            self.pending = 4 + len;
            return Ok(Some(Item::Data {
                channel: data[1],
                payload: &data[4..4 + len],
            }));
        }
        let window = &data[..data.len().min(MAX_HEAD)];
        let Some(head) = find(window, b"\r\n\r\n").map(|i| i + 4) else {
            if data.len() >= MAX_HEAD {
                return Err(Error::HeadTooLarge { limit: MAX_HEAD });
            }
            return Ok(None);
        };
        let length = content_length(&data[..head])?;
        if length > MAX_BODY {
            return Err(Error::BodyTooLarge {
                length,
                limit: MAX_BODY,
            });
        }
        if data.len() < head + length {
            return Ok(None);
        }
        let (message, used) =
            Message::<Vec<u8>>::parse(&data[..head + length]).map_err(|e| Error::Malformed {
                what: format!(
                    "{e} in {:?}",
                    String::from_utf8_lossy(&data[..head.min(120)])
                ),
            })?;
        self.pending = used.max(1);
        Ok(Some(match message {
            Message::Response(r) => Item::Response(r),
            Message::Request(r) => Item::Request(r),
            Message::Data(d) => {
                // `Message::parse` only returns data for a leading `$`,
                // which was handled above.
                return Err(Error::Malformed {
                    what: format!("unexpected data frame on channel {}", d.channel_id()),
                });
            }
        }))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `Content-Length` of a message head (0 when absent).
fn content_length(head: &[u8]) -> Result<usize> {
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if !line[..colon].eq_ignore_ascii_case(b"content-length") {
            continue;
        }
        let value = std::str::from_utf8(&line[colon + 1..])
            .ok()
            .map(str::trim)
            .and_then(|v| v.parse::<usize>().ok());
        return value.ok_or_else(|| Error::Malformed {
            what: format!(
                "bad Content-Length {:?}",
                String::from_utf8_lossy(&line[colon + 1..]).trim()
            ),
        });
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn feed(r: &mut MessageReader, bytes: &[u8]) {
        let spare = r.spare();
        spare[..bytes.len()].copy_from_slice(bytes);
        r.filled(bytes.len());
    }

    const OK: &[u8] = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Length: 4\r\n\r\nv=0\n";

    #[test]
    fn responses_and_frames_interleave() {
        let mut r = MessageReader::new();
        let mut wire = vec![b'$', 1, 0, 3, 9, 8, 7];
        wire.extend_from_slice(OK);
        wire.extend_from_slice(&[b'$', 0, 0, 0]);
        feed(&mut r, &wire);
        match r.next_item().unwrap() {
            Some(Item::Data {
                channel: 1,
                payload,
            }) => assert_eq!(payload, &[9, 8, 7]),
            other => panic!("{other:?}"),
        }
        match r.next_item().unwrap() {
            Some(Item::Response(resp)) => {
                assert_eq!(u16::from(resp.status()), 200);
                assert_eq!(resp.body(), b"v=0\n");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            r.next_item().unwrap(),
            Some(Item::Data {
                channel: 0,
                payload: []
            })
        ));
        assert!(r.next_item().unwrap().is_none());
    }

    #[test]
    fn limits_hold() {
        let mut r = MessageReader::new();
        feed(&mut r, &vec![b'a'; MAX_HEAD]);
        assert!(matches!(r.next_item(), Err(Error::HeadTooLarge { .. })));
        let mut r = MessageReader::new();
        feed(&mut r, b"RTSP/1.0 200 OK\r\nContent-Length: 999999\r\n\r\n");
        assert!(matches!(r.next_item(), Err(Error::BodyTooLarge { .. })));
        let mut r = MessageReader::new();
        feed(&mut r, b"RTSP/1.0 200 OK\r\nContent-Length: x\r\n\r\n");
        assert!(matches!(r.next_item(), Err(Error::Malformed { .. })));
    }

    proptest! {
        /// Any split of a valid stream yields the same items; any bytes at
        /// all yield items or an error, never a panic or a hang.
        #[test]
        fn any_split_same_items(cut in 0usize..80, junk in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut wire = OK.to_vec();
            wire.extend_from_slice(&[b'$', 0, 0, 2, 1, 2]);
            let cut = cut.min(wire.len());
            let mut r = MessageReader::new();
            let mut seen = 0;
            for part in [&wire[..cut], &wire[cut..]] {
                feed(&mut r, part);
                while let Some(item) = r.next_item().unwrap() {
                    match (seen, item) {
                        (0, Item::Response(_)) | (1, Item::Data { channel: 0, .. }) => seen += 1,
                        (_, other) => panic!("unexpected {other:?}"),
                    }
                }
            }
            prop_assert_eq!(seen, 2);

            let mut r = MessageReader::new();
            for chunk in junk.chunks(7) {
                feed(&mut r, chunk);
                let mut n = 0;
                while let Ok(Some(_)) = r.next_item() {
                    n += 1;
                    prop_assert!(n < 1000);
                }
            }
        }
    }
}
