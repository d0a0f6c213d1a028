//! Queries: questions a pad asks its peer (and through it, the elements
//! behind).

use framecast_core::{AllocationQuery, ClockTime};

use super::caps::Caps;

/// A query and, once answered, its result.
#[derive(Debug)]
#[non_exhaustive]
pub enum Query {
    /// Which caps can the peer handle? Answered with the caps, filtered.
    Caps {
        /// Restrict the answer to caps compatible with these.
        filter: Option<Caps>,
        /// The answer.
        result: Option<Caps>,
    },
    /// Would the peer accept exactly these caps?
    AcceptCaps {
        /// The caps.
        caps: Caps,
        /// The answer.
        result: bool,
    },
    /// Which pools, allocators and metas does downstream offer?
    Allocation(AllocationQuery),
    /// The latency of the pipeline from here downstream (upstream, really:
    /// sinks ask sources). `live`: a live source is upstream; `min`: the
    /// latency that must be added; `max`: how much can be buffered.
    Latency {
        /// A live source is involved.
        live: bool,
        /// Minimum latency.
        min: ClockTime,
        /// Maximum latency (`None` = unlimited).
        max: Option<ClockTime>,
    },
    /// The current position in running time.
    Position {
        /// The answer.
        result: Option<ClockTime>,
    },
}

impl Query {
    /// A caps query.
    pub fn new_caps(filter: Option<Caps>) -> Query {
        Query::Caps {
            filter,
            result: None,
        }
    }

    /// An accept-caps query.
    pub fn new_accept_caps(caps: Caps) -> Query {
        Query::AcceptCaps {
            caps,
            result: false,
        }
    }

    /// A latency query, before anyone answered.
    pub fn new_latency() -> Query {
        Query::Latency {
            live: false,
            min: ClockTime::ZERO,
            max: None,
        }
    }

    /// A short name.
    pub fn name(&self) -> &'static str {
        match self {
            Query::Caps { .. } => "caps",
            Query::AcceptCaps { .. } => "accept-caps",
            Query::Allocation(_) => "allocation",
            Query::Latency { .. } => "latency",
            Query::Position { .. } => "position",
        }
    }
}
