//! `fdsink`: writes the stream's bytes to a file descriptor (stdout by
//! default), unbuffered: each buffer is written through when it arrives,
//! so a reader on the other end of a pipe gets it at once.
//!
//! `fd=1` and `fd=2` duplicate the process's stdout and stderr; other
//! numbers are opened through `/dev/fd/N` (for a pipe or socket that is
//! the same stream; for a regular file it is a fresh open at offset 0).

use framecast_core::sync::MutexExt;
use std::fs::File;
use std::sync::Mutex;

use framecast_core::Buffer;

use super::fdsrc::open_fd;
use super::filesink::write_buffer;
use crate::pipeline::base::{settings, sink_properties_with, SettingsLock, Sink, SinkImpl};
use crate::pipeline::{
    Element, ElementFactory, FlowError, FlowResult, FlowSuccess, PadDirection, PadTemplate,
    PropertySpec, PropertyValue,
};
use crate::{Error, Result};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "fdsink",
        "Filedescriptor Sink",
        "Sink/File",
        "Write data to a file descriptor",
        vec![PadTemplate::always_any("sink", PadDirection::Sink)],
        sink_properties_with::<FdSinkSettings>(false),
        || Box::new(Sink::new(FdSink::default())),
    )
}

settings! {
    /// `fdsink`'s writable property.
    #[derive(Debug, Clone)]
    pub(crate) struct FdSinkSettings {
        /// `fd`: the descriptor to write to (stdout by default).
        fd: i64 => PropertySpec::int("fd", "An open file descriptor to write to", 0..=i32::MAX as i64, 1),
    }
}

/// The `fdsink` element's implementation (wrapped in [`Sink`]).
#[derive(Debug, Default)]
pub struct FdSink {
    settings: SettingsLock<FdSinkSettings>,
    file: Mutex<Option<(i64, File)>>,
}

impl SinkImpl for FdSink {
    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        let mut file = self.file.locked();
        let Some((fd, out)) = file.as_mut() else {
            element.post_error("fdsink is not open", None);
            return Err(FlowError::Error);
        };
        match write_buffer(out, &buffer) {
            Ok(()) => Ok(FlowSuccess::Ok),
            Err(e) => {
                element.post_error(
                    format!("Error while writing to file descriptor {fd}."),
                    Some(e.to_string()),
                );
                Err(FlowError::Error)
            }
        }
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn start(&self, _element: &Element) -> Result<()> {
        let fd = self.settings.read(|s| s.fd);
        let file = open_fd(fd, true).map_err(|source| Error::Io {
            context: format!("Could not open file descriptor {fd} for writing"),
            source,
        })?;
        *self.file.locked() = Some((fd, file));
        Ok(())
    }

    fn stop(&self, _element: &Element) {
        *self.file.locked() = None;
    }
}
