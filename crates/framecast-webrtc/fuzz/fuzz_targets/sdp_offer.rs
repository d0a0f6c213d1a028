//! A WHEP POST body on arbitrary bytes: our entry into str0m's SDP offer
//! parser (with the checks we add before and after it) must never panic.
//!
//! `cargo +nightly fuzz run sdp_offer` in crates/framecast-webrtc.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        framecast_webrtc::fuzzing::sdp_offer(text);
    }
});
