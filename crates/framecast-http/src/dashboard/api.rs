//! What the dashboard's API answers, as JSON: the tracers' numbers
//! (`/api/stats`), the live objects grouped by type and creation site
//! (`/api/objects`), and checkpoints (`/api/checkpoint`).
//!
//! Grouping happens here, on the server: the page gets at most `limit`
//! groups and a count per type however many objects live (10 000 live
//! buffers are one row per site, not 10 000 rows).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use framecast_core::buffer::live_pools;
use framecast_core::trace::{self, Summary, BIN_BOUNDS};
use serde_json::{json, Value};

/// Groups sent when the page does not ask (`?limit=`).
pub const DEFAULT_GROUPS: usize = 50;

/// Most groups ever sent.
pub const MAX_GROUPS: usize = 1000;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A series' figures; `bins` are its fixed histogram bins, cumulative
/// (`le_ms` null for `+Inf`), as `/metrics` exports them.
fn summary(s: &Summary) -> Value {
    let bins: Vec<Value> = BIN_BOUNDS
        .iter()
        .zip(s.bins)
        .map(|(le, n)| json!({"le_ms": ms(*le), "count": n}))
        .chain([json!({"le_ms": null, "count": s.count})])
        .collect();
    json!({
        "count": s.count,
        "min_ms": ms(s.min), "mean_ms": ms(s.mean), "p50_ms": ms(s.p50),
        "p90_ms": ms(s.p90), "p99_ms": ms(s.p99), "max_ms": ms(s.max),
        "sum_ms": ms(s.sum), "bins": bins,
    })
}

/// Every live buffer pool: its counters (in use, free, max — `null` when
/// unbounded —, discards by reason) and, when the stats tracer has seen
/// it, its acquires, releases and most buffers out at once.
fn pools(stats: Option<&trace::StatsSummary>) -> Vec<Value> {
    live_pools()
        .iter()
        .map(|p| {
            let traced = stats.and_then(|s| s.pool(p.id));
            let c = p.config.as_ref();
            json!({
                "pool": p.id.get(), "name": p.name.as_deref(), "site": p.site.to_string(),
                "video": p.video, "active": p.active,
                "size": c.map(|c| c.size), "min": c.map(|c| c.min_buffers),
                "max": p.max_buffers(),
                "in_use": p.stats.outstanding, "free": p.stats.queued,
                "allocated": p.stats.allocated, "waiting": p.stats.waiting,
                "total_allocated": p.stats.total_allocated, "reused": p.stats.reused,
                "max_in_use": traced.map(|t| t.max_outstanding),
                "acquired": traced.map(|t| t.acquired),
                "released": traced.map(|t| t.released),
                "discarded": {
                    "memory_changed": p.stats.discarded_memory_changed,
                    "memory_shared": p.stats.discarded_memory_shared,
                },
            })
        })
        .collect()
}

/// When this process's dashboard API first answered (uptime's zero).
fn started() -> Instant {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// `/api/stats`: every live buffer pool (`pools`, tracer or not); the
/// stats tracer's pads, queues, elements and object counts; the latency
/// tracer's paths and element times; every registered
/// [`StatsSource`](crate::stats::StatsSource) under `sources`. A tracer
/// that is not active is `null`.
pub fn stats() -> Value {
    let summary_of_stats = trace::stats().map(|t| t.summary());
    let stats = summary_of_stats.as_ref().map(|s| {
        json!({
            "objects": s.objects.iter().map(|o| json!({
                "type": o.kind, "created": o.created, "destroyed": o.destroyed,
                "alive": o.alive, "peak": o.peak,
            })).collect::<Vec<_>>(),
            "pads": s.pads.iter().map(|p| json!({
                "pad": p.pad, "buffers": p.buffers, "bytes": p.bytes,
                "push": summary(&p.push_time),
            })).collect::<Vec<_>>(),
            "queues": s.queues.iter().map(|q| json!({
                "queue": q.queue, "level": q.level, "max_level": q.max_level,
                "bytes": q.bytes, "capacity": q.capacity, "dropped": q.dropped,
            })).collect::<Vec<_>>(),
            "elements": s.elements.iter().map(|e| json!({
                "element": e.element, "time": summary(&e.time),
                "total_ms": ms(e.total),
            })).collect::<Vec<_>>(),
        })
    });
    // The tracer's paths (source to element), then the stages the
    // sources measure beyond the pipeline (a stream's viewers).
    let tracer = trace::latency().map(|t| t.summary());
    let mut paths: Vec<Value> = tracer
        .iter()
        .flat_map(|l| &l.paths)
        .map(|p| {
            json!({
                "source": p.source, "element": p.element, "sink": p.sink,
                "latency": summary(&p.summary),
            })
        })
        .collect();
    paths.extend(
        crate::stats::latency_stages()
            .iter()
            .map(|(name, stage, s)| {
                json!({
                    "source": name, "element": stage, "sink": null, "beyond": true,
                    "latency": summary(s),
                })
            }),
    );
    let latency = if tracer.is_none() && paths.is_empty() {
        Value::Null
    } else {
        json!({
            "paths": paths,
            "elements": tracer.iter().flat_map(|l| &l.elements).map(|e| json!({
                "element": e.element, "time": summary(&e.summary),
            })).collect::<Vec<_>>(),
        })
    };
    json!({
        "uptime_s": started().elapsed().as_secs_f64(),
        "live_objects": trace::leaks().map(|l| l.live_count()),
        "pools": pools(summary_of_stats.as_ref()),
        "stats": stats,
        "latency": latency,
        "sources": crate::stats::json(),
    })
}

/// `/api/objects`: the leaks tracer's live objects grouped by (type,
/// creation site), largest first, at most `limit` groups; the count per
/// type; `null` groups when no leaks tracer is active.
pub fn objects(limit: usize) -> Value {
    let Some(leaks) = trace::leaks() else {
        return json!({"tracer": null, "total": null, "types": {}, "groups": []});
    };
    let report = leaks.report(false);
    let mut types: HashMap<&str, usize> = HashMap::new();
    for o in &report.objects {
        for x in o.iter() {
            *types.entry(x.kind.name()).or_default() += 1;
        }
    }
    let groups: Vec<Value> = report
        .groups
        .iter()
        .take(limit.min(MAX_GROUPS))
        .map(|g| {
            json!({
                "type": g.kind.name(),
                "site": g.origin.clone().unwrap_or_else(|| g.site.to_string()),
                "count": g.count, "parts": g.parts, "bytes": g.bytes,
                "oldest_s": g.oldest.as_secs_f64(),
            })
        })
        .collect();
    json!({
        "tracer": report.tracer,
        "total": report.object_count(),
        "tracked": report.tracked,
        "group_count": report.groups.len(),
        "types": types,
        "groups": groups,
    })
}

/// `/api/checkpoint`: the first call starts activity tracking
/// (`{"started": true}`); each later one answers what was created and
/// destroyed since the previous, grouped by (type, site) with counts — what
/// SIGUSR2 logs. `Err` with the reason when no leaks tracer is active.
///
/// # Errors
///
/// A message naming the missing tracer.
pub fn checkpoint() -> Result<Value, String> {
    let leaks = trace::leaks().ok_or_else(|| {
        "no leaks tracer is active (start one with FRAMECAST_TRACERS=leaks)".to_string()
    })?;
    if !leaks.is_tracking() {
        // Another caller may have started it at the same moment: either way
        // it is on now.
        let _ = leaks.activity_start_tracking();
        return Ok(json!({"started": true}));
    }
    let cp = leaks.activity_checkpoint().map_err(|e| e.to_string())?;
    let group = |records: &mut dyn Iterator<Item = (&'static str, trace::Site, usize)>| {
        let mut by: HashMap<(&str, String), (usize, usize)> = HashMap::new();
        for (kind, site, size) in records {
            let e = by.entry((kind, site.to_string())).or_default();
            e.0 += 1;
            e.1 += size;
        }
        let mut v: Vec<_> = by.into_iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
        v.into_iter()
            .take(MAX_GROUPS)
            .map(|((kind, site), (count, bytes))| {
                json!({"type": kind, "site": site, "count": count, "bytes": bytes})
            })
            .collect::<Vec<Value>>()
    };
    let created = &mut cp.created.iter().map(|r| (r.kind.name(), r.site, r.size));
    let removed = &mut cp.removed.iter().map(|r| (r.kind.name(), r.site, r.size));
    Ok(json!({
        "started": false,
        "created": cp.created.len(),
        "removed": cp.removed.len(),
        "created_groups": group(created),
        "removed_groups": group(removed),
    }))
}

/// What `/api/events` pushes each second: the stats and the largest
/// groups of live objects in one event.
pub fn event(limit: usize) -> Value {
    json!({"stats": stats(), "objects": objects(limit)})
}
