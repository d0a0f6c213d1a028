//! `rtpjitterbuffer`: puts RTP packets back in sequence order, detects and
//! counts loss, and pushes on its own thread (GStreamer's
//! `rtpjitterbuffer`, reduced to what a low-latency receiver needs).
//!
//! # What it does
//!
//! The algorithm is [`framecast_rtp::jitter::JitterBuffer`], a plain type
//! with no thread or socket (tested and fuzzed on its own); this element
//! gives it a thread that waits for the deadlines it names. In short:
//!
//! - The next expected packet goes out at once; a gap waits at most
//!   `latency` (from the arrival of the first packet after it), then is
//!   counted lost (`num-lost`) and the next packet out carries `DISCONT`.
//! - The first packet waits up to 20 ms (at most `latency`) for earlier
//!   ones, so a reordered start does not lose the first keyframe.
//! - One source is followed. Packets of another SSRC, or far outside the
//!   window, are strays (`num-stray`): they never move the window. A
//!   restarted sender (its strays in sequence, the old source silent for
//!   250 ms or ended by an RTCP BYE) is adopted without losing a packet
//!   of either stream (`num-resets`).
//! - A packet older than the last one pushed is late (`num-late`,
//!   dropped); one already held is a duplicate (`num-duplicates`).
//!
//! Memory is bounded: at most 2048 packets are held in the window, plus
//! 512 of a candidate source on probation (rings allocated once at
//! start), which at `latency` 50 ms is 40 000 packets/s, 450 Mbit/s of
//! 1400-byte packets.
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
//! `num-duplicates`, `num-stray`, `num-resets`, `num-invalid` (buffers that were not
//! RTP, dropped), and `jitter-us`, the RFC 3550 §6.4.1 interarrival
//! jitter estimate (needs `clock-rate` in the caps).
//!
//! # Sender reports and capture time
//!
//! The request pad `sink_rtcp` takes the sender's RTCP (`udpsrc
//! port=5001 ! jb.sink_rtcp`, the port after the RTP one). From each
//! sender report it learns which wall-clock (NTP) time an RTP timestamp
//! stands for, and with `add-reference-timestamp-meta=true` (the default;
//! GStreamer's is false) stamps every packet pushed with a
//! `ReferenceTimestampMeta` `timestamp/x-ntp`: when the sender captured
//! the frame. Depayloaders and decoders carry it, so a receiver measures
//! the end-to-end latency of every decoded frame (`framecast receive`
//! does). `num-sender-reports` counts the reports taken. Nothing on
//! `sink_rtcp` goes downstream, its end-of-stream included. With
//! `eos-on-bye=true` an RTCP BYE from the sender ends the stream: what is
//! held goes out, then end-of-stream (the sender stopped; without it a
//! receiver cannot tell an ended stream from a pause).
//! [`RtpJitterBuffer::activity`] says when the first and the latest
//! packet came and whether the BYE did, with `eos-on-bye` or without: a
//! stream whose packets stopped without one had its sender vanish
//! (GStreamer's `rtpsession` says so with `on-timeout` rather than
//! `on-bye-ssrc`).

use framecast_core::sync::{CondvarExt, MutexExt};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use framecast_core::ReferenceTimestampMeta;

use super::header_ext::{ids_of_caps, ExtensionStamper};
use framecast_core::{Buffer, BufferFlags, ClockTime};
use framecast_rtp::fec::FecDecoder;
use framecast_rtp::jitter::{JitterBuffer, JitterConfig, PacketInfo, Popped};
use framecast_rtp::rtcp::{parse_compound, RtcpPacket};
use framecast_rtp::RtpPacket;

use crate::elements::rtp::caps::RTP_MEDIA_TYPE;
use crate::pipeline::base::counters;
use crate::pipeline::base::{Settings, SettingsLock};
use crate::pipeline::template_caps;
use crate::pipeline::PropertySpec;
use crate::pipeline::{
    Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::Result;

mod repair;
mod settings;
use settings::JitterBufferSettings;
mod timing;
use framecast_rtp::rtcp::InterarrivalJitter;
use repair::unwrap_rtx;
use timing::SenderClock;

/// Packets the jitter buffer's window can hold.
pub const RING: usize = 2048;

/// Default `latency`, in ms.
pub const DEFAULT_LATENCY_MS: u64 = 50;

/// The factory.
pub fn factory() -> ElementFactory {
    let rtp = || template_caps(RTP_MEDIA_TYPE);
    ElementFactory::new(
        "rtpjitterbuffer",
        "RTP packet jitter-buffer",
        "Filter/Network/RTP",
        "Reorders RTP packets, counts loss, waits at most `latency` for a missing one",
        vec![
            PadTemplate::always("sink", PadDirection::Sink, rtp()),
            PadTemplate::always("src", PadDirection::Src, rtp()),
            PadTemplate::request(
                "sink_rtcp",
                PadDirection::Sink,
                template_caps("application/x-rtcp"),
            ),
        ],
        [
            JitterBufferSettings::properties(),
            counters! {
                "num-pushed" => "Packets pushed downstream",
                "num-lost" => "Packets declared lost",
                "num-late" => "Packets that came after their slot was given up (dropped)",
                "num-duplicates" => "Packets received twice (dropped)",
                "num-stray" => "Packets of another source, or far outside the window (dropped)",
                "num-resets" => "Restarted senders adopted as the new stream",
                "num-invalid" => "Buffers that were not RTP packets (dropped)",
                "jitter-us" => "Interarrival jitter (RFC 3550 6.4.1), microseconds",
                "num-sender-reports" => "RTCP sender reports taken on sink_rtcp",
                "num-fec-recovered" => "Lost packets rebuilt from FEC",
                "num-nacks" => "Retransmission requests made (per packet and try)",
                "num-rtx" => "RTX packets taken (resent originals)",
            },
        ]
        .concat(),
        || Box::new(RtpJitterBuffer::default()),
    )
}

struct State {
    /// The output thread should run.
    running: bool,
    flushing: bool,
    jb: JitterBuffer<Buffer>,
    /// Serialized events to push before any further packet.
    events: VecDeque<Event>,
    eos: bool,
    /// What the last push downstream returned (handed back upstream).
    last: FlowResult,
    /// From the caps: RTP timestamp ticks per second.
    clock_rate: u32,
    jitter: InterarrivalJitter,
    sender_clock: Option<SenderClock>,
    stamp_ntp: bool,
    eos_on_bye: bool,
    activity: StreamActivity,
    /// RTX payload type (0: none) and the followed stream's payload type.
    rtx_pt: u8,
    main_pt: Option<u8>,
    /// End-of-stream went downstream: no packet follows it until a flush
    /// (a BYE, spoofed or not, ends the stream for good).
    ended: bool,
    /// FEC payload type (0: none) and the decoder keeping recent packets.
    fec_pt: u8,
    fec: Option<FecDecoder>,
    /// A FEC packet has arrived (media is kept for it from then on).
    fec_seen: bool,
    /// Capture times and frame ids from the packets' header extensions.
    ext: ExtensionStamper,
}

/// When a jitter buffer's stream was heard from, and whether its sender
/// said it ended (RTCP BYE, RFC 3550 §6.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamActivity {
    /// Arrival of the first RTP packet.
    pub first_packet: Option<Instant>,
    /// Arrival of the latest RTP packet.
    pub last_packet: Option<Instant>,
    /// The source followed said BYE (a restarted sender adopted since
    /// clears it: that stream has not ended).
    pub bye: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            running: false,
            flushing: false,
            jb: JitterBuffer::new(JitterConfig {
                latency: Duration::from_millis(DEFAULT_LATENCY_MS),
                capacity: RING,
                ..JitterConfig::default()
            }),
            events: VecDeque::new(),
            eos: false,
            last: Ok(FlowSuccess::Ok),
            clock_rate: 0,
            jitter: InterarrivalJitter::default(),
            sender_clock: None,
            stamp_ntp: true,
            eos_on_bye: false,
            activity: StreamActivity::default(),
            rtx_pt: 0,
            main_pt: None,
            ended: false,
            fec_pt: 0,
            fec: None,
            fec_seen: false,
            ext: ExtensionStamper::default(),
        }
    }
}

impl State {
    fn clear(&mut self) {
        self.jb.clear();
        self.events.clear();
        self.eos = false;
        self.last = Ok(FlowSuccess::Ok);
        self.jitter = InterarrivalJitter::default();
        self.sender_clock = None;
        self.activity = StreamActivity::default();
        self.main_pt = None;
        self.ended = false;
        self.fec_seen = false;
        self.ext.reset();
    }
}

#[derive(Default)]
struct Counters {
    pushed: AtomicU64,
    lost: AtomicU64,
    late: AtomicU64,
    duplicates: AtomicU64,
    stray: AtomicU64,
    resets: AtomicU64,
    fec_recovered: AtomicU64,
    nacks: AtomicU64,
    rtx: AtomicU64,
    invalid: AtomicU64,
    jitter_us: AtomicU64,
    sender_reports: AtomicU64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    counters: Counters,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.locked()
    }
}

/// The `rtpjitterbuffer` element.
#[derive(Default)]
pub struct RtpJitterBuffer {
    settings: SettingsLock<JitterBufferSettings>,
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// What the output thread does next.
enum Step {
    Event(Event),
    /// An event for upstream (retransmission requests).
    Upstream(Event),
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
    let now = Instant::now();
    if !st.eos {
        if let Some(ev) = st.due_nacks(now) {
            publish_stats(&shared.counters, &st.jb);
            return Step::Upstream(ev);
        }
    }
    let popped = if st.eos {
        st.jb.pop_draining()
    } else {
        st.jb.pop(now)
    };
    publish_stats(&shared.counters, &st.jb);
    match popped {
        Popped::Packet {
            item: mut buffer,
            info,
            discont,
        } => {
            if discont {
                buffer.make_mut().set_flags(BufferFlags::DISCONT);
            }
            // The header extension's capture time is the sender's own; the
            // RTCP mapping is the fallback (and needs a sender report).
            let stamped = st.ext.stamp_packet(&mut buffer, &info, st.stamp_ntp);
            if st.stamp_ntp && !stamped {
                let ntp = st
                    .sender_clock
                    .filter(|c| c.ssrc == info.ssrc)
                    .and_then(|c| c.ntp_ns_of(info.rtp_ts, st.clock_rate));
                if let Some(ns) = ntp {
                    buffer
                        .make_mut()
                        .add_meta(ReferenceTimestampMeta::ntp(ClockTime::from_nseconds(ns)));
                }
            }
            Step::Packet(buffer)
        }
        Popped::WaitUntil(deadline) => {
            let due = st.jb.next_nack_due().map_or(deadline, |n| n.min(deadline));
            Step::Wait(Some(due.saturating_duration_since(now)))
        }
        Popped::Empty if st.eos => {
            st.eos = false;
            st.ended = true;
            Step::Eos
        }
        Popped::Empty => Step::Wait(
            st.jb
                .next_nack_due()
                .map(|due| due.saturating_duration_since(now)),
        ),
    }
}

/// Mirrors the algorithm's counters into the element's statistics.
fn publish_stats(c: &Counters, jb: &JitterBuffer<Buffer>) {
    let s = jb.stats();
    for (counter, value) in [
        (&c.lost, s.lost),
        (&c.late, s.late),
        (&c.duplicates, s.duplicates),
        (&c.stray, s.stray),
        (&c.resets, s.restarts),
        (&c.nacks, s.nacks),
    ] {
        counter.store(value, Ordering::Relaxed);
    }
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
                st = shared.wake.wait_locked(st);
            }
            Step::Wait(Some(d)) => {
                st = shared.wake.wait_timeout_locked(st, d).0;
            }
            Step::Event(ev) => {
                drop(st);
                src.push_event(ev);
                st = shared.lock();
            }
            Step::Upstream(ev) => {
                drop(st);
                if let Some(sink) = element.static_pad("sink") {
                    sink.push_event(ev);
                }
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
    /// The jitter buffer inside `element`, if it is one.
    pub fn from_element(element: &Element) -> Option<&RtpJitterBuffer> {
        element.imp::<RtpJitterBuffer>()
    }

    /// When the stream's packets came and whether its sender said BYE
    /// (since the element started or was flushed). No allocation.
    pub fn activity(&self) -> StreamActivity {
        self.shared.lock().activity
    }

    fn start(&self, element: &Element) {
        let mut task = self.task.locked();
        if task.is_some() {
            return;
        }
        {
            let mut st = self.shared.lock();
            st.clear();
            st.jb.reset_stats();
            st.running = true;
            st.flushing = false;
            let settings = self.settings.get();
            st.jb.set_latency(settings.latency);
            st.stamp_ntp = settings.stamp_ntp;
            st.eos_on_bye = settings.eos_on_bye;
            st.jb.set_nack(settings.do_retransmission);
            st.rtx_pt = settings.rtx_pt;
            st.fec_pt = settings.fec_pt;
            // The last 256 media packets and 16 FEC packets (about 0.5 MiB,
            // allocated once): a group protects at most 48.
            st.fec = (st.fec_pt != 0).then(|| FecDecoder::new(256, 16));
        }
        let c = &self.shared.counters;
        for v in [
            &c.pushed,
            &c.lost,
            &c.late,
            &c.duplicates,
            &c.stray,
            &c.resets,
            &c.nacks,
            &c.rtx,
            &c.fec_recovered,
            &c.invalid,
            &c.jitter_us,
            &c.sender_reports,
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
        let handle = self.task.locked().take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        self.shared.lock().clear();
    }

    /// Files one packet (`resent`: an RTX original, which says nothing of
    /// the network's jitter).
    fn insert(&self, st: &mut State, header: PacketInfo, buffer: Buffer, resent: bool) {
        let arrival = Instant::now();
        let clock_rate = st.clock_rate;
        let c = &self.shared.counters;
        if !resent {
            st.jitter.on_packet(arrival, header.rtp_ts, clock_rate);
            c.jitter_us
                .store(st.jitter.micros(clock_rate), Ordering::Relaxed);
        }
        let followed = st.jb.ssrc();
        if resent {
            st.jb.insert_resent(header, buffer, arrival);
        } else {
            st.jb.insert(header, buffer, arrival);
        }
        if followed.is_some() && st.jb.ssrc() != followed {
            st.activity.bye = false;
        }
        st.activity.first_packet.get_or_insert(arrival);
        st.activity.last_packet = Some(arrival);
        publish_stats(c, &st.jb);
    }

    /// Takes the sender reports out of an RTCP compound packet.
    fn on_rtcp(&self, buffer: &Buffer) {
        let Ok(map) = buffer.map_readable() else {
            return;
        };
        let data = map.contiguous();
        let mut st = self.shared.lock();
        for packet in parse_compound(&data) {
            match packet {
                Ok(RtcpPacket::Bye(bye)) => {
                    let followed = st.jb.ssrc();
                    let ours = bye.ssrcs().any(|ssrc| Some(ssrc) == followed);
                    st.activity.bye |= ours;
                    if let Some(ssrc) = followed.filter(|_| ours) {
                        // A restarted sender's new stream may come in at once.
                        st.jb.source_ended(ssrc);
                    }
                    if ours && st.eos_on_bye {
                        st.eos = true;
                        self.shared.wake.notify_all();
                    }
                }
                Ok(RtcpPacket::SenderReport(sr, _)) => {
                    st.sender_clock = Some(SenderClock {
                        ssrc: sr.ssrc,
                        rtp_ts: sr.rtp_timestamp,
                        ntp_ns: sr.ntp_timestamp.as_nanos(),
                    });
                    self.shared
                        .counters
                        .sender_reports
                        .fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => {
                    self.shared.counters.invalid.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
}

impl ElementImpl for RtpJitterBuffer {
    /// `latency`, `add-reference-timestamp-meta` and `eos-on-bye` take
    /// effect at once.
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)?;
        let settings = self.settings.get();
        match name {
            "latency" => {
                self.shared.lock().jb.set_latency(settings.latency);
                self.shared.wake.notify_all();
            }
            "add-reference-timestamp-meta" => self.shared.lock().stamp_ntp = settings.stamp_ntp,
            "eos-on-bye" => self.shared.lock().eos_on_bye = settings.eos_on_bye,
            _ => {}
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
            "num-stray" => &c.stray,
            "num-resets" => &c.resets,
            "num-nacks" => &c.nacks,
            "num-fec-recovered" => &c.fec_recovered,
            "num-rtx" => &c.rtx,
            "num-invalid" => &c.invalid,
            "jitter-us" => &c.jitter_us,
            "num-sender-reports" => &c.sender_reports,
            _ => return None,
        };
        Some(PropertyValue::UInt(v.load(Ordering::Relaxed)))
    }

    fn chain(&self, _element: &Element, pad: &Pad, buffer: Buffer) -> FlowResult {
        if pad.name() == "sink_rtcp" {
            self.on_rtcp(&buffer);
            return Ok(FlowSuccess::Ok);
        }
        let header = {
            let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
            let data = map.contiguous();
            RtpPacket::parse(&data)
                .map(|p| {
                    let info = PacketInfo {
                        seq: p.sequence_number(),
                        ssrc: p.ssrc(),
                        rtp_ts: p.timestamp(),
                    };
                    (info, p.payload_type())
                })
                .ok()
        };
        let Some((header, pt)) = header else {
            self.shared.counters.invalid.fetch_add(1, Ordering::Relaxed);
            return Ok(FlowSuccess::Ok);
        };
        let mut st = self.shared.lock();
        if st.flushing || !st.running {
            return Err(FlowError::Flushing);
        }
        if st.ended {
            return Err(FlowError::Eos);
        }
        let last = st.last;
        if let Err(e) = last {
            if e != FlowError::Flushing {
                return last;
            }
        }
        if st.fec_pt != 0 && pt == st.fec_pt {
            // A FEC packet: kept, and what it can rebuild now is filed.
            st.fec_seen = true;
            if let (Some(fec), Ok(map)) = (st.fec.as_mut(), buffer.map_readable()) {
                fec.on_fec(&map.contiguous());
            }
            self.recover(&mut st);
            drop(st);
            self.shared.wake.notify_all();
            return Ok(FlowSuccess::Ok);
        }
        let resent = st.rtx_pt != 0 && pt == st.rtx_pt;
        let (header, buffer) = if resent {
            // An RTX packet: its original, in place, into the followed
            // stream (RFC 4588 §4).
            let (Some(ssrc), Some(main_pt)) = (st.jb.ssrc(), st.main_pt) else {
                self.shared.counters.invalid.fetch_add(1, Ordering::Relaxed);
                return Ok(FlowSuccess::Ok);
            };
            match unwrap_rtx(buffer, main_pt, ssrc) {
                Some(original) => {
                    self.shared.counters.rtx.fetch_add(1, Ordering::Relaxed);
                    original
                }
                None => {
                    self.shared.counters.invalid.fetch_add(1, Ordering::Relaxed);
                    return Ok(FlowSuccess::Ok);
                }
            }
        } else {
            if st.main_pt.is_none() || st.jb.ssrc() == Some(header.ssrc) {
                st.main_pt = Some(pt);
            }
            (header, buffer)
        };
        // Media is kept for FEC only once a FEC stream shows up: a receiver
        // of a stream without FEC copies nothing.
        let keep_media = st.fec_seen;
        if let Some(fec) = st.fec.as_mut().filter(|_| keep_media) {
            if let Ok(map) = buffer.map_readable() {
                fec.on_media(&map.contiguous());
            }
        }
        self.insert(&mut st, header, buffer, resent);
        if st.fec_seen {
            self.recover(&mut st);
        }
        let nacks = st.due_nacks(Instant::now());
        publish_stats(&self.shared.counters, &st.jb);
        drop(st);
        self.shared.wake.notify_all();
        if let Some(ev) = nacks {
            // Upstream from here: udpsrc sends the NACK at once.
            pad.push_event(ev);
        }
        Ok(FlowSuccess::Ok)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        if pad.name() == "sink_rtcp" {
            // RTCP's own stream (its caps, segment, EOS) stays here.
            return true;
        }
        if let Event::Caps(caps) = &event {
            let rate = caps
                .structure(0)
                .and_then(|s| s.get_int("clock-rate"))
                .unwrap_or(0);
            let mut st = self.shared.lock();
            st.clock_rate = u32::try_from(rate).unwrap_or(0);
            st.ext.ids = ids_of_caps(caps);
        }
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
            let ours = ClockTime::from(self.shared.lock().jb.config().latency);
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
