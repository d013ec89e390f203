//! The report's per-table entries: in memory up to a bound, then in sorted runs in a
//! temporary file, merged by name when read.
//!
//! A multisite dump has ten tables per site and thousands of sites: 209,000 tables in 4 GB.
//! Kept in memory to the end, their entries (a few hundred bytes each, a kilobyte with the
//! WordPress pack's masks) grew the rewrite's memory with the dump, which must stay flat.
//! Entries only ever add up, so a table's entry can go to disk and a fresh one start if the
//! table comes back; reading merges them (the classic external sort: sorted runs, then a
//! k-way merge). The file is anonymous (`tempfile`): it goes with the process.

use std::collections::BTreeMap;
use std::io;

use serde::ser::{Error as _, SerializeMap};
use serde::{Serialize, Serializer};

use crate::report::{ColumnReport, Counts, TableReport};
use crate::spill::{decoded, put_str, put_u64, Decoder, Merged, RunFile, Source};
use crate::table::NameMap;

/// Entries kept in memory before they are written out: enough that a dump of a few hundred
/// tables never touches the disk, few enough to be a small part of the run's memory.
const IN_MEMORY: usize = 1024;

/// The report's tables by name (see the module docs).
#[derive(Debug, Default)]
pub struct Tables {
    recent: Recent,
    /// Sorted runs of the entries written out, oldest first.
    runs: Vec<RunFile>,
}

impl Tables {
    /// Whether no table has an entry.
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty() && self.runs.is_empty()
    }

    /// The entries in name order, each table's pieces merged.
    pub fn iter(&self) -> Iter<'_> {
        Iter::new(&self.runs, Some(&self.recent))
    }

    /// The entry of `table`, if it has one.
    pub fn get(&self, table: &str) -> io::Result<Option<TableReport>> {
        let mut whole = self.written_out(table)?;
        if let Some(t) = self.recent.get(table) {
            match &mut whole {
                Some(w) => w.merge(t.clone()),
                None => whole = Some(t.clone()),
            }
        }
        Ok(whole)
    }

    /// The pieces of `table`'s entry written out, merged in the order they were written:
    /// one block of each run (see [`RunFile::block_of`]).
    fn written_out(&self, table: &str) -> io::Result<Option<TableReport>> {
        let mut whole: Option<TableReport> = None;
        for run in &self.runs {
            let Some(mut frames) = run.block_of(table) else {
                continue;
            };
            while let Some(mut d) = frames.next_frame()? {
                // The name alone, until it is the table's.
                match d.str()?.cmp(table) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        let piece = decode_entry(&mut d)?;
                        match &mut whole {
                            Some(w) => w.merge(piece),
                            None => whole = Some(piece),
                        }
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
        }
        Ok(whole)
    }

    /// The in-memory part of `table`'s entry (see [`Tables::make_room`]).
    pub(crate) fn get_mut(&mut self, table: &str) -> Option<&mut TableReport> {
        self.recent.get_mut(table)
    }

    /// The in-memory part of `table`'s entry, made the first time; the name is copied only
    /// then.
    pub(crate) fn entry(&mut self, table: &str) -> &mut TableReport {
        self.recent.entry(table)
    }

    /// Adds `other`'s entries (a worker's, which never spills) to these.
    pub(crate) fn merge(&mut self, other: Tables) {
        debug_assert!(other.runs.is_empty(), "a worker's report spills nothing");
        for (name, t) in other.recent.entries {
            match self.recent.get_mut(&name) {
                Some(mine) => mine.merge(t),
                None => *self.recent.entry(&name) = t,
            }
        }
    }

    /// Writes the in-memory entries out if there are many; whether it did. Only where no
    /// `&mut` to an entry is held for later: the next use of a table looks its entry up
    /// again (and makes a new one if this wrote it out).
    pub(crate) fn make_room(&mut self) -> io::Result<bool> {
        if self.recent.len() < IN_MEMORY {
            return Ok(false);
        }
        let recent = self.recent.take_sorted();
        self.runs.push(write_run(recent.into_iter().map(Ok))?);
        while let [.., older, newer] = &self.runs[..] {
            if !RunFile::merge_last_two(older.count, newer.count) {
                break;
            }
            let (Some(newer), Some(older)) = (self.runs.pop(), self.runs.pop()) else {
                break;
            };
            let pair = [older, newer];
            self.runs.push(write_run(Iter::new(&pair, None))?);
        }
        Ok(true)
    }

    /// The rows of `table` numbered in the entries written out: where the numbers of the
    /// in-memory entry start.
    pub(crate) fn written_out_rows(&self, table: &str) -> io::Result<u64> {
        Ok(self.written_out(table)?.map_or(0, |t| t.numbered))
    }
}

impl Serialize for Tables {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for entry in self.iter() {
            let (name, t) = entry.map_err(|e| {
                S::Error::custom(format!("cannot read the tables back from disk: {e}"))
            })?;
            map.serialize_entry(&name, &t)?;
        }
        map.end()
    }
}

/// The entries in memory, by name. The run asks for its current table's entry at every
/// statement (three times with one row per `INSERT`: the rows, their count and their
/// numbers); in a `BTreeMap` each time compared the name with a dozen others, which took a
/// tenth of the time of a rewrite with nothing to change. Here a hash finds an entry, and
/// the last one found is checked first.
#[derive(Debug, Default)]
struct Recent {
    entries: Vec<(String, TableReport)>,
    /// Each entry's place in `entries`, by name.
    index: NameMap<usize>,
    /// The place of the entry found last (when less than `entries.len()`).
    last: usize,
}

impl Recent {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, name: &str) -> Option<usize> {
        match self.entries.get(self.last) {
            Some((last, _)) if last == name => Some(self.last),
            _ => self.index.get(name).copied(),
        }
    }

    fn get(&self, name: &str) -> Option<&TableReport> {
        self.position(name).map(|i| &self.entries[i].1)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut TableReport> {
        let i = self.position(name)?;
        self.last = i;
        Some(&mut self.entries[i].1)
    }

    /// The entry of `name`, made the first time; the name is copied only then.
    fn entry(&mut self, name: &str) -> &mut TableReport {
        let i = match self.position(name) {
            Some(i) => i,
            None => {
                self.index.insert(name.to_owned(), self.entries.len());
                self.entries.push((name.to_owned(), TableReport::default()));
                self.entries.len() - 1
            }
        };
        self.last = i;
        &mut self.entries[i].1
    }

    /// The entries in name order.
    fn sorted(&self) -> Vec<&(String, TableReport)> {
        let mut sorted: Vec<_> = self.entries.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        sorted
    }

    /// Every entry, in name order, leaving none.
    fn take_sorted(&mut self) -> Vec<(String, TableReport)> {
        self.index.clear();
        self.last = 0;
        let mut entries = std::mem::take(&mut self.entries);
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        entries
    }
}

/// The merged entries of a [`Tables`], in name order.
pub struct Iter<'a> {
    merged: Merged<'a, TableReport>,
}

impl<'a> Iter<'a> {
    /// `runs` oldest first, then the entries in memory.
    fn new(runs: &'a [RunFile], recent: Option<&'a Recent>) -> Iter<'a> {
        let mut sources: Vec<Source<'a, TableReport>> =
            runs.iter().map(|run| decoded(run, decode)).collect();
        if let Some(recent) = recent {
            sources.push(Box::new(
                recent
                    .sorted()
                    .into_iter()
                    .map(|(n, t)| Ok((n.clone(), t.clone()))),
            ));
        }
        // Entries only add up: a table's pieces merge into one.
        let merged = Merged::new(sources, |mut older, newer| {
            older.merge(newer);
            older
        });
        Iter { merged }
    }
}

impl Iterator for Iter<'_> {
    type Item = io::Result<(String, TableReport)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.merged.next()
    }
}

/// A run of `entries`, in name order.
fn write_run(
    entries: impl Iterator<Item = io::Result<(String, TableReport)>>,
) -> io::Result<RunFile> {
    RunFile::write(entries.map(|entry| {
        let (name, t) = entry?;
        let mut frame = Vec::new();
        encode(&name, &t, &mut frame);
        Ok((name, frame))
    }))
}

/// One entry's fields.
fn encode(name: &str, t: &TableReport, out: &mut Vec<u8>) {
    put_str(out, name);
    put_str(out, t.action);
    for n in [t.rows, t.rows_dropped, t.numbered, t.columns.len() as u64] {
        put_u64(out, n);
    }
    for (column, c) in &t.columns {
        put_str(out, column);
        for counts in [
            &c.replaced,
            &c.masked,
            &c.left_null,
            &c.left_empty,
            &c.encodings,
        ] {
            put_u64(out, counts.iter().count() as u64);
            for (k, n) in counts.iter() {
                put_str(out, k);
                put_u64(out, n);
            }
        }
        put_u64(out, c.corrupt_serialized);
    }
}

fn decode_counts(d: &mut Decoder<'_>) -> io::Result<Counts> {
    let mut counts = Counts::default();
    for _ in 0..d.u64()? {
        let name = d.string()?;
        counts.add(&name, d.u64()?);
    }
    Ok(counts)
}

/// What [`encode`] wrote.
fn decode(d: &mut Decoder<'_>) -> io::Result<(String, TableReport)> {
    let name = d.string()?;
    Ok((name, decode_entry(d)?))
}

/// What [`encode`] wrote after the name.
fn decode_entry(d: &mut Decoder<'_>) -> io::Result<TableReport> {
    let action = match d.string()?.as_str() {
        "keep" => "keep",
        "drop_data" => "drop_data",
        "skip" => "skip",
        _ => "",
    };
    let mut t = TableReport {
        action,
        rows: d.u64()?,
        rows_dropped: d.u64()?,
        numbered: d.u64()?,
        columns: BTreeMap::new(),
    };
    for _ in 0..d.u64()? {
        let column = d.string()?;
        let c = ColumnReport {
            replaced: decode_counts(d)?,
            masked: decode_counts(d)?,
            left_null: decode_counts(d)?,
            left_empty: decode_counts(d)?,
            encodings: decode_counts(d)?,
            corrupt_serialized: d.u64()?,
        };
        t.columns.insert(column, Box::new(c));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &'static str, rows: u64, column: Option<(&str, &str, u64)>) -> TableReport {
        let mut t = TableReport {
            action,
            rows,
            rows_dropped: rows / 2,
            numbered: rows,
            columns: BTreeMap::new(),
        };
        if let Some((column, rule, n)) = column {
            let mut c = ColumnReport::default();
            c.replaced.add(rule, n);
            c.masked.add("mask[0]", n + 1);
            c.encodings.add("serialized", n);
            c.corrupt_serialized = n % 3;
            t.columns.insert(column.to_owned(), Box::new(c));
        }
        t
    }

    /// The same figures as one map that never spills, whatever was written out when.
    #[test]
    fn entries_written_out_read_back_merged_as_if_kept_in_memory() {
        let mut tables = Tables::default();
        let mut expected: BTreeMap<String, TableReport> = BTreeMap::new();
        // Tables come back after they were written out, some many times; enough entries
        // for many runs and merges of runs.
        for i in 0..(IN_MEMORY * 40) as u64 {
            let name = format!("wp_{}_options", (i * 7919) % 5000);
            let action = ["keep", "drop_data", "skip"][(i % 3) as usize];
            let column =
                (i % 4 != 0).then(|| ("option_value", ["home", "site"][(i % 2) as usize], i));
            let piece = entry(action, i % 11, column);
            tables.make_room().unwrap();
            let mut one = Tables::default();
            *one.recent.entry(&name) = piece.clone();
            tables.merge(one);
            match expected.get_mut(&name) {
                Some(t) => t.merge(piece),
                None => {
                    expected.insert(name, piece);
                }
            }
        }
        // Merged as they came: fewer runs than entries written out over the bound.
        assert!(
            (2..12).contains(&tables.runs.len()),
            "{}",
            tables.runs.len()
        );
        let got: Vec<(String, TableReport)> = tables.iter().collect::<io::Result<_>>().unwrap();
        assert_eq!(got.len(), expected.len());
        for ((name, t), (want_name, want)) in got.iter().zip(&expected) {
            assert_eq!(name, want_name);
            assert_eq!(
                serde_json::to_string(t).unwrap(),
                serde_json::to_string(want).unwrap(),
                "{name}"
            );
            assert_eq!(t.numbered, want.numbered, "{name}");
        }
        let as_map = serde_json::to_string(&expected).unwrap();
        assert_eq!(serde_json::to_string(&tables).unwrap(), as_map);
        let name = "wp_42_options";
        let whole = tables.get(name).unwrap().unwrap();
        assert_eq!(whole.rows, expected[name].rows);
        let in_memory = tables.recent.get(name).map_or(0, |t| t.numbered);
        assert_eq!(
            tables.written_out_rows(name).unwrap() + in_memory,
            expected[name].numbered
        );
        assert!(tables.get("wp_42_option").unwrap().is_none());
        // Each entry found alone, through the runs' block indexes, is the merged one.
        for (name, want) in &expected {
            let got = tables.get(name).unwrap().expect("listed");
            assert_eq!(
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(want).unwrap(),
                "{name}"
            );
            assert_eq!(got.numbered, want.numbered, "{name}");
        }
    }

    /// Below the bound nothing touches the disk.
    #[test]
    fn a_few_tables_stay_in_memory() {
        let mut tables = Tables::default();
        for i in 0..IN_MEMORY - 1 {
            tables.make_room().unwrap();
            tables.entry(&format!("t{i}")).rows += 1;
        }
        tables.make_room().unwrap();
        assert!(tables.runs.is_empty());
        assert_eq!(tables.written_out_rows("t1").unwrap(), 0);
    }
}
