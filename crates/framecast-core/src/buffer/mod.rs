//! Buffers, metas, buffer pools and the allocation query.

mod allocation;
mod buffer_ref;
mod copy;
mod flags;
mod handle;
pub mod meta;
mod pool;
mod pool_config;
mod pool_registry;

pub use allocation::{
    AllocationDecision, AllocationQuery, AllocatorProposal, MetaParams, MetaProposal, PoolProposal,
};
pub use buffer_ref::{BufferMap, BufferRef};
pub use flags::{BufferCopyFlags, BufferFlags};
pub use handle::Buffer;
pub use meta::{
    Meta, MetaFlags, MetaRef, MetaTransform, ParentBufferMeta, ReferenceTimestampMeta,
    VideoCropMeta, VideoMeta,
};
pub use pool::{AcquireFlags, BufferPool, DiscardReason, PoolStats};
pub use pool_config::PoolConfig;
pub use pool_registry::{live_pools, PoolSnapshot};
