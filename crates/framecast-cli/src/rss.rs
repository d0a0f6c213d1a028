//! Peak resident set of a process, for the summaries of `receive` and
//! `demo`.

/// `VmHWM` of process `pid` (its peak resident set since exec), KiB. Not
/// `ru_maxrss`: Linux carries the parent's peak into a child across fork
/// and exec, so a receiver started by `demo` would report the demo's.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}
