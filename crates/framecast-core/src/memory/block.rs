//! [`Block`]: the bytes behind a root [`Memory`](super::Memory) and who owns them.
//!
//! This is the one place that allocates, maps and frees raw bytes. Everything
//! above it sees a base pointer and a `maxsize`, and the aliasing rules are
//! enforced by [`Memory`](super::Memory): shared reads through `&Memory`,
//! writes only through a unique `&mut Memory`.
//!
//! System blocks are zeroed lazily, at their first map, not when they are
//! allocated. No byte is ever read uninitialised (every path to the bytes
//! calls [`Block::ensure_initialised`] first), but a buffer that is made and
//! dropped unmapped costs a `malloc` and a `free`, as in GStreamer, and the
//! zeroing moves to first use. Allocating zeroed memory up front does not
//! get this for free: glibc's `calloc` hands out a recycled chunk (a 1080p
//! frame freed a moment ago) only after a `memset` of all of it, and Rust's
//! `alloc_zeroed` with an alignment above 16 always does `posix_memalign`
//! plus `memset`, even over fresh pages from the kernel. Fresh pages are no
//! way out either: on a VM each first touch of a 4 KiB page costs a page
//! fault of ~2.5 µs, some forty times the `memset` of a recycled frame
//! (BENCHMARKS.md, "Memory core").

use std::alloc::{self, Layout};
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Once;

use crate::{Error, Result};

/// Owned storage for a root memory: a system allocation, a shared-memory
/// mapping, or a foreign owner (a `Vec`, a numpy array, an OpenCV `Mat`)
/// whose bytes are used in place.
///
/// Allocator implementations return a `Block` from
/// [`Allocator::alloc_block`](super::Allocator::alloc_block); most make it
/// with [`Block::from_owner_mut`].
pub struct Block {
    /// Start of the `maxsize` region (prefix starts here).
    base: NonNull<u8>,
    maxsize: usize,
    writable: bool,
    backing: Backing,
    /// Completed once the bytes are initialised. System blocks start
    /// uninitialised and are zeroed (or filled by a copy) the first time
    /// anything reaches their bytes; every other block is initialised from
    /// the start.
    init: Once,
}

/// A `Once` that has already run: for blocks whose bytes are initialised
/// from the start (mappings, foreign owners, empty blocks).
fn completed() -> Once {
    let once = Once::new();
    once.call_once(|| {});
    once
}

enum Backing {
    /// Nothing to free (zero-sized).
    Empty,
    /// From the global allocator.
    System { alloc: NonNull<u8>, layout: Layout },
    /// An `mmap` of a file descriptor (memfd).
    Mapped {
        map: NonNull<u8>,
        len: usize,
        fd: OwnedFd,
    },
    /// A foreign owner, dropped exactly once when the block goes.
    Owner {
        owner: NonNull<()>,
        drop_owner: unsafe fn(NonNull<()>),
    },
}

// SAFETY: a Block is plain bytes plus an owner that is `Send` (required by the
// constructors). Access to the bytes is governed by `Memory`: reads through
// shared references, writes only through a unique `&mut Memory`, so sharing a
// Block across threads cannot produce a data race.
unsafe impl Send for Block {}
// SAFETY: see `Send` above; `&Block` only hands out the base pointer.
unsafe impl Sync for Block {}

fn round_up(n: usize, align_mask: usize) -> Option<usize> {
    n.checked_add(align_mask).map(|v| v & !align_mask)
}

impl Block {
    /// System memory laid out for `prefix`, `size`, `padding` with the data
    /// (base + prefix) aligned to `align_mask + 1`; its bytes read as zero
    /// (they are zeroed at the first [`ensure_initialised`](Self::ensure_initialised)).
    pub(crate) fn system(
        prefix: usize,
        size: usize,
        padding: usize,
        align_mask: usize,
    ) -> Result<Block> {
        let fail = |reason: &str| Error::AllocationFailed {
            size,
            allocator: super::SYSTEM_MEMORY.into(),
            reason: reason.into(),
        };
        let maxsize = prefix
            .checked_add(size)
            .and_then(|n| n.checked_add(padding))
            .ok_or_else(|| fail("size overflows"))?;
        // Put the data start on an aligned address: the allocation starts
        // aligned, so skip `lead` bytes such that lead + prefix is aligned.
        let aligned_prefix =
            round_up(prefix, align_mask).ok_or_else(|| fail("prefix overflows"))?;
        let lead = aligned_prefix - prefix;
        let total = lead
            .checked_add(maxsize)
            .ok_or_else(|| fail("size overflows"))?;
        if total == 0 {
            return Ok(Block {
                base: NonNull::new(std::ptr::without_provenance_mut(align_mask + 1))
                    .unwrap_or(NonNull::dangling()),
                maxsize: 0,
                writable: true,
                backing: Backing::Empty,
                init: completed(),
            });
        }
        let layout =
            Layout::from_size_align(total, align_mask + 1).map_err(|e| fail(&e.to_string()))?;
        // Uninitialised: zeroed at the first map (see the module docs).
        // SAFETY: `layout` has a non-zero size (total > 0).
        let raw = unsafe { alloc::alloc(layout) };
        let alloc = NonNull::new(raw).ok_or_else(|| fail("out of memory"))?;
        // SAFETY: lead < total, so the pointer stays inside the allocation.
        let base = unsafe { alloc.add(lead) };
        Ok(Block {
            base,
            maxsize,
            writable: true,
            backing: Backing::System { alloc, layout },
            init: Once::new(),
        })
    }

    /// Makes sure the bytes are initialised (zeroes a fresh system block);
    /// called before any slice over the bytes is made. After the first
    /// call this is one atomic load.
    #[inline]
    pub(crate) fn ensure_initialised(&self) {
        if !self.init.is_completed() {
            self.zero_once();
        }
    }

    #[cold]
    fn zero_once(&self) {
        self.init.call_once(|| {
            // SAFETY: `base` points at `maxsize` bytes owned by this block.
            // Before `init` completes no slice over them exists (every
            // path to the bytes calls `ensure_initialised` first), and
            // `call_once` lets one thread at a time in here.
            unsafe { std::ptr::write_bytes(self.base.as_ptr(), 0, self.maxsize) }
        });
    }

    /// Initialises a fresh block with a copy of `src` at `offset` and zeros
    /// around it, in one pass (a copy into a fresh block would otherwise
    /// zero the bytes first and then overwrite them). Returns `false`,
    /// copying nothing, when the block was initialised already.
    pub(crate) fn init_with_copy(&self, offset: usize, src: &[u8]) -> bool {
        let Some(end) = offset.checked_add(src.len()).filter(|&e| e <= self.maxsize) else {
            return false;
        };
        let mut done = false;
        self.init.call_once(|| {
            let base = self.base.as_ptr();
            // SAFETY: [0, offset), [offset, end) and [end, maxsize) lie
            // inside the block's `maxsize` bytes; `src` is another
            // allocation (it is a slice that exists, and no slice over this
            // block's bytes can exist before `init` completes). One thread
            // runs this, once.
            unsafe {
                std::ptr::write_bytes(base, 0, offset);
                std::ptr::copy_nonoverlapping(src.as_ptr(), base.add(offset), src.len());
                std::ptr::write_bytes(base.add(end), 0, self.maxsize - end);
            }
            done = true;
        });
        done
    }

    /// A block over a shared mapping of `fd`, whose bytes
    /// `[base_offset, base_offset + maxsize)` of the mapping are the block.
    ///
    /// # Safety
    ///
    /// `map` must be a live `mmap` of `len` bytes that this block now owns
    /// (it is unmapped on drop), with `base_offset + maxsize <= len`.
    pub(crate) unsafe fn mapped(
        map: NonNull<u8>,
        len: usize,
        fd: OwnedFd,
        base_offset: usize,
        maxsize: usize,
    ) -> Block {
        Block {
            // SAFETY: the caller guarantees base_offset + maxsize <= len.
            base: unsafe { map.add(base_offset) },
            maxsize,
            writable: true,
            backing: Backing::Mapped { map, len, fd },
            // A fresh file reads as zeros.
            init: completed(),
        }
    }

    /// Uses a foreign owner's bytes in place, read-only. The owner is dropped
    /// exactly once, when the last memory (or share) using it goes.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast_core::{Block, Memory, MemoryFlags};
    /// let mem = Memory::from_block(Block::from_owner(vec![1u8, 2, 3]));
    /// assert!(mem.flags().contains(MemoryFlags::READONLY));
    /// assert_eq!(&*mem.map_readable().unwrap(), &[1, 2, 3]);
    /// ```
    pub fn from_owner<T: AsRef<[u8]> + Send + 'static>(owner: T) -> Block {
        let owner = Box::into_raw(Box::new(owner));
        // SAFETY: `owner` came from Box::into_raw just above: valid and unique.
        let bytes = unsafe { (*owner).as_ref() };
        let (ptr, len) = (bytes.as_ptr() as *mut u8, bytes.len());
        Self::owned(owner, ptr, len, false)
    }

    /// Uses a foreign owner's bytes in place, writable. The owner is dropped
    /// exactly once, when the last memory (or share) using it goes.
    pub fn from_owner_mut<T: AsMut<[u8]> + Send + 'static>(owner: T) -> Block {
        let owner = Box::into_raw(Box::new(owner));
        // SAFETY: `owner` came from Box::into_raw just above: valid and unique.
        let bytes = unsafe { (*owner).as_mut() };
        let (ptr, len) = (bytes.as_mut_ptr(), bytes.len());
        Self::owned(owner, ptr, len, true)
    }

    fn owned<T: Send + 'static>(owner: *mut T, ptr: *mut u8, len: usize, writable: bool) -> Block {
        unsafe fn drop_owner<T>(owner: NonNull<()>) {
            // SAFETY: `owner` is the pointer from Box::into_raw::<T> in
            // `from_owner*`, and Block::drop calls this exactly once.
            drop(unsafe { Box::from_raw(owner.as_ptr() as *mut T) });
        }
        // Box::into_raw never returns null; slices never have null pointers.
        let owner = NonNull::new(owner as *mut ()).unwrap_or(NonNull::dangling());
        Block {
            base: NonNull::new(ptr).unwrap_or(NonNull::dangling()),
            maxsize: len,
            writable,
            backing: Backing::Owner {
                owner,
                drop_owner: drop_owner::<T>,
            },
            init: completed(),
        }
    }

    /// Bytes in the block.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Whether the bytes may be written (false for [`Block::from_owner`]).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// The file descriptor and the file offset of the block's first byte,
    /// for blocks backed by a shared mapping.
    pub(crate) fn fd(&self) -> Option<(BorrowedFd<'_>, usize)> {
        match &self.backing {
            Backing::Mapped { map, fd, .. } => {
                let offset = self.base.as_ptr() as usize - map.as_ptr() as usize;
                Some((fd.as_fd(), offset))
            }
            _ => None,
        }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        match &self.backing {
            Backing::Empty => {}
            Backing::System { alloc, layout } => {
                // SAFETY: allocated by alloc with exactly this layout.
                unsafe { alloc::dealloc(alloc.as_ptr(), *layout) }
            }
            Backing::Mapped { map, len, .. } => {
                // SAFETY: `map` is a live mapping of `len` bytes owned by this
                // block; no reference into it outlives the block. The fd
                // closes when `backing` drops.
                unsafe {
                    libc::munmap(map.as_ptr() as *mut libc::c_void, *len);
                }
            }
            Backing::Owner { owner, drop_owner } => {
                // SAFETY: `drop_owner` matches the owner's type and runs once.
                unsafe { drop_owner(*owner) }
            }
        }
    }
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.backing {
            Backing::Empty => "empty",
            Backing::System { .. } => "system",
            Backing::Mapped { .. } => "mapped",
            Backing::Owner { .. } => "foreign",
        };
        f.debug_struct("Block")
            .field("kind", &kind)
            .field("maxsize", &self.maxsize)
            .field("writable", &self.writable)
            .finish()
    }
}
