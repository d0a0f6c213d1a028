//! Steady-state streaming allocates nothing: proven with a counting global
//! allocator, deterministically (no timing involved).
//!
//! The counter is per thread, so other tests running in parallel do not
//! disturb it.

use framecast_core::{
    AllocationParams, Buffer, BufferPool, ClockTime, PoolConfig, ReferenceTimestampMeta,
    VideoAlignment, VideoFormat, VideoInfo, VideoMeta,
};

use framecast_test_support::alloc::{allocations_in, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn one_frame(pool: &BufferPool, n: u64) {
    let mut buffer = pool.acquire().expect("acquire");
    {
        let frame = buffer.get_mut().expect("a fresh pool buffer is unique");
        let meta = *frame.meta::<VideoMeta>().expect("video meta");
        {
            let mut map = frame.map_writable().expect("map");
            // A row of luma and one chroma byte per plane: real writes into
            // the pooled frame, without turning the test into a memset benchmark.
            let row = &mut map[meta.offset[0]..meta.offset[0] + meta.width as usize];
            row.fill(n as u8);
            map[meta.offset[1]] = 128;
            map[meta.offset[2]] = 128;
        }
        let pts = ClockTime::from_nseconds(n * 33_333_333);
        frame.set_pts(Some(pts));
        frame.set_duration(Some(ClockTime::from_nseconds(33_333_333)));
        frame.add_meta(ReferenceTimestampMeta::capture(pts));
    }
    let clone = buffer.clone();
    assert_eq!(
        clone.meta::<ReferenceTimestampMeta>().map(|m| m.timestamp),
        Some(ClockTime::from_nseconds(n * 33_333_333))
    );
    drop(buffer);
    drop(clone);
}

#[test]
fn pooled_1080p_frames_allocate_nothing_in_steady_state() {
    let info = VideoInfo::new(VideoFormat::I420, 1920, 1080).expect("info");
    let pool = BufferPool::new_video();
    let config = PoolConfig::for_video(info, 2, 4)
        .with_allocator(None, AllocationParams::aligned(63))
        .with_video_meta()
        .with_video_alignment(VideoAlignment {
            stride_align: [63; 4],
            ..Default::default()
        });
    pool.set_config(config).expect("config");
    pool.set_active(true).expect("activate");

    // Warm-up: the pool may still allocate up to its working set.
    for n in 0..16 {
        one_frame(&pool, n);
    }
    let before = pool.stats();

    let allocations = allocations_in(|| {
        for n in 0..10_000 {
            one_frame(&pool, n);
        }
    });

    let after = pool.stats();
    assert_eq!(
        allocations, 0,
        "heap allocations in 10 000 steady-state frames"
    );
    assert_eq!(
        after.total_allocated, before.total_allocated,
        "pool allocated new buffers"
    );
    assert_eq!(after.discarded(), 0);
    assert_eq!(after.reused - before.reused, 10_000);
    assert_eq!(after.outstanding, 0);
}

#[test]
fn the_counter_does_count() {
    // Guards against a counter that cannot fail: a fresh buffer allocates.
    let n = allocations_in(|| {
        let b = Buffer::with_size(64).expect("buffer");
        drop(b);
    });
    assert!(
        n >= 2,
        "expected the buffer shell and its memory to allocate, counted {n}"
    );
}
