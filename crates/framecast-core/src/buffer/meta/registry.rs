//! The meta API registry: names and tags, looked up by name.

use crate::sync::RwLockExt;
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use super::Meta;
use crate::{Error, Result};

/// What the registry knows of a meta API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaApiInfo {
    /// API name.
    pub name: &'static str,
    /// Tags.
    pub tags: &'static [&'static str],
    type_id: TypeId,
}

impl MetaApiInfo {
    /// Whether the API carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.contains(&tag)
    }
}

static REGISTRY: LazyLock<RwLock<HashMap<&'static str, MetaApiInfo>>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for info in [
        info_of::<super::VideoMeta>(),
        info_of::<super::VideoCropMeta>(),
        info_of::<super::ReferenceTimestampMeta>(),
        info_of::<super::ParentBufferMeta>(),
    ] {
        map.insert(info.name, info);
    }
    RwLock::new(map)
});

fn info_of<M: Meta>() -> MetaApiInfo {
    MetaApiInfo {
        name: M::API,
        tags: M::TAGS,
        type_id: TypeId::of::<M>(),
    }
}

/// Registers meta type `M` under its API name. Registering the same type
/// again is a no-op; another type under the same name is an error
/// (GStreamer returns NULL for a duplicate name).
///
/// Adding a meta to a buffer does not need registration; the registry is
/// for looking APIs up by name (pipeline strings, allocation queries).
pub fn register_meta<M: Meta>() -> Result<MetaApiInfo> {
    let info = info_of::<M>();
    let mut map = REGISTRY.write_locked();
    match map.get(M::API) {
        Some(existing) if existing.type_id == info.type_id => Ok(*existing),
        Some(_) => Err(Error::AlreadyRegistered {
            what: "meta API",
            name: M::API.into(),
        }),
        None => {
            map.insert(M::API, info);
            Ok(info)
        }
    }
}

/// The registered meta API with this name.
pub fn meta_api(name: &str) -> Option<MetaApiInfo> {
    REGISTRY.read_locked().get(name).copied()
}
