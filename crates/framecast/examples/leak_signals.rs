//! A long-running program that holds buffers and answers SIGUSR1/SIGUSR2,
//! to try the leaks tracer's signal interface on a live process.
//!
//! ```text
//! FRAMECAST_TRACERS=leaks FRAMECAST_LEAKS_TRACER_SIG=1 \
//!     cargo run -p framecast --example leak_signals -- 120 &
//! kill -USR1 $!   # log the live objects
//! kill -USR2 $!   # start activity tracking
//! kill -USR2 $!   # log what was created and removed since then, in order
//! ```
//!
//! Without `FRAMECAST_TRACERS` it starts a plain `leaks` tracer and the
//! signal watcher itself. It streams frames through a pool (a rolling window
//! of 4 held at a time) and, every second, keeps one more "thumbnail" buffer
//! (a slow growth that checkpoints make visible). It stops after the number
//! of seconds given (default 60), drops everything, and ends with
//! `no leaks`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use framecast::{trace, Buffer, BufferPool, PoolConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = match std::env::args().nth(1) {
        None => 60,
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("usage: leak_signals [SECONDS], not {arg:?}"))?,
    };
    if std::env::var_os(trace::TRACERS_ENV).is_none() {
        trace::start("leaks")?;
        trace::enable_leaks_signals();
    } else if let Err(e) = framecast::init() {
        eprintln!("leak_signals: {e}");
        std::process::exit(2);
    }
    if !trace::leaks_signals_enabled() {
        eprintln!("leak_signals: set FRAMECAST_LEAKS_TRACER_SIG=1 to enable SIGUSR1/SIGUSR2");
    }
    let pid = std::process::id();
    eprintln!(
        "leak_signals: pid {pid}, running {seconds} s; try `kill -USR1 {pid}` (live objects) \
         and `kill -USR2 {pid}` (start tracking, then checkpoints)"
    );

    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(1280 * 720 * 3 / 2, 4, 8))?;
    pool.set_active(true)?;
    let mut window: VecDeque<Buffer> = VecDeque::new();
    let mut thumbnails: Vec<Buffer> = Vec::new();
    let start = Instant::now();
    let mut next_thumbnail = Duration::from_secs(1);
    while start.elapsed() < Duration::from_secs(seconds) {
        window.push_back(pool.acquire()?);
        if window.len() > 4 {
            window.pop_front();
        }
        if start.elapsed() >= next_thumbnail {
            thumbnails.push(Buffer::with_size(160 * 90 * 3)?);
            next_thumbnail += Duration::from_secs(1);
        }
        std::thread::sleep(Duration::from_millis(33));
    }
    drop(window);
    drop(thumbnails);
    drop(pool);
    framecast::deinit();
    Ok(())
}
