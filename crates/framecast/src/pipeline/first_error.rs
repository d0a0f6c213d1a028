//! The first error a pipeline's elements post, kept for the calls that
//! follow: a [`Sender`](crate::sender::Sender) whose encoder failed must
//! refuse the next push, and a [`Receiver`](crate::receiver::Receiver)
//! whose decoder failed must not look like a stream that ended.

use std::sync::atomic::{AtomicBool, Ordering};
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
}

impl FirstError {
    /// Starts watching `bus`. It takes the bus's sync handler.
    pub(crate) fn watch(bus: &Bus) -> Arc<FirstError> {
        let first = Arc::new(FirstError::default());
        let seen = first.clone();
        bus.set_sync_handler(Some(move |message: &Message| {
            if let Message::Error {
                source,
                message,
                debug,
            } = message
            {
                let mut error = seen.error.lock().unwrap_or_else(|e| e.into_inner());
                if error.is_none() {
                    let message = match debug {
                        Some(debug) => format!("{message} ({debug})"),
                        None => message.clone(),
                    };
                    *error = Some((source.clone(), message));
                    seen.failed.store(true, Ordering::Release);
                }
            }
        }));
        first
    }

    /// `Ok` while no element failed; the first failure's error after.
    pub(crate) fn check(&self) -> Result<()> {
        if !self.failed.load(Ordering::Acquire) {
            return Ok(());
        }
        match &*self.error.lock().unwrap_or_else(|e| e.into_inner()) {
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
        assert_eq!(first.check().unwrap_err().to_string(), err);
        // Both are still there for whoever reads the bus.
        assert!(bus.timed_pop(Some(std::time::Duration::ZERO)).is_some());
        assert!(bus.timed_pop(Some(std::time::Duration::ZERO)).is_some());
    }
}
