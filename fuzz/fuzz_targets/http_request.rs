//! Any bytes as an HTTP request head: a head, a need for more bytes, or an
//! error, never a panic; a parsed head never claims bytes it did not see,
//! and parses the same from the bytes it took.
#![no_main]

use framecast_http::head::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, used))) = parse(data) {
        assert!(used <= data.len());
        let (again, n) = parse(&data[..used]).expect("a parsed head parses again").expect("whole");
        assert_eq!((again, n), (head, used));
    }
});
