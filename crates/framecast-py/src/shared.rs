//! A Rust object that Python threads share and one call ends (a sender's
//! `finish`, a receiver's `stop`).

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

use crate::FramecastError;

/// The object behind a Python handle: each call clones the `Arc` out, the
/// ending call takes it. The lock is held only for that clone or take,
/// never while Python runs or the GIL is released, so a thread waiting
/// without the GIL (a `pull`) and one ending the object cannot deadlock.
pub(crate) struct Shared<T> {
    inner: Mutex<Option<Arc<T>>>,
    /// What calls after the end say: "the sender is finished".
    ended: &'static str,
}

impl<T> Shared<T> {
    pub(crate) fn new(value: T, ended: &'static str) -> Shared<T> {
        Shared {
            inner: Mutex::new(Some(Arc::new(value))),
            ended,
        }
    }

    /// The object, for one call; an error once it has ended.
    pub(crate) fn get(&self) -> PyResult<Arc<T>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| FramecastError::new_err(self.ended))
    }

    /// The object, taken out to end it; an error if it already ended.
    pub(crate) fn take(&self) -> PyResult<Arc<T>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| FramecastError::new_err(self.ended))
    }

    /// Whether it has not ended yet.
    pub(crate) fn is_open(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
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
