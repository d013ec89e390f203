//! Positioned lexer errors.

use std::fmt;

/// Where in the input stream something happened.
///
/// `byte` is the 0-based offset from the start of the (decompressed) stream, `line` the 1-based
/// line number, both counted over every byte the lexer has consumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// 0-based byte offset from the start of the stream.
    pub byte: u64,
    /// 1-based line number.
    pub line: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {} (line {})", self.byte, self.line)
    }
}

/// An error while lexing a dump: what went wrong, where, and in which table.
#[derive(Debug)]
pub struct Error {
    inner: Box<ErrorInner>,
}

#[derive(Debug)]
struct ErrorInner {
    pos: Position,
    table: Option<Box<str>>,
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside a quoted string, quoted identifier or hex/bit literal.
    #[error("input ends inside a quoted literal that starts here")]
    UnterminatedString,
    /// The input ended inside a `/* … */` comment.
    #[error("input ends inside a /* … */ comment that starts here")]
    UnterminatedComment,
    /// The input ended before the statement's delimiter.
    #[error("input ends inside a statement that starts here (no terminating {delimiter:?})")]
    UnterminatedStatement {
        /// The delimiter in force (`;` unless a `DELIMITER` command changed it).
        delimiter: String,
    },
    /// The input ended in the middle of an `INSERT`'s row list.
    #[error("input ends inside an INSERT statement: expected {expected}")]
    UnexpectedEof {
        /// What the lexer was looking for.
        expected: &'static str,
    },
    /// A byte that cannot appear here.
    #[error("unexpected {found} here: expected {expected}")]
    Unexpected {
        /// The offending byte, shown escaped.
        found: ShownByte,
        /// What the lexer was looking for.
        expected: &'static str,
    },
    /// A single token (a statement, a literal) is larger than the configured limit.
    #[error("a single token is larger than the limit of {limit} bytes")]
    TokenTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A `DELIMITER` command with no or an unusable delimiter.
    #[error("bad DELIMITER command: {why}")]
    BadDelimiter {
        /// Why it is unusable.
        why: &'static str,
    },
    /// Reading the input failed.
    #[error("reading input failed: {0}")]
    Io(std::io::Error),
}

/// A byte shown the way a person reads it in an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownByte(pub u8);

impl fmt::Display for ShownByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b' '..=b'~' => write!(f, "'{}'", self.0 as char),
            b'\n' => f.write_str("end of line"),
            b => write!(f, "byte 0x{b:02x}"),
        }
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, pos: Position, table: Option<&str>) -> Error {
        Error {
            inner: Box::new(ErrorInner {
                pos,
                table: table.map(Into::into),
                kind,
            }),
        }
    }

    /// A read error at `pos`, for drivers that read the input themselves.
    pub fn io(err: std::io::Error, pos: Position, table: Option<&str>) -> Error {
        Error::new(ErrorKind::Io(err), pos, table)
    }

    /// Where the problem is (for unterminated things: where they start).
    pub fn position(&self) -> Position {
        self.inner.pos
    }

    /// The table whose `INSERT` or `CREATE TABLE` was being read, if any.
    pub fn table(&self) -> Option<&str> {
        self.inner.table.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner.pos)?;
        if let Some(table) = &self.inner.table {
            write!(f, ", table `{table}`")?;
        }
        write!(f, ": {}", self.inner.kind)
    }
}

// No `source()`: the message already carries the I/O error's text, and a chain printer
// (anyhow's `{:#}`) would print it twice.
impl std::error::Error for Error {}
