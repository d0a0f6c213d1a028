//! Leaks two buffers on purpose so the leaks tracer has something to find.
//!
//! ```text
//! FRAMECAST_TRACERS=leaks cargo run -p framecast --example leak_demo
//! FRAMECAST_TRACERS='leaks(check-refs=true)' cargo run -p framecast --example leak_demo
//! FRAMECAST_TRACERS='leaks(stack-traces=true,output=/tmp/leaks.json,fatal=true)' cargo run -p framecast --example leak_demo; echo "exit $?"
//! ```
//!
//! The report names both buffers with their creation sites in this file:
//! the pooled buffer (with its memory and the pool it keeps alive) and the
//! plain one, whose extra reference sits in a static. With
//! `check-refs=true` it also names the line that took that reference.

use framecast_core::sync::MutexExt;
use std::sync::Mutex;

use framecast::{Buffer, BufferPool, PoolConfig};

/// Somewhere a reference can hide forever: a cache nobody clears.
static CACHE: Mutex<Vec<Buffer>> = Mutex::new(Vec::new());

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Err(e) = framecast::init() {
        eprintln!("leak_demo: {e}");
        std::process::exit(2);
    }

    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(4096, 2, 8))?;
    pool.set_active(true)?;
    for _ in 0..10 {
        let frame = pool.acquire()?; // acquired, used, returned: no leak
        drop(frame);
    }
    // Leak 1: a pooled buffer that never goes home.
    let lost = pool.acquire()?;
    std::mem::forget(lost);
    drop(pool);

    // Leak 2: a plain buffer; the handle is dropped, but a clone stays in
    // the cache.
    let plain = Buffer::with_size(64)?;
    cache(&plain);
    drop(plain);

    // Ends tracing: prints the report (and exits with status 3 if the
    // leaks tracer was given fatal=true).
    framecast::deinit();
    Ok(())
}

fn cache(buffer: &Buffer) {
    CACHE.locked().push(buffer.clone());
}
