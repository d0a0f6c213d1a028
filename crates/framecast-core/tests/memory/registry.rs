//! Registry.

use super::*;

#[test]
fn registry_register_find() {
    let system = find_allocator(Some(SYSTEM_MEMORY)).unwrap();
    assert_eq!(system.mem_type(), SYSTEM_MEMORY);
    let memfd = find_allocator(Some(MEMFD_MEMORY)).unwrap();
    assert_eq!(memfd.mem_type(), MEMFD_MEMORY);
    assert!(find_allocator(Some("NoSuchAllocator")).is_none());

    let mine: Arc<dyn Allocator> =
        Arc::new(TestAllocator("RegistryTestA", AllocatorFlags::empty()));
    assert!(register_allocator("RegistryTestA", mine.clone()).is_none());
    let found = find_allocator(Some("RegistryTestA")).unwrap();
    assert!(Arc::ptr_eq(&found, &mine));
    let mem = Memory::alloc_from(&found, 4, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("RegistryTestA"));
    assert!(!mem.is_type(SYSTEM_MEMORY));

    // Registering again replaces, handing back the old one.
    let second: Arc<dyn Allocator> =
        Arc::new(TestAllocator("RegistryTestA", AllocatorFlags::empty()));
    let old = register_allocator("RegistryTestA", second.clone()).unwrap();
    assert!(Arc::ptr_eq(&old, &mine));
    assert!(Arc::ptr_eq(
        &find_allocator(Some("RegistryTestA")).unwrap(),
        &second
    ));
}

#[test]
fn registry_default_and_set_default() {
    let _guard = default_lock();
    let before = default_allocator();
    assert_eq!(before.mem_type(), SYSTEM_MEMORY);
    assert!(Arc::ptr_eq(&find_allocator(None).unwrap(), &before));
    assert!(Memory::alloc(4, &AllocationParams::default())
        .unwrap()
        .is_type(SYSTEM_MEMORY));

    let mine: Arc<dyn Allocator> = Arc::new(TestAllocator("DefaultTest", AllocatorFlags::empty()));
    let previous = set_default_allocator(mine.clone());
    assert!(Arc::ptr_eq(&previous, &before));
    assert!(Arc::ptr_eq(&default_allocator(), &mine));
    assert!(Arc::ptr_eq(&find_allocator(None).unwrap(), &mine));
    let mem = Memory::alloc(4, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("DefaultTest"));
    // The system allocator stays registered by name.
    assert_eq!(
        find_allocator(Some(SYSTEM_MEMORY)).unwrap().mem_type(),
        SYSTEM_MEMORY
    );

    let restored = set_default_allocator(previous);
    assert!(Arc::ptr_eq(&restored, &mine));
    assert!(Memory::alloc(4, &AllocationParams::default())
        .unwrap()
        .is_type(SYSTEM_MEMORY));
}
