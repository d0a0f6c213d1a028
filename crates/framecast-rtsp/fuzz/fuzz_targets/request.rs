//! The RTSP request reader and parser on arbitrary bytes: framing
//! (requests, `$` interleaved frames, the 8 KiB head cap), parsing, and
//! Digest header parsing must never panic.
//!
//! `cargo +nightly fuzz run request` in crates/framecast-rtsp.

#![no_main]

use framecast_rtsp::digest::parse_params;
use framecast_rtsp::server::head::{frame, headers as rtsp_types_headers, parse_request, Incoming};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    // Every message the bytes hold, as a connection would read them.
    for _ in 0..64 {
        match frame(rest) {
            Ok(Some((msg, used))) => {
                assert!(used > 0 && used <= rest.len());
                if let Incoming::Request(bytes) = msg {
                    if let Ok(req) = parse_request(bytes) {
                        if let Some(a) = req.header(&rtsp_types_headers::AUTHORIZATION) {
                            let _ = parse_params(a.as_str());
                        }
                    }
                }
                rest = &rest[used..];
            }
            Ok(None) | Err(_) => break,
        }
    }
    let _ = parse_request(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_params(text);
    }
});


