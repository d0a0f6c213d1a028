//! Headless Chromium for the browser tests: Debian's `chromium` driven by
//! `/usr/bin/chromedriver` through a small WebDriver (W3C) client over
//! [`crate::http`] — no Selenium, no browser download, nothing but the
//! two Debian packages (`chromium chromium-driver`, which .ci/run
//! installs).
//!
//! ```no_run
//! use framecast_test_support::browser::Browser;
//! let Some(b) = Browser::start() else { return }; // skipped with a message
//! b.goto("http://127.0.0.1:8080/");
//! let rows = b.wait_for("return document.querySelectorAll('tr').length || null", 5.0);
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http;
use crate::interop::{required, KillOnDrop};

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromedriver (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The flags every test browser runs with: headless, no sandbox (root in
/// CI), no GPU, no QUIC, nothing fetched in the background, media plays
/// without a gesture.
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
];

/// One headless Chromium with its chromedriver; both end when it drops.
pub struct Browser {
    driver: SocketAddr,
    session: String,
    profile: PathBuf,
    _child: KillOnDrop,
}

impl Browser {
    /// Starts a browser with a fresh profile, or `None` (a skip with a
    /// message; a failure under `FRAMECAST_REQUIRE_INTEROP=1`) when Chromium
    /// or chromedriver is missing.
    pub fn start() -> Option<Browser> {
        Browser::start_with(&[])
    }

    /// [`Browser::start`] with `extra` flags beyond [`FLAGS`] (the WebRTC
    /// tests add a fake camera: Chromium shows `decoderImplementation` in
    /// `getStats()` only to a page that captures).
    pub fn start_with(extra: &[&str]) -> Option<Browser> {
        let have =
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
        if !required(have, "chromium and chromium-driver are not installed") {
            return None;
        }
        let port = crate::ports::free_tcp_port();
        let child = KillOnDrop(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {CHROMEDRIVER}: {e}")),
        );
        let driver: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(driver).is_ok()
                && http::get(driver, "/status").json()["value"]["ready"] == true
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let profile = std::env::temp_dir().join(format!(
            "framecast-chromium-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        let mut args: Vec<String> = FLAGS.iter().chain(extra).map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let mut b = Browser {
            driver,
            session: String::new(),
            profile,
            _child: child,
        };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        Some(b)
    }

    /// One WebDriver command; its `value` (panics on a WebDriver error).
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r = http::request(
            self.driver,
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let v = r.json();
        assert!(r.status == 200, "WebDriver {method} {path}: {}", r.text());
        v["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url` in the current tab (returns once it has loaded).
    pub fn goto(&self, url: &str) {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({"url": url})),
        );
    }

    /// Runs `script` (a function body: `return ...`) in the page and returns
    /// its value.
    pub fn run_js(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Runs `script` until it returns something other than `null`/`false`
    /// (polled every 100 ms, at most `seconds`); that value, or `Null`.
    pub fn wait_for(&self, script: &str, seconds: f64) -> Value {
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        loop {
            let v = self.run_js(script);
            if !(v.is_null() || v == false) || Instant::now() > deadline {
                return v;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens a new tab and switches to it; returns its handle.
    pub fn new_tab(&self) -> String {
        let v = self.call(
            "POST",
            &self.session_path("/window/new"),
            Some(json!({"type": "tab"})),
        );
        let handle = v["handle"].as_str().expect("a window handle").to_string();
        self.switch_to(&handle);
        handle
    }

    /// Switches to the tab `handle`.
    pub fn switch_to(&self, handle: &str) {
        self.call(
            "POST",
            &self.session_path("/window"),
            Some(json!({"handle": handle})),
        );
    }

    /// The current tab's handle.
    pub fn tab(&self) -> String {
        self.call("GET", &self.session_path("/window"), None)
            .as_str()
            .expect("a window handle")
            .to_string()
    }

    /// Closes the current tab (switch to another before the next command).
    pub fn close_tab(&self) {
        self.call("DELETE", &self.session_path("/window"), None);
    }

    /// A PNG screenshot of the current tab, base64 as WebDriver sends it.
    pub fn screenshot_base64(&self) -> String {
        self.call("GET", &self.session_path("/screenshot"), None)
            .as_str()
            .expect("a screenshot")
            .to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Ends Chromium; chromedriver is killed after.
            let _ = http::request(
                self.driver,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                &[],
            );
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
