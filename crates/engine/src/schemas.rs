//! The tables' schemas the pass knows: the recent ones in memory, the rest in sorted runs
//! in a temporary file, looked up there when a table comes back.
//!
//! An `INSERT` may come any time after its table's `CREATE TABLE` (a dump of the schema
//! first, then the data, is common), so the pass must know every table's columns to the
//! end. Held in memory, 209,000 tables of a multisite dump cost 40 MB; mysqldump writes
//! a table's rows right after its `CREATE TABLE`, so the file is read only by dumps laid out
//! otherwise, once per table and spill.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use understudy_sqldump::schema::{Column, TableSchema};

use crate::spill::{decoded, put_str, put_u64, Decoder, Merged, RunFile};
use crate::table::NameMap;

/// Schemas kept in memory before they are written out.
const IN_MEMORY: usize = 2048;

/// What is known of one table.
#[derive(Clone, Debug)]
enum Known {
    Schema(Arc<TableSchema>),
    /// Its schema was taken back: older ones on disk no longer count.
    Removed,
    /// Looked up and found nowhere (kept so that the next lookup needs no disk).
    Missing,
}

/// The schemas by table name (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    recent: NameMap<Known>,
    /// Whether entries may go to disk (the pass's; a worker's few stay in memory).
    spills: bool,
    /// Sorted runs of the entries written out, oldest first.
    runs: Vec<RunFile>,
    lists: ColumnLists,
}

impl Schemas {
    /// Schemas that go to disk beyond [`IN_MEMORY`] tables.
    pub(crate) fn spilling() -> Schemas {
        Schemas {
            spills: true,
            ..Schemas::default()
        }
    }

    /// The schema of `table`, if one is known.
    pub(crate) fn get(&mut self, table: &str) -> io::Result<Option<Arc<TableSchema>>> {
        if let Some(known) = self.recent.get(table) {
            return Ok(match known {
                Known::Schema(s) => Some(s.clone()),
                Known::Removed | Known::Missing => None,
            });
        }
        if self.runs.is_empty() {
            return Ok(None);
        }
        let mut found = Known::Missing;
        for run in self.runs.iter().rev() {
            if let Some(known) = find(run, table, &self.lists)? {
                found = known;
                break;
            }
        }
        let schema = match &found {
            Known::Schema(s) => Some(s.clone()),
            Known::Removed | Known::Missing => None,
        };
        self.recent.insert(table.to_owned(), found);
        self.make_room()?;
        Ok(schema)
    }

    /// `table` has `schema` from now on.
    pub(crate) fn insert(&mut self, table: &str, schema: Arc<TableSchema>) -> io::Result<()> {
        self.set(table, Known::Schema(schema))
    }

    /// `table` has no known schema from now on.
    pub(crate) fn remove(&mut self, table: &str) -> io::Result<()> {
        if self.runs.is_empty() {
            self.recent.remove(table);
            return Ok(());
        }
        self.set(table, Known::Removed)
    }

    fn set(&mut self, table: &str, known: Known) -> io::Result<()> {
        match self.recent.get_mut(table) {
            Some(slot) => *slot = known,
            None => {
                self.recent.insert(table.to_owned(), known);
            }
        }
        self.make_room()
    }

    /// Writes the in-memory entries out if there are many.
    fn make_room(&mut self) -> io::Result<()> {
        if !self.spills || self.recent.len() < IN_MEMORY {
            return Ok(());
        }
        let mut entries: Vec<(String, Known)> = self
            .recent
            .drain()
            .filter(|(_, k)| !matches!(k, Known::Missing))
            .collect();
        if entries.is_empty() {
            // Only lookups that found nothing: nothing to keep.
            return Ok(());
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let lists = &mut self.lists;
        let frames = entries.into_iter().map(|(name, known)| {
            let mut frame = Vec::new();
            encode(&name, &known, lists, &mut frame);
            Ok((name, frame))
        });
        self.runs.push(RunFile::write(frames)?);
        while let [.., older, newer] = &self.runs[..] {
            if !RunFile::merge_last_two(older.count, newer.count) {
                break;
            }
            let (Some(newer), Some(older)) = (self.runs.pop(), self.runs.pop()) else {
                break;
            };
            // With the oldest run in the merge, nothing is left for a removal to hide.
            let keep_removals = !self.runs.is_empty();
            let pair = [older, newer];
            let merged = RunFile::write(merged(&pair, keep_removals))?;
            self.runs.push(merged);
        }
        Ok(())
    }
}

/// What `run` holds for `table`, if anything.
fn find(run: &RunFile, table: &str, lists: &ColumnLists) -> io::Result<Option<Known>> {
    let Some(mut frames) = run.block_of(table) else {
        return Ok(None);
    };
    while let Some(mut d) = frames.next_frame()? {
        // The name alone, until it is the table's.
        match d.str()?.cmp(table) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => return decode_entry(&mut d, lists).map(Some),
            std::cmp::Ordering::Greater => break,
        }
    }
    Ok(None)
}

/// The entries of `runs` (oldest first) in name order, the newest run's for a name;
/// removals left out unless `keep_removals`, when they are to hide what older runs hold.
fn merged(
    runs: &[RunFile],
    keep_removals: bool,
) -> impl Iterator<Item = io::Result<(String, Vec<u8>)>> + '_ {
    // A frame as it is, with the name and whether it is a removal read from it.
    fn read(d: &mut Decoder<'_>) -> io::Result<(String, (bool, Vec<u8>))> {
        let frame = d.frame().to_vec();
        let name = d.string()?;
        let removal = d.u64()? == 0;
        Ok((name, (removal, frame)))
    }
    let sources = runs.iter().map(|run| decoded(run, read)).collect();
    Merged::new(sources, |_older, newer| newer).filter_map(move |entry| match entry {
        Ok((_, (true, _))) if !keep_removals => None,
        Ok((name, (_, frame))) => Some(Ok((name, frame))),
        Err(e) => Some(Err(e)),
    })
}

/// Column lists written out by number: the thousands of tables of a multisite dump share
/// a few lists (see [`understudy_sqldump::schema::SchemaCache`]), which written out whole
/// with each table made the spill write hundreds of megabytes on a 4 GB dump.
#[derive(Debug, Default)]
struct ColumnLists {
    lists: Vec<Arc<[Column]>>,
    /// Numbers by the address of the list. Sound as a key because `lists` holds every list
    /// numbered here: no other list can be allocated at its address.
    by_address: HashMap<usize, u64>,
}

impl ColumnLists {
    /// Lists numbered; later ones are written out whole.
    const MAX: usize = 1024;

    fn number(&mut self, list: &Arc<[Column]>) -> Option<u64> {
        let address = Arc::as_ptr(list).cast::<Column>() as usize;
        if let Some(&n) = self.by_address.get(&address) {
            return Some(n);
        }
        if self.lists.len() >= Self::MAX {
            return None;
        }
        let n = self.lists.len() as u64;
        self.lists.push(list.clone());
        self.by_address.insert(address, n);
        Some(n)
    }
}

/// One entry's fields: the table, then 0 for a schema taken back, 1 and the schema with
/// its columns, or 2 and the schema with the number of its column list.
fn encode(table: &str, known: &Known, lists: &mut ColumnLists, out: &mut Vec<u8>) {
    put_str(out, table);
    let Known::Schema(schema) = known else {
        put_u64(out, 0);
        return;
    };
    let number = lists.number(&schema.columns);
    put_u64(out, if number.is_some() { 2 } else { 1 });
    put_str(out, &schema.name);
    if let Some(n) = number {
        put_u64(out, n);
        return;
    }
    put_u64(out, schema.columns.len() as u64);
    for c in schema.columns.iter() {
        put_str(out, &c.name);
        put_str(out, &c.type_name);
        for limit in [c.max_chars, c.max_bytes] {
            put_u64(out, u64::from(limit.is_some()));
            put_u64(out, limit.unwrap_or(0));
        }
        put_u64(out, u64::from(c.unique));
    }
}

/// What [`encode`] wrote after the table's name.
fn decode_entry(d: &mut Decoder<'_>, lists: &ColumnLists) -> io::Result<Known> {
    let kind = d.u64()?;
    if kind == 0 {
        return Ok(Known::Removed);
    }
    let name = d.string()?;
    let columns = if kind == 2 {
        let n = d.u64()?;
        usize::try_from(n)
            .ok()
            .and_then(|n| lists.lists.get(n))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no such column list"))?
    } else {
        decode_columns(d)?.into()
    };
    let schema = TableSchema { name, columns };
    Ok(Known::Schema(Arc::new(schema)))
}

fn decode_columns(d: &mut Decoder<'_>) -> io::Result<Vec<Column>> {
    let n = d.u64()?;
    let mut columns = Vec::new();
    for _ in 0..n {
        let name = d.string()?;
        let type_name = d.string()?;
        let mut limits = [None; 2];
        for limit in &mut limits {
            let some = d.u64()? != 0;
            let value = d.u64()?;
            *limit = some.then_some(value);
        }
        columns.push(Column {
            name,
            type_name,
            max_chars: limits[0],
            max_bytes: limits[1],
            unique: d.u64()? != 0,
        });
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn schema(name: &str, version: u64) -> Arc<TableSchema> {
        let columns: Vec<Column> = (0..=version % 4)
            .map(|i| Column {
                name: format!("c{i}"),
                type_name: ["INT", "VARCHAR", "LONGTEXT"][(i % 3) as usize].to_owned(),
                max_chars: (i % 3 == 1).then_some(version),
                max_bytes: (i % 3 == 2).then_some(4_294_967_295),
                unique: i == 0,
            })
            .collect();
        Arc::new(TableSchema {
            name: name.to_owned(),
            columns: columns.into(),
        })
    }

    /// Whatever went to disk when, a lookup finds what a plain map would: the last schema
    /// given, none after one is taken back, none for a table never given one.
    #[test]
    fn lookups_find_the_last_schema_given_wherever_it_is() {
        let mut schemas = Schemas::spilling();
        let mut model: HashMap<String, Arc<TableSchema>> = HashMap::new();
        let tables = 3 * IN_MEMORY as u64;
        let shared: Vec<Arc<[Column]>> = (0..4).map(|v| schema("any", v).columns.clone()).collect();
        for i in 0..IN_MEMORY as u64 * 40 {
            let table = format!("wp_{}_posts", (i * 7919) % tables);
            match i % 11 {
                // Looked up, often long after it was given.
                0..=3 => {
                    let got = schemas.get(&table).unwrap();
                    assert_eq!(got, model.get(&table).cloned(), "{table} at {i}");
                }
                4 => {
                    schemas.remove(&table).unwrap();
                    model.remove(&table);
                }
                _ => {
                    // Most share one of a few column lists, as a multisite's tables do.
                    let s = match i % 3 {
                        0 => schema(&table, i),
                        _ => Arc::new(TableSchema {
                            name: table.clone(),
                            columns: shared[(i % 4) as usize].clone(),
                        }),
                    };
                    schemas.insert(&table, s.clone()).unwrap();
                    model.insert(table, s);
                }
            }
        }
        assert!(
            (2..12).contains(&schemas.runs.len()),
            "{}",
            schemas.runs.len()
        );
        for t in 0..tables + 10 {
            let table = format!("wp_{t}_posts");
            assert_eq!(
                schemas.get(&table).unwrap(),
                model.get(&table).cloned(),
                "{table}"
            );
        }
        assert_eq!(schemas.get("a").unwrap(), None);
        assert_eq!(schemas.get("zzz").unwrap(), None);
    }

    /// A worker's schemas never touch the disk.
    #[test]
    fn schemas_that_do_not_spill_stay_in_memory() {
        let mut schemas = Schemas::default();
        for i in 0..2 * IN_MEMORY as u64 {
            schemas.insert(&format!("t{i}"), schema("t", i)).unwrap();
        }
        assert!(schemas.runs.is_empty());
        schemas.remove("t1").unwrap();
        assert_eq!(schemas.get("t1").unwrap(), None);
        assert_eq!(schemas.get("t2").unwrap(), Some(schema("t", 2)));
    }
}
