//! The streaming scan: one pass over the dump's tokens, a count per table, column and kind.
//!
//! The loop is the reader's: whole rows from [`DumpReader::next_row`] where the buffer holds
//! them (one call per row, not per value), tokens otherwise. Per string value:
//!
//! 1. the replacements' needles are counted in the raw (escaped) bytes, with one packed
//!    search for all of them (needles are searched in their escaped form, so a value needs
//!    no decoding for this);
//! 2. the sieve ([`crate::detect::sieve`]) looks at the raw bytes; most values stop here;
//! 3. the rest are decoded and scanned, serialized and JSON values looked into
//!    ([`crate::value`]);
//! 4. each finding is sorted as personal or as a mask's output, by the rules.

use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use understudy_rules::{Action, CompiledRules, StrategyKind};
use understudy_sqldump::literal::{decode_hex, escape_into, unescape_concat, unescape_into};
use understudy_sqldump::schema::parse_create_table;
use understudy_sqldump::{
    column_names, unquote_identifier, DumpReader, Lexer, LexerBuilder, Token, Value, ValueKind,
    DEFAULT_CHUNK,
};

use crate::detect::{sieve, Context, Kind};
use crate::error::Error;
use crate::report::{ColumnReport, Coverage, KindCount, Problem, Report, TableReport, UrlCount};
use crate::value::{scan_value, Finding, Place};

/// Configures a [`Scanner`].
#[derive(Debug, Default)]
pub struct ScannerBuilder {
    rules: Option<Arc<CompiledRules>>,
    max_token: Option<usize>,
}

impl ScannerBuilder {
    /// A scan without rules: every column counts as uncovered, no URLs are looked for.
    pub fn new() -> ScannerBuilder {
        ScannerBuilder::default()
    }

    /// Judge coverage by these rules, and count their replacements' needles.
    pub fn rules(&mut self, rules: Arc<CompiledRules>) -> &mut ScannerBuilder {
        self.rules = Some(rules);
        self
    }

    /// Refuse a statement or value larger than this (see [`LexerBuilder::max_token`]).
    pub fn max_token(&mut self, bytes: usize) -> &mut ScannerBuilder {
        self.max_token = Some(bytes);
        self
    }

    /// The scanner.
    ///
    /// # Errors
    /// When the replacements' needles cannot be compiled into one search.
    pub fn build(&self) -> Result<Scanner, Error> {
        let needles = match &self.rules {
            Some(rules) => Some(Needles::new(rules)?),
            None => None,
        };
        let email_domains = self.rules.as_ref().map_or_else(Vec::new, |r| {
            let mut d: Vec<Vec<u8>> = r
                .masks()
                .iter()
                .filter_map(|m| m.email_domain())
                .map(|d| d.as_bytes().to_ascii_lowercase())
                .collect();
            d.sort();
            d.dedup();
            d
        });
        Ok(Scanner {
            rules: self.rules.clone(),
            needles,
            email_domains,
            max_token: self.max_token,
        })
    }
}

/// Scans dumps; build it with [`ScannerBuilder`]. Immutable: one scanner can scan many
/// dumps, one after the other or on several threads.
#[derive(Debug)]
pub struct Scanner {
    rules: Option<Arc<CompiledRules>>,
    needles: Option<Needles>,
    /// Domains the rules' masks write fake addresses at, lower case.
    email_domains: Vec<Vec<u8>>,
    max_token: Option<usize>,
}

impl Scanner {
    /// Reads `input` to its end and reports what it holds.
    ///
    /// # Errors
    /// A read error or a malformed dump ([`crate::ErrorKind::Dump`]), with the position and
    /// table.
    pub fn scan<R: Read>(&self, input: R) -> Result<Report, Error> {
        let lexer = match self.max_token {
            Some(n) => LexerBuilder::new().max_token(n).build(),
            None => Lexer::new(),
        };
        let mut reader = DumpReader::with_lexer(input, lexer, DEFAULT_CHUNK);
        let mut run = Run::new(self);
        let mut values = Vec::new();
        loop {
            if let Some(row) = reader.next_row(&mut values) {
                run.row();
                for (value, range) in &values {
                    run.value(value, &row.bytes[range.clone()]);
                }
                continue;
            }
            let delimiter_len = reader.lexer().delimiter().len();
            let Some(item) = reader.next_token()? else {
                break;
            };
            match item.token {
                Token::CreateTable { name } => {
                    run.create_table(name.of(item.bytes), item.bytes, delimiter_len);
                }
                Token::InsertHead { table, columns, .. } => {
                    run.insert(table.of(item.bytes), columns.map(|c| c.of(item.bytes)));
                }
                Token::RowOpen => run.row(),
                Token::Value(value) => run.value(&value, item.bytes),
                _ => {}
            }
        }
        let bytes = reader.position().byte;
        Ok(run.finish(bytes))
    }

    fn is_mask_output(&self, f: &Finding<'_>, col: &Column) -> bool {
        // A constant a mask writes (the pack's password hash), wherever it ended up.
        if let Some(rules) = &self.rules {
            if rules.masks().iter().any(|m| m.writes_constant(f.leaf)) {
                return true;
            }
        }
        if is_redacted(f.text) {
            return true;
        }
        match f.kind {
            Kind::Email => {
                let Some(at) = f.text.iter().rposition(|&b| b == b'@') else {
                    return false;
                };
                let domain = f.text[at + 1..].to_ascii_lowercase();
                // RFC 2606: `.invalid` never resolves, so no one receives mail there.
                domain.ends_with(b".invalid")
                    || self.email_domains.iter().any(|d| {
                        domain == *d
                            || (domain.len() > d.len()
                                && domain.ends_with(d)
                                && domain[domain.len() - d.len() - 1] == b'.')
                    })
            }
            Kind::Ipv4 | Kind::Ipv6 => col.writes_ips && is_documentation_ip(f.text),
            Kind::PasswordHash => col.writes_hashes && f.text.iter().all(u8::is_ascii_hexdigit),
            // `fake` phone numbers are North American (`555-123-4567`, `(555) 123-4567`),
            // never international.
            Kind::Phone => col.writes_phones && !f.text.starts_with(b"+"),
            Kind::Card | Kind::Iban => false,
        }
    }
}

/// What `redact` writes: letters as `x`/`X`, digits as `0`.
fn is_redacted(text: &[u8]) -> bool {
    text.iter().any(|b| b.is_ascii_alphanumeric())
        && text
            .iter()
            .all(|&b| !b.is_ascii_alphanumeric() || matches!(b, b'x' | b'X' | b'0'))
}

/// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737) and 2001:db8::/32 (RFC 3849),
/// where masks take their fake addresses from.
fn is_documentation_ip(text: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(text) else {
        return false;
    };
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        let [a, b, c, _] = v4.octets();
        return matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113));
    }
    s.parse::<Ipv6Addr>()
        .is_ok_and(|v6| v6.segments()[..2] == [0x2001, 0xdb8])
}

/// The replacements' needles, in the forms a dump holds them.
#[derive(Debug)]
struct Needles {
    /// Needles as mysqldump escapes them: searched in string content as it is.
    escaped: AhoCorasick,
    /// Needles as they are: searched in decoded values (hex blobs, unusual escapes).
    plain: AhoCorasick,
    /// Per pattern (same ids in both searches).
    patterns: Vec<Pattern>,
    /// Replacement names, by index.
    labels: Vec<String>,
}

#[derive(Debug)]
struct Pattern {
    replacement: usize,
    /// Where the replacement writes a text that contains its own needle (`https://x.org`
    /// to `https://x.org.staging.example`): the written text and the needle's offset in
    /// it, escaped and plain. A needle found there is the replacement's own output.
    inside_to: Option<[(Vec<u8>, usize); 2]>,
}

impl Needles {
    fn new(rules: &CompiledRules) -> Result<Needles, Error> {
        let mut escaped = Vec::new();
        let mut plain = Vec::new();
        let mut patterns = Vec::new();
        let mut labels = Vec::new();
        for (i, r) in rules.replacements().iter().enumerate() {
            labels.push(r.label().to_owned());
            for pair in r.pairs() {
                let mut e = Vec::new();
                escape_into(pair.from(), &mut e);
                escaped.push(e);
                plain.push(pair.from().to_vec());
                let inside_to = memchr::memmem::find(pair.to(), pair.from()).map(|k| {
                    let mut to_escaped = Vec::new();
                    escape_into(pair.to(), &mut to_escaped);
                    let mut before = Vec::new();
                    escape_into(&pair.to()[..k], &mut before);
                    [(to_escaped, before.len()), (pair.to().to_vec(), k)]
                });
                patterns.push(Pattern {
                    replacement: i,
                    inside_to,
                });
            }
        }
        let build = |pats: &[Vec<u8>]| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(pats)
                .map_err(Error::needles)
        };
        Ok(Needles {
            escaped: build(&escaped)?,
            plain: build(&plain)?,
            patterns,
            labels,
        })
    }

    /// Counts needles in `text` into `counts` (per replacement); `escaped` says which form
    /// the text is in.
    fn count(&self, text: &[u8], escaped: bool, counts: &mut [u64]) {
        let search = if escaped { &self.escaped } else { &self.plain };
        for m in search.find_iter(text) {
            let p = &self.patterns[m.pattern().as_usize()];
            if let Some(forms) = &p.inside_to {
                let (to, k) = &forms[usize::from(!escaped)];
                if m.start() >= *k && text[m.start() - k..].starts_with(to) {
                    continue;
                }
            }
            counts[p.replacement] += 1;
        }
    }
}

/// One column's state during a scan.
#[derive(Debug)]
struct Column {
    name: String,
    ctx: Context,
    coverage: Option<Coverage>,
    /// Whether a mask of the column writes IPs (so documentation IPs are its output),
    /// hex hashes (`hash`) or phone numbers (`fake` phone).
    writes_ips: bool,
    writes_hashes: bool,
    writes_phones: bool,
    /// Whether each replacement applies here.
    applies: Vec<bool>,
    values: u64,
    kinds: [KindCount; Kind::ALL.len()],
    urls: Vec<u64>,
}

#[derive(Debug)]
struct Table {
    name: String,
    rows: u64,
    dropped: bool,
    columns: Vec<Column>,
}

/// The state of one scan.
struct Run<'s> {
    scanner: &'s Scanner,
    tables: Vec<Table>,
    /// The table of the current `INSERT`.
    current: Option<usize>,
    /// The current `INSERT`'s column list, mapped to the table's column indexes.
    map: Option<Vec<usize>>,
    rows: u64,
    scratch: Vec<u8>,
}

impl<'s> Run<'s> {
    fn new(scanner: &'s Scanner) -> Run<'s> {
        Run {
            scanner,
            tables: Vec::new(),
            current: None,
            map: None,
            rows: 0,
            scratch: Vec::new(),
        }
    }

    fn new_table(&self, name: String) -> Table {
        let dropped = self.scanner.rules.as_ref().is_some_and(|r| {
            matches!(
                r.table_action(&name).action,
                Action::DropData | Action::Skip
            )
        });
        Table {
            name,
            rows: 0,
            dropped,
            columns: Vec::new(),
        }
    }

    fn new_column(&self, table: &str, dropped: bool, name: String) -> Column {
        let rules = self.scanner.rules.as_deref();
        let masks: Vec<_> = rules
            .map(|r| r.masks_for(table).filter(|m| m.column() == name).collect())
            .unwrap_or_default();
        let coverage = rules.map(|r| {
            if dropped {
                Coverage::Dropped
            } else if !masks.is_empty() {
                Coverage::Masked
            } else if r.is_covered(table, &name) {
                Coverage::Kept
            } else {
                Coverage::Uncovered
            }
        });
        let applies = rules.map_or_else(Vec::new, |r| {
            r.replacements()
                .iter()
                .map(|rep| !dropped && rep.applies_to(table, &name))
                .collect()
        });
        let urls = vec![0; applies.len()];
        Column {
            ctx: Context::of_name(name.as_bytes()),
            coverage,
            writes_ips: masks.iter().any(|m| m.writes_ip_addresses()),
            writes_hashes: masks.iter().any(|m| m.strategy() == StrategyKind::Hash),
            writes_phones: masks.iter().any(|m| m.strategy_name() == "fake:phone"),
            applies,
            values: 0,
            kinds: [KindCount::default(); Kind::ALL.len()],
            urls,
            name,
        }
    }

    fn table_index(&mut self, name: &str) -> usize {
        match self.tables.iter().rposition(|t| t.name == name) {
            Some(i) => i,
            None => {
                let t = self.new_table(name.to_owned());
                self.tables.push(t);
                self.tables.len() - 1
            }
        }
    }

    fn create_table(&mut self, raw_name: &[u8], statement: &[u8], delimiter_len: usize) {
        let name = String::from_utf8_lossy(&unquote_identifier(raw_name)).into_owned();
        let delimiter = &statement[statement.len().saturating_sub(delimiter_len)..];
        let mut table = self.new_table(name.clone());
        // A CREATE TABLE the schema reader cannot read leaves the columns to be numbered.
        if let Ok(schema) = parse_create_table(statement, delimiter) {
            for c in schema.columns {
                let col = self.new_column(&name, table.dropped, c.name);
                table.columns.push(col);
            }
        }
        self.tables.push(table);
    }

    fn insert(&mut self, raw_table: &[u8], columns: Option<&[u8]>) {
        let name = String::from_utf8_lossy(&unquote_identifier(raw_table)).into_owned();
        let t = self.table_index(&name);
        self.current = Some(t);
        self.map = columns.map(|list| {
            column_names(list)
                .into_iter()
                .map(|c| {
                    let table = &self.tables[t];
                    match table
                        .columns
                        .iter()
                        .position(|x| x.name.eq_ignore_ascii_case(&c))
                    {
                        Some(i) => i,
                        None => {
                            let col = self.new_column(&name, table.dropped, c);
                            self.tables[t].columns.push(col);
                            self.tables[t].columns.len() - 1
                        }
                    }
                })
                .collect()
        });
    }

    fn row(&mut self) {
        self.rows += 1;
        if let Some(t) = self.current {
            self.tables[t].rows += 1;
        }
    }

    /// The column a value at `position` of a row of the current table belongs to, made
    /// up (`#N`) if the dump never named it.
    fn column(&mut self, position: usize) -> Option<(usize, usize)> {
        let t = self.current?;
        let c = match &self.map {
            Some(map) => *map.get(position)?,
            None => position,
        };
        while self.tables[t].columns.len() <= c {
            let n = self.tables[t].columns.len();
            let (name, dropped) = (self.tables[t].name.clone(), self.tables[t].dropped);
            let col = self.new_column(&name, dropped, format!("#{}", n + 1));
            self.tables[t].columns.push(col);
        }
        Some((t, c))
    }

    /// One value of a row; `token` holds it (its spans are relative to `token`).
    fn value(&mut self, value: &Value, token: &[u8]) {
        let (raw, quote, plain_search) = match value.kind {
            ValueKind::Str {
                escapes,
                canonical,
                double_quotes_escaped,
                quote,
            } => (
                value.content.of(token),
                quote,
                !escapes || (canonical && double_quotes_escaped),
            ),
            ValueKind::Hex | ValueKind::Concat => (value.content.of(token), 0, false),
            _ => return,
        };
        let Some((t, c)) = self.column(value.column as usize) else {
            return;
        };
        let scanner = self.scanner;
        let col = &mut self.tables[t].columns[c];
        col.values += 1;
        // The value decoded, when it has to be: in `scratch`, else `raw` as it is.
        let mut decoded = false;
        let mut decode = |scratch: &mut Vec<u8>| {
            if !decoded {
                decoded = true;
                scratch.clear();
                match value.kind {
                    ValueKind::Hex => {
                        // Digits that are not hex never get past the lexer.
                        let _ = decode_hex(raw, scratch);
                    }
                    ValueKind::Concat => unescape_concat(value.literal.of(token), scratch),
                    _ => unescape_into(raw, quote, scratch),
                }
            }
        };
        if let Some(needles) = &scanner.needles {
            if plain_search {
                needles.count(raw, true, &mut col.urls);
            } else {
                decode(&mut self.scratch);
                needles.count(&self.scratch, false, &mut col.urls);
            }
        }
        let text: &[u8] = match value.kind {
            ValueKind::Str { escapes: false, .. } => raw,
            ValueKind::Str {
                canonical: true, ..
            } => {
                // The sieve reads escaped bytes as well as decoded ones (see `Sieve`).
                if !sieve(raw, col.ctx).any() {
                    return;
                }
                decode(&mut self.scratch);
                &self.scratch
            }
            _ => {
                decode(&mut self.scratch);
                &self.scratch
            }
        };
        let ctx = col.ctx;
        let s = sieve(text, ctx);
        if !s.any() {
            return;
        }
        let mut found = Vec::new();
        scan_value(text, ctx, s, &mut |f| {
            found.push((f.kind, scanner.is_mask_output(&f, col), f.place));
        });
        for (kind, output, place) in found {
            let n = &mut col.kinds[kind.index()];
            if output {
                n.mask_output += 1;
            } else {
                n.personal += 1;
                match place {
                    Place::Serialized => n.in_serialized += 1,
                    Place::Json => n.in_json += 1,
                    Place::Plain => {}
                }
            }
        }
    }

    fn finish(self, bytes: u64) -> Report {
        let labels = self
            .scanner
            .needles
            .as_ref()
            .map_or(&[][..], |n| &n.labels[..]);
        let mut problems = Vec::new();
        let with_rules = self.scanner.rules.is_some();
        let tables = self
            .tables
            .into_iter()
            .map(|t| {
                let columns = t
                    .columns
                    .into_iter()
                    .map(|c| {
                        let mut findings = std::collections::BTreeMap::new();
                        for kind in Kind::ALL {
                            let n = c.kinds[kind.index()];
                            if n.personal + n.mask_output > 0 {
                                findings.insert(kind, n);
                            }
                            let uncovered = !with_rules || c.coverage == Some(Coverage::Uncovered);
                            if uncovered && n.personal > 0 {
                                problems.push(Problem {
                                    table: t.name.clone(),
                                    column: c.name.clone(),
                                    kind: kind.name().to_owned(),
                                    replacement: None,
                                    count: n.personal,
                                });
                            }
                        }
                        let mut urls = std::collections::BTreeMap::new();
                        for (i, &count) in c.urls.iter().enumerate() {
                            if count == 0 {
                                continue;
                            }
                            let applies = c.applies[i];
                            let label = labels[i].clone();
                            if applies {
                                problems.push(Problem {
                                    table: t.name.clone(),
                                    column: c.name.clone(),
                                    kind: "production_url".into(),
                                    replacement: Some(label.clone()),
                                    count,
                                });
                            }
                            let u: &mut UrlCount = urls.entry(label).or_default();
                            u.count += count;
                            u.applies |= applies;
                        }
                        ColumnReport {
                            column: c.name,
                            values: c.values,
                            coverage: c.coverage,
                            findings,
                            urls,
                        }
                    })
                    .collect();
                TableReport {
                    table: t.name,
                    rows: t.rows,
                    columns,
                }
            })
            .collect();
        Report {
            rules: self.scanner.rules.as_ref().map(|r| r.origin().to_owned()),
            bytes,
            rows: self.rows,
            tables,
            problems,
        }
    }
}
