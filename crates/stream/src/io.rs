//! Opening input and output: compression detection, and output files that appear only when
//! complete.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::progress::{Counted, Progress};

/// A stream compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    None,
    Gzip,
    Zstd,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Opens `path` (standard input for `None` or `-`) and undoes gzip or zstd, detected by the
/// first bytes rather than the name, so `cat dump.sql.gz | understudy rewrite` works too.
///
/// With `progress`, the bytes read (as stored: a compressed file's own bytes) are counted
/// into it, and a file's size is its total.
pub fn open_input(
    path: Option<&Path>,
    progress: Option<&Arc<Progress>>,
) -> Result<(Box<dyn Read + Send>, Codec)> {
    let stdin = || {
        widen_pipe(io::stdin());
        Box::new(io::stdin())
    };
    let raw: Box<dyn Read + Send> = match path {
        None => stdin(),
        Some(p) if p == Path::new("-") => stdin(),
        Some(p) => {
            let file = File::open(p).map_err(|e| Error::open(p, e))?;
            if let Some(progress) = progress {
                // A pipe or device given by name has no size: it shows none.
                match file.metadata() {
                    Ok(meta) if meta.is_file() => progress.set_total(meta.len()),
                    _ => {}
                }
            }
            Box::new(file)
        }
    };
    let mut raw: Box<dyn Read + Send> = match progress {
        Some(progress) => Box::new(Counted::new(raw, Arc::clone(progress))),
        None => raw,
    };
    // Read up to 4 bytes: a pipe may deliver fewer per read.
    let mut magic = [0u8; 4];
    let mut have = 0;
    while have < magic.len() {
        match raw.read(&mut magic[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Read(e)),
        }
    }
    let head = &magic[..have];
    let rejoined = io::Cursor::new(head.to_vec()).chain(raw);
    let codec = if head.starts_with(ZSTD_MAGIC) {
        Codec::Zstd
    } else if head.starts_with(GZIP_MAGIC) {
        Codec::Gzip
    } else {
        Codec::None
    };
    let reader: Box<dyn Read + Send> = match codec {
        Codec::None => Box::new(rejoined),
        // Multi-member gzip (concatenated .gz files, pigz output) is still one dump.
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(
            rejoined,
        ))),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::new(rejoined).map_err(Error::Codec)?),
    };
    Ok((reader, codec))
}

/// Gives the pipe `fd` is, if it is one, a 1 MiB buffer instead of Linux's 64 KiB. In
/// `mariadb-dump | understudy rewrite | mariadb` the three processes share the cores with
/// the kernel's pipe copies; with 64 KiB at a time they wake each other far more often
/// (a 1 GB pass-through: 33,000 voluntary context switches against 7,000, 0.85–1.10 s
/// against 0.64 s, BENCHMARKS.md). Not a pipe, or a limit below 1 MiB
/// (`/proc/sys/fs/pipe-max-size`): left as it is.
#[cfg(target_os = "linux")]
pub fn widen_pipe(fd: impl std::os::fd::AsFd) {
    const PIPE_SIZE: usize = 1 << 20;
    let fd = fd.as_fd();
    if rustix::pipe::fcntl_getpipe_size(fd).is_ok_and(|size| size < PIPE_SIZE) {
        let _ = rustix::pipe::fcntl_setpipe_size(fd, PIPE_SIZE);
    }
}

#[cfg(not(target_os = "linux"))]
pub fn widen_pipe<T>(_: T) {}

/// Standard output as a plain file handle where it can be had: `io::stdout()` is
/// line-buffered, which splits every large write at its last newline.
fn stdout() -> Box<dyn Write + Send> {
    use std::os::fd::AsFd;
    widen_pipe(io::stdout().as_fd());
    match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(File::from(fd)),
        Err(_) => Box::new(io::stdout()),
    }
}

/// The codec an output path asks for by its extension.
pub fn codec_for_path(path: &Path) -> Codec {
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => Codec::Gzip,
        Some("zst" | "zstd") => Codec::Zstd,
        _ => Codec::None,
    }
}

/// Where output goes. A file output is written to a temporary file beside it and renamed over
/// the target only by [`Output::finish`]; dropped unfinished, the temporary file is removed.
pub struct Output {
    writer: Encoder,
    file: Option<(tempfile::NamedTempFile, PathBuf)>,
}

enum Encoder {
    Plain(Box<dyn Write + Send>),
    Gzip(flate2::write::GzEncoder<Box<dyn Write + Send>>),
    Zstd(zstd::stream::write::Encoder<'static, Box<dyn Write + Send>>),
}

impl Output {
    /// Standard output for `None` or `-`, otherwise a file that appears when finished. A path
    /// that is not a regular file (`/dev/null`, `/dev/stdout`, a named pipe into a restore)
    /// is written to directly, as a stream: renaming a file over it would replace the device.
    pub fn create(path: Option<&Path>, codec: Codec) -> Result<Output> {
        let (sink, file): (Box<dyn Write + Send>, _) = match path {
            None => (stdout(), None),
            Some(p) if p == Path::new("-") => (stdout(), None),
            Some(p) if std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir()) => {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .map_err(|e| Error::open(p, e))?;
                (Box::new(f), None)
            }
            Some(p) => {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let temp = tempfile::Builder::new()
                    .prefix(".understudy-")
                    .suffix(".partial")
                    .tempfile_in(dir)
                    .map_err(|e| Error::create(dir, e))?;
                crate::cleanup::register(temp.path());
                let handle = temp.reopen().map_err(|e| Error::create(dir, e))?;
                (
                    Box::new(BufWriter::with_capacity(256 * 1024, handle)),
                    Some((temp, p.to_path_buf())),
                )
            }
        };
        let writer = match codec {
            Codec::None => Encoder::Plain(sink),
            Codec::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                sink,
                flate2::Compression::default(),
            )),
            Codec::Zstd => {
                Encoder::Zstd(zstd::stream::write::Encoder::new(sink, 3).map_err(Error::Codec)?)
            }
        };
        Ok(Output { writer, file })
    }

    /// Whether this is standard output (not a file that appears only when finished).
    pub fn is_stream(&self) -> bool {
        self.file.is_none()
    }

    /// Ends the compressed stream, flushes, and renames a file output into place.
    pub fn finish(self) -> Result<()> {
        let mut sink = match self.writer {
            Encoder::Plain(w) => w,
            Encoder::Gzip(w) => w.finish().map_err(Error::Write)?,
            Encoder::Zstd(w) => w.finish().map_err(Error::Write)?,
        };
        sink.flush().map_err(Error::Write)?;
        drop(sink);
        if let Some((temp, dest)) = self.file {
            temp.as_file().sync_all().map_err(Error::Write)?;
            // Temporary files are private (0600); a dump file gets the target's permissions
            // if it exists, else the usual 0644.
            let permissions = match std::fs::metadata(&dest) {
                Ok(meta) => meta.permissions(),
                Err(_) => {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::Permissions::from_mode(0o644)
                }
            };
            std::fs::set_permissions(temp.path(), permissions)
                .map_err(|e| Error::create(&dest, e))?;
            let partial = temp.path().to_path_buf();
            temp.persist(&dest)
                .map_err(|e| Error::create(&dest, e.error))?;
            crate::cleanup::forget(&partial);
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.writer {
            Encoder::Plain(w) => w.write_all(buf),
            Encoder::Gzip(w) => w.write_all(buf),
            Encoder::Zstd(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}
