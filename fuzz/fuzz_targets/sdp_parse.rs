//! Any text as SDP; what parses must write and parse back identically.
#![no_main]

use framecast_rtp::SessionDescription;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = SessionDescription::parse(text) {
        let again = SessionDescription::parse(&s.to_string()).expect("our output parses");
        assert_eq!(again, s);
    }
});
