//! Switching tracers on and off: from `FRAMECAST_TRACERS` at init, from a
//! spec string or a registered factory at run time, and the final reports
//! at deinit.
//!
//! GStreamer reads `GST_TRACERS` once in `gst_init()` and its tracer
//! properties are construct-only; here any tracer can be started and
//! stopped while the program runs, and user tracers are registered by name
//! so `FRAMECAST_TRACERS` can name them too.

use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use super::latency::LatencyTracer;
use super::leaks::LeaksTracer;
use super::stats::StatsTracer;
use super::{add_tracer, remove_all_tracers, remove_tracer, spec, Tracer, TracerParams};

/// The environment variable [`init`] reads.
pub const TRACERS_ENV: &str = "FRAMECAST_TRACERS";
/// When set (to anything), SIGUSR1 and SIGUSR2 drive the leaks tracer.
pub const LEAKS_SIGNALS_ENV: &str = "FRAMECAST_LEAKS_TRACER_SIG";

/// Builds a tracer from its spec parameters.
pub type TracerFactory =
    Arc<dyn Fn(&TracerParams) -> Result<Arc<dyn Tracer>, crate::Error> + Send + Sync>;

static FACTORIES: LazyLock<Mutex<HashMap<String, TracerFactory>>> = LazyLock::new(|| {
    let mut m: HashMap<String, TracerFactory> = HashMap::new();
    m.insert(
        "leaks".into(),
        Arc::new(|p| LeaksTracer::from_params(p).map(|t| t as Arc<dyn Tracer>)),
    );
    m.insert(
        "latency".into(),
        Arc::new(|p| LatencyTracer::from_params(p).map(|t| t as Arc<dyn Tracer>)),
    );
    m.insert(
        "stats".into(),
        Arc::new(|p| StatsTracer::from_params(p).map(|t| t as Arc<dyn Tracer>)),
    );
    Mutex::new(m)
});

/// Whether [`init`] ran without a matching [`deinit`].
static INITIALIZED: Mutex<bool> = Mutex::new(false);

/// Makes a tracer type available to specs under `name`
/// (`FRAMECAST_TRACERS=name(params)`). Fails if the name is taken.
///
/// ```
/// use std::sync::Arc;
/// use framecast_core::trace::{self, Interest, Tracer};
///
/// #[derive(Debug)]
/// struct Counter;
/// impl Tracer for Counter {
///     fn name(&self) -> &str { "counter" }
///     fn interests(&self) -> Interest { Interest::LIFECYCLE }
/// }
///
/// trace::register_tracer("counter", Arc::new(|params| {
///     params.check_known("counter", &[])?;
///     Ok(Arc::new(Counter) as Arc<dyn Tracer>)
/// })).unwrap();
/// let started = trace::start("counter").unwrap();
/// assert_eq!(started[0].name(), "counter");
/// assert!(trace::stop("counter"));
/// ```
pub fn register_tracer(name: &str, factory: TracerFactory) -> Result<(), crate::Error> {
    let mut factories = FACTORIES.locked();
    if factories.contains_key(name) {
        return Err(crate::Error::AlreadyRegistered {
            what: "tracer",
            name: name.to_string(),
        });
    }
    factories.insert(name.to_string(), factory);
    Ok(())
}

/// Names of the tracers a spec can use, sorted.
pub fn registered_tracers() -> Vec<String> {
    let mut names: Vec<String> = FACTORIES.locked().keys().cloned().collect();
    names.sort();
    names
}

/// Builds (without activating) the tracers a spec names. All or nothing:
/// any bad entry fails the whole spec.
pub fn build(spec_text: &str) -> Result<Vec<Arc<dyn Tracer>>, crate::Error> {
    let entries = spec::parse(spec_text)?;
    let mut built = Vec::with_capacity(entries.len());
    for entry in entries {
        let factory = FACTORIES.locked().get(&entry.name).cloned();
        let Some(factory) = factory else {
            return Err(entry.params.error(
                "",
                format!(
                    "no tracer named {:?} (known: {})",
                    entry.name,
                    registered_tracers().join(", ")
                ),
            ));
        };
        built.push(factory(&entry.params)?);
    }
    Ok(built)
}

/// Parses `spec_text` (same syntax as `FRAMECAST_TRACERS`) and activates
/// the tracers it names, at run time. Returns them. Nothing is activated if
/// any entry is bad.
///
/// When a leaks tracer is among them and `FRAMECAST_LEAKS_TRACER_SIG` is
/// set, SIGUSR1/SIGUSR2 handling starts too.
pub fn start(spec_text: &str) -> Result<Vec<Arc<dyn Tracer>>, crate::Error> {
    let tracers = build(spec_text)?;
    for t in &tracers {
        add_tracer(Arc::clone(t));
    }
    if std::env::var_os(LEAKS_SIGNALS_ENV).is_some() && !super::leaks::active().is_empty() {
        super::signals::start();
    }
    Ok(tracers)
}

/// Deactivates every tracer with instance name `name` and lets each write
/// its final report. Returns `false` if none was active or one judged the
/// run a failure (a `fatal=true` leaks tracer that found leaks).
pub fn stop(name: &str) -> bool {
    let removed = remove_tracer(name);
    if removed.is_empty() {
        return false;
    }
    if super::leaks::active().is_empty() {
        super::signals::stop();
    }
    finish_all(&removed)
}

/// Lets every tracer write its report (all of them, even after one
/// failed) and says whether all judged the run a success.
fn finish_all(tracers: &[Arc<dyn Tracer>]) -> bool {
    let mut ok = true;
    for t in tracers {
        ok &= t.finish();
    }
    ok
}

/// Reads `FRAMECAST_TRACERS` and activates the tracers it names; with
/// `FRAMECAST_LEAKS_TRACER_SIG` set, starts the SIGUSR1/SIGUSR2 watcher.
/// Called by `framecast::init()`, and otherwise by the first traced event
/// of the process (the first tracked object made), so every program that
/// uses framecast honours the variables — as GStreamer's do through the
/// `gst_init()` they must call. Call it early anyway: it reports a bad spec
/// as an error (the lazy path can only print it), and the signal handlers
/// exist from then on, not from the first object. A second call before
/// [`deinit`] does nothing; after [`deinit`], only an explicit call starts
/// tracing again.
pub fn init() -> Result<(), crate::Error> {
    super::init_done();
    let mut initialized = INITIALIZED.locked();
    if *initialized {
        return Ok(());
    }
    let spec_text = match std::env::var(TRACERS_ENV) {
        Ok(s) => s,
        Err(std::env::VarError::NotPresent) => String::new(),
        Err(std::env::VarError::NotUnicode(raw)) => {
            return Err(crate::Error::TracerSpec {
                spec: raw.to_string_lossy().into_owned(),
                part: TRACERS_ENV.to_string(),
                position: 0,
                reason: "not valid UTF-8".to_string(),
            })
        }
    };
    start(&spec_text)?;
    *initialized = true;
    Ok(())
}

/// Ends tracing: deactivates every tracer, stops the signal watcher, and
/// lets each tracer write its final report (in activation order). Returns
/// `false` if a tracer judged the run a failure; `framecast::deinit()`
/// turns that into exit status 3.
pub fn deinit() -> bool {
    // Ended: a later object does not start tracing from the environment.
    super::init_done();
    let mut initialized = INITIALIZED.locked();
    *initialized = false;
    super::signals::stop();
    finish_all(&remove_all_tracers())
}
