//! Scan errors: small, typed, and telling a dump that cannot be read from one that is wrong.

use understudy_sqldump::ErrorKind as DumpErrorKind;

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorKind>);

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The dump could not be read to its end, or is not a well-formed dump; positioned.
    #[error(transparent)]
    Dump(#[from] understudy_sqldump::Error),
    /// A detector thread could not be started.
    #[error("cannot start a scan thread: {0}")]
    Threads(std::io::Error),
    /// The rules' replacement needles could not be compiled into one search.
    #[error("cannot build the search for the rules' replacements: {0}")]
    Needles(#[from] aho_corasick::BuildError),
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Whether reading failed (the environment's fault), rather than the dump being
    /// malformed or the rules unusable.
    pub fn is_io(&self) -> bool {
        match &*self.0 {
            ErrorKind::Dump(e) => matches!(e.kind(), DumpErrorKind::Io(_)),
            ErrorKind::Threads(_) => true,
            ErrorKind::Needles(_) => false,
        }
    }

    pub(crate) fn threads(e: std::io::Error) -> Error {
        Error(Box::new(ErrorKind::Threads(e)))
    }

    pub(crate) fn needles(e: aho_corasick::BuildError) -> Error {
        Error(Box::new(ErrorKind::Needles(e)))
    }
}

impl From<understudy_sqldump::Error> for Error {
    fn from(e: understudy_sqldump::Error) -> Error {
        Error(Box::new(ErrorKind::Dump(e)))
    }
}
