//! Any bytes as what an RTSP client sends the server: cut into messages
//! (requests, `$`-framed interleaved data) as the connection does, each
//! request parsed, and its Authorization checked by Digest. None of it
//! may panic, a message never claims more bytes than it was given, and
//! the cut always moves forward.
#![no_main]

use framecast_rtsp::digest::DigestAuth;
use framecast_rtsp::server::head::{frame, headers, method_name, parse_request, Incoming};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let auth = DigestAuth::new("alice", "s3cret");
    let mut rest = data;
    while let Ok(Some((message, used))) = frame(rest) {
        assert!(used > 0 && used <= rest.len(), "cut {used} of {}", rest.len());
        if let Incoming::Request(bytes) = message {
            if let Ok(request) = parse_request(bytes) {
                if let Some(a) = request.header(&headers::AUTHORIZATION) {
                    let _ = auth.verify(method_name(request.method()), a.as_str());
                }
            }
        }
        rest = &rest[used..];
    }
});
