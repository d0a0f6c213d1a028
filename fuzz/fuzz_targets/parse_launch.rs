//! Any text as a gst-launch pipeline: `parse_launch` returns a pipeline or
//! a positioned parse error, never panics; an error's position lies inside
//! the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match framecast::parse_launch(text) {
        Ok(pipeline) => drop(pipeline),
        Err(framecast::Error::Parse { position, .. }) => assert!(position <= text.len()),
        Err(other) => panic!("not a parse error: {other:?}"),
    }
});
