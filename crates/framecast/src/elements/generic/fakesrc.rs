//! `fakesrc`: buffers with no meaning, for benchmarks against GStreamer's
//! `fakesrc` (`fakesrc num-buffers=N sizetype=fixed sizemax=64 ! queue !
//! fakesink`).
//!
//! Its caps are `ANY`, so there is no negotiation and no allocation query:
//! the source keeps its own pool of `sizemax`-byte buffers (GStreamer's
//! `fakesrc` allocates a new buffer each time; a pool is framecast's
//! steady state and what the comparison is about). `sizetype=empty` (the
//! default, as in GStreamer) pushes buffers with no memory at all.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use framecast_core::{Buffer, BufferPool, PoolConfig};

use crate::pipeline::base::{
    settings, source_properties_with, CreateContext, SettingsLock, Source, SourceImpl,
};
use crate::pipeline::{
    Element, ElementFactory, FlowError, PadDirection, PadTemplate, PropertySpec, PropertyValue,
};
use crate::Result;

const SIZETYPES: &[(&str, &str)] = &[
    ("empty", "Send empty buffers"),
    ("fixed", "Fixed size buffers (sizemax sized)"),
    (
        "random",
        "Random sized buffers (sizemin <= size <= sizemax)",
    ),
];

const FILLTYPES: &[(&str, &str)] = &[
    ("nothing", "Leave data as malloced"),
    ("zero", "Fill buffers with zeros"),
    ("random", "Fill buffers with random data"),
    ("pattern", "Fill buffers with pattern 0x00 -> 0xff"),
    (
        "pattern-span",
        "Fill buffers with pattern 0x00 -> 0xff that spans buffers",
    ),
];

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "fakesrc",
        "Fake Source",
        "Source",
        "Push empty (no data) buffers around, for benchmarks",
        vec![PadTemplate::always_any("src", PadDirection::Src)],
        source_properties_with::<FakeSrcSettings>(),
        || Box::new(Source::new(FakeSrc::default())),
    )
}

settings! {
    /// `fakesrc`'s writable properties; a run works from the copy taken at
    /// start.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct FakeSrcSettings {
        /// `sizetype`: a nick of [`SIZETYPES`].
        sizetype: &'static str => PropertySpec::enumeration("sizetype", "How to determine buffer sizes", SIZETYPES, "empty"),
        sizemin: usize => PropertySpec::int("sizemin", "Minimum buffer size (sizetype=random)", 0..=i64::from(i32::MAX), 0),
        sizemax: usize => PropertySpec::int("sizemax", "Maximum buffer size", 0..=i64::from(i32::MAX), 4096),
        /// `filltype`: a nick of [`FILLTYPES`].
        filltype: &'static str => PropertySpec::enumeration("filltype", "How to fill the buffer, if at all", FILLTYPES, "nothing"),
        is_live: bool => PropertySpec::bool("is-live", "True if the element cannot produce data in PAUSED", false),
    }
}

/// The `fakesrc` element's implementation.
#[derive(Debug, Default)]
pub struct FakeSrc {
    settings: SettingsLock<FakeSrcSettings>,
    run: Mutex<Option<(FakeSrcSettings, Option<BufferPool>)>>,
    /// xorshift64 state for random sizes and data.
    rng: AtomicU64,
    /// Next byte of the `pattern-span` fill.
    span: AtomicU64,
}

impl FakeSrc {
    fn next_random(&self) -> u64 {
        let mut x = self.rng.load(Ordering::Relaxed);
        if x == 0 {
            x = 0x2545_F491_4F6C_DD1D;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        x
    }
}

impl SourceImpl for FakeSrc {
    /// `ANY`: a byte stream, no negotiation.
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn start(&self, _element: &Element) -> Result<()> {
        let config = self.settings.get();
        let pool = if config.sizetype == "empty" || config.sizemax == 0 {
            None
        } else {
            let pool = BufferPool::new();
            pool.set_config(PoolConfig::new(config.sizemax, 4, 0))?;
            pool.set_active(true)?;
            Some(pool)
        };
        self.span.store(0, Ordering::Relaxed);
        let old = self.run.locked().replace((config, pool));
        if let Some((_, Some(old))) = old {
            let _ = old.set_active(false);
        }
        Ok(())
    }

    fn stop(&self, _element: &Element) {
        let old = self.run.locked().take();
        if let Some((_, Some(pool))) = old {
            let _ = pool.set_active(false);
        }
    }

    fn create(
        &self,
        _element: &Element,
        _ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError> {
        let (config, pool) = match &*self.run.locked() {
            Some((c, p)) => (*c, p.clone()),
            None => return Err(FlowError::Flushing),
        };
        let Some(pool) = pool else {
            return Ok(Buffer::new());
        };
        let size = match config.sizetype {
            "random" if config.sizemax > config.sizemin => {
                let span = (config.sizemax - config.sizemin + 1) as u64;
                config.sizemin + (self.next_random() % span) as usize
            }
            "random" => config.sizemin.min(config.sizemax),
            _ => config.sizemax,
        };
        let mut buffer = pool.acquire().map_err(FlowError::from_acquire)?;
        let Some(b) = buffer.get_mut() else {
            return Err(FlowError::Error);
        };
        if size != config.sizemax {
            b.set_size(size).map_err(|_| FlowError::Error)?;
        }
        if config.filltype != "nothing" && size > 0 {
            let mut map = b.map_writable().map_err(|_| FlowError::Error)?;
            match config.filltype {
                "zero" => map.fill(0),
                "random" => {
                    for chunk in map.chunks_mut(8) {
                        let r = self.next_random().to_le_bytes();
                        chunk.copy_from_slice(&r[..chunk.len()]);
                    }
                }
                "pattern" => {
                    for (i, v) in map.iter_mut().enumerate() {
                        *v = i as u8;
                    }
                }
                _ => {
                    let start = self.span.fetch_add(size as u64, Ordering::Relaxed);
                    for (i, v) in map.iter_mut().enumerate() {
                        *v = (start + i as u64) as u8;
                    }
                }
            }
        }
        Ok(buffer)
    }

    fn is_live(&self, _element: &Element) -> bool {
        self.settings.read(|s| s.is_live)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::elements::appsink::AppSink;
    use crate::{make_element, Pipeline, State};

    fn run(props: &[(&str, &str)]) -> Vec<crate::Buffer> {
        let pipeline = Pipeline::new("p");
        let src = make_element("fakesrc", None).unwrap();
        for (k, v) in props {
            src.set_property_from_str(k, v).unwrap();
        }
        let sink = make_element("appsink", None).unwrap();
        sink.set_property("sync", false).unwrap();
        sink.set_property_from_str("max-buffers", "100").unwrap();
        pipeline.add_and_link(&[&src, &sink]).unwrap();
        pipeline.set_state(State::Playing).unwrap();
        let appsink = AppSink::from_element(&sink).unwrap();
        let mut out = Vec::new();
        while let Some(s) = appsink.pull_sample(Some(Duration::from_secs(5))) {
            out.push(s.buffer);
        }
        pipeline.set_state(State::Null).unwrap();
        out
    }

    #[test]
    fn sizes_and_fills() {
        let empty = run(&[("num-buffers", "3")]);
        assert_eq!(empty.len(), 3);
        assert!(empty.iter().all(|b| b.size() == 0));
        let fixed = run(&[
            ("num-buffers", "5"),
            ("sizetype", "fixed"),
            ("sizemax", "64"),
            ("filltype", "pattern"),
        ]);
        assert_eq!(fixed.len(), 5);
        for b in &fixed {
            assert_eq!(b.size(), 64);
            assert!(b.pool_id().is_some());
            let map = b.map_readable().unwrap();
            assert_eq!(map.contiguous()[..4], [0, 1, 2, 3]);
        }
        let random = run(&[
            ("num-buffers", "20"),
            ("sizetype", "random"),
            ("sizemin", "10"),
            ("sizemax", "20"),
            ("filltype", "zero"),
        ]);
        assert!(random.iter().all(|b| (10..=20).contains(&b.size())));
        assert!(random.iter().any(|b| b.size() != random[0].size()));
    }
}
