//! `filesrc`: reads a file as a byte stream, `blocksize` bytes a buffer,
//! then sends end-of-stream.
//!
//! The file is opened going to Paused; a missing file, a directory or a
//! permission problem fails that state change with the file's name and the
//! OS error. Buffers carry their byte `offset` and `offset_end` in the
//! file, as GStreamer's filesrc sets them.

use framecast_core::sync::MutexExt;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use framecast_core::Buffer;

use super::fdsrc::{blocksize, blocksize_property, read_buffer};
use crate::pipeline::base::{
    settings, source_properties_with, CreateContext, SettingsLock, Source, SourceImpl,
};
use crate::pipeline::{
    Element, ElementFactory, FlowError, PadDirection, PadTemplate, PropertySpec, PropertyValue,
};
use crate::{Error, Result};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "filesrc",
        "File Source",
        "Source/File",
        "Read from arbitrary point in a file",
        vec![PadTemplate::always_any("src", PadDirection::Src)],
        source_properties_with::<FileSrcSettings>(),
        || Box::new(Source::new(FileSrc::default())),
    )
}

settings! {
    /// `filesrc`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct FileSrcSettings {
        /// `blocksize` as set (0 = the default).
        blocksize: u64 => blocksize_property(),
        /// `location`: the file to read (unset by default).
        location: Option<String> => PropertySpec::string("location", "Location of the file to read", None),
    }
}

struct Open {
    path: PathBuf,
    file: File,
    offset: u64,
}

/// The `filesrc` element's implementation (wrapped in [`Source`]).
#[derive(Default)]
pub struct FileSrc {
    settings: SettingsLock<FileSrcSettings>,
    file: Mutex<Option<Open>>,
    unlocked: AtomicBool,
}

impl std::fmt::Debug for FileSrc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self.file.locked();
        f.debug_struct("FileSrc")
            .field("path", &file.as_ref().map(|o| o.path.clone()))
            .field("offset", &file.as_ref().map(|o| o.offset))
            .finish()
    }
}

impl SourceImpl for FileSrc {
    fn create(
        &self,
        element: &Element,
        ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError> {
        let mut guard = self.file.locked();
        let Some(open) = guard.as_mut() else {
            element.post_error("filesrc is not open", None);
            return Err(FlowError::Error);
        };
        let path = open.path.clone();
        let fail = |e: std::io::Error| {
            element.post_error(
                format!("Could not read from file {path:?}."),
                Some(e.to_string()),
            );
            FlowError::Error
        };
        let size = blocksize(self.settings.read(|s| s.blocksize));
        let mut buffer =
            read_buffer(ctx, &self.unlocked, &mut open.file, size, fail)?.ok_or(FlowError::Eos)?;
        let start = open.offset;
        open.offset += buffer.size() as u64;
        if let Some(b) = buffer.get_mut() {
            b.set_offset(Some(start));
            b.set_offset_end(Some(open.offset));
        }
        Ok(buffer)
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn start(&self, element: &Element) -> Result<()> {
        let Some(location) = self.settings.read(|s| s.location.clone()) else {
            return Err(Error::Element {
                element: element.name().to_string(),
                message: "No file name specified for reading (set location)".into(),
            });
        };
        let path = PathBuf::from(&location);
        let io_error = |source| Error::Io {
            context: format!("Could not open file {location:?} for reading"),
            source,
        };
        let file = File::open(&path).map_err(io_error)?;
        if file.metadata().map_err(io_error)?.is_dir() {
            return Err(Error::Element {
                element: element.name().to_string(),
                message: format!("{location:?} is a directory"),
            });
        }
        *self.file.locked() = Some(Open {
            path,
            file,
            offset: 0,
        });
        Ok(())
    }

    fn stop(&self, _element: &Element) {
        *self.file.locked() = None;
    }

    fn unlock(&self, _element: &Element) {
        self.unlocked.store(true, Ordering::Release);
    }

    fn unlock_stop(&self, _element: &Element) {
        self.unlocked.store(false, Ordering::Release);
    }
}
