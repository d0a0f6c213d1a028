//! `rtspserversink` serving JPEG (RFC 2435, payload type 26): ffmpeg over
//! UDP and TCP, GStreamer's `rtspsrc ! rtpjpegdepay ! jpegdec` and
//! framecast's own `Receiver` watch one stream together and decode it,
//! every frame checked by its counter stamp; DESCRIBE names the payload
//! format.

use framecast_test_support::interop::tool_available;
use framecast_test_support::rtsp_viewers::{
    describe, serve_encoded, watch_together, Media, UNICAST_VIEWERS,
};

use framecast::State;

#[test]
fn describe_announces_jpeg_on_payload_type_26() {
    let (p, url) = serve_encoded("jpegenc", "");
    let sdp = describe(&url);
    assert!(sdp.starts_with("RTSP/1.0 200"), "{sdp}");
    assert!(sdp.contains("m=video 0 RTP/AVP 26"), "{sdp}");
    assert!(sdp.contains("a=rtpmap:26 JPEG/90000"), "{sdp}");
    assert!(sdp.contains("a=control:stream=0"), "{sdp}");
    p.set_state(State::Null).unwrap();
}

#[test]
fn ffmpeg_gstreamer_and_framecast_decode_jpeg_over_udp_and_tcp() {
    if !(tool_available("ffmpeg") && tool_available("gst-launch-1.0")) {
        return;
    }
    let (p, url) = serve_encoded("jpegenc", "");
    watch_together(&url, &UNICAST_VIEWERS, Media::Jpeg, 30);
    p.set_state(State::Null).unwrap();
}
