//! The ALLOCATION query: how a source and its downstream agree on pools,
//! allocators and metas (`GST_QUERY_ALLOCATION`), typed.
//!
//! Downstream (a sink, a converter) answers with proposals; upstream
//! [`decide`](AllocationQuery::decide)s a pool from them. A tee asks every
//! branch and merges the answers with [`AllocationQuery::aggregate`].

use std::fmt;
use std::sync::Arc;

use super::meta::{Meta, VideoMeta};
use super::{BufferPool, PoolConfig};
use crate::memory::{default_allocator, AllocationParams, Allocator};
use crate::video::{VideoAlignment, VideoInfo};
use crate::{Error, Result};

/// A proposed pool: a pool to use (or `None`: "make one") with size and
/// buffer counts.
#[derive(Debug, Clone)]
pub struct PoolProposal {
    /// The pool, if downstream offers one.
    pub pool: Option<BufferPool>,
    /// Bytes per buffer.
    pub size: usize,
    /// Buffers downstream needs to hold at once.
    pub min_buffers: u32,
    /// Most buffers (0 = unlimited).
    pub max_buffers: u32,
}

/// A proposed allocator with its params.
#[derive(Clone)]
pub struct AllocatorProposal {
    /// The allocator (`None` = default).
    pub allocator: Option<Arc<dyn Allocator>>,
    /// Alignment, prefix and padding downstream wants.
    pub params: AllocationParams,
}

impl fmt::Debug for AllocatorProposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllocatorProposal")
            .field("allocator", &self.allocator.as_ref().map(|a| a.mem_type()))
            .field("params", &self.params)
            .finish()
    }
}

/// Parameters attached to a supported meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetaParams {
    /// No parameters.
    None,
    /// For [`VideoMeta`]: the padding and stride alignment downstream wants
    /// (GStreamer's `"video-meta"` structure). Aggregated as the maximum
    /// of each padding and the OR of each stride alignment.
    Video(VideoAlignment),
}

impl MetaParams {
    fn merge(&self, other: &MetaParams) -> MetaParams {
        match (self, other) {
            (MetaParams::Video(a), MetaParams::Video(b)) => {
                let mut stride_align = a.stride_align;
                for (s, o) in stride_align.iter_mut().zip(b.stride_align) {
                    *s |= o;
                }
                MetaParams::Video(VideoAlignment {
                    padding_top: a.padding_top.max(b.padding_top),
                    padding_bottom: a.padding_bottom.max(b.padding_bottom),
                    padding_left: a.padding_left.max(b.padding_left),
                    padding_right: a.padding_right.max(b.padding_right),
                    stride_align,
                })
            }
            (MetaParams::Video(a), MetaParams::None) | (MetaParams::None, MetaParams::Video(a)) => {
                MetaParams::Video(*a)
            }
            (MetaParams::None, MetaParams::None) => MetaParams::None,
        }
    }
}

/// A supported meta API with its params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaProposal {
    /// The meta API name (`VideoMeta::API`).
    pub api: &'static str,
    /// Its parameters.
    pub params: MetaParams,
}

/// The ALLOCATION query (`GST_QUERY_ALLOCATION`).
///
/// # Examples
///
/// ```
/// use framecast_core::{AllocationQuery, MetaParams, VideoFormat, VideoInfo, VideoMeta, Meta};
/// let info = VideoInfo::new(VideoFormat::I420, 640, 480).unwrap();
/// let mut query = AllocationQuery::new(Some(info), true);
/// // downstream answers:
/// query.add_pool(None, info.size, 2, 0);
/// query.add_meta(VideoMeta::API, MetaParams::None);
/// // upstream decides:
/// let decision = query.decide().unwrap();
/// assert!(decision.config.video_meta);
/// assert_eq!(decision.config.min_buffers, 2);
/// ```
#[derive(Debug, Clone)]
pub struct AllocationQuery {
    /// The negotiated frame layout (the caps), for raw video.
    pub layout: Option<VideoInfo>,
    /// Bytes one buffer must hold (the frame size for raw video).
    pub size: usize,
    /// Whether upstream wants downstream to provide a pool.
    pub need_pool: bool,
    /// Pool proposals, preferred first.
    pub pools: Vec<PoolProposal>,
    /// Allocator proposals; entry 0 must be generic and mappable.
    pub allocators: Vec<AllocatorProposal>,
    /// Metas downstream supports.
    pub metas: Vec<MetaProposal>,
}

/// What upstream decided: a configured (inactive) pool and what it used.
#[derive(Debug, Clone)]
pub struct AllocationDecision {
    /// The pool, configured and not yet active.
    pub pool: BufferPool,
    /// The configuration it accepted.
    pub config: PoolConfig,
}

impl AllocationQuery {
    /// A query for buffers laid out as `layout` (`None` for non-video).
    pub fn new(layout: Option<VideoInfo>, need_pool: bool) -> AllocationQuery {
        AllocationQuery {
            size: layout.map_or(0, |info| info.size),
            layout,
            need_pool,
            pools: Vec::new(),
            allocators: Vec::new(),
            metas: Vec::new(),
        }
    }

    /// A query for plain buffers of `size` bytes.
    pub fn for_size(size: usize, need_pool: bool) -> AllocationQuery {
        AllocationQuery {
            size,
            ..AllocationQuery::new(None, need_pool)
        }
    }

    /// Adds a pool proposal.
    pub fn add_pool(
        &mut self,
        pool: Option<BufferPool>,
        size: usize,
        min_buffers: u32,
        max_buffers: u32,
    ) {
        self.pools.push(PoolProposal {
            pool,
            size,
            min_buffers,
            max_buffers,
        });
    }

    /// Adds an allocator proposal.
    pub fn add_allocator(
        &mut self,
        allocator: Option<Arc<dyn Allocator>>,
        params: AllocationParams,
    ) {
        self.allocators
            .push(AllocatorProposal { allocator, params });
    }

    /// Declares a supported meta API (once; a second add merges the params).
    pub fn add_meta(&mut self, api: &'static str, params: MetaParams) {
        match self.metas.iter_mut().find(|m| m.api == api) {
            Some(existing) => existing.params = existing.params.merge(&params),
            None => self.metas.push(MetaProposal { api, params }),
        }
    }

    /// Index of a supported meta API.
    pub fn find_meta(&self, api: &str) -> Option<usize> {
        self.metas.iter().position(|m| m.api == api)
    }

    /// Whether downstream supports meta type `M`.
    pub fn supports<M: Meta>(&self) -> bool {
        self.find_meta(M::API).is_some()
    }

    /// Upstream's side (basesrc's `decide_allocation`): takes pool entry 0
    /// (making a pool when it offers none), the allocator of entry 0 with
    /// the largest alignment, prefix and padding of all proposals, enables
    /// video meta (and its alignment) when downstream supports it, and
    /// configures the pool. A rejected config is retried with the pool's
    /// suggestion when that still fits, else a new pool is made. The
    /// decision is written back into entry 0 of the query.
    ///
    /// A pool made here is recorded (by the tracers and in
    /// [`live_pools`](super::live_pools)) as made by `decide`'s caller (a
    /// base class, for most elements: the pool's name tells which element
    /// it serves).
    #[track_caller]
    pub fn decide(&mut self) -> Result<AllocationDecision> {
        let site = std::panic::Location::caller();
        let allocator = self.allocators.first().and_then(|a| a.allocator.clone());
        let params = self
            .allocators
            .iter()
            .fold(AllocationParams::default(), |acc, a| acc.merge(&a.params));
        let (offered, size, min, max) = match self.pools.first() {
            Some(p) => (
                p.pool.clone(),
                p.size.max(self.size),
                p.min_buffers,
                p.max_buffers,
            ),
            None => (None, self.size, 0, 0),
        };
        let video_params = self.find_meta(VideoMeta::API).map(|i| self.metas[i].params);
        let mut config = PoolConfig {
            layout: self.layout,
            size,
            min_buffers: min,
            max_buffers: max,
            allocator: Some(allocator.clone().unwrap_or_else(default_allocator)),
            params,
            video_meta: video_params.is_some() && self.layout.is_some(),
            video_alignment: match video_params {
                Some(MetaParams::Video(a)) if self.layout.is_some() => Some(a),
                _ => None,
            },
        };
        if config.max_buffers != 0 && config.min_buffers > config.max_buffers {
            config.max_buffers = config.min_buffers;
        }
        let new_pool = || BufferPool::create(self.layout.is_some(), site);
        let pool = offered.unwrap_or_else(new_pool);
        let pool = match pool.set_config(config.clone()) {
            Ok(()) => pool,
            Err(Error::PoolConfigRejected {
                suggested: Some(suggested),
                ..
            }) if suggested.validate(self.layout.as_ref(), size, min, max) => {
                pool.set_config(*suggested)?;
                pool
            }
            Err(_) => {
                let fallback = new_pool();
                fallback.set_config(config.clone())?;
                fallback
            }
        };
        let config = pool
            .config()
            .ok_or_else(|| Error::Allocation("the decided pool lost its config".into()))?;
        let entry = PoolProposal {
            pool: Some(pool.clone()),
            size: config.size,
            min_buffers: config.min_buffers,
            max_buffers: config.max_buffers,
        };
        match self.pools.first_mut() {
            Some(first) => *first = entry,
            None => self.pools.push(entry),
        }
        let allocator_entry = AllocatorProposal {
            allocator: config.allocator.clone(),
            params: config.params,
        };
        match self.allocators.first_mut() {
            Some(first) => *first = allocator_entry,
            None => self.allocators.push(allocator_entry),
        }
        Ok(AllocationDecision { pool, config })
    }

    /// Merges the answers of several downstream branches as GStreamer's tee
    /// does: one allocator entry with the largest alignment, prefix and
    /// padding (only if any is non-zero); one pool entry with no pool, the
    /// largest size and the largest min of each branch's first pool entry
    /// (+1 when there is more than one
    /// branch, for the buffer the tee itself holds) and max 0 (only if the
    /// size is non-zero); the metas all branches support, with merged params.
    /// A branch whose query failed fails the whole query: pass its error.
    pub fn aggregate(&self, branches: &[Result<AllocationQuery>]) -> Result<AllocationQuery> {
        let mut out = AllocationQuery {
            pools: Vec::new(),
            allocators: Vec::new(),
            metas: Vec::new(),
            ..self.clone()
        };
        let mut answered = Vec::with_capacity(branches.len());
        for (i, branch) in branches.iter().enumerate() {
            match branch {
                Ok(q) => answered.push(q),
                Err(e) => {
                    return Err(Error::Allocation(format!(
                        "branch {i} failed the allocation query: {e}"
                    )))
                }
            }
        }
        let params = answered
            .iter()
            .flat_map(|q| q.allocators.iter())
            .fold(AllocationParams::default(), |acc, a| acc.merge(&a.params));
        if params.align != 0 || params.prefix != 0 || params.padding != 0 {
            out.add_allocator(
                None,
                AllocationParams {
                    flags: Default::default(),
                    ..params
                },
            );
        }
        // Only each branch's first pool entry counts, as in tee: the
        // minimum is normally the same whichever pool is used.
        let size = answered
            .iter()
            .filter_map(|q| q.pools.first())
            .map(|p| p.size)
            .max()
            .unwrap_or(0);
        let mut min = answered
            .iter()
            .filter_map(|q| q.pools.first())
            .map(|p| p.min_buffers)
            .max()
            .unwrap_or(0);
        if answered.len() > 1 {
            min += 1;
        }
        if size != 0 {
            out.add_pool(None, size, min, 0);
        }
        if let Some((first, rest)) = answered.split_first() {
            for meta in &first.metas {
                let mut params = meta.params;
                let everywhere = rest.iter().all(|q| match q.find_meta(meta.api) {
                    Some(i) => {
                        params = params.merge(&q.metas[i].params);
                        true
                    }
                    None => false,
                });
                if everywhere {
                    out.metas.push(MetaProposal {
                        api: meta.api,
                        params,
                    });
                }
            }
        }
        Ok(out)
    }
}
