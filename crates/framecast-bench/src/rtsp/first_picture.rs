//! A late viewer's first picture: the RTP packets from the first keyframe
//! on, depayloaded (framecast-rtp's RFC 6184 depayloader) and decoded
//! (OpenH264, as `openh264dec` does) until a picture comes out. What a
//! player shows first, so the late-join figure ends where the viewer's
//! wait does, not at the first packet.

use framecast::rtp::{H264Depayloader, RtpPacket};
use openh264::decoder::Decoder;

/// Depayloader and decoder of one viewer, until its first picture.
pub(crate) struct FirstPicture {
    depay: H264Depayloader,
    decoder: Decoder,
    done: bool,
}

impl FirstPicture {
    /// A decoder made before PLAY (as a player makes it after DESCRIBE).
    pub(crate) fn new() -> Result<FirstPicture, String> {
        Ok(FirstPicture {
            depay: H264Depayloader::default(),
            decoder: Decoder::new().map_err(|e| format!("openh264 decoder: {e}"))?,
            done: false,
        })
    }

    /// Takes one RTP packet (from the first keyframe packet on); whether
    /// the first picture has now been decoded.
    pub(crate) fn feed(&mut self, packet: &[u8]) -> bool {
        if self.done {
            return true;
        }
        let Ok(pkt) = RtpPacket::parse(packet) else {
            return false;
        };
        if self.depay.push(&pkt).is_err() {
            return false;
        }
        while let Some(au) = self.depay.pull() {
            if matches!(self.decoder.decode(au.data), Ok(Some(_))) {
                self.done = true;
            }
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use framecast::rtp::{H264Payloader, H264PayloaderConfig, NalUnits, PacketSource};
    use openh264::encoder::Encoder;
    use openh264::formats::YUVBuffer;

    /// An IDR encoded here, packetized, fed packet by packet: the picture
    /// comes with the last packet, not before.
    #[test]
    fn the_first_picture_comes_with_the_keyframes_last_packet() {
        let mut enc = Encoder::new().unwrap();
        let yuv = YUVBuffer::new(320, 240);
        let annexb = enc.encode(&yuv).unwrap().to_vec();
        let mut pay = H264Payloader::new(H264PayloaderConfig {
            mtu: 200,
            ..Default::default()
        })
        .unwrap();
        let mut packets = Vec::new();
        let mut iter = pay.packetize(NalUnits::AnnexB(&annexb), 0).unwrap();
        let mut buf = [0u8; 200];
        while let Ok(Some(meta)) = iter.next_into(&mut buf) {
            packets.push(buf[..meta.len].to_vec());
        }
        assert!(packets.len() > 1);
        let mut first = FirstPicture::new().unwrap();
        let (last, rest) = packets.split_last().unwrap();
        for p in rest {
            assert!(!first.feed(p));
        }
        assert!(first.feed(last));
    }
}
