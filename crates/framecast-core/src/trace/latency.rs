//! The latency tracer: how long a buffer takes from its source to each
//! element downstream, and how long each element spends per buffer.
//!
//! It listens to [`pad_push_pre`](super::pad_push_pre) and
//! [`element_processed`](super::element_processed). The first push of a
//! buffer marks its origin (the pushing element, and the time); every later
//! push of the same media into an element records `now - origin` for the
//! pair (source, element). Elements that receive but never push are the
//! sinks, so "source to sink" is the pair whose element is marked `sink`.
//!
//! Transforms make new buffers, so the origin is found by, in order: the
//! buffer's id (same buffer pushed on), its source time (a reference
//! timestamp set at the source and carried through transforms), its PTS. A
//! pooled buffer reused for a new frame keeps its id but not its PTS, so an
//! id match whose PTS differs is a new frame. Origins are kept for the
//! last 4 096 keys (a frame takes one to a few); the map holding them is
//! sized once, so tracing allocates nothing per frame.
//!
//! Unlike GStreamer's latency tracer this needs no probe events and keeps
//! percentiles, not just averages.

use crate::sync::MutexExt;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::histogram::{Histogram, Summary};
use super::{Interest, ObjectId, PadPush, Tracer, TracerParams};

const MAX_ORIGINS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Buffer(ObjectId),
    SourceTime(u64),
    Pts(u64),
}

#[derive(Debug, Clone)]
struct Origin {
    source: Arc<str>,
    at: Instant,
    pts: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    origins: HashMap<Key, Origin>,
    order: VecDeque<Key>,
    /// By source, then by element reached.
    paths: BTreeMap<Arc<str>, BTreeMap<String, Histogram>>,
    processing: BTreeMap<String, Histogram>,
    pushers: BTreeSet<String>,
}

impl State {
    /// A state whose origin map and order never grow: the map with room
    /// for twice the origins kept, so the tombstones of removed ones are
    /// cleared by rehashing in place rather than into a new table — the
    /// tracer allocates nothing per frame once its paths exist.
    fn with_room() -> State {
        State {
            origins: HashMap::with_capacity(2 * (MAX_ORIGINS + 1)),
            order: VecDeque::with_capacity(MAX_ORIGINS + 1),
            ..State::default()
        }
    }

    fn remember(&mut self, key: Key, origin: &Origin) {
        if self.origins.insert(key, origin.clone()).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > MAX_ORIGINS {
            if let Some(old) = self.order.pop_front() {
                self.origins.remove(&old);
            }
        }
    }

    fn find(&self, push: &PadPush<'_>) -> Option<Origin> {
        let pts = push.pts.map(|t| t.nseconds());
        if let Some(o) = self.origins.get(&Key::Buffer(push.buffer)) {
            if o.pts == pts {
                return Some(o.clone());
            }
        }
        if let Some(t) = push.source_time {
            if let Some(o) = self.origins.get(&Key::SourceTime(t.nseconds())) {
                return Some(o.clone());
            }
        }
        pts.and_then(|p| self.origins.get(&Key::Pts(p)).cloned())
    }
}

/// Latency from a source to one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathLatency {
    /// The element that first pushed the media.
    pub source: String,
    /// The element it reached.
    pub element: String,
    /// `element` never pushed anything on: it is a sink.
    pub sink: bool,
    /// The figures.
    pub summary: Summary,
}

/// Per-buffer processing time of one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementTime {
    /// The element's name.
    pub element: String,
    /// The figures.
    pub summary: Summary,
}

/// Everything the latency tracer measured so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LatencySummary {
    /// Source-to-element latencies, sorted by source then element.
    pub paths: Vec<PathLatency>,
    /// Processing times, sorted by element.
    pub elements: Vec<ElementTime>,
}

impl LatencySummary {
    /// The path from `source` to `element`, if seen.
    pub fn path(&self, source: &str, element: &str) -> Option<&PathLatency> {
        self.paths
            .iter()
            .find(|p| p.source == source && p.element == element)
    }

    /// The processing time of `element`, if seen.
    pub fn element(&self, element: &str) -> Option<&ElementTime> {
        self.elements.iter().find(|e| e.element == element)
    }
}

impl fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.paths.is_empty() && self.elements.is_empty() {
            return writeln!(f, "latency: no buffers seen");
        }
        writeln!(f, "latency from source to element:")?;
        for p in &self.paths {
            let sink = if p.sink { " (sink)" } else { "" };
            writeln!(f, "  {} -> {}{sink}: {}", p.source, p.element, p.summary)?;
        }
        if !self.elements.is_empty() {
            writeln!(f, "processing time per buffer:")?;
            for e in &self.elements {
                writeln!(f, "  {}: {}", e.element, e.summary)?;
            }
        }
        Ok(())
    }
}

static INSTANCES: Mutex<Vec<Weak<LatencyTracer>>> = Mutex::new(Vec::new());

/// The latency tracer (`FRAMECAST_TRACERS=latency`). Find the active one
/// with [`trace::latency()`](super::latency).
#[derive(Debug)]
pub struct LatencyTracer {
    name: String,
    /// Log the summary when tracing ends (`log-on-deinit`, default true;
    /// off for a tracer that only feeds a live view such as the dashboard).
    log_on_deinit: bool,
    state: Mutex<State>,
}

fn element_of(pad_name: &str) -> &str {
    pad_name.split_once(':').map_or(pad_name, |(e, _)| e)
}

/// The active latency tracers, in activation order.
pub(crate) fn active() -> Vec<Arc<LatencyTracer>> {
    super::find_active(&INSTANCES)
}

impl LatencyTracer {
    /// A latency tracer named `name` (not yet active).
    pub fn new(name: &str) -> Arc<LatencyTracer> {
        LatencyTracer::with_logging(name, true)
    }

    /// A tracer named `name` that logs its summary at deinit or not.
    fn with_logging(name: &str, log_on_deinit: bool) -> Arc<LatencyTracer> {
        let t = Arc::new(LatencyTracer {
            name: name.to_string(),
            log_on_deinit,
            state: Mutex::new(State::with_room()),
        });
        INSTANCES.locked().push(Arc::downgrade(&t));
        t
    }

    /// Builds one from spec parameters (`latency(name=...,log-on-deinit=false)`).
    pub fn from_params(params: &TracerParams) -> Result<Arc<LatencyTracer>, crate::Error> {
        params.check_known("latency", &["name", "log-on-deinit"])?;
        Ok(LatencyTracer::with_logging(
            params.get("name").unwrap_or("latency"),
            params.bool("log-on-deinit", true)?,
        ))
    }

    /// The figures so far (on demand; the tracer keeps measuring).
    pub fn summary(&self) -> LatencySummary {
        let state = self.state.locked();
        LatencySummary {
            paths: state
                .paths
                .iter()
                .flat_map(|(source, elements)| {
                    elements.iter().map(|(element, h)| PathLatency {
                        source: source.to_string(),
                        element: element.clone(),
                        sink: !state.pushers.contains(element),
                        summary: h.summary(),
                    })
                })
                .collect(),
            elements: state
                .processing
                .iter()
                .map(|(element, h)| ElementTime {
                    element: element.clone(),
                    summary: h.summary(),
                })
                .collect(),
        }
    }

    /// Writes [`summary`](Self::summary) to stderr and returns it.
    pub fn log_summary(&self) -> LatencySummary {
        let summary = self.summary();
        let mut text = String::new();
        let _ = write!(text, "[tracer {:?}] {summary}", self.name);
        super::log_text(&text);
        summary
    }

    /// Forgets everything measured so far.
    pub fn reset(&self) {
        *self.state.locked() = State::with_room();
    }
}

impl Tracer for LatencyTracer {
    fn name(&self) -> &str {
        &self.name
    }

    fn interests(&self) -> Interest {
        Interest::PADS | Interest::ELEMENTS
    }

    fn pad_push_pre(&self, push: &PadPush<'_>) {
        let now = Instant::now();
        let pusher = element_of(push.pad_name);
        let mut state = self.state.locked();
        if !state.pushers.contains(pusher) {
            state.pushers.insert(pusher.to_string());
        }
        let origin = match state.find(push) {
            Some(o) => {
                // A transform's new buffer: remember it under its own id
                // too, so its next push is found directly.
                if !matches!(state.origins.get(&Key::Buffer(push.buffer)), Some(b) if b.pts == o.pts)
                {
                    state.remember(Key::Buffer(push.buffer), &o);
                }
                o
            }
            None => {
                // The source's name, shared with its paths' key once it
                // has one: a new frame allocates nothing.
                let source = match state.paths.get_key_value(pusher) {
                    Some((name, _)) => Arc::clone(name),
                    None => Arc::from(pusher),
                };
                let o = Origin {
                    source,
                    at: now,
                    pts: push.pts.map(|t| t.nseconds()),
                };
                state.remember(Key::Buffer(push.buffer), &o);
                if let Some(t) = push.source_time {
                    state.remember(Key::SourceTime(t.nseconds()), &o);
                }
                if let Some(p) = push.pts {
                    state.remember(Key::Pts(p.nseconds()), &o);
                }
                o
            }
        };
        let elapsed = now.saturating_duration_since(origin.at);
        // Look up without allocating; allocate the names once per path.
        let per_source = match state.paths.get_mut(&origin.source) {
            Some(m) => m,
            None => state.paths.entry(Arc::clone(&origin.source)).or_default(),
        };
        match per_source.get_mut(push.peer_element) {
            Some(h) => h.record(elapsed),
            None => per_source
                .entry(push.peer_element.to_string())
                .or_default()
                .record(elapsed),
        }
    }

    fn element_processed(&self, _element: ObjectId, name: &str, elapsed: Duration) {
        let mut state = self.state.locked();
        match state.processing.get_mut(name) {
            Some(h) => h.record(elapsed),
            None => {
                let mut h = Histogram::new();
                h.record(elapsed);
                state.processing.insert(name.to_string(), h);
            }
        }
    }

    fn finish(&self) -> bool {
        if self.log_on_deinit {
            self.log_summary();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClockTime;

    fn push<'a>(pad: &'a str, peer: &'a str, buffer: ObjectId, pts: u64) -> PadPush<'a> {
        PadPush {
            pad: ObjectId::next(),
            pad_name: pad,
            peer_element: peer,
            buffer,
            size: 100,
            pts: Some(ClockTime::from_mseconds(pts)),
            source_time: None,
        }
    }

    #[test]
    fn source_to_each_element_and_sink() {
        let t = LatencyTracer::new("latency");
        for frame in 0..20u64 {
            let raw = ObjectId::next();
            t.pad_push_pre(&push("src:src", "convert", raw, frame * 33));
            std::thread::sleep(Duration::from_micros(200));
            // convert makes a new buffer with the same PTS.
            let converted = ObjectId::next();
            t.pad_push_pre(&push("convert:src", "sink", converted, frame * 33));
            t.element_processed(
                ObjectId::next(),
                "convert",
                Duration::from_micros(150 + frame),
            );
        }
        let s = t.summary();
        let first = s.path("src", "convert").unwrap();
        assert_eq!(first.summary.count, 20);
        assert!(!first.sink);
        assert!(first.summary.max < Duration::from_millis(50));
        let to_sink = s.path("src", "sink").unwrap();
        assert!(to_sink.sink);
        assert_eq!(to_sink.summary.count, 20);
        assert!(
            to_sink.summary.p50 >= Duration::from_micros(200),
            "{:?}",
            to_sink.summary
        );
        assert!(
            s.path("convert", "sink").is_none(),
            "convert is not a source: {s}"
        );
        let conv = s.element("convert").unwrap().summary;
        assert_eq!(conv.count, 20);
        assert_eq!(conv.min, Duration::from_micros(150));
        assert_eq!(conv.max, Duration::from_micros(169));
        let text = s.to_string();
        assert!(text.contains("src -> sink (sink): count 20"), "{text}");
        assert!(text.contains("p99"), "{text}");
    }

    #[test]
    fn reused_pool_buffer_with_new_pts_is_a_new_frame() {
        let t = LatencyTracer::new("latency");
        let pooled = ObjectId::next();
        t.pad_push_pre(&push("src:src", "sink", pooled, 0));
        std::thread::sleep(Duration::from_millis(5));
        t.pad_push_pre(&push("src:src", "sink", pooled, 33));
        let s = t.summary().path("src", "sink").unwrap().summary;
        assert_eq!(s.count, 2);
        assert!(s.max < Duration::from_millis(5), "{s:?}");
    }

    #[test]
    fn source_time_links_buffers_without_pts() {
        let t = LatencyTracer::new("latency");
        let mut p = push("cam:src", "enc", ObjectId::next(), 0);
        p.pts = None;
        p.source_time = Some(ClockTime::from_seconds(7));
        t.pad_push_pre(&p);
        std::thread::sleep(Duration::from_millis(2));
        let mut q = push("enc:src", "udpsink", ObjectId::next(), 0);
        q.pts = None;
        q.source_time = Some(ClockTime::from_seconds(7));
        t.pad_push_pre(&q);
        let s = t.summary();
        let path = s.path("cam", "udpsink").unwrap();
        assert!(path.sink);
        assert!(path.summary.min >= Duration::from_millis(2));
    }

    #[test]
    fn origins_are_bounded() {
        let t = LatencyTracer::new("latency");
        for i in 0..(MAX_ORIGINS as u64 * 2) {
            t.pad_push_pre(&push("src:src", "sink", ObjectId::next(), i));
        }
        let state = t.state.locked();
        assert!(state.origins.len() <= MAX_ORIGINS);
        assert_eq!(state.order.len(), state.origins.len());
    }

    #[test]
    fn params() {
        let p = TracerParams::from_pairs([("name", "lat2")]);
        assert_eq!(LatencyTracer::from_params(&p).unwrap().name(), "lat2");
        let bad = TracerParams::from_pairs([("flags", "x")]);
        assert!(LatencyTracer::from_params(&bad).is_err());
        assert!(LatencyTracer::from_params(&p).unwrap().log_on_deinit);
        let quiet = TracerParams::from_pairs([("log-on-deinit", "false")]);
        assert!(!LatencyTracer::from_params(&quiet).unwrap().log_on_deinit);
        let bad = TracerParams::from_pairs([("log-on-deinit", "maybe")]);
        assert!(LatencyTracer::from_params(&bad).is_err());
    }
}
