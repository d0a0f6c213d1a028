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
