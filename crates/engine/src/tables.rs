//! The report's per-table entries: in memory up to a bound, then in sorted runs in a
//! temporary file, merged by name when read.
//!
//! A multisite dump has ten tables per site and thousands of sites: 209,000 tables in 4 GB.
//! Kept in memory to the end, their entries (a few hundred bytes each, a kilobyte with the
//! WordPress pack's masks) grew the rewrite's memory with the dump, which must stay flat.
//! Entries only ever add up, so a table's entry can go to disk and a fresh one start if the
//! table comes back; reading merges them (the classic external sort: sorted runs, then a
//! k-way merge). The file is anonymous (`tempfile`): it goes with the process.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;

use serde::ser::{Error as _, SerializeMap};
use serde::{Serialize, Serializer};

use crate::report::{ColumnReport, Counts, TableReport};

/// Entries kept in memory before they are written out: enough that a dump of a few hundred
/// tables never touches the disk, few enough to be a small part of the run's memory.
const IN_MEMORY: usize = 1024;

/// Runs in the file before they are merged into one, which bounds the readers (and their
/// buffers) a merge opens.
const MAX_RUNS: usize = 16;

/// Bytes each run's reader holds.
const READ_BUFFER: usize = 16 * 1024;

/// The report's tables by name (see the module docs).
#[derive(Debug, Default)]
pub struct Tables {
    recent: BTreeMap<String, TableReport>,
    spill: Option<Spill>,
}

/// Sorted runs of entries in an anonymous file.
#[derive(Debug)]
struct Spill {
    file: File,
    runs: Vec<Range<u64>>,
}

impl Tables {
    /// Whether no table has an entry.
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty() && self.spill.is_none()
    }

    /// The entries in name order, each table's pieces merged.
    pub fn iter(&self) -> Iter<'_> {
        let readers = self.spill.as_ref().map_or_else(Vec::new, |s| {
            s.runs
                .iter()
                .map(|r| RunReader::new(&s.file, r.clone()))
                .collect()
        });
        Iter::new(readers, self.recent.iter())
    }

    /// The entry of `table`, if it has one.
    pub fn get(&self, table: &str) -> io::Result<Option<TableReport>> {
        for entry in self.iter() {
            let (name, t) = entry?;
            match name.as_str().cmp(table) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Ok(Some(t)),
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(None)
    }

    /// The in-memory part of `table`'s entry (see [`Tables::make_room`]).
    pub(crate) fn get_mut(&mut self, table: &str) -> Option<&mut TableReport> {
        self.recent.get_mut(table)
    }

    /// The in-memory part of `table`'s entry, made the first time; the name is copied only
    /// then.
    pub(crate) fn entry(&mut self, table: &str) -> &mut TableReport {
        if !self.recent.contains_key(table) {
            self.recent.insert(table.to_owned(), TableReport::default());
        }
        self.recent.get_mut(table).expect("inserted above")
    }

    /// Adds `other`'s entries (a worker's, which never spills) to these.
    pub(crate) fn merge(&mut self, other: Tables) {
        debug_assert!(other.spill.is_none(), "a worker's report spills nothing");
        for (name, t) in other.recent {
            match self.recent.get_mut(&name) {
                Some(mine) => mine.merge(t),
                None => {
                    self.recent.insert(name, t);
                }
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
        let spill = match &mut self.spill {
            Some(s) => s,
            None => self.spill.insert(Spill {
                file: tempfile::tempfile()?,
                runs: Vec::new(),
            }),
        };
        let start = spill.runs.last().map_or(0, |r| r.end);
        let end = write_run(
            &spill.file,
            start,
            std::mem::take(&mut self.recent).into_iter().map(Ok),
        )?;
        spill.runs.push(start..end);
        if spill.runs.len() >= MAX_RUNS {
            // One run in a new file, which drops the old one's space with it.
            let file = tempfile::tempfile()?;
            let readers = spill
                .runs
                .iter()
                .map(|r| RunReader::new(&spill.file, r.clone()))
                .collect();
            let nothing = BTreeMap::new();
            let end = write_run(&file, 0, Iter::new(readers, nothing.iter()))?;
            *spill = Spill {
                file,
                runs: std::iter::once(0..end).collect(),
            };
        }
        Ok(true)
    }

    /// The rows of `table` numbered in the entries written out: where the numbers of the
    /// in-memory entry start.
    pub(crate) fn written_out_rows(&self, table: &str) -> io::Result<u64> {
        if self.spill.is_none() {
            return Ok(0);
        }
        let recent = self.recent.get(table).map_or(0, |t| t.numbered);
        let all = self.get(table)?.map_or(0, |t| t.numbered);
        Ok(all - recent)
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

/// The merged entries of a [`Tables`], in name order.
pub struct Iter<'a> {
    readers: Vec<RunReader<'a>>,
    /// Per reader, its next entry, if read.
    heads: Vec<Option<(String, TableReport)>>,
    /// Names of the next entries, smallest first; the reader's index breaks ties in run
    /// order (older runs first, the in-memory entries last).
    order: BinaryHeap<Reverse<(String, usize)>>,
    recent: std::collections::btree_map::Iter<'a, String, TableReport>,
    started: bool,
}

impl<'a> Iter<'a> {
    fn new(
        readers: Vec<RunReader<'a>>,
        recent: std::collections::btree_map::Iter<'a, String, TableReport>,
    ) -> Iter<'a> {
        let heads = (0..=readers.len()).map(|_| None).collect();
        Iter {
            readers,
            heads,
            order: BinaryHeap::new(),
            recent,
            started: false,
        }
    }

    /// Reads the next entry of source `i` (the last one is the in-memory map).
    fn advance(&mut self, i: usize) -> io::Result<()> {
        let next = match self.readers.get_mut(i) {
            Some(r) => r.next_entry()?,
            None => self.recent.next().map(|(n, t)| (n.clone(), t.clone())),
        };
        if let Some((name, t)) = next {
            self.order.push(Reverse((name.clone(), i)));
            self.heads[i] = Some((name, t));
        }
        Ok(())
    }

    fn next_merged(&mut self) -> io::Result<Option<(String, TableReport)>> {
        if !self.started {
            self.started = true;
            for i in 0..=self.readers.len() {
                self.advance(i)?;
            }
        }
        let Some(Reverse((_, i))) = self.order.pop() else {
            return Ok(None);
        };
        let (name, mut merged) = self.heads[i].take().expect("a named source has a head");
        self.advance(i)?;
        while let Some(Reverse((next, _))) = self.order.peek() {
            if *next != name {
                break;
            }
            let Some(Reverse((_, j))) = self.order.pop() else {
                break;
            };
            let (_, t) = self.heads[j].take().expect("a named source has a head");
            merged.merge(t);
            self.advance(j)?;
        }
        Ok(Some((name, merged)))
    }
}

impl Iterator for Iter<'_> {
    type Item = io::Result<(String, TableReport)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_merged().transpose()
    }
}

/// Writes `entries` (in name order) at `start` of `file`; returns where they end.
fn write_run(
    file: &File,
    start: u64,
    entries: impl Iterator<Item = io::Result<(String, TableReport)>>,
) -> io::Result<u64> {
    let mut out = BufWriter::new(PositionedWriter { file, pos: start });
    let mut bytes = Vec::new();
    for entry in entries {
        let (name, t) = entry?;
        bytes.clear();
        encode(&name, &t, &mut bytes);
        out.write_all(&bytes)?;
    }
    out.flush()?;
    let pos = out.get_ref().pos;
    Ok(pos)
}

/// Writes at a position of a file shared by readers that read at theirs.
struct PositionedWriter<'a> {
    file: &'a File,
    pos: u64,
}

impl Write for PositionedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the entries of one run.
struct RunReader<'a> {
    file: &'a File,
    /// The run's bytes not yet in `buf`.
    rest: Range<u64>,
    buf: Vec<u8>,
    /// The first byte of `buf` not yet decoded.
    at: usize,
}

impl<'a> RunReader<'a> {
    fn new(file: &'a File, run: Range<u64>) -> RunReader<'a> {
        RunReader {
            file,
            rest: run,
            buf: Vec::new(),
            at: 0,
        }
    }

    /// Makes `n` bytes available at `buf[at..]`.
    fn fill(&mut self, n: usize) -> io::Result<()> {
        if self.buf.len() - self.at >= n {
            return Ok(());
        }
        self.buf.drain(..self.at);
        self.at = 0;
        let want = (n - self.buf.len()).max(READ_BUFFER) as u64;
        let take = want.min(self.rest.end - self.rest.start) as usize;
        let old = self.buf.len();
        self.buf.resize(old + take, 0);
        self.file
            .read_exact_at(&mut self.buf[old..], self.rest.start)?;
        self.rest.start += take as u64;
        if self.buf.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a run of table entries ends inside an entry",
            ));
        }
        Ok(())
    }

    fn next_entry(&mut self) -> io::Result<Option<(String, TableReport)>> {
        if self.at == self.buf.len() && self.rest.is_empty() {
            return Ok(None);
        }
        self.fill(4)?;
        let len = u32::from_le_bytes(self.buf[self.at..self.at + 4].try_into().expect("4 bytes"));
        self.fill(4 + len as usize)?;
        let mut d = Decoder {
            bytes: &self.buf[self.at + 4..self.at + 4 + len as usize],
        };
        let entry = d.entry()?;
        self.at += 4 + len as usize;
        Ok(Some(entry))
    }
}

/// Appends one entry to `out`: its length (u32), then its fields, integers little-endian.
fn encode(name: &str, t: &TableReport, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    put_str(out, name);
    put_str(out, t.action);
    for n in [t.rows, t.rows_dropped, t.numbered, t.columns.len() as u64] {
        out.extend_from_slice(&n.to_le_bytes());
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
            out.extend_from_slice(&(counts.iter().count() as u64).to_le_bytes());
            for (k, n) in counts.iter() {
                put_str(out, k);
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        out.extend_from_slice(&c.corrupt_serialized.to_le_bytes());
    }
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads what [`encode`] wrote (after the length).
struct Decoder<'b> {
    bytes: &'b [u8],
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.bytes.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a table entry read back is cut short",
            ));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn string(&mut self) -> io::Result<String> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize;
        String::from_utf8(self.take(len)?.to_vec())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    fn counts(&mut self) -> io::Result<Counts> {
        let mut counts = Counts::default();
        for _ in 0..self.u64()? {
            let name = self.string()?;
            counts.add(&name, self.u64()?);
        }
        Ok(counts)
    }

    fn entry(&mut self) -> io::Result<(String, TableReport)> {
        let name = self.string()?;
        let action = match self.string()?.as_str() {
            "keep" => "keep",
            "drop_data" => "drop_data",
            "skip" => "skip",
            _ => "",
        };
        let mut t = TableReport {
            action,
            rows: self.u64()?,
            rows_dropped: self.u64()?,
            numbered: self.u64()?,
            columns: BTreeMap::new(),
        };
        for _ in 0..self.u64()? {
            let column = self.string()?;
            let c = ColumnReport {
                replaced: self.counts()?,
                masked: self.counts()?,
                left_null: self.counts()?,
                left_empty: self.counts()?,
                encodings: self.counts()?,
                corrupt_serialized: self.u64()?,
            };
            t.columns.insert(column, Box::new(c));
        }
        Ok((name, t))
    }
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
        // for several runs and a merge of runs into one.
        for i in 0..(IN_MEMORY * (MAX_RUNS + 3)) as u64 {
            let name = format!("wp_{}_options", (i * 7919) % 5000);
            let action = ["keep", "drop_data", "skip"][(i % 3) as usize];
            let column =
                (i % 4 != 0).then(|| ("option_value", ["home", "site"][(i % 2) as usize], i));
            let piece = entry(action, i % 11, column);
            tables.make_room().unwrap();
            let mut one = Tables::default();
            one.recent.insert(name.clone(), piece.clone());
            tables.merge(one);
            match expected.get_mut(&name) {
                Some(t) => t.merge(piece),
                None => {
                    expected.insert(name, piece);
                }
            }
        }
        let spill = tables.spill.as_ref().expect("written out");
        assert!(spill.runs.len() < MAX_RUNS);
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
        assert!(tables.spill.is_none());
        assert_eq!(tables.written_out_rows("t1").unwrap(), 0);
    }
}
