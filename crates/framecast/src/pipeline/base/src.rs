//! [`Source`]: the streaming loop of a source element (`GstBaseSrc`).

use crate::pipeline::element::property_hooks;
use framecast_core::sync::{CondvarExt, MutexExt};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use framecast_core::{Buffer, BufferFlags, BufferPool, ClockTime, ReferenceTimestampMeta};

use super::negotiate_pool;
use super::Settings;
use crate::pipeline::bus::Message;
use crate::pipeline::caps::Caps;
use crate::pipeline::clock::ClockCancel;
use crate::pipeline::element::{Element, ElementImpl};
use crate::pipeline::event::{Event, Segment};
use crate::pipeline::flow::FlowError;
use crate::pipeline::pad::Pad;
use crate::pipeline::property::{PropertySpec, PropertyValue};
use crate::pipeline::query::Query;
use crate::pipeline::state::{StateChange, StateChangeSuccess};
use crate::{Error, Result};

/// What a source element implements; [`Source`] runs the loop around it:
/// negotiation, the allocation query, timestamps, EOS and errors.
pub trait SourceImpl: Send + Sync + 'static {
    /// The caps this source can produce now (given its properties). ANY
    /// caps (the default) mean a byte stream: no negotiation and no pool.
    fn caps(&self, _element: &Element) -> Caps {
        Caps::new_any()
    }

    /// Picks fixed caps out of the negotiated ones (default: GStreamer's
    /// default fixation).
    fn fixate(&self, _element: &Element, caps: Caps) -> Caps {
        caps.fixate().unwrap_or(caps)
    }

    /// The caps are decided: prepare for them. Returns the buffer size the
    /// source will fill, for the pool (0, the default = no pool: the source
    /// makes its own buffers).
    fn set_caps(&self, _element: &Element, _caps: &Caps) -> Result<usize> {
        Ok(0)
    }

    /// Produces the next buffer; `Err(FlowError::Eos)` at the end. A live
    /// source blocks here until its data exists (and returns
    /// `Err(FlowError::Flushing)` once [`unlock`](Self::unlock) was called).
    fn create(
        &self,
        element: &Element,
        ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError>;

    /// Whether the source is live (produces in Playing only, at its own pace).
    fn is_live(&self, _element: &Element) -> bool {
        false
    }

    /// The latency this source adds: `(min, max)`.
    fn latency(&self, _element: &Element) -> (ClockTime, Option<ClockTime>) {
        (ClockTime::ZERO, None)
    }

    /// The allocation query decided `pool` (active) for the negotiated caps;
    /// `create` gets it too through [`CreateContext::pool`].
    fn pool_decided(&self, _element: &Element, _pool: &BufferPool) {}

    /// Buffers of its pool this source and the element after it can hold
    /// at once: the pool's minimum (when downstream claims fewer), made
    /// before the first buffer, so that steady state never grows the pool.
    /// Default 2: the one being filled and the one downstream works on.
    fn pool_min_buffers(&self, _element: &Element) -> u32 {
        2
    }

    /// Ready -> Paused: open devices or files.
    fn start(&self, _element: &Element) -> Result<()> {
        Ok(())
    }

    /// Paused -> Ready: close them.
    fn stop(&self, _element: &Element) {}

    /// The application asked for end-of-stream. Return true if the source
    /// ends its stream itself (appsrc queues EOS behind its data); false
    /// lets the base class end it before the next buffer.
    fn eos_requested(&self, _element: &Element) -> bool {
        false
    }

    /// Wake a `create` blocked waiting for data: the source is stopping.
    fn unlock(&self, _element: &Element) {}

    /// Unlocking is over (the source may block again).
    fn unlock_stop(&self, _element: &Element) {}

    /// An upstream event reached the source pad from downstream (a
    /// receiver's keyframe request, [`Event::force_key_unit_upstream`]):
    /// whether the source acted on it. None does by default; `udpsrc`
    /// turns a keyframe request into an RTCP PLI to the sender.
    fn upstream_event(&self, _element: &Element, _event: &Event) -> bool {
        false
    }

    property_hooks!();
}

/// What `create` gets besides the element: the negotiated pool and clock
/// helpers.
pub struct CreateContext<'a> {
    /// The pool decided by the allocation query, active.
    pub pool: Option<&'a BufferPool>,
    /// Buffers produced so far in this run.
    pub produced: u64,
    cancel: &'a ClockCancel,
}

impl std::fmt::Debug for CreateContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateContext")
            .field("pool", &self.pool.is_some())
            .field("produced", &self.produced)
            .finish()
    }
}

impl CreateContext<'_> {
    /// Waits until running time `rt` comes on the pipeline clock; false if
    /// the source is stopping.
    pub fn wait_running_time(&self, element: &Element, rt: ClockTime) -> bool {
        match element.context() {
            Some(ctx) => ctx.clock.wait_until(ctx.base_time() + rt, self.cancel),
            None => true,
        }
    }

    /// A buffer from the pool, or a fresh one of `size` bytes without one.
    pub fn acquire(&self, size: usize) -> std::result::Result<Buffer, FlowError> {
        match self.pool {
            Some(pool) => pool.acquire().map_err(FlowError::from_acquire),
            None => Buffer::with_size(size).map_err(|_| FlowError::Error),
        }
    }
}

/// A source's properties: those every source has, then `S`'s own.
pub(crate) fn source_properties_with<S: Settings>() -> Vec<PropertySpec> {
    let mut properties = source_properties();
    properties.extend(S::properties());
    properties
}

/// Properties every source has: `num-buffers`, `do-timestamp`.
pub fn source_properties() -> Vec<PropertySpec> {
    vec![
        PropertySpec::int(
            "num-buffers",
            "Number of buffers to output before sending EOS (-1 = unlimited)",
            -1..=i64::MAX,
            -1,
        ),
        PropertySpec::bool(
            "do-timestamp",
            "Stamp each buffer with the running time when it is made",
            false,
        ),
    ]
}

#[derive(Default)]
struct TaskControl {
    stop: AtomicBool,
    eos: AtomicBool,
    paused: Mutex<bool>,
    resume: Condvar,
}

/// A source element: wraps a [`SourceImpl`] with the streaming thread.
pub struct Source<S: SourceImpl> {
    imp: Arc<S>,
    task: Mutex<Option<JoinHandle<()>>>,
    control: Arc<TaskControl>,
    cancel: Arc<ClockCancel>,
    produced: Arc<AtomicU64>,
}

impl<S: SourceImpl> Source<S> {
    /// Wraps `imp`.
    pub fn new(imp: S) -> Source<S> {
        Source {
            imp: Arc::new(imp),
            task: Mutex::new(None),
            control: Arc::new(TaskControl::default()),
            cancel: Arc::new(ClockCancel::default()),
            produced: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The wrapped implementation.
    pub fn imp(&self) -> &S {
        &self.imp
    }

    /// Buffers pushed in the current run.
    pub fn produced(&self) -> u64 {
        self.produced.load(Ordering::Relaxed)
    }

    fn start_task(&self, element: &Element) {
        let mut task = self.task.locked();
        *self.control.paused.locked() = false;
        self.control.resume.notify_all();
        if task.is_some() {
            return;
        }
        self.control.stop.store(false, Ordering::Release);
        self.control.eos.store(false, Ordering::Release);
        self.cancel.reset();
        self.imp.unlock_stop(element);
        let thread_element = element.clone();
        let imp = self.imp.clone();
        let control = self.control.clone();
        let cancel = self.cancel.clone();
        let produced = self.produced.clone();
        let name = format!("fc-{}", element.name());
        let spawned = std::thread::Builder::new()
            .name(name)
            .spawn(move || run_loop(&thread_element, &*imp, &control, &cancel, &produced));
        match spawned {
            Ok(handle) => *task = Some(handle),
            Err(e) => element.post_error(format!("cannot start the streaming thread: {e}"), None),
        }
    }

    fn stop_task(&self, element: &Element) {
        self.control.stop.store(true, Ordering::Release);
        *self.control.paused.locked() = false;
        self.control.resume.notify_all();
        self.cancel.cancel();
        self.imp.unlock(element);
        let handle = self.task.locked().take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

fn flow_to_error(element: &Element, src_pad: &Pad, reason: FlowError) {
    let downstream = src_pad.peer_element_name();
    element.post_message(Message::Error {
        source: element.name().to_string(),
        message: format!("Internal data stream error: streaming stopped, reason {reason}"),
        debug: Some(format!("pushing to {downstream}")),
    });
}

/// Ends the stream after `reason` stopped the loop (not flushing): EOS
/// downstream, after an error on the bus unless the stream simply ended.
fn end_stream(element: &Element, src_pad: &Pad, reason: FlowError) {
    if !matches!(reason, FlowError::Eos) {
        flow_to_error(element, src_pad, reason);
    }
    src_pad.push_event(Event::Eos);
}

fn negotiate<S: SourceImpl>(
    element: &Element,
    imp: &S,
    src_pad: &Pad,
) -> std::result::Result<Option<BufferPool>, FlowError> {
    let mine = imp.caps(element);
    if mine.is_any() {
        // A byte stream (fdsrc, fakesrc, appsrc without caps): no format to
        // agree on, and buffers come from the source itself.
        return Ok(None);
    }
    let peer = src_pad.peer_query_caps(Some(&mine));
    let caps = mine.intersect(&peer);
    let downstream = src_pad.peer_element_name();
    if caps.is_empty() {
        let err = Error::NotNegotiated {
            upstream: element.name().to_string(),
            downstream,
            reason: format!(
                "{} can produce {mine} but downstream accepts {peer}",
                element.name()
            ),
        };
        element.post_error(err.to_string(), None);
        return Err(FlowError::NotNegotiated);
    }
    let caps = imp.fixate(element, caps);
    if !caps.is_fixed() {
        element.post_error(format!("could not fixate caps {caps}"), None);
        return Err(FlowError::NotNegotiated);
    }
    let size = match imp.set_caps(element, &caps) {
        Ok(size) => size,
        Err(e) => {
            element.post_error(e.to_string(), None);
            return Err(FlowError::NotNegotiated);
        }
    };
    if !src_pad.push_event(Event::Caps(caps.clone())) {
        let err = Error::NotNegotiated {
            upstream: element.name().to_string(),
            downstream,
            reason: format!("downstream refused caps {caps}"),
        };
        element.post_error(err.to_string(), None);
        return Err(FlowError::NotNegotiated);
    }
    if let Some(ctx) = element.context() {
        // The latency may depend on the caps (a frame at the framerate).
        ctx.update_latency();
    }
    if size == 0 {
        return Ok(None);
    }
    match negotiate_pool(element, src_pad, &caps, size, imp.pool_min_buffers(element)) {
        Ok(pool) => {
            imp.pool_decided(element, &pool);
            Ok(Some(pool))
        }
        Err(e) => {
            element.post_error(format!("allocation failed: {e}"), None);
            Err(FlowError::Error)
        }
    }
}

fn run_loop<S: SourceImpl>(
    element: &Element,
    imp: &S,
    control: &TaskControl,
    cancel: &ClockCancel,
    produced: &AtomicU64,
) {
    let Some(src_pad) = element.src_pad() else {
        element.post_error("source has no source pad", None);
        return;
    };
    produced.store(0, Ordering::Relaxed);
    src_pad.push_event(Event::StreamStart {
        stream_id: element.name().to_string(),
    });
    let pool = match negotiate(element, imp, &src_pad) {
        Ok(pool) => pool,
        Err(reason) => {
            if reason != FlowError::Flushing {
                src_pad.push_event(Event::Eos);
            }
            return;
        }
    };
    src_pad.push_event(Event::Segment(Segment::default()));
    let num_buffers = element.prop_i64("num-buffers");
    let do_timestamp = element.prop_bool("do-timestamp");
    let live = imp.is_live(element);
    let mut count: u64 = 0;
    let mut discont = true;
    loop {
        {
            let mut paused = control.paused.locked();
            while *paused && !control.stop.load(Ordering::Acquire) {
                paused = control.resume.wait_locked(paused);
            }
        }
        if control.stop.load(Ordering::Acquire) {
            break;
        }
        if control.eos.load(Ordering::Acquire) {
            src_pad.push_event(Event::Eos);
            break;
        }
        if num_buffers >= 0 && count >= num_buffers as u64 {
            src_pad.push_event(Event::Eos);
            break;
        }
        let mut ctx = CreateContext {
            pool: pool.as_ref(),
            produced: count,
            cancel,
        };
        let result = imp.create(element, &mut ctx);
        let mut buffer = match result {
            Ok(buffer) => buffer,
            Err(FlowError::Flushing) => {
                if control.eos.load(Ordering::Acquire) {
                    src_pad.push_event(Event::Eos);
                }
                break;
            }
            Err(reason) => {
                end_stream(element, &src_pad, reason);
                break;
            }
        };
        if discont {
            // The stream's first buffer (or the first after a flush) must
            // carry DISCONT even when the subclass hands out a shared one
            // (appsrc with a frame the application kept): copy-on-write as
            // `gst_buffer_make_writable` does, once per start, not per frame.
            buffer.make_mut().set_flags(BufferFlags::DISCONT);
            discont = false;
        }
        if let Some(b) = buffer.get_mut() {
            if (do_timestamp || live) && b.pts().is_none() {
                if let Some(ctx) = element.context() {
                    let now = ctx.running_time();
                    b.set_pts(Some(now));
                    b.set_dts(Some(now));
                }
            }
            if live {
                b.set_flags(BufferFlags::LIVE);
            }
            if b.meta::<ReferenceTimestampMeta>().is_none() {
                if let Some(ctx) = element.context() {
                    b.add_meta(ReferenceTimestampMeta::capture(ctx.clock.time()));
                }
            }
        }
        count += 1;
        produced.store(count, Ordering::Relaxed);
        match src_pad.push(buffer) {
            Ok(_) => {}
            Err(FlowError::Flushing) => break,
            Err(reason) => {
                end_stream(element, &src_pad, reason);
                break;
            }
        }
    }
    if let Some(pool) = pool {
        // Buffers still out (queued downstream, held by the application)
        // are freed when they come back.
        let _ = pool.set_active(false);
    }
}

fn answer_latency<S: SourceImpl>(element: &Element, imp: &S, query: &mut Query) -> bool {
    if let Query::Latency { live, min, max } = query {
        let (lmin, lmax) = imp.latency(element);
        *live = imp.is_live(element);
        *min = lmin;
        *max = lmax;
        return true;
    }
    false
}

impl<S: SourceImpl> ElementImpl for Source<S> {
    fn src_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        self.imp.upstream_event(element, &event) || element.forward_event(pad, event)
    }

    fn send_event(&self, element: &Element, event: Event) -> bool {
        if !matches!(event, Event::Eos) {
            let mut handled = false;
            for pad in element.src_pads() {
                handled |= pad.push_event(event.clone());
            }
            return handled;
        }
        if self.imp.eos_requested(element) {
            return true;
        }
        // End before the next buffer; wake a live source waiting for its
        // next frame time, or for data.
        self.control.eos.store(true, Ordering::Release);
        self.cancel.cancel();
        // A source blocked in I/O (fdsrc waiting on a quiet pipe) must wake
        // up too: it produces nothing more after EOS anyway.
        self.imp.unlock(element);
        if self.task.locked().is_none() {
            // Not streaming: nothing will push it, so push it here.
            return element
                .src_pads()
                .iter()
                .any(|pad| pad.push_event(Event::Eos));
        }
        true
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.imp.property_changed(element, name, value)
    }

    fn read_property(&self, element: &Element, name: &str) -> Option<PropertyValue> {
        self.imp.read_property(element, name)
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        match query {
            Query::Latency { .. } => answer_latency(element, &*self.imp, query),
            Query::Caps { filter, result } => {
                let mut caps = self.imp.caps(element);
                if let Some(f) = filter {
                    caps = caps.intersect(f);
                }
                *result = Some(caps);
                true
            }
            _ => element.default_query(pad, query),
        }
    }

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => {
                self.imp.start(element)?;
                if self.imp.is_live(element) {
                    return Ok(StateChangeSuccess::NoPreroll);
                }
            }
            StateChange::PausedToPlaying => self.start_task(element),
            StateChange::PlayingToPaused => {
                *self.control.paused.locked() = true;
                if self.imp.is_live(element) {
                    return Ok(StateChangeSuccess::NoPreroll);
                }
            }
            StateChange::PausedToReady => {
                self.stop_task(element);
                self.imp.stop(element);
            }
            StateChange::NullToReady | StateChange::ReadyToNull => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
