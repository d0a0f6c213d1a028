//! The first error a pipeline's elements post, kept for the calls that
//! follow: a [`Sender`](crate::sender::Sender) whose encoder failed must
//! refuse the next push, and a [`Receiver`](crate::receiver::Receiver)
//! whose decoder failed must not look like a stream that ended. The
//! latest warnings are kept too (a bounded few), for the application to
//! show: a decoder that meets parameter sets it cannot decode goes on,
//! but says so.

use framecast_core::sync::MutexExt;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::pipeline::{Bus, Message};
use crate::{Error, Result};

/// Watches a bus through its sync handler, so the error is seen when it
/// is posted, nothing is taken off the queue (the application may read
/// the bus too), and a check costs one atomic load until something fails.
#[derive(Debug, Default)]
pub(crate) struct FirstError {
    failed: AtomicBool,
    /// Element name and message (with the detail, when it has one).
    error: Mutex<Option<(String, String)>>,
    /// Warnings not yet taken, oldest first, at most [`WARNINGS_KEPT`]:
    /// `element: message`.
    warnings: Mutex<VecDeque<String>>,
    /// Warnings posted (taken, waiting or dropped).
    warnings_posted: AtomicU64,
}

/// Warnings kept until taken; older ones are dropped (and counted).
pub(crate) const WARNINGS_KEPT: usize = 16;

/// `message (debug)`, or `message`.
fn with_debug(message: &str, debug: &Option<String>) -> String {
    match debug {
        Some(debug) => format!("{message} ({debug})"),
        None => message.to_string(),
    }
}

impl FirstError {
    /// Starts watching `bus`. It takes the bus's sync handler.
    pub(crate) fn watch(bus: &Bus) -> Arc<FirstError> {
        let first = Arc::new(FirstError::default());
        let seen = first.clone();
        bus.set_sync_handler(Some(move |message: &Message| match message {
            Message::Error {
                source,
                message,
                debug,
            } => {
                let mut error = seen.error.locked();
                if error.is_none() {
                    *error = Some((source.clone(), with_debug(message, debug)));
                    seen.failed.store(true, Ordering::Release);
                }
            }
            Message::Warning {
                source,
                message,
                debug,
            } => {
                seen.warnings_posted.fetch_add(1, Ordering::Relaxed);
                let mut warnings = seen.warnings.locked();
                if warnings.len() == WARNINGS_KEPT {
                    warnings.pop_front();
                }
                warnings.push_back(format!("{source}: {}", with_debug(message, debug)));
            }
            _ => {}
        }));
        first
    }

    /// The warnings posted since the last call, oldest first (at most
    /// [`WARNINGS_KEPT`]). Allocates only when there are some.
    pub(crate) fn take_warnings(&self) -> Vec<String> {
        let mut warnings = self.warnings.locked();
        if warnings.is_empty() {
            return Vec::new();
        }
        warnings.drain(..).collect()
    }

    /// Warnings posted so far.
    pub(crate) fn warnings_posted(&self) -> u64 {
        self.warnings_posted.load(Ordering::Relaxed)
    }

    /// `Ok` while no element failed; the first failure's error after.
    pub(crate) fn check(&self) -> Result<()> {
        if !self.failed.load(Ordering::Acquire) {
            return Ok(());
        }
        match &*self.error.locked() {
            Some((element, message)) => Err(Error::Element {
                element: element.clone(),
                message: message.clone(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_error_and_leaves_the_queue_alone() {
        let bus = Bus::new();
        let first = FirstError::watch(&bus);
        assert!(first.check().is_ok());
        for (source, detail) in [("enc", Some("no memory".to_string())), ("sink", None)] {
            bus.post(Message::Error {
                source: source.into(),
                message: "failed".into(),
                debug: detail,
            });
        }
        let err = first.check().unwrap_err().to_string();
        assert_eq!(err, "enc: failed (no memory)");
        // Warnings are kept, the latest WARNINGS_KEPT of them.
        assert!(first.take_warnings().is_empty());
        for n in 0..WARNINGS_KEPT + 2 {
            bus.post(Message::Warning {
                source: "dec".into(),
                message: format!("w{n}"),
                debug: None,
            });
        }
        let warnings = first.take_warnings();
        assert_eq!(warnings.len(), WARNINGS_KEPT);
        assert_eq!(warnings[0], "dec: w2");
        assert_eq!(first.warnings_posted(), WARNINGS_KEPT as u64 + 2);
        assert!(first.take_warnings().is_empty());
        assert_eq!(first.check().unwrap_err().to_string(), err);
        // Both are still there for whoever reads the bus.
        assert!(bus.timed_pop(Some(std::time::Duration::ZERO)).is_some());
        assert!(bus.timed_pop(Some(std::time::Duration::ZERO)).is_some());
    }
}
