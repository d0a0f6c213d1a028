//! Sends an H.264 Annex B file over RTP to 127.0.0.1 and writes its SDP,
//! so that ffplay, FFmpeg, VLC or GStreamer can check what we send:
//!
//! ```text
//! cargo run -p framecast-rtp --example send_h264 -- testdata/gst_h264_176x144.h264 5020 > /tmp/fc.sdp
//! ffmpeg -protocol_whitelist file,udp,rtp -i /tmp/fc.sdp -f framemd5 -   # started first
//! ```
//!
//! Access units are found as H.264 §7.4.1.2.3 says (a new one starts at an
//! AUD, SPS, PPS, SEI, or a slice with `first_mb_in_slice == 0` after a
//! slice); they are paced at 30 fps.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use framecast_rtp::{
    access_units, H264Payloader, H264PayloaderConfig, NalUnits, PacketSource, RtpClock,
    SessionDescription,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: send_h264 FILE.h264 PORT [DELAY_MS]")?;
    let port: u16 = args.next().ok_or("missing PORT")?.parse()?;
    let delay_ms: u64 = args.next().map_or(Ok(1000), |d| d.parse())?;
    let es = std::fs::read(path)?;

    let aus = access_units(&es);

    let mut pay = H264Payloader::new(H264PayloaderConfig {
        ssrc: 0x4652_4d43,
        initial_sequence_number: 1000,
        ..Default::default()
    })?;
    // Learn SPS/PPS for the SDP from the first access unit.
    let mut slot = vec![0u8; pay.config().mtu];
    let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
    {
        let mut probe = H264Payloader::new(H264PayloaderConfig::default())?;
        probe.packetize(NalUnits::List(&aus[0]), 0)?;
        let sdp = SessionDescription::h264(local, port, 96, probe.parameter_sets(), Some(30.0));
        print!("{sdp}");
    }
    std::thread::sleep(Duration::from_millis(delay_ms)); // let the receiver start

    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let clock = RtpClock::video(0x1234_5678);
    let start = Instant::now();
    for (i, au) in aus.iter().enumerate() {
        let t = Duration::from_nanos(i as u64 * 1_000_000_000 / 30);
        if let Some(wait) = t.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let mut pk = pay.packetize(NalUnits::List(au), clock.to_rtp(t))?;
        while let Some(m) = pk.next_into(&mut slot)? {
            sock.send_to(&slot[..m.len], (Ipv4Addr::LOCALHOST, port))?;
        }
    }
    eprintln!("sent {} access units", aus.len());
    Ok(())
}
