//! Files and bytes for the tests that write and read files.

use std::path::PathBuf;

/// A path `name` in this test process's own folder of the temp dir
/// (`<temp>/<prefix>-<pid>`, made if missing), so that test binaries run
/// at the same time do not share files.
pub fn temp_path(prefix: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// `len` deterministic bytes from `seed` (xorshift32's top bytes) that do
/// not repeat with a short period: a file content a cut, a repeat or a
/// reordering shows up in.
pub fn pattern(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}
