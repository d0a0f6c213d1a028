//! The ALLOCATION query: upstream's `decide` and the tee's `aggregate`.

use std::sync::Arc;

use framecast_core::{
    default_allocator, AllocationParams, AllocationQuery, Allocator, BufferPool, Error, ErrorKind,
    MemfdAllocator, MemoryFlags, Meta, MetaParams, PoolConfig, ReferenceTimestampMeta,
    VideoAlignment, VideoCropMeta, VideoFormat, VideoInfo, VideoMeta, MEMFD_MEMORY, SYSTEM_MEMORY,
};

fn i420(w: u32, h: u32) -> VideoInfo {
    VideoInfo::new(VideoFormat::I420, w, h).unwrap()
}

fn params(align: usize, prefix: usize, padding: usize) -> AllocationParams {
    AllocationParams {
        flags: MemoryFlags::empty(),
        align,
        prefix,
        padding,
    }
}

// ---- building the query ---------------------------------------------------------

#[test]
fn new_query_and_proposals() {
    let info = i420(640, 480);
    let mut q = AllocationQuery::new(Some(info), true);
    assert_eq!(q.size, 460_800);
    assert!(q.need_pool);
    assert!(q.pools.is_empty() && q.allocators.is_empty() && q.metas.is_empty());

    q.add_meta(VideoMeta::API, MetaParams::None);
    q.add_meta(VideoCropMeta::API, MetaParams::None);
    assert_eq!(q.find_meta(VideoCropMeta::API), Some(1));
    assert!(q.supports::<VideoMeta>());
    assert!(!q.supports::<ReferenceTimestampMeta>());
    // A second add of the same API merges params instead of duplicating.
    q.add_meta(
        VideoMeta::API,
        MetaParams::Video(VideoAlignment {
            padding_top: 2,
            ..Default::default()
        }),
    );
    assert_eq!(q.metas.len(), 2);
    assert_eq!(
        q.metas[0].params,
        MetaParams::Video(VideoAlignment {
            padding_top: 2,
            ..Default::default()
        })
    );

    let q = AllocationQuery::for_size(1234, false);
    assert_eq!((q.size, q.need_pool, q.layout), (1234, false, None));
}

// ---- decide -------------------------------------------------------------------------

#[test]
fn decide_uses_the_proposed_pool_entry_zero() {
    let info = i420(320, 240);
    let offered = BufferPool::new_video();
    let second = BufferPool::new();
    let mut q = AllocationQuery::new(Some(info), true);
    q.add_pool(Some(offered.clone()), info.size, 3, 6);
    q.add_pool(Some(second.clone()), info.size * 2, 1, 0);

    let d = q.decide().unwrap();
    assert!(BufferPool::ptr_eq(&d.pool, &offered));
    assert!(second.config().is_none(), "entry 1 is not touched");
    assert_eq!(d.config.size, 115_200);
    assert_eq!((d.config.min_buffers, d.config.max_buffers), (3, 6));
    assert_eq!(d.config.layout, Some(info));
    assert!(!d.config.video_meta, "downstream did not offer video meta");
    assert!(
        !d.pool.is_active(),
        "left inactive for upstream to activate"
    );
    assert_eq!(d.pool.config(), Some(d.config.clone()));

    // Written back into entry 0.
    assert_eq!(q.pools.len(), 2);
    assert!(BufferPool::ptr_eq(
        q.pools[0].pool.as_ref().unwrap(),
        &offered
    ));
    assert_eq!(
        (
            q.pools[0].size,
            q.pools[0].min_buffers,
            q.pools[0].max_buffers
        ),
        (115_200, 3, 6)
    );
    assert!(BufferPool::ptr_eq(
        q.pools[1].pool.as_ref().unwrap(),
        &second
    ));
    assert_eq!(q.allocators.len(), 1);
    assert_eq!(q.allocators[0].params, AllocationParams::default());
    assert_eq!(
        q.allocators[0].allocator.as_ref().unwrap().mem_type(),
        SYSTEM_MEMORY
    );

    d.pool.set_active(true).unwrap();
    assert_eq!(d.pool.stats().allocated, 3);
    assert_eq!(d.pool.acquire().unwrap().size(), 115_200);
}

#[test]
fn decide_makes_a_pool_when_none_is_offered() {
    // Entry with no pool.
    let info = i420(64, 64);
    let mut q = AllocationQuery::new(Some(info), true);
    q.add_pool(None, 0, 2, 0);
    let d = q.decide().unwrap();
    assert!(d.pool.is_video());
    assert_eq!(d.config.size, 6144, "at least the frame size");
    assert_eq!((d.config.min_buffers, d.config.max_buffers), (2, 0));
    assert!(BufferPool::ptr_eq(
        q.pools[0].pool.as_ref().unwrap(),
        &d.pool
    ));
    assert_eq!(q.pools[0].size, 6144);

    // No entry at all: a pool of the query's size, written as entry 0.
    let mut q = AllocationQuery::for_size(500, true);
    let d = q.decide().unwrap();
    assert!(!d.pool.is_video());
    assert_eq!(
        (d.config.size, d.config.min_buffers, d.config.max_buffers),
        (500, 0, 0)
    );
    assert_eq!(q.pools.len(), 1);
    assert!(BufferPool::ptr_eq(
        q.pools[0].pool.as_ref().unwrap(),
        &d.pool
    ));
    assert_eq!(q.pools[0].size, 500);

    // A bigger proposed size wins over the query's.
    let mut q = AllocationQuery::for_size(500, true);
    q.add_pool(None, 800, 1, 4);
    let d = q.decide().unwrap();
    assert_eq!(d.config.size, 800);
}

#[test]
fn decide_takes_the_largest_alignment_prefix_and_padding() {
    let memfd: Arc<dyn Allocator> = Arc::new(MemfdAllocator);
    let mut q = AllocationQuery::for_size(1000, true);
    q.add_allocator(Some(memfd.clone()), params(15, 0, 64));
    q.add_allocator(None, params(63, 16, 0));
    q.add_allocator(None, params(7, 32, 8));
    let d = q.decide().unwrap();
    assert_eq!(d.config.params, params(63, 32, 64));
    // Entry 0's allocator is used.
    let used = d.config.allocator.as_ref().unwrap();
    assert!(Arc::ptr_eq(used, &memfd));
    // Written back into entry 0.
    assert_eq!(q.allocators.len(), 3);
    assert_eq!(q.allocators[0].params, params(63, 32, 64));
    assert!(Arc::ptr_eq(
        q.allocators[0].allocator.as_ref().unwrap(),
        &memfd
    ));

    d.pool.set_active(true).unwrap();
    let buf = d.pool.acquire().unwrap();
    let m = buf.memory(0).unwrap();
    assert!(m.is_type(MEMFD_MEMORY));
    assert_eq!(m.sizes(), (1000, 32, 1096));
    assert_eq!(m.map_readable().unwrap().as_ptr() as usize % 64, 0);
}

#[test]
fn decide_without_allocator_entry_uses_the_default() {
    let mut q = AllocationQuery::for_size(10, true);
    let d = q.decide().unwrap();
    assert!(Arc::ptr_eq(
        d.config.allocator.as_ref().unwrap(),
        &default_allocator()
    ));
    assert_eq!(d.config.params, AllocationParams::default());
    assert_eq!(q.allocators.len(), 1);
}

#[test]
fn decide_enables_video_meta_when_supported() {
    let info = i420(100, 100);
    let mut q = AllocationQuery::new(Some(info), true);
    q.add_pool(None, info.size, 1, 2);
    q.add_meta(
        VideoMeta::API,
        MetaParams::Video(VideoAlignment {
            stride_align: [15; 4],
            ..Default::default()
        }),
    );
    let d = q.decide().unwrap();
    assert!(d.config.video_meta);
    // The video pool aligned the layout: GStreamer's figures.
    assert_eq!(d.config.size, 19_200);
    assert_eq!(d.config.params.align, 15);
    assert_eq!(d.config.video_alignment.unwrap().padding_right, 28);
    assert_eq!(q.pools[0].size, 19_200);
    d.pool.set_active(true).unwrap();
    let buf = d.pool.acquire().unwrap();
    let meta = buf.meta::<VideoMeta>().unwrap();
    assert_eq!(meta.stride[..3], [128, 64, 64]);
    assert_eq!(meta.offset[..3], [0, 12800, 16000]);

    // Supported without params: video meta, default layout.
    let mut q = AllocationQuery::new(Some(info), true);
    q.add_meta(VideoMeta::API, MetaParams::None);
    let d = q.decide().unwrap();
    assert!(d.config.video_meta);
    assert_eq!(d.config.video_alignment, None);
    assert_eq!(d.config.size, 15_200);

    // Not for non-video buffers.
    let mut q = AllocationQuery::for_size(100, true);
    q.add_meta(VideoMeta::API, MetaParams::None);
    let d = q.decide().unwrap();
    assert!(!d.config.video_meta);
}

#[test]
fn decide_fixes_min_above_max() {
    let mut q = AllocationQuery::for_size(10, true);
    q.add_pool(None, 10, 5, 2);
    let d = q.decide().unwrap();
    assert_eq!((d.config.min_buffers, d.config.max_buffers), (5, 5));
}

#[test]
fn decide_falls_back_to_a_new_pool_when_the_offered_one_refuses() {
    // The offered pool is active with another config: set_config fails.
    let offered = BufferPool::new();
    offered.set_config(PoolConfig::new(10, 0, 0)).unwrap();
    offered.set_active(true).unwrap();
    let mut q = AllocationQuery::for_size(100, true);
    q.add_pool(Some(offered.clone()), 100, 1, 3);
    let d = q.decide().unwrap();
    assert!(!BufferPool::ptr_eq(&d.pool, &offered));
    assert_eq!(d.config.size, 100);
    assert_eq!(offered.config().unwrap().size, 10, "untouched");
    assert!(BufferPool::ptr_eq(
        q.pools[0].pool.as_ref().unwrap(),
        &d.pool
    ));
}

// ---- aggregate (tee) ------------------------------------------------------------

fn branch(
    size: usize,
    min: u32,
    max: u32,
    p: AllocationParams,
    metas: &[(&'static str, MetaParams)],
) -> AllocationQuery {
    let mut q = AllocationQuery::new(Some(i420(64, 64)), false);
    q.add_pool(None, size, min, max);
    q.add_allocator(None, p);
    for &(api, mp) in metas {
        q.add_meta(api, mp);
    }
    q
}

#[test]
fn aggregate_tee_rules() {
    let tee_query = AllocationQuery::new(Some(i420(64, 64)), true);
    let video_a = MetaParams::Video(VideoAlignment {
        padding_top: 2,
        padding_left: 1,
        stride_align: [3, 0, 1, 0],
        ..Default::default()
    });
    let video_b = MetaParams::Video(VideoAlignment {
        padding_top: 1,
        padding_right: 4,
        stride_align: [4, 2, 1, 0],
        ..Default::default()
    });
    let a = branch(
        6144,
        2,
        5,
        params(15, 8, 0),
        &[
            (VideoMeta::API, video_a),
            (ReferenceTimestampMeta::API, MetaParams::None),
            (VideoCropMeta::API, MetaParams::None),
        ],
    );
    let b = branch(
        8000,
        3,
        0,
        params(63, 0, 32),
        &[
            (VideoCropMeta::API, MetaParams::None),
            (VideoMeta::API, video_b),
        ],
    );
    let out = tee_query.aggregate(&[Ok(a), Ok(b)]).unwrap();
    // The tee's own query fields are kept.
    assert!(out.need_pool);
    assert_eq!(out.size, 6144);
    // One allocator entry: no allocator, the largest of each param.
    assert_eq!(out.allocators.len(), 1);
    assert!(out.allocators[0].allocator.is_none());
    assert_eq!(out.allocators[0].params, params(63, 8, 32));
    // One pool entry: no pool, largest size, largest min + 1, max 0.
    assert_eq!(out.pools.len(), 1);
    assert!(out.pools[0].pool.is_none());
    assert_eq!(
        (
            out.pools[0].size,
            out.pools[0].min_buffers,
            out.pools[0].max_buffers
        ),
        (8000, 4, 0)
    );
    // Metas: the intersection, in the first branch's order, video params merged
    // (max of each padding, OR of each stride alignment).
    let apis: Vec<&str> = out.metas.iter().map(|m| m.api).collect();
    assert_eq!(apis, [VideoMeta::API, VideoCropMeta::API]);
    assert_eq!(
        out.metas[0].params,
        MetaParams::Video(VideoAlignment {
            padding_top: 2,
            padding_bottom: 0,
            padding_left: 1,
            padding_right: 4,
            stride_align: [7, 2, 1, 0],
        })
    );
    assert_eq!(out.metas[1].params, MetaParams::None);
}

#[test]
fn aggregate_single_branch_does_not_add_one() {
    let tee = AllocationQuery::new(Some(i420(64, 64)), true);
    let a = branch(6144, 2, 5, params(15, 0, 0), &[]);
    let out = tee.aggregate(&[Ok(a)]).unwrap();
    assert_eq!(
        (
            out.pools[0].size,
            out.pools[0].min_buffers,
            out.pools[0].max_buffers
        ),
        (6144, 2, 0)
    );
    assert_eq!(out.allocators[0].params, params(15, 0, 0));
}

#[test]
fn aggregate_reads_only_the_first_pool_of_each_branch() {
    // As GStreamer's tee: "We only read the first allocation pool".
    let tee = AllocationQuery::for_size(100, true);
    let mut a = AllocationQuery::for_size(100, false);
    a.add_pool(None, 100, 1, 0);
    a.add_pool(None, 5000, 9, 0);
    let mut b = AllocationQuery::for_size(100, false);
    b.add_pool(None, 200, 2, 0);
    let out = tee.aggregate(&[Ok(a), Ok(b)]).unwrap();
    assert_eq!(out.pools.len(), 1);
    assert_eq!((out.pools[0].size, out.pools[0].min_buffers), (200, 3));
}

#[test]
fn aggregate_without_params_or_pools_adds_no_entries() {
    let tee = AllocationQuery::for_size(100, true);
    let mut a = AllocationQuery::for_size(100, false);
    a.add_allocator(None, AllocationParams::default());
    a.add_meta(VideoCropMeta::API, MetaParams::None);
    let b = AllocationQuery::for_size(100, false);
    let out = tee.aggregate(&[Ok(a.clone()), Ok(b)]).unwrap();
    assert!(out.allocators.is_empty(), "all params zero");
    assert!(out.pools.is_empty(), "size 0");
    assert!(out.metas.is_empty(), "b supports no meta");
    // Flags alone do not make an allocator entry, and are not passed on.
    let mut c = AllocationQuery::for_size(100, false);
    c.add_allocator(
        None,
        AllocationParams {
            flags: MemoryFlags::ZERO_PADDED,
            ..Default::default()
        },
    );
    let out = tee.aggregate(&[Ok(c)]).unwrap();
    assert!(out.allocators.is_empty());
    let out = tee.aggregate(&[]).unwrap();
    assert!(out.pools.is_empty() && out.allocators.is_empty() && out.metas.is_empty());
    let out = tee.aggregate(&[Ok(a)]).unwrap();
    assert_eq!(out.metas.len(), 1);
}

#[test]
fn aggregate_fails_when_a_branch_fails() {
    let tee = AllocationQuery::for_size(100, true);
    let a = branch(100, 1, 0, params(7, 0, 0), &[]);
    let failed = Err(Error::Allocation("branch refused".into()));
    let err = tee.aggregate(&[Ok(a), failed]).unwrap_err();
    assert!(
        matches!(err, Error::Allocation(ref msg) if msg.contains("branch 1")),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn aggregate_then_decide() {
    let info = i420(100, 100);
    let tee = AllocationQuery::new(Some(info), true);
    let a = {
        let mut q = AllocationQuery::new(Some(info), false);
        q.add_pool(None, info.size, 2, 0);
        q.add_meta(
            VideoMeta::API,
            MetaParams::Video(VideoAlignment {
                stride_align: [15, 0, 0, 0],
                ..Default::default()
            }),
        );
        q
    };
    let b = {
        let mut q = AllocationQuery::new(Some(info), false);
        q.add_pool(None, info.size, 1, 0);
        q.add_meta(
            VideoMeta::API,
            MetaParams::Video(VideoAlignment {
                stride_align: [0, 15, 15, 0],
                ..Default::default()
            }),
        );
        q
    };
    let mut out = tee.aggregate(&[Ok(a), Ok(b)]).unwrap();
    let d = out.decide().unwrap();
    assert_eq!(d.config.min_buffers, 3);
    assert!(d.config.video_meta);
    assert_eq!(
        d.config.video_alignment.unwrap().stride_align[..3],
        [15, 15, 15]
    );
    assert_eq!(d.config.size, 19_200);
    let meta_api = |q: &AllocationQuery| q.metas.iter().map(|m| m.api).collect::<Vec<_>>();
    assert_eq!(meta_api(&out), [VideoMeta::API]);
}

#[test]
fn decide_retries_with_the_pools_suggestion() {
    // A proposal too small for the frame: the offered video pool rejects it
    // with the frame size, which still satisfies the request, so the offered
    // pool is kept with the suggested config.
    let info = i420(100, 100);
    let offered = BufferPool::new_video();
    let mut q = AllocationQuery::new(Some(info), true);
    q.size = 1000;
    q.add_pool(Some(offered.clone()), 1000, 2, 4);
    let d = q.decide().unwrap();
    assert!(BufferPool::ptr_eq(&d.pool, &offered));
    assert_eq!(d.config.size, 15_200);
    assert_eq!((d.config.min_buffers, d.config.max_buffers), (2, 4));
    assert_eq!(q.pools[0].size, 15_200);
}
