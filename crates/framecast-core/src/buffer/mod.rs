//! Buffers, metas, pools (being written).

/// Placeholder until the pool lands.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig;
