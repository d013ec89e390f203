//! `when` and `drop_rows` conditions: tests on columns of the same row and on lookups.
//!
//! A condition is a TOML table; every key must hold (AND). A key is a column name or a
//! lookup reference `lookup[column].field` (the value of `field` in the lookup row whose key
//! equals this row's `column`). A value is
//!
//! | TOML value              | holds when the cell …                                  |
//! |-------------------------|--------------------------------------------------------|
//! | `"text"` or `42`        | equals the text (bytes, case-sensitive)                |
//! | `["a", "b"]`            | equals one of them                                     |
//! | `{ prefix = "…" }`      | starts with it                                         |
//! | `{ glob = "…" }`        | matches the glob (whole value)                         |
//! | `{ regex = "…" }`       | contains a match (anchor with `^…$`); compiled once    |
//! | `{ null = true }`       | is NULL (`false`: is not NULL)                         |
//! | `{ not = <value> }`     | does not satisfy `<value>`                             |
//!
//! Several operators in one inline table are ANDed. NULL satisfies no comparison (so
//! `{ not = "x" }` holds for NULL). A lookup reference whose key is NULL or has no entry in
//! the lookup reads as NULL. A column the row does not have is an error, never NULL.

use std::fmt;

use crate::error::{ErrorKind, EvalError, RulesError};
use crate::file::{CondValue, When};
use crate::glob::Glob;
use crate::lookup::Lookup;
use crate::lookup::{LookupId, LookupStore, LookupValue};
use crate::row::{Cell, RowAccess};
use crate::source::key_segment;
use crate::vars::Escape;
use crate::Ctx;

/// A compiled condition (`when` or `drop_rows`).
#[derive(Debug)]
pub struct Condition {
    label: Box<str>,
    terms: Box<[Term]>,
}

#[derive(Debug)]
struct Term {
    operand: Operand,
    test: Test,
}

#[derive(Debug)]
pub(crate) enum Operand {
    Column(Box<str>),
    Lookup {
        id: LookupId,
        key_column: Box<str>,
        field: usize,
    },
}

/// A literal compared against cells; `Debug` hides it when it is secret.
pub(crate) struct Lit {
    bytes: Box<[u8]>,
    secret: bool,
}

impl fmt::Debug for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("<redacted>")
        } else {
            write!(f, "{:?}", String::from_utf8_lossy(&self.bytes))
        }
    }
}

struct Re {
    re: regex::bytes::Regex,
    secret: bool,
}

impl fmt::Debug for Re {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("Regex(<redacted>)")
        } else {
            write!(f, "Regex({:?})", self.re.as_str())
        }
    }
}

#[derive(Debug)]
enum Test {
    Eq(Lit),
    In(Vec<Lit>),
    Prefix(Lit),
    Glob(Glob),
    Regex(Re),
    Null(bool),
    Not(Box<Test>),
    All(Vec<Test>),
}

impl Test {
    fn eval(&self, cell: Cell<'_>) -> bool {
        match (self, cell) {
            (Test::Null(want), c) => c.is_null() == *want,
            (Test::Not(t), c) => !t.eval(c),
            (Test::All(ts), c) => ts.iter().all(|t| t.eval(c)),
            (_, Cell::Null) => false,
            (Test::Eq(l), Cell::Bytes(b)) => *l.bytes == *b,
            (Test::In(ls), Cell::Bytes(b)) => ls.iter().any(|l| *l.bytes == *b),
            (Test::Prefix(l), Cell::Bytes(b)) => b.starts_with(&l.bytes),
            (Test::Glob(g), Cell::Bytes(b)) => g.matches_bytes(b),
            (Test::Regex(r), Cell::Bytes(b)) => r.re.is_match(b),
        }
    }
}

impl Condition {
    /// Whether `row` satisfies every term.
    ///
    /// # Errors
    /// [`EvalError::NoColumn`] when the row lacks a column the condition reads (only terms
    /// up to the first false one are read; check [`Condition::columns`] against the table
    /// once to catch all); [`EvalError::LookupNotReady`] when a lookup is read before its
    /// table was recorded completely.
    pub fn matches(&self, row: &dyn RowAccess, lookups: &LookupStore) -> Result<bool, EvalError> {
        for t in self.terms.iter() {
            let cell = match &t.operand {
                Operand::Column(c) => row.get(c).ok_or_else(|| EvalError::NoColumn {
                    rule: self.label.clone(),
                    column: c.clone(),
                })?,
                Operand::Lookup {
                    id,
                    key_column,
                    field,
                } => match read_lookup(row, lookups, *id, key_column, *field) {
                    Ok(LookupValue::Found(c)) => c,
                    Ok(LookupValue::Missing) => Cell::Null,
                    Err(LookupRead::NoColumn) => {
                        return Err(EvalError::NoColumn {
                            rule: self.label.clone(),
                            column: key_column.clone(),
                        })
                    }
                    Err(LookupRead::NotReady) => {
                        let l = lookups.lookup(*id);
                        return Err(EvalError::LookupNotReady {
                            rule: self.label.clone(),
                            lookup: l.name().into(),
                            table: l.table().into(),
                        });
                    }
                },
            };
            if !t.test.eval(cell) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The columns of the row this condition reads (including lookup key columns).
    pub fn columns(&self) -> impl Iterator<Item = &str> + '_ {
        self.terms.iter().map(|t| match &t.operand {
            Operand::Column(c) => &**c,
            Operand::Lookup { key_column, .. } => &**key_column,
        })
    }

    /// The column and the texts, when this condition is one test of one column of the row
    /// against texts (`{ meta_key = "nickname" }`, `{ meta_key = ["a", "b"] }`): it holds
    /// exactly when that cell is one of them (NULL is none). A caller with many such
    /// conditions on one column (masks keyed by `meta_key`) can then find those a row
    /// satisfies by the cell's bytes instead of testing each.
    pub fn column_in(&self) -> Option<(&str, Vec<&[u8]>)> {
        let [Term {
            operand: Operand::Column(column),
            test,
        }] = &*self.terms
        else {
            return None;
        };
        let texts = match test {
            Test::Eq(lit) => vec![&*lit.bytes],
            Test::In(lits) => lits.iter().map(|l| &*l.bytes).collect(),
            _ => return None,
        };
        Some((column, texts))
    }

    /// The lookups this condition reads.
    pub fn lookups(&self) -> impl Iterator<Item = LookupId> + '_ {
        self.terms.iter().filter_map(|t| match &t.operand {
            Operand::Lookup { id, .. } => Some(*id),
            Operand::Column(_) => None,
        })
    }

    /// The rule this condition belongs to, e.g. `mask[3].when`, as used in error messages.
    pub fn label(&self) -> &str {
        &self.label
    }
}

pub(crate) enum LookupRead {
    NoColumn,
    NotReady,
}

pub(crate) fn read_lookup<'s>(
    row: &dyn RowAccess,
    lookups: &'s LookupStore,
    id: LookupId,
    key_column: &str,
    field: usize,
) -> Result<LookupValue<'s>, LookupRead> {
    let key = row.get(key_column).ok_or(LookupRead::NoColumn)?;
    if !lookups.is_complete(id) {
        return Err(LookupRead::NotReady);
    }
    Ok(match key {
        Cell::Null => LookupValue::Missing,
        Cell::Bytes(k) => lookups.get(id, k, field),
    })
}

/// Parses `name[column].field`; `Ok(None)` for a plain column name.
pub(crate) fn parse_lookup_ref(s: &str) -> Result<Option<(&str, &str, &str)>, String> {
    let Some(open) = s.find('[') else {
        return Ok(None);
    };
    let bad =
        || format!("`{s}` is neither a column name nor a lookup reference `lookup[column].field`");
    let close = s[open..].find(']').map(|i| open + i).ok_or_else(bad)?;
    let name = &s[..open];
    let column = &s[open + 1..close];
    let field = s[close + 1..].strip_prefix('.').ok_or_else(bad)?;
    if name.is_empty() || column.is_empty() || field.is_empty() || field.contains(['[', ']']) {
        return Err(bad());
    }
    Ok(Some((name, column, field)))
}

/// Resolves `name[column].field` against the declared lookups.
pub(crate) fn resolve_lookup_ref(
    lookups: &[Lookup],
    name: &str,
    field: &str,
) -> Result<(LookupId, usize), String> {
    let Some(i) = lookups.iter().position(|l| l.name() == name) else {
        let names: Vec<&str> = lookups.iter().map(|l| l.name()).collect();
        return Err(format!(
            "unknown lookup `{name}`; [[lookup]] declares: {}",
            if names.is_empty() {
                "(none)".to_owned()
            } else {
                names.join(", ")
            }
        ));
    };
    let l = &lookups[i];
    let Some(f) = l.fields().iter().position(|x| x == field) else {
        return Err(format!(
            "lookup `{name}` has no field `{field}`; its fields are: {}",
            l.fields().join(", ")
        ));
    };
    Ok((LookupId(i), f))
}

/// Compiles a `when`/`drop_rows` table. `key` is the dotted key of the table itself.
pub(crate) fn compile(
    ctx: &Ctx<'_>,
    when: &When,
    key: &str,
    lookups: &[Lookup],
    users: &crate::model::TableSet,
) -> Result<Condition, RulesError> {
    let mut terms = Vec::new();
    for (k, v) in &when.0 {
        let tkey = format!("{key}.{}", key_segment(k.get_ref()));
        let name = ctx.subst(k, &tkey, Escape::None)?;
        let operand = match parse_lookup_ref(&name.value)
            .map_err(|m| ctx.src.err(k.span(), tkey.as_str(), ErrorKind::Invalid, m))?
        {
            None => {
                if name.value.is_empty() {
                    return Err(ctx.src.err(
                        k.span(),
                        tkey,
                        ErrorKind::Invalid,
                        "empty column name",
                    ));
                }
                Operand::Column(name.value.into())
            }
            Some((lname, column, field)) => {
                let (id, field) = resolve_lookup_ref(lookups, lname, field).map_err(|m| {
                    ctx.src
                        .err(k.span(), tkey.as_str(), ErrorKind::UnknownLookup, m)
                })?;
                crate::compile::check_lookup_order(&lookups[id.0], users).map_err(|m| {
                    ctx.src
                        .err(k.span(), tkey.as_str(), ErrorKind::LookupOrder, m)
                })?;
                Operand::Lookup {
                    id,
                    key_column: column.into(),
                    field,
                }
            }
        };
        let test = compile_test(ctx, v, &tkey, true)?;
        terms.push(Term { operand, test });
    }
    Ok(Condition {
        label: key.into(),
        terms: terms.into(),
    })
}

fn lit(ctx: &Ctx<'_>, s: &crate::file::S, key: &str) -> Result<Lit, RulesError> {
    let t = ctx.subst(s, key, Escape::None)?;
    Ok(Lit {
        bytes: t.value.into_bytes().into(),
        secret: t.secret,
    })
}

fn scalar_lit(
    ctx: &Ctx<'_>,
    v: &toml::Spanned<CondValue>,
    key: &str,
) -> Result<Option<Lit>, RulesError> {
    Ok(match v.get_ref() {
        CondValue::Str(s) => Some(lit(ctx, &toml::Spanned::new(v.span(), s.clone()), key)?),
        CondValue::Int(i) => Some(Lit {
            bytes: i.to_string().into_bytes().into(),
            secret: false,
        }),
        _ => None,
    })
}

const OPERATORS: &str = "prefix, glob, regex, null, not";

fn compile_test(
    ctx: &Ctx<'_>,
    v: &toml::Spanned<CondValue>,
    key: &str,
    top: bool,
) -> Result<Test, RulesError> {
    if let Some(l) = scalar_lit(ctx, v, key)? {
        return Ok(Test::Eq(l));
    }
    match v.get_ref() {
        CondValue::List(items) => {
            if items.is_empty() {
                return Err(ctx.src.err(
                    v.span(),
                    key,
                    ErrorKind::Invalid,
                    "an empty list matches nothing",
                ));
            }
            let mut out = Vec::new();
            for it in items {
                match scalar_lit(ctx, it, key)? {
                    Some(l) => out.push(l),
                    None => {
                        return Err(ctx.src.err(
                            it.span(),
                            key,
                            ErrorKind::Invalid,
                            format!(
                                "a list holds strings or integers to compare with, not {}",
                                it.get_ref().type_name()
                            ),
                        ))
                    }
                }
            }
            Ok(Test::In(out))
        }
        CondValue::Bool(_) => Err(ctx.src.err(
            v.span(),
            key,
            ErrorKind::Invalid,
            if top {
                "a boolean compares with nothing; write { null = true } to test for NULL"
            } else {
                "a boolean is only valid as the value of `null`"
            },
        )),
        CondValue::Ops(ops) => {
            if ops.is_empty() {
                return Err(ctx.src.err(
                    v.span(),
                    key,
                    ErrorKind::Invalid,
                    format!("an empty table tests nothing; operators are: {OPERATORS}"),
                ));
            }
            let mut tests = Vec::new();
            for (op, val) in ops {
                let okey = format!("{key}.{}", key_segment(op.get_ref()));
                let want_str = |what: &str| -> Result<crate::file::S, RulesError> {
                    match val.get_ref() {
                        CondValue::Str(s) => Ok(toml::Spanned::new(val.span(), s.clone())),
                        other => Err(ctx.src.err(
                            val.span(),
                            okey.as_str(),
                            ErrorKind::Invalid,
                            format!("`{what}` takes a string, not {}", other.type_name()),
                        )),
                    }
                };
                let t = match op.get_ref().as_str() {
                    "prefix" => Test::Prefix(lit(ctx, &want_str("prefix")?, &okey)?),
                    "glob" => {
                        let t = ctx.subst(&want_str("glob")?, &okey, Escape::None)?;
                        let g = Glob::new(&t.value, t.secret).map_err(|m| {
                            ctx.src
                                .err(val.span(), okey.as_str(), ErrorKind::BadGlob, m)
                        })?;
                        Test::Glob(g)
                    }
                    "regex" => {
                        let t = ctx.subst(&want_str("regex")?, &okey, Escape::Regex)?;
                        let re = regex::bytes::Regex::new(&t.value).map_err(|e| {
                            let msg = if t.secret {
                                "invalid regex".to_owned()
                            } else {
                                format!("invalid regex: {}", one_line(&e.to_string()))
                            };
                            ctx.src
                                .err(val.span(), okey.as_str(), ErrorKind::BadRegex, msg)
                        })?;
                        Test::Regex(Re {
                            re,
                            secret: t.secret,
                        })
                    }
                    "null" => match val.get_ref() {
                        CondValue::Bool(b) => Test::Null(*b),
                        other => {
                            return Err(ctx.src.err(
                                val.span(),
                                okey,
                                ErrorKind::Invalid,
                                format!("`null` takes true or false, not {}", other.type_name()),
                            ))
                        }
                    },
                    "not" => Test::Not(Box::new(compile_test(ctx, val, &okey, false)?)),
                    other => {
                        return Err(ctx.src.err(
                            op.span(),
                            okey.as_str(),
                            ErrorKind::UnknownName,
                            format!(
                                "unknown condition operator `{other}`; operators are: {OPERATORS}"
                            ),
                        ))
                    }
                };
                tests.push(t);
            }
            Ok(if tests.len() == 1 {
                tests.pop().expect("one test")
            } else {
                Test::All(tests)
            })
        }
        CondValue::Str(_) | CondValue::Int(_) => unreachable!("handled by scalar_lit"),
    }
}

/// The regex crate's messages span several lines with a caret diagram; keep the last line,
/// which says what is wrong.
fn one_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}
