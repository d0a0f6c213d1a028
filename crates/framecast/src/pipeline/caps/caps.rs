//! [`Caps`]: the media a pad can carry, as `ANY`, `EMPTY` or a list of
//! alternative structures (GStreamer's `GstCaps`, `gstcaps.c`).

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

use super::structure::StructureBuilder;
use super::{parse, Structure, Value};

/// Capabilities: the set of media formats a pad accepts or produces.
///
/// Caps are `ANY` (every format), `EMPTY` (none: negotiation failed), or
/// a list of [`Structure`]s, each one alternative, in order of
/// preference. Negotiation intersects the caps of two pads and fixes the
/// result to one concrete format ([`Caps::is_fixed`]) before the first
/// buffer flows.
///
/// `PartialEq` is [`Caps::is_equal`]: the same set of media, however
/// written.
///
/// # Examples
///
/// ```
/// use framecast::pipeline::Caps;
/// let template: Caps = "video/x-raw,format={I420,NV12},width=[1,4096],height=[1,4096]; video/x-h264".parse()?;
/// let filter = Caps::builder("video/x-raw").field("format", "NV12").field("width", 1280).build()?;
/// let common = template.intersect(&filter);
/// assert_eq!(common.to_string(), "video/x-raw,format=NV12,width=1280,height=[ 1, 4096 ]");
/// let fixed = common.fixate().expect("not empty");
/// assert!(fixed.is_fixed());
/// assert_eq!(fixed.to_string(), "video/x-raw,format=NV12,width=1280,height=1");
/// assert!(fixed.is_subset(&template));
/// # Ok::<(), framecast::Error>(())
/// ```
#[derive(Debug, Clone)]
#[doc(alias = "GstCaps")]
pub struct Caps {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Any,
    /// No structures is `EMPTY`.
    Structures(Vec<Structure>),
}

impl Caps {
    /// `ANY`: every media format (a pad that does not care, like
    /// `fakesink`'s).
    #[doc(alias = "gst_caps_new_any")]
    pub fn new_any() -> Caps {
        Caps { inner: Inner::Any }
    }

    /// `EMPTY`: no media format at all (what a failed intersection gives).
    #[doc(alias = "gst_caps_new_empty")]
    pub fn new_empty() -> Caps {
        Caps {
            inner: Inner::Structures(Vec::new()),
        }
    }

    /// Caps with the one structure `s`.
    pub fn from_structure(s: Structure) -> Caps {
        Caps {
            inner: Inner::Structures(vec![s]),
        }
    }

    /// A builder for caps of one structure named `name`:
    /// `Caps::builder("video/x-raw").field("format", "I420").build()?`.
    #[doc(alias = "gst_caps_new_simple")]
    pub fn builder(name: &str) -> CapsBuilder {
        CapsBuilder {
            structure: Structure::builder(name),
        }
    }

    /// Whether these are `ANY` caps.
    #[doc(alias = "gst_caps_is_any")]
    pub fn is_any(&self) -> bool {
        matches!(self.inner, Inner::Any)
    }

    /// Whether these are `EMPTY` caps (no structure, and not `ANY`).
    #[doc(alias = "gst_caps_is_empty")]
    pub fn is_empty(&self) -> bool {
        matches!(&self.inner, Inner::Structures(v) if v.is_empty())
    }

    /// Whether the caps describe exactly one concrete format: one
    /// structure with every field fixed. Only fixed caps can be set on a
    /// pad and turned into a [`VideoInfo`](crate::VideoInfo).
    #[doc(alias = "gst_caps_is_fixed")]
    pub fn is_fixed(&self) -> bool {
        matches!(self.structures(), [s] if s.is_fixed())
    }

    /// The number of structures (0 for `ANY` and `EMPTY`).
    #[doc(alias = "gst_caps_get_size")]
    pub fn size(&self) -> usize {
        self.structures().len()
    }

    /// The structures, in order of preference (none for `ANY`).
    pub fn structures(&self) -> &[Structure] {
        match &self.inner {
            Inner::Any => &[],
            Inner::Structures(v) => v,
        }
    }

    /// Structure `index`, if there is one.
    #[doc(alias = "gst_caps_get_structure")]
    pub fn structure(&self, index: usize) -> Option<&Structure> {
        self.structures().get(index)
    }

    /// Structure `index` for changing, if there is one.
    pub fn structure_mut(&mut self, index: usize) -> Option<&mut Structure> {
        match &mut self.inner {
            Inner::Any => None,
            Inner::Structures(v) => v.get_mut(index),
        }
    }

    /// Iterates over the structures.
    pub fn iter(&self) -> std::slice::Iter<'_, Structure> {
        self.structures().iter()
    }

    /// Adds `s` as the last alternative; `ANY` stays `ANY`
    /// (`gst_caps_append_structure`).
    #[doc(alias = "gst_caps_append_structure")]
    pub fn append_structure(&mut self, s: Structure) {
        if let Inner::Structures(v) = &mut self.inner {
            v.push(s);
        }
    }

    /// Adds every alternative of `other` after those of `self`; either
    /// side `ANY` makes `ANY` (`gst_caps_append`).
    #[doc(alias = "gst_caps_append")]
    pub fn append(&mut self, other: Caps) {
        match other.inner {
            Inner::Any => self.inner = Inner::Any,
            Inner::Structures(theirs) => theirs.into_iter().for_each(|s| self.append_structure(s)),
        }
    }

    /// Adds `s` unless an existing alternative already covers it
    /// (`gst_caps_merge_structure`).
    #[doc(alias = "gst_caps_merge_structure")]
    pub fn merge_structure(&mut self, s: Structure) {
        if let Inner::Structures(v) = &mut self.inner {
            if !v.iter().any(|existing| s.is_subset(existing)) {
                v.push(s);
            }
        }
    }

    /// The union of `self` and `other`, keeping `self`'s alternatives
    /// first and dropping those of `other` that `self` already covers
    /// (`gst_caps_merge`).
    ///
    /// ```
    /// use framecast::pipeline::Caps;
    /// let c = |s: &str| s.parse::<Caps>().unwrap();
    /// assert_eq!(c("a,x=[1,5]").merge(c("a,x=1; b")).to_string(), "a,x=[ 1, 5 ]; b");
    /// assert!(c("a").merge(Caps::new_any()).is_any());
    /// ```
    #[doc(alias = "gst_caps_merge")]
    #[must_use]
    pub fn merge(mut self, other: Caps) -> Caps {
        match other.inner {
            Inner::Any => Caps::new_any(),
            Inner::Structures(theirs) => {
                theirs.into_iter().for_each(|s| self.merge_structure(s));
                self
            }
        }
    }

    /// The media both `self` and `other` describe (`gst_caps_intersect`).
    ///
    /// Alternatives are intersected pairwise in GStreamer's zig-zag order
    /// (by the sum of their indices, then `self`'s earlier ones first), so
    /// that the result keeps the preferences of both sides as GStreamer's
    /// does; an alternative covered by an earlier one is dropped. `ANY` is
    /// the neutral element and `EMPTY` the absorbing one.
    ///
    /// ```
    /// use framecast::pipeline::Caps;
    /// let c = |s: &str| s.parse::<Caps>().unwrap();
    /// assert_eq!(c("a,x=1; b,x=2").intersect(&c("b; a")).to_string(), "b,x=2; a,x=1");
    /// assert_eq!(c("a,x=[1,10]").intersect(&c("a,x=[11,20]")).to_string(), "EMPTY");
    /// assert_eq!(c("a,x=1").intersect(&Caps::new_any()).to_string(), "a,x=1");
    /// ```
    #[doc(alias = "gst_caps_intersect")]
    pub fn intersect(&self, other: &Caps) -> Caps {
        let (a, b) = match (&self.inner, &other.inner) {
            (Inner::Any, _) => return other.clone(),
            (_, Inner::Any) => return self.clone(),
            (Inner::Structures(a), Inner::Structures(b)) => (a, b),
        };
        let mut out = Caps::new_empty();
        if a.is_empty() || b.is_empty() {
            return out;
        }
        // Walk the anti-diagonals i + j = d of the a x b matrix, each from
        // the largest i down (`gst_caps_intersect_zig_zag`).
        for d in 0..a.len() + b.len() - 1 {
            let first_i = d.min(a.len() - 1);
            for i in (0..=first_i).rev() {
                let Some(sb) = b.get(d - i) else { break };
                if let Some(s) = a[i].intersect(sb) {
                    out.merge_structure(s);
                }
            }
        }
        out
    }

    /// Like [`Caps::intersect`] but in `self`'s order only: every
    /// alternative of `self` against all of `other` before the next
    /// (`GST_CAPS_INTERSECT_FIRST`), for when `self` holds the preference.
    #[doc(alias = "gst_caps_intersect_full")]
    pub fn intersect_first(&self, other: &Caps) -> Caps {
        let (a, b) = match (&self.inner, &other.inner) {
            (Inner::Any, _) => return other.clone(),
            (_, Inner::Any) => return self.clone(),
            (Inner::Structures(a), Inner::Structures(b)) => (a, b),
        };
        let mut out = Caps::new_empty();
        for sa in a {
            for sb in b {
                if let Some(s) = sa.intersect(sb) {
                    out.merge_structure(s);
                }
            }
        }
        out
    }

    /// Whether `self` and `other` have some media in common (cheaper than
    /// [`Caps::intersect`]: nothing is built).
    #[doc(alias = "gst_caps_can_intersect")]
    pub fn can_intersect(&self, other: &Caps) -> bool {
        match (&self.inner, &other.inner) {
            (Inner::Any, _) => !other.is_empty(),
            (_, Inner::Any) => !self.is_empty(),
            (Inner::Structures(a), Inner::Structures(b)) => {
                a.iter().any(|sa| b.iter().any(|sb| sa.can_intersect(sb)))
            }
        }
    }

    /// Whether all media of `self` is media of `superset`: every
    /// alternative of `self` lies inside some alternative of `superset`
    /// (`gst_caps_is_subset`). `EMPTY` is a subset of everything and
    /// everything of `ANY`; `ANY` is a subset only of `ANY`. A structure
    /// that describes no media ([`Structure::is_empty`]) lies inside
    /// anything, `EMPTY` included; GStreamer judges it by shape.
    #[doc(alias = "gst_caps_is_subset")]
    pub fn is_subset(&self, superset: &Caps) -> bool {
        match (&self.inner, &superset.inner) {
            (_, Inner::Any) => true,
            (Inner::Any, _) => false,
            (Inner::Structures(a), Inner::Structures(b)) => a
                .iter()
                .all(|sa| sa.is_empty() || b.iter().any(|sb| sa.is_subset(sb))),
        }
    }

    /// Whether `self` and `other` describe the same media: each a subset of
    /// the other (`gst_caps_is_equal`). `{ 1, 2 }` equals `[ 1, 2 ]`.
    #[doc(alias = "gst_caps_is_equal")]
    pub fn is_equal(&self, other: &Caps) -> bool {
        self.is_subset(other) && other.is_subset(self)
    }

    /// One concrete format out of these caps: the first alternative with
    /// every field fixed by GStreamer's default rule (see
    /// [`Structure::fixate`]), as `gst_caps_fixate` does.
    ///
    /// `None` for `ANY` (there is no format to pick; GStreamer refuses it
    /// too) and for `EMPTY`. Elements with preferences fix their fields
    /// first (e.g. [`Structure::fixate_field_nearest_int`] on
    /// [`Caps::structure_mut`]).
    #[doc(alias = "gst_caps_fixate")]
    pub fn fixate(&self) -> Option<Caps> {
        self.structures()
            .iter()
            .find_map(Structure::fixate)
            .map(Caps::from_structure)
    }

    /// GStreamer's annotated spelling (`video/x-raw, width=(int)320`), as
    /// `gst_caps_to_string` and `gst-launch-1.0 -v` print it; the same as
    /// `format!("{caps:#}")`.
    #[doc(alias = "gst_caps_to_string")]
    pub fn to_gst_string(&self) -> String {
        format!("{self:#}")
    }
}

/// Builds caps of one structure; see [`Caps::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct CapsBuilder {
    structure: StructureBuilder,
}

impl CapsBuilder {
    /// Sets field `field` (a later value for the same name replaces the
    /// earlier one).
    pub fn field(self, field: &str, value: impl Into<Value>) -> CapsBuilder {
        CapsBuilder {
            structure: self.structure.field(field, value),
        }
    }

    /// The caps.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] for an invalid media type or field name.
    pub fn build(self) -> Result<Caps> {
        self.structure.build().map(Caps::from_structure)
    }
}

impl Default for Caps {
    /// `EMPTY`.
    fn default() -> Caps {
        Caps::new_empty()
    }
}

impl From<Structure> for Caps {
    fn from(s: Structure) -> Caps {
        Caps::from_structure(s)
    }
}

impl FromIterator<Structure> for Caps {
    /// Caps with these alternatives, in order (no iterator item: `EMPTY`).
    fn from_iter<I: IntoIterator<Item = Structure>>(iter: I) -> Caps {
        Caps {
            inner: Inner::Structures(iter.into_iter().collect()),
        }
    }
}

impl<'a> IntoIterator for &'a Caps {
    type Item = &'a Structure;
    type IntoIter = std::slice::Iter<'a, Structure>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Caps {
    /// [`Caps::is_equal`].
    fn eq(&self, other: &Caps) -> bool {
        self.is_equal(other)
    }
}

impl fmt::Display for Caps {
    /// `ANY`, `EMPTY`, or the structures joined by `; `; with `{:#}`
    /// GStreamer's annotated spelling (see [`Caps::to_gst_string`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Any => f.write_str("ANY"),
            Inner::Structures(v) if v.is_empty() => f.write_str("EMPTY"),
            Inner::Structures(v) => {
                for (i, s) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    fmt::Display::fmt(s, f)?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for Caps {
    type Err = Error;

    /// Parses caps in GStreamer's syntax:
    /// `video/x-raw,format={I420,NV12},width=[1,4096]; video/x-h264`,
    /// `ANY`, `EMPTY` (also the empty string), with optional type
    /// annotations (`width=(int)320`), quoted strings and whitespace
    /// anywhere between tokens. See the [module docs](super) for the
    /// grammar and where framecast is stricter than GStreamer.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] with the byte position and the bad token, shown
    /// with a caret under it.
    fn from_str(s: &str) -> Result<Caps> {
        parse::parse_caps(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Caps {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn inter(a: &str, b: &str) -> String {
        c(a).intersect(&c(b)).to_string()
    }

    #[test]
    fn intersect_matches_gstreamer() {
        // Expected strings checked against GStreamer 1.22.
        assert_eq!(inter("a,y=1", "a,x=2"), "a,y=1,x=2");
        assert_eq!(inter("a,y=1", "b,y=1"), "EMPTY");
        assert_eq!(inter("a,x=1;b,x=2", "b;a"), "b,x=2; a,x=1");
        assert_eq!(inter("a,x=1;b,x=2", "ANY"), "a,x=1; b,x=2");
        assert_eq!(inter("ANY", "ANY"), "ANY");
        assert_eq!(inter("a,x=1", "EMPTY"), "EMPTY");
        assert_eq!(inter("EMPTY", "ANY"), "EMPTY");
        assert_eq!(
            inter(
                "video/x-raw,format={I420,NV12,RGB},width=[1,4096]",
                "video/x-raw,format={RGB,NV12},width=1280"
            ),
            "video/x-raw,format={ NV12, RGB },width=1280"
        );
        // Zig-zag: the anti-diagonal (2,0) (1,1) (0,2) gives c, b, a.
        assert_eq!(inter("a;b;c", "c;b;a"), "c; b; a");
        assert_eq!(inter("a;b", "x;b;a"), "b; a");
        assert_eq!(
            c("a;b;c").intersect_first(&c("c;b;a")).to_string(),
            "a; b; c"
        );
        // Covered alternatives are dropped.
        assert_eq!(inter("a,x=[1,10]; a,x=5", "a"), "a,x=[ 1, 10 ]");
    }

    #[test]
    fn can_intersect_agrees_with_intersect() {
        for (a, b) in [
            ("a,x=1", "a,x=2"),
            ("a;b", "b"),
            ("ANY", "EMPTY"),
            ("ANY", "a"),
            ("a,x=[1,5]", "a,x={9,3}"),
        ] {
            let (a, b) = (c(a), c(b));
            assert_eq!(
                a.can_intersect(&b),
                !a.intersect(&b).is_empty(),
                "{a} / {b}"
            );
        }
    }

    #[test]
    fn subset_and_equality() {
        assert!(c("a,x=5").is_subset(&c("a,x=[1,10]")));
        assert!(!c("a,x=[1,10]").is_subset(&c("a,x=5")));
        assert!(c("a;b").is_subset(&c("b;a")));
        assert!(c("EMPTY").is_subset(&c("a")));
        assert!(!c("ANY").is_subset(&c("a")));
        assert!(c("a").is_subset(&c("ANY")));
        assert_eq!(c("a,x={1,2}"), c("a,x=[1,2]"));
        assert_eq!(c("a;b"), c("b;a"));
        assert_ne!(c("a"), c("ANY"));
        assert_ne!(c("a,x=1"), c("a,x=2"));
    }

    #[test]
    fn merge_and_append() {
        assert_eq!(
            c("a,x=1").merge(c("a,x=[1,5]")).to_string(),
            "a,x=1; a,x=[ 1, 5 ]"
        );
        assert_eq!(c("a,x=[1,5]").merge(c("a,x=1")).to_string(), "a,x=[ 1, 5 ]");
        assert!(c("a,x=1").merge(c("ANY")).is_any());
        assert!(c("ANY").merge(c("a")).is_any());
        assert_eq!(c("a,x=1").merge(c("b;a,x=1")).to_string(), "a,x=1; b");
        assert_eq!(c("EMPTY").merge(c("b")).to_string(), "b");
        let mut x = c("a");
        x.append(c("a; b"));
        assert_eq!(x.to_string(), "a; a; b");
        x.append(Caps::new_any());
        assert!(x.is_any());
        x.append_structure(c("z").structure(0).cloned().unwrap());
        assert!(x.is_any());
    }

    #[test]
    fn fixate() {
        assert_eq!(
            c("a,x=[1,10],y={[3,5],2},z=[1/2,30/1],d=[1.5,3.0],w=<[1,2],{4,5}>; b,x=1")
                .fixate()
                .map(|x| x.to_string()),
            Some("a,x=1,y=3,z=1/2,d=1.5,w=< 1, 4 >".to_string())
        );
        assert_eq!(c("ANY").fixate(), None);
        assert_eq!(c("EMPTY").fixate(), None);
        assert_eq!(
            c("a,x={}; b,x=[2,10,2]")
                .fixate()
                .map(|x| x.to_string())
                .as_deref(),
            Some("b,x=2")
        );
        assert!(!c("a,x=1;a,x=1").is_fixed());
        assert!(c("a").is_fixed());
        assert!(!c("ANY").is_fixed());
    }

    #[test]
    fn accessors() {
        let mut x = c("a,x=1; b");
        assert_eq!(x.size(), 2);
        assert_eq!(
            x.iter().map(Structure::name).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!((&x).into_iter().count(), 2);
        x.structure_mut(1).map(|s| s.set("y", 2));
        assert_eq!(x.to_string(), "a,x=1; b,y=2");
        assert_eq!(x.structure(2), None);
        assert_eq!(Caps::new_any().size(), 0);
        assert_eq!(Caps::default().to_string(), "EMPTY");
        let built: Caps = [c("a").structure(0).cloned().unwrap()]
            .into_iter()
            .collect();
        assert_eq!(built.to_string(), "a");
        assert!(Caps::builder("a b").build().is_err());
        assert_eq!(
            c("video/x-raw,format={I420,NV12},width=[1,4096]").to_gst_string(),
            "video/x-raw, format=(string){ I420, NV12 }, width=(int)[ 1, 4096 ]"
        );
    }
}
