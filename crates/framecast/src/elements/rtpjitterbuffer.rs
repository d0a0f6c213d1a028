//! `rtpjitterbuffer`: puts RTP packets back in sequence order, detects and
//! counts loss, and pushes on its own thread (GStreamer's
//! `rtpjitterbuffer`, reduced to what a low-latency receiver needs).
//!
//! # What it does
//!
//! - A packet that is the next expected one is pushed at once: in-order
//!   traffic is never delayed.
//! - A gap (a missing sequence number with later packets already here)
//!   is waited for at most `latency` ms, counted from the arrival of the
//!   first packet after the gap. If the missing packets come in time they
//!   go out in order (`num-late` stays 0); if not, they are declared lost
//!   (`num-lost` += the gap), the wait ends, and the next packet pushed
//!   carries `DISCONT` so the depayloader drops the damaged frame and
//!   (for H.264) waits for the next IDR.
//! - A packet older than the last one pushed is late (`num-late`,
//!   dropped); one already held is a duplicate (`num-duplicates`,
//!   dropped).
//! - A jump of more than 2048 sequence numbers ahead, or 1000 behind, is a
//!   new stream (the sender restarted): what is held is pushed, and
//!   counting starts again (`num-resets`).
//!
//! Memory is bounded: at most 2048 packets are held (a ring indexed by
//! sequence number, allocated once at start), which at `latency` 50 ms is
//! 40 000 packets/s, 450 Mbit/s of 1400-byte packets.
//!
//! # `latency`
//!
//! Default 50 ms (GStreamer: 200). On a LAN, reordering spans well under a
//! millisecond and a lost packet never comes back without a
//! retransmission request, so waiting longer only delays the frame after
//! a loss; 50 ms still absorbs Wi-Fi retries. The latency query reports it
//! so that synchronising sinks account for it.
//!
//! Stats, read-only properties: `num-pushed`, `num-lost`, `num-late`,
//! `num-duplicates`, `num-resets`, `num-invalid` (buffers that were not
//! RTP, dropped).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use framecast_core::{Buffer, BufferFlags, ClockTime};
use framecast_rtp::seq::SeqUnwrapper;
use framecast_rtp::RtpPacket;

use super::net::{prop_counter, prop_uint, RTP_MEDIA_TYPE};
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::Result;

/// Packets the jitter buffer can hold (a power of two: slots are indexed
/// by extended sequence number modulo this).
pub const RING: usize = 2048;

/// A packet this far behind the next expected one means the sender
/// restarted, not that it is late.
pub const MAX_MISORDER: u64 = 1000;

/// Default `latency`, in ms.
pub const DEFAULT_LATENCY_MS: u64 = 50;

/// The factory.
pub fn factory() -> ElementFactory {
    let rtp = || RTP_MEDIA_TYPE.parse().unwrap_or_else(|_| Caps::new_any());
    ElementFactory::new(
        "rtpjitterbuffer",
        "RTP packet jitter-buffer",
        "Filter/Network/RTP",
        "Reorders RTP packets, counts loss, waits at most `latency` for a missing one",
        vec![
            PadTemplate::always("sink", PadDirection::Sink, rtp()),
            PadTemplate::always("src", PadDirection::Src, rtp()),
        ],
        vec![
            prop_uint(
                "latency",
                "Longest wait for a missing packet, in ms",
                0,
                60_000,
                DEFAULT_LATENCY_MS,
                true,
            ),
            prop_counter("num-pushed", "Packets pushed downstream"),
            prop_counter("num-lost", "Packets declared lost"),
            prop_counter(
                "num-late",
                "Packets that came after their slot was given up (dropped)",
            ),
            prop_counter("num-duplicates", "Packets received twice (dropped)"),
            prop_counter("num-resets", "Sequence jumps taken as a new stream"),
            prop_counter("num-invalid", "Buffers that were not RTP packets (dropped)"),
        ],
        || Box::new(RtpJitterBuffer::default()),
    )
}

struct Held {
    buffer: Buffer,
    arrival: Instant,
}

struct State {
    /// The output thread should run.
    running: bool,
    flushing: bool,
    slots: Vec<Option<Held>>,
    held: usize,
    unwrapper: SeqUnwrapper,
    /// Extended sequence number of the next packet to push.
    next: Option<u64>,
    /// Serialized events to push before any further packet.
    events: VecDeque<Event>,
    eos: bool,
    discont: bool,
    latency: Duration,
    /// What the last push downstream returned (handed back upstream).
    last: FlowResult,
}

impl Default for State {
    fn default() -> Self {
        State {
            running: false,
            flushing: false,
            slots: Vec::new(),
            held: 0,
            unwrapper: SeqUnwrapper::new(),
            next: None,
            events: VecDeque::new(),
            eos: false,
            discont: false,
            latency: Duration::from_millis(DEFAULT_LATENCY_MS),
            last: Ok(FlowSuccess::Ok),
        }
    }
}

impl State {
    fn slot(ext: u64) -> usize {
        (ext % RING as u64) as usize
    }

    fn clear(&mut self) {
        for s in &mut self.slots {
            *s = None;
        }
        self.held = 0;
        self.next = None;
        self.unwrapper = SeqUnwrapper::new();
        self.events.clear();
        self.eos = false;
        self.discont = false;
        self.last = Ok(FlowSuccess::Ok);
    }

    /// The first held packet after `next`: its extended number and
    /// arrival.
    fn first_held_after(&self, next: u64) -> Option<(u64, Instant)> {
        (1..RING as u64).map(|d| next + d).find_map(|ext| {
            self.slots
                .get(Self::slot(ext))
                .and_then(|s| s.as_ref())
                .map(|h| (ext, h.arrival))
        })
    }
}

#[derive(Default)]
struct Counters {
    pushed: AtomicU64,
    lost: AtomicU64,
    late: AtomicU64,
    duplicates: AtomicU64,
    resets: AtomicU64,
    invalid: AtomicU64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    counters: Counters,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `rtpjitterbuffer` element.
#[derive(Default)]
pub struct RtpJitterBuffer {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// What the output thread does next.
enum Step {
    Event(Event),
    Packet(Buffer),
    Eos,
    Wait(Option<Duration>),
    Stop,
}

fn next_step(shared: &Shared, st: &mut State) -> Step {
    if !st.running {
        return Step::Stop;
    }
    if st.flushing {
        return Step::Wait(None);
    }
    if let Some(ev) = st.events.pop_front() {
        return Step::Event(ev);
    }
    if let Some(next) = st.next {
        if let Some(h) = st.slots[State::slot(next)].take() {
            st.held -= 1;
            st.next = Some(next + 1);
            let mut buffer = h.buffer;
            if std::mem::take(&mut st.discont) {
                buffer.make_mut().set_flags(BufferFlags::DISCONT);
            }
            return Step::Packet(buffer);
        }
        if st.held > 0 {
            if let Some((ext, arrival)) = st.first_held_after(next) {
                let deadline = arrival + st.latency;
                let now = Instant::now();
                if st.eos || now >= deadline {
                    shared
                        .counters
                        .lost
                        .fetch_add(ext - next, Ordering::Relaxed);
                    st.next = Some(ext);
                    st.discont = true;
                    return next_step(shared, st);
                }
                return Step::Wait(Some(deadline - now));
            }
        }
    }
    if st.eos {
        st.eos = false;
        return Step::Eos;
    }
    Step::Wait(None)
}

fn output_loop(element: &Element, shared: &Shared) {
    let Some(src) = element.src_pad() else {
        return;
    };
    let mut st = shared.lock();
    loop {
        match next_step(shared, &mut st) {
            Step::Stop => return,
            Step::Wait(None) => {
                st = shared.wake.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            Step::Wait(Some(d)) => {
                st = shared
                    .wake
                    .wait_timeout(st, d)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            Step::Event(ev) => {
                drop(st);
                src.push_event(ev);
                st = shared.lock();
            }
            Step::Eos => {
                drop(st);
                src.push_event(Event::Eos);
                st = shared.lock();
            }
            Step::Packet(buffer) => {
                drop(st);
                let result = src.push(buffer);
                shared.counters.pushed.fetch_add(1, Ordering::Relaxed);
                st = shared.lock();
                if let Err(e) = result {
                    if e != FlowError::Flushing && st.last.is_ok() && e.is_fatal() {
                        element.post_error(
                            format!("Internal data stream error: streaming stopped, reason {e}"),
                            None,
                        );
                    }
                }
                st.last = result;
            }
        }
    }
}

impl RtpJitterBuffer {
    fn start(&self, element: &Element) {
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if task.is_some() {
            return;
        }
        {
            let mut st = self.shared.lock();
            st.clear();
            if st.slots.len() != RING {
                st.slots = (0..RING).map(|_| None).collect();
            }
            st.running = true;
            st.flushing = false;
            st.latency = Duration::from_millis(element.prop("latency").as_u64().unwrap_or(50));
        }
        let c = &self.shared.counters;
        for v in [
            &c.pushed,
            &c.lost,
            &c.late,
            &c.duplicates,
            &c.resets,
            &c.invalid,
        ] {
            v.store(0, Ordering::Relaxed);
        }
        let shared = self.shared.clone();
        let thread_element = element.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("fc-{}", element.name()))
            .spawn(move || output_loop(&thread_element, &shared));
        match spawned {
            Ok(handle) => *task = Some(handle),
            Err(e) => element.post_error(format!("cannot start the output thread: {e}"), None),
        }
    }

    fn stop(&self) {
        {
            let mut st = self.shared.lock();
            st.running = false;
            st.clear();
        }
        self.shared.wake.notify_all();
        let handle = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        self.shared.lock().clear();
    }

    /// Files one packet.
    fn insert(&self, st: &mut State, seq: u16, buffer: Buffer) {
        let c = &self.shared.counters;
        let mut ext = st.unwrapper.extend(seq);
        let Some(next) = st.next else {
            st.next = Some(ext);
            st.slots[State::slot(ext)] = Some(Held {
                buffer,
                arrival: Instant::now(),
            });
            st.held += 1;
            return;
        };
        let reset = if ext < next {
            next - ext > MAX_MISORDER
        } else {
            ext - next >= RING as u64
        };
        if reset {
            // A new stream: what is held goes out first (as a gap would),
            // then numbering starts again at this packet.
            c.resets.fetch_add(1, Ordering::Relaxed);
            let mut rest: Vec<Buffer> = Vec::with_capacity(st.held);
            for d in 0..RING as u64 {
                if let Some(h) = st.slots[State::slot(next + d)].take() {
                    rest.push(h.buffer);
                }
            }
            st.held = 0;
            st.unwrapper = SeqUnwrapper::new();
            ext = st.unwrapper.extend(seq);
            let base = ext - rest.len() as u64;
            for (i, b) in rest.into_iter().enumerate() {
                st.slots[State::slot(base + i as u64)] = Some(Held {
                    buffer: b,
                    arrival: Instant::now(),
                });
                st.held += 1;
            }
            st.next = Some(base);
            st.discont = true;
        } else if ext < next {
            c.late.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let slot = &mut st.slots[State::slot(ext)];
        if slot.is_some() {
            c.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *slot = Some(Held {
            buffer,
            arrival: Instant::now(),
        });
        st.held += 1;
    }
}

impl ElementImpl for RtpJitterBuffer {
    fn property_changed(
        &self,
        _element: &Element,
        name: &str,
        value: &PropertyValue,
    ) -> Result<()> {
        if name == "latency" {
            self.shared.lock().latency = Duration::from_millis(value.as_u64().unwrap_or(50));
            self.shared.wake.notify_all();
        }
        Ok(())
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let c = &self.shared.counters;
        let v = match name {
            "num-pushed" => &c.pushed,
            "num-lost" => &c.lost,
            "num-late" => &c.late,
            "num-duplicates" => &c.duplicates,
            "num-resets" => &c.resets,
            "num-invalid" => &c.invalid,
            _ => return None,
        };
        Some(PropertyValue::UInt(v.load(Ordering::Relaxed)))
    }

    fn chain(&self, _element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let seq = {
            let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
            let data = map.contiguous();
            RtpPacket::parse(&data).map(|p| p.sequence_number()).ok()
        };
        let Some(seq) = seq else {
            self.shared.counters.invalid.fetch_add(1, Ordering::Relaxed);
            return Ok(FlowSuccess::Ok);
        };
        let mut st = self.shared.lock();
        if st.flushing || !st.running {
            return Err(FlowError::Flushing);
        }
        let last = st.last;
        if let Err(e) = last {
            if e != FlowError::Flushing {
                return last;
            }
        }
        self.insert(&mut st, seq, buffer);
        drop(st);
        self.shared.wake.notify_all();
        Ok(FlowSuccess::Ok)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::FlushStart => {
                {
                    let mut st = self.shared.lock();
                    st.flushing = true;
                    let running = st.running;
                    st.clear();
                    st.running = running;
                }
                self.shared.wake.notify_all();
                element.forward_event(pad, Event::FlushStart)
            }
            Event::FlushStop { reset_time } => {
                let handled = element.forward_event(pad, Event::FlushStop { reset_time });
                self.shared.lock().flushing = false;
                self.shared.wake.notify_all();
                handled
            }
            Event::Eos => {
                self.shared.lock().eos = true;
                self.shared.wake.notify_all();
                true
            }
            ev if ev.is_serialized() => {
                self.shared.lock().events.push_back(ev);
                self.shared.wake.notify_all();
                true
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        let handled = element.default_query(pad, query);
        if let Query::Latency { live, min, max } = query {
            let ours = ClockTime::from(self.shared.lock().latency);
            *live = true;
            *min += ours;
            if let Some(m) = max.as_mut() {
                *m += ours;
            }
            return true;
        }
        handled
    }

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => self.start(element),
            StateChange::PausedToReady => self.stop(),
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
