//! A viewer page's `POST <session>/latency` body on arbitrary bytes: the
//! report parser must never panic, and what it takes stays in bounds.
//!
//! `cargo +nightly fuzz run latency_report` in crates/framecast-webrtc.

#![no_main]

use framecast_webrtc::latency_report::{parse, MAX_MS, MAX_SAMPLES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    framecast_webrtc::fuzzing::latency_report(data);
    if let Ok(report) = parse(data) {
        assert!(report.samples.len() <= MAX_SAMPLES);
        assert!(report.samples.iter().all(|d| d.as_secs_f64() * 1e3 <= MAX_MS + 1e-6));
    }
});
