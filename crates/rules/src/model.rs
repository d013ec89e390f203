//! The compiled rules: what the engine asks while streaming.

use std::fmt;

use crate::condition::Condition;
use crate::glob::Glob;
use crate::lookup::{Lookup, LookupId};
use crate::mask::Mask;
use crate::replace::{DroppedReplace, Replacement};

/// One or more table globs (`table = "x"` or `table = ["x", "y"]`).
#[derive(Debug)]
pub(crate) struct TableSet(pub Vec<Glob>);

impl TableSet {
    pub(crate) fn matches(&self, table: &str) -> bool {
        self.0.iter().any(|g| g.matches(table))
    }
}

/// What happens to a table's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Copy it (the default).
    Keep,
    /// Keep `CREATE TABLE`, write no rows.
    DropData,
    /// Leave the table out entirely: no `DROP`, no `CREATE`, no rows.
    Skip,
}

/// The action for one table, from the first `[[table]]` whose `name` matches.
#[derive(Clone, Copy, Debug)]
pub struct TableAction<'a> {
    /// What happens to the table.
    pub action: Action,
    /// Rows matching this condition are left out (only with `Action::Keep`).
    pub drop_rows: Option<&'a Condition>,
}

#[derive(Debug)]
pub(crate) struct TableRule {
    pub names: TableSet,
    pub action: Action,
    pub drop_rows: Option<Condition>,
}

/// `[input]`: clean-ups of the dump that are not about data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputOptions {
    /// Drop MariaDB's first line `/*M!999999\- enable the sandbox mode */`, which older
    /// clients reject.
    pub strip_sandbox_line: bool,
    /// Drop `CREATE DATABASE …` and `USE …` (dumps made with `--databases`).
    pub strip_database_statements: bool,
    /// Remove `DEFINER=…` clauses from views, triggers and routines.
    pub strip_definers: bool,
}

/// `[policy] unlisted`: what to do with columns no rule covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unlisted {
    /// Copy them (the default).
    #[default]
    Keep,
    /// Stop the run: every column must be masked, kept with `[[keep]]`, or in a table
    /// whose data is dropped or skipped.
    Fail,
}

/// `[prefix]`: the tables that mark the application, so a dump of it under another table
/// prefix than the rules use is told apart from a dump without it. Masks are written for
/// `${prefix}users`; run on a dump whose tables are `wpx_users` they would mask nothing.
#[derive(Clone, Debug)]
pub struct PrefixCheck {
    pub(crate) var: String,
    pub(crate) value: String,
    pub(crate) markers: Vec<String>,
}

impl PrefixCheck {
    /// The variable that holds the prefix (`prefix`).
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The prefix the rules use.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The prefix `table` shows the application under, when it is a marker table under a
    /// prefix that is not the rules' own (nor an extension of it, as a multisite's
    /// `wp_2_usermeta` or a plugin's `wp_plugin_usermeta` are of `wp_`).
    pub fn foreign_prefix<'t>(&self, table: &'t str) -> Option<&'t str> {
        self.markers.iter().find_map(|m| {
            let prefix = table.strip_suffix(m.as_str())?;
            (!prefix.starts_with(self.value.as_str())).then_some(prefix)
        })
    }
}

#[derive(Debug)]
pub(crate) struct KeepRule {
    pub tables: TableSet,
    pub columns: Vec<Glob>,
}

/// A statement for the end of the dump; `Debug` hides it when it took a secret in.
pub(crate) struct Sql {
    pub text: String,
    pub secret: bool,
}

impl fmt::Debug for Sql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("<redacted>")
        } else {
            write!(f, "{:?}", self.text)
        }
    }
}

/// Replaces secret values in text meant for people: a second line of defence behind the
/// per-field redaction of `Debug`, for messages that quote a value. Values shorter than
/// four characters are left alone (they would mangle every message, and are no secret).
#[derive(Default)]
pub(crate) struct Redactor(Vec<String>);

impl Redactor {
    pub(crate) fn new(mut secrets: Vec<String>) -> Redactor {
        secrets.retain(|s| s.chars().count() >= 4);
        let escaped: Vec<String> = secrets
            .iter()
            .map(|s| s.escape_debug().to_string())
            .collect();
        secrets.extend(escaped);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor(secrets)
    }

    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.0 {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "<redacted>");
            }
        }
        out
    }
}

/// A validated rule file. Immutable, `Send + Sync`: share it with `Arc`.
///
/// Its `Debug` output never shows the secret or values read from the environment.
pub struct CompiledRules {
    pub(crate) origin: Box<str>,
    pub(crate) replacements: Vec<Replacement>,
    pub(crate) dropped: Vec<DroppedReplace>,
    pub(crate) lookups: Vec<Lookup>,
    pub(crate) tables: Vec<TableRule>,
    pub(crate) masks: Vec<Mask>,
    pub(crate) keeps: Vec<KeepRule>,
    pub(crate) input: InputOptions,
    pub(crate) unlisted: Unlisted,
    pub(crate) prefix: Option<PrefixCheck>,
    pub(crate) append_sql: Vec<Sql>,
    pub(crate) has_secret: bool,
    pub(crate) redactor: Redactor,
}

impl fmt::Debug for CompiledRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct View<'a>(&'a CompiledRules);
        impl fmt::Debug for View<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let r = self.0;
                f.debug_struct("CompiledRules")
                    .field("origin", &r.origin)
                    .field("replacements", &r.replacements)
                    .field("dropped", &r.dropped)
                    .field("lookups", &r.lookups)
                    .field("tables", &r.tables)
                    .field("masks", &r.masks)
                    .field("keeps", &r.keeps)
                    .field("input", &r.input)
                    .field("unlisted", &r.unlisted)
                    .field("prefix", &r.prefix)
                    .field("append_sql", &r.append_sql)
                    .field("has_secret", &r.has_secret)
                    .finish()
            }
        }
        let text = if f.alternate() {
            format!("{:#?}", View(self))
        } else {
            format!("{:?}", View(self))
        };
        f.write_str(&self.redactor.apply(&text))
    }
}

impl CompiledRules {
    /// The file the rules came from (or the name given to `from_str`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The `[[replace]]` rules that do something, in file order.
    pub fn replacements(&self) -> &[Replacement] {
        &self.replacements
    }

    /// The `[[replace]]` rules left out because `from` was empty (variable not given) or
    /// equal to `to`: the CLI reports them ("moved nothing").
    pub fn dropped_replacements(&self) -> &[DroppedReplace] {
        &self.dropped
    }

    /// The action for `table`: the first `[[table]]` whose `name` matches, else keep.
    pub fn table_action(&self, table: &str) -> TableAction<'_> {
        match self.tables.iter().find(|t| t.names.matches(table)) {
            Some(t) => TableAction {
                action: t.action,
                drop_rows: t.drop_rows.as_ref(),
            },
            None => TableAction {
                action: Action::Keep,
                drop_rows: None,
            },
        }
    }

    /// All masks, in file order.
    pub fn masks(&self) -> &[Mask] {
        &self.masks
    }

    /// The masks whose `table` matches, in file order. For one cell, every mask whose
    /// `when` holds is applied, each to the result of the one before. Matches globs on
    /// every call: ask once per table (at its `CREATE TABLE`) and keep the result.
    pub fn masks_for<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Mask> + 'a {
        self.masks.iter().filter(move |m| m.tables.matches(table))
    }

    /// The `[[lookup]]` definitions; a [`LookupId`] indexes this slice.
    pub fn lookups(&self) -> &[Lookup] {
        &self.lookups
    }

    /// The lookups filled from `table`'s rows.
    pub fn lookups_fed_by<'a>(&'a self, table: &'a str) -> impl Iterator<Item = LookupId> + 'a {
        self.lookups
            .iter()
            .enumerate()
            .filter(move |(_, l)| l.table() == table)
            .map(|(i, _)| LookupId(i))
    }

    /// `[input]` options.
    pub fn input(&self) -> InputOptions {
        self.input
    }

    /// `[policy] unlisted`.
    pub fn unlisted(&self) -> Unlisted {
        self.unlisted
    }

    /// `[prefix]`: how to tell the application's tables under another table prefix.
    pub fn prefix_check(&self) -> Option<&PrefixCheck> {
        self.prefix.as_ref()
    }

    /// `[[append_sql]]` statements for the end of the dump, variables substituted, in file
    /// order (entries whose `requires` variables are empty are left out).
    pub fn append_sql(&self) -> impl Iterator<Item = &str> + '_ {
        self.append_sql.iter().map(|s| s.text.as_str())
    }

    /// Whether a masking key (the `secret` variable) was given.
    pub fn has_secret(&self) -> bool {
        self.has_secret
    }

    /// Whether `table.column` is covered: masked by some `[[mask]]` (with or without
    /// `when`), listed in a `[[keep]]`, or in a table whose data is dropped or skipped.
    /// Independent of `[policy]`; the engine stops on uncovered columns when
    /// [`unlisted`](Self::unlisted) is `Fail`.
    pub fn is_covered(&self, table: &str, column: &str) -> bool {
        self.uncovered(table, [column]).is_empty()
    }

    /// The columns among `columns` of `table` that are not covered (see
    /// [`is_covered`](Self::is_covered)), in their order. The table's rules are found once, not once per column:
    /// a multisite dump has thousands of tables, and matching every rule's table glob for
    /// every column was a quarter of a masked rewrite of one.
    pub fn uncovered<'c>(
        &self,
        table: &str,
        columns: impl IntoIterator<Item = &'c str>,
    ) -> Vec<&'c str> {
        if matches!(
            self.table_action(table).action,
            Action::DropData | Action::Skip
        ) {
            return Vec::new();
        }
        let masked: Vec<&str> = self.masks_for(table).map(Mask::column).collect();
        let keeps: Vec<&KeepRule> = self
            .keeps
            .iter()
            .filter(|k| k.tables.matches(table))
            .collect();
        columns
            .into_iter()
            .filter(|&column| {
                !masked.contains(&column)
                    && !keeps
                        .iter()
                        .any(|k| k.columns.iter().any(|c| c.matches(column)))
            })
            .collect()
    }

    /// Whether processing `table`'s rows needs column names: some mask, `drop_rows`,
    /// lookup, column filter of a replace, or `unlisted = "fail"` concerns it. The engine
    /// must stop when such a table's rows come without known columns (no `CREATE TABLE`
    /// seen and no column list in the `INSERT`).
    pub fn needs_columns(&self, table: &str) -> bool {
        let action = self.table_action(table);
        if action.action != Action::Keep {
            return false;
        }
        action.drop_rows.is_some()
            || self.unlisted == Unlisted::Fail
            || self.masks_for(table).next().is_some()
            || self.lookups.iter().any(|l| l.table() == table)
            || self
                .replacements
                .iter()
                .any(|r| r.filter.needs_columns(table))
    }
}
