//! `fdsrc`: reads a byte stream from a file descriptor (stdin by default),
//! in buffers of at most `blocksize` bytes, as they arrive.
//!
//! The read waits in `poll(2)` with a short timeout, so stopping the
//! pipeline never hangs on a quiet stdin (GStreamer's fdsrc uses a control
//! socket for the same reason). `fd=0`, `1` and `2` duplicate the process's
//! standard streams; other numbers are opened through `/dev/fd/N`.
//!
//! ```text
//! cat frames.bgr | framecast launch "fdsrc ! rawvideoparse format=bgr width=1280 height=720 ! fakesink"
//! ```

use framecast_core::sync::MutexExt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use framecast_core::Buffer;
use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::pipeline::base::{
    settings, source_properties_with, CreateContext, SettingsLock, Source, SourceImpl,
};
use crate::pipeline::{
    Element, ElementFactory, FlowError, PadDirection, PadTemplate, PropertySpec, PropertyValue,
};
use crate::{Error, Result};

/// Default `blocksize`: 64 KiB (GStreamer: 4096). Raw frames piped in from
/// a program are megabytes each; reading them 4 KiB at a time costs a
/// `poll`, a `read`, a buffer and a wake-up of the writer per 4 KiB (340
/// per 720p I420 frame), which measured 1.5 to 3 ms more latency per
/// frame at 720p and 1080p. Larger blocks (256 KiB, 1 MiB) measured no
/// better and 1 MiB worse, even from a grown pipe ([`enlarge_pipe`];
/// `framecast bench latency --fdsrc-blocksize`, BENCHMARKS.md).
pub(crate) const DEFAULT_BLOCKSIZE: u64 = 65_536;

/// Pipe capacities `fdsrc` asks for, largest first (`F_SETPIPE_SZ`): 4
/// MiB holds a whole 1080p I420 frame and is granted to privileged
/// processes; 1 MiB is Linux's default limit for the others
/// (`/proc/sys/fs/pipe-max-size`).
const PIPE_CAPACITIES: [usize; 2] = [4 << 20, 1 << 20];

/// Grows the pipe behind `fd` (when it is one) to the largest of
/// [`PIPE_CAPACITIES`] the kernel grants, and returns its capacity.
///
/// A Linux pipe holds 64 KiB by default, so a program writing a 1.4 MB
/// 720p frame into it wakes the reader and waits for it 22 times per
/// frame; with a megabyte or more it hands the frame over in one or two
/// writes. The pages are only allocated while data sits in the pipe.
pub fn enlarge_pipe(fd: impl AsFd) -> Option<usize> {
    let fd = fd.as_fd();
    PIPE_CAPACITIES
        .iter()
        .find_map(|&size| rustix::pipe::fcntl_setpipe_size(fd, size).ok())
}

/// How long one `poll` waits before checking whether the source is stopping.
const POLL_INTERVAL: Timespec = Timespec {
    tv_sec: 0,
    tv_nsec: 50_000_000,
};

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "fdsrc",
        "Filedescriptor Source",
        "Source/File",
        "Read from a file descriptor",
        vec![PadTemplate::always_any("src", PadDirection::Src)],
        source_properties_with::<FdSrcSettings>(),
        || Box::new(Source::new(FdSrc::default())),
    )
}

/// `blocksize`, as `fdsrc` and `filesrc` declare it.
pub(crate) fn blocksize_property() -> PropertySpec {
    PropertySpec::uint(
        "blocksize",
        "Size in bytes to read per buffer (0 = default, 65536)",
        0..=u32::MAX as u64,
        DEFAULT_BLOCKSIZE,
    )
}

/// The bytes one read asks for, from `blocksize` as set (0 = the default).
pub(crate) fn blocksize(set: u64) -> usize {
    match set {
        0 => DEFAULT_BLOCKSIZE as usize,
        n => usize::try_from(n).unwrap_or(DEFAULT_BLOCKSIZE as usize),
    }
}

settings! {
    /// `fdsrc`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct FdSrcSettings {
        /// `blocksize` as set (0 = the default).
        blocksize: u64 => blocksize_property(),
        /// `fd`: the descriptor to read from.
        fd: i64 => PropertySpec::int("fd", "An open file descriptor to read from", 0..=i32::MAX as i64, 0),
    }
}

/// Opens file descriptor `fd` as a `File` of its own: a duplicate of the
/// standard stream for 0, 1 and 2 (closing it leaves the process's stream
/// open), else `/dev/fd/N`.
pub(crate) fn open_fd(fd: i64, write: bool) -> io::Result<File> {
    let owned = match fd {
        0 => io::stdin().as_fd().try_clone_to_owned()?,
        1 => io::stdout().as_fd().try_clone_to_owned()?,
        2 => io::stderr().as_fd().try_clone_to_owned()?,
        n => {
            return OpenOptions::new()
                .read(!write)
                .append(write)
                .open(format!("/dev/fd/{n}"))
        }
    };
    Ok(File::from(owned))
}

/// Waits until `file` is readable (`Flushing` once `unlocked` is set: the
/// source is stopping), then reads up to `size` bytes from it into a new
/// buffer; `Ok(None)` at end of file. An I/O error goes to `fail`, which
/// posts it and says what the flow returns.
pub(crate) fn read_buffer(
    ctx: &CreateContext<'_>,
    unlocked: &AtomicBool,
    file: &mut File,
    size: usize,
    fail: impl Fn(io::Error) -> FlowError,
) -> std::result::Result<Option<Buffer>, FlowError> {
    // A FIFO can block: wait for data in slices that notice stopping.
    match wait_readable(unlocked, file) {
        Ok(true) => {}
        Ok(false) => return Err(FlowError::Flushing),
        Err(e) => return Err(fail(e)),
    }
    let mut buffer = ctx.acquire(size)?;
    let Some(b) = buffer.get_mut() else {
        return Err(FlowError::Error);
    };
    let read = {
        let Ok(mut map) = b.map_writable() else {
            return Err(FlowError::Error);
        };
        loop {
            match file.read(map.as_mut_slice()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        }
    };
    match read {
        Ok(0) => Ok(None),
        Ok(n) => {
            if b.set_size(n).is_err() {
                return Err(FlowError::Error);
            }
            Ok(Some(buffer))
        }
        Err(e) => Err(fail(e)),
    }
}

/// The `fdsrc` element's implementation (wrapped in [`Source`]).
#[derive(Debug, Default)]
pub struct FdSrc {
    settings: SettingsLock<FdSrcSettings>,
    file: Mutex<Option<(i64, File)>>,
    unlocked: AtomicBool,
}

/// Waits until `fd` is readable (or closed); `Ok(false)` once `unlocked`
/// is set (the source is stopping, or a Ctrl-C flag: `framecast send`
/// reads stdin through it so an interrupt is not stuck behind a quiet
/// producer).
pub fn wait_readable(unlocked: &AtomicBool, fd: &impl AsFd) -> io::Result<bool> {
    loop {
        if unlocked.load(Ordering::Acquire) {
            return Ok(false);
        }
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        match poll(&mut fds, Some(&POLL_INTERVAL)) {
            Ok(0) => continue,
            Ok(_) => return Ok(true),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

impl SourceImpl for FdSrc {
    fn create(
        &self,
        element: &Element,
        ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError> {
        let mut guard = self.file.locked();
        let Some((fd, file)) = guard.as_mut() else {
            element.post_error("fdsrc is not open", None);
            return Err(FlowError::Error);
        };
        let fd = *fd;
        let fail = |e: io::Error| {
            element.post_error(
                format!("Could not read from file descriptor {fd}."),
                Some(e.to_string()),
            );
            FlowError::Error
        };
        let size = blocksize(self.settings.read(|s| s.blocksize));
        read_buffer(ctx, &self.unlocked, file, size, fail)?.ok_or(FlowError::Eos)
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn start(&self, _element: &Element) -> Result<()> {
        let fd = self.settings.read(|s| s.fd);
        let file = open_fd(fd, false).map_err(|source| Error::Io {
            context: format!("Could not open file descriptor {fd} for reading"),
            source,
        })?;
        // Not a pipe (a file, a socket): nothing to grow.
        let _ = enlarge_pipe(&file);
        *self.file.locked() = Some((fd, file));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_grows_to_a_megabyte_or_more() {
        let max: usize = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if max < 1 << 20 {
            eprintln!("fs.pipe-max-size is {max} here, below 1 MiB: skipped");
            return;
        }
        let (reader, _writer) = std::io::pipe().unwrap();
        let before = rustix::pipe::fcntl_getpipe_size(&reader).unwrap();
        let after = enlarge_pipe(&reader).expect("a pipe can grow to 1 MiB");
        assert!(after >= 1 << 20 && after > before, "{before} -> {after}");
        assert_eq!(rustix::pipe::fcntl_getpipe_size(&reader).unwrap(), after);
    }

    #[test]
    fn a_file_is_left_alone() {
        let file = File::open("/proc/self/stat").unwrap();
        assert_eq!(enlarge_pipe(&file), None);
    }
}
