//! Caps (being written: this placeholder only keeps the crate building).

use std::fmt;

/// Placeholder.
#[derive(Debug, Clone, PartialEq)]
pub struct Caps;
/// Placeholder.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure;
/// Placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {}

impl Caps {
    /// Placeholder.
    pub fn new_any() -> Caps {
        Caps
    }
    /// Placeholder.
    pub fn intersect(&self, _other: &Caps) -> Caps {
        Caps
    }
    /// Placeholder.
    pub fn video_info(&self) -> crate::Result<framecast_core::VideoInfo> {
        Err(crate::Error::Element {
            element: String::new(),
            message: "placeholder".into(),
        })
    }
    /// Placeholder.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// Placeholder.
    pub fn is_fixed(&self) -> bool {
        true
    }
    /// Placeholder.
    pub fn fixate(self) -> Caps {
        self
    }
    /// Placeholder.
    pub fn can_intersect(&self, _other: &Caps) -> bool {
        true
    }
}

impl fmt::Display for Caps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ANY")
    }
}

impl std::str::FromStr for Caps {
    type Err = crate::Error;
    fn from_str(_s: &str) -> crate::Result<Caps> {
        Ok(Caps)
    }
}
