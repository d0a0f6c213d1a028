//! What an RTSP server sends a client (responses, requests, interleaved
//! `$` frames), fed to `MessageReader` in chunks whose sizes come from the
//! input too: any bytes give items or an error, never a panic, a hang or
//! a buffer past its cap.
#![no_main]

use framecast_rtsp::client::{Item, MessageReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut reader = MessageReader::new();
    for part in rest.chunks(chunk) {
        let spare = reader.spare();
        let n = part.len().min(spare.len());
        spare[..n].copy_from_slice(&part[..n]);
        reader.filled(n);
        loop {
            match reader.next_item() {
                Ok(Some(Item::Data { payload, .. })) => assert!(payload.len() <= 65535),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
