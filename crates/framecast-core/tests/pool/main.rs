//! Buffer pools: activation, acquire (blocking, DONT_WAIT, flushing),
//! configuration rules, reset on return (prefix kept!), FIFO reuse,
//! discards by reason, deactivation, statistics, video pools and the
//! ParentBufferMeta that keeps a pooled buffer out while a copy shares it.
//!
//! Every wait is bounded: blocked acquirers run on helper threads and are
//! observed through channels with timeouts.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use framecast_core::{
    AcquireFlags, AllocationParams, Buffer, BufferFlags, BufferPool, ClockTime, Error, ErrorKind,
    Memory, MemoryFlags, Meta, ParentBufferMeta, PoolConfig, PoolStats, ReferenceTimestampMeta,
    VideoAlignment, VideoCropMeta, VideoFormat, VideoInfo, VideoMeta,
};

const TIMEOUT: Duration = Duration::from_secs(10);

fn active_pool(config: PoolConfig) -> BufferPool {
    activated(BufferPool::new(), config)
}

/// `pool` configured with `config` and active.
fn activated(pool: BufferPool, config: PoolConfig) -> BufferPool {
    pool.set_config(config).unwrap();
    pool.set_active(true).unwrap();
    pool
}

/// `N` buffers acquired from `pool`, in order.
fn acquire_n<const N: usize>(pool: &BufferPool) -> [Buffer; N] {
    std::array::from_fn(|_| pool.acquire().unwrap())
}

/// Polls `cond` until it holds or the deadline passes.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Starts an acquire on another thread; its result arrives on the channel.
fn acquire_in_thread(pool: &BufferPool) -> mpsc::Receiver<Result<Buffer, Error>> {
    let (tx, rx) = mpsc::channel();
    let pool = pool.clone();
    thread::spawn(move || {
        let _ = tx.send(pool.acquire());
    });
    rx
}

fn mem_layout(buf: &Buffer) -> (usize, usize, usize) {
    buf.memory(0).unwrap().sizes()
}

mod acquire;
mod activation;
mod pooled_copies;
mod reuse;
mod video_pool;
