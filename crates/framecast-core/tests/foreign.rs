//! Foreign memory: an owner's bytes used in place (same address, no copy),
//! and the owner dropped exactly once — when the last memory, share, buffer
//! or pooled buffer using it goes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use framecast_core::{
    AllocationParams, Allocator, Block, Buffer, BufferCopyFlags, BufferPool, Memory, MemoryFlags,
    ParentBufferMeta, PoolConfig,
};

/// An owner that counts its drops.
struct Owner {
    bytes: Vec<u8>,
    drops: Arc<AtomicUsize>,
}

impl Owner {
    fn new(len: usize, drops: &Arc<AtomicUsize>) -> Owner {
        Owner {
            bytes: (0..len).map(|i| i as u8).collect(),
            drops: drops.clone(),
        }
    }
    fn addr(&self) -> usize {
        self.bytes.as_ptr() as usize
    }
}

impl AsRef<[u8]> for Owner {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsMut<[u8]> for Owner {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn drops(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::SeqCst)
}

fn addr(mem: &Memory) -> usize {
    mem.map_readable().unwrap().as_ptr() as usize
}

#[test]
fn owner_bytes_used_in_place() {
    let c = counter();
    let owner = Owner::new(64, &c);
    let owner_addr = owner.addr();
    let mem = Memory::from_owner(owner);
    assert_eq!(addr(&mem), owner_addr);
    assert_eq!(mem.sizes(), (64, 0, 64));
    assert!(mem.flags().contains(MemoryFlags::READONLY));
    assert_eq!(mem.map_readable().unwrap()[63], 63);
    drop(mem);
    assert_eq!(drops(&c), 1);

    let c2 = counter();
    let owner = Owner::new(32, &c2);
    let owner_addr = owner.addr();
    let mut mem = Memory::from_owner_mut(owner);
    assert!(mem.is_writable());
    assert_eq!(mem.flags(), MemoryFlags::empty());
    {
        let mut w = mem.map_writable().unwrap();
        assert_eq!(w.as_ptr() as usize, owner_addr);
        w[0] = 0xFF;
    }
    assert_eq!(mem.map_readable().unwrap()[0], 0xFF);
    drop(mem);
    assert_eq!(drops(&c2), 1);

    // Boxed slices and plain Vecs work too.
    let boxed: Box<[u8]> = vec![5u8; 16].into_boxed_slice();
    let boxed_addr = boxed.as_ptr() as usize;
    let mem = Memory::from_owner(boxed);
    assert_eq!(addr(&mem), boxed_addr);

    // A buffer over an owner maps the same bytes.
    let c3 = counter();
    let owner = Owner::new(8, &c3);
    let owner_addr = owner.addr();
    let buf = Buffer::from_owner(owner);
    assert_eq!(
        buf.map_readable().unwrap().contiguous().as_ptr() as usize,
        owner_addr
    );
    drop(buf);
    assert_eq!(drops(&c3), 1);
    assert_eq!((drops(&c), drops(&c2)), (1, 1));
}

#[test]
fn dropped_once_through_memory_clones_shares_and_subshares() {
    let c = counter();
    let mem = Memory::from_owner(Owner::new(100, &c));
    let base = addr(&mem);
    let clone = mem.clone();
    let share = mem.share(10, Some(50)).unwrap();
    let sub = share.share(5, Some(10)).unwrap();
    let subsub = sub.share(1, None).unwrap();
    assert_eq!(addr(&share), base + 10);
    assert_eq!(addr(&sub), base + 15);
    assert_eq!(addr(&subsub), base + 16);
    assert_eq!(
        &*subsub.map_readable().unwrap(),
        &[16, 17, 18, 19, 20, 21, 22, 23, 24]
    );

    // A copy does not hold the owner.
    let copy = sub.copy(0, None).unwrap();
    assert_ne!(addr(&copy), addr(&sub));

    drop(mem);
    drop(share);
    assert_eq!(drops(&c), 0);
    drop(clone);
    assert_eq!(drops(&c), 0);
    drop(sub);
    assert_eq!(drops(&c), 0);
    drop(subsub);
    assert_eq!(drops(&c), 1);
    assert_eq!(
        &*copy.map_readable().unwrap(),
        &[15, 16, 17, 18, 19, 20, 21, 22, 23, 24]
    );
    drop(copy);
    assert_eq!(drops(&c), 1);
}

#[test]
fn dropped_once_through_buffer_copies() {
    let c = counter();
    let owner = Owner::new(100, &c);
    let owner_addr = owner.addr();
    let buf = Buffer::from_owner(owner);

    let shallow = buf.copy();
    assert_eq!(addr(shallow.memory(0).unwrap()), owner_addr);
    let region = buf.copy_region(BufferCopyFlags::ALL, 20, Some(30)).unwrap();
    assert_eq!(addr(region.memory(0).unwrap()), owner_addr + 20);
    let region_of_region = region
        .copy_region(BufferCopyFlags::ALL, 5, Some(5))
        .unwrap();
    assert_eq!(addr(region_of_region.memory(0).unwrap()), owner_addr + 25);
    let deep = buf.copy_deep().unwrap();
    assert_ne!(addr(deep.memory(0).unwrap()), owner_addr);
    let merged = buf
        .copy_region(BufferCopyFlags::ALL | BufferCopyFlags::MERGE, 0, None)
        .unwrap();
    // One memory: nothing to merge, the memory is referenced (as GStreamer).
    assert_eq!(addr(merged.memory(0).unwrap()), owner_addr);
    let clone = buf.clone();
    let mut cow = buf.clone();
    cow.make_mut().set_pts(None);
    assert!(!Buffer::ptr_eq(&cow, &buf));

    drop(buf);
    drop(shallow);
    drop(region);
    drop(clone);
    drop(cow);
    drop(merged);
    assert_eq!(drops(&c), 0);
    drop(region_of_region);
    assert_eq!(drops(&c), 1);
    drop(deep);
    assert_eq!(drops(&c), 1);
}

#[test]
fn dropped_once_when_written_through_a_copy_on_write() {
    let c = counter();
    let owner = Owner::new(16, &c);
    let owner_addr = owner.addr();
    let buf = Buffer::from_owner_mut(owner);
    let mut other = buf.clone();
    // Writing through a shared buffer copies the buffer, then the memory.
    other.make_mut().fill(0, &[9, 9]).unwrap();
    assert_ne!(addr(other.memory(0).unwrap()), owner_addr);
    assert_eq!(addr(buf.memory(0).unwrap()), owner_addr);
    assert_eq!(buf.map_readable().unwrap().contiguous()[0], 0);
    drop(buf);
    assert_eq!(drops(&c), 1);
    drop(other);
    assert_eq!(drops(&c), 1);
}

#[test]
fn writable_owner_in_a_unique_buffer_is_written_in_place() {
    let c = counter();
    let owner = Owner::new(16, &c);
    let owner_addr = owner.addr();
    let mut buf = Buffer::from_owner_mut(owner);
    let b = buf.get_mut().unwrap();
    assert_eq!(b.fill(0, &[7; 4]).unwrap(), 4);
    assert_eq!(addr(b.memory(0).unwrap()), owner_addr);
    {
        let map = b.map_writable().unwrap();
        assert_eq!(map.as_ptr() as usize, owner_addr);
        assert_eq!(&map[..5], &[7, 7, 7, 7, 4]);
    }
    drop(buf);
    assert_eq!(drops(&c), 1);
}

/// An allocator whose blocks are foreign owners, to run owners through a pool.
#[derive(Debug)]
struct OwnerAllocator {
    drops: Arc<AtomicUsize>,
    made: AtomicUsize,
}

impl Allocator for OwnerAllocator {
    fn mem_type(&self) -> &'static str {
        "OwnerTest"
    }
    fn alloc_block(
        &self,
        size: usize,
        params: &AllocationParams,
        _align_mask: usize,
    ) -> framecast_core::Result<Block> {
        self.made.fetch_add(1, Ordering::SeqCst);
        Ok(Block::from_owner_mut(Owner::new(
            params.prefix + size + params.padding,
            &self.drops,
        )))
    }
}

fn owner_pool(min: u32, max: u32) -> (BufferPool, Arc<OwnerAllocator>) {
    let allocator = Arc::new(OwnerAllocator {
        drops: counter(),
        made: AtomicUsize::new(0),
    });
    let pool = BufferPool::new();
    let dyn_alloc: Arc<dyn Allocator> = allocator.clone();
    pool.set_config(
        PoolConfig::new(64, min, max).with_allocator(Some(dyn_alloc), AllocationParams::default()),
    )
    .unwrap();
    pool.set_active(true).unwrap();
    (pool, allocator)
}

#[test]
fn dropped_once_through_pool_cycles() {
    let (pool, alloc) = owner_pool(1, 2);
    assert_eq!(alloc.made.load(Ordering::SeqCst), 1);
    for i in 0..200u32 {
        let mut a = pool.acquire().unwrap();
        let b = pool.acquire().unwrap();
        a.get_mut().unwrap().fill(0, &i.to_le_bytes()).unwrap();
        let copy = a.copy();
        let region = b.copy_region(BufferCopyFlags::ALL, 8, Some(8)).unwrap();
        drop((a, b));
        drop((copy, region));
    }
    assert_eq!(alloc.made.load(Ordering::SeqCst), 2);
    assert_eq!(drops(&alloc.drops), 0, "recycled owners are never dropped");
    assert_eq!(pool.stats().discarded(), 0);

    // Deactivating frees the queued buffers: each owner dropped once.
    pool.set_active(false).unwrap();
    assert_eq!(drops(&alloc.drops), 2);
    assert_eq!(pool.stats().allocated, 0);
    drop(pool);
    assert_eq!(drops(&alloc.drops), 2);
}

#[test]
fn dropped_once_when_a_pooled_buffer_is_discarded() {
    let (pool, alloc) = owner_pool(0, 1);
    let mut a = pool.acquire().unwrap();
    let kept = a.memory(0).unwrap().clone();
    drop(a);
    // The memory was held elsewhere: the buffer was discarded, the owner
    // lives on in `kept`.
    assert_eq!(pool.stats().discarded_memory_shared, 1);
    assert_eq!(drops(&alloc.drops), 0);
    drop(kept);
    assert_eq!(drops(&alloc.drops), 1);

    // Memory removed: discarded, and the removed memory frees its owner.
    a = pool.acquire().unwrap();
    let removed = a.get_mut().unwrap().remove_memory(0).unwrap();
    drop(a);
    assert_eq!(pool.stats().discarded_memory_changed, 1);
    assert_eq!(drops(&alloc.drops), 1);
    drop(removed);
    assert_eq!(drops(&alloc.drops), 2);
    assert_eq!(alloc.made.load(Ordering::SeqCst), 2);
}

#[test]
fn dropped_once_when_the_pool_goes_first() {
    let (pool, alloc) = owner_pool(2, 2);
    let a = pool.acquire().unwrap();
    let copy = a.copy();
    assert!(copy.meta::<ParentBufferMeta>().is_some());
    drop(pool);
    // The queued buffer went with the pool.
    assert_eq!(drops(&alloc.drops), 1);
    drop(a);
    assert_eq!(
        drops(&alloc.drops),
        1,
        "the copy keeps the pooled buffer alive"
    );
    drop(copy);
    assert_eq!(drops(&alloc.drops), 2);
}

#[test]
fn dropped_once_after_deactivate_with_outstanding_buffers() {
    let (pool, alloc) = owner_pool(0, 3);
    let a = pool.acquire().unwrap();
    let b = pool.acquire().unwrap();
    let c = pool.acquire().unwrap();
    drop(c);
    pool.set_active(false).unwrap();
    assert_eq!(drops(&alloc.drops), 0);
    drop(a);
    assert_eq!(drops(&alloc.drops), 1);
    drop(b);
    assert_eq!(drops(&alloc.drops), 3);
    assert_eq!(pool.stats().allocated, 0);
}

#[test]
fn dropped_once_across_threads() {
    let c = counter();
    let buf = Buffer::from_owner(Owner::new(1024, &c));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let b = buf.clone();
            std::thread::spawn(move || {
                let region = b
                    .copy_region(BufferCopyFlags::ALL, i * 10, Some(10))
                    .unwrap();
                assert_eq!(
                    region.map_readable().unwrap().contiguous()[0],
                    (i * 10) as u8
                );
                drop(b);
                region
            })
        })
        .collect();
    let regions: Vec<Buffer> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    drop(buf);
    assert_eq!(drops(&c), 0);
    drop(regions);
    assert_eq!(drops(&c), 1);
}
