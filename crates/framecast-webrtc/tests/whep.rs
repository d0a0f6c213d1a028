//! WHEP sessions against a real WebRTC peer (str0m's full ICE agent and
//! DTLS client over 127.0.0.1): the answer's headers, H.264 access units
//! arriving unchanged, PLI → a keyframe request upstream, DELETE, and the
//! error statuses.

mod peer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use framecast_webrtc::whep::{Whep, WhepRequest, WhepResponse};
use framecast_webrtc::{StreamConfig, StreamHooks, WebrtcStream};
use peer::Peer;

/// An access unit: SPS, PPS and an IDR (big enough for FU-A) when `idr`,
/// else one non-IDR slice; `n` marks it.
fn access_unit(n: u8, idr: bool) -> Vec<u8> {
    let mut au = Vec::new();
    if idr {
        au.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40]);
        au.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
        au.extend_from_slice(&[0, 0, 0, 1, 0x65, n]);
        au.extend((0..5000u32).map(|i| (i % 251) as u8 | 1));
    } else {
        au.extend_from_slice(&[0, 0, 0, 1, 0x41, n]);
        au.extend((0..300u32).map(|i| (i % 199) as u8 | 1));
    }
    au
}

fn post(whep: &Whep, sdp: &str) -> WhepResponse {
    whep.handle(&WhepRequest {
        method: "POST",
        session: None,
        content_type: Some("application/sdp"),
        if_match: None,
        body: sdp.as_bytes(),
    })
}

fn request<'a>(
    method: &'a str,
    session: &'a str,
    ctype: &'a str,
    body: &'a [u8],
) -> WhepRequest<'a> {
    WhepRequest {
        method,
        session: Some(session),
        content_type: Some(ctype),
        if_match: None,
        body,
    }
}

fn start(max_sessions: usize) -> (Arc<WebrtcStream>, Whep, Arc<AtomicU64>) {
    let keyframes = Arc::new(AtomicU64::new(0));
    let k = Arc::clone(&keyframes);
    let config = StreamConfig {
        max_sessions,
        keyframe_interval: Duration::from_millis(50),
        ..StreamConfig::default()
    };
    let hooks = StreamHooks {
        keyframe: Box::new(move || {
            k.fetch_add(1, Ordering::Relaxed);
        }),
        log: Box::new(|m| eprintln!("{m}")),
    };
    let stream = Arc::new(WebrtcStream::start(config, hooks).expect("stream"));
    let whep = Whep::new(Arc::clone(&stream), "/cam/whep");
    (stream, whep, keyframes)
}

/// How long before its send [`pump`] says a frame was captured.
const CAPTURE_AGE: Duration = Duration::from_millis(20);

/// Sends frames (an IDR every 10th and whenever asked) until `done`.
fn pump(stream: &WebrtcStream, keyframes: &AtomicU64, done: impl Fn() -> bool) {
    let mut asked = keyframes.load(Ordering::Relaxed);
    for n in 0..300u32 {
        if done() {
            return;
        }
        let now = keyframes.load(Ordering::Relaxed);
        let idr = n % 10 == 0 || now != asked;
        asked = now;
        // Captured 20 ms before it is sent (as a camera's frame is).
        let captured = std::time::SystemTime::now() - CAPTURE_AGE;
        stream.send(
            &access_unit(n as u8, idr),
            Duration::from_millis(u64::from(n) * 33),
            || Some(captured),
        );
        std::thread::sleep(Duration::from_millis(33));
    }
    panic!("the viewer did not get what it waited for in 300 frames");
}

#[test]
fn a_viewer_gets_the_access_units_unchanged_and_its_pli_asks_for_a_keyframe() {
    let (stream, whep, keyframes) = start(4);
    let mut peer = Peer::new();
    let r = post(&whep, &peer.offer);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.get("Content-Type"), Some("application/sdp"));
    let location = r.get("Location").expect("Location").to_string();
    let id = location
        .strip_prefix("/cam/whep/")
        .expect("under the endpoint")
        .to_string();
    assert_eq!(r.get("ETag"), Some(format!("\"{id}\"").as_str()));
    let answer = String::from_utf8(r.body).expect("text");
    assert!(answer.contains("a=ice-lite"), "{answer}");
    assert!(answer.contains("profile-level-id=42e01f"), "{answer}");
    assert!(answer.contains("packetization-mode=1"), "{answer}");
    peer.start(&answer);

    pump(&stream, &keyframes, || {
        peer.seen.frames.load(Ordering::Relaxed) >= 20
    });
    assert!(peer.seen.connected.load(Ordering::Relaxed));
    // Unchanged: the first one is an IDR with its SPS/PPS, byte for byte
    // (str0m's depacketizer writes 4-byte start codes, as we do).
    let data = peer.seen.data.lock().expect("lock").clone();
    let first = &data[0];
    assert_eq!(first[4] & 0x1f, 7, "starts with the SPS");
    let n = first[first.len() - 5001];
    assert_eq!(
        first,
        &access_unit(n, true),
        "the first access unit, unchanged"
    );
    let viewers = stream.viewers();
    assert_eq!(viewers.len(), 1);
    assert!(
        viewers[0].connected && viewers[0].frames_sent >= 20,
        "{viewers:?}"
    );
    assert!(viewers[0].remote.is_some());
    // Each frame's capture time came in abs-capture-time (the peer offered
    // it): 20 ms before the send, so at least that before its arrival.
    let captures = peer.seen.captures.lock().expect("lock").clone();
    assert!(
        captures.len() >= 10,
        "{} frames with abs-capture-time",
        captures.len()
    );
    for (captured, arrived) in &captures {
        let age = arrived
            .duration_since(*captured)
            .expect("captured before it arrived");
        assert!(
            age >= CAPTURE_AGE - Duration::from_millis(1) && age < Duration::from_secs(1),
            "captured {age:?} before it arrived"
        );
    }
    // The viewer's latency reports: recorded per viewer and for the
    // stream; a bad one refused whole; none for a session not there.
    let report = |id: &str, method: &'static str, body: &[u8]| {
        let path = format!("{id}/latency");
        whep.handle(&WhepRequest {
            method,
            session: Some(&path),
            content_type: Some("text/plain"),
            if_match: None,
            body,
        })
        .status
    };
    assert_eq!(report(&id, "POST", b"arrival 8.5 9 7.5"), 204);
    assert_eq!(report(&id, "POST", b"capture 30 31"), 204);
    assert_eq!(report(&id, "POST", b"arrival 30 oops"), 400);
    assert_eq!(report(&id, "POST", b"30 31"), 400, "no kind");
    assert_eq!(report(&id, "POST", &[b' '; 5000]), 413);
    assert_eq!(report(&id, "GET", b""), 405);
    assert_eq!(report("0000000000000000", "POST", b"arrival 12"), 404);
    let viewer = &stream.viewers()[0];
    let display = viewer.display.expect("the arrival reports");
    let glass = viewer.glass.expect("the capture reports");
    assert_eq!((display.count, glass.count), (3, 2));
    assert!(
        (display.p50.as_secs_f64() * 1e3 - 8.5).abs() < 0.5,
        "{display:?}"
    );
    assert!(glass.min >= Duration::from_millis(29), "{glass:?}");
    use framecast_webrtc::latency_report::Measured;
    assert_eq!(stream.viewer_latency(Measured::ArrivalToDisplay).count, 3);
    assert_eq!(stream.viewer_latency(Measured::CaptureToDisplay).count, 2);
    assert!(
        keyframes.load(Ordering::Relaxed) >= 1,
        "connecting asked for a keyframe"
    );

    // A PLI from the viewer becomes a keyframe request upstream.
    let before = keyframes.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(60));
    peer.seen.pli_wanted.store(true, Ordering::Relaxed);
    let frames = peer.seen.frames.load(Ordering::Relaxed);
    pump(&stream, &keyframes, || {
        keyframes.load(Ordering::Relaxed) > before
            && peer.seen.frames.load(Ordering::Relaxed) > frames + 5
    });
    // str0m reports the PLI in its next stats event (each second).
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while stream.viewers()[0].plis == 0 {
        assert!(std::time::Instant::now() < until, "the PLI is not counted");
        stream.send(&access_unit(0, false), Duration::ZERO, || None);
        std::thread::sleep(Duration::from_millis(50));
    }

    // Trickle: a candidate added, If-Match checked, a restart refused.
    let frag = b"a=ice-ufrag:nope\r\na=ice-pwd:x\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n";
    let r = whep.handle(&request(
        "PATCH",
        &id,
        "application/trickle-ice-sdpfrag",
        frag,
    ));
    assert_eq!(r.status, 422, "another ufrag is an ICE restart");
    let frag = b"a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n";
    let mut req = request("PATCH", &id, "application/trickle-ice-sdpfrag", frag);
    req.if_match = Some("\"other\"");
    assert_eq!(whep.handle(&req).status, 412);
    req.if_match = Some(r#"*"#);
    assert_eq!(whep.handle(&req).status, 204);
    let r = whep.handle(&request(
        "PATCH",
        &id,
        "application/trickle-ice-sdpfrag",
        b"junk",
    ));
    assert_eq!(r.status, 400);

    // DELETE ends it.
    assert_eq!(whep.handle(&request("DELETE", &id, "", b"")).status, 200);
    assert!(stream.viewers().is_empty());
    assert_eq!(whep.handle(&request("DELETE", &id, "", b"")).status, 404);
}

#[test]
fn bad_offers_get_clear_statuses() {
    let (stream, whep, _) = start(1);
    let peer = Peer::new();
    for bad in [
        "",
        "hello",
        "v=0\r\nm=video",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
    ] {
        let r = post(&whep, bad);
        assert_eq!(
            r.status,
            400,
            "{bad:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(!r.body.is_empty());
    }
    let audio_only = peer.offer.replace("m=video", "m=audio");
    assert_eq!(post(&whep, &audio_only).status, 400);
    let mut req = request("POST", "x", "text/plain", peer.offer.as_bytes());
    req.session = None;
    assert_eq!(whep.handle(&req).status, 415);
    let options = whep.handle(&WhepRequest {
        method: "OPTIONS",
        session: None,
        content_type: None,
        if_match: None,
        body: b"",
    });
    assert_eq!(options.status, 204);
    assert_eq!(options.get("Accept-Post"), Some("application/sdp"));
    // The limit: one session, the second gets 503.
    assert_eq!(post(&whep, &peer.offer).status, 201);
    let other = Peer::new();
    let r = post(&whep, &other.offer);
    assert_eq!(r.status, 503);
    assert!(r.get("Retry-After").is_some());
    assert_eq!(stream.counters().offers_refused.load(Ordering::Relaxed), 6);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// A real offer cut short or with a byte changed anywhere is answered
    /// or refused with 400, never a panic.
    #[test]
    fn a_damaged_offer_is_answered_or_refused(cut in 0.0f64..1.0, at in 0.0f64..1.0, byte in 0u8..128) {
        use std::sync::OnceLock;
        static OFFER: OnceLock<String> = OnceLock::new();
        let offer = OFFER.get_or_init(|| Peer::new().offer.clone());
        let mut bytes = offer.as_bytes().to_vec();
        bytes.truncate((bytes.len() as f64 * cut) as usize);
        if !bytes.is_empty() {
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] = byte;
        }
        let text = String::from_utf8_lossy(&bytes);
        framecast_webrtc::fuzzing::sdp_offer(&text);
        let (_, whep, _) = start(4);
        let r = post(&whep, &text);
        proptest::prop_assert!(r.status == 201 || r.status == 400, "{}", r.status);
    }
}
