//! The report as one HTML page (`rewrite --report FILE.html`): for the person who signs off
//! a copy, who opens it in a browser rather than read JSON.
//!
//! The page is self-contained (styles inline, no scripts, no fonts or images to fetch), so it
//! can be mailed or archived next to the dump and still open the same. Every name and
//! message in it comes from the dump or the rules and is escaped.

use std::fmt::Write as _;
use std::io;

use crate::report::{ColumnReport, Counts, Report};

/// Escapes `s` for HTML text and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
th{background:#f2f2f2}tr.warn td{background:#fff4e5}\
details{margin:0.3em 0}summary{cursor:pointer}code{font-size:0.95em}";

/// `name: count` pairs, one per line.
fn counts(map: &Counts) -> String {
    let mut out = String::new();
    for (k, n) in map.iter() {
        if !out.is_empty() {
            out.push_str("<br>");
        }
        let _ = write!(out, "{}: {n}", esc(k));
    }
    out
}

fn sum(map: &Counts) -> u64 {
    map.total()
}

impl Report {
    /// Writes the report as a self-contained HTML page: the totals, one row per table (rows,
    /// dropped, replaced, masked, NULL and empty values masks left alone), each table's
    /// columns, and the warnings with their byte offsets and lines.
    ///
    /// # Errors
    /// Those of `out`.
    pub fn write_html(&self, out: &mut dyn io::Write) -> io::Result<()> {
        let mut h = String::new();
        h.push_str(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>understudy rewrite report</title>",
        );
        let _ = writeln!(h, "<style>{STYLE}</style></head><body>");
        h.push_str("<h1>understudy rewrite report</h1>\n<table>\n");
        for (label, n) in [
            ("bytes read", self.bytes_in),
            ("bytes written", self.bytes_out),
            ("statements", self.statements),
            ("rows", self.rows),
            ("rows dropped", self.rows_dropped),
            ("values replaced", self.values_replaced),
            ("of those inside serialized PHP", self.serialized_rewritten),
            ("values masked", self.values_masked),
            ("NULL values masks left alone", self.values_left_null),
            ("empty values masks left alone", self.values_left_empty),
            ("statements appended", self.appended_statements),
            ("warnings", self.warnings.len() as u64),
        ] {
            let _ = writeln!(h, "<tr><th>{label}</th><td class=\"n\">{n}</td></tr>");
        }
        h.push_str(
            "</table>\n<h2>Tables</h2>\n<table>\n<tr><th>table</th><th>action</th>\
                    <th>rows</th><th>dropped</th><th>replaced</th><th>masked</th>\
                    <th>NULL left</th><th>empty left</th></tr>\n",
        );
        // Written table by table: the entries may come from disk, more than memory holds.
        let mut with_columns = false;
        for entry in self.tables.iter() {
            let (name, t) = entry?;
            with_columns |= !t.columns.is_empty();
            let total = |f: fn(&ColumnReport) -> u64| t.columns.values().map(|c| f(c)).sum::<u64>();
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&name),
                esc(t.action),
                t.rows,
                t.rows_dropped,
                total(|c| sum(&c.replaced)),
                total(|c| sum(&c.masked)),
                total(|c| sum(&c.left_null)),
                total(|c| sum(&c.left_empty)),
            );
            out.write_all(h.as_bytes())?;
            h.clear();
        }
        h.push_str("</table>\n");
        if with_columns {
            h.push_str("<h2>Columns</h2>\n");
        }
        for entry in self.tables.iter() {
            let (name, t) = entry?;
            if t.columns.is_empty() {
                continue;
            }
            let _ = write!(
                h,
                "<details><summary><code>{}</code> ({} columns)</summary>\n<table>\n\
                 <tr><th>column</th><th>replaced, per rule</th><th>masked, per mask</th>\
                 <th>NULL left, per mask</th><th>empty left, per mask</th>\
                 <th>encodings</th><th>corrupt serialized</th></tr>\n",
                esc(&name),
                t.columns.len()
            );
            for (column, c) in &t.columns {
                let _ = writeln!(
                    h,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                     <td>{}</td><td class=\"n\">{}</td></tr>",
                    esc(column),
                    counts(&c.replaced),
                    counts(&c.masked),
                    counts(&c.left_null),
                    counts(&c.left_empty),
                    counts(&c.encodings),
                    c.corrupt_serialized
                );
            }
            h.push_str("</table></details>\n");
            out.write_all(h.as_bytes())?;
            h.clear();
        }
        let _ = writeln!(h, "<h2>Warnings ({})</h2>", self.warnings.len());
        if !self.warnings.is_empty() {
            h.push_str(
                "<table>\n<tr><th>byte</th><th>line</th><th>table</th><th>column</th>\
                 <th>row</th><th>message</th></tr>\n",
            );
            for w in self.warnings.iter() {
                let w = w?;
                // A warning about the rules as a whole (a replacement that moved nothing)
                // has no place in the dump.
                let (byte, line, table, column, row) = match &w.at {
                    Some(at) => (
                        at.byte.to_string(),
                        at.line.to_string(),
                        esc(&at.table),
                        esc(&at.column),
                        esc(&at.row),
                    ),
                    None => Default::default(),
                };
                let _ = writeln!(
                    h,
                    "<tr class=\"warn\"><td class=\"n\">{byte}</td><td class=\"n\">{line}</td>\
                     <td><code>{table}</code></td><td><code>{column}</code></td><td>{row}</td><td>{}</td></tr>",
                    esc(&w.message)
                );
            }
            h.push_str("</table>\n");
        }
        h.push_str("</body></html>\n");
        out.write_all(h.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{TableReport, Warning};

    #[test]
    fn escapes_names_and_fetches_nothing() {
        let mut report = Report {
            rows: 3,
            ..Report::default()
        };
        let mut table = TableReport {
            action: "keep",
            rows: 3,
            ..TableReport::default()
        };
        let mut column = ColumnReport::default();
        column.masked.add("<b>mask</b>", 2);
        column.left_null.add("<b>mask</b>", 1);
        table.columns.insert("x\"<script>".into(), Box::new(column));
        let mut one = crate::Tables::default();
        *one.entry("t&<i>") = table;
        report.tables.merge(one);
        report.warnings.push(Warning::corrupt_serialized(
            understudy_sqldump::Position {
                byte: 1234,
                line: 7,
            },
            "t&<i>",
            "`c`".into(),
            "1".into(),
            "bad <value> 'here'".into(),
        ));
        let mut out = Vec::new();
        report.write_html(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        for raw in ["<script>", "<b>", "<i>", "<value>", "'here'"] {
            assert!(!page.contains(raw), "{raw} unescaped in {page}");
        }
        for escaped in [
            "t&amp;&lt;i&gt;",
            "x&quot;&lt;script&gt;",
            "&lt;b&gt;mask&lt;/b&gt;: 2",
            "&#39;here&#39;",
            "<td class=\"n\">1234</td>",
        ] {
            assert!(page.contains(escaped), "{escaped} missing in {page}");
        }
        // Self-contained: nothing to load.
        for fetch in ["src=", "href=", "url(", "@import", "<script", "<link"] {
            assert!(!page.contains(fetch), "{fetch} in {page}");
        }
    }
}
