//! What a rewrite did, per table and column: the proof a user reads after a run.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use understudy_sqldump::Position;

use crate::tables::Tables;
use crate::warnings::Warnings;

/// What a rewrite did.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Bytes read (after decompression).
    pub bytes_in: u64,
    /// Bytes written (before compression).
    pub bytes_out: u64,
    /// Statements seen.
    pub statements: u64,
    /// Rows seen in `INSERT` statements.
    pub rows: u64,
    /// Rows left out (table actions and `drop_rows`).
    pub rows_dropped: u64,
    /// Values changed by replacements.
    pub values_replaced: u64,
    /// Of those, values rewritten inside serialized PHP.
    pub serialized_rewritten: u64,
    /// Values changed by masks.
    pub values_masked: u64,
    /// NULL values a mask applied to and left NULL (not counted as masked).
    pub values_left_null: u64,
    /// Empty strings a mask applied to and left empty (not counted as masked).
    pub values_left_empty: u64,
    /// Statements written at the end (`[[append_sql]]`).
    pub appended_statements: u64,
    /// Per table, in name order (beyond a thousand tables, partly in a temporary file).
    pub tables: Tables,
    /// Values that looked serialized but did not parse, and rules that moved nothing, in
    /// the order they came (beyond a few thousand, partly in a temporary file).
    pub warnings: Warnings,
    /// Per replacement rule with `must_move`: what the rows that must hold its `from` held.
    #[serde(skip)]
    pub(crate) must_move: BTreeMap<usize, MustMoveSeen>,
}

/// What the rows a replacement must move in held (see `understudy_rules::MustMove`).
#[derive(Clone, Debug, Default)]
pub(crate) struct MustMoveSeen {
    /// Whether one of them held the rule's `from`.
    pub(crate) moved: bool,
    /// The first few distinct values they held, shortened, for the message when none did.
    pub(crate) values: Vec<String>,
}

impl MustMoveSeen {
    /// How many values a message shows.
    const SHOWN: usize = 4;

    pub(crate) fn saw(&mut self, moved: bool, value: &[u8]) {
        self.moved |= moved;
        if self.values.len() < Self::SHOWN {
            let mut text = String::from_utf8_lossy(&value[..value.len().min(200)]).into_owned();
            if value.len() > 200 {
                text.push('…');
            }
            if !self.values.contains(&text) {
                self.values.push(text);
            }
        }
    }

    fn merge(&mut self, other: MustMoveSeen) {
        self.moved |= other.moved;
        for v in other.values {
            if self.values.len() < Self::SHOWN && !self.values.contains(&v) {
                self.values.push(v);
            }
        }
    }
}

impl Report {
    /// Adds `other`'s figures to these (a worker's report for part of the dump).
    pub(crate) fn merge(&mut self, other: Report) {
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.statements += other.statements;
        self.rows += other.rows;
        self.rows_dropped += other.rows_dropped;
        self.values_replaced += other.values_replaced;
        self.serialized_rewritten += other.serialized_rewritten;
        self.values_masked += other.values_masked;
        self.values_left_null += other.values_left_null;
        self.values_left_empty += other.values_left_empty;
        self.appended_statements += other.appended_statements;
        self.tables.merge(other.tables);
        self.warnings.merge(other.warnings);
        for (rule, seen) in other.must_move {
            self.must_move.entry(rule).or_default().merge(seen);
        }
    }
}

/// One table's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableReport {
    /// `keep`, `drop_data` or `skip`.
    pub action: &'static str,
    /// Rows seen.
    pub rows: u64,
    /// Rows left out.
    pub rows_dropped: u64,
    /// Per column: values replaced per rule, masked per mask, corrupt serialized values.
    /// Boxed: a map's node has room for eleven entries, which held inline cost 1.7 KB for
    /// a table with one column changed, kept to the end for each of a dump's thousands of
    /// tables.
    pub columns: BTreeMap<String, Box<ColumnReport>>,
    /// Rows numbered in the table (for messages): its row count as the pass counts rows.
    #[serde(skip)]
    pub(crate) numbered: u64,
}

impl TableReport {
    /// Adds `other`'s figures, which came later, to these.
    pub(crate) fn merge(&mut self, other: TableReport) {
        self.action = other.action;
        self.rows += other.rows;
        self.rows_dropped += other.rows_dropped;
        self.numbered += other.numbered;
        for (column, c) in other.columns {
            let col = self.columns.entry(column).or_default();
            let c = *c;
            col.replaced.merge(c.replaced);
            col.masked.merge(c.masked);
            col.left_null.merge(c.left_null);
            col.left_empty.merge(c.left_empty);
            col.encodings.merge(c.encodings);
            col.corrupt_serialized += c.corrupt_serialized;
        }
    }
}

/// One column's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ColumnReport {
    /// Values changed, per replace rule.
    pub replaced: Counts,
    /// Values masked, per mask (its `name`, else `mask[N]`).
    pub masked: Counts,
    /// NULL values a mask left NULL, per mask: nothing to mask there.
    pub left_null: Counts,
    /// Empty strings a mask left empty, per mask.
    pub left_empty: Counts,
    /// Values changed, per encoding the needle was found in (`plain`, `serialized`,
    /// `session`, `base64`, each also as `hex blob, …`).
    pub encodings: Counts,
    /// Values that looked serialized but did not parse.
    pub corrupt_serialized: u64,
}

/// Something the run did not stop for but the user should know. Printed after the run
/// (not with `-q`), counted in the summary, and listed in the JSON report, whatever the kind.
#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    /// What kind of warning.
    pub kind: WarningKind,
    /// Where in the dump, for a warning about one value (flattened into the warning's JSON
    /// object: `byte`, `line`, `table`, `column`, `row`).
    #[serde(flatten)]
    pub at: Option<ValueAt>,
    /// For `corrupt_serialized`, why the value did not parse (with the offset inside it);
    /// otherwise the whole message.
    pub message: String,
}

/// The kinds of [`Warning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// A value looked like serialized PHP but did not parse; it was replaced in as plain
    /// bytes, so lengths inside it may be wrong (they probably were before).
    CorruptSerialized,
    /// A `[[replace]]` of the rules compiled to nothing (its `from` is empty or equals its
    /// `to`), so it moved nothing.
    ReplacementUnused,
}

/// A value's place in the dump.
#[derive(Clone, Debug, Serialize)]
pub struct ValueAt {
    /// Byte offset of the value in the dump.
    pub byte: u64,
    /// Line of the value in the dump.
    pub line: u64,
    /// Its table.
    pub table: String,
    /// Its column.
    pub column: String,
    /// The row (primary key, or number in the table).
    pub row: String,
}

/// Counts by name, in the names' order; a map in JSON.
///
/// A column's report has five of them, most with one name or none, and it is kept to the
/// end of the run for every changed column of every table: as `BTreeMap`s (a node has room
/// for eleven entries) they cost about 1 KB per table of a multisite dump with thousands
/// of tables, as a vector a few dozen bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(Vec<(String, u64)>);

impl Counts {
    /// Adds `n` to the count of `name`, which starts at 0.
    pub fn add(&mut self, name: &str, n: u64) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
            Ok(i) => self.0[i].1 += n,
            Err(i) => self.0.insert(i, (name.to_owned(), n)),
        }
    }

    /// The count of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1)
    }

    /// The names and their counts, in the names' order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(k, n)| (k.as_str(), *n))
    }

    /// The sum of the counts.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    /// Whether no name has a count.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: Counts) {
        for (k, n) in other.0 {
            self.add(&k, n);
        }
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, n) in &self.0 {
            map.serialize_entry(k, n)?;
        }
        map.end()
    }
}

impl Report {
    /// The figures of `column` in `table`, made the first time; the names are copied only
    /// then (this runs for every value replaced or masked).
    pub(crate) fn column_mut(&mut self, table: &str, column: &str) -> &mut ColumnReport {
        let columns = &mut self.tables.entry(table).columns;
        if !columns.contains_key(column) {
            columns.insert(column.to_owned(), Box::default());
        }
        columns.get_mut(column).expect("inserted above")
    }
}

impl Warning {
    /// A value that looks serialized and does not parse.
    pub(crate) fn corrupt_serialized(
        pos: Position,
        table: &str,
        column: String,
        row: String,
        message: String,
    ) -> Self {
        Warning {
            kind: WarningKind::CorruptSerialized,
            at: Some(ValueAt {
                byte: pos.byte,
                line: pos.line,
                table: table.to_string(),
                column,
                row,
            }),
            message,
        }
    }

    /// A warning about the rules, not about a value of the dump.
    pub(crate) fn rules(kind: WarningKind, message: String) -> Self {
        Warning {
            kind,
            at: None,
            message,
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.at, self.kind) {
            (Some(at), WarningKind::CorruptSerialized) => write!(
                f,
                "byte {} (line {}), table `{}`, column {}, row {}: looks serialized but does not parse ({}); replaced as plain text",
                at.byte, at.line, at.table, at.column, at.row, self.message
            ),
            (Some(at), _) => write!(
                f,
                "byte {} (line {}), table `{}`, column {}, row {}: {}",
                at.byte, at.line, at.table, at.column, at.row, self.message
            ),
            (None, _) => f.write_str(&self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts add up per name and come out in the names' order, as the map they replaced
    /// did in the JSON report.
    #[test]
    fn counts_add_per_name_and_serialize_as_a_map_in_name_order() {
        let mut counts = Counts::default();
        assert!(counts.is_empty());
        for name in [
            "site url", "home", "site url", "mask[2]", "home", "site url",
        ] {
            counts.add(name, 1);
        }
        counts.add("home", 10);
        assert_eq!(counts.get("site url"), Some(3));
        assert_eq!(counts.get("home"), Some(12));
        assert_eq!(counts.get("nothing"), None);
        assert_eq!(counts.total(), 16);
        let mut other = Counts::default();
        other.add("a first", 4);
        other.add("home", 1);
        counts.merge(other);
        let names: Vec<_> = counts.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["a first", "home", "mask[2]", "site url"]);
        let json = serde_json::to_string(&counts).unwrap();
        let expected: BTreeMap<&str, u64> = [
            ("site url", 3),
            ("home", 13),
            ("mask[2]", 1),
            ("a first", 4),
        ]
        .into();
        assert_eq!(json, serde_json::to_string(&expected).unwrap());
    }
}
