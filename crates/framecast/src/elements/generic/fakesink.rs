//! `fakesink`: takes every buffer and drops it, counting. The sink of
//! benchmarks and of pipelines that only test what happens upstream.
//!
//! Properties as GStreamer's `fakesink`: `sync` (false), `silent` (true: no
//! `last-message`), `num-buffers` (accept that many buffers, then answer
//! EOS), `dump` (hex dump to stdout); and `rendered`, a read-only count of
//! the buffers taken since the last start.

use framecast_core::sync::MutexExt;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use framecast_core::Buffer;

use crate::pipeline::base::{settings, sink_properties_with, SettingsLock, Sink, SinkImpl};
use crate::pipeline::read_only_error;
use crate::pipeline::{
    Element, ElementFactory, FlowError, FlowResult, FlowSuccess, PadDirection, PadTemplate,
    PropertySpec, PropertyValue,
};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "fakesink",
        "Fake Sink",
        "Sink",
        "Black hole for data",
        vec![PadTemplate::always_any("sink", PadDirection::Sink)],
        [
            sink_properties_with::<FakeSinkSettings>(false),
            vec![
                PropertySpec::string(
                    "last-message",
                    "The message describing current status (read-only; needs silent=false)",
                    None,
                )
                .mutable_in_playing(),
                PropertySpec::uint(
                    "rendered",
                    "Buffers rendered since the last start (read-only)",
                    0..=u64::MAX,
                    0,
                )
                .mutable_in_playing(),
            ],
        ]
        .concat(),
        || Box::new(Sink::new(FakeSink::default())),
    )
}

settings! {
    /// `fakesink`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct FakeSinkSettings {
        /// `silent`: no `last-message` (may change while playing).
        silent: bool => PropertySpec::bool("silent", "Don't produce last-message", true).mutable_in_playing(),
        /// `num-buffers`: buffers accepted before EOS; -1 = unlimited.
        num_buffers: i64 => PropertySpec::int("num-buffers", "Number of buffers to accept before going EOS (-1 = unlimited)", -1..=i32::MAX as i64, -1),
        /// `dump`: buffer contents to stdout (may change while playing).
        dump: bool => PropertySpec::bool("dump", "Dump buffer contents to stdout", false).mutable_in_playing(),
    }
}

/// The `fakesink` element's implementation (wrapped in [`Sink`]).
#[derive(Debug, Default)]
pub struct FakeSink {
    settings: SettingsLock<FakeSinkSettings>,
    rendered: AtomicU64,
    /// Buffers still accepted before EOS; -1 = unlimited.
    left: AtomicI64,
    last_message: Mutex<Option<String>>,
}

impl FakeSink {
    /// Buffers rendered since the last start.
    pub fn rendered(&self) -> u64 {
        self.rendered.load(Ordering::Relaxed)
    }

    fn set_last_message(&self, message: String) {
        *self.last_message.locked() = Some(message);
    }
}

fn describe(buffer: &Buffer) -> String {
    let time = |t: Option<framecast_core::ClockTime>| match t {
        Some(t) => format!("{}", t.nseconds()),
        None => "none".to_string(),
    };
    format!(
        "chain   ******* ({} bytes, pts: {}, dts: {}, duration: {}, offset: {}, flags: {:?}) {:?}",
        buffer.size(),
        time(buffer.pts()),
        time(buffer.dts()),
        time(buffer.duration()),
        buffer
            .offset()
            .map_or_else(|| "none".to_string(), |o| o.to_string()),
        buffer.flags(),
        buffer.id(),
    )
}

fn hex_dump(buffer: &Buffer) -> String {
    let mut out = String::new();
    let mut offset = 0usize;
    let mut line: Vec<u8> = Vec::with_capacity(16);
    let flush = |line: &mut Vec<u8>, offset: usize, out: &mut String| {
        if line.is_empty() {
            return;
        }
        let _ = write!(out, "{offset:08x}: ");
        for i in 0..16 {
            match line.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        for b in line.iter() {
            out.push(if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            });
        }
        out.push('\n');
        line.clear();
    };
    let Ok(map) = buffer.map_readable() else {
        return String::new();
    };
    for slice in map.slices() {
        for &b in slice {
            line.push(b);
            if line.len() == 16 {
                flush(&mut line, offset, &mut out);
                offset += 16;
            }
        }
    }
    flush(&mut line, offset, &mut out);
    out
}

impl SinkImpl for FakeSink {
    fn render(&self, _element: &Element, buffer: Buffer) -> FlowResult {
        // GStreamer's fakesink: a buffer past num-buffers is refused with
        // EOS; the last accepted one already answers EOS.
        let left = self.left.load(Ordering::Acquire);
        if left == 0 {
            return Err(FlowError::Eos);
        }
        let (silent, dump) = self.settings.read(|s| (s.silent, s.dump));
        if !silent {
            self.set_last_message(describe(&buffer));
        }
        if dump {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(hex_dump(&buffer).as_bytes());
        }
        self.rendered.fetch_add(1, Ordering::Relaxed);
        drop(buffer);
        if left > 0 {
            let now = left - 1;
            self.left.store(now, Ordering::Release);
            if now == 0 {
                return Err(FlowError::Eos);
            }
        }
        Ok(FlowSuccess::Ok)
    }

    fn start(&self, _element: &Element) -> Result<()> {
        self.rendered.store(0, Ordering::Relaxed);
        let n = self.settings.read(|s| s.num_buffers);
        self.left.store(n, Ordering::Release);
        *self.last_message.locked() = None;
        Ok(())
    }

    fn eos(&self, _element: &Element) {
        if !self.settings.read(|s| s.silent) {
            self.set_last_message("event   ******* (eos)".into());
        }
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        match name {
            "rendered" | "last-message" => Err(read_only_error(element, name, value)),
            _ => self.settings.write(element, name, value),
        }
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        match name {
            "rendered" => Some(PropertyValue::UInt(self.rendered())),
            "last-message" => Some(PropertyValue::String(self.last_message.locked().clone())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::make_element;

    #[test]
    fn defaults_match_gstreamer() {
        let sink = make_element("fakesink", None).unwrap();
        assert_eq!(sink.property("sync").unwrap(), PropertyValue::Bool(false));
        assert_eq!(sink.property("silent").unwrap(), PropertyValue::Bool(true));
        assert_eq!(
            sink.property("num-buffers").unwrap(),
            PropertyValue::Int(-1)
        );
        assert_eq!(sink.property("rendered").unwrap(), PropertyValue::UInt(0));
        let err = sink.set_property("rendered", 5u64).unwrap_err().to_string();
        assert!(err.contains("read-only"), "{err}");
    }

    #[test]
    fn hex_dump_lines() {
        let buffer = Buffer::from_slice(b"0123456789abcdefXY").unwrap();
        let text = hex_dump(&buffer);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("00000000: 30 31 32"), "{text}");
        assert!(lines[1].starts_with("00000010: 58 59"), "{text}");
        assert!(lines[1].ends_with("XY"), "{text}");
    }
}
