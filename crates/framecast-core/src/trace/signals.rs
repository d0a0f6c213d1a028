//! SIGUSR1 / SIGUSR2 for the leaks tracer, GStreamer's
//! `GST_LEAKS_TRACER_SIG` convention under the name
//! `FRAMECAST_LEAKS_TRACER_SIG`:
//!
//! - SIGUSR1 logs the live objects of every active leaks tracer;
//! - SIGUSR2 starts activity tracking the first time, and logs a checkpoint
//!   every later time.
//!
//! A signal handler may only do async-signal-safe work, so the handler just
//! sets a flag (`signal_hook::flag`); a watcher thread named
//! `framecast-leaks-signal` polls the flags every 50 ms and does the
//! logging, with ordinary locks and allocation.

#[cfg(unix)]
mod imp {
    use crate::sync::MutexExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;
    use std::time::Duration;

    use signal_hook::consts::{SIGUSR1, SIGUSR2};
    use signal_hook::SigId;

    const POLL: Duration = Duration::from_millis(50);

    #[derive(Debug)]
    struct Watcher {
        stop: Arc<AtomicBool>,
        thread: JoinHandle<()>,
        ids: Vec<SigId>,
    }

    static WATCHER: Mutex<Option<Watcher>> = Mutex::new(None);

    fn warn(what: &str, e: &dyn std::fmt::Display) {
        super::super::log_text(&format!("framecast leaks: {what}: {e}\n"));
    }

    /// Installs the handlers and starts the watcher, once.
    pub(crate) fn start() {
        let mut watcher = WATCHER.locked();
        if watcher.is_some() {
            return;
        }
        let usr1 = Arc::new(AtomicBool::new(false));
        let usr2 = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for (sig, flag) in [(SIGUSR1, &usr1), (SIGUSR2, &usr2)] {
            match signal_hook::flag::register(sig, Arc::clone(flag)) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    warn("cannot install the SIGUSR1/SIGUSR2 handler", &e);
                    for id in ids {
                        signal_hook::low_level::unregister(id);
                    }
                    return;
                }
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("framecast-leaks-signal".into())
            .spawn(move || {
                while !stop_flag.load(Ordering::Acquire) {
                    std::thread::park_timeout(POLL);
                    if usr1.swap(false, Ordering::AcqRel) {
                        for leaks in super::super::leaks::active() {
                            leaks.log_live_objects();
                        }
                    }
                    if usr2.swap(false, Ordering::AcqRel) {
                        for leaks in super::super::leaks::active() {
                            if leaks.is_tracking() {
                                let _ = leaks.activity_log_checkpoint();
                            } else if leaks.activity_start_tracking().is_ok() {
                                super::super::log_text(&format!(
                                    "activity tracking started [tracer {:?}]\n",
                                    super::super::Tracer::name(leaks.as_ref())
                                ));
                            }
                        }
                    }
                }
            });
        match spawned {
            Ok(thread) => *watcher = Some(Watcher { stop, thread, ids }),
            Err(e) => {
                warn("cannot start the signal watcher thread", &e);
                for id in ids {
                    signal_hook::low_level::unregister(id);
                }
            }
        }
    }

    /// Removes the handlers (the signals get their default action back) and
    /// stops the watcher.
    pub(crate) fn stop() {
        let Some(w) = WATCHER.locked().take() else {
            return;
        };
        for id in w.ids {
            signal_hook::low_level::unregister(id);
        }
        w.stop.store(true, Ordering::Release);
        w.thread.thread().unpark();
        let _ = w.thread.join();
    }

    /// Whether the watcher runs.
    pub(crate) fn running() -> bool {
        WATCHER.locked().is_some()
    }
}

#[cfg(not(unix))]
mod imp {
    /// No SIGUSR1/SIGUSR2 here; says so once, as GStreamer does.
    pub(crate) fn start() {
        super::super::log_text(
            "framecast leaks: FRAMECAST_LEAKS_TRACER_SIG is only supported on POSIX systems\n",
        );
    }
    pub(crate) fn stop() {}
    pub(crate) fn running() -> bool {
        false
    }
}

pub(crate) use imp::{running, start, stop};
