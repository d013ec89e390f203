//! `[[replace]]`: moving URLs and paths, compiled to concrete byte pairs.
//!
//! # Variants and their order
//! From `from = F`, `to = T` the compiler builds pairs in this order:
//! 1. `F → T`;
//! 2. `http_https`: F with the other scheme `→ T` (so `http://` and `https://` links to the
//!    old site both end up at T as written);
//! 3. `scheme_relative`: `//host/…` of F `→` `//host/…` of T;
//!
//! then, for each of those in that order, the encodings:
//! 4. `json_escaped` (on by default): `/` → `\/` on both sides (PHP `json_encode`);
//! 5. `url_encoded`: both sides percent-encoded as PHP `rawurlencode` does (all but
//!    `A-Z a-z 0-9 - _ . ~`), once with lower-case and once with upper-case hex.
//!
//! Pairs whose needle equals an earlier one are dropped, and so are pairs that change
//! nothing. The list is then sorted by needle length, longest first (stable). An engine that
//! scans with leftmost-first priority over the rules in file order, and over each rule's
//! pairs in this order, therefore replaces the longest needle of a rule where several start
//! at the same place (the scheme-relative `//host` never beats `https://host`).
//!
//! # Subdomains
//! `subdomains = true` moves a host with its subdomains ([`expand_subdomains`]): for
//! `from = www.B`, `to = T` (each without a leading `www.`: `B`, `T'`) the pairs are, in this
//! order, `www.B → T` and `B → T'` as exact hosts ([`PairKind::ExactHost`]), then
//! `.B → .T'` after a label ([`PairKind::Subdomain`]): `de.B` becomes `de.T'`. The exact
//! host comes first and does not match as the end of a subdomain, so `www.B` becomes `T`,
//! never `www.T'`. A host is written the same as it is, JSON-escaped and URL-encoded, so
//! these pairs need no variants: `https:\/\/de.B` and `https%3A%2F%2Fde.B` hold `.B`.

use std::fmt;

use crate::condition::Condition;
use crate::glob::Glob;
use crate::model::TableSet;

/// How the engine treats values that hold PHP `serialize()` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SerializedMode {
    /// Parse serialized values and fix `s:N:` lengths after replacing; values that do not
    /// parse are replaced as plain text (with a warning).
    Auto,
    /// Replace bytes only, never touch lengths.
    Off,
    /// Like `Auto`, and also repair values whose lengths were already wrong.
    Repair,
}

/// The spelling variants a replace rule expands to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Variants {
    /// `\/` as written by `json_encode`.
    pub json_escaped: bool,
    /// `%2F` and `%2f`.
    pub url_encoded: bool,
    /// `http://` ↔ `https://`.
    pub http_https: bool,
    /// `//host/…`.
    pub scheme_relative: bool,
}

/// Where a pair's needle may match, besides what the rule's `boundaries` say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PairKind {
    /// `from` or one of its variants: it matches where the rule's source may (a host or
    /// path where it ends, with `boundaries`; anywhere without).
    Variant,
    /// A bare host of a `subdomains` rule, as itself only: where its last label ends, and
    /// not after a letter, digit, `-`, `_` or `.` (so not as the end of a subdomain).
    ExactHost,
    /// `.base` of a `subdomains` rule: right after a label (`de` of `de.base`) and where its
    /// last label ends. A host that already ends in the destination base (when that lies
    /// under the source base) does not move again.
    Subdomain,
}

/// One needle and its replacement.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    from: Box<[u8]>,
    to: Box<[u8]>,
    kind: PairKind,
}

impl Pair {
    /// Where the needle may match (see [`PairKind`]).
    pub fn kind(&self) -> PairKind {
        self.kind
    }

    /// The bytes to find.
    pub fn from(&self) -> &[u8] {
        &self.from
    }
    /// The bytes to write instead.
    pub fn to(&self) -> &[u8] {
        &self.to
    }
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} -> {:?}",
            String::from_utf8_lossy(&self.from),
            String::from_utf8_lossy(&self.to)
        )
    }
}

/// A column pattern: `column` or `table.column`, both globs.
#[derive(Debug)]
pub(crate) struct ColumnPattern {
    pub table: Option<Glob>,
    pub column: Glob,
}

impl ColumnPattern {
    pub(crate) fn parse(s: &str, secret: bool) -> Result<ColumnPattern, String> {
        Ok(match s.split_once('.') {
            Some((t, c)) => ColumnPattern {
                table: Some(Glob::new(t, secret)?),
                column: Glob::new(c, secret)?,
            },
            None => ColumnPattern {
                table: None,
                column: Glob::new(s, secret)?,
            },
        })
    }

    fn matches(&self, table: &str, column: &str) -> bool {
        self.table.as_ref().is_none_or(|t| t.matches(table)) && self.column.matches(column)
    }

    /// Whether this pattern can match some column of `table`.
    fn concerns(&self, table: &str) -> bool {
        self.table.as_ref().is_none_or(|t| t.matches(table))
    }
}

/// Which tables and columns a replace rule applies to.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    /// Empty: all tables.
    pub tables: Vec<Glob>,
    pub skip_tables: Vec<Glob>,
    /// Empty: all columns.
    pub columns: Vec<ColumnPattern>,
    pub skip_columns: Vec<ColumnPattern>,
}

impl Filter {
    pub(crate) fn table_ok(&self, table: &str) -> bool {
        (self.tables.is_empty() || self.tables.iter().any(|g| g.matches(table)))
            && !self.skip_tables.iter().any(|g| g.matches(table))
    }

    pub(crate) fn applies_to(&self, table: &str, column: &str) -> bool {
        self.table_ok(table)
            && (self.columns.is_empty() || self.columns.iter().any(|p| p.matches(table, column)))
            && !self.skip_columns.iter().any(|p| p.matches(table, column))
    }

    /// Whether deciding for `table` needs column names.
    pub(crate) fn needs_columns(&self, table: &str) -> bool {
        self.table_ok(table)
            && (self.columns.iter().any(|p| p.concerns(table))
                || self.skip_columns.iter().any(|p| p.concerns(table)))
    }
}

/// Which tables and columns the command line's `--replace` pairs apply to, as wp-cli's
/// `search-replace` takes them: `--skip-tables` (globs), `--skip-columns` and
/// `--include-columns` (column names, or `table.column`; globs too). The same matching as a
/// `[[replace]]` rule's `skip_tables`, `skip_columns` and `columns`, so a run moved from the
/// command line into a rule file behaves the same.
///
/// ```
/// use understudy_rules::ReplaceScope;
/// let scope = ReplaceScope::new(&["wp_*log*".into()], &["guid".into()], &[]).unwrap();
/// assert!(!scope.table_ok("wp_actionlogs"));
/// assert!(!scope.applies_to("wp_posts", "guid"));
/// assert!(scope.applies_to("wp_posts", "post_content"));
/// ```
#[derive(Debug, Default)]
pub struct ReplaceScope {
    filter: Filter,
}

impl ReplaceScope {
    /// A scope from the three lists; an empty list restricts nothing.
    ///
    /// # Errors
    /// A message naming the option and the pattern, when a pattern is not a valid glob.
    pub fn new(
        skip_tables: &[String],
        skip_columns: &[String],
        include_columns: &[String],
    ) -> Result<ReplaceScope, String> {
        let glob =
            |option: &str, s: &str| Glob::new(s, false).map_err(|e| format!("{option} {s:?}: {e}"));
        let column = |option: &str, s: &str| {
            ColumnPattern::parse(s, false).map_err(|e| format!("{option} {s:?}: {e}"))
        };
        Ok(ReplaceScope {
            filter: Filter {
                tables: Vec::new(),
                skip_tables: skip_tables
                    .iter()
                    .map(|s| glob("--skip-tables", s))
                    .collect::<Result<_, _>>()?,
                columns: include_columns
                    .iter()
                    .map(|s| column("--include-columns", s))
                    .collect::<Result<_, _>>()?,
                skip_columns: skip_columns
                    .iter()
                    .map(|s| column("--skip-columns", s))
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    /// Whether the pairs may apply to some column of `table`.
    pub fn table_ok(&self, table: &str) -> bool {
        self.filter.table_ok(table)
    }

    /// Whether the pairs apply to values of `table.column`.
    pub fn applies_to(&self, table: &str, column: &str) -> bool {
        self.filter.applies_to(table, column)
    }

    /// Whether deciding for `table`'s values needs its column names (a column list
    /// concerns it).
    pub fn needs_columns(&self, table: &str) -> bool {
        self.filter.needs_columns(table)
    }

    /// Whether the scope restricts nothing.
    pub fn is_everything(&self) -> bool {
        self.filter.skip_tables.is_empty()
            && self.filter.columns.is_empty()
            && self.filter.skip_columns.is_empty()
    }
}

/// A compiled `[[replace]]` rule.
pub struct Replacement {
    pub(crate) index: usize,
    pub(crate) label: Box<str>,
    pub(crate) pairs: Box<[Pair]>,
    pub(crate) serialized: SerializedMode,
    /// Whether values that are base64 of serialized PHP or JSON are decoded and rewritten.
    pub(crate) base64: bool,
    pub(crate) variants: Variants,
    pub(crate) filter: Filter,
    pub(crate) secret: bool,
    pub(crate) must_move: Option<MustMove>,
    /// `from` after variables, as the variants were made from it.
    pub(crate) source: Box<str>,
    /// Whether a host or path source matches only where its host or segment ends.
    pub(crate) boundaries: bool,
    /// Whether the host moves with its subdomains (`subdomains = true`).
    pub(crate) subdomains: bool,
}

/// `must_move`: where the application keeps the value a replacement moves (WordPress's
/// `siteurl` and `home` options). A run whose replacement finds nothing to move there was
/// given a `from` the dump does not hold, and stops rather than leave the copy pointing at
/// production.
#[derive(Debug)]
pub struct MustMove {
    pub(crate) tables: TableSet,
    pub(crate) column: Box<str>,
    pub(crate) when: Option<Condition>,
    pub(crate) shown: Box<str>,
    pub(crate) from: Box<str>,
}

impl MustMove {
    /// Whether `table` is one that must hold the value.
    pub fn applies_to_table(&self, table: &str) -> bool {
        self.tables.matches(table)
    }

    /// The column that holds it.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// Which rows hold it (all of the table's, if `None`).
    pub fn condition(&self) -> Option<&Condition> {
        self.when.as_ref()
    }

    /// The rule's `from` as given (before its variants), for messages.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// `wp_options.option_value`, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl fmt::Debug for Replacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Replacement");
        d.field("label", &self.label);
        if self.secret {
            d.field("pairs", &format_args!("<{} redacted>", self.pairs.len()));
        } else {
            d.field("pairs", &self.pairs);
        }
        d.field("serialized", &self.serialized)
            .field("base64", &self.base64)
            .field("variants", &self.variants)
            .field("filter", &self.filter)
            .finish()
    }
}

impl Replacement {
    /// Position among the `[[replace]]` entries of the file (from 0).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The rule's `name`, or `replace[i]`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The pairs, in the documented order (see the module docs). Never empty.
    pub fn pairs(&self) -> &[Pair] {
        &self.pairs
    }

    /// Whether values of `table.column` are rewritten by this rule.
    pub fn applies_to(&self, table: &str, column: &str) -> bool {
        self.filter.applies_to(table, column)
    }
    /// `from` after variables (and without a URL's or path's trailing slash): the text the
    /// variants were made from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the rule's needles match only where a host or path ends (`boundaries`, on
    /// by default): a source that is a URL, a bare host or an absolute path is then not
    /// replaced inside a longer host or directory name.
    pub fn boundaries(&self) -> bool {
        self.boundaries
    }

    /// Whether the rule moves a host with its subdomains (`subdomains = true`): its pairs
    /// are then of the kinds [`PairKind::ExactHost`] and [`PairKind::Subdomain`].
    pub fn subdomains(&self) -> bool {
        self.subdomains
    }

    /// Where the application keeps the value this rule moves, if the rule says.
    pub fn must_move(&self) -> Option<&MustMove> {
        self.must_move.as_ref()
    }

    /// Whether the rule can apply to some column of `table` (a cheap per-table test).
    pub fn applies_to_table(&self, table: &str) -> bool {
        self.filter.table_ok(table)
    }

    /// How serialized PHP values are treated.
    pub fn serialized(&self) -> SerializedMode {
        self.serialized
    }

    /// Whether base64 of serialized PHP or JSON is decoded, rewritten inside and encoded
    /// again (`base64 = false` turns it off for the rule's tables and columns).
    pub fn base64(&self) -> bool {
        self.base64
    }

    /// The variants the rule was expanded with.
    pub fn variants(&self) -> Variants {
        self.variants
    }
}

/// Why a `[[replace]]` was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// `from` is empty after substitution; `vars` are the variables it uses (all empty).
    EmptyFrom {
        /// Variables used in `from`.
        vars: Vec<String>,
    },
    /// `from` equals `to` and no variant changes anything.
    Unchanged,
}

/// A `[[replace]]` that compiled to nothing, so the CLI can say "moved nothing".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedReplace {
    /// Position among the `[[replace]]` entries.
    pub index: usize,
    /// The rule's `name`, or `replace[i]`.
    pub label: String,
    /// 1-based line of the rule in the file.
    pub line: usize,
    /// Why.
    pub reason: DropReason,
    /// Where the rule's `must_move` says the value must be (`wp_options.option_value`), if
    /// it has one: such a rule must not be dropped, and a rewrite refuses to start.
    pub must_move: Option<String>,
}

impl fmt::Display for DroppedReplace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(place), DropReason::EmptyFrom { vars }) = (&self.must_move, &self.reason) {
            let give = if vars.is_empty() {
                "`from`".to_owned()
            } else {
                vars.iter()
                    .map(|v| format!("--var {v}=…"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return write!(
                f,
                "{} (line {}) must move and its `from` is empty: give {give} (the value the \
                 dump holds in {place}), or the copy keeps pointing at production",
                self.label, self.line
            );
        }
        match &self.reason {
            DropReason::EmptyFrom { vars } if !vars.is_empty() => write!(
                f,
                "{} (line {}) moved nothing: `from` is empty ({} not given)",
                self.label,
                self.line,
                vars.iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DropReason::EmptyFrom { .. } => write!(
                f,
                "{} (line {}) moved nothing: `from` is empty",
                self.label, self.line
            ),
            DropReason::Unchanged => write!(
                f,
                "{} (line {}) moved nothing: `from` equals `to`",
                self.label, self.line
            ),
        }
    }
}

fn scheme_split(s: &str) -> Option<(&'static str, &str)> {
    if let Some(r) = s.strip_prefix("https://") {
        Some(("https:", r))
    } else {
        s.strip_prefix("http://").map(|r| ("http:", r))
    }
}

fn json_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 8);
    for &b in s {
        if b == b'/' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

fn url_encode(s: &[u8], upper: bool) -> Vec<u8> {
    let hex: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::with_capacity(s.len() * 3);
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b);
        } else {
            out.push(b'%');
            out.push(hex[usize::from(b >> 4)]);
            out.push(hex[usize::from(b & 15)]);
        }
    }
    out
}

/// Expands `from → to` into pairs (see the module docs). Errors are messages for
/// variants that need a URL.
pub(crate) fn expand(from: &str, to: &str, v: Variants) -> Result<Vec<Pair>, String> {
    let mut base: Vec<(Vec<u8>, Vec<u8>)> = vec![(from.into(), to.into())];
    if v.http_https {
        let (scheme, rest) = scheme_split(from)
            .ok_or("variant `http_https` needs `from` to start with http:// or https://")?;
        let other = if scheme == "https:" {
            "http://"
        } else {
            "https://"
        };
        base.push((format!("{other}{rest}").into_bytes(), to.into()));
    }
    if v.scheme_relative {
        let (_, f) = scheme_split(from)
            .ok_or("variant `scheme_relative` needs `from` to start with http:// or https://")?;
        let (_, t) = scheme_split(to)
            .ok_or("variant `scheme_relative` needs `to` to start with http:// or https://")?;
        base.push((format!("//{f}").into_bytes(), format!("//{t}").into_bytes()));
    }
    let mut all = base.clone();
    if v.json_escaped {
        for (f, t) in &base {
            all.push((json_escape(f), json_escape(t)));
        }
    }
    if v.url_encoded {
        for (f, t) in &base {
            all.push((url_encode(f, false), url_encode(t, false)));
            all.push((url_encode(f, true), url_encode(t, true)));
        }
    }
    let mut out: Vec<Pair> = Vec::new();
    for (f, t) in all {
        if f == t || out.iter().any(|p| *p.from == *f) {
            continue;
        }
        out.push(Pair {
            from: f.into(),
            to: t.into(),
            kind: PairKind::Variant,
        });
    }
    out.sort_by_key(|p| std::cmp::Reverse(p.from.len()));
    Ok(out)
}

/// Whether `s` is a bare host name: labels of letters, digits, `-` and `_` joined by dots,
/// at least two of them.
pub(crate) fn is_host(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A host without a leading `www.`, as WordPress's `get_clean_basedomain()` makes it: the
/// base its sites' hosts are labels of.
pub(crate) fn base_domain(host: &str) -> &str {
    match host.strip_prefix("www.") {
        Some(base) if base.contains('.') => base,
        _ => host,
    }
}

/// The pairs of a `subdomains` rule (see the module docs); `from` and `to` are hosts.
pub(crate) fn expand_subdomains(from: &str, to: &str) -> Vec<Pair> {
    let (base, to_base) = (base_domain(from), base_domain(to));
    let pair = |f: String, t: String, kind| Pair {
        from: f.into_bytes().into(),
        to: t.into_bytes().into(),
        kind,
    };
    let mut out = vec![pair(from.into(), to.into(), PairKind::ExactHost)];
    if base != from {
        out.push(pair(base.into(), to_base.into(), PairKind::ExactHost));
    }
    out.push(pair(
        format!(".{base}"),
        format!(".{to_base}"),
        PairKind::Subdomain,
    ));
    out.retain(|p| p.from != p.to);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(p: &[Pair]) -> Vec<String> {
        p.iter().map(|p| format!("{p:?}")).collect()
    }

    #[test]
    fn expansion_order() {
        let v = Variants {
            json_escaped: true,
            url_encoded: true,
            http_https: true,
            scheme_relative: true,
        };
        let p = expand("https://a.org/x", "http://b.net/y", v).unwrap();
        assert_eq!(
            show(&p),
            [
                r#""https%3a%2f%2fa.org%2fx" -> "http%3a%2f%2fb.net%2fy""#,
                r#""https%3A%2F%2Fa.org%2Fx" -> "http%3A%2F%2Fb.net%2Fy""#,
                r#""http%3a%2f%2fa.org%2fx" -> "http%3a%2f%2fb.net%2fy""#,
                r#""http%3A%2F%2Fa.org%2Fx" -> "http%3A%2F%2Fb.net%2Fy""#,
                r#""https:\\/\\/a.org\\/x" -> "http:\\/\\/b.net\\/y""#,
                r#""http:\\/\\/a.org\\/x" -> "http:\\/\\/b.net\\/y""#,
                r#""https://a.org/x" -> "http://b.net/y""#,
                r#""%2f%2fa.org%2fx" -> "%2f%2fb.net%2fy""#,
                r#""%2F%2Fa.org%2Fx" -> "%2F%2Fb.net%2Fy""#,
                r#""http://a.org/x" -> "http://b.net/y""#,
                r#""\\/\\/a.org\\/x" -> "\\/\\/b.net\\/y""#,
                r#""//a.org/x" -> "//b.net/y""#,
            ]
        );
    }

    #[test]
    fn default_json_only_and_identity_dropped() {
        let v = Variants {
            json_escaped: true,
            ..Variants::default()
        };
        let p = expand("/srv/www/", "/srv/int/", v).unwrap();
        assert_eq!(
            show(&p),
            [
                r#""\\/srv\\/www\\/" -> "\\/srv\\/int\\/""#,
                r#""/srv/www/" -> "/srv/int/""#
            ]
        );
        // No slash: the JSON variant equals the base and is dropped as a duplicate.
        assert_eq!(expand("abc", "def", v).unwrap().len(), 1);
        // Equal sides: nothing to do.
        assert!(expand("abc", "abc", v).unwrap().is_empty());
        // Same host, other scheme still changes.
        let v2 = Variants {
            http_https: true,
            ..Variants::default()
        };
        assert_eq!(
            show(&expand("http://a/", "https://a/", v2).unwrap()),
            [r#""http://a/" -> "https://a/""#]
        );
    }

    #[test]
    fn subdomains_move_with_their_base() {
        assert_eq!(
            show(&expand_subdomains(
                "www.prod-net.example",
                "int-net.example"
            )),
            [
                r#""www.prod-net.example" -> "int-net.example""#,
                r#""prod-net.example" -> "int-net.example""#,
                r#"".prod-net.example" -> ".int-net.example""#,
            ]
        );
        let p = expand_subdomains("prod.example", "www.int.example");
        assert_eq!(
            show(&p),
            [
                r#""prod.example" -> "www.int.example""#,
                r#"".prod.example" -> ".int.example""#,
            ]
        );
        assert_eq!(
            p.iter().map(Pair::kind).collect::<Vec<_>>(),
            [PairKind::ExactHost, PairKind::Subdomain]
        );
        // Only the main host changes: the subdomains stay.
        assert_eq!(
            show(&expand_subdomains("www.a.example", "a.example")),
            [r#""www.a.example" -> "a.example""#]
        );
        assert!(expand_subdomains("a.example", "a.example").is_empty());
        assert_eq!(base_domain("www.example"), "www.example");
        assert!(is_host("de.prod-net.example") && is_host("a_b.example"));
        for not in [
            "https://a.example",
            "a.example/",
            "example",
            ".a.example",
            "a..b",
        ] {
            assert!(!is_host(not), "{not}");
        }
    }

    #[test]
    fn variants_need_urls() {
        let v = Variants {
            scheme_relative: true,
            ..Variants::default()
        };
        assert_eq!(
            expand("https://a/", "/local/", v).unwrap_err(),
            "variant `scheme_relative` needs `to` to start with http:// or https://"
        );
    }
}
