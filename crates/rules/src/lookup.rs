//! `[[lookup]]`: values remembered from a table earlier in the dump.
//!
//! mysqldump writes tables in order of their names, so a table that sorts earlier (Elgg's
//! `entities`) is complete before a later one (`metadata`) streams by. A lookup records, for
//! each row of its source table, the values of some `fields` under the row's `key`; rules on
//! later tables read them as `name[column].field`.
//!
//! The engine owns a [`LookupStore`]: it calls [`LookupStore::record`] for every row of a
//! lookup's table ([`CompiledRules::lookups_fed_by`](crate::CompiledRules::lookups_fed_by)),
//! then [`LookupStore::mark_complete`] when that table's data has ended. Reading a lookup
//! that is not complete is an error, so a dump in an unexpected order cannot silently skip
//! masks. After filling, the store is only read, and can be shared (`Sync`) by workers.
//!
//! Memory: keys that are canonical decimal integers (the common case: guids, ids) are kept
//! as `u64`; field values are interned, since they repeat (`user`, `object`, …). About
//! 20–30 bytes per source row plus 4 per field.

use std::collections::HashMap;
use std::fmt;

use crate::error::LookupError;
use crate::row::{Cell, RowAccess};

/// Index of a lookup in [`CompiledRules::lookups`](crate::CompiledRules::lookups).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LookupId(pub(crate) usize);

impl LookupId {
    /// The position in [`CompiledRules::lookups`](crate::CompiledRules::lookups).
    pub fn index(self) -> usize {
        self.0
    }
}

/// A `[[lookup]]` definition.
#[derive(Clone, Debug)]
pub struct Lookup {
    pub(crate) name: Box<str>,
    pub(crate) table: Box<str>,
    pub(crate) key: Box<str>,
    pub(crate) fields: Box<[String]>,
}

impl Lookup {
    /// The name rules use, as in `name[column].field`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The table whose rows fill it (an exact name, no glob).
    pub fn table(&self) -> &str {
        &self.table
    }
    /// The column of the source table that rows are looked up by.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// The columns of the source table that are remembered.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }
}

pub(crate) enum LookupValue<'a> {
    Found(Cell<'a>),
    Missing,
}

/// Values of all lookups, filled by the engine while streaming. `Clone`, so a parallel
/// engine can hand a finished state to worker threads.
#[derive(Clone)]
pub struct LookupStore {
    tables: Vec<Table>,
    /// Changes so far (rows recorded, lookups completed).
    generation: u64,
}

#[derive(Clone)]
struct Table {
    def: Lookup,
    complete: bool,
    ints: HashMap<u64, u32>,
    others: HashMap<Box<[u8]>, u32>,
    /// `entries × fields.len()` value ids; 0 is NULL.
    values: Vec<u32>,
    /// Interned values; index `id - 1`.
    interned: Vec<Box<[u8]>>,
    intern_ids: HashMap<Box<[u8]>, u32>,
}

impl fmt::Debug for LookupStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for t in &self.tables {
            l.entry(&format_args!(
                "{}: {} rows{}",
                t.def.name,
                t.len(),
                if t.complete { "" } else { " (filling)" }
            ));
        }
        l.finish()
    }
}

/// A decimal integer written the canonical way (no sign, no leading zero), as dumps print
/// integer keys.
fn canonical_int(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(c - b'0');
    }
    Some(n)
}

impl Table {
    fn len(&self) -> usize {
        self.ints.len() + self.others.len()
    }

    fn intern(&mut self, v: Cell<'_>) -> u32 {
        match v {
            Cell::Null => 0,
            Cell::Bytes(b) => {
                if let Some(&id) = self.intern_ids.get(b) {
                    return id;
                }
                self.interned.push(b.into());
                let id = u32::try_from(self.interned.len()).expect("fewer than 2^32 values");
                self.intern_ids.insert(b.into(), id);
                id
            }
        }
    }
}

impl LookupStore {
    /// An empty store for the lookups of `rules`.
    pub fn new(rules: &crate::CompiledRules) -> LookupStore {
        LookupStore {
            tables: rules
                .lookups()
                .iter()
                .map(|def| Table {
                    def: def.clone(),
                    complete: false,
                    ints: HashMap::new(),
                    others: HashMap::new(),
                    values: Vec::new(),
                    interned: Vec::new(),
                    intern_ids: HashMap::new(),
                })
                .collect(),
            generation: 0,
        }
    }

    /// How many changes the store has seen: two states with the same generation, taken from
    /// the same stream, are the same.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn lookup(&self, id: LookupId) -> &Lookup {
        &self.tables[id.0].def
    }

    /// Remembers `row` (a row of the lookup's table). A row whose key is NULL is ignored;
    /// a later row with the same key replaces the earlier one.
    ///
    /// # Errors
    /// [`LookupError::NoColumn`] when the row lacks the key or a field column.
    pub fn record(&mut self, id: LookupId, row: &dyn RowAccess) -> Result<(), LookupError> {
        self.generation += 1;
        let t = &mut self.tables[id.0];
        let missing = |t: &Table, c: &str| LookupError::NoColumn {
            lookup: t.def.name.clone(),
            table: t.def.table.clone(),
            column: c.into(),
        };
        let key = row.get(&t.def.key).ok_or_else(|| missing(t, &t.def.key))?;
        let nf = t.def.fields.len();
        let mut ids = Vec::with_capacity(nf);
        for i in 0..nf {
            let v = row
                .get(&t.def.fields[i])
                .ok_or_else(|| missing(t, &t.def.fields[i]))?;
            let id = t.intern(v);
            ids.push(id);
        }
        let Cell::Bytes(k) = key else {
            return Ok(());
        };
        let next = u32::try_from(t.values.len() / nf.max(1)).expect("fewer than 2^32 rows");
        let slot = match canonical_int(k) {
            Some(n) => *t.ints.entry(n).or_insert(next),
            None => *t.others.entry(k.into()).or_insert(next),
        };
        if slot == next {
            t.values.extend_from_slice(&ids);
        } else {
            let at = slot as usize * nf;
            t.values[at..at + nf].copy_from_slice(&ids);
        }
        Ok(())
    }

    /// Declares that the lookup's table has been read completely; from now on conditions
    /// and templates may read it.
    pub fn mark_complete(&mut self, id: LookupId) {
        self.generation += 1;
        self.tables[id.0].complete = true;
    }

    /// Whether [`mark_complete`](Self::mark_complete) was called for `id`.
    pub fn is_complete(&self, id: LookupId) -> bool {
        self.tables[id.0].complete
    }

    /// Number of keys recorded for `id`.
    pub fn len(&self, id: LookupId) -> usize {
        self.tables[id.0].len()
    }

    /// Whether nothing was recorded for `id`.
    pub fn is_empty(&self, id: LookupId) -> bool {
        self.len(id) == 0
    }

    /// The value of field number `field` for `key`, or `None` when the lookup has no row
    /// with that key. Reads regardless of completeness.
    pub fn field(&self, id: LookupId, key: &[u8], field: usize) -> Option<Cell<'_>> {
        match self.get(id, key, field) {
            LookupValue::Found(c) => Some(c),
            LookupValue::Missing => None,
        }
    }

    pub(crate) fn get(&self, id: LookupId, key: &[u8], field: usize) -> LookupValue<'_> {
        let t = &self.tables[id.0];
        let slot = match canonical_int(key) {
            Some(n) => t.ints.get(&n),
            None => t.others.get(key),
        };
        let Some(&slot) = slot else {
            return LookupValue::Missing;
        };
        let vid = t.values[slot as usize * t.def.fields.len() + field];
        LookupValue::Found(if vid == 0 {
            Cell::Null
        } else {
            Cell::Bytes(&t.interned[vid as usize - 1])
        })
    }
}
