//! Pads: an element's inputs (sink pads) and outputs (source pads), linked
//! in pairs. Buffers and serialized events flow downstream by push on the
//! streaming thread; queries and upstream events travel the other way.

use framecast_core::sync::MutexExt;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use arc_swap::ArcSwapOption;
use framecast_core::trace::{self, ObjectId, ObjectInfo, ObjectKind, ObjectLabel, PadPush};
use framecast_core::{Buffer, ReferenceTimestampMeta};

use super::bus::Message;
use super::caps::Caps;
use super::element::{Element, ElementInner};
use super::event::{Event, Segment};
use super::flow::{FlowError, FlowResult};
use super::query::Query;
use super::refs;
use crate::{Error, Result};

/// Which way data flows through a pad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PadDirection {
    /// Output: pushes buffers to its peer.
    Src,
    /// Input: receives buffers from its peer.
    Sink,
}

/// When a pad exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PadPresence {
    /// Always there.
    Always,
    /// Made on request (`tee`'s `src_%u`).
    Request,
    /// Appears when the stream says so (demuxers).
    Sometimes,
}

/// A description of pads an element can have: name template, direction,
/// presence and the caps they can carry.
#[derive(Debug, Clone)]
pub struct PadTemplate {
    /// Name, or a template such as `src_%u`.
    pub name: &'static str,
    /// Direction.
    pub direction: PadDirection,
    /// Presence.
    pub presence: PadPresence,
    /// Caps the pad can carry.
    pub caps: Caps,
}

impl PadTemplate {
    /// An always-present pad template.
    pub fn always(name: &'static str, direction: PadDirection, caps: Caps) -> PadTemplate {
        PadTemplate {
            name,
            direction,
            presence: PadPresence::Always,
            caps,
        }
    }

    /// An always-present pad template accepting any caps
    /// (`GST_STATIC_CAPS_ANY`): the sources and sinks that do not look at
    /// what they carry.
    pub fn always_any(name: &'static str, direction: PadDirection) -> PadTemplate {
        PadTemplate::always(name, direction, Caps::new_any())
    }

    /// The two always pads of a one-in, one-out element (`GstBaseTransform`'s
    /// `sink` and `src`): what it takes, then what it makes.
    pub fn sink_src(sink: Caps, src: Caps) -> Vec<PadTemplate> {
        vec![
            PadTemplate::always("sink", PadDirection::Sink, sink),
            PadTemplate::always("src", PadDirection::Src, src),
        ]
    }

    /// A request pad template.
    pub fn request(name: &'static str, direction: PadDirection, caps: Caps) -> PadTemplate {
        PadTemplate {
            name,
            direction,
            presence: PadPresence::Request,
            caps,
        }
    }
}

pub(crate) struct PadInner {
    id: ObjectId,
    name: String,
    full_name: String,
    direction: PadDirection,
    template_caps: Caps,
    element: Weak<ElementInner>,
    /// Source pads: the peer sink pad (strong).
    peer: ArcSwapOption<PadInner>,
    /// Sink pads: the peer source pad (weak, so links do not form cycles).
    upstream: Mutex<Weak<PadInner>>,
    caps: Mutex<Option<Caps>>,
    segment: Mutex<Segment>,
    /// The stream id of the last stream-start through this pad.
    stream_id: Mutex<Option<String>>,
    /// Source pads: the peer has not seen this pad's sticky events
    /// (stream-start, caps, segment) yet, because it was linked, or the pad
    /// was made, after they went by. They are sent before the next buffer.
    sticky_pending: AtomicBool,
    flushing: AtomicBool,
    eos: AtomicBool,
}

impl Drop for PadInner {
    fn drop(&mut self) {
        // The link's reference to the peer goes with this pad.
        if let Some(peer) = self.peer.swap(None) {
            refs::given_back(&peer, peer.id, ObjectKind::Pad);
        }
        trace::object_destroyed(self.id, ObjectKind::Pad);
    }
}

/// A pad (`GstPad`): a handle; clones refer to the same pad.
///
/// Every handle is a reference: clones, and the handles [`peer`](Pad::peer)
/// and the engine make, are reported with their site to reference-tracking
/// tracers (`leaks(check-refs=true)`), and so is a link's reference to its
/// sink pad.
pub struct Pad(pub(crate) Arc<PadInner>);

refs::reported_handle!(Pad, ObjectKind::Pad);

impl Pad {
    /// Reported to tracers as made at the caller's site (the element's
    /// creation, or the `request_pad` call), named `element:pad`.
    #[track_caller]
    pub(crate) fn new(
        element: &Arc<ElementInner>,
        element_name: &str,
        name: &str,
        template: &PadTemplate,
    ) -> Pad {
        let id = ObjectId::next();
        let site = std::panic::Location::caller();
        trace::object_created(|| ObjectInfo {
            id,
            kind: ObjectKind::Pad,
            site,
            size: 0,
            parent: Some(element.id),
            description: "",
            may_be_leaked: false,
        });
        let full_name = format!("{element_name}:{name}");
        trace::object_labelled(id, ObjectKind::Pad, || ObjectLabel {
            name: &full_name,
            origin: None,
        });
        Pad(Arc::new(PadInner {
            id,
            name: name.to_string(),
            full_name,
            direction: template.direction,
            template_caps: template.caps.clone(),
            element: Arc::downgrade(element),
            peer: ArcSwapOption::empty(),
            upstream: Mutex::new(Weak::new()),
            caps: Mutex::new(None),
            segment: Mutex::new(Segment::default()),
            stream_id: Mutex::new(None),
            sticky_pending: AtomicBool::new(false),
            flushing: AtomicBool::new(true),
            eos: AtomicBool::new(false),
        }))
    }

    /// A handle for a strong reference taken elsewhere (a link's peer, an
    /// upgraded weak reference), reported as taken at the caller's site.
    /// Takes an `Option` so callers need no `map`: a `#[track_caller]`
    /// function passed as a value loses its caller.
    #[track_caller]
    fn from_inner(inner: Option<Arc<PadInner>>) -> Option<Pad> {
        let inner = inner?;
        refs::taken(inner.id, ObjectKind::Pad);
        Some(Pad(inner))
    }

    /// The pad's name (`src`, `sink`, `src_0`).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// `element:pad`, for messages.
    pub fn full_name(&self) -> &str {
        &self.0.full_name
    }

    /// Process-unique id.
    pub fn id(&self) -> ObjectId {
        self.0.id
    }

    /// Direction.
    pub fn direction(&self) -> PadDirection {
        self.0.direction
    }

    /// The caps of the pad's template.
    pub fn template_caps(&self) -> &Caps {
        &self.0.template_caps
    }

    /// The element the pad belongs to (`None` once it is gone).
    #[track_caller]
    pub fn element(&self) -> Option<Element> {
        Element::from_inner(self.0.element.upgrade())
    }

    /// The negotiated caps, once a caps event went through.
    pub fn caps(&self) -> Option<Caps> {
        self.0.caps.locked().clone()
    }

    /// The last segment received (sink pads) or sent (source pads).
    pub fn segment(&self) -> Segment {
        *self.0.segment.locked()
    }

    /// The linked peer pad.
    #[track_caller]
    pub fn peer(&self) -> Option<Pad> {
        match self.0.direction {
            PadDirection::Src => Pad::from_inner(self.0.peer.load_full()),
            PadDirection::Sink => Pad::from_inner(self.0.upstream.locked().upgrade()),
        }
    }

    /// The name of the element the peer pad belongs to, or
    /// `"(unlinked)"`: for messages that name both sides of a link.
    pub fn peer_element_name(&self) -> String {
        self.peer()
            .and_then(|p| p.element())
            .map_or_else(|| "(unlinked)".to_string(), |e| e.name().to_string())
    }

    /// Whether the pad is linked.
    pub fn is_linked(&self) -> bool {
        // Without making a handle: no reference to report.
        match self.0.direction {
            PadDirection::Src => self.0.peer.load().is_some(),
            PadDirection::Sink => self.0.upstream.locked().strong_count() > 0,
        }
    }

    /// Whether the pad refuses data (inactive, or between flush-start and
    /// flush-stop).
    pub fn is_flushing(&self) -> bool {
        self.0.flushing.load(Ordering::Acquire)
    }

    /// Sets or clears flushing (pad activation).
    pub fn set_flushing(&self, flushing: bool) {
        self.0.flushing.store(flushing, Ordering::Release);
        if !flushing {
            self.0.eos.store(false, Ordering::Release);
        }
    }

    /// Whether EOS went through this pad.
    pub fn is_eos(&self) -> bool {
        self.0.eos.load(Ordering::Acquire)
    }

    /// Links this source pad to `sink`. Both must be free, in the right
    /// directions, and their template caps must intersect. The link holds a
    /// reference to `sink`, reported as taken here.
    #[track_caller]
    pub fn link(&self, sink: &Pad) -> Result<()> {
        let fail = |reason: String| Error::Link {
            from: self.full_name().to_string(),
            to: sink.full_name().to_string(),
            reason,
        };
        if self.direction() != PadDirection::Src || sink.direction() != PadDirection::Sink {
            return Err(fail("link goes from a source pad to a sink pad".into()));
        }
        if self.is_linked() {
            return Err(fail(format!("{} is already linked", self.full_name())));
        }
        if sink.is_linked() {
            return Err(fail(format!("{} is already linked", sink.full_name())));
        }
        if !self.template_caps().can_intersect(sink.template_caps()) {
            return Err(fail(format!(
                "no common caps: {} produces {} but {} accepts {}",
                self.full_name(),
                self.template_caps(),
                sink.full_name(),
                sink.template_caps()
            )));
        }
        refs::taken(sink.0.id, ObjectKind::Pad);
        self.0.peer.store(Some(sink.0.clone()));
        *sink.0.upstream.locked() = Arc::downgrade(&self.0);
        if self.0.caps.locked().is_some() {
            // Linked mid-stream: the new peer gets stream-start, caps and
            // segment before the next buffer (GStreamer's sticky events).
            self.0.sticky_pending.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Takes over the sticky events (stream-start, caps, segment) `from`
    /// has seen, to send them before this source pad's next buffer: a
    /// request pad made mid-stream (a new `tee` branch) starts where the
    /// stream is.
    pub(crate) fn adopt_sticky(&self, from: &Pad) {
        let Some(caps) = from.caps() else {
            return;
        };
        *self.0.stream_id.locked() = from.0.stream_id.locked().clone();
        *self.0.caps.locked() = Some(caps);
        *self.0.segment.locked() = from.segment();
        self.0.sticky_pending.store(true, Ordering::Release);
    }

    /// Sends the sticky events to the peer if it has not seen them.
    fn send_pending_sticky(&self, peer: &Pad) {
        if !self.0.sticky_pending.load(Ordering::Acquire)
            || !self.0.sticky_pending.swap(false, Ordering::AcqRel)
        {
            return;
        }
        let stream_id = self.0.stream_id.locked().clone();
        if let Some(stream_id) = stream_id {
            peer.receive_event(Event::StreamStart { stream_id });
        }
        if let Some(caps) = self.caps() {
            peer.receive_event(Event::Caps(caps));
        }
        peer.receive_event(Event::Segment(self.segment()));
    }

    /// Unlinks the pad from its peer.
    pub fn unlink(&self) {
        match self.0.direction {
            PadDirection::Src => {
                if let Some(peer) = self.0.peer.swap(None) {
                    *peer.upstream.locked() = Weak::new();
                    refs::given_back(&peer, peer.id, ObjectKind::Pad);
                }
            }
            PadDirection::Sink => {
                let upstream = std::mem::take(&mut *self.0.upstream.locked());
                if let Some(up) = upstream.upgrade() {
                    if let Some(me) = up.peer.swap(None) {
                        refs::given_back(&me, me.id, ObjectKind::Pad);
                    }
                }
            }
        }
    }

    /// Pushes a buffer to the peer (source pads): runs the peer element's
    /// chain function on this thread and returns its result.
    pub fn push(&self, buffer: Buffer) -> FlowResult {
        let guard = self.0.peer.load();
        let Some(peer) = guard.as_ref() else {
            return Err(FlowError::NotLinked);
        };
        if peer.flushing.load(Ordering::Acquire) {
            return Err(FlowError::Flushing);
        }
        if peer.eos.load(Ordering::Acquire) {
            return Err(FlowError::Eos);
        }
        let Some(element) = Element::from_inner(peer.element.upgrade()) else {
            return Err(FlowError::Flushing);
        };
        let Some(peer) = Pad::from_inner(Some(Arc::clone(peer))) else {
            return Err(FlowError::NotLinked);
        };
        drop(guard);
        self.send_pending_sticky(&peer);
        if !trace::timing_wanted() {
            return element.0.imp.chain(&element, &peer, buffer);
        }
        let (id, size, pts) = (buffer.id(), buffer.size(), buffer.pts());
        let source_time = buffer.meta::<ReferenceTimestampMeta>().map(|m| m.timestamp);
        let describe = || PadPush {
            pad: self.0.id,
            pad_name: &self.0.full_name,
            peer_element: element.name(),
            buffer: id,
            size,
            pts,
            source_time,
        };
        trace::pad_push_pre(describe);
        let start = Instant::now();
        let result = element.0.imp.chain(&element, &peer, buffer);
        let elapsed = start.elapsed();
        trace::pad_push_post(describe, elapsed);
        trace::element_processed(element.id(), element.name(), elapsed);
        result
    }

    /// Sends an event from this pad: downstream events from a source pad go
    /// to the peer sink pad; upstream events from a sink pad go to the peer
    /// source pad. Returns whether it was handled.
    pub fn push_event(&self, event: Event) -> bool {
        match self.0.direction {
            PadDirection::Src => {
                if event.is_upstream() {
                    return false;
                }
                match &event {
                    Event::Caps(caps) => {
                        *self.0.caps.locked() = Some(caps.clone());
                        if let Some(element) = self.element() {
                            if let Some(ctx) = element.context() {
                                if ctx.verbose() {
                                    ctx.bus.post(Message::Caps {
                                        pad: self.full_name().to_string(),
                                        caps: caps.to_string(),
                                    });
                                }
                            }
                        }
                    }
                    Event::Segment(segment) => {
                        *self.0.segment.locked() = *segment;
                    }
                    Event::StreamStart { stream_id } => {
                        *self.0.stream_id.locked() = Some(stream_id.clone());
                    }
                    _ => {}
                }
                match self.peer() {
                    Some(peer) => peer.receive_event(event),
                    None => false,
                }
            }
            PadDirection::Sink => {
                if !event.is_upstream()
                    && !matches!(event, Event::FlushStart | Event::FlushStop { .. })
                {
                    return false;
                }
                match self.peer() {
                    Some(peer) => match peer.element() {
                        Some(element) => element.0.imp.src_event(&element, &peer, event),
                        None => false,
                    },
                    None => false,
                }
            }
        }
    }

    /// Delivers an event arriving at this sink pad to its element, keeping
    /// the pad's own state (caps, segment, flushing, EOS) up to date.
    pub(crate) fn receive_event(&self, event: Event) -> bool {
        if matches!(event, Event::Eos) && self.is_eos() {
            // One EOS per stream: a second one (an application EOS racing
            // the source's own) is absorbed here.
            return true;
        }
        match &event {
            Event::FlushStart => self.0.flushing.store(true, Ordering::Release),
            Event::FlushStop { .. } => {
                self.0.flushing.store(false, Ordering::Release);
                self.0.eos.store(false, Ordering::Release);
            }
            _ if self.is_flushing() => return false,
            Event::Caps(caps) => {
                *self.0.caps.locked() = Some(caps.clone());
            }
            Event::Segment(segment) => {
                *self.0.segment.locked() = *segment;
            }
            Event::StreamStart { stream_id } => {
                *self.0.stream_id.locked() = Some(stream_id.clone());
            }
            _ => {}
        }
        let is_eos = matches!(event, Event::Eos);
        let handled = match self.element() {
            Some(element) => element.0.imp.sink_event(&element, self, event),
            None => false,
        };
        if is_eos {
            self.0.eos.store(true, Ordering::Release);
        }
        handled
    }

    /// Asks the peer (and the elements behind it) a question.
    pub fn peer_query(&self, query: &mut Query) -> bool {
        match self.peer() {
            Some(peer) => peer.query(query),
            None => false,
        }
    }

    /// Asks this pad's own element about this pad.
    pub fn query(&self, query: &mut Query) -> bool {
        match self.element() {
            Some(element) => element.0.imp.query(&element, self, query),
            None => false,
        }
    }

    /// The caps the peer can handle, filtered; the template caps (or the
    /// filter) when unlinked.
    pub fn peer_query_caps(&self, filter: Option<&Caps>) -> Caps {
        let mut query = Query::new_caps(filter.cloned());
        if self.peer_query(&mut query) {
            if let Query::Caps {
                result: Some(caps), ..
            } = query
            {
                return caps;
            }
        }
        match filter {
            Some(f) => f.clone(),
            None => Caps::new_any(),
        }
    }

    /// Whether the peer accepts exactly these caps.
    pub fn peer_accept_caps(&self, caps: &Caps) -> bool {
        let mut query = Query::new_accept_caps(caps.clone());
        self.peer_query(&mut query) && matches!(query, Query::AcceptCaps { result: true, .. })
    }
}

impl PartialEq for Pad {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Pad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pad")
            .field("name", &self.0.full_name)
            .field("direction", &self.0.direction)
            .field("linked", &self.is_linked())
            .field("caps", &self.caps().map(|c| c.to_string()))
            .finish()
    }
}
