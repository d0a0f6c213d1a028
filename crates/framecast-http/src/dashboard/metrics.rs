//! `/metrics`: the tracers' numbers in Prometheus' text format (0.0.4):
//! objects alive per type, buffers and bytes per pad, pools, queue levels
//! and drops, latency and processing-time quantiles, and every
//! registered [`StatsSource`](crate::stats::StatsSource)'s lines
//! (per-viewer loss and RTT from the streaming sinks).

use framecast_core::trace::{self, Summary};

use crate::stats::{family, metric};

/// The content type Prometheus scrapes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A summary's quantiles as samples of `name` (seconds), with `_count`.
fn quantiles(out: &mut String, name: &str, labels: &[(&str, &str)], s: &Summary) {
    for (q, v) in [("0.5", s.p50), ("0.9", s.p90), ("0.99", s.p99)] {
        let mut l = labels.to_vec();
        l.push(("quantile", q));
        metric(out, name, &l, v.as_secs_f64());
    }
    metric(out, &format!("{name}_count"), labels, s.count as f64);
}

/// The stats tracer's families: name, type, label, help.
#[rustfmt::skip]
const FAMILIES: [(&str, &str, &str, &str); 7] = [
    ("framecast_objects_alive", "gauge", "type", "Objects alive per type."),
    ("framecast_objects_created_total", "counter", "type", "Objects created per type."),
    ("framecast_pad_buffers_total", "counter", "pad", "Buffers pushed through a pad."),
    ("framecast_pad_bytes_total", "counter", "pad", "Bytes pushed through a pad."),
    ("framecast_pool_in_use", "gauge", "pool", "Buffers a pool has handed out."),
    ("framecast_queue_level", "gauge", "queue", "Buffers waiting in a queue."),
    ("framecast_queue_dropped_total", "counter", "queue", "Buffers a queue dropped."),
];

/// The stats tracer's numbers, one family of [`FAMILIES`] after another.
fn stats_families(out: &mut String, s: &trace::StatsSummary) {
    // (family, label value, value), gathered in one pass per kind of thing.
    let mut rows: Vec<(usize, String, f64)> = Vec::new();
    for x in &s.objects {
        rows.push((0, x.kind.clone(), x.alive as f64));
        rows.push((1, x.kind.clone(), x.created as f64));
    }
    for p in &s.pads {
        rows.push((2, p.pad.clone(), p.buffers as f64));
        rows.push((3, p.pad.clone(), p.bytes as f64));
    }
    for p in &s.pools {
        rows.push((4, p.pool.get().to_string(), p.outstanding as f64));
    }
    for q in &s.queues {
        rows.push((5, q.queue.clone(), q.level as f64));
        rows.push((6, q.queue.clone(), q.dropped as f64));
    }
    for (i, (name, kind, label, help)) in FAMILIES.iter().enumerate() {
        family(out, name, kind, help);
        for (_, l, v) in rows.iter().filter(|r| r.0 == i) {
            metric(out, name, &[(label, l)], *v);
        }
    }
}

/// The whole `/metrics` text.
pub fn text() -> String {
    let mut out = String::with_capacity(4096);
    if let Some(leaks) = trace::leaks() {
        family(
            &mut out,
            "framecast_live_objects",
            "gauge",
            "Objects the leaks tracer sees alive.",
        );
        metric(
            &mut out,
            "framecast_live_objects",
            &[],
            leaks.live_count() as f64,
        );
    }
    if let Some(t) = trace::stats() {
        stats_families(&mut out, &t.summary());
    }
    if let Some(t) = trace::latency() {
        let l = t.summary();
        let name = "framecast_latency_seconds";
        family(
            &mut out,
            name,
            "summary",
            "Time from a source to an element.",
        );
        for p in &l.paths {
            let labels = [
                ("source", p.source.as_str()),
                ("element", p.element.as_str()),
            ];
            quantiles(&mut out, name, &labels, &p.summary);
        }
        let name = "framecast_processing_seconds";
        family(
            &mut out,
            name,
            "summary",
            "Time an element spends on one buffer.",
        );
        for e in &l.elements {
            quantiles(&mut out, name, &[("element", &e.element)], &e.summary);
        }
    }
    crate::stats::metrics(&mut out);
    out
}
