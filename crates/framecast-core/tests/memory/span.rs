//! Is_span.

use super::*;

#[test]
fn is_span_rules() {
    let root = Memory::alloc(20, &params(MemoryFlags::empty(), 0, 8, 0)).unwrap();
    let a = root.share(2, Some(3)).unwrap();
    let b = root.share(5, Some(4)).unwrap();
    let c = root.share(10, Some(2)).unwrap();
    // b starts where a ends; output offset = a.offset - root.offset.
    assert_eq!(a.is_span(&b), Some(2));
    assert_eq!(b.is_span(&a), None, "order matters");
    assert_eq!(b.is_span(&c), None, "gap of one byte");
    // The root is never a span partner.
    let head = root.share(0, Some(2)).unwrap();
    assert_eq!(head.is_span(&a), Some(0));
    assert_eq!(root.is_span(&a), None);
    assert_eq!(head.is_span(&root), None);
    // Shares of shares have the root as parent, so they span.
    let ab = root.share(2, Some(7)).unwrap();
    let left = ab.share(0, Some(3)).unwrap();
    let right = ab.share(3, Some(4)).unwrap();
    assert_eq!(left.is_span(&right), Some(2));
    // Different roots never span, even when adjacent in value.
    let other = Memory::alloc(20, &params(MemoryFlags::empty(), 0, 8, 0)).unwrap();
    let d = other.share(5, Some(4)).unwrap();
    assert_eq!(a.is_span(&d), None);
    // Empty shares at the boundary.
    let empty = root.share(5, Some(0)).unwrap();
    assert_eq!(a.is_span(&empty), Some(2));
}
