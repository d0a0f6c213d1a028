//! Allocators and memories (being written).
