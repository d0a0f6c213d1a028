//! `/metrics`: the tracers' numbers in Prometheus' text format (0.0.4):
//! objects alive per type, buffers and bytes per pad, every live pool's
//! buffers in use, free and max with its discards by reason, queue levels
//! and drops, latency and processing-time histograms, and every
//! registered [`StatsSource`](crate::stats::StatsSource)'s lines
//! (per-viewer loss and RTT from the streaming sinks).

use framecast_core::buffer::live_pools;
use framecast_core::trace::{self, Summary, BIN_BOUNDS};

use crate::stats::{family, metric};

/// The content type Prometheus scrapes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A series' fixed bins as a Prometheus histogram of `name` (seconds):
/// cumulative `_bucket{le=...}` samples ending at `+Inf` (== `_count`),
/// then `_sum` and `_count`.
fn histogram(out: &mut String, name: &str, labels: &[(&str, &str)], s: &Summary) {
    let bucket = format!("{name}_bucket");
    let les = BIN_BOUNDS.iter().map(|b| b.as_secs_f64().to_string());
    let counts = s.bins.iter().copied().chain([s.count]);
    for (le, n) in les.chain(["+Inf".to_string()]).zip(counts) {
        let mut l = labels.to_vec();
        l.push(("le", &le));
        metric(out, &bucket, &l, n as f64);
    }
    metric(out, &format!("{name}_sum"), labels, s.sum.as_secs_f64());
    metric(out, &format!("{name}_count"), labels, s.count as f64);
}

/// One per-pool gauge's value; `None` leaves the pool out of it.
type PoolGauge = fn(&framecast_core::PoolSnapshot) -> Option<u64>;

/// Every live buffer pool ([`live_pools`]), tracer or not: buffers in use,
/// free and max (bounded pools only), and discards by reason.
fn pools(out: &mut String) {
    let pools = live_pools();
    let ids: Vec<String> = pools.iter().map(|p| p.id.get().to_string()).collect();
    let names: Vec<&str> = pools
        .iter()
        .map(|p| p.name.as_deref().unwrap_or(""))
        .collect();
    let sites: Vec<String> = pools.iter().map(|p| p.site.to_string()).collect();
    let labels = |i: usize| {
        [
            ("pool", ids[i].as_str()),
            ("name", names[i]),
            ("site", sites[i].as_str()),
        ]
    };
    #[rustfmt::skip]
    let gauges: [(&str, &str, PoolGauge); 3] = [
        ("framecast_pool_in_use", "Buffers a pool has handed out.", |p| Some(p.stats.outstanding.into())),
        ("framecast_pool_free", "Buffers queued in a pool for reuse.", |p| Some(p.stats.queued.into())),
        ("framecast_pool_max", "The most buffers a bounded pool hands out.", |p| p.max_buffers().map(u64::from)),
    ];
    for (name, help, value) in gauges {
        family(out, name, "gauge", help);
        for (i, p) in pools.iter().enumerate() {
            if let Some(v) = value(p) {
                metric(out, name, &labels(i), v as f64);
            }
        }
    }
    let name = "framecast_pool_discarded_total";
    family(
        out,
        name,
        "counter",
        "Returning buffers a pool freed instead of reusing, by reason.",
    );
    for (i, p) in pools.iter().enumerate() {
        for (reason, n) in [
            ("memory_changed", p.stats.discarded_memory_changed),
            ("memory_shared", p.stats.discarded_memory_shared),
        ] {
            let [pool, pool_name, site] = labels(i);
            metric(
                out,
                name,
                &[pool, pool_name, site, ("reason", reason)],
                n as f64,
            );
        }
    }
}

/// The stats tracer's families: name, type, label, help.
#[rustfmt::skip]
const FAMILIES: [(&str, &str, &str, &str); 6] = [
    ("framecast_objects_alive", "gauge", "type", "Objects alive per type."),
    ("framecast_objects_created_total", "counter", "type", "Objects created per type."),
    ("framecast_pad_buffers_total", "counter", "pad", "Buffers pushed through a pad."),
    ("framecast_pad_bytes_total", "counter", "pad", "Bytes pushed through a pad."),
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
    for q in &s.queues {
        rows.push((4, q.queue.clone(), q.level as f64));
        rows.push((5, q.queue.clone(), q.dropped as f64));
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
    pools(&mut out);
    let tracer = trace::latency().map(|t| t.summary());
    let beyond = crate::stats::latency_stages();
    if tracer.is_some() || !beyond.is_empty() {
        let name = "framecast_latency_seconds";
        family(
            &mut out,
            name,
            "histogram",
            "Time from a source to an element (or, for a stream's viewers, from capture to display).",
        );
        let paths = tracer.iter().flat_map(|l| &l.paths);
        for p in paths {
            let labels = [
                ("source", p.source.as_str()),
                ("element", p.element.as_str()),
            ];
            histogram(&mut out, name, &labels, &p.summary);
        }
        for (source, stage, s) in &beyond {
            histogram(&mut out, name, &[("source", source), ("element", stage)], s);
        }
    }
    if let Some(l) = &tracer {
        let name = "framecast_processing_seconds";
        family(
            &mut out,
            name,
            "histogram",
            "Time an element spends on one buffer.",
        );
        for e in &l.elements {
            histogram(&mut out, name, &[("element", &e.element)], &e.summary);
        }
    }
    crate::stats::metrics(&mut out);
    out
}
