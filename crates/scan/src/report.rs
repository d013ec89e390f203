//! What a scan found: per table and column, serializable as JSON with stable keys, and
//! printable as a table for people.
//!
//! The report never holds a value from the dump, only counts: it is often pasted into a
//! ticket or a CI log, where the data it is about must not end up.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::detect::Kind;

/// Everything a scan found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// The rule file the scan judged coverage by, if any.
    pub rules: Option<String>,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Rows in all tables.
    pub rows: u64,
    /// Each table with rows or a `CREATE TABLE`, in dump order.
    pub tables: Vec<TableReport>,
    /// What fails `--strict`: personal-looking values no mask covers, and production URLs
    /// left where a replacement should have moved them.
    pub problems: Vec<Problem>,
}

/// One table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableReport {
    /// The table name.
    pub table: String,
    /// Rows in the dump.
    pub rows: u64,
    /// Its columns, in table order.
    pub columns: Vec<ColumnReport>,
}

/// One column.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ColumnReport {
    /// The column name; `#N` (1-based) when the dump never said it.
    pub column: String,
    /// String values scanned (not NULL, not numbers).
    pub values: u64,
    /// What the rules do with the column; `null` without rules.
    pub coverage: Option<Coverage>,
    /// Per kind of finding (`email`, `ipv4`, …), only kinds found.
    pub findings: BTreeMap<Kind, KindCount>,
    /// Occurrences of each replacement's needles, by the replacement's name; only those
    /// found.
    pub urls: BTreeMap<String, UrlCount>,
}

/// What the rules do with a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// A `[[mask]]` replaces it (perhaps only in rows its `when` selects).
    Masked,
    /// A `[[keep]]` lists it: copied on purpose.
    Kept,
    /// Its table's data is dropped or skipped.
    Dropped,
    /// No rule says anything about it.
    Uncovered,
}

impl Coverage {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Coverage::Masked => "masked",
            Coverage::Kept => "kept",
            Coverage::Dropped => "dropped",
            Coverage::Uncovered => "uncovered",
        }
    }
}

/// Counts for one kind in one column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindCount {
    /// Occurrences that look personal.
    pub personal: u64,
    /// Occurrences that are what a mask of the rules writes (an address at `.invalid` or at
    /// a mask's fake domain, the fixed password hash, a documentation-range IP in a column
    /// masked with fake IPs): not personal.
    pub mask_output: u64,
    /// Of `personal`: inside a string of serialized PHP.
    pub in_serialized: u64,
    /// Of `personal`: inside a string of a JSON value.
    pub in_json: u64,
}

/// Occurrences of one replacement's needles in one column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UrlCount {
    /// How many.
    pub count: u64,
    /// Whether the replacement applies to this column (then an occurrence is a production
    /// URL a rewrite should have moved); `false` for columns it skips (`wp_posts.guid`)
    /// and tables whose data is dropped.
    pub applies: bool,
}

/// Something that fails `--strict`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// `email`, `ipv4`, …, or `production_url`.
    pub kind: String,
    /// For `production_url`: the replacement's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// How many occurrences.
    pub count: u64,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.replacement {
            Some(r) => write!(
                f,
                "{}.{}: production_url ({r}) x{}",
                self.table, self.column, self.count
            ),
            None => write!(
                f,
                "{}.{}: {} x{} in a column no mask covers",
                self.table, self.column, self.kind, self.count
            ),
        }
    }
}

impl Report {
    /// Whether `--strict` passes: no problems.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Writes the report for people: one line per column where something was found, with
    /// its coverage, counts by kind and URL counts, then the problems.
    ///
    /// # Errors
    /// Whatever writing to `out` fails with.
    pub fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let with_rules = self.rules.is_some();
        let mut lines: Vec<[String; 4]> = Vec::new();
        for t in &self.tables {
            for c in &t.columns {
                if c.findings.is_empty() && c.urls.is_empty() {
                    continue;
                }
                let mut found = Vec::new();
                for (kind, n) in &c.findings {
                    let mut s = String::new();
                    if n.personal > 0 {
                        s.push_str(&format!("{kind} {}", n.personal));
                        let inside: Vec<String> =
                            [("serialized", n.in_serialized), ("json", n.in_json)]
                                .iter()
                                .filter(|(_, k)| *k > 0)
                                .map(|(w, k)| format!("{k} in {w}"))
                                .collect();
                        if !inside.is_empty() {
                            s.push_str(&format!(" ({})", inside.join(", ")));
                        }
                    }
                    if n.mask_output > 0 {
                        if !s.is_empty() {
                            s.push_str(", ");
                        }
                        s.push_str(&format!("{kind} {} mask output", n.mask_output));
                    }
                    found.push(s);
                }
                for (label, u) in &c.urls {
                    let note = if u.applies { "" } else { ", not replaced here" };
                    found.push(format!("url {} ({label}{note})", u.count));
                }
                let status = match c.coverage {
                    None => String::new(),
                    Some(cov) => {
                        let still = c.findings.values().any(|n| n.personal > 0);
                        match cov {
                            Coverage::Masked if still => "masked, still looks personal".into(),
                            other => other.name().into(),
                        }
                    }
                };
                lines.push([
                    format!("{}.{}", t.table, c.column),
                    c.values.to_string(),
                    status,
                    found.join("; "),
                ]);
            }
        }
        let header = [
            "column",
            "values",
            if with_rules { "coverage" } else { "" },
            "found",
        ];
        let mut width = [0usize; 3];
        for l in lines
            .iter()
            .map(|l| &l[..3])
            .chain(std::iter::once(&header.map(String::from)[..3]))
        {
            for (w, cell) in width.iter_mut().zip(l) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let row = |out: &mut dyn Write, l: [&str; 4]| -> io::Result<()> {
            if with_rules {
                writeln!(
                    out,
                    "{:<w0$}  {:>w1$}  {:<w2$}  {}",
                    l[0],
                    l[1],
                    l[2],
                    l[3],
                    w0 = width[0],
                    w1 = width[1],
                    w2 = width[2]
                )
            } else {
                writeln!(
                    out,
                    "{:<w0$}  {:>w1$}  {}",
                    l[0],
                    l[1],
                    l[3],
                    w0 = width[0],
                    w1 = width[1]
                )
            }
        };
        let tables = self.tables.len();
        let columns: usize = self.tables.iter().map(|t| t.columns.len()).sum();
        writeln!(
            out,
            "{} bytes, {tables} tables, {columns} columns, {} rows",
            self.bytes, self.rows
        )?;
        if lines.is_empty() {
            writeln!(out, "nothing that looks personal, and no production URL")?;
        } else {
            row(out, header)?;
            for l in &lines {
                row(out, [&l[0], &l[1], &l[2], &l[3]])?;
            }
        }
        if !self.problems.is_empty() {
            writeln!(out, "problems ({}):", self.problems.len())?;
            for p in &self.problems {
                writeln!(out, "  {p}")?;
            }
        }
        Ok(())
    }
}
