//! A row held whole while the rules look at it: conditions and templates read other columns,
//! so a row's first value cannot be written before its last one is known.

use std::cell::OnceCell;
use std::ops::Range;

use understudy_rules::{Cell, RowAccess};
use understudy_sqldump::{LexedRow, Position, Value, ValueKind};

use crate::value::cell_bytes;

/// The tokens of one row, copied out of the reader's buffer.
#[derive(Default)]
pub(crate) struct RowBuf {
    pub(crate) bytes: Vec<u8>,
    pub(crate) open: Range<usize>,
    /// Each value with its token's range in `bytes`.
    pub(crate) values: Vec<(Value, Range<usize>)>,
    pub(crate) close: Range<usize>,
    pub(crate) pos: Position,
    cells: Vec<OnceCell<CellData>>,
}

enum CellData {
    Null,
    Borrowed(Range<usize>),
    Owned(Vec<u8>),
}

impl RowBuf {
    pub(crate) fn start(&mut self, open: &[u8], pos: Position) {
        self.bytes.clear();
        self.values.clear();
        self.cells.clear();
        self.bytes.extend_from_slice(open);
        self.open = 0..open.len();
        self.pos = pos;
    }

    /// Holds a row lexed whole: its bytes, where its open and close tokens are, and its
    /// values (swapped with the last row's, which `values` gets back).
    pub(crate) fn fill(
        &mut self,
        bytes: &[u8],
        parts: LexedRow,
        values: &mut Vec<(Value, Range<usize>)>,
        pos: Position,
    ) {
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        self.open = 0..parts.open;
        self.close = parts.close;
        self.pos = pos;
        std::mem::swap(&mut self.values, values);
        self.cells.clear();
        self.cells.resize_with(self.values.len(), OnceCell::new);
    }

    pub(crate) fn push_value(&mut self, value: Value, token: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(token);
        self.values.push((value, start..self.bytes.len()));
        self.cells.push(OnceCell::new());
    }

    pub(crate) fn finish(&mut self, close: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(close);
        self.close = start..self.bytes.len();
    }

    pub(crate) fn token(&self, i: usize) -> &[u8] {
        &self.bytes[self.values[i].1.clone()]
    }

    /// The content of the string at position `i` as it is in the dump, if it is a string
    /// whose escapes are all ones mysqldump writes (see `ValueKind::Str`).
    pub(crate) fn escaped_text(&self, i: usize) -> Option<&[u8]> {
        let (value, range) = self.values.get(i)?;
        match value.kind {
            ValueKind::Str {
                canonical: true, ..
            } => Some(value.content.of(&self.bytes[range.clone()])),
            _ => None,
        }
    }

    /// The decoded value at position `i` (decoded once, on first use).
    pub(crate) fn cell(&self, i: usize) -> Option<Cell<'_>> {
        let (value, range) = self.values.get(i)?;
        let data = self.cells[i].get_or_init(|| {
            let token = &self.bytes[range.clone()];
            let mut buf = Vec::new();
            let Some(b) = cell_bytes(token, value, &mut buf) else {
                return CellData::Null;
            };
            if b.is_empty() {
                return CellData::Owned(Vec::new());
            }
            if token.as_ptr_range().contains(&b.as_ptr()) {
                // Not decoded: a part of the token itself.
                let offset = b.as_ptr() as usize - token.as_ptr() as usize;
                return CellData::Borrowed(range.start + offset..range.start + offset + b.len());
            }
            CellData::Owned(buf)
        });
        Some(match data {
            CellData::Null => Cell::Null,
            CellData::Borrowed(r) => Cell::Bytes(&self.bytes[r.clone()]),
            CellData::Owned(v) => Cell::Bytes(v),
        })
    }
}

/// A row as the rules see it: by column name.
pub(crate) struct RowView<'a> {
    pub(crate) row: &'a RowBuf,
    pub(crate) names: &'a [String],
    /// Names the rules ask for, as the rules hold them, with their positions
    /// ([`crate::table::TableCtx::bound`]).
    pub(crate) bound: &'a [(&'a str, usize)],
}

impl<'a> RowView<'a> {
    pub(crate) fn new(row: &'a RowBuf, names: &'a [String], bound: &'a [(&'a str, usize)]) -> Self {
        RowView { row, names, bound }
    }
}

impl RowAccess for RowView<'_> {
    fn get(&self, column: &str) -> Option<Cell<'_>> {
        // The rules ask by the names they hold, a dozen times a row in a table of metadata:
        // the same string (address and length) is the same column, found without comparing
        // names case-insensitively.
        if let Some(&(_, i)) = self.bound.iter().find(|(s, _)| std::ptr::eq(*s, column)) {
            return self.row.cell(i);
        }
        let i = self
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(column))?;
        self.row.cell(i)
    }
}
