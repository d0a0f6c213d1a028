//! Metas: add/get/iterate/remove, LOCKED and POOLED, retain, the copy
//! transforms of the built-in metas, a user-defined meta, the registry and
//! seqnums.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use framecast_core::meta::{meta_api, register_meta, TAG_MEMORY, TAG_MEMORY_REFERENCE};
use framecast_core::{
    Buffer, BufferCopyFlags, BufferPool, ClockTime, Error, ErrorKind, Meta, MetaFlags,
    MetaTransform, ParentBufferMeta, PoolConfig, ReferenceTimestampMeta, VideoAlignment,
    VideoCropMeta, VideoFormat, VideoInfo, VideoMeta,
};

/// A user meta carrying the byte range it describes; its transform follows
/// copies (shifting the range) and refuses video scales.
#[derive(Debug, Clone, PartialEq)]
struct RangeMeta {
    start: usize,
    len: usize,
    cleared: bool,
}

impl Meta for RangeMeta {
    const API: &'static str = "TestRangeMetaAPI";
    const TAGS: &'static [&'static str] = &["test"];

    fn transform(&self, transform: &MetaTransform) -> Option<Self> {
        match *transform {
            MetaTransform::Copy { offset, size, .. } => {
                let end = (self.start + self.len).min(offset + size);
                let start = self.start.max(offset);
                (start < end).then(|| RangeMeta {
                    start: start - offset,
                    len: end - start,
                    cleared: false,
                })
            }
            _ => None,
        }
    }

    fn clear(&mut self) {
        self.cleared = true;
    }
}

/// A meta that only counts how often it is dropped.
#[derive(Debug)]
struct DropMeta(Arc<AtomicUsize>);

impl Meta for DropMeta {
    const API: &'static str = "TestDropMetaAPI";
}

impl Drop for DropMeta {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Tag(u32);

impl Meta for Tag {
    const API: &'static str = "TestTagMetaAPI";
    fn transform(&self, _: &MetaTransform) -> Option<Self> {
        Some(*self)
    }
}

/// A layout-dependent user meta (tag "memory").
#[derive(Debug, Clone, Copy, PartialEq)]
struct LayoutMeta;

impl Meta for LayoutMeta {
    const API: &'static str = "TestLayoutMetaAPI";
    const TAGS: &'static [&'static str] = &[TAG_MEMORY];
    fn transform(&self, _: &MetaTransform) -> Option<Self> {
        Some(*self)
    }
}

fn range(start: usize, len: usize) -> RangeMeta {
    RangeMeta {
        start,
        len,
        cleared: false,
    }
}

fn i420_meta() -> VideoMeta {
    let info = VideoInfo::new(VideoFormat::I420, 16, 8).unwrap();
    VideoMeta::from_info(&info, VideoAlignment::default())
}

#[test]
fn add_get_iterate_remove() {
    let mut buf = Buffer::with_size(100).unwrap();
    let b = buf.get_mut().unwrap();
    assert!(b.meta::<Tag>().is_none());
    b.add_meta(Tag(1));
    b.add_meta(range(10, 20)).len = 21; // add returns the stored meta
    b.add_meta(Tag(2));
    b.add_meta(ReferenceTimestampMeta::capture(ClockTime::SECOND));
    b.add_meta(Tag(3));
    b.add_meta(VideoCropMeta::default());
    assert_eq!(b.n_meta(), 6);

    // get = the first (oldest) of its type
    assert_eq!(b.meta::<Tag>(), Some(&Tag(1)));
    assert_eq!(b.meta::<RangeMeta>().unwrap().len, 21);
    b.meta_mut::<Tag>().unwrap().0 = 10;
    let tags: Vec<u32> = b.metas::<Tag>().map(|t| t.0).collect();
    assert_eq!(tags, [10, 2, 3]);

    // iteration in insertion order, any type
    let apis: Vec<&str> = b.iter_meta().map(|m| m.api()).collect();
    assert_eq!(
        apis,
        [
            "TestTagMetaAPI",
            "TestRangeMetaAPI",
            "TestTagMetaAPI",
            "GstReferenceTimestampMetaAPI",
            "TestTagMetaAPI",
            "GstVideoCropMetaAPI",
        ]
    );
    let first = b.iter_meta().next().unwrap();
    assert_eq!(first.downcast_ref::<Tag>(), Some(&Tag(10)));
    assert!(first.downcast_ref::<RangeMeta>().is_none());
    assert_eq!(first.flags(), MetaFlags::empty());
    assert_eq!(format!("{first:?}"), "Tag(10)");
    let crop = b.iter_meta().last().unwrap();
    assert_eq!(crop.tags(), &["video", "size", "orientation"]);
    assert!(crop.has_tag("size"));
    assert!(!crop.has_tag(TAG_MEMORY));

    // remove: first of its type, handed back
    assert_eq!(b.remove_meta::<Tag>().unwrap(), Some(Tag(10)));
    assert_eq!(b.meta::<Tag>(), Some(&Tag(2)));
    assert_eq!(b.remove_meta::<Tag>().unwrap(), Some(Tag(2)));
    assert_eq!(b.remove_meta::<Tag>().unwrap(), Some(Tag(3)));
    assert_eq!(b.remove_meta::<Tag>().unwrap(), None);
    assert_eq!(b.n_meta(), 3);
    let apis: Vec<&str> = b.iter_meta().map(|m| m.api()).collect();
    assert_eq!(
        apis,
        [
            "TestRangeMetaAPI",
            "GstReferenceTimestampMetaAPI",
            "GstVideoCropMetaAPI"
        ]
    );
}

#[test]
fn many_metas_keep_their_order() {
    // More than the four inline slots.
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    for i in 0..20 {
        b.add_meta(Tag(i));
    }
    let tags: Vec<u32> = b.metas::<Tag>().map(|t| t.0).collect();
    assert_eq!(tags, (0..20).collect::<Vec<_>>());
    b.retain_meta(|m| m.downcast_ref::<Tag>().is_some_and(|t| t.0 % 3 == 0))
        .unwrap();
    let tags: Vec<u32> = b.metas::<Tag>().map(|t| t.0).collect();
    assert_eq!(tags, [0, 3, 6, 9, 12, 15, 18]);
}

#[test]
fn metas_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    for _ in 0..6 {
        b.add_meta(DropMeta(drops.clone()));
    }
    let removed = b.remove_meta::<DropMeta>().unwrap().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(removed);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    b.retain_meta(|_| false).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 6);
    b.add_meta(DropMeta(drops.clone()));
    b.add_meta(DropMeta(drops.clone()));
    // A copy does not carry it (default transform: dropped).
    let copy = buf.copy();
    assert_eq!(copy.n_meta(), 0);
    drop(copy);
    drop(buf);
    assert_eq!(drops.load(Ordering::SeqCst), 8);
}

#[test]
fn locked_meta_cannot_be_removed() {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.add_meta(Tag(1));
    b.add_meta(range(0, 1));
    assert!(b.set_meta_flags::<Tag>(MetaFlags::LOCKED));
    assert!(!b.set_meta_flags::<VideoMeta>(MetaFlags::LOCKED));
    assert_eq!(b.iter_meta().next().unwrap().flags(), MetaFlags::LOCKED);

    let err = b.remove_meta::<Tag>().unwrap_err();
    assert!(
        matches!(
            err,
            Error::MetaLocked {
                api: "TestTagMetaAPI"
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Meta);
    assert_eq!(b.meta::<Tag>(), Some(&Tag(1)), "stays");
    assert_eq!(b.n_meta(), 2);

    // retain asking to drop everything: the locked one stays, reported.
    let err = b.retain_meta(|_| false).unwrap_err();
    assert!(matches!(err, Error::MetaLocked { .. }), "{err:?}");
    assert_eq!(b.n_meta(), 1);
    assert_eq!(b.meta::<Tag>(), Some(&Tag(1)));

    // Unlocked again, it can go.
    b.set_meta_flags::<Tag>(MetaFlags::empty());
    assert_eq!(b.remove_meta::<Tag>().unwrap(), Some(Tag(1)));
}

#[test]
fn retain_meta_keeps_what_it_is_told() {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.add_meta(Tag(1));
    b.add_meta(range(0, 4));
    b.add_meta(Tag(2));
    b.add_meta(VideoCropMeta::default());
    let mut seen = Vec::new();
    b.retain_meta(|m| {
        seen.push(m.api());
        m.api() != Tag::API
    })
    .unwrap();
    assert_eq!(seen.len(), 4, "every meta visited once, in order");
    assert_eq!(seen[0], Tag::API);
    assert_eq!(seen[3], VideoCropMeta::API);
    let apis: Vec<&str> = b.iter_meta().map(|m| m.api()).collect();
    assert_eq!(apis, [RangeMeta::API, VideoCropMeta::API]);
}

#[test]
fn pooled_metas_survive_pool_return_others_are_removed() {
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(64, 1, 1)).unwrap();
    pool.set_active(true).unwrap();

    let mut buf = pool.acquire().unwrap();
    let id = buf.id();
    {
        let b = buf.get_mut().unwrap();
        b.add_meta(range(1, 2));
        b.set_meta_flags::<RangeMeta>(MetaFlags::POOLED);
        b.add_meta(Tag(7));
        b.add_meta(ReferenceTimestampMeta::capture(ClockTime::SECOND));
        // LOCKED without POOLED does not survive either (GStreamer ignores
        // LOCKED on pool reset).
        b.add_meta(VideoCropMeta::default());
        b.set_meta_flags::<VideoCropMeta>(MetaFlags::LOCKED);
    }
    drop(buf);

    let buf = pool.acquire().unwrap();
    assert_eq!(buf.id(), id, "the same buffer came back");
    assert_eq!(buf.n_meta(), 1);
    let kept = buf.meta::<RangeMeta>().unwrap();
    assert_eq!((kept.start, kept.len), (1, 2));
    assert!(kept.cleared, "POOLED metas get clear() on return");
    assert_eq!(buf.iter_meta().next().unwrap().flags(), MetaFlags::POOLED);
}

#[test]
fn video_meta_from_a_video_pool_is_pooled_and_locked() {
    let info = VideoInfo::new(VideoFormat::Nv12, 64, 48).unwrap();
    let pool = BufferPool::new_video();
    pool.set_config(PoolConfig::for_video(info, 1, 1).with_video_meta())
        .unwrap();
    pool.set_active(true).unwrap();
    let mut buf = pool.acquire().unwrap();
    let m = buf.iter_meta().next().unwrap();
    assert_eq!(m.api(), VideoMeta::API);
    assert_eq!(m.flags(), MetaFlags::POOLED | MetaFlags::LOCKED);
    let b = buf.get_mut().unwrap();
    assert!(matches!(
        b.remove_meta::<VideoMeta>(),
        Err(Error::MetaLocked { .. })
    ));
    b.add_meta(Tag(1));
    drop(buf);
    let buf = pool.acquire().unwrap();
    assert_eq!(buf.n_meta(), 1);
    assert_eq!(buf.meta::<VideoMeta>().unwrap().format, VideoFormat::Nv12);
}

#[test]
fn video_meta_copy_rules() {
    let mut buf = Buffer::new();
    {
        let b = buf.get_mut().unwrap();
        b.append_memory(framecast_core::Memory::alloc(100, &Default::default()).unwrap());
        b.append_memory(framecast_core::Memory::alloc(92, &Default::default()).unwrap());
        b.add_meta(i420_meta());
    }
    assert_eq!(buf.size(), 192);
    let vm = |b: &Buffer| b.meta::<VideoMeta>().copied();
    // Whole copies carry it, unchanged.
    assert_eq!(vm(&buf.copy()), Some(i420_meta()));
    assert_eq!(vm(&buf.copy_deep().unwrap()), Some(i420_meta()));
    assert_eq!(
        vm(&buf.copy_region(BufferCopyFlags::ALL, 0, Some(192)).unwrap()),
        Some(i420_meta())
    );
    // Regions, merges and copies without memory drop it.
    assert_eq!(
        vm(&buf.copy_region(BufferCopyFlags::ALL, 0, Some(191)).unwrap()),
        None
    );
    assert_eq!(
        vm(&buf.copy_region(BufferCopyFlags::ALL, 1, None).unwrap()),
        None
    );
    assert_eq!(
        vm(&buf
            .copy_region(BufferCopyFlags::ALL | BufferCopyFlags::MERGE, 0, None)
            .unwrap()),
        None
    );
    assert_eq!(
        vm(&buf.copy_region(BufferCopyFlags::METADATA, 0, None).unwrap()),
        None
    );
    // The transform itself refuses regions.
    assert_eq!(
        i420_meta().transform(&MetaTransform::Copy {
            region: true,
            offset: 0,
            size: 1
        }),
        None
    );
    // Same rule for a user meta tagged "memory".
    buf.get_mut().unwrap().add_meta(LayoutMeta);
    assert!(buf.copy().meta::<LayoutMeta>().is_some());
    assert!(buf
        .copy_region(BufferCopyFlags::ALL, 2, Some(3))
        .unwrap()
        .meta::<LayoutMeta>()
        .is_none());
}

#[test]
fn video_meta_layout_and_alignment() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    let mut aligned = info;
    let mut align = VideoAlignment {
        stride_align: [15; 4],
        ..Default::default()
    };
    aligned.align(&mut align).unwrap();
    let mut meta = VideoMeta::from_info(&aligned, align);
    assert_eq!(meta.n_planes, 3);
    assert_eq!(meta.stride[..3], [128, 64, 64]);
    assert_eq!(meta.offset[..3], [0, 12800, 16000]);
    assert_eq!(meta.plane_range(0, aligned.size), Some(0..12800));
    assert_eq!(meta.plane_range(2, aligned.size), Some(16000..19200));
    assert_eq!(meta.plane_range(3, aligned.size), None);
    // set_alignment checks the strides.
    meta.set_alignment(align).unwrap();
    let before = meta;
    let err = meta
        .set_alignment(VideoAlignment {
            stride_align: [255; 4],
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidMeta { .. }), "{err:?}");
    assert_eq!(meta, before, "unchanged on mismatch");
}

#[test]
fn video_crop_meta_is_carried_on_regions_and_scaled() {
    let crop = VideoCropMeta {
        x: 10,
        y: 20,
        width: 30,
        height: 40,
    };
    let mut buf = Buffer::with_size(100).unwrap();
    buf.get_mut().unwrap().add_meta(crop);
    let region = buf.copy_region(BufferCopyFlags::ALL, 10, Some(20)).unwrap();
    assert_eq!(region.meta::<VideoCropMeta>(), Some(&crop));
    let merged = buf
        .copy_region(BufferCopyFlags::ALL | BufferCopyFlags::MERGE, 0, None)
        .unwrap();
    assert_eq!(merged.meta::<VideoCropMeta>(), Some(&crop));
    let scaled = crop
        .transform(&MetaTransform::VideoScale {
            from: (100, 100),
            to: (33, 50),
        })
        .unwrap();
    assert_eq!(
        scaled,
        VideoCropMeta {
            x: 3,
            y: 10,
            width: 9,
            height: 20
        }
    );
    assert_eq!(
        crop.transform(&MetaTransform::VideoScale {
            from: (0, 100),
            to: (1, 1)
        }),
        None
    );
}

#[test]
fn parent_buffer_meta_holds_a_reference_and_is_dropped_on_deep_copy() {
    let parent = Buffer::from_slice(b"parent").unwrap();
    let mut buf = Buffer::with_size(8).unwrap();
    buf.get_mut().unwrap().add_meta(ParentBufferMeta {
        buffer: parent.clone(),
    });
    assert_eq!(parent.ref_count(), 2);
    let meta = buf.meta::<ParentBufferMeta>().unwrap();
    assert!(Buffer::ptr_eq(&meta.buffer, &parent));

    let shallow = buf.copy();
    assert!(shallow.meta::<ParentBufferMeta>().is_some());
    assert_eq!(parent.ref_count(), 3, "the copy re-references the parent");
    let region = buf.copy_region(BufferCopyFlags::ALL, 1, Some(2)).unwrap();
    assert!(region.meta::<ParentBufferMeta>().is_some());
    assert_eq!(parent.ref_count(), 4);
    let deep = buf.copy_deep().unwrap();
    assert!(deep.meta::<ParentBufferMeta>().is_none());
    assert_eq!(parent.ref_count(), 4);
    assert!(buf
        .copy_region(BufferCopyFlags::ALL | BufferCopyFlags::DEEP, 1, Some(2))
        .unwrap()
        .meta::<ParentBufferMeta>()
        .is_none());

    drop((shallow, region, deep));
    assert_eq!(parent.ref_count(), 2);
    drop(buf);
    assert_eq!(parent.ref_count(), 1);
    assert!(parent.is_writable());
    assert_eq!(
        meta_api(ParentBufferMeta::API).unwrap().tags,
        &[TAG_MEMORY_REFERENCE]
    );
}

#[test]
fn reference_timestamp_meta() {
    let ts = ClockTime::from_mseconds(1234);
    let capture = ReferenceTimestampMeta::capture(ts);
    assert_eq!(capture.reference, "timestamp/x-framecast-capture");
    assert_eq!(capture.reference, ReferenceTimestampMeta::CAPTURE);
    assert_eq!(capture.timestamp, ts);
    assert_eq!(capture.duration, None);
    let ntp = ReferenceTimestampMeta {
        reference: "timestamp/x-ntp",
        timestamp: ClockTime::from_seconds(3_900_000_000),
        duration: Some(ClockTime::from_mseconds(33)),
    };

    let mut buf = Buffer::with_size(10).unwrap();
    {
        let b = buf.get_mut().unwrap();
        b.add_meta(capture);
        b.add_meta(ntp);
    }
    let all: Vec<_> = buf.metas::<ReferenceTimestampMeta>().copied().collect();
    assert_eq!(all, [capture, ntp]);
    let found = buf
        .metas::<ReferenceTimestampMeta>()
        .find(|m| m.reference == "timestamp/x-ntp")
        .unwrap();
    assert_eq!(found.duration, Some(ClockTime::from_mseconds(33)));
    // Carried on every copy, regions and deep copies included.
    for copy in [
        buf.copy(),
        buf.copy_deep().unwrap(),
        buf.copy_region(BufferCopyFlags::ALL, 3, Some(2)).unwrap(),
        buf.copy_region(BufferCopyFlags::METADATA, 0, None).unwrap(),
    ] {
        let got: Vec<_> = copy.metas::<ReferenceTimestampMeta>().copied().collect();
        assert_eq!(got, [capture, ntp]);
    }
    assert!(ReferenceTimestampMeta::TAGS.is_empty());
}

#[test]
fn user_meta_transform_follows_regions() {
    let mut buf = Buffer::with_size(100).unwrap();
    buf.get_mut().unwrap().add_meta(range(10, 20));
    let copy = buf.copy();
    assert_eq!(copy.meta::<RangeMeta>(), Some(&range(10, 20)));
    let region = buf.copy_region(BufferCopyFlags::ALL, 15, Some(50)).unwrap();
    assert_eq!(region.meta::<RangeMeta>(), Some(&range(0, 15)));
    let outside = buf.copy_region(BufferCopyFlags::ALL, 40, None).unwrap();
    assert!(outside.meta::<RangeMeta>().is_none());
    let no_meta = buf
        .copy_region(BufferCopyFlags::FLAGS | BufferCopyFlags::MEMORY, 0, None)
        .unwrap();
    assert_eq!(no_meta.n_meta(), 0);
}

#[test]
fn registry_register_and_look_up() {
    let info = register_meta::<RangeMeta>().unwrap();
    assert_eq!(info.name, "TestRangeMetaAPI");
    assert_eq!(info.tags, &["test"]);
    assert!(info.has_tag("test"));
    // Same type again: fine, same info.
    assert_eq!(register_meta::<RangeMeta>().unwrap(), info);
    assert_eq!(meta_api("TestRangeMetaAPI"), Some(info));

    // Another type under the same name: refused; the first stays.
    #[derive(Debug)]
    struct Impostor;
    impl Meta for Impostor {
        const API: &'static str = "TestRangeMetaAPI";
    }
    let err = register_meta::<Impostor>().unwrap_err();
    assert!(
        matches!(err, Error::AlreadyRegistered { ref name, .. } if name == "TestRangeMetaAPI"),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Registry);
    assert_eq!(meta_api("TestRangeMetaAPI"), Some(info));

    // Built-ins are registered from the start, with GStreamer's names and tags.
    let video = meta_api("GstVideoMetaAPI").unwrap();
    assert_eq!(video.tags, &["video", "memory", "colorspace", "size"]);
    assert!(video.has_tag(TAG_MEMORY));
    assert!(meta_api("GstVideoCropMetaAPI").is_some());
    assert!(meta_api("GstReferenceTimestampMetaAPI").is_some());
    assert!(meta_api("GstParentBufferMetaAPI").is_some());
    assert!(meta_api("NoSuchMetaAPI").is_none());
    // The built-in names cannot be taken by another type either.
    #[derive(Debug)]
    struct FakeVideo;
    impl Meta for FakeVideo {
        const API: &'static str = "GstVideoMetaAPI";
    }
    assert!(register_meta::<FakeVideo>().is_err());
    assert!(register_meta::<VideoMeta>().is_ok());
}

#[test]
fn seqnums_increase() {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.add_meta(Tag(1));
    b.add_meta(range(0, 1));
    b.add_meta(Tag(2));
    let seqnums: Vec<u64> = b.iter_meta().map(|m| m.seqnum()).collect();
    assert!(seqnums.windows(2).all(|w| w[0] < w[1]), "{seqnums:?}");
    // Later metas, on any buffer, get larger numbers; copies are new metas.
    let last = *seqnums.last().unwrap();
    let copy = buf.copy();
    let copied: Vec<u64> = copy.iter_meta().map(|m| m.seqnum()).collect();
    assert_eq!(
        copied.len(),
        2,
        "Tag metas copy; RangeMeta of size 0 region drops"
    );
    assert!(copied.iter().all(|&s| s > last), "{copied:?} vs {last}");
    assert!(copied.windows(2).all(|w| w[0] < w[1]));
}
