//! Positioned parse errors.

use std::fmt;

/// A serialized value could not be read: what went wrong and at which byte.
///
/// `offset` is a 0-based byte offset into the value handed to [`Parser::new`](crate::Parser::new),
/// [`rewrite`](crate::rewrite) or [`replace_in_value`](crate::replace_in_value) (for a problem
/// inside a nested serialized string it still counts from the start of the outer value). The
/// engine adds the table, the column and the dump position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct Error {
    offset: usize,
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A length or element count claims more bytes than are left in the input.
    #[error("declared length {declared} but only {available} bytes are left")]
    LengthOverrun {
        /// The length (or, for `a:`/`O:`, the element count) written in the value.
        declared: usize,
        /// How many bytes were left after the header.
        available: usize,
    },
    /// A byte that cannot appear here, or the end of the input.
    #[error("expected {what}, found {}", Found(*found))]
    Expected {
        /// What the grammar allows here.
        what: &'static str,
        /// The byte found instead; `None` at the end of the input.
        found: Option<u8>,
    },
    /// Arrays, objects and nested serialized strings are nested deeper than the limit.
    #[error("nesting deeper than the limit of {limit}")]
    DepthLimit {
        /// The limit in force.
        limit: usize,
    },
    /// A complete value is followed by more bytes.
    #[error("bytes after the end of the serialized value")]
    TrailingBytes,
    /// A value looks like base64 of serialized PHP or JSON (see
    /// [`may_be_base64`](crate::hooks::may_be_base64)) but does not decode to complete data of
    /// either kind, so its needles were replaced as plain text.
    #[error("looks like base64 of serialized PHP or JSON but does not decode to it")]
    NotBase64Data,
}

impl Error {
    pub(crate) fn new(offset: usize, kind: ErrorKind) -> Error {
        Error { offset, kind }
    }

    pub(crate) fn expected(offset: usize, what: &'static str, found: Option<u8>) -> Error {
        Error::new(offset, ErrorKind::Expected { what, found })
    }

    /// The same error with `base` added to its offset (for errors inside a nested value).
    pub(crate) fn shifted(self, base: usize) -> Error {
        Error {
            offset: self.offset.saturating_add(base),
            kind: self.kind,
        }
    }

    /// 0-based byte offset of the problem in the value.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

/// A byte (or the end of input) shown the way a person reads it.
struct Found(Option<u8>);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("end of input"),
            Some(b) if b.is_ascii_graphic() || b == b' ' => write!(f, "'{}'", b as char),
            Some(b) => write!(f, "byte 0x{b:02x}"),
        }
    }
}
