//! [`Pipeline`]: a bin of elements with a bus, a clock and state changes
//! applied from the sinks upstream.

use framecast_core::sync::MutexExt;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use framecast_core::trace::{self, ObjectId, ObjectInfo, ObjectKind, ObjectLabel};
use framecast_core::ClockTime;

use super::bus::{Bus, Message};
use super::context::PipelineContext;
use super::element::Element;
use super::query::Query;
use super::refs;
use super::state::{State, StateChange, StateChangeSuccess};
use crate::{Error, Result};

struct PipelineInner {
    id: ObjectId,
    ctx: Arc<PipelineContext>,
    elements: Mutex<Vec<Element>>,
    state: Mutex<State>,
}

impl Drop for PipelineInner {
    fn drop(&mut self) {
        // Stop every thread and free every buffer before the elements go.
        let elements = std::mem::take(&mut *self.elements.locked());
        let current = *self.state.locked();
        if current != State::Null {
            let _ = change_all(&self.ctx, &elements, current, State::Null);
        }
        for element in &elements {
            element.set_context(None);
            trace::object_unlinked(element.id(), self.id);
        }
        trace::object_destroyed(self.id, KIND);
    }
}

/// A pipeline (`GstPipeline`): owns elements, gives them a bus, a clock and
/// a base time, and changes their states in order (sinks first, so that a
/// source never pushes into an element that is not ready, and a streaming
/// thread blocked downstream is released before its source is stopped).
///
/// Dropping a pipeline takes it to [`State::Null`]: every thread stops,
/// queues flush, pools deactivate, and every buffer is freed.
///
/// Clones are references, reported with their site to reference-tracking
/// tracers (`leaks(check-refs=true)`).
pub struct Pipeline(Arc<PipelineInner>);

/// The kind tracers see for a pipeline (GStreamer's `GstPipeline`).
const KIND: ObjectKind = ObjectKind::Other("Pipeline");

refs::reported_handle!(Pipeline, KIND);

impl Pipeline {
    /// An empty pipeline.
    #[track_caller]
    pub fn new(name: &str) -> Pipeline {
        let id = ObjectId::next();
        let site = std::panic::Location::caller();
        trace::object_created(|| ObjectInfo {
            id,
            kind: KIND,
            site,
            size: 0,
            parent: None,
            description: "",
            may_be_leaked: false,
        });
        trace::object_labelled(id, KIND, || ObjectLabel { name, origin: None });
        let inner = Arc::new(PipelineInner {
            id,
            ctx: PipelineContext::new(name),
            elements: Mutex::new(Vec::new()),
            state: Mutex::new(State::Null),
        });
        let weak = Arc::downgrade(&inner);
        inner.ctx.set_latency_hook(Box::new(move || {
            if let Some(inner) = weak.upgrade() {
                let elements = inner.elements.locked().clone();
                compute_latency(&inner.ctx, &elements);
            }
        }));
        Pipeline(inner)
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.0.ctx.name
    }

    /// Process-unique id (the one tracers report).
    pub fn id(&self) -> ObjectId {
        self.0.id
    }

    /// The bus.
    pub fn bus(&self) -> Bus {
        self.0.ctx.bus.clone()
    }

    /// Shared context: clock, base time, latency.
    pub fn context(&self) -> &Arc<PipelineContext> {
        &self.0.ctx
    }

    /// Post negotiated caps on the bus as [`Message::Caps`] (`launch -v`).
    pub fn set_verbose(&self, verbose: bool) {
        self.0.ctx.set_verbose(verbose);
    }

    /// Adds an element. Names must be unique within the pipeline, which
    /// holds a reference to it (reported as taken at the caller's site).
    #[track_caller]
    pub fn add(&self, element: &Element) -> Result<()> {
        let mut elements = self.0.elements.locked();
        if elements.iter().any(|e| e.name() == element.name()) {
            return Err(Error::Link {
                from: element.name().to_string(),
                to: self.name().to_string(),
                reason: format!(
                    "the pipeline already has an element named {:?}",
                    element.name()
                ),
            });
        }
        element.set_context(Some(self.0.ctx.clone()));
        // The bin owns its children: leak reports nest them under it.
        trace::object_linked(element.id(), self.0.id);
        elements.push(element.clone());
        Ok(())
    }

    /// Adds several elements.
    pub fn add_many(&self, elements: &[&Element]) -> Result<()> {
        elements.iter().try_for_each(|e| self.add(e))
    }

    /// Adds elements and links them in a chain.
    pub fn add_and_link(&self, elements: &[&Element]) -> Result<()> {
        self.add_many(elements)?;
        for pair in elements.windows(2) {
            pair[0].link(pair[1])?;
        }
        Ok(())
    }

    /// The element named `name` (a reference, reported as taken at the
    /// caller's site).
    #[track_caller]
    pub fn by_name(&self, name: &str) -> Option<Element> {
        let elements = self.0.elements.locked();
        let element = elements.iter().find(|e| e.name() == name)?;
        Some(element.clone())
    }

    /// All elements, in the order they were added.
    #[track_caller]
    pub fn elements(&self) -> Vec<Element> {
        refs::clone_all(self.0.elements.locked().iter())
    }

    /// The current state.
    pub fn state(&self) -> State {
        *self.0.state.locked()
    }

    /// The latency sinks add (computed when going to Playing).
    pub fn latency(&self) -> ClockTime {
        self.0.ctx.latency()
    }

    /// The running time of the last buffer a sink rendered (the position
    /// query, answered by the sinks; the furthest one wins).
    pub fn position(&self) -> Option<ClockTime> {
        let mut best: Option<ClockTime> = None;
        for sink in self.elements().iter().filter(|e| e.src_pads().is_empty()) {
            for pad in sink.sink_pads() {
                let mut query = Query::Position { result: None };
                if pad.query(&mut query) {
                    if let Query::Position { result: Some(t) } = query {
                        best = Some(best.map_or(t, |b| b.max(t)));
                    }
                }
            }
        }
        best
    }

    /// Changes state, one step at a time, every element sinks first. A
    /// failing element stops the change; its error is returned and posted.
    pub fn set_state(&self, target: State) -> Result<StateChangeSuccess> {
        let elements = self.elements();
        let mut state = self.0.state.locked();
        let current = *state;
        let result = change_all(&self.0.ctx, &elements, current, target);
        match result {
            Ok((success, reached)) => {
                *state = reached;
                Ok(success)
            }
            Err(failed) => {
                let (e, reached) = *failed;
                *state = reached;
                Err(e)
            }
        }
    }

    /// Ends the stream from the sources down (`gst-launch -e` on Ctrl-C):
    /// sends end-of-stream from every source pad of every source element
    /// (an element with no sink pads). The pipeline posts [`Message::Eos`]
    /// once every sink has it. Returns whether any peer took the event.
    ///
    /// The event is sent from the calling thread, out of band with the
    /// sources' streaming threads: a source stops at its next push, which
    /// downstream then refuses with EOS.
    pub fn send_eos(&self) -> bool {
        let mut handled = false;
        for element in self.elements() {
            if !element.sink_pads().is_empty() {
                continue;
            }
            handled |= element.send_event(super::event::Event::Eos);
        }
        handled
    }
}

type ChangeResult = std::result::Result<(StateChangeSuccess, State), Box<(Error, State)>>;

fn change_all(
    ctx: &Arc<PipelineContext>,
    elements: &[Element],
    mut current: State,
    target: State,
) -> ChangeResult {
    let order = sinks_first(elements);
    let mut overall = StateChangeSuccess::Success;
    while current != target {
        let next = current.next_towards(target);
        let Some(change) = StateChange::between(current, next) else {
            break;
        };
        if change == StateChange::ReadyToPaused {
            ctx.reset_eos(
                elements
                    .iter()
                    .filter(|e| e.src_pads().is_empty() && !e.sink_pads().is_empty())
                    .count(),
            );
        }
        if change == StateChange::PausedToPlaying {
            compute_latency(ctx, elements);
            ctx.set_base_time(ctx.clock.time());
        }
        for element in &order {
            if element.state() != current {
                continue;
            }
            match element.change_state(change) {
                Ok(StateChangeSuccess::NoPreroll) => overall = StateChangeSuccess::NoPreroll,
                Ok(StateChangeSuccess::Success) => {}
                Err(e) => {
                    ctx.bus.post(Message::Error {
                        source: element.name().to_string(),
                        message: e.to_string(),
                        debug: Some(format!("state change {change}")),
                    });
                    if change.is_upward() {
                        return Err(Box::new((e, current)));
                    }
                    // Going down never stops half-way: keep tearing down.
                }
            }
        }
        ctx.bus.post(Message::StateChanged {
            source: ctx.name.clone(),
            old: change.from(),
            new: change.to(),
        });
        current = next;
    }
    Ok((overall, current))
}

/// Elements ordered by distance from the sinks: sinks (no linked source
/// pads) first, sources last.
fn sinks_first(elements: &[Element]) -> Vec<Element> {
    let index: HashMap<_, _> = elements
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id(), i))
        .collect();
    let mut depth: Vec<Option<usize>> = vec![None; elements.len()];
    fn depth_of(
        i: usize,
        elements: &[Element],
        index: &HashMap<ObjectId, usize>,
        depth: &mut Vec<Option<usize>>,
        guard: usize,
    ) -> usize {
        if let Some(d) = depth[i] {
            return d;
        }
        if guard > elements.len() {
            return 0; // a loop in the graph: stop here
        }
        let mut d = 0;
        for pad in elements[i].src_pads() {
            if let Some(peer_element) = pad.peer().and_then(|p| p.element()) {
                if let Some(&j) = index.get(&peer_element.id()) {
                    d = d.max(depth_of(j, elements, index, depth, guard + 1) + 1);
                }
            }
        }
        depth[i] = Some(d);
        d
    }
    for i in 0..elements.len() {
        depth_of(i, elements, &index, &mut depth, 0);
    }
    let mut order: Vec<(usize, Element)> = elements
        .iter()
        .enumerate()
        .map(|(i, e)| (depth[i].unwrap_or(0), e.clone()))
        .collect();
    order.sort_by_key(|(d, _)| *d);
    order.into_iter().map(|(_, e)| e).collect()
}

/// Asks every sink for the latency upstream of it and takes the largest
/// minimum: that is what every sink must add so all render in step.
fn compute_latency(ctx: &PipelineContext, elements: &[Element]) {
    let mut live = false;
    let mut min = ClockTime::ZERO;
    let mut max: Option<ClockTime> = None;
    for sink in elements.iter().filter(|e| e.src_pads().is_empty()) {
        for pad in sink.sink_pads() {
            let mut query = Query::new_latency();
            if pad.peer_query(&mut query) {
                if let Query::Latency {
                    live: l,
                    min: mn,
                    max: mx,
                } = query
                {
                    live |= l;
                    min = min.max(mn);
                    max = match (max, mx) {
                        (None, m) | (m, None) => m,
                        (Some(a), Some(b)) => Some(a.min(b)),
                    };
                }
            }
        }
    }
    ctx.set_latency(if live { min } else { ClockTime::ZERO });
    ctx.bus.post(Message::Latency { live, min, max });
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name())
            .field("state", &self.state())
            .field(
                "elements",
                &self
                    .elements()
                    .iter()
                    .map(|e| e.name().to_string())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
