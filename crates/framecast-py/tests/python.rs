//! Runs the Python tests (tests/python/) against the module cargo just
//! built, so `cargo test --workspace` covers the bindings too.
//!
//! The cdylib is copied as `framecast.so` into a scratch folder on
//! `PYTHONPATH` (what `maturin develop` would install). Without python3
//! or numpy the test says so and passes, unless `FRAMECAST_REQUIRE_INTEROP=1`
//! (as CI sets), where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn required() -> bool {
    std::env::var("FRAMECAST_REQUIRE_INTEROP").as_deref() == Ok("1")
}

/// The module cargo built for this test run: `libframecast_py.so` in
/// `deps/` (beside this test binary) or in the profile folder, whichever
/// is newer: `cargo test` leaves the cdylib in `deps/`, while an earlier
/// `cargo build` may have left an older copy in the profile folder.
fn built_module() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps folder");
    let profile = deps.parent().expect("profile folder");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    [profile, deps]
        .iter()
        .map(|dir| dir.join("libframecast_py.so"))
        .filter_map(|candidate| modified(&candidate).map(|t| (t, candidate)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, candidate)| candidate)
        .unwrap_or_else(|| {
            panic!(
                "libframecast_py.so not found in {} (cargo builds it for this test: the \
                 crate's crate-type must keep \"rlib\" beside \"cdylib\")",
                profile.display()
            )
        })
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
    // Copied under a new name and renamed over the old: a run still
    // holding the previous module mapped keeps its own file.
    let partial = dir.join(format!("framecast.so.{}", std::process::id()));
    std::fs::copy(built_module(), &partial).expect("copy the module");
    std::fs::rename(&partial, dir.join("framecast.so")).expect("install the module");
    let log_path = dir.join(format!("unittest-{}.log", std::process::id()));
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    let mut child = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(&tests)
        .env("PYTHONPATH", &dir)
        .env_remove("FRAMECAST_TRACERS")
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("run python3");
    // Bounded: a hang (a deadlock in the bindings) fails the test.
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python3") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    eprintln!("{log}");
    let status = status.unwrap_or_else(|| panic!("the Python tests ran over 300 s:\n{log}"));
    assert!(status.success(), "the Python tests failed:\n{log}");
    assert!(log.contains("\nOK"), "{log}");
}
