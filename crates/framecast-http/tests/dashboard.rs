//! The dashboard against real sockets and a real browser: a program that
//! leaks buffers on purpose shows the leaking site growing in
//! `/api/objects`, the checkpoint diff names it, `/metrics` and the event
//! stream carry the numbers, 10 000 live objects stay one row per site,
//! and headless Chromium fills the page's tables and sees the live count
//! change.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use framecast_core::sync::MutexExt;
use framecast_core::{Buffer, BufferPool, PoolConfig};
use framecast_http::dashboard::Dashboard;
use framecast_http::{HttpConfig, HttpServer};
use framecast_test_support::{browser::Browser, http};
use serde_json::Value;

/// What the tests leak on purpose: kept for the process, never freed.
static LEAKED: Mutex<Vec<Buffer>> = Mutex::new(Vec::new());

/// Held by the tests that take checkpoints: a checkpoint taken by one in
/// the middle of another's would split its diff.
static CHECKPOINTS: Mutex<()> = Mutex::new(());

/// Leaks `n` buffers, all made at this one site.
fn leak(n: usize) {
    let mut kept = LEAKED.locked();
    for _ in 0..n {
        kept.push(Buffer::with_size(64).unwrap());
    }
}

/// The `Buffer` group made by [`leak`] in an `/api/objects` answer.
fn leaking_group(objects: &Value) -> Option<Value> {
    objects["groups"]
        .as_array()?
        .iter()
        .find(|g| {
            g["type"] == "Buffer"
                && g["site"]
                    .as_str()
                    .is_some_and(|s| s.contains("dashboard.rs"))
        })
        .cloned()
}

fn dashboard(token: Option<&str>) -> (Dashboard, Arc<HttpServer>) {
    let config = HttpConfig {
        token: token.map(str::to_string),
        ..HttpConfig::default()
    };
    let d = Dashboard::start("127.0.0.1:0".parse().unwrap(), config).unwrap();
    let s = d.server().clone();
    (d, s)
}

#[test]
fn a_leaking_site_grows_in_api_objects_and_the_checkpoint_names_it() {
    let (_d, s) = dashboard(None);
    let a = s.local_addr();
    leak(10);
    let before = http::get(a, "/api/objects").json();
    let c1 = leaking_group(&before).expect("the leaking site is listed")["count"]
        .as_u64()
        .unwrap();
    assert!(before["total"].as_u64().unwrap() >= c1);
    leak(25);
    let after = http::get(a, "/api/objects").json();
    let c2 = leaking_group(&after).unwrap()["count"].as_u64().unwrap();
    assert!(c2 >= c1 + 25, "{c1} then {c2}");
    assert!(after["types"]["Buffer"].as_u64().unwrap() >= c2);

    let _one = CHECKPOINTS.locked();
    // The first checkpoint starts tracking (or, if another test started
    // it, gives a diff to discard); the next names what leaked meanwhile.
    assert_eq!(
        http::get(a, "/api/checkpoint").status,
        405,
        "GET does not checkpoint"
    );
    let first = http::request(a, "POST", "/api/checkpoint", &[], &[]);
    assert_eq!(first.status, 200, "{}", first.text());
    leak(7);
    let diff = http::request(a, "POST", "/api/checkpoint", &[], &[]).json();
    assert_eq!(diff["started"], false, "{diff}");
    let named = diff["created_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["type"] == "Buffer" && g["site"].as_str().unwrap().contains("dashboard.rs"))
        .unwrap_or_else(|| panic!("the leaking site is not in {diff}"));
    assert!(named["count"].as_u64().unwrap() >= 7, "{named}");
}

#[test]
fn metrics_events_and_the_token_guard() {
    let (_d, s) = dashboard(Some("dash-token"));
    let a = s.local_addr();
    leak(3);
    assert_eq!(http::get(a, "/").status, 401);
    assert_eq!(http::get(a, "/metrics").status, 401);
    let auth = [("Authorization", "Bearer dash-token")];
    let m = http::request(a, "GET", "/metrics", &auth, &[]);
    assert_eq!(m.status, 200);
    let text = m.text();
    assert!(
        text.contains("# TYPE framecast_live_objects gauge"),
        "{text}"
    );
    assert!(
        text.contains("framecast_objects_alive{type=\"Buffer\"}"),
        "{text}"
    );
    let page = http::request(a, "GET", "/", &auth, &[]);
    assert!(page.text().contains("framecast dashboard"));
    let stats = http::get(a, "/api/stats?access_token=dash-token").json();
    assert!(stats["live_objects"].as_u64().unwrap() > 0, "{stats}");
    let mut events = http::Stream::open(a, "/api/events?access_token=dash-token");
    assert_eq!(
        events.head.header("content-type"),
        Some("text/event-stream")
    );
    let t = Instant::now();
    assert_eq!(events.read_until_count(b"event: update\n", 2), 2);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "two events took {:?}",
        t.elapsed()
    );
    let text = String::from_utf8_lossy(&events.pending).into_owned();
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let ev: Value = serde_json::from_str(data).unwrap();
    assert!(ev["objects"]["total"].as_u64().unwrap() > 0);
}

/// This pool's row in an `/api/stats` answer.
fn pool_row(stats: &Value, pool: &BufferPool) -> Value {
    stats["pools"]
        .as_array()
        .expect("/api/stats lists pools")
        .iter()
        .find(|p| p["pool"] == pool.id().get())
        .cloned()
        .unwrap_or_else(|| panic!("pool {} is not in {stats}", pool.id().get()))
}

#[test]
fn pools_show_in_use_free_max_and_discards_by_reason() {
    let (_d, s) = dashboard(None);
    let a = s.local_addr();
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(64, 0, 4)).unwrap();
    pool.set_active(true).unwrap();
    // One returned whole (free), one out (in use), one discarded because
    // its memory was shared, one because its memory was removed.
    let shared = pool.acquire().unwrap();
    let kept = shared.memory(0).unwrap().clone();
    drop(shared);
    let mut changed = pool.acquire().unwrap();
    changed.get_mut().unwrap().remove_all_memory();
    drop(changed);
    let (free, out) = (pool.acquire().unwrap(), pool.acquire().unwrap());
    drop(free);

    let row = pool_row(&http::get(a, "/api/stats").json(), &pool);
    assert_eq!(
        (&row["in_use"], &row["free"], &row["max"], &row["size"]),
        (
            &Value::from(1),
            &Value::from(1),
            &Value::from(4),
            &Value::from(64)
        ),
        "{row}"
    );
    assert_eq!(row["discarded"]["memory_shared"], 1, "{row}");
    assert_eq!(row["discarded"]["memory_changed"], 1, "{row}");
    assert!(
        row["site"].as_str().unwrap().contains("dashboard.rs"),
        "{row}"
    );

    let text = http::get(a, "/metrics").text();
    let id = pool.id().get();
    let sample = |name: &str, extra: &str| {
        let prefix = format!("{name}{{pool=\"{id}\",");
        text.lines()
            .find(|l| l.starts_with(&prefix) && l.contains(extra))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} {extra} for pool {id} in {text}"))
    };
    assert_eq!(sample("framecast_pool_in_use", ""), 1.0);
    assert_eq!(sample("framecast_pool_free", ""), 1.0);
    assert_eq!(sample("framecast_pool_max", ""), 4.0);
    let discarded = "framecast_pool_discarded_total";
    assert_eq!(sample(discarded, "reason=\"memory_shared\""), 1.0);
    assert_eq!(sample(discarded, "reason=\"memory_changed\""), 1.0);
    assert!(text.contains("# TYPE framecast_pool_discarded_total counter"));

    // A pool dropped (with nothing out) leaves the list.
    drop((out, kept));
    let gone = pool.id().get();
    drop(pool);
    let stats = http::get(a, "/api/stats").json();
    assert!(
        !stats["pools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pool"] == gone),
        "{stats}"
    );
}

#[test]
fn ten_thousand_live_objects_are_one_row_per_site() {
    let (_d, s) = dashboard(None);
    leak(10_000);
    let t = Instant::now();
    let r = http::get(s.local_addr(), "/api/objects");
    let took = t.elapsed();
    let o = r.json();
    assert!(o["total"].as_u64().unwrap() >= 10_000);
    assert!(o["groups"].as_array().unwrap().len() <= 50);
    assert!(leaking_group(&o).unwrap()["count"].as_u64().unwrap() >= 10_000);
    assert!(r.body.len() < 64 * 1024, "{} bytes", r.body.len());
    // Loose: a loaded 2-core machine, a debug build.
    assert!(took < Duration::from_secs(5), "/api/objects took {took:?}");
}

#[test]
fn chromium_shows_the_tables_and_a_live_count() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (d, _s) = dashboard(None);
    leak(5);
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(64, 0, 3)).unwrap();
    pool.set_active(true).unwrap();
    let _out = pool.acquire().unwrap();
    browser.goto(&d.url());
    let rows = browser.wait_for(
        "const n = document.querySelectorAll('#groups tbody tr').length; return n > 0 ? n : null",
        10.0,
    );
    assert!(rows.as_u64().unwrap_or(0) > 0, "no group rows: {rows}");
    let types = browser.run_js("return document.querySelectorAll('#types tbody tr').length");
    assert!(types.as_u64().unwrap() > 0);
    // The pool's row: in use 1, free 0, max 3.
    let pool_cells = browser.wait_for(
        "const r = [...document.querySelectorAll('#pools tbody tr')].find(r => r.cells[3] && r.cells[3].textContent === '3'); \
         return r ? [...r.cells].slice(1, 4).map(c => c.textContent).join(' ') : null",
        10.0,
    );
    assert_eq!(pool_cells, "1 0 3");
    let first = browser
        .wait_for("const t = document.getElementById('live-count').textContent; return /^[0-9]+$/.test(t) ? t : null", 10.0);
    let first: u64 = first.as_str().unwrap().parse().unwrap();
    leak(40);
    let script = format!(
        "const n = +document.getElementById('live-count').textContent; return n >= {} ? n : null",
        first + 40
    );
    let later = browser.wait_for(&script, 10.0);
    assert!(later.as_u64().is_some(), "the live count stayed at {first}");
    assert_eq!(
        browser.run_js("return document.getElementById('conn').textContent"),
        "live"
    );
    // The checkpoint button: once to start, once for the diff naming the site.
    let _one = CHECKPOINTS.locked();
    browser.run_js("document.getElementById('checkpoint-btn').click()");
    browser.wait_for("return /tracking|created/.test(document.getElementById('checkpoint-status').textContent) || null", 5.0);
    leak(3);
    browser.run_js("document.getElementById('checkpoint-btn').click()");
    let named = browser.wait_for(
        "return [...document.querySelectorAll('#checkpoint tbody td.site')].some(td => td.textContent.includes('dashboard.rs')) || null",
        5.0,
    );
    assert_eq!(
        named, true,
        "the checkpoint table does not name the leaking site"
    );
    // Responsive with the page open: a script round trip stays short.
    let t = Instant::now();
    browser.run_js("return document.title");
    assert!(t.elapsed() < Duration::from_secs(2));
}
