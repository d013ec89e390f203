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
use std::ops::Range;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use aho_corasick::{AhoCorasick, Input, Match, MatchKind};
use understudy_rules::{Action, CompiledRules, StrategyKind};
use understudy_sqldump::literal::{decode_hex, escape_into, unescape_concat, unescape_into};
use understudy_sqldump::schema::parse_create_table;
use understudy_sqldump::{
    column_names, unquote_identifier, DumpReader, Lexer, LexerBuilder, Token, Value, ValueKind,
    DEFAULT_CHUNK,
};

use crate::detect::{sieve, Context, Kind, Sieve, MIN_FINDING};
use crate::error::Error;
use crate::report::{ColumnReport, Coverage, KindCount, Problem, Report, TableReport, UrlCount};
use crate::value::{scan_value, Finding, Place};

/// Configures a [`Scanner`].
#[derive(Debug, Default)]
pub struct ScannerBuilder {
    rules: Option<Arc<CompiledRules>>,
    max_token: Option<usize>,
    threads: Option<usize>,
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

    /// Threads that run the detectors (default: one per CPU). The reading thread lexes
    /// and hands them batches of values; 1 runs the detectors on the reading thread. The
    /// report is the same with any number: it is made of sums.
    pub fn threads(&mut self, n: usize) -> &mut ScannerBuilder {
        self.threads = Some(n.max(1));
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
        // Asked for every finding; most masks write no constant.
        let constant_masks = self.rules.as_ref().map_or_else(Vec::new, |r| {
            (0..r.masks().len())
                .filter(|&i| r.masks()[i].writes_a_constant())
                .collect()
        });
        Ok(Scanner {
            rules: self.rules.clone(),
            constant_masks,
            needles,
            email_domains,
            max_token: self.max_token,
            threads: self.threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            }),
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
    /// The rules' masks (their indexes) that write a constant.
    constant_masks: Vec<usize>,
    max_token: Option<usize>,
    threads: usize,
}

/// Bytes of values per batch handed to a detector thread: large enough that handing over
/// costs nothing next to scanning, small enough that a few in flight stay a few MiB.
const BATCH_BYTES: usize = 512 * 1024;

impl Scanner {
    /// Reads `input` to its end and reports what it holds.
    ///
    /// # Errors
    /// A read error or a malformed dump ([`crate::ErrorKind::Dump`]), with the position and
    /// table.
    pub fn scan<R: Read>(&self, input: R) -> Result<Report, Error> {
        if self.threads <= 1 {
            let mut worker = Worker::new(self);
            let mut run = Run::new(self);
            let bytes = self.lex(input, &mut run, &mut |mut batch| {
                worker.batch(&batch);
                batch.clear();
                batch
            })?;
            run.add(worker.counts);
            return Ok(run.finish(bytes));
        }
        // The reading thread lexes and copies string values into batches; detector threads
        // take batches from one queue, count into their own tables, and hand the emptied
        // batches back for reuse. The counts are sums, merged at the end.
        let (to_workers, queue) = mpsc::sync_channel::<Batch>(self.threads * 2);
        let queue = Mutex::new(queue);
        let (give_back, given_back) = mpsc::channel::<Batch>();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.threads)
                .map(|_| {
                    let (queue, give_back) = (&queue, give_back.clone());
                    std::thread::Builder::new()
                        .name("understudy-scan".into())
                        .spawn_scoped(scope, move || {
                            let mut worker = Worker::new(self);
                            loop {
                                let next =
                                    queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                                let Ok(mut batch) = next else { break };
                                worker.batch(&batch);
                                batch.clear();
                                // The reading thread may be gone (it stopped on an error).
                                let _ = give_back.send(batch);
                            }
                            worker.counts
                        })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(Error::threads)?;
            let mut run = Run::new(self);
            let lexed = self.lex(input, &mut run, &mut |batch| {
                // A send fails only if every detector thread is gone: a panic, raised below.
                let _ = to_workers.send(batch);
                given_back
                    .try_recv()
                    .unwrap_or_else(|_| Batch::with_capacity())
            });
            drop(to_workers);
            for w in workers {
                match w.join() {
                    Ok(counts) => run.add(counts),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Ok(run.finish(lexed?))
        })
    }

    /// Reads the dump: tables and columns into `run`, string values into batches handed to
    /// `full`, which returns an empty batch to go on with. Returns the bytes read.
    fn lex<R: Read>(
        &self,
        input: R,
        run: &mut Run<'_>,
        full: &mut dyn FnMut(Batch) -> Batch,
    ) -> Result<u64, Error> {
        let lexer = match self.max_token {
            Some(n) => LexerBuilder::new().max_token(n).build(),
            None => Lexer::new(),
        };
        let mut reader = DumpReader::with_lexer(input, lexer, DEFAULT_CHUNK);
        let mut values = Vec::new();
        let mut batch = Batch::with_capacity();
        loop {
            if batch.bytes.len() >= BATCH_BYTES {
                batch = full(batch);
            }
            if let Some(row) = reader.next_row(&mut values) {
                run.row();
                for (value, range) in &values {
                    run.value(value, &row.bytes[range.clone()], &mut batch);
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
                Token::Value(value) => run.value(&value, item.bytes, &mut batch),
                _ => {}
            }
        }
        if !batch.entries.is_empty() {
            full(batch);
        }
        Ok(reader.position().byte)
    }

    fn is_mask_output(&self, f: &Finding<'_>, col: &ColInfo) -> bool {
        // A constant a mask writes (the pack's password hash), wherever it ended up.
        if let Some(rules) = &self.rules {
            let masks = rules.masks();
            if self
                .constant_masks
                .iter()
                .any(|&i| masks[i].writes_constant(f.leaf))
            {
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
                let domain = &f.text[at + 1..];
                // `domain` is `d` or a subdomain of it, in any case.
                let under = |d: &[u8]| {
                    domain.len() >= d.len()
                        && domain[domain.len() - d.len()..].eq_ignore_ascii_case(d)
                        && (domain.len() == d.len() || domain[domain.len() - d.len() - 1] == b'.')
                };
                // RFC 2606: `.invalid` never resolves, so no one receives mail there.
                under(b"invalid") || self.email_domains.iter().any(|d| under(d))
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
    /// The shortest needle: a shorter value holds none (and the packed search is slowest
    /// on short texts).
    shortest: usize,
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
            shortest: plain.iter().map(Vec::len).min().unwrap_or(0),
            escaped: build(&escaped)?,
            plain: build(&plain)?,
            patterns,
            labels,
        })
    }

    /// Whether values searched as they are are searched a batch at a time (see
    /// [`Worker::count_needles`]): not with an empty needle, whose empty matches the
    /// search per value steps over.
    fn batched(&self) -> bool {
        self.shortest > 0
    }

    /// Counts needles in `text` into `counts` (per replacement); `escaped` says which form
    /// the text is in.
    fn count(&self, text: &[u8], escaped: bool, counts: &mut [u64]) {
        if text.len() < self.shortest {
            return;
        }
        self.count_from(text, 0, escaped, counts);
    }

    /// [`Needles::count`] of the needles that start at `from` or later.
    fn count_from(&self, text: &[u8], from: usize, escaped: bool, counts: &mut [u64]) {
        let search = if escaped { &self.escaped } else { &self.plain };
        for m in search.find_iter(Input::new(text).span(from..text.len())) {
            if let Some(r) = self.replacement_at(text, m, escaped) {
                counts[r] += 1;
            }
        }
    }

    /// The replacement whose needle `m` found in `text` is, unless it is that
    /// replacement's own output (see [`Pattern::inside_to`]).
    fn replacement_at(&self, text: &[u8], m: Match, escaped: bool) -> Option<usize> {
        let p = &self.patterns[m.pattern().as_usize()];
        if let Some(forms) = &p.inside_to {
            let (to, k) = &forms[usize::from(!escaped)];
            if m.start() >= *k && text[m.start() - k..].starts_with(to) {
                return None;
            }
        }
        Some(p.replacement)
    }
}

/// What a detector thread needs to know about a value's column.
#[derive(Clone, Copy, Debug)]
struct ColInfo {
    /// The table's and the column's index in the run.
    table: u32,
    column: u32,
    ctx: Context,
    /// Whether a mask of the column writes IPs (so documentation IPs are its output),
    /// hex hashes (`hash`) or phone numbers (`fake` phone).
    writes_ips: bool,
    writes_hashes: bool,
    writes_phones: bool,
}

/// One column's state during a scan.
#[derive(Debug)]
struct Column {
    name: String,
    info: ColInfo,
    coverage: Option<Coverage>,
    /// Whether each replacement applies here.
    applies: Vec<bool>,
    values: u64,
    counts: ColCounts,
}

/// What the detectors count for one column.
#[derive(Clone, Debug, Default)]
struct ColCounts {
    kinds: [KindCount; Kind::ALL.len()],
    /// Needles found, per replacement.
    urls: Vec<u64>,
}

impl ColCounts {
    fn add(&mut self, other: &ColCounts) {
        for (a, b) in self.kinds.iter_mut().zip(&other.kinds) {
            a.personal += b.personal;
            a.mask_output += b.mask_output;
            a.in_serialized += b.in_serialized;
            a.in_json += b.in_json;
        }
        if self.urls.len() < other.urls.len() {
            self.urls.resize(other.urls.len(), 0);
        }
        for (a, b) in self.urls.iter_mut().zip(&other.urls) {
            *a += b;
        }
    }
}

/// One string value copied out of the dump for a detector thread.
#[derive(Debug)]
struct Entry {
    col: ColInfo,
    kind: ValueKind,
    /// The literal as written, and the content between its quotes (or the hex digits),
    /// in the batch's bytes.
    literal: Range<usize>,
    content: Range<usize>,
}

impl Entry {
    /// Whether the needles are searched in the value's content as it is, in their escaped
    /// form: mysqldump's escapes (the escaped needle is what a dump holds), or none.
    fn as_is(&self) -> bool {
        match self.kind {
            ValueKind::Str {
                escapes,
                canonical,
                double_quotes_escaped,
                ..
            } => !escapes || (canonical && double_quotes_escaped),
            _ => false,
        }
    }
}

/// Values for a detector thread, copied out of the reader's buffer (which is reused).
#[derive(Debug, Default)]
struct Batch {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl Batch {
    /// Room for a batch and the value that makes it full.
    fn with_capacity() -> Batch {
        Batch {
            bytes: Vec::with_capacity(BATCH_BYTES + 64 * 1024),
            entries: Vec::with_capacity(4096),
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }
}

/// A detector thread's state: its own counts, indexed by table and column.
struct Worker<'s> {
    scanner: &'s Scanner,
    counts: Vec<Vec<ColCounts>>,
    scratch: Vec<u8>,
    found: Vec<(Kind, bool, Place)>,
}

impl<'s> Worker<'s> {
    fn new(scanner: &'s Scanner) -> Worker<'s> {
        Worker {
            scanner,
            counts: Vec::new(),
            scratch: Vec::new(),
            found: Vec::new(),
        }
    }

    fn batch(&mut self, batch: &Batch) {
        if let Some(needles) = self.scanner.needles.as_ref().filter(|n| n.batched()) {
            self.count_needles(needles, batch);
        }
        for e in &batch.entries {
            self.value(e, &batch.bytes);
        }
    }

    /// Counts the needles of the values searched as they are ([`Entry::as_is`]) with one
    /// search over the whole batch: a search per value cost about 400 instructions of
    /// setup, most of it for short values (dates, names, statuses), a sixth of a scan.
    ///
    /// The answer is that of a search per value. A match inside one value's content is
    /// what that value's search finds: no match starts further left (the search is
    /// leftmost), and the longest match there fits in the value. A match that starts
    /// between two values (in quotes) restarts the search at the next value; one that
    /// starts in a value and runs past its end (a longer needle won over one that fits)
    /// leaves the rest of that value to a search of its own. Values that are decoded first
    /// are skipped here and searched in [`Worker::value`].
    fn count_needles(&mut self, needles: &Needles, batch: &Batch) {
        let (bytes, entries) = (&batch.bytes[..], &batch.entries[..]);
        let mut from = 0;
        let mut e = 0;
        while let Some(m) = needles
            .escaped
            .find(Input::new(bytes).span(from..bytes.len()))
        {
            while entries.get(e).is_some_and(|x| x.content.end <= m.start()) {
                e += 1;
            }
            let Some(entry) = entries.get(e) else { break };
            let content = entry.content.clone();
            if m.start() < content.start {
                from = content.start;
                continue;
            }
            if !entry.as_is() {
                from = content.end;
                continue;
            }
            let text = &bytes[content.clone()];
            let urls = self.urls(&entry.col, needles.labels.len());
            if m.end() <= content.end {
                let m = Match::new(
                    m.pattern(),
                    m.start() - content.start..m.end() - content.start,
                );
                if let Some(r) = needles.replacement_at(text, m, true) {
                    urls[r] += 1;
                }
                from = m.end() + content.start;
            } else {
                needles.count_from(text, m.start() - content.start, true, urls);
                from = content.end;
            }
        }
    }

    /// The column's needle counts, one per replacement.
    fn urls(&mut self, col: &ColInfo, replacements: usize) -> &mut [u64] {
        let urls = &mut self.counts(col).urls;
        if urls.len() < replacements {
            urls.resize(replacements, 0);
        }
        urls
    }

    fn counts(&mut self, col: &ColInfo) -> &mut ColCounts {
        let (t, c) = (col.table as usize, col.column as usize);
        if self.counts.len() <= t {
            self.counts.resize_with(t + 1, Vec::new);
        }
        let table = &mut self.counts[t];
        if table.len() <= c {
            table.resize_with(c + 1, ColCounts::default);
        }
        &mut table[c]
    }

    /// Counts needles and findings in one value.
    fn value(&mut self, e: &Entry, bytes: &[u8]) {
        let scanner = self.scanner;
        let raw = &bytes[e.content.clone()];
        let quote = match e.kind {
            ValueKind::Str { quote, .. } => quote,
            _ => 0,
        };
        // The value decoded, when it has to be: in `scratch`, else `raw` as it is.
        let mut decoded = false;
        let mut decode = |scratch: &mut Vec<u8>| {
            if !decoded {
                decoded = true;
                scratch.clear();
                match e.kind {
                    ValueKind::Hex => {
                        // Digits that are not hex never get past the lexer.
                        let _ = decode_hex(raw, scratch);
                    }
                    ValueKind::Concat => unescape_concat(&bytes[e.literal.clone()], scratch),
                    _ => unescape_into(raw, quote, scratch),
                }
            }
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        if let Some(needles) = &scanner.needles {
            if !e.as_is() {
                decode(&mut scratch);
                let urls = self.urls(&e.col, needles.labels.len());
                needles.count(&scratch, false, urls);
            } else if !needles.batched() {
                let urls = self.urls(&e.col, needles.labels.len());
                needles.count(raw, true, urls);
            }
            // Else searched with the whole batch.
        }
        let ctx = e.col.ctx;
        // The sieve reads escaped bytes as well as decoded ones (see `Sieve`): for values
        // escaped as mysqldump escapes, its answer on the raw bytes holds for the decoded
        // value, which need not be looked at twice.
        let (text, s): (Option<&[u8]>, Sieve) = match e.kind {
            ValueKind::Str { escapes: false, .. } => (Some(raw), sieve(raw, ctx)),
            ValueKind::Str {
                canonical: true, ..
            } => {
                let s = sieve(raw, ctx);
                if s.any() {
                    decode(&mut scratch);
                    (Some(&scratch), s)
                } else {
                    (None, s)
                }
            }
            _ => {
                decode(&mut scratch);
                (Some(&scratch), sieve(&scratch, ctx))
            }
        };
        if let Some(text) = text {
            if s.any() {
                let found = &mut self.found;
                found.clear();
                scan_value(text, ctx, s, &mut |f| {
                    found.push((f.kind, scanner.is_mask_output(&f, &e.col), f.place));
                });
            }
        }
        self.scratch = scratch;
        let found = std::mem::take(&mut self.found);
        let counts = self.counts(&e.col);
        for &(kind, output, place) in &found {
            let n = &mut counts.kinds[kind.index()];
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
        self.found = found;
        self.found.clear();
    }
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
    /// String values shorter than this can hold no finding and no needle.
    too_short: usize,
}

impl<'s> Run<'s> {
    fn new(scanner: &'s Scanner) -> Run<'s> {
        let needle = scanner.needles.as_ref().map_or(usize::MAX, |n| n.shortest);
        Run {
            scanner,
            tables: Vec::new(),
            current: None,
            map: None,
            rows: 0,
            too_short: MIN_FINDING.min(needle),
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

    /// Column `c` of table `t` (indexes in the run), named `name`.
    fn new_column(
        &self,
        (t, c): (usize, usize),
        table: &str,
        dropped: bool,
        name: String,
    ) -> Column {
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
        // Indexes beyond u32 would need more tables than a server holds.
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        Column {
            info: ColInfo {
                table: index(t),
                column: index(c),
                ctx: Context::of_name(name.as_bytes()),
                writes_ips: masks.iter().any(|m| m.writes_ip_addresses()),
                writes_hashes: masks.iter().any(|m| m.strategy() == StrategyKind::Hash),
                writes_phones: masks.iter().any(|m| m.strategy_name() == "fake:phone"),
            },
            coverage,
            applies,
            values: 0,
            counts: ColCounts::default(),
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
        let t = self.tables.len();
        // A CREATE TABLE the schema reader cannot read leaves the columns to be numbered.
        if let Ok(schema) = parse_create_table(statement, delimiter) {
            for c in schema.columns.iter() {
                let col = self.new_column(
                    (t, table.columns.len()),
                    &name,
                    table.dropped,
                    c.name.clone(),
                );
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
                            let at = (t, table.columns.len());
                            let col = self.new_column(at, &name, table.dropped, c);
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
            let col = self.new_column((t, n), &name, dropped, format!("#{}", n + 1));
            self.tables[t].columns.push(col);
        }
        Some((t, c))
    }

    /// One value of a row; `token` holds it (its spans are relative to `token`). A string
    /// value is counted and copied into `batch` for the detectors.
    fn value(&mut self, value: &Value, token: &[u8], batch: &mut Batch) {
        if !matches!(
            value.kind,
            ValueKind::Str { .. } | ValueKind::Hex | ValueKind::Concat
        ) {
            return;
        }
        let Some((t, c)) = self.column(value.column as usize) else {
            return;
        };
        let col = &mut self.tables[t].columns[c];
        col.values += 1;
        // Half the string values of a WordPress dump are shorter than anything a detector
        // finds (`''`, `'0'`, `'no'`), and than every needle; a string's content as it is
        // written is never shorter than the string. Those are counted and not handed on.
        if matches!(value.kind, ValueKind::Str { .. }) && value.content.len() < self.too_short {
            return;
        }
        let literal = value.literal.of(token);
        let at = batch.bytes.len();
        batch.bytes.extend_from_slice(literal);
        // The content lies inside the literal: the same offset from the literal's start.
        let from = (value.content.start as usize).saturating_sub(value.literal.start as usize);
        let content = at + from..at + from + value.content.len();
        batch.entries.push(Entry {
            col: col.info,
            kind: value.kind,
            literal: at..batch.bytes.len(),
            content,
        });
    }

    /// Adds a detector thread's counts.
    fn add(&mut self, counts: Vec<Vec<ColCounts>>) {
        for (t, table) in counts.iter().enumerate() {
            for (c, n) in table.iter().enumerate() {
                if let Some(col) = self.tables.get_mut(t).and_then(|x| x.columns.get_mut(c)) {
                    col.counts.add(n);
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
                            let n = c.counts.kinds[kind.index()];
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
                        for (i, &count) in c.counts.urls.iter().enumerate() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Needles that overlap and nest, so the longest match at a place may run past a
    /// value's end while a shorter one fits.
    fn needles() -> Needles {
        let plain: Vec<Vec<u8>> = [
            &b"www.example.com"[..],
            b"https://www.example.com",
            b"example.com/x",
            b"ab",
            b"ab/x",
        ]
        .iter()
        .map(|n| n.to_vec())
        .collect();
        let build = |pats: &[Vec<u8>]| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(pats)
                .unwrap()
        };
        Needles {
            shortest: 2,
            escaped: build(&plain),
            plain: build(&plain),
            patterns: (0..plain.len())
                .map(|i| Pattern {
                    replacement: i,
                    inside_to: None,
                })
                .collect(),
            labels: (0..plain.len()).map(|i| i.to_string()).collect(),
        }
    }

    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "https://",
            "www.",
            "example",
            ".com",
            "/x",
            "a",
            "b",
            "ab",
            "x",
            " ",
            "\\'",
            "https://www.example.com",
            "www.example.com/x",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// One search over a batch counts what a search per value counts, whatever the
        /// values' ends cut, and skips values that are decoded first.
        ///
        /// The values are glued together with no quotes between them (or with a piece of
        /// needle), so that matches run from one value into the next.
        #[test]
        fn a_batch_search_counts_what_searches_per_value_count(
            values in prop::collection::vec(
                (prop::collection::vec(piece(), 0..6), any::<bool>(), prop::sample::select(vec!["", "'", "/x", ".com"])),
                1..8,
            ),
        ) {
            let mut scanner = ScannerBuilder::new().build().unwrap();
            scanner.needles = Some(needles());
            let n = scanner.needles.as_ref().unwrap();
            let mut batch = Batch::default();
            let mut want = vec![vec![0u64; 5]; values.len()];
            for (i, (pieces, as_is, glue)) in values.iter().enumerate() {
                let content = pieces.concat();
                let at = batch.bytes.len();
                batch.bytes.extend_from_slice(glue.as_bytes());
                batch.bytes.extend_from_slice(content.as_bytes());
                let col = ColInfo {
                    table: 0,
                    column: u32::try_from(i).unwrap(),
                    ctx: Context::default(),
                    writes_ips: false,
                    writes_hashes: false,
                    writes_phones: false,
                };
                batch.entries.push(Entry {
                    col,
                    kind: ValueKind::Str {
                        escapes: content.contains('\\'),
                        canonical: *as_is,
                        double_quotes_escaped: true,
                        quote: b'\'',
                    },
                    literal: at..batch.bytes.len(),
                    content: at + glue.len()..batch.bytes.len(),
                });
                if batch.entries[i].as_is() {
                    n.count(content.as_bytes(), true, &mut want[i]);
                }
            }
            let mut worker = Worker::new(&scanner);
            worker.count_needles(n, &batch);
            for (i, want) in want.iter().enumerate() {
                let got = worker
                    .counts
                    .first()
                    .and_then(|t| t.get(i))
                    .map_or(vec![0; 5], |c| {
                        let mut u = c.urls.clone();
                        u.resize(5, 0);
                        u
                    });
                prop_assert_eq!(&got, want, "value {} of {:?}", i, values);
            }
        }
    }
}
