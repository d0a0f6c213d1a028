//! `framecast-bench memory`: the memory core's per-frame costs.
//!
//! Each case runs `iters` operations, five times; the median run is
//! reported as ns per operation, with heap allocations per operation
//! counted by the counting allocator this program installs
//! ([`framecast_test_support::alloc`]).

use std::hint::black_box;
use std::time::Instant;

use framecast::{
    AllocationParams, Buffer, BufferPool, ClockTime, PoolConfig, ReferenceTimestampMeta,
    VideoFormat, VideoInfo,
};

use framecast_test_support::alloc::allocations;

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Operations per run for the cheap cases (pool cycle, clone, meta).
    #[arg(long, default_value_t = 1_000_000)]
    iters: u64,
    /// Frames per run for the cases that touch a whole 1080p frame.
    #[arg(long, default_value_t = 300)]
    frames: u64,
}

struct Row {
    name: &'static str,
    ns_per_op: f64,
    allocs_per_op: f64,
}

fn measure(name: &'static str, iters: u64, mut op: impl FnMut(u64)) -> Row {
    // Warm-up run (pools fill, pages fault in).
    for i in 0..iters.min(1000) {
        op(i);
    }
    let mut runs = Vec::with_capacity(5);
    let mut allocs = 0;
    for _ in 0..5 {
        let before = allocations();
        let start = Instant::now();
        for i in 0..iters {
            op(i);
        }
        let elapsed = start.elapsed();
        allocs = allocations() - before;
        runs.push(elapsed.as_nanos() as f64 / iters as f64);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    Row {
        name,
        ns_per_op: runs[2],
        allocs_per_op: allocs as f64 / iters as f64,
    }
}

fn video_pool(info: VideoInfo) -> Result<BufferPool, String> {
    let pool = BufferPool::new_video();
    pool.set_config(
        PoolConfig::for_video(info, 2, 4)
            .with_allocator(None, AllocationParams::aligned(63))
            .with_video_meta(),
    )
    .map_err(|e| e.to_string())?;
    pool.set_active(true).map_err(|e| e.to_string())?;
    Ok(pool)
}

/// Runs the benchmark and prints a table.
pub fn run(args: &Args) -> Result<(), String> {
    let info = VideoInfo::new(VideoFormat::I420, 1920, 1080).map_err(|e| e.to_string())?;
    let pool = video_pool(info)?;
    let mut rows = Vec::new();

    rows.push(measure(
        "pool acquire+release, 1080p I420",
        args.iters,
        |_| {
            black_box(pool.acquire().ok());
        },
    ));

    let shared = pool.acquire().map_err(|e| e.to_string())?;
    rows.push(measure("buffer clone+drop", args.iters, |_| {
        black_box(shared.clone());
    }));

    rows.push(measure("map readable (1080p memory)", args.iters, |_| {
        if let Ok(map) = shared.memory(0).map(|m| m.map_readable()).transpose() {
            black_box(map.map(|m| m.len()));
        }
    }));
    drop(shared);

    let mut writable = pool.acquire().map_err(|e| e.to_string())?;
    rows.push(measure("map writable (1080p memory)", args.iters, |i| {
        if let Some(b) = writable.get_mut() {
            if let Ok(mut map) = b.memory_writable(0) {
                map[0] = i as u8;
            }
        }
    }));
    drop(writable);

    let mut meta_buf = Buffer::new();
    rows.push(measure(
        "meta add+get+remove (reference timestamp)",
        args.iters,
        |i| {
            if let Some(b) = meta_buf.get_mut() {
                b.add_meta(ReferenceTimestampMeta::capture(ClockTime::from_nseconds(i)));
                black_box(b.meta::<ReferenceTimestampMeta>());
                let _ = black_box(b.remove_meta::<ReferenceTimestampMeta>());
            }
        },
    ));

    rows.push(measure(
        "pooled 1080p frame: acquire, fill, release",
        args.frames,
        |i| {
            if let Ok(mut b) = pool.acquire() {
                if let Some(Ok(mut map)) = b.get_mut().map(|b| b.map_writable()) {
                    map.fill(i as u8);
                }
            }
        },
    ));

    rows.push(measure(
        "seed pattern: fresh 1080p buffer, fill, free",
        args.frames,
        |i| {
            if let Ok(mut b) = Buffer::with_size(info.size) {
                if let Some(Ok(mut map)) = b.get_mut().map(|b| b.map_writable()) {
                    map.fill(i as u8);
                }
            }
        },
    ));

    let frame_bytes: Vec<u8> = (0..info.size).map(|i| i as u8).collect();
    rows.push(measure(
        "fresh 1080p buffer from a slice (copy in), free",
        args.frames,
        |_| {
            black_box(Buffer::from_slice(&frame_bytes).ok());
        },
    ));

    rows.push(measure(
        "fresh 1080p buffer, allocate+free only",
        args.frames,
        |_| {
            black_box(Buffer::with_size(info.size).ok());
        },
    ));

    let anchor = match gst_anchor(args.iters, args.frames) {
        Ok(rows) => rows,
        Err(why) => {
            eprintln!("GStreamer anchor skipped: {why}");
            Vec::new()
        }
    };
    println!(
        "framecast-bench memory ({} ops, {} frames per run; median of 5)",
        args.iters, args.frames
    );
    println!(
        "{:<46} {:>12} {:>10} {:>12} {:>8}",
        "case", "framecast ns", "allocs/op", "GStreamer ns", "ratio"
    );
    for row in &rows {
        let gst = anchor
            .iter()
            .find(|(name, _)| name == row.name)
            .map(|(_, ns)| *ns);
        let (gst_text, ratio) = match gst {
            Some(ns) => (format!("{ns:.1}"), format!("{:.2}x", row.ns_per_op / ns)),
            None => ("-".to_string(), "-".to_string()),
        };
        println!(
            "{:<46} {:>12.1} {:>10.3} {:>12} {:>8}",
            row.name, row.ns_per_op, row.allocs_per_op, gst_text, ratio
        );
    }
    println!("ratio = framecast / GStreamer 1.22 doing the same in the same run (lower is better)");
    let pooled = rows.iter().find(|r| r.name.starts_with("pooled 1080p"));
    let fresh = rows.iter().find(|r| r.name.starts_with("seed pattern"));
    if let (Some(p), Some(f)) = (pooled, fresh) {
        println!(
            "fresh-per-frame / pooled (fill included): {:.2}x",
            f.ns_per_op / p.ns_per_op
        );
    }
    Ok(())
}

const GST_ANCHOR_SOURCE: &str = include_str!("../anchors/gst_memory_bench.c");

/// Builds and runs the GStreamer C anchor (anchors/gst_memory_bench.c):
/// the same cases through GstBufferPool, gst_buffer_ref/map and
/// gst_buffer_new_allocate. Needs `cc`, `pkg-config` and GStreamer's
/// development files (`libgstreamer-plugins-base1.0-dev`).
fn gst_anchor(iters: u64, frames: u64) -> Result<Vec<(String, f64)>, String> {
    use std::process::Command;
    let exe = super::build_c_anchor(
        "gst_memory_bench",
        GST_ANCHOR_SOURCE,
        &["gstreamer-1.0", "gstreamer-video-1.0"],
    )?;
    let out = Command::new(&exe)
        .args([iters.to_string(), frames.to_string()])
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "anchor failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (name, ns) = line.split_once('\t')?;
            Some((name.to_string(), ns.trim().parse().ok()?))
        })
        .collect())
}
