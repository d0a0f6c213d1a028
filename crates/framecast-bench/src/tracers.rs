//! `framecast-bench tracers`: what the tracers cost on a buffer-heavy
//! workload, beside GStreamer's leaks tracer on the same machine.
//!
//! The main framecast workload mimics
//! `fakesrc num-buffers=N sizetype=fixed sizemax=64 ! queue ! fakesink`
//! with the memory core alone: one thread makes N new buffers of 64 bytes
//! and pushes them through a bounded queue (200 buffers, `queue`'s default)
//! to a second thread that drops them — five hook calls per buffer, the
//! worst case for the leaks tracer. Variants: one clone and drop per buffer
//! (what `check-refs` records), buffers from a pool (acquire/release
//! instead of create/destroy), and the real framecast pipeline
//! `fakesrc ... ! queue ! fakesink` (pooled buffers, pad pushes, a queue
//! thread).
//!
//! Tracers are global and switchable at run time, so every configuration
//! runs in this one process, interleaved run by run so drift (frequency,
//! other load) spreads evenly; the median run is reported. When
//! `gst-launch-1.0` is on `PATH` the GStreamer pipeline is timed too, with
//! and without `GST_TRACERS=leaks` / `leaks(check-refs=true)`.

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast::trace::{self, Interest, ObjectId, ObjectInfo, ObjectKind, Tracer};
use framecast::{Buffer, BufferPool, PoolConfig};

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Buffers per run.
    #[arg(long, default_value_t = 200_000)]
    buffers: u64,
    /// Bytes per buffer.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Runs per configuration (the median is reported).
    #[arg(long, default_value_t = 9)]
    runs: usize,
    /// Queue capacity between the two threads (GStreamer's `queue` holds
    /// 200 buffers by default).
    #[arg(long, default_value_t = 200)]
    queue: usize,
    /// Runs of each GStreamer command (0 skips GStreamer).
    #[arg(long, default_value_t = 3)]
    gst_runs: usize,
    /// Only the framecast configurations whose label contains this (for
    /// profiling one of them; `off` always runs, as the reference).
    #[arg(long)]
    only: Option<String>,
}

/// The workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// New buffer per frame, moved through the queue, dropped.
    Create,
    /// As `Create`, plus one clone taken and dropped per buffer.
    CreateClone,
    /// Buffers from a pool, returned when dropped.
    Pooled,
    /// `fakesrc ! queue ! fakesink` through the pipeline engine.
    Pipeline,
}

impl Workload {
    const ALL: [Workload; 4] = [
        Workload::Create,
        Workload::CreateClone,
        Workload::Pooled,
        Workload::Pipeline,
    ];

    fn label(self) -> &'static str {
        match self {
            Workload::Create => "new buffer->queue->drop",
            Workload::CreateClone => "same +1 clone",
            Workload::Pooled => "pooled->queue->drop",
            Workload::Pipeline => "fakesrc!queue!fakesink",
        }
    }
}

/// Runs `fakesrc num-buffers=N sizetype=fixed sizemax=SIZE ! queue !
/// fakesink` to end of stream.
fn run_pipeline(args: &Args) -> Result<Duration, String> {
    let launch = format!(
        "fakesrc num-buffers={} sizetype=fixed sizemax={} ! queue ! fakesink",
        args.buffers, args.size
    );
    let pipeline = framecast::parse_launch(&launch).map_err(|e| e.to_string())?;
    let bus = pipeline.bus();
    let start = Instant::now();
    pipeline
        .set_state(framecast::State::Playing)
        .map_err(|e| e.to_string())?;
    let msg = bus.timed_pop_filtered(Some(Duration::from_secs(300)), |m| {
        matches!(
            m,
            framecast::Message::Eos | framecast::Message::Error { .. }
        )
    });
    let elapsed = start.elapsed();
    pipeline
        .set_state(framecast::State::Null)
        .map_err(|e| e.to_string())?;
    match msg {
        Some(framecast::Message::Eos) => Ok(elapsed),
        other => Err(format!("{launch}: no end of stream: {other:?}")),
    }
}

/// Runs one workload once and returns its wall time.
fn run_workload(w: Workload, args: &Args) -> Result<Duration, String> {
    if w == Workload::Pipeline {
        return run_pipeline(args);
    }
    let pool = if w == Workload::Pooled {
        let pool = BufferPool::new();
        pool.set_config(PoolConfig::new(args.size, 8, 0))
            .map_err(|e| e.to_string())?;
        pool.set_active(true).map_err(|e| e.to_string())?;
        Some(pool)
    } else {
        None
    };
    let (tx, rx) = sync_channel::<Buffer>(args.queue);
    let start = Instant::now();
    let sink = std::thread::spawn(move || {
        let mut n = 0u64;
        for b in rx {
            black_box(&b);
            drop(b);
            n += 1;
        }
        n
    });
    for _ in 0..args.buffers {
        let b = match &pool {
            Some(pool) => pool.acquire().map_err(|e| e.to_string())?,
            None => Buffer::with_size(args.size).map_err(|e| e.to_string())?,
        };
        if w == Workload::CreateClone {
            let extra = b.clone();
            black_box(&extra);
            drop(extra);
        }
        if tx.send(b).is_err() {
            return Err("the sink thread stopped".into());
        }
    }
    drop(tx);
    let received = sink.join().map_err(|_| "the sink thread panicked")?;
    let elapsed = start.elapsed();
    if received != args.buffers {
        return Err(format!("sink got {received} of {} buffers", args.buffers));
    }
    drop(pool);
    Ok(elapsed)
}

/// One tracer configuration: a `FRAMECAST_TRACERS` spec. Every leaks
/// instance is named `bench` so its report can be checked after each run.
struct Config {
    label: &'static str,
    spec: Option<&'static str>,
}

fn configs() -> Vec<Config> {
    vec![
        Config {
            label: "off",
            spec: None,
        },
        Config {
            label: "leaks",
            spec: Some("leaks(name=bench)"),
        },
        Config {
            label: "leaks(check-refs=true)",
            spec: Some("leaks(name=bench,check-refs=true)"),
        },
        Config {
            label: "leaks(filters=Buffer,stack-traces=true)",
            spec: Some("leaks(name=bench,filters=Buffer,stack-traces=true)"),
        },
        Config {
            label: "latency;stats",
            spec: Some("latency(name=bench-latency);stats(name=bench-stats)"),
        },
    ]
}

/// Runs `w` under `config`, checking that a leaks tracer saw everything
/// freed. Tracers are removed without writing their final reports.
fn run_with(config: &Config, w: Workload, args: &Args) -> Result<Duration, String> {
    let Some(spec) = config.spec else {
        return run_workload(w, args);
    };
    let tracers = trace::build(spec).map_err(|e| e.to_string())?;
    for t in &tracers {
        trace::add_tracer(Arc::clone(t));
    }
    let leaks = trace::leaks_named("bench");
    let result = run_workload(w, args);
    let report = leaks.map(|l| l.report(true));
    for t in &tracers {
        trace::remove_tracer(t.name());
    }
    let elapsed = result?;
    match report {
        Some(r) if !r.is_clean() => Err(format!(
            "{} on {}: the tracer reports leaks:\n{r}",
            config.label,
            w.label()
        )),
        _ => Ok(elapsed),
    }
}

/// Prints one markdown table: a row per configuration, time and ratio to
/// `off` per workload.
fn print_table(title: &str, configs: &[Config], times: &[Vec<Duration>]) {
    println!();
    println!("{title}:");
    println!();
    print!("| tracer |");
    for w in Workload::ALL {
        print!(" {} | ratio |", w.label());
    }
    println!();
    print!("|---|");
    for _ in Workload::ALL {
        print!("---:|---:|");
    }
    println!();
    let Some(off) = times.first() else {
        return;
    };
    for (c, row) in configs.iter().zip(times) {
        print!("| {} |", c.label);
        for (t, base) in row.iter().zip(off) {
            print!(" {} | {} |", secs(*t), ratio(*t, *base));
        }
        println!();
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "-".into();
    }
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}

/// Counts hook calls, to say how many events one buffer fires.
#[derive(Debug, Default)]
struct EventCounter(AtomicU64);

impl Tracer for EventCounter {
    fn name(&self) -> &str {
        "bench-event-counter"
    }
    fn interests(&self) -> Interest {
        Interest::LIFECYCLE | Interest::REFS | Interest::LINKS | Interest::POOL
    }
    fn object_created(&self, _: &ObjectInfo) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn object_destroyed(&self, _: ObjectId, _: ObjectKind) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn object_reffed(&self, _: ObjectId, _: ObjectKind, _: trace::Site) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn object_unreffed(&self, _: ObjectId, _: ObjectKind) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn object_linked(&self, _: ObjectId, _: ObjectId) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn object_unlinked(&self, _: ObjectId, _: ObjectId) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn pool_acquired(&self, _: ObjectId, _: ObjectId) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn pool_released(&self, _: ObjectId, _: ObjectId) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Hook calls per buffer for each workload.
fn events_per_buffer(w: Workload, args: &Args) -> Result<f64, String> {
    let counter = Arc::new(EventCounter::default());
    trace::add_tracer(counter.clone());
    let small = Args {
        buffers: 10_000,
        size: args.size,
        runs: 1,
        queue: args.queue,
        gst_runs: 0,
        only: None,
    };
    let result = run_workload(w, &small);
    trace::remove_tracer(counter.name());
    result?;
    Ok(counter.0.load(Ordering::Relaxed) as f64 / small.buffers as f64)
}

/// The cost of a hook while no tracer listens: a relaxed load and a branch.
fn disabled_hook_ns() -> f64 {
    const CALLS: u64 = 50_000_000;
    let site = std::panic::Location::caller();
    let start = Instant::now();
    for i in 0..CALLS {
        let id = black_box(ObjectId::next());
        trace::object_created(|| ObjectInfo {
            id,
            kind: ObjectKind::Buffer,
            site,
            size: black_box(i as usize),
            parent: None,
            description: "",
            may_be_leaked: false,
        });
    }
    let with_hook = start.elapsed();
    let start = Instant::now();
    for _ in 0..CALLS {
        black_box(ObjectId::next());
    }
    let without = start.elapsed();
    (with_hook.saturating_sub(without)).as_nanos() as f64 / CALLS as f64
}

fn gst_available() -> bool {
    Command::new("gst-launch-1.0")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Times one `gst-launch-1.0` run (process start included).
fn time_gst(buffers: u64, tracers: Option<&str>) -> Result<Duration, String> {
    let mut cmd = Command::new("gst-launch-1.0");
    cmd.args([
        "-q",
        "fakesrc",
        &format!("num-buffers={buffers}"),
        "sizetype=fixed",
        "sizemax=64",
        "!",
        "queue",
        "!",
        "fakesink",
    ]);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GST_") {
            cmd.env_remove(key);
        }
    }
    if let Some(t) = tracers {
        cmd.env("GST_TRACERS", t);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status().map_err(|e| format!("gst-launch-1.0: {e}"))?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("gst-launch-1.0 failed: {status}"));
    }
    Ok(elapsed)
}

/// Runs the benchmark and prints the tables.
pub fn run(args: &Args) -> Result<(), String> {
    if args.buffers == 0 || args.runs == 0 || args.queue == 0 {
        return Err("--buffers, --runs and --queue must be at least 1".into());
    }
    if !trace::active_tracers().is_empty() {
        return Err("tracers are active (FRAMECAST_TRACERS?); the benchmark needs none".into());
    }
    println!(
        "framecast-bench tracers: {} buffers of {} bytes, queue {}, median of {} runs",
        args.buffers, args.size, args.queue, args.runs
    );
    let mut configs = configs();
    if let Some(only) = &args.only {
        configs.retain(|c| c.label == "off" || c.label.contains(only.as_str()));
    }
    // Warm-up: page in the allocator and threads.
    run_workload(Workload::Create, args)?;

    let mut times: Vec<Vec<Vec<Duration>>> =
        vec![vec![Vec::new(); Workload::ALL.len()]; configs.len()];
    for _ in 0..args.runs {
        for (ci, c) in configs.iter().enumerate() {
            for (wi, w) in Workload::ALL.iter().enumerate() {
                times[ci][wi].push(run_with(c, *w, args)?);
            }
        }
    }
    let spread: Vec<String> = Workload::ALL
        .iter()
        .enumerate()
        .map(|(wi, w)| {
            let off = &times[0][wi];
            let min = off.iter().min().copied().unwrap_or_default();
            let max = off.iter().max().copied().unwrap_or_default();
            format!("{}: {} .. {}", w.label(), secs(min), secs(max))
        })
        .collect();
    let medians: Vec<Vec<Duration>> = times
        .iter()
        .map(|per_w| per_w.iter().cloned().map(median).collect())
        .collect();
    let bests: Vec<Vec<Duration>> = times
        .iter()
        .map(|per_w| {
            per_w
                .iter()
                .map(|runs| runs.iter().min().copied().unwrap_or_default())
                .collect()
        })
        .collect();
    print_table(&format!("Median of {} runs", args.runs), &configs, &medians);
    print_table(
        &format!(
            "Best of {} runs (least disturbed by other load on the machine)",
            args.runs
        ),
        &configs,
        &bests,
    );
    println!();
    println!("off, run-to-run range: {}", spread.join("; "));
    let per_buffer: Vec<String> = Workload::ALL
        .iter()
        .map(|w| Ok(format!("{} {:.1}", w.label(), events_per_buffer(*w, args)?)))
        .collect::<Result<_, String>>()?;
    println!("hook calls per buffer: {}", per_buffer.join(", "));
    let hook = disabled_hook_ns();
    let off_ns = medians[0][0].as_nanos() as f64 / args.buffers as f64;
    println!(
        "a hook with no tracer listening: {hook:.2} ns (off: {off_ns:.0} ns per buffer in total)"
    );

    if args.gst_runs == 0 {
        return Ok(());
    }
    if !gst_available() {
        println!("\ngst-launch-1.0 not found: GStreamer comparison skipped");
        return Ok(());
    }
    let gst_configs: [(&str, Option<&str>); 3] = [
        ("no tracer", None),
        ("GST_TRACERS=leaks", Some("leaks")),
        (
            "GST_TRACERS='leaks(check-refs=true)'",
            Some("leaks(check-refs=true)"),
        ),
    ];
    let mut gst_times = vec![Vec::new(); gst_configs.len()];
    let mut startup = Vec::new();
    for _ in 0..args.gst_runs {
        startup.push(time_gst(1, None)?);
        for (i, (_, t)) in gst_configs.iter().enumerate() {
            gst_times[i].push(time_gst(args.buffers, *t)?);
        }
    }
    let gst: Vec<Duration> = gst_times.into_iter().map(median).collect();
    println!();
    println!(
        "gst-launch-1.0 -q fakesrc num-buffers={} sizetype=fixed sizemax=64 ! queue ! fakesink (median of {}, process start included: num-buffers=1 takes {})",
        args.buffers,
        args.gst_runs,
        secs(median(startup))
    );
    println!();
    println!("| GStreamer | time | ratio |");
    println!("|---|---:|---:|");
    for (i, (label, _)) in gst_configs.iter().enumerate() {
        println!("| {label} | {} | {} |", secs(gst[i]), ratio(gst[i], gst[0]));
    }
    Ok(())
}
