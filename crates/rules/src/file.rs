//! The TOML shape of a rule file, as serde reads it.
//!
//! Every struct denies unknown fields, so a typo is an error with a position instead of a
//! silently ignored rule. Values whose meaning is checked later (strategy names, globs,
//! regexes, variable references) are kept as `Spanned` strings: the compiler reports its
//! own errors at the right line. Nothing here interprets a value.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

pub(crate) type S = Spanned<String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    #[serde(default)]
    #[allow(dead_code)] // informational; read by humans and `understudy rules` listings
    pub meta: Option<Meta>,
    #[serde(default)]
    pub vars: BTreeMap<S, S>,
    /// What each variable means, for `understudy rules vars`: `name = "meaning"`.
    #[serde(default)]
    pub vars_help: BTreeMap<S, S>,
    #[serde(default)]
    pub input: Option<Input>,
    #[serde(default)]
    pub policy: Option<Policy>,
    #[serde(default)]
    pub prefix: Option<Spanned<Prefix>>,
    #[serde(default)]
    pub replace: Vec<Spanned<Replace>>,
    #[serde(default)]
    pub lookup: Vec<Spanned<Lookup>>,
    #[serde(default)]
    pub table: Vec<Spanned<Table>>,
    #[serde(default)]
    pub mask: Vec<Spanned<Mask>>,
    #[serde(default)]
    pub keep: Vec<Spanned<Keep>>,
    #[serde(default)]
    pub append_sql: Vec<Spanned<AppendSql>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct Meta {
    pub name: Option<String>,
    pub description: Option<String>,
    pub application: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Input {
    #[serde(default)]
    pub strip_sandbox_line: bool,
    #[serde(default)]
    pub strip_database_statements: bool,
    #[serde(default)]
    pub strip_definers: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Policy {
    pub unlisted: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Prefix {
    pub var: S,
    pub marker_tables: Spanned<Vec<S>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Replace {
    pub name: Option<S>,
    pub from: S,
    pub to: S,
    pub variants: Option<Spanned<Vec<S>>>,
    pub serialized: Option<S>,
    pub base64: Option<bool>,
    pub tables: Option<Vec<S>>,
    #[serde(default)]
    pub skip_tables: Vec<S>,
    pub columns: Option<Vec<S>>,
    #[serde(default)]
    pub skip_columns: Vec<S>,
    pub must_move: Option<Spanned<MustMove>>,
    pub boundaries: Option<bool>,
    pub subdomains: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MustMove {
    pub table: Spanned<Names>,
    pub column: S,
    pub when: Option<Spanned<When>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lookup {
    pub name: S,
    pub table: S,
    pub key: S,
    pub fields: Spanned<Vec<S>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Table {
    pub name: Spanned<Names>,
    pub action: Option<S>,
    pub drop_rows: Option<Spanned<When>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mask {
    pub name: Option<S>,
    pub table: Spanned<Names>,
    pub column: S,
    pub strategy: S,
    pub value: Option<S>,
    pub template: Option<S>,
    pub length: Option<Spanned<i64>>,
    pub kind: Option<S>,
    pub domain: Option<S>,
    pub range: Option<Spanned<Vec<S>>>,
    pub words: Option<Spanned<i64>>,
    pub find: Option<Spanned<Vec<S>>>,
    pub unique: Option<Spanned<bool>>,
    pub when: Option<Spanned<When>>,
    pub inside: Option<S>,
    pub path: Option<Spanned<Vec<S>>>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub path_optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Keep {
    pub table: Spanned<Names>,
    pub columns: Spanned<Vec<S>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppendSql {
    pub sql: S,
    #[serde(default)]
    pub requires: Vec<S>,
}

/// A table name or a list of them: `table = "wp_users"` or `table = ["wp_a", "wp_b"]`.
/// A single string has no span of its own here; the caller uses the field's span.
pub(crate) struct Names(pub Vec<(String, Option<std::ops::Range<usize>>)>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Names, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table name or an array of table names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Names, E> {
                Ok(Names(vec![(v.to_owned(), None)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<S>()? {
                    let span = s.span();
                    out.push((s.into_inner(), Some(span)));
                }
                Ok(Names(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// The `when` / `drop_rows` table: `column-or-lookup-ref = condition value`, ANDed.
pub(crate) struct When(pub Vec<(S, Spanned<CondValue>)>);

/// One condition value, interpreted by the compiler.
pub(crate) enum CondValue {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Spanned<CondValue>>),
    /// An inline table of operators, e.g. `{ prefix = "_transient_" }`.
    Ops(Vec<(S, Spanned<CondValue>)>),
}

impl CondValue {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            CondValue::Str(_) => "a string",
            CondValue::Int(_) => "an integer",
            CondValue::Bool(_) => "a boolean",
            CondValue::List(_) => "an array",
            CondValue::Ops(_) => "a table",
        }
    }
}

fn visit_pairs<'de, A: MapAccess<'de>>(
    mut map: A,
) -> Result<Vec<(S, Spanned<CondValue>)>, A::Error> {
    let mut out = Vec::new();
    while let Some(k) = map.next_key::<S>()? {
        let v = map.next_value::<Spanned<CondValue>>()?;
        out.push((k, v));
    }
    Ok(out)
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<When, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = When;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of conditions, e.g. { name = \"email\" }")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<When, A::Error> {
                visit_pairs(map).map(When)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for CondValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CondValue, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CondValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an integer, an array or an inline table of operators")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CondValue, E> {
                Ok(CondValue::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<CondValue, E> {
                Ok(CondValue::Str(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CondValue, E> {
                Ok(CondValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CondValue, E> {
                i64::try_from(v)
                    .map(CondValue::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CondValue, E> {
                Ok(CondValue::Bool(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CondValue, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Spanned<CondValue>>()? {
                    out.push(v);
                }
                Ok(CondValue::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CondValue, A::Error> {
                visit_pairs(map).map(CondValue::Ops)
            }
        }
        d.deserialize_any(V)
    }
}
