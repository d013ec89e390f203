//! From the TOML shape to [`CompiledRules`]: substitution, validation, compilation.
//!
//! Everything that can be wrong with a rule file is found here, before the first byte of
//! output: unknown names, bad globs and regexes, unknown variables and lookups, lookups
//! that would still be empty when used, masks that need a secret that was not given.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use crate::condition;
use crate::error::{ErrorKind, RulesError};
use crate::file::{self, Names, S};
use crate::glob::Glob;
use crate::lookup::{Lookup, LookupId};
use crate::mask::{self, Fake, FakeKind, Fixed, Inside, Key, Mask, PathSegment, Strategy};
use crate::model::{
    Action, CompiledRules, InputOptions, KeepRule, PrefixCheck, Redactor, Sql, TableRule, TableSet,
    Unlisted,
};
use crate::replace::{
    self, ColumnPattern, DropReason, DroppedReplace, Filter, MustMove, Replacement, SerializedMode,
    Variants,
};
use crate::scrub::{Finds, Scrub};
use crate::source::Source;
use crate::template::Template;
use crate::vars::{EnvFn, Escape, Text, VarDoc, Vars};

/// Compile-time context: the source for positions, the variables, the environment.
pub(crate) struct Ctx<'a> {
    pub src: Source<'a>,
    pub vars: Vars,
    pub env: EnvFn<'a>,
}

impl Ctx<'_> {
    pub(crate) fn subst(&self, s: &S, key: &str, esc: Escape) -> Result<Text, RulesError> {
        self.vars.subst(&self.src, s, key, esc, self.env)
    }

    fn err(
        &self,
        span: Range<usize>,
        key: impl Into<Box<str>>,
        kind: ErrorKind,
        msg: impl Into<String>,
    ) -> RulesError {
        self.src.err(span, key, kind, msg)
    }
}

/// The variables a rule file declares and what they mean, without compiling the rules (no
/// variable needs a value for this).
pub(crate) fn documented_vars(origin: &str, text: &str) -> Result<Vec<VarDoc>, RulesError> {
    let src = Source { origin, text };
    let f: file::File = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    crate::vars::documented(&src, &f.vars, &f.vars_help)
}

pub(crate) fn compile(
    origin: &str,
    text: &str,
    overrides: &[(String, String)],
    env: EnvFn<'_>,
) -> Result<CompiledRules, RulesError> {
    // Every value read from the environment, and every secret variable, is kept out of
    // messages and Debug output.
    let secrets = RefCell::new(Vec::new());
    let recording = |name: &str| {
        let v = env(name);
        if let Some(v) = &v {
            secrets.borrow_mut().push(v.clone());
        }
        v
    };
    let result = compile_inner(origin, text, overrides, &recording, &secrets);
    let redactor = Redactor::new(secrets.into_inner());
    match result {
        Ok(mut rules) => {
            rules.redactor = redactor;
            Ok(rules)
        }
        Err(e) => Err(e.redacted(&redactor)),
    }
}

fn compile_inner(
    origin: &str,
    text: &str,
    overrides: &[(String, String)],
    env: EnvFn<'_>,
    secrets: &RefCell<Vec<String>>,
) -> Result<CompiledRules, RulesError> {
    let src = Source { origin, text };
    let f: file::File = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    let vars = Vars::resolve(&src, &f.vars, overrides, env)?;
    crate::vars::documented(&src, &f.vars, &f.vars_help)?;
    secrets
        .borrow_mut()
        .extend(vars.secret_values().map(str::to_owned));
    let ctx = Ctx { src, vars, env };

    let input = f
        .input
        .as_ref()
        .map_or_else(InputOptions::default, |i| InputOptions {
            strip_sandbox_line: i.strip_sandbox_line,
            strip_database_statements: i.strip_database_statements,
            strip_definers: i.strip_definers,
        });

    let prefix = match &f.prefix {
        None => None,
        Some(p) => {
            let p = p.get_ref();
            let Some(v) = ctx.vars.get(p.var.get_ref()) else {
                return Err(ctx.err(
                    p.var.span(),
                    "prefix.var",
                    ErrorKind::UnknownVariable,
                    format!("unknown variable `{}`", p.var.get_ref()),
                ));
            };
            let mut markers = Vec::new();
            for (i, m) in p.marker_tables.get_ref().iter().enumerate() {
                let m = ctx.subst(m, &format!("prefix.marker_tables[{i}]"), Escape::None)?;
                if m.value.is_empty() {
                    return Err(ctx.err(
                        p.marker_tables.span(),
                        "prefix.marker_tables",
                        ErrorKind::Invalid,
                        "a marker table is empty",
                    ));
                }
                markers.push(m.value);
            }
            Some(PrefixCheck {
                var: p.var.get_ref().clone(),
                value: v.value.clone(),
                markers,
            })
        }
    };

    let unlisted = match f.policy.as_ref().and_then(|p| p.unlisted.as_ref()) {
        None => Unlisted::Keep,
        Some(u) => match ctx
            .subst(u, "policy.unlisted", Escape::None)?
            .value
            .as_str()
        {
            "keep" => Unlisted::Keep,
            "fail" => Unlisted::Fail,
            other => {
                return Err(ctx.err(
                    u.span(),
                    "policy.unlisted",
                    ErrorKind::UnknownName,
                    format!("unknown policy {other:?}, expected one of \"keep\", \"fail\""),
                ))
            }
        },
    };

    let lookups = compile_lookups(&ctx, &f.lookup)?;
    if let Some(v) = ctx.vars.get("secret") {
        let len = v.value.len();
        if len > 0 && len < crate::MIN_SECRET_LEN {
            return Err(RulesError::new(
                origin,
                None,
                "vars.secret",
                ErrorKind::WeakSecret,
                format!(
                    "the masking secret has {len} bytes; it needs at least {}: a short key lets \
                     anyone who sees the copy try every key and undo hashes and fakes \
                     (e.g. `openssl rand -hex 32 > secret; chmod 600 secret`)",
                    crate::MIN_SECRET_LEN
                ),
            ));
        }
    }
    let key = secret_key(&ctx);

    let mut tables = Vec::new();
    for (i, t) in f.table.iter().enumerate() {
        tables.push(compile_table(&ctx, i, t, &lookups)?);
    }

    let mut masks = Vec::new();
    for (i, m) in f.mask.iter().enumerate() {
        masks.push(compile_mask(&ctx, i, m, &lookups, key.as_ref())?);
    }

    let mut keeps = Vec::new();
    for (i, k) in f.keep.iter().enumerate() {
        let base = format!("keep[{i}]");
        let tables = table_set(&ctx, &k.get_ref().table, &format!("{base}.table"))?;
        let mut columns = Vec::new();
        for c in k.get_ref().columns.get_ref() {
            let ckey = format!("{base}.columns");
            let t = ctx.subst(c, &ckey, Escape::None)?;
            columns.push(
                Glob::new(&t.value, t.secret)
                    .map_err(|m| ctx.err(c.span(), ckey.as_str(), ErrorKind::BadGlob, m))?,
            );
        }
        if columns.is_empty() {
            return Err(ctx.err(
                k.get_ref().columns.span(),
                format!("{base}.columns"),
                ErrorKind::Invalid,
                "an empty list keeps nothing; write [\"*\"] for all columns",
            ));
        }
        keeps.push(KeepRule { tables, columns });
    }

    let mut replacements = Vec::new();
    let mut dropped = Vec::new();
    for (i, r) in f.replace.iter().enumerate() {
        match compile_replace(&ctx, i, r, &lookups)? {
            Ok(rep) => replacements.push(rep),
            Err(d) => dropped.push(d),
        }
    }

    let mut append_sql = Vec::new();
    'sql: for (i, a) in f.append_sql.iter().enumerate() {
        let base = format!("append_sql[{i}]");
        for r in &a.get_ref().requires {
            let rkey = format!("{base}.requires");
            let Some(v) = ctx.vars.get(r.get_ref()) else {
                return Err(ctx.err(
                    r.span(),
                    rkey,
                    ErrorKind::UnknownVariable,
                    format!("unknown variable `{}`", r.get_ref()),
                ));
            };
            if v.value.is_empty() {
                continue 'sql;
            }
        }
        let t = ctx.subst(&a.get_ref().sql, &format!("{base}.sql"), Escape::Sql)?;
        if t.value.trim().is_empty() {
            continue;
        }
        append_sql.push(Sql {
            text: t.value,
            secret: t.secret,
        });
    }

    Ok(CompiledRules {
        origin: origin.into(),
        replacements,
        dropped,
        lookups,
        tables,
        masks,
        keeps,
        input,
        unlisted,
        prefix,
        append_sql,
        has_secret: key.is_some(),
        redactor: Redactor::default(),
    })
}

/// The masking key, if the `secret` variable is non-empty.
fn secret_key(ctx: &Ctx<'_>) -> Option<Arc<Key>> {
    let v = ctx.vars.get("secret")?;
    if v.value.is_empty() {
        return None;
    }
    Some(Arc::new(Key::new(v.value.as_bytes())))
}

/// The message for a mask that needs the secret when there is none.
fn missing_secret(ctx: &Ctx<'_>, what: &str) -> String {
    match ctx.vars.get("secret") {
        None => format!(
            "{what} needs the masking secret, but [vars] declares no `secret`; add secret = \"${{env:UNDERSTUDY_SECRET}}\" to [vars]"
        ),
        Some(v) if !v.unset_env.is_empty() => format!(
            "{what} needs the masking secret, but `secret` is empty: environment variable {} is not set (set it, or give the secret in a file with --secret-file FILE)",
            v.unset_env.join(", ")
        ),
        Some(_) => format!(
            "{what} needs the masking secret, but `secret` is empty (set UNDERSTUDY_SECRET, or pass --secret-file FILE)"
        ),
    }
}

fn compile_lookups(ctx: &Ctx<'_>, ls: &[Spanned<file::Lookup>]) -> Result<Vec<Lookup>, RulesError> {
    let mut out: Vec<Lookup> = Vec::new();
    for (i, l) in ls.iter().enumerate() {
        let base = format!("lookup[{i}]");
        let l = l.get_ref();
        let name = ctx
            .subst(&l.name, &format!("{base}.name"), Escape::None)?
            .value;
        if name.is_empty() || name.contains(['[', ']', '.']) {
            return Err(ctx.err(
                l.name.span(),
                format!("{base}.name"),
                ErrorKind::Invalid,
                "a lookup name is non-empty and has no `[`, `]` or `.`",
            ));
        }
        if out.iter().any(|o| *o.name == *name) {
            return Err(ctx.err(
                l.name.span(),
                format!("{base}.name"),
                ErrorKind::Invalid,
                format!("lookup `{name}` is declared twice"),
            ));
        }
        let table = ctx.subst(&l.table, &format!("{base}.table"), Escape::None)?;
        let g = Glob::new(&table.value, table.secret).map_err(|m| {
            ctx.err(
                l.table.span(),
                format!("{base}.table"),
                ErrorKind::BadGlob,
                m,
            )
        })?;
        if !g.is_literal() || table.value.is_empty() {
            return Err(ctx.err(
                l.table.span(),
                format!("{base}.table"),
                ErrorKind::Invalid,
                "a lookup reads one table: give its exact name, not a glob",
            ));
        }
        let key = ctx
            .subst(&l.key, &format!("{base}.key"), Escape::None)?
            .value;
        let mut fields = Vec::new();
        for f in l.fields.get_ref() {
            fields.push(ctx.subst(f, &format!("{base}.fields"), Escape::None)?.value);
        }
        if fields.is_empty() {
            return Err(ctx.err(
                l.fields.span(),
                format!("{base}.fields"),
                ErrorKind::Invalid,
                "a lookup needs at least one field",
            ));
        }
        out.push(Lookup {
            name: name.into(),
            table: table.value.into(),
            key: key.into(),
            fields: fields.into(),
        });
    }
    Ok(out)
}

fn table_set(ctx: &Ctx<'_>, names: &Spanned<Names>, key: &str) -> Result<TableSet, RulesError> {
    let mut out = Vec::new();
    for (name, span) in &names.get_ref().0 {
        let span = span.clone().unwrap_or_else(|| names.span());
        let t = ctx.subst(&Spanned::new(span.clone(), name.clone()), key, Escape::None)?;
        if t.value.is_empty() {
            return Err(ctx.err(span, key, ErrorKind::Invalid, "empty table name"));
        }
        out.push(
            Glob::new(&t.value, t.secret).map_err(|m| ctx.err(span, key, ErrorKind::BadGlob, m))?,
        );
    }
    if out.is_empty() {
        return Err(ctx.err(names.span(), key, ErrorKind::Invalid, "no table named"));
    }
    Ok(TableSet(out))
}

/// Checks that every table of `users` is dumped after the lookup's table (mysqldump order:
/// byte order of table names).
pub(crate) fn check_lookup_order(lookup: &Lookup, users: &TableSet) -> Result<(), String> {
    let src = lookup.table().as_bytes();
    for g in &users.0 {
        let prefix = g.literal_prefix();
        if src < prefix.as_slice() {
            continue;
        }
        let shown = if g.is_secret() {
            "<redacted>"
        } else {
            g.as_str()
        };
        let why = "mysqldump writes tables in byte order of their names, so the lookup would still be empty";
        return Err(if g.is_literal() && src == prefix.as_slice() {
            format!(
                "lookup `{}` reads table `{}`, the same table this rule is for; {why}",
                lookup.name(),
                lookup.table()
            )
        } else if g.is_literal() {
            format!(
                "lookup `{}` reads table `{}`, which is dumped after `{shown}`, the table this rule is for ({why})",
                lookup.name(),
                lookup.table()
            )
        } else {
            format!(
                "lookup `{}` reads table `{}`, which is not dumped before every table matching `{shown}` ({why})",
                lookup.name(),
                lookup.table()
            )
        });
    }
    Ok(())
}

fn compile_condition(
    ctx: &Ctx<'_>,
    when: &Spanned<file::When>,
    key: &str,
    lookups: &[Lookup],
    users: &TableSet,
) -> Result<condition::Condition, RulesError> {
    condition::compile(ctx, when.get_ref(), key, lookups, users)
}

fn compile_table(
    ctx: &Ctx<'_>,
    i: usize,
    t: &Spanned<file::Table>,
    lookups: &[Lookup],
) -> Result<TableRule, RulesError> {
    let base = format!("table[{i}]");
    let t = t.get_ref();
    let names = table_set(ctx, &t.name, &format!("{base}.name"))?;
    let action = match &t.action {
        None => Action::Keep,
        Some(a) => match ctx
            .subst(a, &format!("{base}.action"), Escape::None)?
            .value
            .as_str()
        {
            "keep" => Action::Keep,
            "drop_data" => Action::DropData,
            "skip" => Action::Skip,
            other => {
                return Err(ctx.err(
                    a.span(),
                    format!("{base}.action"),
                    ErrorKind::UnknownName,
                    format!(
                    "unknown action {other:?}, expected one of \"keep\", \"drop_data\", \"skip\""
                ),
                ))
            }
        },
    };
    let drop_rows = match &t.drop_rows {
        None => None,
        Some(w) => {
            if action != Action::Keep {
                return Err(ctx.err(
                    w.span(),
                    format!("{base}.drop_rows"),
                    ErrorKind::Invalid,
                    "`drop_rows` only makes sense with action = \"keep\": this table has no rows to choose from",
                ));
            }
            Some(compile_condition(
                ctx,
                w,
                &format!("{base}.drop_rows"),
                lookups,
                &names,
            )?)
        }
    };
    Ok(TableRule {
        names,
        action,
        drop_rows,
    })
}

const STRATEGIES: &str = "null, fixed, template, hash, fake, redact, scrub";

/// `domain` of fake e-mail addresses and URLs.
fn fake_domain(ctx: &Ctx<'_>, m: &file::Mask, key: &str) -> Result<String, RulesError> {
    match &m.domain {
        None => Ok("example.invalid".to_owned()),
        Some(d) => {
            let v = ctx.subst(d, key, Escape::None)?.value;
            if v.is_empty() || v.contains(['@', '/', ' ']) {
                return Err(ctx.err(
                    d.span(),
                    key,
                    ErrorKind::Invalid,
                    "`domain` is a host name such as example.invalid",
                ));
            }
            Ok(v)
        }
    }
}

fn compile_mask(
    ctx: &Ctx<'_>,
    i: usize,
    m: &Spanned<file::Mask>,
    lookups: &[Lookup],
    key: Option<&Arc<Key>>,
) -> Result<Mask, RulesError> {
    let base = format!("mask[{i}]");
    let k = |s: &str| format!("{base}.{s}");
    let m = m.get_ref();
    let tables = table_set(ctx, &m.table, &k("table"))?;
    let column = ctx.subst(&m.column, &k("column"), Escape::None)?;
    if column.value.is_empty() {
        return Err(ctx.err(
            m.column.span(),
            k("column"),
            ErrorKind::Invalid,
            "empty column name",
        ));
    }
    // The report counts what a mask did under its `name` (under `mask[N]` without one);
    // messages give both, and the table and column.
    let name = match &m.name {
        None => None,
        Some(n) => {
            let t = ctx.subst(n, &k("name"), Escape::None)?;
            if t.value.trim().is_empty() {
                return Err(ctx.err(n.span(), k("name"), ErrorKind::Invalid, "empty name"));
            }
            // A name made of a secret would show it in the report.
            (!t.secret).then_some(t.value)
        }
    };
    let named = match &name {
        Some(n) => format!("{base} {n:?}"),
        None => base.clone(),
    };
    let label = {
        let secret = column.secret || tables.0.iter().any(|g| g.is_secret());
        if secret {
            format!("{named} (<redacted>)")
        } else if tables.0.len() == 1 {
            format!("{named} ({}.{})", tables.0[0].as_str(), column.value)
        } else {
            let names: Vec<&str> = tables.0.iter().map(|g| g.as_str()).collect();
            format!("{named} ([{}].{})", names.join(", "), column.value)
        }
    };

    let sname = ctx.subst(&m.strategy, &k("strategy"), Escape::None)?.value;
    // Which optional keys each strategy takes.
    let allowed: &[&str] = match sname.as_str() {
        "null" | "redact" => &[],
        "fixed" => &["value"],
        "template" => &["template"],
        "hash" => &["length"],
        "fake" => &["kind", "domain", "range", "words"],
        "scrub" => &["find", "domain"],
        other => {
            return Err(ctx.err(
                m.strategy.span(),
                k("strategy"),
                ErrorKind::UnknownName,
                format!("unknown strategy {other:?}, expected one of {STRATEGIES}"),
            ))
        }
    };
    let present: [(&str, Option<Range<usize>>); 6] = [
        ("value", m.value.as_ref().map(|v| v.span())),
        ("template", m.template.as_ref().map(|v| v.span())),
        ("length", m.length.as_ref().map(|v| v.span())),
        ("kind", m.kind.as_ref().map(|v| v.span())),
        ("domain", m.domain.as_ref().map(|v| v.span())),
        ("range", m.range.as_ref().map(|v| v.span())),
    ];
    let words_span = m.words.as_ref().map(|v| v.span());
    let find_span = m.find.as_ref().map(|v| v.span());
    for (name, span) in present
        .into_iter()
        .chain([("words", words_span.clone()), ("find", find_span)])
    {
        if let Some(span) = span {
            if !allowed.contains(&name) {
                return Err(ctx.err(
                    span,
                    k(name),
                    ErrorKind::Invalid,
                    format!("`{name}` does not apply to strategy \"{sname}\""),
                ));
            }
        }
    }
    let need = |what: &str| {
        ctx.err(
            m.strategy.span(),
            k("strategy"),
            ErrorKind::Invalid,
            format!("strategy \"{sname}\" needs `{what}`"),
        )
    };

    let strategy = match sname.as_str() {
        "null" => Strategy::Null,
        "redact" => Strategy::Redact,
        "fixed" => {
            let v = m.value.as_ref().ok_or_else(|| need("value"))?;
            let t = ctx.subst(v, &k("value"), Escape::None)?;
            Strategy::Fixed(Fixed {
                bytes: t.value.into_bytes().into(),
                secret: t.secret,
            })
        }
        "template" => {
            let v = m.template.as_ref().ok_or_else(|| need("template"))?;
            let t = ctx.subst(v, &k("template"), Escape::Template)?;
            let tpl = Template::parse(&t.value, t.secret, lookups)
                .map_err(|msg| ctx.err(v.span(), k("template"), ErrorKind::BadTemplate, msg))?;
            if tpl.columns().any(|c| c == column.value) {
                return Err(ctx.err(
                    v.span(),
                    k("template"),
                    ErrorKind::BadTemplate,
                    format!(
                        "the template uses `{}`, the column it masks, which would copy the unmasked value",
                        column.value
                    ),
                ));
            }
            for LookupId(li) in tpl.lookups() {
                check_lookup_order(&lookups[li], &tables)
                    .map_err(|msg| ctx.err(v.span(), k("template"), ErrorKind::LookupOrder, msg))?;
            }
            if tpl.uses_hash() && key.is_none() {
                return Err(ctx.err(
                    v.span(),
                    k("template"),
                    ErrorKind::MissingSecret,
                    missing_secret(ctx, "`{hash(N)}`"),
                ));
            }
            Strategy::Template(tpl)
        }
        "hash" => {
            let len = match &m.length {
                None => 64,
                Some(l) => {
                    let n = *l.get_ref();
                    if !(1..=64).contains(&n) {
                        return Err(ctx.err(
                            l.span(),
                            k("length"),
                            ErrorKind::Invalid,
                            "`length` of a hash is 1 to 64 hex digits",
                        ));
                    }
                    n as usize
                }
            };
            Strategy::Hash { len }
        }
        "fake" => {
            let kv = m.kind.as_ref().ok_or_else(|| need("kind"))?;
            let kname = ctx.subst(kv, &k("kind"), Escape::None)?.value;
            let kind = FakeKind::parse(&kname).ok_or_else(|| {
                ctx.err(
                    kv.span(),
                    k("kind"),
                    ErrorKind::UnknownName,
                    format!(
                        "unknown fake kind {kname:?}, expected one of {}",
                        mask::FAKE_KINDS
                    ),
                )
            })?;
            let only =
                |name: &str, span: Option<Range<usize>>, kinds: &[FakeKind], what: &str| match span
                {
                    Some(span) if !kinds.contains(&kind) => Err(ctx.err(
                        span,
                        k(name),
                        ErrorKind::Invalid,
                        format!("`{name}` only applies to kind {what}"),
                    )),
                    _ => Ok(()),
                };
            only(
                "domain",
                m.domain.as_ref().map(|d| d.span()),
                &[FakeKind::Email, FakeKind::Url],
                "\"email\" or \"url\"",
            )?;
            only(
                "range",
                m.range.as_ref().map(|d| d.span()),
                &[FakeKind::Date],
                "\"date\"",
            )?;
            only("words", words_span.clone(), &[FakeKind::Lorem], "\"lorem\"")?;
            let domain = fake_domain(ctx, m, &k("domain"))?;
            let range = match &m.range {
                None => (
                    mask::days_from_civil("1940-01-01").expect("valid"),
                    mask::days_from_civil("2005-12-31").expect("valid"),
                ),
                Some(r) => {
                    let items = r.get_ref();
                    let bad = || {
                        ctx.err(
                            r.span(),
                            k("range"),
                            ErrorKind::Invalid,
                            "`range` is two dates [\"YYYY-MM-DD\", \"YYYY-MM-DD\"], the first not after the second",
                        )
                    };
                    if items.len() != 2 {
                        return Err(bad());
                    }
                    let a = ctx.subst(&items[0], &k("range"), Escape::None)?.value;
                    let b = ctx.subst(&items[1], &k("range"), Escape::None)?.value;
                    let (Some(a), Some(b)) = (mask::days_from_civil(&a), mask::days_from_civil(&b))
                    else {
                        return Err(bad());
                    };
                    if a > b {
                        return Err(bad());
                    }
                    (a, b)
                }
            };
            let words = match &m.words {
                None => None,
                Some(w) => {
                    let n = *w.get_ref();
                    if !(1..=10_000).contains(&n) {
                        return Err(ctx.err(
                            w.span(),
                            k("words"),
                            ErrorKind::Invalid,
                            "`words` is 1 to 10000",
                        ));
                    }
                    Some(n as u32)
                }
            };
            Strategy::Fake(Fake {
                kind,
                domain: domain.into(),
                words,
                range,
            })
        }
        "scrub" => {
            let finds = match &m.find {
                None => Finds::ALL,
                Some(list) => {
                    let mut finds = Finds {
                        email: false,
                        ipv4: false,
                        ipv6: false,
                    };
                    for item in list.get_ref() {
                        match ctx.subst(item, &k("find"), Escape::None)?.value.as_str() {
                            "email" => finds.email = true,
                            "ipv4" => finds.ipv4 = true,
                            "ipv6" => finds.ipv6 = true,
                            other => {
                                return Err(ctx.err(
                                    item.span(),
                                    k("find"),
                                    ErrorKind::UnknownName,
                                    format!(
                                        "unknown kind {other:?}, expected one of {}",
                                        Finds::NAMES
                                    ),
                                ))
                            }
                        }
                    }
                    if finds
                        == (Finds {
                            email: false,
                            ipv4: false,
                            ipv6: false,
                        })
                    {
                        return Err(ctx.err(
                            list.span(),
                            k("find"),
                            ErrorKind::Invalid,
                            format!("`find` names at least one of {}", Finds::NAMES),
                        ));
                    }
                    finds
                }
            };
            Strategy::Scrub(Scrub {
                finds,
                email: Fake {
                    kind: FakeKind::Email,
                    domain: fake_domain(ctx, m, &k("domain"))?.into(),
                    words: None,
                    range: (0, 0),
                },
            })
        }
        _ => unreachable!("checked above"),
    };

    if strategy.needs_key() && key.is_none() {
        return Err(ctx.err(
            m.strategy.span(),
            k("strategy"),
            ErrorKind::MissingSecret,
            missing_secret(ctx, &format!("strategy \"{sname}\"")),
        ));
    }

    let unique = m.unique.as_ref().is_some_and(|u| *u.get_ref());
    if unique {
        let span = m.unique.as_ref().expect("set").span();
        let why = match &strategy {
            Strategy::Fixed(_) => Some("a fixed value is the same for every row"),
            Strategy::Redact => Some("redacted values of the same shape are equal"),
            Strategy::Scrub(_) => Some("it keeps the text around what it replaces"),
            Strategy::Fake(f) if !f.kind.can_be_unique() => {
                Some("this kind has no room for a uniqueness suffix")
            }
            Strategy::Hash { len } if *len < mask::MIN_UNIQUE_HASH => {
                Some("a unique hash needs `length` of at least 16")
            }
            Strategy::Template(t) if t.constant().is_some() => {
                Some("the template has no placeholder, so every row gets the same value")
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(ctx.err(
                span,
                k("unique"),
                ErrorKind::Invalid,
                format!(
                    "strategy \"{}\" cannot make unique values: {why}",
                    strategy.name()
                ),
            ));
        }
    }

    let inside = match &m.inside {
        None => None,
        Some(v) => Some(
            match ctx.subst(v, &k("inside"), Escape::None)?.value.as_str() {
                "serialized" => Inside::Serialized,
                "json" => Inside::Json,
                other => {
                    return Err(ctx.err(
                        v.span(),
                        k("inside"),
                        ErrorKind::UnknownName,
                        format!(
                            "unknown format {other:?}, expected one of \"serialized\", \"json\""
                        ),
                    ))
                }
            },
        ),
    };
    let mut path = Vec::new();
    if let Some(p) = &m.path {
        if inside.is_none() {
            return Err(ctx.err(
                p.span(),
                k("path"),
                ErrorKind::Invalid,
                "`path` needs `inside = \"serialized\"` or `inside = \"json\"`",
            ));
        }
        for seg in p.get_ref() {
            let s = ctx.subst(seg, &k("path"), Escape::None)?.value;
            path.push(if s == "*" {
                PathSegment::Any
            } else {
                PathSegment::Key(s)
            });
        }
    }

    let when = match &m.when {
        None => None,
        Some(w) => Some(compile_condition(ctx, w, &k("when"), lookups, &tables)?),
    };

    Ok(Mask {
        index: i,
        name: name.unwrap_or_else(|| format!("mask[{i}]")).into(),
        label: label.into(),
        tables,
        column: column.value.into(),
        when,
        key: if strategy.needs_key() {
            key.cloned()
        } else {
            None
        },
        strategy,
        unique,
        inside,
        path: path.into(),
        optional: m.optional,
        path_optional: m.path_optional,
    })
}

const VARIANTS: &str = "json_escaped, url_encoded, http_https, scheme_relative";

fn compile_replace(
    ctx: &Ctx<'_>,
    i: usize,
    r: &Spanned<file::Replace>,
    lookups: &[Lookup],
) -> Result<Result<Replacement, DroppedReplace>, RulesError> {
    let base = format!("replace[{i}]");
    let k = |s: &str| format!("{base}.{s}");
    let line = ctx.src.pos(r.span().start).0;
    let r = r.get_ref();
    let label = match &r.name {
        Some(n) => ctx.subst(n, &k("name"), Escape::None)?.value,
        None => base.clone(),
    };
    let from = ctx.subst(&r.from, &k("from"), Escape::None)?;
    let to = ctx.subst(&r.to, &k("to"), Escape::None)?;

    let mut variants = Variants {
        json_escaped: true,
        ..Variants::default()
    };
    if let Some(vs) = &r.variants {
        variants = Variants::default();
        for v in vs.get_ref() {
            match v.get_ref().as_str() {
                "json_escaped" => variants.json_escaped = true,
                "url_encoded" => variants.url_encoded = true,
                "http_https" => variants.http_https = true,
                "scheme_relative" => variants.scheme_relative = true,
                other => {
                    return Err(ctx.err(
                        v.span(),
                        k("variants"),
                        ErrorKind::UnknownName,
                        format!("unknown variant {other:?}, expected one of {VARIANTS}"),
                    ))
                }
            }
        }
    }
    let serialized = match &r.serialized {
        None => SerializedMode::Auto,
        Some(s) => match ctx.subst(s, &k("serialized"), Escape::None)?.value.as_str() {
            "auto" => SerializedMode::Auto,
            "off" => SerializedMode::Off,
            "repair" => SerializedMode::Repair,
            other => {
                return Err(ctx.err(
                    s.span(),
                    k("serialized"),
                    ErrorKind::UnknownName,
                    format!(
                        "unknown mode {other:?}, expected one of \"auto\", \"off\", \"repair\""
                    ),
                ))
            }
        },
    };

    let globs = |list: &[S], key: &str| -> Result<Vec<Glob>, RulesError> {
        let mut out = Vec::new();
        for g in list {
            let t = ctx.subst(g, key, Escape::None)?;
            out.push(
                Glob::new(&t.value, t.secret)
                    .map_err(|m| ctx.err(g.span(), key, ErrorKind::BadGlob, m))?,
            );
        }
        Ok(out)
    };
    let cols = |list: &[S], key: &str| -> Result<Vec<ColumnPattern>, RulesError> {
        let mut out = Vec::new();
        for g in list {
            let t = ctx.subst(g, key, Escape::None)?;
            out.push(
                ColumnPattern::parse(&t.value, t.secret)
                    .map_err(|m| ctx.err(g.span(), key, ErrorKind::BadGlob, m))?,
            );
        }
        Ok(out)
    };
    let filter = Filter {
        tables: globs(r.tables.as_deref().unwrap_or(&[]), &k("tables"))?,
        skip_tables: globs(&r.skip_tables, &k("skip_tables"))?,
        columns: cols(r.columns.as_deref().unwrap_or(&[]), &k("columns"))?,
        skip_columns: cols(&r.skip_columns, &k("skip_columns"))?,
    };
    if r.tables.as_ref().is_some_and(|t| t.is_empty())
        || r.columns.as_ref().is_some_and(|c| c.is_empty())
    {
        return Err(ctx.err(
            r.from.span(),
            base,
            ErrorKind::Invalid,
            "an empty `tables` or `columns` list matches nothing; leave the key out to mean all",
        ));
    }

    let must_move = match &r.must_move {
        None => None,
        Some(m) => {
            let key = k("must_move");
            let m = m.get_ref();
            let tables = table_set(ctx, &m.table, &format!("{key}.table"))?;
            let column = ctx.subst(&m.column, &format!("{key}.column"), Escape::None)?;
            let when = match &m.when {
                None => None,
                Some(w) => Some(compile_condition(
                    ctx,
                    w,
                    &format!("{key}.when"),
                    lookups,
                    &tables,
                )?),
            };
            let table_names: Vec<String> = m
                .table
                .get_ref()
                .0
                .iter()
                .map(|(n, _)| {
                    ctx.subst(&Spanned::new(0..0, n.clone()), &key, Escape::None)
                        .map_or_else(|_| n.clone(), |t| t.value)
                })
                .collect();
            Some(MustMove {
                from: trim_slash(&from.value, &to.value, r.boundaries.unwrap_or(true))
                    .0
                    .into(),
                shown: format!("{}.{}", table_names.join("/"), column.value).into(),
                tables,
                column: column.value.into(),
                when,
            })
        }
    };

    if from.value.is_empty() {
        return Ok(Err(DroppedReplace {
            index: i,
            label,
            line,
            reason: DropReason::EmptyFrom {
                vars: from.vars_used,
            },
            must_move: must_move.map(|m| m.shown.into()),
        }));
    }
    if to.value.is_empty() && !r.to.get_ref().is_empty() {
        let vars: Vec<String> = to.vars_used.iter().map(|v| format!("`{v}`")).collect();
        return Err(ctx.err(
            r.to.span(),
            k("to"),
            ErrorKind::Invalid,
            format!(
                "`to` is empty after substitution ({} not given) but `from` is not, so every match would be deleted; give {}, or write to = \"\" to delete on purpose",
                vars.join(", "),
                vars.join(", ")
            ),
        ));
    }
    let boundaries = r.boundaries.unwrap_or(true);
    let subdomains = r.subdomains.as_ref().is_some_and(|s| *s.get_ref());
    let (from_url, to_url) = trim_slash(&from.value, &to.value, boundaries);
    let pairs = if subdomains {
        // A host with its subdomains: see `replace::expand_subdomains`.
        let span = r
            .subdomains
            .as_ref()
            .map_or_else(|| r.from.span(), |s| s.span());
        let invalid = |m: &str| ctx.err(span.clone(), k("subdomains"), ErrorKind::Invalid, m);
        if !boundaries {
            return Err(invalid(
                "`subdomains` moves hosts where they end; it cannot be used with boundaries = false",
            ));
        }
        if r.variants.is_some() {
            return Err(invalid(
                "`subdomains` takes no `variants`: a host is written the same as it is, JSON-escaped and URL-encoded; move URLs with a rule of their own",
            ));
        }
        if !replace::is_host(from_url) || !replace::is_host(to_url) {
            return Err(invalid(
                "`subdomains` needs `from` and `to` to be host names (www.example.org), not URLs or paths; move URLs with a rule of their own",
            ));
        }
        replace::expand_subdomains(from_url, to_url)
    } else {
        replace::expand(from_url, to_url, variants).map_err(|m| {
            let span = r
                .variants
                .as_ref()
                .map_or_else(|| r.from.span(), |v| v.span());
            ctx.err(span, k("variants"), ErrorKind::Invalid, m)
        })?
    };
    if pairs.is_empty() {
        return Ok(Err(DroppedReplace {
            index: i,
            label,
            line,
            reason: DropReason::Unchanged,
            must_move: None,
        }));
    }
    Ok(Ok(Replacement {
        index: i,
        label: label.into(),
        pairs: pairs.into(),
        serialized,
        base64: r.base64.unwrap_or(true),
        variants,
        filter,
        secret: from.secret || to.secret,
        must_move,
        source: from_url.into(),
        boundaries,
        subdomains,
    }))
}

/// `from` and `to` without the trailing `/` of a URL, when both are URLs, or of a
/// directory, when both are absolute paths and the rule keeps to boundaries: a site URL is
/// written both ways (`https://example.org/` in Elgg's wwwroot, without in WordPress's
/// `home`), a root too (`ABSPATH` ends in `/`, a `DocumentRoot` does not), and a pair that
/// disagrees would glue or double slashes (`https://int.exampledocs`). The bare form matches
/// both spellings in the dump; for a directory only with boundaries, else `/var/www/prod`
/// would also match inside `/var/www/production`.
fn trim_slash<'a>(from: &'a str, to: &'a str, boundaries: bool) -> (&'a str, &'a str) {
    let url = |s: &str| s.contains("://") || s.starts_with("//");
    let path = |s: &str| boundaries && s.starts_with('/') && !s.starts_with("//");
    let both =
        (url(from) && (url(to) || to.is_empty())) || (path(from) && (path(to) || to.is_empty()));
    if !both {
        return (from, to);
    }
    let trim = |s: &'a str| match s.strip_suffix('/') {
        Some(t) if !t.ends_with('/') && !t.ends_with(':') && !t.is_empty() => t,
        _ => s,
    };
    (trim(from), trim(to))
}
