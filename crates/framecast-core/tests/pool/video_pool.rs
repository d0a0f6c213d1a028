//! Video pool.

use super::*;

#[test]
fn video_pool_with_meta_and_alignment() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    assert_eq!(info.size, 15200);
    let pool = BufferPool::new_video();
    let config = PoolConfig::for_video(info, 1, 2)
        .with_video_meta()
        .with_video_alignment(VideoAlignment {
            stride_align: [15; 4],
            ..Default::default()
        });
    assert_eq!(config.size, 15200);
    pool.set_config(config).unwrap();
    let stored = pool.config().unwrap();
    assert_eq!(stored.size, 19200, "raised to the aligned frame size");
    assert_eq!(stored.params.align, 15, "raised to the stride alignment");
    let alignment = stored.video_alignment.unwrap();
    assert_eq!(alignment.padding_right, 28);
    assert_eq!(alignment.stride_align, [15; 4]);
    let layout = pool.frame_layout().unwrap();
    assert_eq!(layout.stride[..3], [128, 64, 64]);
    assert_eq!(layout.size, 19200);

    pool.set_active(true).unwrap();
    let buf = pool.acquire().unwrap();
    assert_eq!(buf.size(), 19200);
    let addr = buf.memory(0).unwrap().map_readable().unwrap().as_ptr() as usize;
    assert_eq!(addr % 16, 0);
    let meta = buf.meta::<VideoMeta>().unwrap();
    assert_eq!(meta.format, VideoFormat::I420);
    assert_eq!((meta.width, meta.height, meta.n_planes), (100, 100, 3));
    assert_eq!(meta.stride[..3], [128, 64, 64]);
    assert_eq!(meta.offset[..3], [0, 12800, 16000]);
    assert_eq!(meta.alignment.padding_right, 28);
}

#[test]
fn video_pool_alignment_honours_params_align() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    let pool = BufferPool::new_video();
    pool.set_config(
        PoolConfig::for_video(info, 0, 0)
            .with_allocator(None, AllocationParams::aligned(31))
            .with_video_meta()
            .with_video_alignment(VideoAlignment::default()),
    )
    .unwrap();
    let stored = pool.config().unwrap();
    // Every stride alignment is ORed with params.align (31).
    assert_eq!(stored.video_alignment.unwrap().stride_align, [31; 4]);
    assert_eq!(stored.params.align, 31);
    let layout = pool.frame_layout().unwrap();
    assert_eq!(layout.stride[..3], [128, 64, 64]);
}

#[test]
fn video_pool_without_meta_ignores_alignment_and_adds_no_meta() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    let pool = BufferPool::new_video();
    pool.set_config(
        PoolConfig::for_video(info, 0, 1).with_video_alignment(VideoAlignment {
            stride_align: [15; 4],
            ..Default::default()
        }),
    )
    .unwrap();
    assert_eq!(pool.config().unwrap().size, 15200);
    assert_eq!(pool.frame_layout().unwrap().stride[..3], [100, 52, 52]);
    pool.set_active(true).unwrap();
    let buf = pool.acquire().unwrap();
    assert_eq!(buf.n_meta(), 0);
    assert_eq!(buf.size(), 15200);
}

#[test]
fn video_pool_rejects_a_too_small_size_with_the_frame_size() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    let pool = BufferPool::new_video();
    let config = PoolConfig {
        size: 1000,
        ..PoolConfig::for_video(info, 1, 2).with_video_meta()
    };
    let err = pool.set_config(config).unwrap_err();
    let Error::PoolConfigRejected { suggested, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let suggested = suggested.as_deref().unwrap().clone();
    assert_eq!(suggested.size, 15200);
    assert_eq!((suggested.min_buffers, suggested.max_buffers), (1, 2));
    assert!(suggested.video_meta);
    assert!(pool.config().is_none());
    pool.set_config(suggested).unwrap();
    assert_eq!(pool.config().unwrap().size, 15200);
}

#[test]
fn video_pool_without_layout_is_rejected() {
    let pool = BufferPool::new_video();
    let err = pool.set_config(PoolConfig::new(100, 0, 0)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolConfigRejected {
                suggested: None,
                ..
            }
        ),
        "{err:?}"
    );
    // A plain pool asked for video meta without a layout: rejected as well.
    let pool = BufferPool::new();
    let err = pool
        .set_config(PoolConfig::new(100, 0, 0).with_video_meta())
        .unwrap_err();
    assert!(matches!(err, Error::PoolConfigRejected { .. }), "{err:?}");
    // A plain pool with a layout and video meta works.
    let info = VideoInfo::new(VideoFormat::Rgba, 8, 8).unwrap();
    let pool = activated(
        BufferPool::new(),
        PoolConfig::for_video(info, 0, 1).with_video_meta(),
    );
    let buf = pool.acquire().unwrap();
    assert_eq!(buf.meta::<VideoMeta>().unwrap().stride[0], 32);
}
