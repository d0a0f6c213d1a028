//! A WHEP PATCH body on arbitrary bytes: the trickle-ICE fragment parser
//! (and str0m's candidate parser under it) must never panic.
//!
//! `cargo +nightly fuzz run trickle_fragment` in crates/framecast-webrtc.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        framecast_webrtc::fuzzing::trickle_fragment(text);
    }
});
