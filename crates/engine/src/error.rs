//! Engine errors.

use std::io;

use understudy_sqldump::Position;

/// Why a rewrite stopped. A rewrite that stopped has not produced complete output.
///
/// One pointer wide: results pass through the hot loop on every token, and an error is
/// rare. [`Error::kind`] says what sort it is; [`Error::detail`] has the fields.
#[derive(Debug)]
pub struct Error(Box<Detail>);

/// The fields of an [`Error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Detail {
    /// The input is not a well-formed dump, or reading it failed.
    #[error(transparent)]
    Input(#[from] understudy_sqldump::Error),
    /// The input lexes, but is not a whole MySQL dump: not SQL, empty, or cut short.
    #[error("{pos}{}: {message}", table.as_ref().map(|t| format!(", table `{t}`")).unwrap_or_default())]
    Format {
        /// Where the offending statement starts (the end of the input for a dump cut short).
        pos: Position,
        /// The table concerned, if one is.
        table: Option<String>,
        /// What is wrong, and what to do about it.
        message: String,
    },
    /// Writing the output failed.
    #[error("writing output failed")]
    Output(#[source] io::Error),
    /// A value or row could not be processed as the rules demand; nothing unmasked is written.
    #[error("{pos}, table `{table}`{}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default(), row.as_ref().map(|r| format!(", row {r}")).unwrap_or_default())]
    Rule {
        /// Where the value, row or statement starts.
        pos: Position,
        /// Its table.
        table: String,
        /// Its column, when one column is concerned.
        column: Option<String>,
        /// The row, by primary key when known, else by its 1-based number in the table.
        row: Option<String>,
        /// What went wrong.
        message: String,
    },
    /// The rules do not fit the dump as a whole (found at its end): a mask that met no
    /// table, a site URL the dump does not hold.
    #[error("{0}")]
    Rules(String),
    /// A thread the run needs could not start.
    #[error("cannot start a thread")]
    Start(#[source] io::Error),
    /// What the run keeps per table (schemas, report entries) could not go to a temporary
    /// file, where it goes beyond a few thousand tables.
    #[error(
        "cannot keep what this dump's thousands of tables need in a temporary file (see TMPDIR)"
    )]
    Spill(#[source] io::Error),
    /// The replacements cannot be compiled.
    #[error("cannot build the replacement search: {0}")]
    Replacements(String),
}

/// What sort of failure an [`Error`] is, for a caller that must tell them apart (a clone
/// tells "the dump died" from "the restore died" without reading messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not a well-formed, whole dump.
    InputFormat,
    /// Reading the input failed (including data that does not decompress).
    InputIo,
    /// The rules cannot be applied to this dump.
    Rules,
    /// Writing the output failed.
    OutputIo,
    /// The process could not get what it needs to run (threads).
    Environment,
}

impl Error {
    /// What sort of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match &*self.0 {
            Detail::Input(e) => match e.kind() {
                understudy_sqldump::ErrorKind::Io(_) => ErrorKind::InputIo,
                _ => ErrorKind::InputFormat,
            },
            Detail::Format { .. } => ErrorKind::InputFormat,
            Detail::Output(_) => ErrorKind::OutputIo,
            Detail::Start(_) | Detail::Spill(_) => ErrorKind::Environment,
            Detail::Rule { .. } | Detail::Rules(_) | Detail::Replacements(_) => ErrorKind::Rules,
        }
    }

    /// The fields: position, table, column, row, message.
    pub fn detail(&self) -> &Detail {
        &self.0
    }

    /// A statement (or a row of one) the rules cannot let through, in `table`.
    pub(crate) fn statement(pos: Position, table: impl Into<String>, message: String) -> Error {
        Detail::Rule {
            pos,
            table: table.into(),
            column: None,
            row: None,
            message,
        }
        .into()
    }

    pub(crate) fn output(e: io::Error) -> Error {
        Detail::Output(e).into()
    }

    pub(crate) fn spill(e: io::Error) -> Error {
        Error::from(Detail::Spill(e))
    }

    pub(crate) fn start(e: io::Error) -> Error {
        Detail::Start(e).into()
    }

    pub(crate) fn replacements(message: String) -> Error {
        Detail::Replacements(message).into()
    }
}

impl From<Detail> for Error {
    fn from(detail: Detail) -> Error {
        Error(Box::new(detail))
    }
}

impl From<understudy_sqldump::Error> for Error {
    fn from(e: understudy_sqldump::Error) -> Error {
        Detail::Input(e).into()
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer_and_keeps_its_kind_and_message() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        let e: Error = Detail::Rules("a mask met no table".into()).into();
        assert_eq!(e.kind(), ErrorKind::Rules);
        assert_eq!(e.to_string(), "a mask met no table");
        assert!(matches!(e.detail(), Detail::Rules(_)));
        let e = Error::output(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
        assert_eq!(e.kind(), ErrorKind::OutputIo);
        assert_eq!(
            std::error::Error::source(&e).map(ToString::to_string),
            Some("closed".to_string())
        );
    }
}
