//! Runs the Python tests (tests/python/) against the module cargo just
//! built, so `cargo test --workspace` covers the bindings too.
//!
//! The cdylib is copied as `framecast.so` into a scratch folder on
//! `PYTHONPATH` (what `maturin develop` would install). Without python3
//! or numpy the test says so and passes, unless `FRAMECAST_REQUIRE_INTEROP=1`
//! (as CI sets), where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn required() -> bool {
    std::env::var("FRAMECAST_REQUIRE_INTEROP").as_deref() == Ok("1")
}

/// The module cargo built for this test run: `libframecast_py.so` in the
/// profile folder (this test binary lives in its `deps/`).
fn built_module() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps folder");
    let profile = deps.parent().expect("profile folder");
    for dir in [profile, deps] {
        let candidate = dir.join("libframecast_py.so");
        if candidate.exists() {
            return candidate;
        }
    }
    panic!(
        "libframecast_py.so not found in {} (cargo builds it for this test)",
        profile.display()
    );
}

#[test]
fn python_tests_pass() {
    let numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .status();
    if !numpy.is_ok_and(|s| s.success()) {
        assert!(
            !required(),
            "python3 with numpy is missing and FRAMECAST_REQUIRE_INTEROP=1"
        );
        eprintln!(
            "skipping: python3 with numpy not found (set FRAMECAST_REQUIRE_INTEROP=1 to fail)"
        );
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("framecast-py");
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::copy(built_module(), dir.join("framecast.so")).expect("copy the module");
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(&tests)
        .env("PYTHONPATH", &dir)
        .env_remove("FRAMECAST_TRACERS")
        .output()
        .expect("run python3");
    let log = String::from_utf8_lossy(&output.stderr);
    eprintln!("{log}");
    assert!(output.status.success(), "the Python tests failed:\n{log}");
    assert!(log.contains("OK"), "{log}");
}
