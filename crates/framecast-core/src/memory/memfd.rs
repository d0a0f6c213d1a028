//! [`MemfdAllocator`]: shared memory another process can map.

use std::ffi::CStr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr::NonNull;

use super::{AllocationParams, Allocator, Block};
use crate::{Error, Result};

/// Name (`mem_type`) of the memfd allocator.
pub const MEMFD_MEMORY: &str = "MemfdMemory";

/// Allocates each memory as its own anonymous shared-memory file
/// (`memfd_create`), mapped `MAP_SHARED`.
///
/// The memory exposes its file descriptor and the file offset of its data
/// ([`Memory::fd`](super::Memory::fd)), so another process that receives the
/// descriptor (over a Unix socket, or by inheritance) can map the very same
/// frame without a copy. Writes by that other process are outside Rust's
/// aliasing rules: coordinate them (e.g. hand the frame over, then wait).
#[derive(Debug, Clone, Copy, Default)]
pub struct MemfdAllocator;

fn os_error(call: &'static str) -> Error {
    Error::Os {
        call,
        source: std::io::Error::last_os_error(),
    }
}

impl Allocator for MemfdAllocator {
    fn mem_type(&self) -> &'static str {
        MEMFD_MEMORY
    }

    fn alloc_block(
        &self,
        size: usize,
        params: &AllocationParams,
        align_mask: usize,
    ) -> Result<Block> {
        let maxsize = params.maxsize_for(size)?;
        // The mapping is page aligned; larger alignments need slack.
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let slack = if align_mask + 1 > page { align_mask } else { 0 };
        let aligned_prefix = params
            .prefix
            .checked_add(align_mask)
            .map(|v| v & !align_mask)
            .ok_or(Error::InvalidAlignment { align: align_mask })?;
        let lead_in_page = aligned_prefix - params.prefix;
        let len = maxsize
            .checked_add(lead_in_page + slack)
            .ok_or(Error::InvalidAlignment { align: align_mask })?
            .max(1);

        const NAME: &CStr = c"framecast";
        // SAFETY: NAME is a valid NUL-terminated string.
        let raw_fd = unsafe { libc::memfd_create(NAME.as_ptr(), libc::MFD_CLOEXEC) };
        if raw_fd < 0 {
            return Err(os_error("memfd_create"));
        }
        // SAFETY: memfd_create returned a fresh descriptor that we now own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw_fd) };
        let file_len = libc::off_t::try_from(len).map_err(|_| Error::AllocationFailed {
            size,
            allocator: MEMFD_MEMORY.into(),
            reason: "size does not fit in off_t".into(),
        })?;
        // SAFETY: `raw_fd` is a valid descriptor owned by `fd`.
        if unsafe { libc::ftruncate(raw_fd, file_len) } != 0 {
            return Err(os_error("ftruncate"));
        }
        // SAFETY: mapping a fresh file of `len` bytes, shared, at no fixed address.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw_fd,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(os_error("mmap"));
        }
        let map = NonNull::new(map as *mut u8).ok_or_else(|| os_error("mmap"))?;
        // Skip to where base + prefix is aligned.
        let addr = map.as_ptr() as usize;
        let data = (addr + params.prefix + align_mask) & !align_mask;
        let base_offset = data - params.prefix - addr;
        // SAFETY: `map` is a live mapping of `len` bytes; base_offset is at
        // most lead_in_page + slack, so base_offset + maxsize <= len. The
        // block takes ownership of the mapping and the descriptor.
        Ok(unsafe { Block::mapped(map, len, fd, base_offset, maxsize) })
    }
}
