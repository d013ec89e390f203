//! What the rules mean for one table, worked out once when its `INSERT`s begin.

use std::collections::HashMap;
use std::sync::Arc;

/// A map keyed by table names, which the engine looks up several times per statement:
/// with std's SipHash that was a tenth of rewriting a dump of one row per `INSERT`.
/// foldhash is a few times faster and still seeded per process.
pub(crate) type NameMap<V> = std::collections::HashMap<String, V, foldhash::fast::RandomState>;

use understudy_rules::{Action, CompiledRules, Condition, LookupId, Mask};
use understudy_sqldump::schema::TableSchema;

use crate::value::Replacements;

/// The rules for one table, resolved to column positions.
pub(crate) struct TableCtx<'r> {
    pub(crate) name: String,
    pub(crate) action: Action,
    pub(crate) drop_rows: Option<&'r Condition>,
    /// Masks in file order, with the position of the column they mask.
    pub(crate) masks: Vec<(&'r Mask, usize)>,
    /// Lookups this table fills.
    pub(crate) lookups: Vec<LookupId>,
    /// Column names, when known.
    pub(crate) columns: Option<Arc<Vec<String>>>,
    /// Per column position: the replacement groups that apply, in order.
    groups: Vec<Vec<&'r Replacements>>,
    /// When column names are unknown: groups that apply to every column of the table.
    table_groups: Vec<&'r Replacements>,
    /// Per column position: UNIQUE/PRIMARY alone, and the length limit in characters.
    pub(crate) unique: Vec<bool>,
    pub(crate) max_chars: Vec<Option<usize>>,
    /// Column 0 alone is the primary key, so it names rows in messages.
    pub(crate) first_is_key: bool,
    /// Per column position, its name as reports write it (see `column_name`).
    labels: Vec<String>,
    /// The column names the conditions read, as the rules hold them, with their positions
    /// (see [`crate::row::RowView`]).
    pub(crate) bound: Vec<(&'r str, usize)>,
    /// Masks found by one column's value rather than tested one by one (see [`Keyed`]).
    pub(crate) keyed: Option<Keyed>,
    /// Replacements that must find their `from` in a column of this table's rows (see
    /// [`understudy_rules::MustMove`]): the rule's index, the column's position and which
    /// rows.
    pub(crate) must_move: Vec<(usize, usize, Option<&'r Condition>)>,
}

/// Masks whose `when` holds for some texts of one column, found by that cell's bytes. A
/// table of metadata (`meta_key`, `meta_value`) has a dozen masks, each for some keys, and
/// rows by the hundred thousand: testing every mask's condition on every row cost more than
/// masking what they select.
pub(crate) struct Keyed {
    /// The column.
    pub(crate) column: usize,
    /// Per mask of the table, in order: whether it is found here rather than tested.
    pub(crate) keyed: Vec<bool>,
    /// Per text, the masks (by their index in [`TableCtx::masks`]) whose condition holds.
    pub(crate) by_text: HashMap<Vec<u8>, Vec<usize>>,
}

/// A column position and the texts a condition holds for.
type ColumnIn<'a> = (usize, Vec<&'a [u8]>);

impl Keyed {
    /// The keyed masks among `masks`, on the column most of them test, if two or more do.
    fn new(masks: &[(&Mask, usize)], position: impl Fn(&str) -> Option<usize>) -> Option<Keyed> {
        // Per mask: the column it tests and the texts, if it is keyed.
        let tests: Vec<Option<ColumnIn<'_>>> = masks
            .iter()
            .map(|(m, _)| {
                let (column, texts) = m.condition()?.column_in()?;
                Some((position(column)?, texts))
            })
            .collect();
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for (column, _) in tests.iter().flatten() {
            *counts.entry(*column).or_default() += 1;
        }
        let (&column, &n) = counts
            .iter()
            .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))?;
        if n < 2 {
            return None;
        }
        let mut keyed = vec![false; masks.len()];
        let mut by_text: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
        for (k, test) in tests.iter().enumerate() {
            let Some((c, texts)) = test else { continue };
            if *c != column {
                continue;
            }
            keyed[k] = true;
            for text in texts {
                let selected = by_text.entry(text.to_vec()).or_default();
                if !selected.contains(&k) {
                    selected.push(k);
                }
            }
        }
        Some(Keyed {
            column,
            keyed,
            by_text,
        })
    }
}

impl<'r> TableCtx<'r> {
    /// Resolves the rules for `name`. `columns` come from the `INSERT`'s list or the
    /// `CREATE TABLE`. Errors (as messages) when a rule needs a column the table lacks, or
    /// names are needed and unknown.
    pub(crate) fn new(
        name: &str,
        columns: Option<Arc<Vec<String>>>,
        schema: Option<&TableSchema>,
        rules: Option<&'r CompiledRules>,
        groups: &'r [Replacements],
        cli: Option<&'r Replacements>,
    ) -> Result<TableCtx<'r>, String> {
        let mut ctx = TableCtx {
            name: name.to_string(),
            action: Action::Keep,
            drop_rows: None,
            masks: Vec::new(),
            lookups: Vec::new(),
            columns: columns.clone(),
            groups: Vec::new(),
            table_groups: Vec::new(),
            unique: Vec::new(),
            max_chars: Vec::new(),
            first_is_key: false,
            labels: Vec::new(),
            bound: Vec::new(),
            keyed: None,
            must_move: Vec::new(),
        };
        if let Some(cols) = &columns {
            // Report keys are the names as the user writes them in rules and queries.
            ctx.labels = cols.to_vec();
        }
        // The command line's pairs, where their scope (`--skip-tables`, …) lets them.
        let cli = cli.filter(|c| c.table_ok(name));
        let cli_for = |column: &str| cli.filter(|c| c.applies_to(name, column));
        let cli_needs_columns = || {
            "--skip-columns or --include-columns concern this table, but its rows come \
             without column names (no CREATE TABLE earlier in the dump and no column list in \
             the INSERT)"
                .to_string()
        };
        // Columns declared numeric hold no text to replace in.
        let mut numeric = Vec::new();
        if let (Some(cols), Some(schema)) = (&columns, schema) {
            for c in cols.iter() {
                let def = schema.column_index(c).map(|i| &schema.columns[i]);
                numeric.push(def.is_some_and(|d| is_numeric(&d.type_name)));
                ctx.unique.push(def.is_some_and(|d| d.unique));
                ctx.max_chars.push(
                    def.and_then(|d| d.max_chars.or(d.max_bytes))
                        .and_then(|n| usize::try_from(n).ok()),
                );
            }
            ctx.first_is_key = ctx.unique.first().copied().unwrap_or(false);
        }
        let Some(rules) = rules else {
            ctx.table_groups.extend(cli);
            match &columns {
                Some(cols) => {
                    ctx.groups = cols
                        .iter()
                        .map(|c| cli_for(c).into_iter().collect())
                        .collect();
                    ctx.skip_numeric(&numeric);
                }
                None if cli.is_some_and(|c| c.needs_columns(name)) => {
                    return Err(cli_needs_columns())
                }
                None => {}
            }
            return Ok(ctx);
        };
        let action = rules.table_action(name);
        ctx.action = action.action;
        ctx.drop_rows = action.drop_rows;
        if ctx.action != Action::Keep {
            return Ok(ctx);
        }
        ctx.lookups = rules.lookups_fed_by(name).collect();
        let Some(cols) = &columns else {
            if cli.is_some_and(|c| c.needs_columns(name)) {
                return Err(cli_needs_columns());
            }
            if rules.needs_columns(name) {
                return Err(
                    "the rules need this table's column names, but its rows come without \
                     them (no CREATE TABLE earlier in the dump and no column list in the INSERT): \
                     dump with `--complete-insert`, or keep the `CREATE TABLE`s (no \
                     `--no-create-info`)"
                        .into(),
                );
            }
            ctx.table_groups = rules
                .replacements()
                .iter()
                .zip(groups)
                .filter(|(r, _)| r.applies_to_table(name))
                .map(|(_, g)| g)
                .chain(cli)
                .collect();
            return Ok(ctx);
        };
        let position = |column: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(column));
        for mask in rules.masks().iter().filter(|m| m.applies_to_table(name)) {
            let Some(i) = position(mask.column()) else {
                // A plugin's column that only some of its versions have. (Under the
                // coverage policy a column that appears later still needs a decision.)
                if mask.is_optional() {
                    continue;
                }
                return Err(format!(
                    "{} masks column `{}`, which this table does not have (columns: {})",
                    mask.label(),
                    mask.column(),
                    cols.join(", ")
                ));
            };
            ctx.masks.push((mask, i));
        }
        for (i, r) in rules.replacements().iter().enumerate() {
            let Some(must) = r.must_move().filter(|m| m.applies_to_table(name)) else {
                continue;
            };
            let Some(col) = position(must.column()) else {
                return Err(format!(
                    "{} must move in column `{}`, which this table does not have (columns: {})",
                    r.label(),
                    must.column(),
                    cols.join(", ")
                ));
            };
            ctx.must_move.push((i, col, must.condition()));
        }
        let conditions = ctx.masks.iter().filter_map(|(m, _)| m.condition());
        let must_read = ctx.must_move.iter().filter_map(|(_, _, c)| *c);
        let read = conditions
            .chain(ctx.drop_rows)
            .chain(must_read)
            .flat_map(|c| c.columns());
        ctx.bound = read.filter_map(|c| Some((c, position(c)?))).collect();
        ctx.keyed = Keyed::new(&ctx.masks, position);
        ctx.groups = cols
            .iter()
            .map(|c| {
                rules
                    .replacements()
                    .iter()
                    .zip(groups)
                    .filter(|(r, _)| r.applies_to(name, c))
                    .map(|(_, g)| g)
                    .chain(cli_for(c))
                    .collect()
            })
            .collect();
        ctx.skip_numeric(&numeric);
        Ok(ctx)
    }

    /// No replacement for the columns `numeric` marks: mysqldump writes their values as
    /// numbers, which replacements leave alone anyway, and a table of numbers alone can
    /// then be copied through without looking at each value.
    fn skip_numeric(&mut self, numeric: &[bool]) {
        for (groups, _) in self.groups.iter_mut().zip(numeric).filter(|(_, &n)| n) {
            groups.clear();
        }
    }

    /// The replacement groups for the value at `column`.
    pub(crate) fn groups(&self, column: usize) -> &[&'r Replacements] {
        match self.columns {
            Some(_) => self.groups.get(column).map(Vec::as_slice).unwrap_or(&[]),
            None => &self.table_groups,
        }
    }

    /// Every replacement group that applies to some column, each once, in the order a value
    /// would meet them.
    pub(crate) fn all_groups(&self) -> Vec<&'r Replacements> {
        let lists: &[Vec<&'r Replacements>] = match self.columns {
            Some(_) => &self.groups,
            None => std::slice::from_ref(&self.table_groups),
        };
        let mut all: Vec<&'r Replacements> = Vec::new();
        for g in lists.iter().flatten() {
            if !all.iter().any(|a| std::ptr::eq(*a, *g)) {
                all.push(g);
            }
        }
        all
    }

    /// Whether rows must be held whole before writing (conditions, masks, lookups).
    pub(crate) fn row_level(&self) -> bool {
        self.drop_rows.is_some()
            || !self.masks.is_empty()
            || !self.lookups.is_empty()
            || !self.must_move.is_empty()
    }

    /// Whether nothing in an `INSERT` into this table can change: no replacement applies
    /// to any column, no mask, no row filter, no lookup, and its rows are kept.
    pub(crate) fn changes_nothing(&self) -> bool {
        let replaces = match self.columns {
            Some(_) => self.groups.iter().any(|g| !g.is_empty()),
            None => !self.table_groups.is_empty(),
        };
        self.action == Action::Keep && !self.row_level() && !replaces
    }

    /// Whether the table's rows can be rewritten from the rows and completed lookups
    /// alone: it fills no lookup, and no mask must keep a UNIQUE column unique across the
    /// table. A worker thread may then rewrite a whole statement (see `parallel`).
    pub(crate) fn self_contained(&self) -> bool {
        self.lookups.is_empty()
            && self
                .masks
                .iter()
                .all(|(m, col)| !m.is_unique() && !self.unique.get(*col).copied().unwrap_or(false))
    }

    /// The lookups the table's masks and row filter read.
    pub(crate) fn reads_lookups(&self) -> bool {
        self.drop_rows.is_some_and(|c| c.lookups().next().is_some())
            || self.masks.iter().any(|(m, _)| m.uses_lookups())
    }

    /// How the report names the column at `index` (its name, bare; `#3` when the dump
    /// does not say), made once per table.
    pub(crate) fn column_label(&self, index: usize) -> std::borrow::Cow<'_, str> {
        match self.labels.get(index) {
            Some(label) => std::borrow::Cow::Borrowed(label),
            None => std::borrow::Cow::Owned(format!("#{}", index + 1)),
        }
    }

    pub(crate) fn column_name(&self, index: usize) -> String {
        self.columns
            .as_ref()
            .and_then(|c| c.get(index))
            .map(|c| format!("`{c}`"))
            .unwrap_or_else(|| format!("#{}", index + 1))
    }
}

/// The uncovered columns of a table under `unlisted = "fail"`.
pub(crate) fn uncovered(rules: &CompiledRules, schema: &TableSchema) -> Vec<String> {
    rules
        .uncovered(&schema.name, schema.columns.iter().map(|c| c.name.as_str()))
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Whether a column type (upper case, as [`TableSchema`] gives it) holds numbers only.
fn is_numeric(type_name: &str) -> bool {
    matches!(
        type_name,
        "TINYINT"
            | "SMALLINT"
            | "MEDIUMINT"
            | "INT"
            | "INTEGER"
            | "BIGINT"
            | "DECIMAL"
            | "DEC"
            | "NUMERIC"
            | "FIXED"
            | "FLOAT"
            | "DOUBLE"
            | "REAL"
            | "BIT"
            | "BOOL"
            | "BOOLEAN"
            | "YEAR"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_phpser::{Mode, Options};
    use understudy_sqldump::schema::parse_create_table;

    fn ctx_changes_nothing(create: &str, pairs: &Replacements) -> bool {
        let schema = parse_create_table(create.as_bytes(), b";").unwrap();
        let names = Arc::new(schema.columns.iter().map(|c| c.name.clone()).collect());
        TableCtx::new("t", Some(names), Some(&schema), None, &[], Some(pairs))
            .unwrap()
            .changes_nothing()
    }

    #[test]
    fn replacements_skip_numeric_columns() {
        let pairs = Replacements::new(
            "--replace".into(),
            &[(b"https://a.example", b"https://b.example")],
            Options::new(Mode::Auto),
            true,
        )
        .unwrap();
        let numbers = "CREATE TABLE `t` (`object_id` bigint(20) unsigned NOT NULL, \
                       `term_order` int(11) NOT NULL DEFAULT 0, `w` double);";
        assert!(ctx_changes_nothing(numbers, &pairs));
        let text = "CREATE TABLE `t` (`id` int(11), `url` varchar(255));";
        assert!(!ctx_changes_nothing(text, &pairs));
        let date = "CREATE TABLE `t` (`id` int(11), `at` datetime);";
        assert!(
            !ctx_changes_nothing(date, &pairs),
            "dates are written as strings"
        );
    }
}

#[cfg(test)]
mod keyed {
    use super::*;
    use understudy_rules::{Cell, LookupStore, Rules};

    /// The masks a row selects through [`Keyed`] are those whose conditions hold.
    #[test]
    fn keyed_masks_are_those_whose_conditions_hold() {
        let toml = r#"
            [[mask]]
            table = "meta"
            column = "v"
            when = { k = ["first_name", "billing_first_name"] }
            strategy = "null"
            [[mask]]
            table = "meta"
            column = "v"
            when = { k = "nickname" }
            strategy = "null"
            [[mask]]
            table = "meta"
            column = "v"
            when = { k = "first_name" }
            strategy = "null"
            [[mask]]
            table = "meta"
            column = "v"
            when = { k = { prefix = "billing_" } }
            strategy = "null"
            [[mask]]
            table = "meta"
            column = "v"
            strategy = "null"
            [[mask]]
            table = "meta"
            column = "v"
            when = { id = "7" }
            strategy = "null"
        "#;
        let rules = Rules::from_str(toml, "t.toml", &[]).unwrap();
        let ctx = meta(&rules);
        let keyed = ctx
            .keyed
            .as_ref()
            .expect("three masks test `k` against texts");
        assert_eq!(keyed.column, 1);
        assert_eq!(keyed.keyed, [true, true, true, false, false, false]);
        let store = LookupStore::new(&rules);
        for key in [
            "first_name",
            "billing_first_name",
            "nickname",
            "NICKNAME",
            "x",
            "",
        ] {
            let row = vec![
                ("id", Cell::Bytes(b"7")),
                ("k", Cell::Bytes(key.as_bytes())),
                ("v", Cell::Bytes(b"secret")),
            ];
            let selected = keyed
                .by_text
                .get(key.as_bytes())
                .cloned()
                .unwrap_or_default();
            for (k, (mask, _)) in ctx.masks.iter().enumerate() {
                if keyed.keyed[k] {
                    let holds = mask.applies(&row, &store).unwrap();
                    assert_eq!(selected.contains(&k), holds, "mask {k} on {key:?}");
                }
            }
        }
        // One such mask alone is tested as it is.
        let one = "[[mask]]\ntable = \"meta\"\ncolumn = \"v\"\nwhen = { k = \"a\" }\nstrategy = \"null\"\n";
        let rules = Rules::from_str(one, "t.toml", &[]).unwrap();
        assert!(meta(&rules).keyed.is_none());
    }

    /// The context of a table `meta` (`id`, `k`, `v`) under `rules`.
    fn meta(rules: &CompiledRules) -> TableCtx<'_> {
        let names: Vec<String> = ["id", "k", "v"].map(String::from).to_vec();
        TableCtx::new("meta", Some(Arc::new(names)), None, Some(rules), &[], None).unwrap()
    }
}
