//! The `framecast` binary: `launch` and `inspect`, run as a user would.

mod common;
use common::{framecast, wait, TIMEOUT};

use framecast_test_support::files;
use framecast_test_support::signals::interrupt;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn temp_path(name: &str) -> PathBuf {
    files::temp_path("framecast-cli", name)
}

fn pattern(len: usize) -> Vec<u8> {
    files::pattern(0x9e37_79b9, len)
}

struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

fn reader(mut from: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = from.read_to_end(&mut out);
        out
    })
}

/// Runs `framecast args...` with `stdin` written to its standard input.
fn run(args: &[&str], stdin: Option<Vec<u8>>) -> Output {
    let mut child = framecast()
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn framecast");
    let writer = stdin.map(|data| {
        let mut pipe = child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let stdout = reader(child.stdout.take().expect("stdout"));
    let stderr = reader(child.stderr.take().expect("stderr"));
    let status = wait(&mut child);
    if let Some(w) = writer {
        let _ = w.join();
    }
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned(),
    }
}

#[test]
fn launch_copies_a_file_exactly() {
    let input = temp_path("copy-in.bin");
    let output = temp_path("copy-out.bin");
    let data = pattern(300_001);
    std::fs::write(&input, &data).unwrap();
    let in_arg = format!("location={}", input.display());
    let out_arg = format!("location={}", output.display());
    // The pipeline as several arguments, joined as gst-launch joins them.
    let out = run(
        &[
            "launch",
            "filesrc",
            &in_arg,
            "blocksize=7000",
            "!",
            "filesink",
            &out_arg,
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains("Got EOS from pipeline"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&output).unwrap(), data);
}

#[test]
fn launch_parses_raw_frames_from_stdin() {
    // Ten 64x32 BGR frames and a partial eleventh, as OpenCV would write them.
    let frame = 64 * 32 * 3;
    let data = pattern(frame * 10 + 100);
    let out = run(
        &[
            "launch",
            "-v",
            "fdsrc fd=0 ! rawvideoparse format=bgr width=64 height=32 framerate=30/1 ! fakesink",
        ],
        Some(data),
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stderr.contains("Got EOS"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("caps = video/x-raw,format=BGR,width=64,height=32,framerate=30/1"),
        "-v prints negotiated caps: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("WARNING: from element rawvideoparse")
            && out.stderr.contains("100 of 6144 bytes"),
        "{}",
        out.stderr
    );
}

#[test]
fn launch_writes_to_stdout_with_fdsink() {
    let input = temp_path("stdout-in.bin");
    let data = pattern(50_000);
    std::fs::write(&input, &data).unwrap();
    let out = run(
        &[
            "launch",
            &format!("filesrc location={} ! fdsink", input.display()),
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(
        out.stdout, data,
        "status went to stdout, or bytes were lost"
    );
}

#[test]
fn a_bad_pipeline_exits_non_zero_with_a_caret() {
    let out = run(&["launch", "filesrc ! fakesnk"], None);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("no element \"fakesnk\"")
            && out.stderr.contains("did you mean \"fakesink\"?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("  filesrc ! fakesnk\n            ^^^^^^^"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_runtime_error_is_printed_with_the_element_name() {
    let missing = temp_path("missing/none.bin");
    let out = run(
        &[
            "launch",
            &format!(
                "filesrc name=reader location={} ! fakesink",
                missing.display()
            ),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("ERROR: from element reader:") && out.stderr.contains("none.bin"),
        "{}",
        out.stderr
    );
    // A stream error after starting: caps the filter refuses.
    let out = run(
        &[
            "launch",
            "fdsrc ! rawvideoparse name=parse format=gray8 width=4 height=4 ! video/x-raw,format=I420 ! fakesink",
        ],
        Some(vec![0; 64]),
    );
    assert!(!out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains("ERROR: from element "),
        "{}",
        out.stderr
    );
}

#[test]
fn eos_on_shutdown_drains_the_pipeline() {
    let output = temp_path("eos.bin");
    let mut child = framecast()
        .args([
            "launch",
            "-e",
            &format!(
                "fdsrc ! queue ! filesink buffer-size=0 location={}",
                output.display()
            ),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn framecast");
    let stderr = reader(child.stderr.take().expect("stderr"));
    // Keep stdin open: without the interrupt, the pipeline never ends.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&[7u8; 1000]).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while std::fs::metadata(&output).map_or(0, |m| m.len()) < 1000 {
        assert!(Instant::now() < deadline, "the data never reached the file");
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(child.id());
    let status = wait(&mut child);
    drop(stdin);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("Forcing EOS"), "{stderr}");
    assert!(stderr.contains("Got EOS from pipeline"), "{stderr}");
    assert_eq!(std::fs::read(&output).unwrap(), vec![7u8; 1000]);
}

#[test]
fn an_interrupt_without_e_stops_a_blocked_source() {
    let mut child = framecast()
        .args(["launch", "fdsrc ! fakesink"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn framecast");
    // Read stderr line by line: the Ctrl-C handler is in place once the
    // pipeline is being set to Playing.
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let stdin = child.stdin.take().expect("stdin");
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("Setting pipeline to PLAYING"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("framecast never started playing ({e}): {seen:?}");
            }
        }
    }
    // The source is (or soon will be) blocked reading the silent stdin.
    std::thread::sleep(Duration::from_millis(200));
    interrupt(child.id());
    let status = wait(&mut child);
    drop(stdin);
    let _ = stderr.join();
    seen.extend(lines.try_iter());
    let stderr = seen.join("\n");
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("Interrupt: Stopping pipeline"), "{stderr}");
}

#[test]
fn inspect_lists_the_elements() {
    let out = run(&["inspect"], None);
    assert!(out.status.success(), "{}", out.stderr);
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "tee",
        "capsfilter",
        "fakesink",
        "filesrc",
        "filesink",
        "fdsrc",
        "fdsink",
        "rawvideoparse",
        "queue",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("Source/File"), "klass column: {text}");
    assert!(
        text.contains("1-to-N pipe fitting"),
        "description column: {text}"
    );
}

#[test]
fn inspect_describes_one_element() {
    let out = run(&["inspect", "rawvideoparse"], None);
    assert!(out.status.success(), "{}", out.stderr);
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "Klass                    Codec/Parser/Video",
        "SRC template: 'src'",
        "format: { I420, NV12, RGB, BGR, RGBA, BGRA, RGBx, BGRx, GRAY8 }",
        "width: [ 1, 2147483647 ]",
        "Integer in [0, 2147483647]. Default: 320",
        "Fraction (e.g. 30/1). Default: 25/1",
        "(3): bgr",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    let out = run(&["inspect", "tee"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("SRC template: 'src_%u'\n    Availability: On request"),
        "{text}"
    );
    assert!(text.contains("allow-not-linked"), "{text}");

    let out = run(&["inspect", "fakesnk"], None);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("did you mean \"fakesink\"?"),
        "{}",
        out.stderr
    );
}
