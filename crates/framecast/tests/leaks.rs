//! The leaks tracer on real buffers, memories and pools: the "Tests" list of
//! the tracer issue. Tests that install a tracer hold `child::serial()`;
//! those that must end the process (`fatal=true`, `deinit`) run this binary
//! again as a child.

use framecast_test_support::child;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use framecast::trace::leaks::RefChange;
use framecast::trace::{self, LeaksConfig, LeaksTracer, Tracer};
use framecast::{Buffer, BufferPool, PoolConfig};

use child::{role, run_child, serial};

const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Installs a leaks tracer for the duration of a test.
struct Installed {
    tracer: Arc<LeaksTracer>,
}

impl Installed {
    fn new(config: LeaksConfig) -> Installed {
        let tracer = LeaksTracer::new(config).expect("leaks tracer");
        trace::add_tracer(tracer.clone());
        Installed { tracer }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        trace::remove_tracer(self.tracer.name());
    }
}

fn config(name: &str) -> LeaksConfig {
    LeaksConfig {
        name: name.to_string(),
        ..LeaksConfig::default()
    }
}

#[test]
fn intentional_leak_names_type_site_size_and_pool() {
    let _g = serial();
    let leaks = Installed::new(config("it-intentional"));

    let pool = BufferPool::new();
    let pool_line = line!() - 1;
    pool.set_config(PoolConfig::new(256, 0, 4)).unwrap();
    pool.set_active(true).unwrap();
    let pooled = pool.acquire().unwrap();
    let pooled_line = line!() - 1;
    let pooled_id = pooled.id();
    std::mem::forget(pooled);
    let pool_id = pool.id();
    drop(pool);

    let plain = Buffer::with_size(64).unwrap();
    let plain_line = line!() - 1;
    let plain_id = plain.id();
    std::mem::forget(plain);

    let report = leaks.tracer.report(true);
    assert_eq!(
        report.objects.len(),
        2,
        "one entry per leaked buffer: {report}"
    );
    let pooled = report.objects.iter().find(|o| o.id == pooled_id).unwrap();
    assert_eq!(pooled.kind.name(), "Buffer");
    assert_eq!(pooled.site.file(), file!());
    assert_eq!(pooled.site.line(), pooled_line);
    assert_eq!(pooled.bytes, 256);
    assert_eq!(pooled.pool.map(|p| p.id), Some(pool_id));
    let plain = report.objects.iter().find(|o| o.id == plain_id).unwrap();
    assert_eq!(plain.site.line(), plain_line);
    assert_eq!(plain.bytes, 64);
    assert!(plain.pool.is_none());
    assert_eq!(plain.children.len(), 1);
    assert_eq!(plain.children[0].kind.name(), "Memory");

    let text = report.to_string();
    let file = file!();
    for want in [
        "Leaks detected: 2 objects".to_string(),
        format!("1 x Buffer created at {file}:{pooled_line}:"),
        format!("1 x Buffer created at {file}:{plain_line}:"),
        "256 bytes".to_string(),
        "64 bytes".to_string(),
        format!("pool {pool_id} (created at {file}:{pool_line}:"),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn fatal_leak_exits_with_status_3() {
    if role().is_some() {
        return;
    }
    let out = run_child(
        "child_leaks_one_buffer",
        "leak",
        &[("FRAMECAST_TRACERS", "leaks(fatal=true)")],
        CHILD_TIMEOUT,
    );
    assert_eq!(out.status.code(), Some(3), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.lines().any(|l| l.starts_with("Leaks detected")),
        "stderr:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("Buffer created at {}:", file!())),
        "stderr:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("32 bytes"), "stderr:\n{}", out.stderr);

    // The same run without fatal reports but succeeds.
    let out = run_child(
        "child_leaks_one_buffer",
        "leak",
        &[("FRAMECAST_TRACERS", "leaks")],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("Leaks detected"), "{}", out.stderr);

    // And a clean run with fatal=true succeeds with `no leaks`.
    let out = run_child(
        "child_leaks_one_buffer",
        "clean",
        &[("FRAMECAST_TRACERS", "leaks(fatal=true)")],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.lines().any(|l| l.starts_with("no leaks")),
        "stderr:\n{}",
        out.stderr
    );
}

/// Child: leaks one 32-byte buffer (role `leak`) or none (role `clean`),
/// then calls `framecast::deinit()`.
#[test]
fn child_leaks_one_buffer() {
    let Some(role) = role() else { return };
    framecast::init().expect("FRAMECAST_TRACERS");
    let b = Buffer::with_size(32).unwrap();
    if role == "leak" {
        std::mem::forget(b);
    } else {
        drop(b);
    }
    framecast::deinit();
}

#[test]
fn ten_thousand_pooled_buffers_no_false_positives() {
    let _g = serial();
    let leaks = Installed::new(LeaksConfig {
        check_refs: true,
        ..config("it-no-false-positives")
    });
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(1024, 2, 8)).unwrap();
    pool.set_active(true).unwrap();
    let (tx, rx) = mpsc::sync_channel::<Buffer>(4);
    let consumer = std::thread::spawn(move || {
        let mut n = 0;
        for b in rx {
            let copy = b.clone();
            drop(b);
            drop(copy);
            n += 1;
        }
        n
    });
    for i in 0..10_000 {
        let b = pool.acquire().unwrap();
        if i % 3 == 0 {
            let extra = b.clone();
            drop(extra);
        }
        tx.send(b).unwrap();
    }
    drop(tx);
    assert_eq!(consumer.join().unwrap(), 10_000);
    // Everything returned: only the pool and its idle buffers are alive.
    let live = leaks.tracer.live_objects();
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(live[0].kind.name(), "BufferPool");
    drop(pool);
    assert_eq!(leaks.tracer.live_count(), 0);
    let report = leaks.tracer.report(true);
    assert!(report.is_clean());
    assert!(report.tracked >= 3, "{}", report.tracked);
    let text = report.to_string();
    assert!(text.starts_with("no leaks"), "{text}");
    assert!(leaks.tracer.finish());
}

#[test]
fn checkpoints_list_created_and_removed_in_order() {
    let _g = serial();
    let leaks = Installed::new(LeaksConfig {
        filters: Some(vec!["Buffer".into()]),
        ..config("it-checkpoints")
    });
    let t = &leaks.tracer;
    assert!(matches!(
        t.activity_checkpoint(),
        Err(framecast_core::Error::NotTracking)
    ));
    let before = Buffer::with_size(8).unwrap();
    t.activity_start_tracking().unwrap();

    let x = Buffer::with_size(16).unwrap();
    let x_id = x.id();
    drop(x);
    let y = Buffer::with_size(16).unwrap();

    let cp = t.activity_checkpoint().unwrap();
    let created: Vec<_> = cp.created.iter().map(|r| r.id).collect();
    let removed: Vec<_> = cp.removed.iter().map(|r| r.id).collect();
    assert_eq!(
        created,
        vec![x_id, y.id()],
        "objects alive before tracking are not listed"
    );
    assert_eq!(removed, vec![x_id]);
    assert_eq!(cp.created[0].site.file(), file!());
    assert!(
        t.activity_checkpoint().unwrap().is_empty(),
        "next checkpoint is empty"
    );

    drop(before);
    let cp = t.activity_log_checkpoint().unwrap();
    assert_eq!(cp.removed.len(), 1);
    assert!(cp.created.is_empty());
    assert!(t.activity_stop_tracking());
    assert!(matches!(
        t.activity_checkpoint(),
        Err(framecast_core::Error::NotTracking)
    ));
    drop(y);
}

#[test]
fn check_refs_points_at_the_leaked_clone() {
    let _g = serial();
    let leaks = Installed::new(LeaksConfig {
        check_refs: true,
        ..config("it-check-refs")
    });
    let b = Buffer::with_size(16).unwrap();
    let passed = b.clone();
    drop(passed);
    let kept = b.clone();
    let clone_line = line!() - 1;
    std::mem::forget(kept);
    let id = b.id();
    drop(b);

    let live = leaks.tracer.live_objects();
    let o = live.iter().find(|o| o.id == id).expect("the leaked buffer");
    assert_eq!(o.refcount, Some(1));
    assert_eq!(o.held.len(), 1);
    assert_eq!(o.held[0].site.file(), file!());
    assert_eq!(o.held[0].site.line(), clone_line);
    let text = leaks.tracer.report(true).to_string();
    let want = format!("cloned at {}:{clone_line}:", file!());
    assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    assert!(text.contains("never given back"), "{text}");
}

/// `check-refs` on pads and elements, as on buffers: a pad kept by a clone
/// after its element went has one reference, taken at the clone's line,
/// and a history of every clone and drop (GStreamer: each leaked pad has
/// ref-count 1 and its ref history).
#[test]
fn check_refs_records_pad_and_element_references() {
    let _g = serial();
    let leaks = Installed::new(LeaksConfig {
        check_refs: true,
        filters: Some(vec!["Pad".into(), "Element".into()]),
        ..config("it-check-refs-pads")
    });
    let element = framecast::make_element("fakesink", Some("refs-sink")).unwrap();
    let looked_up = element.static_pad("sink").unwrap();
    let lookup_line = line!() - 1;
    let kept = looked_up.clone();
    let clone_line = line!() - 1;
    drop(looked_up);
    let kept_element = element.clone();
    let element_line = line!() - 1;
    let pad_id = kept.id();
    let element_id = element.id();
    drop(element);

    let live = leaks.tracer.live_objects();
    let pad = live
        .iter()
        .flat_map(|o| o.iter())
        .find(|o| o.id == pad_id)
        .expect("the kept pad");
    // Created (held by the element), looked up, cloned; the lookup dropped.
    assert_eq!(pad.refcount, Some(2), "{pad:#?}");
    let changes: Vec<(RefChange, Option<u32>)> = pad
        .refs
        .iter()
        .map(|r| (r.change, r.site.map(|s| s.line())))
        .collect();
    assert_eq!(
        changes,
        [
            (RefChange::Reffed, Some(lookup_line)),
            (RefChange::Reffed, Some(clone_line)),
            (RefChange::Unreffed, None),
        ]
    );
    let element_obj = live
        .iter()
        .find(|o| o.id == element_id)
        .expect("the kept element");
    assert_eq!(element_obj.refcount, Some(1), "{element_obj:#?}");
    assert_eq!(element_obj.held.len(), 1);
    assert_eq!(element_obj.held[0].site.file(), file!());
    assert_eq!(element_obj.held[0].site.line(), element_line);

    // The element goes: it gives its pad reference back, and only the
    // clone is left, named in the report.
    drop(kept_element);
    let live = leaks.tracer.live_objects();
    assert!(live.iter().all(|o| o.id != element_id));
    let pad = live.iter().find(|o| o.id == pad_id).expect("the kept pad");
    assert_eq!(pad.refcount, Some(1), "{pad:#?}");
    assert_eq!(pad.held.len(), 1);
    assert_eq!(pad.held[0].site.line(), clone_line);
    let text = leaks.tracer.report(true).to_string();
    let want = format!("cloned at {}:{clone_line}:", file!());
    assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    assert!(text.contains("references: 1;"), "{text}");
    drop(kept);
    assert!(leaks.tracer.live_objects().is_empty());
}

/// Reports name the leaked instance: a pipeline by its name
/// (`Pipeline (leaked-bin)`, GStreamer's `GstPipeline (leaked-bin)`), an
/// element by its instance name and a pad as `element:pad`, each at the line
/// that made it, not inside framecast.
#[test]
fn reports_name_pipelines_elements_and_pads() {
    let _g = serial();
    let leaks = Installed::new(config("it-names"));
    let pipeline = framecast::Pipeline::new("leaked-bin");
    let pipeline_line = line!() - 1;
    let element = framecast::make_element("fakesink", Some("leaked-sink")).unwrap();
    let element_line = line!() - 1;
    let parsed = framecast::parse_launch("fakesrc name=parsed-src ! fakesink").unwrap();
    let parsed_line = line!() - 1;

    let live = leaks.tracer.live_objects();
    let named = |name: &str| {
        live.iter()
            .flat_map(|o| o.iter())
            .find(|o| o.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no object named {name:?}: {live:#?}"))
    };
    let p = named("leaked-bin");
    assert_eq!(p.kind.name(), "Pipeline");
    assert_eq!((p.site.file(), p.site.line()), (file!(), pipeline_line));
    let e = named("leaked-sink");
    assert_eq!(e.kind.name(), "Element");
    assert_eq!(e.description, "fakesink");
    assert_eq!((e.site.file(), e.site.line()), (file!(), element_line));
    let pad = named("leaked-sink:sink");
    assert_eq!(pad.kind.name(), "Pad");
    // Made with its element, reported there.
    assert_eq!((pad.site.file(), pad.site.line()), (file!(), element_line));
    let src = named("parsed-src");
    assert_eq!((src.site.file(), src.site.line()), (file!(), parsed_line));
    assert_eq!(named(parsed.name()).site.line(), parsed_line);

    let text = leaks.tracer.report(true).to_string();
    for want in [
        format!(
            "Pipeline {} (leaked-bin) created at {}:{pipeline_line}:",
            pipeline.id(),
            file!()
        ),
        format!(
            "Element {} (leaked-sink) created at {}:{element_line}:",
            element.id(),
            file!()
        ),
        "(leaked-sink:sink) created at".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
    let json = leaks.tracer.report(true).to_json_lines();
    assert!(json.contains(r#""name":"leaked-bin""#), "{json}");
    drop((pipeline, element, parsed));
    assert!(leaks.tracer.live_objects().is_empty());
}

#[test]
fn four_threads_live_count_exact() {
    let _g = serial();
    let leaks = Installed::new(LeaksConfig {
        filters: Some(vec!["Buffer".into(), "Memory".into(), "BufferPool".into()]),
        ..config("it-threads")
    });
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(64, 0, 64)).unwrap();
    pool.set_active(true).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for i in 0..2_000 {
                    let plain = Buffer::with_size(32).unwrap();
                    let pooled = pool.acquire().unwrap();
                    let extra = plain.clone();
                    if i % 250 == n {
                        kept.push(plain);
                        kept.push(pooled);
                    }
                    drop(extra);
                }
                kept
            })
        })
        .collect();
    let kept: Vec<Buffer> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(kept.len(), 64);
    let plain = kept.iter().filter(|b| b.pool_id().is_none()).count();
    assert_eq!(plain, 32);
    // 32 plain buffers with one memory each; 32 pooled buffers out, with
    // their memories; the pool and its idle buffers.
    let live = leaks.tracer.live_objects();
    let buffers_out = live.iter().filter(|o| o.kind.name() == "Buffer").count();
    assert_eq!(buffers_out, 64, "each kept buffer is one entry");
    let idle = pool.stats();
    let everything: usize = live.iter().map(|o| o.iter().count()).sum();
    assert_eq!(everything, leaks.tracer.live_count());
    drop(kept);
    drop(pool);
    assert_eq!(leaks.tracer.live_count(), 0, "pool stats were {idle:?}");
}

#[test]
fn json_output_parses_and_carries_type_site_size() {
    let _g = serial();
    let dir = std::env::temp_dir().join(format!("framecast-it-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("leaks.json");
    let leaks = Installed::new(LeaksConfig {
        output: Some(path.clone()),
        ..config("it-json")
    });
    let b = Buffer::with_size(64).unwrap();
    let line = line!() - 1;
    let id = b.id();
    std::mem::forget(b);
    leaks.tracer.log_live_objects();
    assert!(leaks.tracer.finish());

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let leak = lines
        .iter()
        .find(|v| v["event"] == "leak" && v["id"] == id.get())
        .unwrap_or_else(|| panic!("no leak line for {id}:\n{text}"));
    assert_eq!(leak["type"], "Buffer");
    assert_eq!(leak["file"], file!());
    assert_eq!(leak["line"], line);
    assert_eq!(leak["bytes"], 64);
    assert_eq!(leak["children"][0]["type"], "Memory");
    assert_eq!(leak["children"][0]["size"], 64);
    assert!(lines.iter().any(|v| v["event"] == "live-object"));
    assert!(lines
        .iter()
        .any(|v| v["event"] == "leak-group" && v["count"] == 1));
    assert!(lines.iter().any(|v| v["event"] == "leaks-summary"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn env_spec_starts_every_tracer_and_deinit_reports() {
    if role().is_some() {
        return;
    }
    let out = run_child(
        "child_init_from_env",
        "ok",
        &[(
            "FRAMECAST_TRACERS",
            "leaks(filters=Buffer,BufferPool);latency;stats",
        )],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "stderr:\n{}", out.stderr);
    for want in [
        "no leaks",
        "latency: no buffers seen",
        "stats:",
        "Buffer: 1 / 1 / 0 / 1",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in:\n{}",
            out.stderr
        );
    }

    let out = run_child(
        "child_init_from_env",
        "bad",
        &[("FRAMECAST_TRACERS", "leaks(check-refs=true,fatal=maybe)")],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "stderr:\n{}", out.stderr);
    assert!(out.stdout.contains("INIT ERROR"), "stdout:\n{}", out.stdout);
    assert!(
        out.stdout.contains("fatal=maybe"),
        "stdout:\n{}",
        out.stdout
    );
}

/// Child: `framecast::init()` from `FRAMECAST_TRACERS`, one buffer made and
/// freed, `deinit()`. Role `bad` expects init to fail and prints why.
#[test]
fn child_init_from_env() {
    let Some(role) = role() else { return };
    match framecast::init() {
        Ok(()) => {
            assert_eq!(role, "ok");
            assert!(trace::leaks().is_some());
            assert!(trace::latency().is_some());
            assert!(trace::stats().is_some());
            framecast::init().expect("a second init is a no-op");
            drop(Buffer::with_size(10).unwrap());
            framecast::deinit();
        }
        Err(e) => {
            assert_eq!(role, "bad", "{e}");
            assert!(trace::active_tracers().is_empty());
            println!("INIT ERROR: {e}");
        }
    }
}
