//! Unit tests of the leaks tracer, driving its `Tracer` methods directly so
//! they are exact and independent of other tests' objects.

use super::*;
use crate::trace::{Interest, ObjectId, ObjectInfo, ObjectKind, Tracer};
use std::panic::Location;
use std::sync::Arc;

#[track_caller]
fn info(kind: ObjectKind, size: usize, parent: Option<ObjectId>) -> ObjectInfo {
    ObjectInfo {
        id: ObjectId::next(),
        kind,
        site: Location::caller(),
        size,
        parent,
        description: "",
        may_be_leaked: false,
    }
}

fn tracer(config: LeaksConfig) -> Arc<LeaksTracer> {
    LeaksTracer::new(config).unwrap()
}

fn plain() -> Arc<LeaksTracer> {
    tracer(LeaksConfig::default())
}

/// A buffer holding one memory of `size` bytes, reported the way the
/// buffer code does.
#[track_caller]
fn buffer_with_memory(t: &LeaksTracer, size: usize) -> (ObjectInfo, ObjectInfo) {
    let mem = info(ObjectKind::Memory, size, None);
    t.object_created(&mem);
    let buf = info(ObjectKind::Buffer, 0, None);
    t.object_created(&buf);
    t.object_linked(mem.id, buf.id);
    (buf, mem)
}

#[test]
fn a_leaked_buffer_is_one_entry_with_its_memory_and_metas() {
    let t = plain();
    let (buf, mem) = buffer_with_memory(&t, 64);
    let line = line!() - 1;
    t.object_annotated(buf.id, "VideoMeta");
    t.object_annotated(buf.id, "VideoMeta");
    t.object_annotated(buf.id, "ReferenceTimestampMeta");

    let objects = t.live_objects();
    assert_eq!(objects.len(), 1, "{objects:#?}");
    let b = &objects[0];
    assert_eq!(b.id, buf.id);
    assert_eq!(b.kind, ObjectKind::Buffer);
    assert_eq!(b.site.file(), file!());
    assert_eq!(b.site.line(), line);
    assert_eq!(b.bytes, 64);
    assert_eq!(b.notes, vec!["VideoMeta", "ReferenceTimestampMeta"]);
    assert_eq!(b.children.len(), 1);
    assert_eq!(b.children[0].id, mem.id);
    assert_eq!(b.children[0].size, 64);
    assert_eq!(b.thread, std::thread::current().name().unwrap_or("?"));

    let report = t.report(true);
    assert!(!report.is_clean());
    assert_eq!(report.groups.len(), 1);
    assert_eq!(report.groups[0].count, 1);
    assert_eq!(report.groups[0].bytes, 64);
    let text = report.to_string();
    assert!(
        text.starts_with("Leaks detected: 1 object still alive"),
        "{text}"
    );
    assert!(
        text.contains(&format!("1 x Buffer created at {}:{line}:", file!())),
        "{text}"
    );
    assert!(text.contains("meta VideoMeta"), "{text}");
    assert!(text.contains("Memory"), "{text}");

    // Unlinking the memory makes it its own entry again.
    t.object_unlinked(mem.id, buf.id);
    assert_eq!(t.live_objects().len(), 2);

    t.object_destroyed(buf.id, buf.kind);
    t.object_destroyed(mem.id, mem.kind);
    assert_eq!(t.live_count(), 0);
    let report = t.report(true);
    assert!(report.is_clean());
    let text = report.to_string();
    assert!(text.starts_with("no leaks"), "{text}");
    assert!(t.finish());
}

#[test]
fn pooled_buffers_nest_under_their_pool_until_handed_out() {
    let t = plain();
    let pool = info(ObjectKind::BufferPool, 0, None);
    t.object_created(&pool);
    let mut bufs = Vec::new();
    for _ in 0..3 {
        let mem = info(ObjectKind::Memory, 100, None);
        let buf = info(ObjectKind::Buffer, 0, Some(pool.id));
        t.object_created(&mem);
        t.object_created(&buf);
        t.object_linked(mem.id, buf.id);
        bufs.push(buf);
    }
    // All idle: one entry, the pool, with 3 buffers of 100 bytes.
    let objects = t.live_objects();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].kind, ObjectKind::BufferPool);
    assert_eq!(objects[0].children.len(), 3);
    assert_eq!(objects[0].bytes, 300);
    assert!(objects[0].children.iter().all(|b| b.in_pool));

    // One handed out and kept: it is the entry, naming its pool, and it
    // pins the pool, which nests under it with the idle buffers.
    let acquire_site = Location::caller();
    t.pool_acquired_at(pool.id, bufs[0].id, acquire_site);
    t.pool_acquired(pool.id, bufs[1].id);
    t.pool_released(pool.id, bufs[1].id);
    let objects = t.live_objects();
    assert_eq!(objects.len(), 1, "{objects:#?}");
    let out = &objects[0];
    assert_eq!(out.kind, ObjectKind::Buffer);
    assert_eq!(out.children.len(), 2, "its memory and its pool");
    let pinned = out
        .children
        .iter()
        .find(|c| c.kind == ObjectKind::BufferPool)
        .expect("the pool under the buffer");
    assert_eq!(pinned.children.len(), 2, "the idle buffers");
    assert_eq!(out.id, bufs[0].id);
    assert_eq!(
        out.pool,
        Some(PoolRef {
            id: pool.id,
            site: Some(pool.site)
        })
    );
    assert!(!out.in_pool);
    assert_eq!(out.acquired_at, Some(acquire_site));
    assert_eq!(out.bytes, 300, "its memory and the idle buffers it pins");
    let text = t.report(true).to_string();
    assert!(
        text.contains(&format!("pool {} (created at {})", pool.id, pool.site)),
        "{text}"
    );
    assert!(
        text.contains(&format!("acquired at {acquire_site}")),
        "{text}"
    );
}

#[test]
fn may_be_leaked_objects_are_never_reported() {
    let t = plain();
    let mut alloc = info(ObjectKind::Allocator, 0, None);
    alloc.may_be_leaked = true;
    t.object_created(&alloc);
    assert_eq!(t.live_count(), 1);
    assert!(t.live_objects().is_empty());
    let report = t.report(true);
    assert!(report.is_clean());
    let fatal = tracer(LeaksConfig {
        fatal: true,
        ..LeaksConfig::default()
    });
    fatal.object_created(&alloc);
    assert!(
        fatal.finish(),
        "a may-be-leaked object must not fail the run"
    );
}

#[test]
fn fatal_fails_the_run_only_when_something_leaked() {
    let t = tracer(LeaksConfig {
        fatal: true,
        ..LeaksConfig::default()
    });
    let (buf, mem) = buffer_with_memory(&t, 8);
    assert!(!t.finish());
    t.object_destroyed(buf.id, buf.kind);
    t.object_destroyed(mem.id, mem.kind);
    assert!(t.finish());
    let quiet = tracer(LeaksConfig {
        fatal: true,
        log_on_deinit: false,
        ..LeaksConfig::default()
    });
    buffer_with_memory(&quiet, 8);
    assert!(quiet.finish(), "log-leaks-on-deinit=false reports nothing");
}

#[test]
fn checkpoints_list_what_happened_in_order() {
    let t = plain();
    assert!(matches!(
        t.activity_checkpoint(),
        Err(crate::Error::NotTracking)
    ));
    assert!(matches!(
        t.activity_log_checkpoint(),
        Err(crate::Error::NotTracking)
    ));

    // Alive before tracking: never listed as created.
    let before = info(ObjectKind::Buffer, 0, None);
    t.object_created(&before);

    t.activity_start_tracking().unwrap();
    assert!(matches!(
        t.activity_start_tracking(),
        Err(crate::Error::AlreadyTracking)
    ));
    // Many objects spread over the shards, so order must come from the
    // sequence numbers, not the shard layout.
    let xs: Vec<ObjectInfo> = (0..50).map(|_| info(ObjectKind::Buffer, 0, None)).collect();
    for x in &xs {
        t.object_created(x);
        t.object_destroyed(x.id, x.kind);
    }
    let y = info(ObjectKind::Memory, 10, None);
    t.object_created(&y);

    let cp = t.activity_checkpoint().unwrap();
    let created: Vec<ObjectId> = cp.created.iter().map(|r| r.id).collect();
    let mut want: Vec<ObjectId> = xs.iter().map(|x| x.id).collect();
    want.push(y.id);
    assert_eq!(created, want, "created, in creation order");
    let removed: Vec<ObjectId> = cp.removed.iter().map(|r| r.id).collect();
    assert_eq!(removed, xs.iter().map(|x| x.id).collect::<Vec<_>>());
    assert!(cp.created.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(cp.created.last().unwrap().size, 10);
    assert_eq!(cp.created[0].site, xs[0].site);

    assert!(
        t.activity_checkpoint().unwrap().is_empty(),
        "next checkpoint is empty"
    );

    // An object alive before tracking that dies now is a removal.
    t.object_destroyed(before.id, before.kind);
    let cp = t.activity_log_checkpoint().unwrap();
    assert!(cp.created.is_empty());
    assert_eq!(cp.removed.len(), 1);
    assert_eq!(cp.removed[0].id, before.id);

    assert!(t.activity_stop_tracking());
    assert!(!t.activity_stop_tracking());
    assert!(matches!(
        t.activity_checkpoint(),
        Err(crate::Error::NotTracking)
    ));
    t.activity_start_tracking().unwrap();
    assert!(
        t.activity_checkpoint().unwrap().is_empty(),
        "restart forgets the old interval"
    );
}

#[test]
fn check_refs_names_the_clone_never_given_back() {
    let t = tracer(LeaksConfig {
        check_refs: true,
        ..LeaksConfig::default()
    });
    assert!(t.interests().contains(Interest::REFS));
    assert!(!plain().interests().contains(Interest::REFS));
    let buf = info(ObjectKind::Buffer, 0, None);
    t.object_created(&buf);
    // A clone handed to a consumer and dropped there.
    let passed_on = Location::caller();
    t.object_reffed(buf.id, buf.kind, passed_on);
    t.object_unreffed(buf.id, buf.kind);
    // The leak: a clone kept in a cache; the original is dropped.
    let leaked_clone = Location::caller();
    t.object_reffed(buf.id, buf.kind, leaked_clone);
    t.object_unreffed(buf.id, buf.kind);

    let objects = t.live_objects();
    let o = &objects[0];
    assert_eq!(o.refcount, Some(1));
    assert_eq!(o.held.len(), 1);
    assert_eq!(o.held[0].site, leaked_clone);
    assert!(!o.held[0].from_creation);
    assert_eq!(o.refs.len(), 4);
    let counts: Vec<u64> = o.refs.iter().map(|r| r.refcount).collect();
    assert_eq!(counts, vec![2, 1, 2, 1]);
    assert_eq!(o.refs[2].site, Some(leaked_clone));
    assert!(o.refs[2].held);
    assert!(!o.refs[0].held);
    let text = t.report(true).to_string();
    assert!(
        text.contains(&format!("cloned at {leaked_clone} on")),
        "{text}"
    );
    assert!(text.contains("never given back"), "{text}");
}

#[test]
fn reference_history_is_bounded_but_counts_stay_true() {
    let t = tracer(LeaksConfig {
        check_refs: true,
        ..LeaksConfig::default()
    });
    let buf = info(ObjectKind::Buffer, 0, None);
    t.object_created(&buf);
    for _ in 0..1000 {
        t.object_reffed(buf.id, buf.kind, Location::caller());
        t.object_unreffed(buf.id, buf.kind);
    }
    t.object_reffed(buf.id, buf.kind, Location::caller());
    let o = &t.live_objects()[0];
    assert_eq!(o.refcount, Some(2));
    assert!(o.refs.len() > HISTORY / 2 && o.refs.len() <= HISTORY);
    assert_eq!(o.refs_dropped + o.refs.len() as u64, 2001);
    assert_eq!(o.refs.last().unwrap().refcount, 2);
    assert_eq!(o.held.len(), 2);
}

#[inline(never)]
fn create_here_for_stack_trace(t: &LeaksTracer) -> ObjectInfo {
    let b = info(ObjectKind::Buffer, 0, None);
    t.object_created(&b);
    b
}

#[test]
fn stack_traces_for_filtered_types_only() {
    let t = tracer(LeaksConfig {
        filters: Some(vec!["Buffer".into()]),
        stack_traces: true,
        ..LeaksConfig::default()
    });
    let b = create_here_for_stack_trace(&t);
    // Memory is filtered out: not tracked at all.
    let m = info(ObjectKind::Memory, 10, None);
    t.object_created(&m);
    t.object_linked(m.id, b.id);
    assert_eq!(t.live_count(), 1);
    let objects = t.live_objects();
    let trace = objects[0].stack_trace.as_ref().expect("a stack trace");
    assert!(
        trace
            .iter()
            .any(|l| l.contains("create_here_for_stack_trace")),
        "{trace:#?}"
    );
    assert!(
        !trace
            .iter()
            .any(|l| l.contains("backtrace::") || l.contains("LeaksTracer")),
        "tracer frames are trimmed: {trace:#?}"
    );
    let no_traces = plain();
    create_here_for_stack_trace(&no_traces);
    assert!(no_traces.live_objects()[0].stack_trace.is_none());
}

#[test]
fn filters_match_builtin_and_named_kinds() {
    let t = tracer(LeaksConfig {
        filters: Some(vec!["BufferPool".into(), "Widget".into()]),
        ..LeaksConfig::default()
    });
    for kind in [
        ObjectKind::Memory,
        ObjectKind::Buffer,
        ObjectKind::BufferPool,
        ObjectKind::Other("Widget"),
        ObjectKind::Other("Gadget"),
    ] {
        t.object_created(&info(kind, 0, None));
    }
    let mut kinds: Vec<&str> = t.live_objects().iter().map(|o| o.kind.name()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["BufferPool", "Widget"]);
}

#[test]
fn shares_nest_and_count_bytes_once() {
    let t = plain();
    let root = info(ObjectKind::Memory, 1000, None);
    t.object_created(&root);
    let share = info(ObjectKind::Memory, 1000, Some(root.id));
    t.object_created(&share);
    let buf = info(ObjectKind::Buffer, 0, None);
    t.object_created(&buf);
    t.object_linked(share.id, buf.id);
    let objects = t.live_objects();
    assert_eq!(objects.len(), 1, "{objects:#?}");
    assert_eq!(objects[0].bytes, 1000);
    let ids: Vec<ObjectId> = objects[0].iter().map(|o| o.id).collect();
    assert_eq!(ids, vec![buf.id, share.id, root.id]);
}

#[test]
fn four_threads_creating_and_destroying_leave_an_exact_count() {
    let t = plain();
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let t = Arc::clone(&t);
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for i in 0..5_000 {
                    let (buf, mem) = buffer_with_memory(&t, 16);
                    if i % 100 == n {
                        kept.push((buf, mem));
                    } else {
                        t.object_destroyed(buf.id, buf.kind);
                        t.object_destroyed(mem.id, mem.kind);
                    }
                }
                kept
            })
        })
        .collect();
    let kept: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(kept.len(), 200);
    assert_eq!(t.live_count(), 400);
    let objects = t.live_objects();
    assert_eq!(objects.len(), 200);
    assert!(objects
        .iter()
        .all(|o| o.children.len() == 1 && o.bytes == 16));
    assert_eq!(t.report(true).tracked.min(40_000), 40_000);
}

#[test]
fn json_lines_carry_type_site_and_size() {
    let dir = std::env::temp_dir().join(format!("framecast-leaks-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("leaks.json");
    let t = tracer(LeaksConfig {
        output: Some(path.clone()),
        check_refs: true,
        ..LeaksConfig::default()
    });
    let (buf, _mem) = buffer_with_memory(&t, 64);
    t.object_annotated(buf.id, "VideoMeta");
    t.object_reffed(buf.id, buf.kind, Location::caller());
    t.finish();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["event"], "leak-group");
    assert_eq!(lines[0]["type"], "Buffer");
    assert_eq!(lines[0]["bytes"], 64);
    let leak = &lines[1];
    assert_eq!(leak["event"], "leak");
    assert_eq!(leak["type"], "Buffer");
    assert_eq!(leak["file"], file!());
    assert_eq!(leak["line"], u64::from(buf.site.line()));
    assert_eq!(leak["site"], buf.site.to_string());
    assert_eq!(leak["bytes"], 64);
    assert_eq!(leak["notes"][0], "VideoMeta");
    assert_eq!(leak["refcount"], 2);
    assert_eq!(leak["children"][0]["type"], "Memory");
    assert_eq!(leak["children"][0]["size"], 64);
    assert_eq!(lines[2]["event"], "leaks-summary");
    assert_eq!(lines[2]["objects"], 1);
    let _ = std::fs::remove_dir_all(&dir);

    let err = LeaksTracer::new(LeaksConfig {
        output: Some("/nonexistent-dir/x/leaks.json".into()),
        ..LeaksConfig::default()
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent-dir/x/leaks.json"),
        "{err}"
    );
}

#[test]
fn config_from_params() {
    let spec = "leaks(filters=Buffer,BufferPool,stack-traces=true,check-refs=true,output=/tmp/x.json,fatal=true,name=l2)";
    let entries = super::super::spec::parse(spec).unwrap();
    let c = LeaksConfig::from_params(&entries[0].params).unwrap();
    assert_eq!(
        c,
        LeaksConfig {
            name: "l2".into(),
            filters: Some(vec!["Buffer".into(), "BufferPool".into()]),
            stack_traces: true,
            check_refs: true,
            output: Some("/tmp/x.json".into()),
            fatal: true,
            log_on_deinit: true,
        }
    );
    let entries = super::super::spec::parse("leaks(check-ref=true)").unwrap();
    let err = LeaksConfig::from_params(&entries[0].params).unwrap_err();
    assert!(err.to_string().contains("check-ref"), "{err}");
    let entries = super::super::spec::parse("leaks(stack-traces=full)").unwrap();
    let err = LeaksConfig::from_params(&entries[0].params).unwrap_err();
    assert!(err.to_string().contains("stack-traces=full"), "{err}");
}

#[test]
fn unknown_ids_and_events_are_ignored() {
    let t = tracer(LeaksConfig {
        check_refs: true,
        ..LeaksConfig::default()
    });
    let ghost = ObjectId::next();
    t.object_destroyed(ghost, ObjectKind::Buffer);
    t.object_reffed(ghost, ObjectKind::Buffer, Location::caller());
    t.object_unreffed(ghost, ObjectKind::Buffer);
    t.object_linked(ghost, ObjectId::next());
    t.object_unlinked(ghost, ObjectId::next());
    t.object_annotated(ghost, "X");
    t.pool_acquired(ObjectId::next(), ghost);
    t.pool_released(ObjectId::next(), ghost);
    assert_eq!(t.live_count(), 0);
}
