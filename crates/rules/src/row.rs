//! The engine's view of a row, as conditions, templates and lookups read it.
//!
//! The rules crate knows nothing about the dump format: the engine decodes a row's values
//! (unescaped SQL literals) and hands them over through [`RowAccess`]. Keeping this a trait
//! lets the engine answer from whatever it already holds (spans into its statement buffer,
//! a scratch vector) without building a map per row.

/// One decoded SQL value: `NULL` or the unescaped bytes of the literal.
///
/// Numbers arrive as their decimal text (`b"42"`), strings without quotes or escapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cell<'a> {
    /// SQL `NULL`.
    Null,
    /// The value's bytes, unescaped (not necessarily UTF-8).
    Bytes(&'a [u8]),
}

impl<'a> Cell<'a> {
    /// The bytes, or `None` for `NULL`.
    pub fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Cell::Null => None,
            Cell::Bytes(b) => Some(b),
        }
    }

    /// Whether this is SQL `NULL`.
    pub fn is_null(self) -> bool {
        matches!(self, Cell::Null)
    }
}

impl<'a> From<Option<&'a [u8]>> for Cell<'a> {
    fn from(v: Option<&'a [u8]>) -> Cell<'a> {
        match v {
            None => Cell::Null,
            Some(b) => Cell::Bytes(b),
        }
    }
}

/// Read access to the columns of the row being processed.
///
/// `get` returns `None` when the row has no column of that name. Rules treat that as an
/// error (a condition or template that names a column the table does not have is a broken
/// rule, and a broken masking rule must not pass data through), never as `NULL`.
pub trait RowAccess {
    /// The value of `column` in this row, or `None` if the table has no such column.
    fn get(&self, column: &str) -> Option<Cell<'_>>;
}

fn find<'r>(pairs: &'r [(&str, Cell<'_>)], column: &str) -> Option<Cell<'r>> {
    pairs
        .iter()
        .find(|(name, _)| *name == column)
        .map(|(_, cell)| *cell)
}

/// A row given as `(column, value)` pairs; handy in tests and small tools.
///
/// ```
/// use understudy_rules::{Cell, RowAccess};
/// let row = vec![("guid", Cell::Bytes(b"42")), ("email", Cell::Null)];
/// assert_eq!(row.get("guid"), Some(Cell::Bytes(b"42")));
/// assert_eq!(row.get("nope"), None);
/// ```
impl RowAccess for Vec<(&str, Cell<'_>)> {
    fn get(&self, column: &str) -> Option<Cell<'_>> {
        find(self, column)
    }
}

/// A row given as an array of `(column, value)` pairs.
impl<const N: usize> RowAccess for [(&str, Cell<'_>); N] {
    fn get(&self, column: &str) -> Option<Cell<'_>> {
        find(self, column)
    }
}
