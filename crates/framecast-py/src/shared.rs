//! A Rust object that Python threads share and one call ends (a sender's
//! `finish`, a receiver's `stop`).

use framecast::sync::MutexExt;
use std::panic::Location;
use std::sync::{Arc, Mutex};

use framecast::trace::{self, Interest, ObjectId, ObjectInfo, ObjectKind, ObjectLabel};
use pyo3::prelude::*;

use crate::FramecastError;

/// The Python object as tracers see it: an object of kind `Sender` or
/// `Receiver`, created where the Python code made it (`leak.py:10`, from
/// the calling frame) and destroyed when the object ends or is collected.
/// The pipeline it runs is linked under it, so a leak report names the
/// user's line first, with the pipeline's elements, pads and pools as its
/// parts, instead of a hundred lines inside framecast.
pub(crate) struct Traced {
    id: ObjectId,
    kind: ObjectKind,
    owns: Option<ObjectId>,
}

impl Traced {
    /// `kind` names the Python class. Made before the pipeline, so reports
    /// (oldest first) list it before what it holds.
    #[track_caller]
    pub(crate) fn new(py: Python<'_>, kind: &'static str) -> Traced {
        let id = ObjectId::next();
        let kind = ObjectKind::Other(kind);
        let site = Location::caller();
        trace::object_created(|| ObjectInfo {
            id,
            kind,
            site,
            size: 0,
            parent: None,
            description: "",
            may_be_leaked: false,
        });
        // Reading the frame costs a few Python calls: only while a tracer
        // listens.
        if trace::interests().contains(Interest::LIFECYCLE) {
            let origin = python_caller(py);
            trace::object_labelled(id, kind, || ObjectLabel {
                name: "",
                origin: origin.as_deref(),
            });
        }
        Traced {
            id,
            kind,
            owns: None,
        }
    }

    /// Links the pipeline it runs under it.
    pub(crate) fn owns(mut self, pipeline: ObjectId) -> Traced {
        trace::object_linked(pipeline, self.id);
        self.owns = Some(pipeline);
        self
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        if let Some(pipeline) = self.owns {
            trace::object_unlinked(pipeline, self.id);
        }
        trace::object_destroyed(self.id, self.kind);
    }
}

/// `file:line` of the Python code running now: a Rust function called
/// from Python has no frame of its own, so the innermost frame is the
/// caller's. `None` where the interpreter has no frames to show.
fn python_caller(py: Python<'_>) -> Option<String> {
    let frame = py
        .import("sys")
        .ok()?
        .call_method1("_getframe", (0,))
        .ok()?;
    let file: String = frame
        .getattr("f_code")
        .ok()?
        .getattr("co_filename")
        .ok()?
        .extract()
        .ok()?;
    let line: u32 = frame.getattr("f_lineno").ok()?.extract().ok()?;
    Some(format!("{file}:{line}"))
}

/// The object behind a Python handle: each call clones the `Arc` out, the
/// ending call takes it. The lock is held only for that clone or take,
/// never while Python runs or the GIL is released, so a thread waiting
/// without the GIL (a `pull`) and one ending the object cannot deadlock.
pub(crate) struct Shared<T> {
    /// The object, and its report to tracers, which ends with it.
    inner: Mutex<Option<(Arc<T>, Traced)>>,
    /// What calls after the end say: "the sender is finished".
    ended: &'static str,
}

impl<T> Shared<T> {
    pub(crate) fn new(value: T, traced: Traced, ended: &'static str) -> Shared<T> {
        Shared {
            inner: Mutex::new(Some((Arc::new(value), traced))),
            ended,
        }
    }

    /// The object, for one call; an error once it has ended.
    pub(crate) fn get(&self) -> PyResult<Arc<T>> {
        self.inner
            .locked()
            .as_ref()
            .map(|(value, _)| Arc::clone(value))
            .ok_or_else(|| FramecastError::new_err(self.ended))
    }

    /// The object, taken out to end it; an error if it already ended.
    pub(crate) fn take(&self) -> PyResult<Arc<T>> {
        self.inner
            .locked()
            .take()
            // Ended: no longer the user's to finish, whatever still runs.
            .map(|(value, _traced)| value)
            .ok_or_else(|| FramecastError::new_err(self.ended))
    }

    /// Whether it has not ended yet.
    pub(crate) fn is_open(&self) -> bool {
        self.inner.locked().is_some()
    }

    /// `__exit__`: ends the object with `end` unless it already ended.
    /// When the block raised (`ty` is an exception type), that exception
    /// goes on and a failure to end is not allowed to replace it.
    pub(crate) fn exit<R>(
        &self,
        ty: &Bound<'_, PyAny>,
        end: impl FnOnce() -> PyResult<R>,
    ) -> PyResult<bool> {
        if self.is_open() {
            let ended = end();
            if ty.is_none() {
                ended?;
            }
        }
        Ok(false)
    }
}
