//! Tests of the hook dispatch and of switching tracers on and off. They
//! change the global tracer list, so they take [`GLOBAL`] in turn; other
//! tests in this crate may still fire hooks meanwhile, so every assertion
//! looks only at objects of a kind or id made here.

use super::*;
use crate::sync::MutexExt;
use std::sync::atomic::AtomicUsize;

static GLOBAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    GLOBAL.locked()
}

#[track_caller]
fn info(kind: ObjectKind) -> ObjectInfo {
    ObjectInfo {
        id: ObjectId::next(),
        kind,
        site: Location::caller(),
        size: 32,
        parent: None,
        description: "",
        may_be_leaked: false,
    }
}

/// Counts the events it is told about, for the ids it was given.
#[derive(Debug)]
struct Recorder {
    name: &'static str,
    interests: Interest,
    watch: Mutex<Vec<ObjectId>>,
    events: Mutex<Vec<String>>,
}

impl Recorder {
    fn new(name: &'static str, interests: Interest) -> Arc<Recorder> {
        Arc::new(Recorder {
            name,
            interests,
            watch: Mutex::new(Vec::new()),
            events: Mutex::new(Vec::new()),
        })
    }
    fn note(&self, id: ObjectId, what: &str) {
        if self.watch.lock().unwrap().contains(&id) {
            self.events.lock().unwrap().push(what.to_string());
        }
    }
}

impl Tracer for Recorder {
    fn name(&self) -> &str {
        self.name
    }
    fn interests(&self) -> Interest {
        self.interests
    }
    fn object_created(&self, info: &ObjectInfo) {
        self.note(info.id, "created");
    }
    fn object_destroyed(&self, id: ObjectId, _: ObjectKind) {
        self.note(id, "destroyed");
    }
    fn object_reffed(&self, id: ObjectId, _: ObjectKind, _: Site) {
        self.note(id, "reffed");
    }
    fn object_unreffed(&self, id: ObjectId, _: ObjectKind) {
        self.note(id, "unreffed");
    }
    fn object_linked(&self, child: ObjectId, _: ObjectId) {
        self.note(child, "linked");
    }
    fn object_unlinked(&self, child: ObjectId, _: ObjectId) {
        self.note(child, "unlinked");
    }
    fn object_annotated(&self, id: ObjectId, _: &'static str) {
        self.note(id, "annotated");
    }
    fn pool_acquired(&self, _: ObjectId, buffer: ObjectId) {
        self.note(buffer, "acquired");
    }
    fn pool_released(&self, _: ObjectId, buffer: ObjectId) {
        self.note(buffer, "released");
    }
    fn pad_push_pre(&self, push: &PadPush<'_>) {
        self.note(push.buffer, "push-pre");
    }
    fn pad_push_post(&self, push: &PadPush<'_>, _: Duration) {
        self.note(push.buffer, "push-post");
    }
    fn element_processed(&self, element: ObjectId, _: &str, _: Duration) {
        self.note(element, "processed");
    }
    fn queue_level(&self, queue: ObjectId, _: &str, _: QueueLevel) {
        self.note(queue, "queue-level");
    }
    fn queue_dropped(&self, queue: ObjectId, _: &str, _: u64) {
        self.note(queue, "queue-dropped");
    }
}

fn fire_everything(id: ObjectId) {
    let site = Location::caller();
    let push = || PadPush {
        pad: id,
        pad_name: "a:src",
        peer_element: "b",
        buffer: id,
        size: 1,
        pts: None,
        source_time: None,
    };
    object_created(|| ObjectInfo {
        id,
        ..info(ObjectKind::Buffer)
    });
    object_reffed(id, ObjectKind::Buffer, site);
    object_unreffed(id, ObjectKind::Buffer);
    object_linked(id, id);
    object_unlinked(id, id);
    object_annotated(id, "M");
    pool_acquired(id, id);
    pool_acquired_at(id, id, site);
    pool_released(id, id);
    pad_push_pre(push);
    pad_push_post(push, Duration::ZERO);
    element_processed(id, "e", Duration::ZERO);
    queue_level(id, "q", QueueLevel::default);
    queue_dropped(id, "q", 1);
    object_destroyed(id, ObjectKind::Buffer);
}

#[test]
fn hooks_reach_only_tracers_that_want_them() {
    let _g = serial();
    let life = Recorder::new("ut-life", Interest::LIFECYCLE);
    let pool = Recorder::new("ut-pool", Interest::POOL | Interest::QUEUES);
    let all = Recorder::new("ut-all", Interest::all());
    let id = ObjectId::next();
    for r in [&life, &pool, &all] {
        r.watch.lock().unwrap().push(id);
        add_tracer(Arc::clone(r) as Arc<dyn Tracer>);
    }
    assert!(interests().contains(Interest::all()));
    fire_everything(id);
    for name in ["ut-life", "ut-pool", "ut-all"] {
        assert_eq!(remove_tracer(name).len(), 1);
    }
    assert_eq!(*life.events.lock().unwrap(), vec!["created", "destroyed"]);
    assert_eq!(
        *pool.events.lock().unwrap(),
        // pool_acquired_at falls back to pool_acquired by default.
        vec![
            "acquired",
            "acquired",
            "released",
            "queue-level",
            "queue-dropped"
        ]
    );
    assert_eq!(all.events.lock().unwrap().len(), 15);
}

#[test]
fn no_tracer_means_no_closure_runs() {
    let _g = serial();
    let before = remove_all_tracers();
    let ran = AtomicUsize::new(0);
    object_created(|| {
        ran.fetch_add(1, Ordering::Relaxed);
        info(ObjectKind::Buffer)
    });
    pad_push_pre(|| {
        ran.fetch_add(1, Ordering::Relaxed);
        PadPush {
            pad: ObjectId::next(),
            pad_name: "",
            peer_element: "",
            buffer: ObjectId::next(),
            size: 0,
            pts: None,
            source_time: None,
        }
    });
    assert_eq!(ran.load(Ordering::Relaxed), 0);
    assert!(!timing_wanted());
    for t in before {
        add_tracer(t);
    }
}

#[test]
fn start_find_and_stop_at_run_time() {
    let _g = serial();
    let started =
        start("leaks(name=ut-leaks,filters=UtWidget);latency(name=ut-lat);stats(name=ut-stats)")
            .unwrap();
    assert_eq!(started.len(), 3);
    let leaks = leaks_named("ut-leaks").expect("active");
    assert!(latency().is_some());
    assert!(stats().is_some());
    let w = info(ObjectKind::Other("UtWidget"));
    object_created(|| w);
    assert_eq!(leaks.live_count(), 1);
    assert_eq!(leaks.live_objects()[0].site, w.site);
    // Not fatal: a leak is reported but the run is not a failure.
    assert!(stop("ut-leaks"));
    assert!(leaks_named("ut-leaks").is_none());
    // Events after stopping do not reach it.
    object_destroyed(w.id, w.kind);
    assert_eq!(leaks.live_count(), 1);
    assert!(stop("ut-lat"));
    assert!(stop("ut-stats"));
    assert!(!stop("ut-stats"), "nothing left by that name");

    start("leaks(name=ut-fatal,filters=UtWidget,fatal=true)").unwrap();
    let w2 = info(ObjectKind::Other("UtWidget"));
    object_created(|| w2);
    assert!(!stop("ut-fatal"), "fatal=true with a leak fails the run");
}

#[test]
fn bad_specs_activate_nothing() {
    let _g = serial();
    let before = active_tracers().len();
    let err = start("leaks(name=ut-x);bogus(a=1)").unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    let text = err.to_string();
    assert!(text.contains("bogus(a=1)"), "{text}");
    assert!(text.contains("no tracer named \"bogus\""), "{text}");
    assert!(text.contains("latency, leaks, stats"), "{text}");
    assert!(leaks_named("ut-x").is_none());
    let err = start("latency(fatal=true)").unwrap_err();
    assert!(err.to_string().contains("fatal=true"), "{err}");
    assert_eq!(active_tracers().len(), before);
}

#[test]
fn user_tracers_register_by_name() {
    let _g = serial();
    register_tracer(
        "ut-recorder",
        Arc::new(|params| {
            params.check_known("ut-recorder", &[])?;
            Ok(Recorder::new("ut-recorder", Interest::LIFECYCLE) as Arc<dyn Tracer>)
        }),
    )
    .unwrap();
    let err = register_tracer("ut-recorder", Arc::new(|_| unreachable!())).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::Registry);
    assert!(registered_tracers().contains(&"ut-recorder".to_string()));
    assert!(start("ut-recorder(x=1)").is_err());
    let t = start("ut-recorder").unwrap();
    assert_eq!(t[0].name(), "ut-recorder");
    assert!(stop("ut-recorder"));
}

#[test]
fn deinit_finishes_every_tracer() {
    let _g = serial();
    #[derive(Debug)]
    struct Fails(AtomicUsize);
    impl Tracer for Fails {
        fn name(&self) -> &str {
            "ut-fails"
        }
        fn interests(&self) -> Interest {
            Interest::empty()
        }
        fn finish(&self) -> bool {
            self.0.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
    let before = remove_all_tracers();
    let fails = Arc::new(Fails(AtomicUsize::new(0)));
    add_tracer(Arc::clone(&fails) as Arc<dyn Tracer>);
    assert!(!deinit());
    assert_eq!(fails.0.load(Ordering::Relaxed), 1);
    assert!(active_tracers().is_empty());
    assert!(deinit(), "nothing active: success");
    for t in before {
        add_tracer(t);
    }
}
