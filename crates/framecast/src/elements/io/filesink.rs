//! `filesink`: writes the stream's bytes to a file.
//!
//! Properties as GStreamer's: `location`, `append`, `buffer-size` (bytes
//! kept before a write; 0 = write every buffer through), `sync` (false).
//! The file is opened going to Paused and flushed at end-of-stream and when
//! stopping; errors name the file and carry the OS error.

use framecast_core::sync::MutexExt;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use framecast_core::Buffer;

use crate::pipeline::base::{settings, sink_properties_with, SettingsLock, Sink, SinkImpl};
use crate::pipeline::{
    Element, ElementFactory, FlowError, FlowResult, FlowSuccess, PadDirection, PadTemplate,
    PropertySpec, PropertyValue,
};
use crate::{Error, Result};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "filesink",
        "File Sink",
        "Sink/File",
        "Write stream to a file",
        vec![PadTemplate::always_any("sink", PadDirection::Sink)],
        sink_properties_with::<FileSinkSettings>(false),
        || Box::new(Sink::new(FileSink::default())),
    )
}

settings! {
    /// `filesink`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct FileSinkSettings {
        /// `location`: the file to write (unset by default).
        location: Option<String> => PropertySpec::string("location", "Location of the file to write", None),
        /// `append`: to the file as it is, instead of truncating it.
        append: bool => PropertySpec::bool("append", "Append to an already existing file", false),
        /// `buffer-size`: bytes buffered before a write (0 = each buffer).
        buffer_size: u64 => PropertySpec::uint("buffer-size", "Bytes buffered before writing (0 = write each buffer through)", 0..=u32::MAX as u64, 65536),
    }
}

struct Open {
    path: PathBuf,
    writer: BufWriter<File>,
}

/// The `filesink` element's implementation (wrapped in [`Sink`]).
#[derive(Default)]
pub struct FileSink {
    settings: SettingsLock<FileSinkSettings>,
    file: Mutex<Option<Open>>,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self.file.locked();
        f.debug_struct("FileSink")
            .field("path", &file.as_ref().map(|o| o.path.clone()))
            .finish()
    }
}

impl FileSink {
    fn flush(&self, element: &Element) {
        let mut file = self.file.locked();
        if let Some(open) = file.as_mut() {
            if let Err(e) = open.writer.flush() {
                element.post_error(
                    format!("Error while writing to file {:?}.", open.path),
                    Some(e.to_string()),
                );
            }
        }
    }
}

/// Writes every memory of `buffer` to `out`.
pub(crate) fn write_buffer(out: &mut impl Write, buffer: &Buffer) -> std::io::Result<()> {
    let map = buffer
        .map_readable()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    for slice in map.slices() {
        out.write_all(slice)?;
    }
    Ok(())
}

impl SinkImpl for FileSink {
    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        let mut file = self.file.locked();
        let Some(open) = file.as_mut() else {
            element.post_error("filesink is not open", None);
            return Err(FlowError::Error);
        };
        match write_buffer(&mut open.writer, &buffer) {
            Ok(()) => Ok(FlowSuccess::Ok),
            Err(e) => {
                element.post_error(
                    format!("Error while writing to file {:?}.", open.path),
                    Some(e.to_string()),
                );
                Err(FlowError::Error)
            }
        }
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn start(&self, element: &Element) -> Result<()> {
        let FileSinkSettings {
            location,
            append,
            buffer_size,
        } = self.settings.get();
        let Some(location) = location else {
            return Err(Error::Element {
                element: element.name().to_string(),
                message: "No file name specified for writing (set location)".into(),
            });
        };
        let capacity = usize::try_from(buffer_size).unwrap_or(65536);
        let mut options = OpenOptions::new();
        options.write(true).create(true);
        if append {
            options.append(true);
        } else {
            options.truncate(true);
        }
        let path = PathBuf::from(&location);
        let file = options.open(&path).map_err(|source| Error::Io {
            context: format!("Could not open file {location:?} for writing"),
            source,
        })?;
        *self.file.locked() = Some(Open {
            path,
            writer: BufWriter::with_capacity(capacity, file),
        });
        Ok(())
    }

    fn eos(&self, element: &Element) {
        self.flush(element);
    }

    fn stop(&self, element: &Element) {
        self.flush(element);
        *self.file.locked() = None;
    }
}
