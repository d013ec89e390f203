//! Mask templates: `user{guid}@example.invalid`.
//!
//! `{column}` inserts a column of the same row, `{lookup[column].field}` a lookup value,
//! `{hash(N)}` the first N hex digits of HMAC-SHA256(secret, original value) (`{hash()}`:
//! all 64). `{{` and `}}` are literal braces. Values from variables are substituted before
//! parsing, with their braces escaped, so a variable never turns into a placeholder.

use std::fmt;

use crate::condition::{parse_lookup_ref, read_lookup, resolve_lookup_ref, LookupRead};
use crate::error::MaskError;
use crate::lookup::{Lookup, LookupId, LookupStore, LookupValue};
use crate::mask::Key;
use crate::row::{Cell, RowAccess};

pub(crate) struct Template {
    parts: Box<[Part]>,
    secret: bool,
}

enum Part {
    Lit(Box<[u8]>),
    Column(Box<str>),
    Lookup {
        id: LookupId,
        key_column: Box<str>,
        field: usize,
    },
    Hash(usize),
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            return f.write_str("Template(<redacted>)");
        }
        let mut s = String::new();
        for p in self.parts.iter() {
            match p {
                Part::Lit(b) => s.push_str(
                    &String::from_utf8_lossy(b)
                        .replace('{', "{{")
                        .replace('}', "}}"),
                ),
                Part::Column(c) => s.push_str(&format!("{{{c}}}")),
                Part::Lookup {
                    id,
                    key_column,
                    field,
                } => s.push_str(&format!("{{lookup#{}[{key_column}].#{field}}}", id.0)),
                Part::Hash(n) => s.push_str(&format!("{{hash({n})}}")),
            }
        }
        write!(f, "Template({s:?})")
    }
}

impl Template {
    pub(crate) fn parse(s: &str, secret: bool, lookups: &[Lookup]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'{' if b.get(i + 1) == Some(&b'{') => {
                    lit.push(b'{');
                    i += 2;
                }
                b'}' if b.get(i + 1) == Some(&b'}') => {
                    lit.push(b'}');
                    i += 2;
                }
                b'}' => return Err("`}` without `{` (write `}}` for a literal brace)".into()),
                b'{' => {
                    let close = s[i + 1..]
                        .find('}')
                        .map(|j| i + 1 + j)
                        .ok_or("`{` without a closing `}` (write `{{` for a literal brace)")?;
                    let inner = s[i + 1..close].trim();
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit).into()));
                    }
                    parts.push(Self::placeholder(inner, lookups)?);
                    i = close + 1;
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit.into()));
        }
        Ok(Template {
            parts: parts.into(),
            secret,
        })
    }

    fn placeholder(inner: &str, lookups: &[Lookup]) -> Result<Part, String> {
        if inner.is_empty() {
            return Err("empty placeholder `{}`".into());
        }
        if let Some(arg) = inner
            .strip_prefix("hash(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let n = if arg.trim().is_empty() {
                64
            } else {
                arg.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or("`hash(N)` takes a length from 1 to 64")?
            };
            return Ok(Part::Hash(n));
        }
        if inner.contains(['(', ')']) {
            return Err(format!(
                "unknown function in `{{{inner}}}`; the only one is hash(N)"
            ));
        }
        match parse_lookup_ref(inner)? {
            None => Ok(Part::Column(inner.into())),
            Some((name, column, field)) => {
                let (id, field) = resolve_lookup_ref(lookups, name, field)?;
                Ok(Part::Lookup {
                    id,
                    key_column: column.into(),
                    field,
                })
            }
        }
    }

    /// Whether the template has a `{hash(N)}` (and so needs the secret).
    pub(crate) fn uses_hash(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Hash(_)))
    }

    /// Row columns the template reads.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Column(c) => Some(&**c),
            Part::Lookup { key_column, .. } => Some(&**key_column),
            _ => None,
        })
    }

    pub(crate) fn lookups(&self) -> impl Iterator<Item = LookupId> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Lookup { id, .. } => Some(*id),
            _ => None,
        })
    }

    /// The text when the template has no placeholders.
    pub(crate) fn constant(&self) -> Option<&[u8]> {
        match &*self.parts {
            [] => Some(b""),
            [Part::Lit(b)] => Some(b),
            _ => None,
        }
    }

    /// The domain of the e-mail addresses the template writes: the text after the last `@`
    /// of its last part, when that part is text (`user{id}@example.invalid`).
    pub(crate) fn email_domain(&self) -> Option<&str> {
        let Some(Part::Lit(last)) = self.parts.last() else {
            return None;
        };
        let at = last.iter().rposition(|&b| b == b'@')?;
        let domain = std::str::from_utf8(&last[at + 1..]).ok()?;
        (!domain.is_empty()).then_some(domain)
    }

    pub(crate) fn render(
        &self,
        original: &[u8],
        row: &dyn RowAccess,
        lookups: &LookupStore,
        key: Option<&Key>,
        mask: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), MaskError> {
        for p in self.parts.iter() {
            match p {
                Part::Lit(b) => out.extend_from_slice(b),
                Part::Column(c) => match row.get(c) {
                    Some(Cell::Bytes(v)) => out.extend_from_slice(v),
                    Some(Cell::Null) => {
                        return Err(MaskError::NullInTemplate {
                            mask: mask.into(),
                            column: c.clone(),
                        })
                    }
                    None => {
                        return Err(MaskError::NoColumn {
                            mask: mask.into(),
                            column: c.clone(),
                        })
                    }
                },
                Part::Lookup {
                    id,
                    key_column,
                    field,
                } => {
                    let l = lookups.lookup(*id);
                    match read_lookup(row, lookups, *id, key_column, *field) {
                        Ok(LookupValue::Found(Cell::Bytes(v))) => out.extend_from_slice(v),
                        Ok(LookupValue::Found(Cell::Null)) => {
                            return Err(MaskError::NullLookupField {
                                mask: mask.into(),
                                lookup: l.name().into(),
                                field: l.fields()[*field].as_str().into(),
                            })
                        }
                        Ok(LookupValue::Missing) => {
                            return Err(MaskError::NoLookupEntry {
                                mask: mask.into(),
                                lookup: l.name().into(),
                                column: key_column.clone(),
                            })
                        }
                        Err(LookupRead::NoColumn) => {
                            return Err(MaskError::NoColumn {
                                mask: mask.into(),
                                column: key_column.clone(),
                            })
                        }
                        Err(LookupRead::NotReady) => {
                            return Err(MaskError::LookupNotReady {
                                mask: mask.into(),
                                lookup: l.name().into(),
                                table: l.table().into(),
                            })
                        }
                    }
                }
                Part::Hash(n) => {
                    let key = key.expect("validated: templates with hash() have a secret");
                    let d = key.plain(original);
                    crate::mask::push_hex(out, &d, *n);
                }
            }
        }
        Ok(())
    }
}
