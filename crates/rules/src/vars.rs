//! `[vars]`, `${name}`, `${env:NAME}` and `--var name=value`.
//!
//! Substitution happens once, at load time, in every string value (and in `when` keys). A
//! value remembers whether it is *secret*: the variable `secret` is, anything read from the
//! environment is, and so is every string that took a secret in. Secret strings are kept
//! out of `Debug` output and error messages.
//!
//! Syntax: `${name}` and `${env:NAME}`; `$${` writes a literal `${`. Nothing else is special,
//! so bcrypt hashes (`$2y$10$…`) need no escaping. Variables may use other variables;
//! `--var` values are taken literally. An unset environment variable reads as empty; the
//! rules that need the value (a mask that needs `secret`, a replace whose `from` is empty)
//! say so themselves.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::error::{ErrorKind, RulesError};
use crate::file::S;
use crate::source::{key_segment, Source};

/// The environment as `${env:NAME}` sees it.
pub(crate) type EnvFn<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A string after substitution.
#[derive(Clone, Debug, Default)]
pub(crate) struct Text {
    pub value: String,
    pub secret: bool,
    /// Variables used, directly or through other variables, in order of first use.
    pub vars_used: Vec<String>,
}

/// How substituted text is escaped for the context it lands in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    None,
    /// Mask templates: `{` and `}` in values become `{{` and `}}`.
    Template,
    /// `regex` conditions: values match literally.
    Regex,
    /// `append_sql`: values are escaped for use inside a quoted SQL string literal, as
    /// mysqldump escapes (`\` `'` `"` NUL, newline, CR, Ctrl-Z).
    Sql,
}

fn sql_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Clone, Debug)]
pub(crate) struct Var {
    pub value: String,
    pub secret: bool,
    /// Environment variables this value read that were not set.
    pub unset_env: Vec<String>,
}

pub(crate) struct Vars {
    map: HashMap<String, Var>,
    declared: Vec<String>,
}

fn valid_var_name(n: &str) -> bool {
    let mut b = n.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn valid_env_name(n: &str) -> bool {
    !n.is_empty() && !n.contains(['=', '\0'])
}

/// Offset of the string's content inside the file, when the literal is written without
/// escapes (so positions inside it are exact); otherwise the start of the literal.
fn content_start(src: &Source<'_>, span: &Range<usize>, value: &str) -> Option<usize> {
    let raw = src.text.get(span.clone())?;
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(inner) = raw.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            if inner == value {
                return Some(span.start + q.len());
            }
            // A multi-line string may start with a newline the value does not contain.
            if q.len() == 3 {
                for nl in ["\r\n", "\n"] {
                    if inner.strip_prefix(nl) == Some(value) {
                        return Some(span.start + q.len() + nl.len());
                    }
                }
            }
        }
    }
    None
}

impl Vars {
    /// Resolves `[vars]` with `overrides` applied and `${…}` expanded.
    pub(crate) fn resolve(
        src: &Source<'_>,
        file_vars: &BTreeMap<S, S>,
        overrides: &[(String, String)],
        env: EnvFn<'_>,
    ) -> Result<Vars, RulesError> {
        let mut declared = Vec::new();
        let mut raw: HashMap<&str, &S> = HashMap::new();
        for (k, v) in file_vars {
            if !valid_var_name(k.get_ref()) {
                return Err(src.err(
                    k.span(),
                    format!("vars.{}", key_segment(k.get_ref())),
                    ErrorKind::BadVariable,
                    "a variable name is letters, digits and `_`, not starting with a digit",
                ));
            }
            declared.push(k.get_ref().clone());
            raw.insert(k.get_ref().as_str(), v);
        }
        let mut map = HashMap::new();
        for (name, value) in overrides {
            if !raw.contains_key(name.as_str()) {
                return Err(RulesError::new(
                    src.origin,
                    None,
                    format!("--var {name}"),
                    ErrorKind::UnknownVariable,
                    format!(
                        "unknown variable `{name}`; [vars] declares: {}",
                        list_or_none(&declared)
                    ),
                ));
            }
            map.insert(
                name.clone(),
                Var {
                    value: value.clone(),
                    secret: name == "secret",
                    unset_env: Vec::new(),
                },
            );
        }
        let mut vars = Vars { map, declared };
        let mut resolver = Resolver {
            src,
            raw: &raw,
            env,
            visiting: Vec::new(),
        };
        for name in vars.declared.clone() {
            resolver.resolve(&mut vars, &name)?;
        }
        Ok(vars)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Var> {
        self.map.get(name)
    }

    /// The values of secret variables (`secret`, and those that read the environment).
    pub(crate) fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.map
            .values()
            .filter(|v| v.secret)
            .map(|v| v.value.as_str())
    }

    /// Expands `${…}` in `s`; `key` names it in errors.
    pub(crate) fn subst(
        &self,
        src: &Source<'_>,
        s: &S,
        key: &str,
        esc: Escape,
        env: EnvFn<'_>,
    ) -> Result<Text, RulesError> {
        let mut lookup = |name: &str, at: Range<usize>| {
            self.map.get(name).cloned().ok_or_else(|| {
                src.err(
                    at,
                    key,
                    ErrorKind::UnknownVariable,
                    format!(
                        "unknown variable `{name}`; [vars] declares: {}",
                        list_or_none(&self.declared)
                    ),
                )
            })
        };
        expand(src, s, key, esc, &mut lookup, env)
    }
}

/// A variable a rule file declares, as `understudy rules vars` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarDoc {
    /// Its name, as `--var NAME=VALUE` takes it.
    pub name: String,
    /// Its value in `[vars]` as written, before `${…}` is expanded (so
    /// `${env:UNDERSTUDY_SECRET}` shows where the value comes from). A `secret` written out
    /// in the file is not shown.
    pub default: String,
    /// Its line in `[vars_help]`, if any.
    pub help: Option<String>,
}

/// The variables of `[vars]` in file order, with their `[vars_help]` lines. Every
/// `[vars_help]` key must name a declared variable: a help line for a misspelt name would
/// describe nothing.
pub(crate) fn documented(
    src: &Source<'_>,
    file_vars: &BTreeMap<S, S>,
    help: &BTreeMap<S, S>,
) -> Result<Vec<VarDoc>, RulesError> {
    for k in help.keys() {
        if !file_vars.contains_key(k.get_ref().as_str()) {
            let declared: Vec<String> = file_vars.keys().map(|k| k.get_ref().clone()).collect();
            return Err(src.err(
                k.span(),
                format!("vars_help.{}", key_segment(k.get_ref())),
                ErrorKind::UnknownVariable,
                format!(
                    "help for unknown variable `{}`; [vars] declares: {}",
                    k.get_ref(),
                    list_or_none(&declared)
                ),
            ));
        }
    }
    let mut vars: Vec<(&S, &S)> = file_vars.iter().collect();
    // The map is sorted by name; the file's order is the author's (URLs, then paths, …).
    vars.sort_by_key(|(k, _)| k.span().start);
    Ok(vars
        .into_iter()
        .map(|(k, v)| {
            let name = k.get_ref().clone();
            let default = if name == "secret" && !v.get_ref().trim_start().starts_with("${") {
                "(written in the file; not shown)".to_owned()
            } else {
                v.get_ref().clone()
            };
            VarDoc {
                help: help.get(name.as_str()).map(|h| h.get_ref().clone()),
                name,
                default,
            }
        })
        .collect())
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

struct Resolver<'a, 'b> {
    src: &'a Source<'b>,
    raw: &'a HashMap<&'a str, &'a S>,
    env: EnvFn<'a>,
    visiting: Vec<String>,
}

impl Resolver<'_, '_> {
    fn resolve(&mut self, vars: &mut Vars, name: &str) -> Result<(), RulesError> {
        if vars.map.contains_key(name) {
            return Ok(());
        }
        let raw = self.raw[name];
        let key = format!("vars.{}", key_segment(name));
        if self.visiting.iter().any(|v| v == name) {
            let mut cycle = self.visiting.clone();
            cycle.push(name.to_owned());
            return Err(self.src.err(
                raw.span(),
                key,
                ErrorKind::BadVariable,
                format!(
                    "variables refer to each other in a cycle: {}",
                    cycle.join(" -> ")
                ),
            ));
        }
        self.visiting.push(name.to_owned());
        let mut unset_env = Vec::new();
        let env = self.env;
        let text = {
            let src = self.src;
            let raw_map = self.raw;
            let declared = vars.declared.clone();
            let mut lookup = |n: &str, at: Range<usize>| -> Result<Var, RulesError> {
                if !raw_map.contains_key(n) {
                    return Err(src.err(
                        at,
                        key.as_str(),
                        ErrorKind::UnknownVariable,
                        format!(
                            "unknown variable `{n}`; [vars] declares: {}",
                            list_or_none(&declared)
                        ),
                    ));
                }
                self.resolve(vars, n)?;
                Ok(vars.map[n].clone())
            };
            expand(src, raw, &key, Escape::None, &mut lookup, &mut |e: &str| {
                let v = env(e);
                if v.is_none() {
                    unset_env.push(e.to_owned());
                }
                v
            })?
        };
        self.visiting.pop();
        let mut var = Var {
            value: text.value,
            secret: text.secret || name == "secret",
            unset_env,
        };
        // Collect what the used variables read from the environment as well.
        for used in &text.vars_used {
            if let Some(u) = vars.map.get(used) {
                var.unset_env.extend(u.unset_env.iter().cloned());
            }
        }
        vars.map.insert(name.to_owned(), var);
        Ok(())
    }
}

/// Looks up a variable by name; the range is where the reference is, for errors.
type VarFn<'a> = dyn FnMut(&str, Range<usize>) -> Result<Var, RulesError> + 'a;

/// The substitution parser shared by [vars] resolution and value substitution.
fn expand(
    src: &Source<'_>,
    s: &S,
    key: &str,
    esc: Escape,
    var: &mut VarFn<'_>,
    mut env: impl FnMut(&str) -> Option<String>,
) -> Result<Text, RulesError> {
    let value = s.get_ref();
    let span = s.span();
    let base = content_start(src, &span, value);
    let at = |i: usize, len: usize| match base {
        Some(b) => b + i..b + i + len,
        None => span.clone(),
    };
    let mut out = Text::default();
    let mut rest = value.as_str();
    let mut i = 0;
    while let Some(d) = rest.find('$') {
        out.value.push_str(&rest[..d]);
        i += d;
        rest = &rest[d..];
        if rest.starts_with("$${") {
            out.value.push_str("${");
            rest = &rest[3..];
            i += 3;
            continue;
        }
        if !rest.starts_with("${") {
            out.value.push('$');
            rest = &rest[1..];
            i += 1;
            continue;
        }
        let Some(close) = rest.find('}') else {
            return Err(src.err(
                at(i, 2),
                key,
                ErrorKind::BadVariable,
                "`${` without a closing `}` (write `$${` for a literal `${`)",
            ));
        };
        let inner = &rest[2..close];
        let piece = if let Some(name) = inner.strip_prefix("env:") {
            if !valid_env_name(name) {
                return Err(src.err(
                    at(i, close + 1),
                    key,
                    ErrorKind::BadVariable,
                    "`${env:…}` needs an environment variable name",
                ));
            }
            out.secret = true;
            env(name).unwrap_or_default()
        } else {
            if !valid_var_name(inner) {
                return Err(src.err(
                    at(i, close + 1),
                    key,
                    ErrorKind::BadVariable,
                    format!(
                        "`${{{inner}}}` is not a variable reference: a name is letters, digits and `_`"
                    ),
                ));
            }
            let v = var(inner, at(i, close + 1))?;
            out.secret |= v.secret;
            if !out.vars_used.iter().any(|u| u == inner) {
                out.vars_used.push(inner.to_owned());
            }
            v.value
        };
        match esc {
            Escape::None => out.value.push_str(&piece),
            Escape::Template => out
                .value
                .push_str(&piece.replace('{', "{{").replace('}', "}}")),
            Escape::Regex => out.value.push_str(&regex::escape(&piece)),
            Escape::Sql => out.value.push_str(&sql_escape(&piece)),
        }
        rest = &rest[close + 1..];
        i += close + 1;
    }
    out.value.push_str(rest);
    Ok(out)
}
