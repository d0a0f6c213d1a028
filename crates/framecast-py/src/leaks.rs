//! `framecast.leaks`: what the leaks tracer sees, from Python.
//!
//! The tracer is started by `FRAMECAST_TRACERS=leaks` (with its options,
//! e.g. `leaks(filters=Buffer,check-refs=true)`) before `import
//! framecast`, or later with `framecast.leaks.enable()`. It tracks the
//! framecast objects (buffers, memories, pools, elements), not Python's:
//! the question it answers is "which frames, pools or elements is my
//! program still holding, and where were they made?".

use std::sync::Arc;

use framecast::trace::{self, LeakReport, LeaksConfig, LeaksTracer};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::FramecastError;

fn tracer() -> PyResult<Arc<LeaksTracer>> {
    trace::leaks().ok_or_else(|| {
        FramecastError::new_err(
            "no leaks tracer: set FRAMECAST_TRACERS=leaks before importing framecast, \
             or call framecast.leaks.enable()",
        )
    })
}

/// Starts a leaks tracer now, unless one runs. Objects made before this
/// call are not tracked. `filters` limits it to some types
/// (e.g. `["Buffer", "BufferPool"]`); `stack_traces` records where each
/// was made; `fatal` makes the exit status 3 if anything leaked.
#[pyfunction]
#[pyo3(signature = (*, filters = None, stack_traces = false, check_refs = false, fatal = false))]
fn enable(
    filters: Option<Vec<String>>,
    stack_traces: bool,
    check_refs: bool,
    fatal: bool,
) -> PyResult<bool> {
    if trace::leaks().is_some() {
        return Ok(false);
    }
    let config = LeaksConfig {
        filters,
        stack_traces,
        check_refs,
        fatal,
        ..LeaksConfig::default()
    };
    let tracer = LeaksTracer::new(config).map_err(|e| FramecastError::new_err(e.to_string()))?;
    trace::add_tracer(tracer);
    Ok(true)
}

/// Whether a leaks tracer runs.
#[pyfunction]
fn enabled() -> bool {
    trace::leaks().is_some()
}

/// How many framecast objects are alive (children counted).
#[pyfunction]
fn live_count() -> PyResult<usize> {
    Ok(tracer()?.report(false).object_count())
}

fn groups<'py>(py: Python<'py>, report: &LeakReport) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for g in &report.groups {
        let d = PyDict::new(py);
        d.set_item("type", g.kind.name())?;
        // A Sender or Receiver made from Python: the Python line.
        match &g.origin {
            Some(origin) => d.set_item("site", origin)?,
            None => d.set_item("site", g.site.to_string())?,
        }
        d.set_item("count", g.count)?;
        d.set_item("parts", g.parts)?;
        d.set_item("bytes", g.bytes)?;
        d.set_item("oldest", g.oldest.as_secs_f64())?;
        list.append(d)?;
    }
    Ok(list)
}

/// The live objects grouped by type and creation site (`file:line`),
/// largest first: a list of dicts with `type`, `site`, `count`, `parts`
/// (objects counting what they hold), `bytes` and `oldest` (age in
/// seconds). A `Sender` or `Receiver` is one entry, at the Python line that
/// made it, holding its pipeline.
#[pyfunction]
fn live<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    groups(py, &tracer()?.report(false))
}

/// The live objects as the tracer prints them (with stack traces and
/// held references when enabled), also written to stderr and `output=`
/// as SIGUSR1 does.
#[pyfunction]
fn report() -> PyResult<String> {
    Ok(tracer()?.log_live_objects().to_string())
}

/// Starts recording what is created and destroyed, for `checkpoint()`.
#[pyfunction]
fn start_tracking() -> PyResult<()> {
    tracer()?
        .activity_start_tracking()
        .map_err(|e| FramecastError::new_err(e.to_string()))
}

/// What was created and destroyed since the last checkpoint (or
/// `start_tracking()`): `{"created": [...], "removed": [...]}`, each a list
/// of `(type, site)`. An object made and dropped in between is in both.
#[pyfunction]
fn checkpoint<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let cp = tracer()?
        .activity_checkpoint()
        .map_err(|e| FramecastError::new_err(e.to_string()))?;
    let d = PyDict::new(py);
    for (key, records) in [("created", &cp.created), ("removed", &cp.removed)] {
        let list = PyList::empty(py);
        for r in records {
            list.append((r.kind.name(), r.site.to_string()))?;
        }
        d.set_item(key, list)?;
    }
    Ok(d)
}

/// Stops recording; returns whether it was on.
#[pyfunction]
fn stop_tracking() -> PyResult<bool> {
    Ok(tracer()?.activity_stop_tracking())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(enable, m)?)?;
    m.add_function(wrap_pyfunction!(enabled, m)?)?;
    m.add_function(wrap_pyfunction!(live_count, m)?)?;
    m.add_function(wrap_pyfunction!(live, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(start_tracking, m)?)?;
    m.add_function(wrap_pyfunction!(checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(stop_tracking, m)?)?;
    m.add_function(wrap_pyfunction!(crate::heap::heap_allocations, m)?)?;
    Ok(())
}
