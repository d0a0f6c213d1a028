//! The browser test kit against this server: headless Chromium loads a
//! served page, runs its script, and reads values back; a CORS `fetch`
//! from the page reaches another mount.

use std::sync::Arc;

use framecast_http::{HttpConfig, HttpServer, Request, Response, RouteFn};
use framecast_test_support::browser::Browser;

const PAGE: &str = "<!doctype html><title>kit</title><body><p id=v></p><script>\
fetch('/api/n').then(r => r.text()).then(t => document.getElementById('v').textContent = t);\
</script></body>";

#[test]
fn chromium_loads_a_page_runs_its_script_and_reads_values_back() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let s = HttpServer::bind("127.0.0.1:0".parse().unwrap(), HttpConfig::default()).unwrap();
    let _page = s
        .mount("", Arc::new(RouteFn(|_: &Request| Response::html(PAGE))))
        .unwrap();
    let _api = s
        .mount(
            "api",
            Arc::new(RouteFn(|_: &Request| Response::text(200, "42"))),
        )
        .unwrap();
    browser.goto(&s.url(""));
    let got = browser.wait_for(
        "const t = document.getElementById('v').textContent; return t ? t : null",
        10.0,
    );
    assert_eq!(got.as_str().map(str::trim), Some("42"));
    assert_eq!(browser.run_js("return 6 * 7"), serde_json::json!(42));
    let first = browser.tab();
    browser.new_tab();
    browser.goto(&s.url(""));
    assert_eq!(browser.run_js("return document.title"), "kit");
    browser.close_tab();
    browser.switch_to(&first);
    assert!(browser.screenshot_base64().len() > 100);
}
