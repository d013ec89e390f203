//! Stream errors.

use std::io;
use std::path::{Path, PathBuf};

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a stream could not be opened, read, written or finished.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// An output file (or its temporary file beside it) could not be created or put in place.
    #[error("cannot create {}", path.display())]
    Create {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Reading the input failed.
    #[error("cannot read input")]
    Read(#[source] io::Error),
    /// Writing the output failed.
    #[error("cannot write output")]
    Write(#[source] io::Error),
    /// A compressor or decompressor could not start.
    #[error("cannot start the compression codec")]
    Codec(#[source] io::Error),
    /// A thread, or the signal watch, could not start.
    #[error("cannot start {what}")]
    Start {
        /// What could not start.
        what: &'static str,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// What sort of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be opened or read.
    Input,
    /// The output could not be created, written or finished.
    Output,
    /// The process could not start what it needs (threads, signal handling, codecs).
    Environment,
}

impl Error {
    pub(crate) fn open(path: &Path, source: io::Error) -> Error {
        Error::Open {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn create(path: &Path, source: io::Error) -> Error {
        Error::Create {
            path: path.to_path_buf(),
            source,
        }
    }

    /// What sort of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Open { .. } | Error::Read(_) => ErrorKind::Input,
            Error::Create { .. } | Error::Write(_) => ErrorKind::Output,
            Error::Codec(_) | Error::Start { .. } => ErrorKind::Environment,
        }
    }
}
