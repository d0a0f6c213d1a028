//! Map guards: borrowed views of a memory's bytes.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A read mapping of a [`Memory`](super::Memory) (`GstMapInfo` with
/// `GST_MAP_READ`). Unmapped when dropped; while it lives the memory cannot
/// be written, resized or write-mapped (the borrow checker sees to it).
pub struct MapRead<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) maxsize: usize,
}

impl MapRead<'_> {
    /// The mapped bytes (`info.data`, `info.size`).
    pub fn as_slice(&self) -> &[u8] {
        self.bytes
    }
    /// Bytes from the data start to the end of the memory
    /// (`info.maxsize = maxsize - offset`).
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }
}

impl Deref for MapRead<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

impl AsRef<[u8]> for MapRead<'_> {
    fn as_ref(&self) -> &[u8] {
        self.bytes
    }
}

impl fmt::Debug for MapRead<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapRead")
            .field("size", &self.bytes.len())
            .field("maxsize", &self.maxsize)
            .finish()
    }
}

/// A write mapping of a [`Memory`](super::Memory) (`GST_MAP_READWRITE`).
/// Only obtainable from a writable memory through `&mut`, so it is the only
/// view of those bytes while it lives.
pub struct MapWrite<'a> {
    pub(super) bytes: &'a mut [u8],
    pub(super) maxsize: usize,
}

impl MapWrite<'_> {
    /// A mapping of no bytes (an empty buffer).
    pub(crate) fn empty() -> MapWrite<'static> {
        MapWrite {
            bytes: &mut [],
            maxsize: 0,
        }
    }

    /// The mapped bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.bytes
    }
    /// Bytes from the data start to the end of the memory.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }
}

impl Deref for MapWrite<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

impl DerefMut for MapWrite<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.bytes
    }
}

impl fmt::Debug for MapWrite<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapWrite")
            .field("size", &self.bytes.len())
            .field("maxsize", &self.maxsize)
            .finish()
    }
}
