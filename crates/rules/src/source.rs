//! Positions: byte spans from the TOML parser turned into `file:line:column` and key paths.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::error::{ErrorKind, RulesError};

/// The text of a rule file and its name, for error positions.
pub(crate) struct Source<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column (in characters) of byte `offset`.
    pub(crate) fn pos(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char(self.text, offset)];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    pub(crate) fn err(
        &self,
        span: Range<usize>,
        key: impl Into<Box<str>>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> RulesError {
        RulesError::new(self.origin, Some(self.pos(span.start)), key, kind, message)
    }

    /// Turns a TOML/serde error into a positioned [`RulesError`] whose key is found by
    /// walking a spanned parse of the same text.
    pub(crate) fn toml_error(&self, e: &toml::de::Error) -> RulesError {
        let message = e.message().trim_end().replace('\n', " ");
        let Some(span) = e.span() else {
            return RulesError::new(self.origin, None, "", ErrorKind::Syntax, message);
        };
        let key = match DeTable::parse(self.text) {
            Ok(doc) => key_path_at(doc.get_ref(), span.start),
            Err(_) => String::new(),
        };
        self.err(span, key, ErrorKind::Syntax, message)
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Renders one key segment as TOML would accept it: bare when possible, else quoted.
pub(crate) fn key_segment(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_owned()
    } else {
        let mut s = String::from("\"");
        for c in k.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                c => s.push(c),
            }
        }
        s.push('"');
        s
    }
}

/// The dotted path (`mask[2].when.name`) of the deepest key or value containing `offset`.
pub(crate) fn key_path_at(table: &DeTable<'_>, offset: usize) -> String {
    let mut path = String::new();
    walk_table(table, offset, &mut path);
    path
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

fn push_key(path: &mut String, k: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(&key_segment(k));
}

/// Table spans cover only their header, so descend into every table and array and take
/// the first key or scalar value whose span contains the offset; a header itself counts
/// when nothing inside matches.
fn walk_table(table: &DeTable<'_>, offset: usize, path: &mut String) -> bool {
    for (k, v) in table.iter() {
        let len = path.len();
        push_key(path, k.get_ref());
        if contains(&k.span(), offset) || walk_value(v, offset, path) {
            return true;
        }
        path.truncate(len);
    }
    false
}

fn walk_value(v: &Spanned<DeValue<'_>>, offset: usize, path: &mut String) -> bool {
    match v.get_ref() {
        DeValue::Table(t) => walk_table(t, offset, path) || contains(&v.span(), offset),
        DeValue::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if walk_value(e, offset, path) {
                    return true;
                }
                path.truncate(len);
            }
            contains(&v.span(), offset)
        }
        _ => contains(&v.span(), offset),
    }
}
