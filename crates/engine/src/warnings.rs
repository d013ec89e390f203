//! The report's warnings: in memory up to a bound, then appended to a temporary file, read
//! back in order.
//!
//! A site once moved with `sed` holds broken serialized values by the thousand, and every
//! one a replacement touches is a warning that names its row. Kept in memory to the end, a
//! million of them took 337 MiB for an 88 MB dump, where the rewrite otherwise needs a few
//! dozen: memory grew with the damage in the dump, which it must not. Warnings are only ever
//! added and read in the order they came, so they go to an anonymous file as frames (see
//! [`crate::spill`]) a few thousand at a time.

use std::fs::File;
use std::io;

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::report::{ValueAt, Warning, WarningKind};
use crate::spill::{put_str, put_u64, Decoder, FrameReader, FrameWriter};

/// Warnings kept in memory before they are written out: a few hundred kilobytes.
const IN_MEMORY: usize = 2048;

/// The warnings of a run, in the order they came (see the module docs).
#[derive(Debug, Default)]
pub struct Warnings {
    /// The rules' own warnings, which come before the dump's.
    first: Vec<Warning>,
    /// Those written out: the file and where its frames end.
    written: Option<(File, u64)>,
    written_count: usize,
    recent: Vec<Warning>,
}

impl Warnings {
    /// How many there are.
    pub fn len(&self) -> usize {
        self.first.len() + self.written_count + self.recent.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every warning, in order; reading back those written out may fail.
    pub fn iter(&self) -> impl Iterator<Item = io::Result<Warning>> + '_ {
        let mut frames = self
            .written
            .as_ref()
            .map(|(file, end)| FrameReader::new(file, 0..*end));
        let written = std::iter::from_fn(move || match frames.as_mut()?.next_frame() {
            Ok(Some(mut d)) => Some(decode(&mut d)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        });
        let first = self.first.iter().cloned().map(Ok);
        first
            .chain(written)
            .chain(self.recent.iter().cloned().map(Ok))
    }

    /// Adds `w` after the others.
    pub(crate) fn push(&mut self, w: Warning) {
        self.recent.push(w);
    }

    /// Puts the rules' warnings `ws` before every other.
    pub(crate) fn put_first(&mut self, ws: impl IntoIterator<Item = Warning>) {
        self.first.splice(0..0, ws);
    }

    /// Adds `other`'s warnings (a worker's, which never writes any out) after these.
    pub(crate) fn merge(&mut self, other: Warnings) {
        debug_assert!(
            other.written.is_none(),
            "a worker's report writes nothing out"
        );
        self.first.extend(other.first);
        self.recent.extend(other.recent);
    }

    /// Writes the in-memory warnings out if there are many.
    pub(crate) fn make_room(&mut self) -> io::Result<()> {
        if self.recent.len() < IN_MEMORY {
            return Ok(());
        }
        if self.written.is_none() {
            self.written = Some((tempfile::tempfile()?, 0));
        }
        let Some((file, end)) = self.written.as_mut() else {
            return Ok(());
        };
        let mut out = FrameWriter::new(file, *end);
        for w in &self.recent {
            out.frame(|bytes| encode(w, bytes))?;
        }
        *end = out.finish()?;
        self.written_count += self.recent.len();
        self.recent.clear();
        Ok(())
    }
}

impl Serialize for Warnings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for w in self.iter() {
            let w = w.map_err(|e| {
                S::Error::custom(format!("cannot read the warnings back from disk: {e}"))
            })?;
            seq.serialize_element(&w)?;
        }
        seq.end()
    }
}

/// One warning's fields.
fn encode(w: &Warning, out: &mut Vec<u8>) {
    let kind = match w.kind {
        WarningKind::CorruptSerialized => 0,
        WarningKind::ReplacementUnused => 1,
    };
    put_u64(out, kind);
    put_str(out, &w.message);
    match &w.at {
        None => put_u64(out, 0),
        Some(at) => {
            put_u64(out, 1);
            put_u64(out, at.byte);
            put_u64(out, at.line);
            put_str(out, &at.table);
            put_str(out, &at.column);
            put_str(out, &at.row);
        }
    }
}

/// What [`encode`] wrote.
fn decode(d: &mut Decoder<'_>) -> io::Result<Warning> {
    let kind = match d.u64()? {
        0 => WarningKind::CorruptSerialized,
        _ => WarningKind::ReplacementUnused,
    };
    let message = d.string()?;
    let at = match d.u64()? {
        0 => None,
        _ => Some(ValueAt {
            byte: d.u64()?,
            line: d.u64()?,
            table: d.string()?,
            column: d.string()?,
            row: d.string()?,
        }),
    };
    Ok(Warning { kind, at, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_warning(i: usize) -> Warning {
        Warning {
            kind: WarningKind::CorruptSerialized,
            at: Some(ValueAt {
                byte: i as u64 * 7,
                line: i as u64 + 1,
                table: format!("wp_{}_options", i % 13),
                column: "`option_value`".into(),
                row: format!("{i} (key {i})"),
            }),
            message: format!("declared length {i} but only 3 bytes are left"),
        }
    }

    fn text(w: &Warning) -> String {
        serde_json::to_string(w).unwrap()
    }

    /// Thousands of warnings, written out in several pieces, read back as they came, with
    /// the rules' first: in order, every field, and the same JSON as a plain list.
    #[test]
    fn warnings_written_out_read_back_in_order() {
        let mut warnings = Warnings::default();
        let mut model = Vec::new();
        for i in 0..IN_MEMORY * 3 + 17 {
            let w = value_warning(i);
            model.push(w.clone());
            warnings.push(w);
            warnings.make_room().unwrap();
        }
        assert!(warnings.written.is_some());
        assert!(warnings.recent.len() < IN_MEMORY);
        let rule = Warning::rules(
            WarningKind::ReplacementUnused,
            "[[replace]] 2: empty".into(),
        );
        warnings.put_first([rule.clone()]);
        model.insert(0, rule);

        let read: Vec<Warning> = warnings.iter().collect::<io::Result<_>>().unwrap();
        assert_eq!(warnings.len(), model.len());
        assert_eq!(read.len(), model.len());
        for (got, want) in read.iter().zip(&model) {
            assert_eq!(text(got), text(want));
        }
        assert_eq!(
            serde_json::to_string(&warnings).unwrap(),
            serde_json::to_string(&model).unwrap()
        );
    }

    /// Below the bound nothing touches the disk; a worker's warnings follow the pass's.
    #[test]
    fn few_warnings_stay_in_memory_and_merge_in_order() {
        let mut warnings = Warnings::default();
        let mut other = Warnings::default();
        warnings.push(value_warning(1));
        other.push(value_warning(2));
        warnings.merge(other);
        warnings.make_room().unwrap();
        assert!(warnings.written.is_none());
        let rows: Vec<String> = warnings
            .iter()
            .map(|w| w.unwrap().at.unwrap().row)
            .collect();
        assert_eq!(rows, ["1 (key 1)", "2 (key 2)"]);
    }
}
