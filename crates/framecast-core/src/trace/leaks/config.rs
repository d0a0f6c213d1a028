//! What a [`LeaksTracer`] tracks: its configuration and the type filter.

use std::path::PathBuf;

use crate::trace::{ObjectKind, TracerParams};

/// How a [`LeaksTracer`](super::LeaksTracer) behaves. `Default` is GStreamer's plain `leaks`:
/// every type, no stack traces, no reference tracking, not fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaksConfig {
    /// Instance name (`name=`), `leaks` by default.
    pub name: String,
    /// Type names to track (`filters=Buffer,BufferPool`); `None` tracks all.
    pub filters: Option<Vec<String>>,
    /// Capture a backtrace for every tracked object and recorded reference
    /// event (`stack-traces=true`). Captured unresolved (a few µs), resolved
    /// only when a report is produced.
    pub stack_traces: bool,
    /// Record every clone and non-last drop of a tracked handle
    /// (`check-refs=true`).
    pub check_refs: bool,
    /// Also write reports as JSON lines to this file (`output=PATH`).
    pub output: Option<PathBuf>,
    /// Make [`Tracer::finish`](crate::trace::Tracer::finish) report failure when anything leaked, so
    /// `framecast::deinit()` exits with status 3 (`fatal=true`).
    pub fatal: bool,
    /// Report live objects when tracing ends (`log-leaks-on-deinit`, default
    /// true, as GStreamer's).
    pub log_on_deinit: bool,
}

impl Default for LeaksConfig {
    fn default() -> Self {
        LeaksConfig {
            name: "leaks".to_string(),
            filters: None,
            stack_traces: false,
            check_refs: false,
            output: None,
            fatal: false,
            log_on_deinit: true,
        }
    }
}

/// Type names framecast itself reports; a filter outside this list is kept
/// (user types report [`ObjectKind::Other`]) but warned about, since it is
/// most often a typo.
const KNOWN_TYPES: &[&str] = &[
    "Memory",
    "Buffer",
    "BufferPool",
    "Allocator",
    "Element",
    "Pad",
];

impl LeaksConfig {
    /// Reads `filters`, `stack-traces`, `check-refs`, `output`, `fatal`,
    /// `log-leaks-on-deinit` and `name` from spec parameters.
    pub fn from_params(params: &TracerParams) -> Result<LeaksConfig, crate::Error> {
        params.check_known(
            "leaks",
            &[
                "name",
                "filters",
                "stack-traces",
                "check-refs",
                "output",
                "fatal",
                "log-leaks-on-deinit",
            ],
        )?;
        let name = match params.get("name") {
            Some("") => return Err(params.error("name", "empty name".into())),
            Some(n) => n.to_string(),
            None => "leaks".to_string(),
        };
        let filters = params.list("filters")?;
        for f in filters.iter().flatten() {
            if !KNOWN_TYPES.contains(&f.as_str()) {
                crate::trace::log_text(&format!(
                    "framecast leaks: filter {f:?} is not one of {} (kept for custom object kinds)\n",
                    KNOWN_TYPES.join(", ")
                ));
            }
        }
        let output = match params.get("output") {
            Some("") => return Err(params.error("output", "empty path".into())),
            Some(p) => Some(PathBuf::from(p)),
            None => None,
        };
        Ok(LeaksConfig {
            name,
            filters,
            stack_traces: params.bool("stack-traces", false)?,
            check_refs: params.bool("check-refs", false)?,
            output,
            fatal: params.bool("fatal", false)?,
            log_on_deinit: params.bool("log-leaks-on-deinit", true)?,
        })
    }
}

/// Which kinds are tracked, checked on every event: a bit test for the
/// built-in kinds, a short list for named ones.
#[derive(Debug)]
pub(super) struct Filter {
    pub(super) all: bool,
    mask: u32,
    others: Vec<String>,
}

fn kind_bit(kind: ObjectKind) -> u32 {
    match kind {
        ObjectKind::Memory => 1,
        ObjectKind::Buffer => 2,
        ObjectKind::BufferPool => 4,
        ObjectKind::Allocator => 8,
        ObjectKind::Element => 16,
        ObjectKind::Pad => 32,
        ObjectKind::Other(_) => 0,
    }
}

impl Filter {
    pub(super) fn new(filters: &Option<Vec<String>>) -> Filter {
        let Some(names) = filters else {
            return Filter {
                all: true,
                mask: 0,
                others: Vec::new(),
            };
        };
        let mut mask = 0;
        let mut others = Vec::new();
        for name in names {
            let bit = ObjectKind::BUILTIN
                .into_iter()
                .find(|k| k.name() == name)
                .map(kind_bit);
            match bit {
                Some(bit) => mask |= bit,
                None => others.push(name.clone()),
            }
        }
        Filter {
            all: false,
            mask,
            others,
        }
    }

    #[inline]
    pub(super) fn matches(&self, kind: ObjectKind) -> bool {
        if self.all {
            return true;
        }
        match kind {
            ObjectKind::Other(name) => self.others.iter().any(|o| o == name),
            k => self.mask & kind_bit(k) != 0,
        }
    }
}
