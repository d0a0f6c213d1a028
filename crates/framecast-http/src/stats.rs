//! Numbers other parts of the process publish on `/api/stats`,
//! `/api/events` and `/metrics`: each MJPEG stream, each WHEP endpoint
//! (per-viewer RTT, loss, NACKs, PLIs), anything that registers a
//! [`StatsSource`].
//!
//! The registry is process-wide (the dashboard serves any framecast
//! program, whatever mounted the source), and holds sources weakly: a
//! source that goes away leaves the page at once.

use framecast_core::sync::MutexExt;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, Weak};

/// Something with live numbers to show.
pub trait StatsSource: Send + Sync {
    /// Its numbers as a JSON value, shown under its name in `/api/stats`
    /// (`{"sources": {"<name>": ...}}`).
    fn json(&self) -> serde_json::Value;

    /// Its numbers as Prometheus text lines, appended to `out` (use
    /// [`metric`] for each sample, with `source="<name>"` among its labels).
    fn metrics(&self, name: &str, out: &mut String);

    /// Latency stages this source measures beyond the pipeline (a stream's
    /// viewers' own glass-to-glass latency): `(stage, figures)` pairs,
    /// which the dashboard shows beside the latency tracer's paths and
    /// `/metrics` exports in `framecast_latency_seconds` with
    /// `source="<name>"` and `element="<stage>"`. None by default.
    fn latency(&self) -> Vec<(String, framecast_core::trace::Summary)> {
        Vec::new()
    }
}

struct Entry {
    id: u64,
    name: String,
    source: Weak<dyn StatsSource>,
}

static SOURCES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A registered source; dropping it unregisters.
#[derive(Debug)]
pub struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        SOURCES.locked().retain(|e| e.id != self.0);
    }
}

/// Registers `source` under `name` (`mjpeg:/cam`, `whep:/cam`), as long as
/// both the returned handle and the source live.
pub fn register(name: &str, source: &Arc<dyn StatsSource>) -> Registered {
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    SOURCES.locked().push(Entry {
        id,
        name: name.to_string(),
        source: Arc::downgrade(source),
    });
    Registered(id)
}

/// The live sources, by name, in registration order.
pub fn sources() -> Vec<(String, Arc<dyn StatsSource>)> {
    SOURCES
        .locked()
        .iter()
        .filter_map(|e| Some((e.name.clone(), e.source.upgrade()?)))
        .collect()
}

/// Every source's JSON, as one object keyed by name. Two sources of one
/// name (two servers in a process, each with a `/cam`) both show: the
/// later ones as `name#2`, `name#3`, in registration order.
pub fn json() -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, s) in sources() {
        let mut key = name.clone();
        for n in 2.. {
            if !map.contains_key(&key) {
                break;
            }
            key = format!("{name}#{n}");
        }
        map.insert(key, s.json());
    }
    serde_json::Value::Object(map)
}

/// Every source's [`latency`](StatsSource::latency) stages, as
/// `(source, stage, figures)`, in registration order.
pub fn latency_stages() -> Vec<(String, String, framecast_core::trace::Summary)> {
    sources()
        .into_iter()
        .flat_map(|(name, src)| {
            src.latency()
                .into_iter()
                .map(move |(stage, s)| (name.clone(), stage, s))
        })
        .collect()
}

/// Every source's Prometheus lines, each family once: two sources of a
/// kind (two `whepsink`s) both write a family's `# HELP`/`# TYPE`, and
/// Prometheus refuses a whole scrape that repeats them, or splits a
/// family's samples apart. The families are merged here: the first
/// source's header, then every source's samples, in order.
pub fn metrics(out: &mut String) {
    let mut text = String::new();
    for (name, s) in sources() {
        s.metrics(&name, &mut text);
    }
    merge_families(&text, out);
}

/// `text` (Prometheus lines) with each family's header once and its
/// samples together, appended to `out`. Samples before any header keep
/// their place at the start.
fn merge_families(text: &str, out: &mut String) {
    // (family, its header lines, its samples), in first-seen order.
    let mut families: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![("", Vec::new(), Vec::new())];
    let mut current = 0;
    for line in text.lines() {
        let header = line
            .strip_prefix("# HELP ")
            .or_else(|| line.strip_prefix("# TYPE "));
        match header.and_then(|h| h.split_whitespace().next()) {
            Some(name) => {
                current = match families.iter().position(|(n, _, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        families.push((name, Vec::new(), Vec::new()));
                        families.len() - 1
                    }
                };
                let headers = &mut families[current].1;
                let kind = &line[..6];
                if !headers.iter().any(|h| h.starts_with(kind)) {
                    headers.push(line);
                }
            }
            None => families[current].2.push(line),
        }
    }
    for (_, headers, samples) in families {
        for line in headers.iter().chain(&samples) {
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// Appends one Prometheus sample: `name{labels} value`. `labels` are
/// `(key, value)` pairs; values are escaped as the text format wants.
pub fn metric(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{k}=\"{v}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Appends a metric family's `# HELP` and `# TYPE` lines (`kind`:
/// `counter`, `gauge`, `histogram`).
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl StatsSource for Fixed {
        fn json(&self) -> serde_json::Value {
            serde_json::json!({"frames": 3})
        }
        fn metrics(&self, name: &str, out: &mut String) {
            metric(out, "framecast_test_frames", &[("source", name)], 3.0);
        }
    }

    #[test]
    fn a_source_shows_while_both_it_and_its_handle_live() {
        let s: Arc<dyn StatsSource> = Arc::new(Fixed);
        let h = register("test:\"q\"", &s);
        assert_eq!(json()["test:\"q\""]["frames"], 3);
        let mut out = String::new();
        metrics(&mut out);
        assert!(
            out.contains("framecast_test_frames{source=\"test:\\\"q\\\"\"} 3\n"),
            "{out}"
        );
        drop(h);
        assert!(json().get("test:\"q\"").is_none());
        // One name twice: both listed.
        let (a, b) = (register("twice", &s), register("twice", &s));
        assert_eq!(json()["twice"]["frames"], 3);
        assert_eq!(json()["twice#2"]["frames"], 3);
        drop((a, b));
        let h2 = register("gone", &s);
        drop(s);
        assert!(json().get("gone").is_none());
        drop(h2);
    }

    /// Two sources of a kind, each writing its family: one header, the
    /// samples together (Prometheus refuses a repeated `# TYPE`).
    #[test]
    fn families_two_sources_write_are_merged() {
        let mut text = String::new();
        for source in ["whep:/a", "whep:/b"] {
            family(&mut text, "fc_viewers", "gauge", "Viewers");
            metric(&mut text, "fc_viewers", &[("source", source)], 1.0);
            family(&mut text, "fc_nacks_total", "counter", "NACKs");
            metric(&mut text, "fc_nacks_total", &[("source", source)], 2.0);
        }
        let mut out = "early 1\n".to_string();
        merge_families(&format!("loose 3\n{text}"), &mut out);
        assert_eq!(
            out,
            "early 1\nloose 3\n\
             # HELP fc_viewers Viewers\n# TYPE fc_viewers gauge\n\
             fc_viewers{source=\"whep:/a\"} 1\nfc_viewers{source=\"whep:/b\"} 1\n\
             # HELP fc_nacks_total NACKs\n# TYPE fc_nacks_total counter\n\
             fc_nacks_total{source=\"whep:/a\"} 2\nfc_nacks_total{source=\"whep:/b\"} 2\n"
        );
    }
}
