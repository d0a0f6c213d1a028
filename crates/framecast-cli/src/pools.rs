//! The buffer pools alive in this process and how big they are, from the
//! leaks tracer's live objects: what stands behind a step in RSS (a pool
//! frame used for the first time costs its pages then), for `demo`'s
//! summary and `receive --json`.

use framecast::trace::{leaks, LiveObject, ObjectId, ObjectKind};

/// One pool: its buffers (queued and out) and their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize {
    /// Buffers it holds.
    pub buffers: u64,
    /// Their bytes, memories included.
    pub bytes: u64,
}

/// The pools of `objects` (live objects, as trees), largest first.
fn group(objects: &[LiveObject]) -> Vec<PoolSize> {
    let mut pools: Vec<(ObjectId, PoolSize)> = Vec::new();
    // Every object once: a buffer handed out may hold its pool (with the
    // idle buffers) as a child, so a buffer's bytes are its memories'.
    for o in objects.iter().flat_map(LiveObject::iter) {
        let (Some(pool), ObjectKind::Buffer) = (&o.pool, o.kind) else {
            continue;
        };
        let bytes: usize = o
            .children
            .iter()
            .filter(|c| c.kind == ObjectKind::Memory)
            .map(|c| c.bytes)
            .sum();
        let at = match pools.iter().position(|(id, _)| *id == pool.id) {
            Some(at) => at,
            None => {
                pools.push((
                    pool.id,
                    PoolSize {
                        buffers: 0,
                        bytes: 0,
                    },
                ));
                pools.len() - 1
            }
        };
        pools[at].1.buffers += 1;
        pools[at].1.bytes += bytes as u64;
    }
    let mut sizes: Vec<PoolSize> = pools.into_iter().map(|(_, s)| s).collect();
    sizes.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    sizes
}

/// The pools alive now, largest first; empty without a leaks tracer.
pub fn pool_sizes() -> Vec<PoolSize> {
    leaks().map_or_else(Vec::new, |t| group(&t.live_objects()))
}

/// `6 x 3.0 MiB, 4 x 1.4 KiB`: the pools holding 1 % or more of the bytes,
/// each as buffers x the size of one; `none` when there are none.
pub fn describe(pools: &[PoolSize]) -> String {
    let total: u64 = pools.iter().map(|p| p.bytes).sum();
    let shown: Vec<String> = pools
        .iter()
        .filter(|p| p.buffers > 0 && p.bytes * 100 >= total)
        .map(|p| format!("{} x {}", p.buffers, size(p.bytes / p.buffers)))
        .collect();
    if shown.is_empty() {
        "none".into()
    } else {
        shown.join(", ")
    }
}

/// `3.0 MiB`, `1.4 KiB`, `512 B`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_described_largest_first_without_the_crumbs() {
        let pools = [
            PoolSize {
                buffers: 6,
                bytes: 6 * 3_110_400,
            },
            PoolSize {
                buffers: 4,
                bytes: 4 * 1_400,
            },
            PoolSize {
                buffers: 2,
                bytes: 2 * 600_000,
            },
        ];
        assert_eq!(describe(&pools), "6 x 3.0 MiB, 2 x 585.9 KiB");
        assert_eq!(describe(&[]), "none");
        assert_eq!(size(512), "512 B");
    }
}
