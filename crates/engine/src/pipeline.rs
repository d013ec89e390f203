//! The sequential pipeline: tokens in, bytes out, rules applied on the way.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, Write};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use understudy_phpser::{hooks, Boundary, Mode, Options};
use understudy_rules::{
    Action, Cell, CompiledRules, Fit, Inside, LookupStore, Masked, PairKind, SerializedMode,
    StrategyKind, Unlisted,
};
use understudy_sqldump::schema::{parse_create_table, SchemaCache, TableSchema};
use understudy_sqldump::{
    column_names, statement_effect, statement_table, unquote_identifier, DumpReader, Effect, Item,
    Lexer, LexerBuilder, Look, Position, RowItem, SliceReader, Span, StatementKind, Token,
    DEFAULT_CHUNK,
};
use understudy_stream::Progress;

use crate::drive::{drive, Flow, RowValues, SliceCursor, Step, Visit, Want};
use crate::error::{Detail, Error};
use crate::report::{Counts, Report, Warning, WarningKind};
use crate::row::{RowBuf, RowView};
use crate::schemas::Schemas;
use crate::structured::{
    check_json_path, check_serialized_path, mask_json, mask_serialized, scrub_value,
};
use crate::table::{uncovered, TableCtx};
use crate::value::{encode, replace, replace_decoded, Replacements, ValueOutcome, ValueScratch};

/// How many different values a mask may draw for one UNIQUE column before giving up.
const MAX_UNIQUE_ATTEMPTS: u32 = 64;

/// Configures an [`Engine`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    max_token: usize,
    chunk: usize,
    replace: Vec<(Vec<u8>, Vec<u8>, Boundary)>,
    serialized: Mode,
    strict: bool,
    rules: Option<Arc<CompiledRules>>,
    threads: usize,
    batch: usize,
    encoding_checks: bool,
    buffered_output: bool,
    allow_incomplete: bool,
    allow_missing_tables: bool,
    progress: Option<Arc<Progress>>,
    replace_scope: Option<Arc<understudy_rules::ReplaceScope>>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder::new()
    }
}

impl EngineBuilder {
    /// No rules: the output is the input, checked to be a well-formed dump on the way.
    pub fn new() -> EngineBuilder {
        EngineBuilder {
            max_token: LexerBuilder::new().build().max_token(),
            chunk: DEFAULT_CHUNK,
            replace: Vec::new(),
            serialized: Mode::Auto,
            strict: false,
            rules: None,
            threads: 1,
            batch: crate::parallel::BATCH,
            encoding_checks: true,
            buffered_output: false,
            allow_incomplete: false,
            allow_missing_tables: false,
            progress: None,
            replace_scope: None,
        }
    }

    /// Publishes the rows seen into `progress` as the run writes, for a meter to show.
    pub fn progress(&mut self, progress: Arc<Progress>) -> &mut EngineBuilder {
        // Counted from the start: a meter shows "0 rows" until the first row is written.
        progress.set_rows(0);
        self.progress = Some(progress);
        self
    }

    /// Accepts a dump that lacks every table some mask of the rules names. Without this
    /// such a run is an error at the dump's end: a wrong table prefix or name makes masks
    /// meet nothing, and the data they are for would pass unmasked. For dumps of some
    /// tables only; masks marked `optional` never need it.
    pub fn allow_missing_tables(&mut self, yes: bool) -> &mut EngineBuilder {
        self.allow_missing_tables = yes;
        self
    }

    /// Accepts a dump that begins with mysqldump's or mariadb-dump's header but ends
    /// without its `-- Dump completed` trailer. Without this such a dump is an error: a lost
    /// connection or a killed dump cuts it at a statement boundary, where it lexes cleanly
    /// but lacks its last tables.
    pub fn allow_incomplete(&mut self, yes: bool) -> &mut EngineBuilder {
        self.allow_incomplete = yes;
        self
    }

    /// Leaves out the replacements' looks into PHP sessions, base64 and JSON documents, so
    /// a benchmark can measure what they cost on a whole dump (`benches/benches/engine.rs`).
    /// Not for use: values in those encodings then get plain byte replacement.
    #[doc(hidden)]
    pub fn without_encoding_checks(&mut self) -> &mut EngineBuilder {
        self.encoding_checks = false;
        self
    }

    /// Says that the output given to [`Engine::run`] buffers its writes itself (as a
    /// `BufWriter` does), so the engine writes each token to it directly instead of copying
    /// it into a buffer of its own first. Without this, many small writes reach the output.
    pub fn output_is_buffered(&mut self, yes: bool) -> &mut EngineBuilder {
        self.buffered_output = yes;
        self
    }

    /// The size of the batches a parallel run cuts the dump into (default 1 MiB). Tests
    /// make it tiny, so that every statement is a batch of its own.
    pub fn batch_size(&mut self, bytes: usize) -> &mut EngineBuilder {
        // At most 64 MiB: a batch with its longest statement then stays under 4 GiB, so
        // offsets in it fit in `u32`.
        self.batch = bytes.clamp(1, 64 << 20);
        self
    }

    /// How many threads rewrite batches of statements (1: all on the calling thread). The
    /// output is the same byte for byte whatever the number.
    pub fn threads(&mut self, n: usize) -> &mut EngineBuilder {
        self.threads = n.max(1);
        self
    }

    /// The largest single statement or value accepted (see [`LexerBuilder::max_token`]).
    pub fn max_token(&mut self, bytes: usize) -> &mut EngineBuilder {
        self.max_token = bytes;
        self
    }

    /// Replaces `from` with `to` in every string value of every table, after the rules'
    /// replacements and the pairs added before it (like successive `str_replace()` calls).
    /// Serialized PHP is rewritten with its `s:N:` lengths fixed, nested values too.
    ///
    /// A `from` that is a URL, a bare host or an absolute path matches only where its host or
    /// last path segment ends ([`Boundary::of_source`]).
    pub fn replace(&mut self, from: &[u8], to: &[u8]) -> &mut EngineBuilder {
        self.replace_bounded(from, to, Boundary::of_source(from))
    }

    /// [`replace`](Self::replace) with the boundary given: a variant of a source (its
    /// JSON-escaped form, say) keeps to where the source's host or path ends.
    pub fn replace_bounded(
        &mut self,
        from: &[u8],
        to: &[u8],
        boundary: Boundary,
    ) -> &mut EngineBuilder {
        self.replace.push((from.to_vec(), to.to_vec(), boundary));
        self
    }

    /// How values that look like serialized PHP are treated by [`replace`](Self::replace)
    /// pairs (rules carry their own setting).
    pub fn serialized(&mut self, mode: Mode) -> &mut EngineBuilder {
        self.serialized = mode;
        self
    }

    /// Stop at a value that looks serialized but does not parse, instead of replacing in its
    /// bytes with a warning.
    pub fn strict(&mut self, yes: bool) -> &mut EngineBuilder {
        self.strict = yes;
        self
    }

    /// Applies a rule file: replacements, masks, table actions, input clean-ups, appended SQL.
    pub fn rules(&mut self, rules: Arc<CompiledRules>) -> &mut EngineBuilder {
        self.rules = Some(rules);
        self
    }

    /// Keeps the pairs of [`replace`](Self::replace) and [`replace_arg`](Self::replace_arg)
    /// to some tables and columns, as wp-cli's `search-replace` does with `--skip-tables`,
    /// `--skip-columns` and `--include-columns`. A table whose rows come without column
    /// names then stops the run when a column list concerns it. Rules keep their own filters.
    pub fn replace_scope(&mut self, scope: understudy_rules::ReplaceScope) -> &mut EngineBuilder {
        self.replace_scope = (!scope.is_everything()).then(|| Arc::new(scope));
        self
    }

    /// Adds a replacement given as `OLD=NEW` (as `rewrite --replace` and a clone plan's
    /// `replace` take it): `OLD` keeps to where its host or path ends, and when either side
    /// holds a `/` its JSON-escaped form (`\/`) moves too, so `https:\/\/old.example`
    /// inside JSON moves with the plain one.
    ///
    /// # Errors
    /// A message that quotes the argument, when it has no `=` or `OLD` is empty.
    pub fn replace_arg(&mut self, arg: &str) -> Result<&mut EngineBuilder, String> {
        let Some((from, to)) = arg.split_once('=') else {
            return Err(format!("{arg:?}: expected OLD=NEW"));
        };
        if from.is_empty() {
            return Err(format!("{arg:?}: OLD is empty"));
        }
        let boundary = understudy_phpser::Boundary::of_source(from.as_bytes());
        self.replace_bounded(from.as_bytes(), to.as_bytes(), boundary.clone());
        if from.contains('/') || to.contains('/') {
            let json = |s: &str| s.replace('/', "\\/").into_bytes();
            self.replace_bounded(&json(from), &json(to), boundary);
        }
        Ok(self)
    }

    /// Builds the engine.
    ///
    /// # Errors
    /// When the replacement needles cannot be compiled into a search automaton, or a
    /// replacement that must move (`must_move`) was not given its `from`.
    pub fn build(&self) -> Result<Engine, Error> {
        let mut groups = Vec::new();
        if let Some(rules) = &self.rules {
            if let Some(d) = rules
                .dropped_replacements()
                .iter()
                .find(|d| d.must_move.is_some())
            {
                return Err(Error::from(Detail::Rules(format!(
                    "{}: {d}",
                    rules.origin()
                ))));
            }
            for r in rules.replacements() {
                let mode = match r.serialized() {
                    SerializedMode::Auto => Mode::Auto,
                    SerializedMode::Off => Mode::Off,
                    SerializedMode::Repair => Mode::Repair,
                };
                // Every variant of a host or path keeps to where the source's host or path
                // ends; a host moved with its subdomains has boundaries of its own per pair.
                let boundary = if r.boundaries() {
                    Boundary::of_source(r.source().as_bytes())
                } else {
                    Boundary::NONE
                };
                let pairs: Vec<(&[u8], &[u8], Boundary)> = r
                    .pairs()
                    .iter()
                    .map(|p| {
                        let b = match p.kind() {
                            PairKind::ExactHost => Boundary::exact_host(),
                            PairKind::Subdomain => Boundary::subdomain(p.from(), p.to()),
                            _ => boundary.clone(),
                        };
                        (p.from(), p.to(), b)
                    })
                    .collect();
                groups.push(
                    Replacements::bounded(
                        r.label().to_string(),
                        &pairs,
                        Options::new(mode).strict(self.strict).base64(r.base64()),
                        self.encoding_checks,
                    )
                    .map_err(Error::replacements)?,
                );
            }
        }
        let cli = if self.replace.is_empty() {
            None
        } else {
            let pairs: Vec<(&[u8], &[u8], Boundary)> = self
                .replace
                .iter()
                .map(|(a, b, boundary)| (&a[..], &b[..], boundary.clone()))
                .collect();
            let options = Options::new(self.serialized).strict(self.strict);
            let mut cli =
                Replacements::bounded("--replace".into(), &pairs, options, self.encoding_checks)
                    .map_err(Error::replacements)?;
            cli.scope = self.replace_scope.clone();
            Some(cli)
        };
        Ok(Engine {
            max_token: self.max_token,
            threads: self.threads,
            batch: self.batch,
            chunk: self.chunk,
            out_buffer: if self.buffered_output { 0 } else { self.chunk },
            rules: self.rules.clone(),
            groups: Arc::new(groups),
            cli: cli.map(Arc::new),
            allow_incomplete: self.allow_incomplete,
            allow_missing_tables: self.allow_missing_tables,
            progress: self.progress.clone(),
            schema_cache: Arc::default(),
        })
    }
}

/// Rewrites dumps. Build it with [`EngineBuilder`].
#[derive(Clone, Debug)]
pub struct Engine {
    max_token: usize,
    threads: usize,
    pub(crate) batch: usize,
    chunk: usize,
    /// The buffer the run writes its output through (0: none, the output buffers).
    out_buffer: usize,
    pub(crate) rules: Option<Arc<CompiledRules>>,
    /// One group per `[[replace]]` rule, in file order.
    pub(crate) groups: Arc<Vec<Replacements>>,
    pub(crate) cli: Option<Arc<Replacements>>,
    allow_incomplete: bool,
    allow_missing_tables: bool,
    progress: Option<Arc<Progress>>,
    /// The `CREATE TABLE`s read so far, shared by the pass and the workers: a worker reads
    /// a statement before the pass does, so the pass (the sequential part) finds it read.
    schema_cache: Arc<Mutex<SchemaCache>>,
}

/// Where the current `INSERT` statement is.
#[derive(Default)]
struct InsertState {
    /// The whole statement is left out (table action).
    dropping: bool,
    /// The head, held back until a row survives `drop_rows`.
    held_head: Option<Vec<u8>>,
    /// The first row's opening bytes (no separator), for the first row that is written.
    first_open: Vec<u8>,
    rows_written: u64,
    /// 1-based row number in the table.
    row: u64,
    /// Its rows go through as they are or are all left out (see [`Run::skims`]); decided
    /// once at the head, since the reader asks before every token.
    skim: bool,
    /// Values of the row being read value by value, so far.
    row_values: usize,
}

impl Engine {
    /// Reads a whole dump from `input` and writes the rewritten dump to `output`.
    ///
    /// `input` is buffered because the parallel rewrite cuts its batches out of the
    /// source's own buffer, copying each byte once (see `parallel.rs`): a `&[u8]` is one;
    /// put a file or a pipe in a [`std::io::BufReader`], with a larger buffer than its
    /// default 8 KiB for fewer, larger pieces.
    ///
    /// # Errors
    /// Malformed input (with its position and table), a value or row the rules cannot
    /// process (masking fails closed), or a failed write. The output is then incomplete:
    /// callers must not treat it as a dump.
    pub fn run<R: BufRead, W: Write>(&self, input: R, output: W) -> Result<Report, Error> {
        let mut report = self.run_dump(input, output)?;
        // The rules' warnings come first, as they were known first; one list, so they are
        // counted, printed and reported like the dump's.
        let rules = self.rules.iter().flat_map(|r| {
            r.dropped_replacements().iter().map(|d| {
                Warning::rules(
                    WarningKind::ReplacementUnused,
                    format!("{}: {d}", r.origin()),
                )
            })
        });
        report.warnings.put_first(rules);
        Ok(report)
    }

    fn run_dump<R: BufRead, W: Write>(&self, input: R, output: W) -> Result<Report, Error> {
        // With nothing to change, every row is skimmed on the calling thread faster than
        // batches are handed to workers and back.
        let changes = self.rules.is_some() || self.cli.is_some();
        if self.threads > 1 && changes {
            return crate::parallel::run(self, self.threads, input, output);
        }
        let mut run = Run::new(self, output);
        let mut reader = DumpReader::with_lexer(input, self.lexer(), self.chunk);
        drive(
            &mut reader,
            &mut run,
            &mut ChangeAhead::default(),
            &mut Vec::new(),
        )?;
        run.finish()
    }

    /// The columns of the `CREATE TABLE` `statement` of table `name`, or `None` where they
    /// cannot be read (see [`SchemaCache`]).
    pub(crate) fn read_schema(
        &self,
        statement: &[u8],
        name: Span,
        delimiter: &[u8],
    ) -> Option<TableSchema> {
        match self.schema_cache.lock() {
            Ok(mut cache) => cache.parse(statement, name, delimiter).ok(),
            // Another thread panicked while reading: read without the cache.
            Err(_) => parse_create_table(statement, delimiter).ok(),
        }
    }

    /// A lexer as this engine configures it.
    pub(crate) fn lexer(&self) -> Lexer {
        LexerBuilder::new().max_token(self.max_token).build()
    }
}

/// See [`Run::row_filter`].
pub(crate) struct RowFilter<'a> {
    groups: &'a [&'a Replacements],
    /// Whether a group looks into base64, which hides its needles from the search: then
    /// `Lexer::skim_rows_before` looks where base64 may start ([`base64_look`]).
    pub(crate) base64: bool,
}

impl RowFilter<'_> {
    /// Where in `rows` the first needle may be (see [`Replacements::first_change`]): the
    /// rows that end before are copied through, unless [`RowFilter::flags`] says otherwise.
    #[inline]
    pub(crate) fn first_change(&self, rows: &[u8]) -> usize {
        self.groups
            .iter()
            .fold(rows.len(), |limit, g| g.first_change(&rows[..limit]))
    }
}

/// What `Lexer::skim_rows_before` does with a string (or the text after a `"` in one) when
/// replacements look into base64: stops where base64 may start that may hide a needle
/// ([`hooks::may_be_base64`], [`hooks::may_hold_base64`]), and looks
/// after the quotes only of serialized and JSON values, where nested base64 may be.
#[inline]
pub(crate) fn base64_look(text: &[u8]) -> Look {
    // Asked at every string of the rows skimmed: one table load passes most of them.
    const INTERESTING: [bool; 256] = {
        let mut table = [false; 256];
        // Whitespace and a backslash (an escaped line break) may come before a JSON
        // document (`may_nest_base64`).
        let firsts = b"YTcQeWaOCs{[ \t\r\n\\";
        let mut i = 0;
        while i < firsts.len() {
            table[firsts[i] as usize] = true;
            i += 1;
        }
        table
    };
    if !text.first().is_some_and(|&b| INTERESTING[usize::from(b)]) {
        return Look::Pass;
    }
    if hooks::starts_like_base64(text) {
        Look::Stop
    } else if hooks::may_nest_base64(text) {
        Look::Inside
    } else {
        Look::Pass
    }
}

/// Where the last search of [`RowFilter::first_change`] found something, so that the rows
/// and values before it are not searched again each time the reader asks (after every value
/// read one by one, and at every statement). Stream offsets: where the search began and what
/// it found, and the replacements it searched for, as another table may have others.
///
/// Kept across statements while the replacements stay the same: forgotten at each `INSERT`
/// head, a search ran ahead to the next needle (or the end of the bytes at hand) for every
/// statement, which with one row per `INSERT` made a batch cost its size times its
/// statements, and was most of the run.
#[derive(Default)]
pub(crate) struct ChangeAhead {
    found: Option<(u64, u64)>,
    groups: Vec<*const Replacements>,
}

impl ChangeAhead {
    /// The limit for `skim_rows_before`: `rest` starts at stream offset `offset`.
    pub(crate) fn limit(&mut self, filter: &RowFilter<'_>, rest: &[u8], offset: u64) -> usize {
        let same = self.groups.len() == filter.groups.len()
            && self
                .groups
                .iter()
                .zip(filter.groups)
                .all(|(&a, &b)| std::ptr::eq(a, b));
        if let (true, Some((from, at))) = (same, self.found) {
            // A reader that went back (a worker lexing a statement again) searches anew.
            if from <= offset {
                if let Some(limit) = at.checked_sub(offset) {
                    if limit <= rest.len() as u64 {
                        return limit as usize;
                    }
                }
            }
        }
        // Nothing found is kept too, as a limit at the end of `rest`: the skim may stop
        // before it (at base64, say) and ask again, and `rest` would be searched again
        // each time. A needle cut by the end of `rest` is in a row that ends past it, so
        // that row is not skimmed; once the reader is past the limit, it searches anew.
        let limit = filter.first_change(rest);
        self.found = Some((offset, offset + limit as u64));
        if !same {
            self.groups.clear();
            self.groups
                .extend(filter.groups.iter().map(|&g| g as *const _));
        }
        limit
    }
}

/// A statement's values as a worker thread rewrote them ahead of the sequential pass.
#[derive(Debug)]
pub(crate) struct Precomputed {
    /// The schema the worker saw for the statement's table; its values count only if the
    /// sequential pass sees the same one.
    pub(crate) schema: Option<Arc<TableSchema>>,
}

/// Whether a worker resolved a table's columns as the pass does: the same `CREATE TABLE`
/// text gives an equal schema.
pub(crate) fn same_schema(a: &Option<Arc<TableSchema>>, b: &Option<Arc<TableSchema>>) -> bool {
    match (a, b) {
        // Most often the one the workers share.
        (Some(a), Some(b)) if Arc::ptr_eq(a, b) => true,
        _ => a.as_deref() == b.as_deref(),
    }
}

/// A value a worker changed: the new token and what changed it.
pub(crate) struct PreValue {
    pub(crate) token: Vec<u8>,
    pub(crate) outcome: ValueOutcome,
}

/// Counts of rows and masked values in the current table, added to its report entry at
/// each statement's end ([`Run::settle_counts`]): finding the entry by name for every row
/// and every masked value cost more than masking a short value.
#[derive(Default)]
struct Tally {
    rows: u64,
    dropped: u64,
    /// Per mask of the table context, in its order.
    masked: Vec<MaskTally>,
}

/// What one mask did to the values of the current table.
#[derive(Clone, Copy, Default)]
struct MaskTally {
    /// Values it changed.
    masked: u64,
    /// NULL values it left NULL.
    null: u64,
    /// Empty strings it left empty.
    empty: u64,
}

impl MaskTally {
    fn is_zero(&self) -> bool {
        self.masked == 0 && self.null == 0 && self.empty == 0
    }
}

/// The state of one rewrite.
pub(crate) struct Run<'e, W: Write> {
    engine: &'e Engine,
    rules: Option<&'e CompiledRules>,
    out: io::BufWriter<W>,
    report: Report,
    schemas: Schemas,
    ctx: Option<TableCtx<'e>>,
    /// The replacements of the current `INSERT` when they are all it changes, value by
    /// value: rows in which none of them may change anything are copied through whole (see
    /// [`Run::row_filter`]). Empty otherwise.
    row_filter: Vec<&'e Replacements>,
    /// The table whose statements are being read, for lookups.
    current_table: String,
    /// The table the last `INSERT` head named.
    head_name: HeadName,
    /// Shared with worker threads once a lookup is complete (`Arc::make_mut` copies it if
    /// a later table records more).
    lookups: Option<Arc<LookupStore>>,
    /// Parallel runs: where completed lookups are published for the workers.
    pub(crate) lookup_board: Option<Arc<std::sync::Mutex<Option<Arc<LookupStore>>>>>,
    insert: InsertState,
    row: RowBuf,
    scratch: ValueScratch,
    token_out: Vec<u8>,
    mask_out: Vec<u8>,
    /// Hashes of values written to UNIQUE columns by masks, per table and column.
    unique_seen: HashMap<(String, usize), HashMap<u64, u64>>,
    /// The rows of a table numbered in its report entries written out to disk (see
    /// [`crate::tables`]), found for the last message that needed them.
    rows_written_out: std::cell::RefCell<Option<(String, u64)>>,
    /// The run's own (not a worker's, whose report the pass merges): its report's table
    /// entries may go to disk.
    spills: bool,
    /// The row being written by `finish_row`, whose buffer is moved out then: its number,
    /// and whether its key is in `held_key` (as written). Kept as bytes, not as a name: the
    /// name is made only for a message, and most rows get none.
    held_row: Option<(u64, bool)>,
    held_key: Vec<u8>,
    /// `finish_row`'s new values per column, kept between rows.
    masked: Vec<Option<Option<Vec<u8>>>>,
    /// Emptied buffers of masked values, for the next ones.
    spare: Vec<Vec<u8>>,
    /// Counts of the current table not yet in its report entry.
    tally: Tally,
    /// Parallel runs: set before an `INSERT` head whose values a worker rewrote.
    pub(crate) pre_head: Option<Precomputed>,
    /// Parallel runs: set before a `CREATE TABLE` a worker read (`Some(None)`: it could
    /// not), as [`Engine::read_schema`] reads it.
    pub(crate) pre_schema: Option<Option<Arc<TableSchema>>>,
    /// The current statement's values come from `pre_values`.
    pre_statement: bool,
    /// Changed values of the current batch by stream offset, in order; `pre_cursor` is the
    /// first not yet passed.
    pub(crate) pre_values: Vec<(u64, PreValue)>,
    pub(crate) pre_cursor: usize,
    /// Where mysqldump's header began, while its `-- Dump completed` trailer is still to come.
    open_dump: Option<Position>,
    /// Whether `ctx` took its columns from an `INSERT`'s column list.
    ctx_from_list: bool,
    /// The last token was the end of an `INSERT`, or whitespace after one.
    after_insert: bool,
    /// Per mask of the rules: whether it met a table of the dump.
    masks_met: Vec<bool>,
    /// Per replacement rule: whether a table its `must_move` names was in the dump.
    must_move_met: Vec<bool>,
    /// The run's own (not a worker's): where it publishes its row count.
    progress: Option<Arc<Progress>>,
}

impl<'e> Run<'e, Vec<u8>> {
    /// A run for a worker thread: it writes straight into `output`, after what it holds (the
    /// batch's output so far, in a pooled buffer so that it is not written into fresh pages).
    pub(crate) fn for_worker(engine: &'e Engine, output: Vec<u8>) -> Run<'e, Vec<u8>> {
        Run::with_buffer(engine, output, 0)
    }

    /// The worker's run is done: its output.
    pub(crate) fn into_output(self) -> Vec<u8> {
        // Written straight into the vector (`for_worker`): nothing is held back to flush.
        debug_assert!(self.out.buffer().is_empty());
        self.out.into_parts().0
    }

    /// How many bytes a worker's run has written.
    pub(crate) fn written(&self) -> usize {
        self.out.get_ref().len()
    }

    /// A worker's run ends the statements it rewrote since the last call: their report
    /// (with the rows it numbered), taken out.
    pub(crate) fn take_counts(&mut self) -> Report {
        self.settle_counts();
        // The report's entry for the table goes: the next INSERT looks it up again.
        self.after_insert = false;
        std::mem::take(&mut self.report)
    }

    /// Whitespace between two statements a worker's run rewrites, copied and counted as
    /// the pass copies it.
    pub(crate) fn copy_between(&mut self, gap: &[u8]) -> Result<(), Error> {
        self.report.bytes_in += gap.len() as u64;
        self.emit(gap)
    }

    /// Whether the run has warned since its statements were last taken.
    pub(crate) fn warned(&self) -> bool {
        !self.report.warnings.is_empty()
    }
}

impl<'e, W: Write> Run<'e, W> {
    pub(crate) fn new(engine: &'e Engine, output: W) -> Run<'e, W> {
        let mut run = Run::with_buffer(engine, output, engine.out_buffer);
        run.progress = engine.progress.clone();
        run.spills = true;
        run.schemas = Schemas::spilling();
        run
    }

    /// A run writing through a buffer of `capacity` bytes (0: straight to `output`).
    fn with_buffer(engine: &'e Engine, output: W, capacity: usize) -> Run<'e, W> {
        Run {
            engine,
            rules: engine.rules.as_deref(),
            out: io::BufWriter::with_capacity(capacity, output),
            report: Report::default(),
            schemas: Schemas::default(),
            ctx: None,
            row_filter: Vec::new(),
            current_table: String::new(),
            head_name: HeadName::default(),
            lookups: engine
                .rules
                .as_deref()
                .map(|r| Arc::new(LookupStore::new(r))),
            lookup_board: None,
            insert: InsertState::default(),
            row: RowBuf::default(),
            scratch: ValueScratch::default(),
            token_out: Vec::new(),
            mask_out: Vec::new(),
            unique_seen: HashMap::new(),
            rows_written_out: std::cell::RefCell::new(None),
            spills: false,
            held_row: None,
            held_key: Vec::new(),
            masked: Vec::new(),
            spare: Vec::new(),
            tally: Tally::default(),
            pre_head: None,
            pre_schema: None,
            pre_statement: false,
            pre_values: Vec::new(),
            pre_cursor: 0,
            open_dump: None,
            ctx_from_list: false,
            after_insert: false,
            masks_met: engine
                .rules
                .as_deref()
                .map_or_else(Vec::new, |r| vec![false; r.masks().len()]),
            must_move_met: engine
                .rules
                .as_deref()
                .map_or_else(Vec::new, |r| vec![false; r.replacements().len()]),
            progress: None,
        }
    }

    /// Takes a statement a worker rewrote into `table` with `schema`: its `output` and
    /// `report`. `false` (and nothing done) if the worker resolved the table differently,
    /// so the caller must replay the statement.
    pub(crate) fn delegated(
        &mut self,
        table: &str,
        schema: &Option<Arc<TableSchema>>,
        output: &[u8],
        report: Report,
        lookups: Option<u64>,
    ) -> Result<bool, Error> {
        if !same_schema(schema, &self.schemas.get(table).map_err(Error::spill)?) {
            return Ok(false);
        }
        // The worker read lookups as they are here, or it read none.
        if lookups.is_some() && lookups != self.lookups.as_ref().map(|l| l.generation()) {
            return Ok(false);
        }
        self.meet_masks(table);
        self.switch_table(table);
        // The next statement builds its own context.
        self.settle_counts();
        self.ctx = None;
        self.after_insert = false;
        self.make_room()?;
        self.report.merge(report);
        self.publish();
        self.out.write_all(output).map_err(Error::output)?;
        Ok(true)
    }

    /// Gives a worker's run the lookups the pass has completed.
    pub(crate) fn know_lookups(&mut self, store: Arc<LookupStore>) {
        self.lookups = Some(store);
    }

    /// Makes `schema` known for `table` (a worker's run, which sees no `CREATE TABLE`).
    pub(crate) fn know_schema(
        &mut self,
        table: &str,
        schema: Option<Arc<TableSchema>>,
    ) -> Result<(), Error> {
        if same_schema(&self.schemas.get(table).map_err(Error::spill)?, &schema) {
            // Known already: the next INSERT of the table most often, with one row each.
            return Ok(());
        }
        self.settle_counts();
        self.ctx = None;
        match schema {
            Some(s) => self.schemas.insert(table, s),
            None => self.schemas.remove(table),
        }
        .map_err(Error::spill)
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.report.bytes_out += bytes.len() as u64;
        self.publish();
        self.out.write_all(bytes).map_err(Error::output)
    }

    /// Shows the rows seen so far to a meter: a plain store, as often as the run writes.
    fn publish(&self) {
        if let Some(p) = &self.progress {
            p.set_rows(self.report.rows);
        }
    }

    fn rule_error(
        &self,
        pos: Position,
        column: Option<String>,
        row: bool,
        message: String,
    ) -> Error {
        let table = self
            .ctx
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| self.current_table.clone());
        Error::from(Detail::Rule {
            pos,
            table,
            column,
            row: row.then(|| self.row_name()),
            message,
        })
    }

    fn row_name(&self) -> String {
        let (number, key) = match self.held_row {
            Some((number, keyed)) => (number, keyed.then_some(self.held_key.as_slice())),
            None => (self.insert.row, self.row_key()),
        };
        let number = number + self.rows_written_out();
        match key {
            Some(k) => format!("{number} (key {})", String::from_utf8_lossy(k)),
            None => number.to_string(),
        }
    }

    /// The rows of the current table numbered in its report entries on disk, where the
    /// numbers of the rows since start. Read from disk for a message, at most once per table
    /// and spill; 0 if the disk fails (the message is then the one thing off).
    fn rows_written_out(&self) -> u64 {
        let Some(ctx) = &self.ctx else { return 0 };
        let mut cached = self.rows_written_out.borrow_mut();
        match &*cached {
            Some((name, n)) if *name == ctx.name => *n,
            _ => {
                let n = self.report.tables.written_out_rows(&ctx.name).unwrap_or(0);
                *cached = Some((ctx.name.clone(), n));
                n
            }
        }
    }

    /// Writes the report's table entries to disk if there are many (see [`crate::tables`]).
    fn make_room(&mut self) -> Result<(), Error> {
        if self.spills && self.report.tables.make_room().map_err(Error::spill)? {
            *self.rows_written_out.get_mut() = None;
        }
        Ok(())
    }

    /// The current row's key as written, when column 0 alone is the table's key.
    fn row_key(&self) -> Option<&[u8]> {
        self.ctx
            .as_ref()
            .filter(|c| c.first_is_key && !self.row.values.is_empty())
            .map(|_| {
                let (v, _) = &self.row.values[0];
                v.literal.of(self.row.token(0))
            })
    }

    pub(crate) fn token(&mut self, item: Item<'_>, delimiter_len: usize) -> Result<(), Error> {
        let Item { token, bytes, pos } = item;
        self.report.bytes_in += bytes.len() as u64;
        let after_insert = std::mem::replace(&mut self.after_insert, false);
        match token {
            Token::Comment => {
                self.dump_comment(bytes, pos);
                self.emit(bytes)
            }
            Token::Space => {
                self.after_insert = after_insert;
                self.emit(bytes)
            }
            Token::Delimiter { .. } => self.emit(bytes),
            Token::SandboxComment => {
                if self.rules.is_some_and(|r| r.input().strip_sandbox_line) {
                    Ok(())
                } else {
                    self.emit(bytes)
                }
            }
            Token::Statement { kind } => self.statement(kind, bytes, pos),
            Token::CreateTable { name } => {
                self.report.statements += 1;
                let name_span = name;
                let name = unquoted(name.of(bytes));
                self.meet_table(&name, pos)?;
                self.switch_table(&name);
                // A table created again may have other columns: no INSERT reuses the old
                // context.
                self.settle_counts();
                self.ctx = None;
                let schema = match self.pre_schema.take() {
                    Some(read) => read,
                    None => {
                        let delimiter = &bytes[bytes.len().saturating_sub(delimiter_len)..];
                        self.engine
                            .read_schema(bytes, name_span, delimiter)
                            .map(Arc::new)
                    }
                };
                if let Some(schema) = schema {
                    self.schemas
                        .insert(&name, schema.clone())
                        .map_err(Error::spill)?;
                    if let Some(rules) = self.rules {
                        if rules.unlisted() == Unlisted::Fail {
                            let missing = uncovered(rules, &schema);
                            if !missing.is_empty() {
                                return Err(Error::from(Detail::Rule {
                                    pos,
                                    table: name,
                                    column: None,
                                    row: None,
                                    message: format!(
                                        "policy unlisted = \"fail\": no rule masks or keeps column(s) {}",
                                        missing.join(", ")
                                    ),
                                }));
                            }
                        }
                    }
                } else if self.rules.is_some_and(|r| r.needs_columns(&name)) {
                    return Err(Error::from(Detail::Rule {
                        pos,
                        table: name,
                        column: None,
                        row: None,
                        message:
                            "cannot read the columns of this CREATE TABLE, and the rules need them"
                                .into(),
                    }));
                }
                if self.action_of(&name) == Action::Skip {
                    return Ok(());
                }
                self.emit(bytes)
            }
            Token::InsertHead {
                table,
                columns: None,
                ..
            } if after_insert && self.continues_insert(table.of(bytes)) => {
                // The table and context of the INSERT before, with only whitespace since:
                // nothing the general path below looks up can have changed.
                self.pre_statement = false;
                self.insert = InsertState {
                    row: self.insert.row,
                    ..InsertState::default()
                };
                self.start_insert(bytes)
            }
            Token::InsertHead { table, columns, .. } => {
                let name = self.head_name.of(table.of(bytes));
                if name != self.current_table {
                    self.meet_table(&name, pos)?;
                }
                self.switch_table(&name);
                let schema = self.schemas.get(&name).map_err(Error::spill)?;
                // The last statement's context fits if it read the same table by the same
                // columns: by its CREATE TABLE, not by an INSERT's own column list.
                let reuse = columns.is_none()
                    && !self.ctx_from_list
                    && self.ctx.as_ref().is_some_and(|c| c.name == name);
                self.ctx_from_list = columns.is_some();
                if !reuse {
                    // Built only for a new context: a dump with one row per INSERT meets
                    // this once per row, and the names are a vector of strings.
                    let names = match columns {
                        Some(list) => Some(Arc::new(column_names(list.of(bytes)))),
                        None => schema
                            .as_ref()
                            .map(|s| Arc::new(s.columns.iter().map(|c| c.name.clone()).collect())),
                    };
                    // A dump without CREATE TABLEs (`--no-create-info --complete-insert`)
                    // names its columns only here: the coverage policy holds for them too.
                    if let (Some(rules), Some(names)) = (self.rules, &names) {
                        if rules.unlisted() == Unlisted::Fail {
                            let missing = rules.uncovered(&name, names.iter().map(String::as_str));
                            if !missing.is_empty() {
                                return Err(Error::from(Detail::Rule {
                                    pos,
                                    table: name,
                                    column: None,
                                    row: None,
                                    message: format!(
                                        "policy unlisted = \"fail\": no rule masks or keeps column(s) {}",
                                        missing.join(", ")
                                    ),
                                }));
                            }
                        }
                    }
                    self.settle_counts();
                    let ctx = TableCtx::new(
                        &name,
                        names,
                        schema.as_deref(),
                        self.rules,
                        &self.engine.groups,
                        self.engine.cli.as_deref(),
                    )
                    .map_err(|m| Error::statement(pos, name.clone(), m))?;
                    self.ctx = Some(ctx);
                }
                // A worker's values count only if it resolved the table as we do.
                self.pre_statement = self
                    .pre_head
                    .take()
                    .is_some_and(|pre| same_schema(&pre.schema, &schema));
                let ctx = self.ctx.as_ref().expect("set above");
                let action = action_name(ctx.action);
                if self.report.tables.get_mut(&name).is_none() {
                    self.make_room()?;
                }
                let entry = self.report.tables.entry(&name);
                entry.action = action;
                self.insert = InsertState {
                    row: entry.numbered,
                    ..InsertState::default()
                };
                self.start_insert(bytes)
            }
            Token::RowOpen => {
                if !self.open_row(bytes) {
                    return Ok(());
                }
                if self.ctx.as_ref().is_some_and(|c| c.row_level()) {
                    self.row.start(bytes, pos);
                    return Ok(());
                }
                self.insert.rows_written += 1;
                self.row.start(b"", pos);
                self.emit(bytes)
            }
            Token::Value(value) => {
                if self.insert.dropping {
                    return Ok(());
                }
                if self.ctx.as_ref().is_some_and(|c| c.row_level()) {
                    self.row.push_value(value, bytes);
                    return Ok(());
                }
                if value.column == 0 {
                    // Keep the key for messages about this row.
                    self.row.push_value(value, bytes);
                }
                self.insert.row_values = value.column as usize + 1;
                if let Some(columns) = self.ctx.as_ref().and_then(|c| c.columns.as_deref()) {
                    if self.insert.row_values > columns.len() {
                        return self.check_row_width(self.insert.row_values);
                    }
                }
                let changed = self.replace_value(bytes, &value, pos, pos.byte)?;
                if changed {
                    let out = std::mem::take(&mut self.token_out);
                    let r = self.emit(&out);
                    self.token_out = out;
                    r
                } else {
                    self.emit(bytes)
                }
            }
            Token::RowClose => {
                if self.insert.dropping {
                    return Ok(());
                }
                if self.ctx.as_ref().is_some_and(|c| c.row_level()) {
                    self.row.finish(bytes);
                    return self.finish_row();
                }
                let values = std::mem::take(&mut self.insert.row_values);
                self.check_row_width(values)?;
                self.emit(bytes)
            }
            Token::Rows { rows, first } => {
                if !self.skims() {
                    // A worker took these rows whole, but this pass reads the table otherwise
                    // (another schema): look at them value by value.
                    self.report.bytes_in -= bytes.len() as u64;
                    return self.rows_by_value(bytes, pos, first);
                }
                self.pass_rows(rows, bytes)
            }
            Token::Values { values } => {
                // Only `skim_rows_before` makes these, asked for by a row filter: values no
                // replacement may change, in a table whose rows are not held. They follow
                // the row's first value, so the count so far is a value's position plus one.
                debug_assert!(!self.row_filter.is_empty());
                self.insert.row_values += values as usize;
                if let Some(columns) = self.ctx.as_ref().and_then(|c| c.columns.as_deref()) {
                    if self.insert.row_values > columns.len() {
                        return self.check_row_width(self.insert.row_values);
                    }
                }
                self.emit(bytes)
            }
            Token::InsertEnd | Token::InsertTail => {
                if token == Token::InsertTail && !self.insert.dropping {
                    self.check_insert_tail(bytes, pos)?;
                }
                self.insert.skim = false;
                self.row_filter.clear();
                self.report.statements += 1;
                self.settle_counts();
                self.after_insert = true;
                if let Some(t) = self
                    .ctx
                    .as_ref()
                    .and_then(|c| self.report.tables.get_mut(&c.name))
                {
                    t.numbered = self.insert.row;
                }
                if self.insert.dropping || self.insert.held_head.is_some() {
                    // Nothing of this statement was written.
                    return Ok(());
                }
                self.emit(bytes)
            }
        }
    }

    /// Whether an `INSERT` head naming the table as `raw` continues the last `INSERT`: the
    /// same table, its context read from its `CREATE TABLE`, and no worker's values to
    /// check.
    fn continues_insert(&self, raw: &[u8]) -> bool {
        !self.ctx_from_list
            && self.pre_head.is_none()
            && self.head_name.is(raw)
            && self
                .ctx
                .as_ref()
                .is_some_and(|c| c.name == self.current_table)
    }

    /// Starts the `INSERT` whose head is `bytes` in the current context, `self.insert` set
    /// to its row number.
    fn start_insert(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let ctx = self.ctx.as_ref().expect("an INSERT head sets the context");
        self.insert.skim = ctx.action != Action::Keep || ctx.changes_nothing();
        self.row_filter.clear();
        if !self.insert.skim && !ctx.row_level() {
            self.row_filter = ctx.all_groups();
        }
        if ctx.action != Action::Keep {
            self.insert.dropping = true;
            return Ok(());
        }
        if ctx.drop_rows.is_some() {
            self.insert.held_head = Some(bytes.to_vec());
            return Ok(());
        }
        self.emit(bytes)
    }

    /// Counts a row that opens with `open`; `false` if it is left out.
    fn open_row(&mut self, open: &[u8]) -> bool {
        self.insert.row += 1;
        self.report.rows += 1;
        self.tally.rows += 1;
        if self.insert.dropping {
            self.count_dropped();
            return false;
        }
        if self.insert.first_open.is_empty() && self.insert.rows_written == 0 {
            self.insert.first_open = open.to_vec();
        }
        true
    }

    /// Stops at a row whose number of values is not the number of columns the rules read
    /// it by: masks and conditions find columns by position, so a row with one value more
    /// or less would have its values masked as the wrong columns, or not at all. (A table
    /// without known columns is read by no column, and a restore rejects such a row.)
    fn check_row_width(&self, values: usize) -> Result<(), Error> {
        let Some(columns) = self.ctx.as_ref().and_then(|c| c.columns.as_deref()) else {
            return Ok(());
        };
        if values == columns.len() {
            return Ok(());
        }
        let message = format!(
            "the row has {values} value{}, the table has {} column{} ({}): the dump does not \
             match its CREATE TABLE or column list",
            if values == 1 { "" } else { "s" },
            columns.len(),
            if columns.len() == 1 { "" } else { "s" },
            columns.join(", ")
        );
        Err(self.rule_error(self.row.pos, None, true, message))
    }

    /// Whether the rows of the current `INSERT` are held whole ([`Run::whole_row`] takes
    /// them in one step).
    pub(crate) fn holds_rows(&self) -> bool {
        !self.insert.skim && self.ctx.as_ref().is_some_and(|c| c.row_level())
    }

    /// A whole row (where [`Run::holds_rows`]), as [`Run::token`] takes it token by token;
    /// `values` are its values, swapped for the last row's.
    pub(crate) fn whole_row(
        &mut self,
        row: RowItem<'_>,
        values: &mut Vec<(understudy_sqldump::Value, Range<usize>)>,
    ) -> Result<(), Error> {
        self.report.bytes_in += row.bytes.len() as u64;
        if !self.open_row(&row.bytes[..row.parts.open]) {
            return Ok(());
        }
        self.row.fill(row.bytes, row.parts, values, row.pos);
        self.finish_row()
    }

    /// Whole rows that go through as they are (or are all left out).
    fn pass_rows(&mut self, rows: u32, bytes: &[u8]) -> Result<(), Error> {
        let rows = u64::from(rows);
        self.insert.row += rows;
        self.report.rows += rows;
        let table = self
            .ctx
            .as_ref()
            .and_then(|c| self.report.tables.get_mut(&c.name));
        if self.insert.dropping {
            self.report.rows_dropped += rows;
            if let Some(t) = table {
                t.rows += rows;
                t.rows_dropped += rows;
            }
            return Ok(());
        }
        if let Some(t) = table {
            t.rows += rows;
        }
        self.insert.rows_written += rows;
        self.emit(bytes)
    }

    /// The replacements of the current `INSERT`, if rows in which none of them may change
    /// anything can be copied through whole: they are all that changes its values, one
    /// value at a time (no mask, no row filter, no lookup).
    pub(crate) fn row_filter(&self) -> Option<RowFilter<'_>> {
        (!self.row_filter.is_empty()).then(|| RowFilter {
            groups: &self.row_filter,
            base64: self.row_filter.iter().any(|g| g.looks_into_base64()),
        })
    }

    /// Rows that [`Run::row_filter`] let through, taken whole by
    /// [`understudy_sqldump::Lexer::skim_rows_before`].
    pub(crate) fn unchanged_rows(&mut self, item: Item<'_>) -> Result<(), Error> {
        match item.token {
            Token::Rows { rows, .. } => {
                self.report.bytes_in += item.bytes.len() as u64;
                self.pass_rows(rows, item.bytes)
            }
            _ => self.token(item, 0),
        }
    }

    /// Whether the rows of the current `INSERT` go through as they are (or are all left
    /// out), so they may come as [`Token::Rows`] instead of value by value.
    pub(crate) fn skims(&self) -> bool {
        self.insert.skim
    }

    /// The rows of a [`Token::Rows`], lexed and taken value by value.
    fn rows_by_value(&mut self, bytes: &[u8], pos: Position, first: bool) -> Result<(), Error> {
        let lexer = self.engine.lexer().between_rows(first);
        let table = self.ctx.as_ref().map_or("", |c| c.name.as_str()).to_owned();
        let mut src = SliceCursor::new(SliceReader::new(lexer, pos, &table), bytes, false);
        drive(&mut src, self, &mut ChangeAhead::default(), &mut Vec::new())?;
        Ok(())
    }

    fn action_of(&self, table: &str) -> Action {
        self.rules
            .map(|r| r.table_action(table).action)
            .unwrap_or(Action::Keep)
    }

    fn count_dropped(&mut self) {
        self.report.rows_dropped += 1;
        self.tally.dropped += 1;
    }

    /// Adds the counts of the current table's rows and masked values to its report entry
    /// (see [`Tally`]). Called at each statement's end and before the table context goes.
    fn settle_counts(&mut self) {
        let Some(ctx) = &self.ctx else {
            self.tally.rows = 0;
            self.tally.dropped = 0;
            self.tally.masked.clear();
            return;
        };
        let tally = &mut self.tally;
        if let Some(t) = self.report.tables.get_mut(&ctx.name) {
            t.rows += tally.rows;
            t.rows_dropped += tally.dropped;
        }
        tally.rows = 0;
        tally.dropped = 0;
        for (k, n) in tally.masked.iter_mut().enumerate() {
            if n.is_zero() {
                continue;
            }
            let (mask, col) = ctx.masks[k];
            let column = self.report.column_mut(&ctx.name, &ctx.column_label(col));
            for (count, map) in [
                (n.masked, &mut column.masked),
                (n.null, &mut column.left_null),
                (n.empty, &mut column.left_empty),
            ] {
                if count > 0 {
                    map.add(mask.name(), count);
                }
            }
            self.report.values_left_null += n.null;
            self.report.values_left_empty += n.empty;
            *n = MaskTally::default();
        }
    }

    /// A table of the dump: the masks for it have met it. Stops at a table that is the
    /// rules' application under another table prefix, or that a rule names in another case.
    fn meet_table(&mut self, table: &str, pos: Position) -> Result<(), Error> {
        let Some(rules) = self.rules else {
            return Ok(());
        };
        self.meet_masks(table);
        let refuse = |message: String| Error::statement(pos, table.to_owned(), message);
        if let Some(check) = rules.prefix_check() {
            if let Some(prefix) = check.foreign_prefix(table) {
                return Err(refuse(format!(
                    "this table is {}'s under the table prefix `{prefix}`, but the rules use \
                     `{}` (variable `{}`), so they would mask nothing of it: pass --var {}={prefix}",
                    rules.origin(),
                    check.value(),
                    check.var(),
                    check.var(),
                )));
            }
        }
        // `USERS` for a rule's `users` (a dump from a server with lower_case_table_names, or
        // edited by hand). Asked only of names with capitals: thousands of tables in a
        // multisite dump, each against every mask, would cost for a case that has none.
        if !table.bytes().any(|b| b.is_ascii_uppercase()) {
            return Ok(());
        }
        let lower = table.to_ascii_lowercase();
        let by_case = rules
            .masks()
            .iter()
            .find(|m| !m.applies_to_table(table) && m.applies_to_table(&lower));
        if let Some(mask) = by_case {
            return Err(refuse(format!(
                "{} names this table only if case is ignored; MariaDB and MySQL on Linux keep \
                 the two apart, so the mask would not apply. Write the rule with the table's \
                 own case",
                mask.label()
            )));
        }
        Ok(())
    }

    /// Marks the masks whose tables `table` matches as met.
    fn meet_masks(&mut self, table: &str) {
        let Some(rules) = self.rules else { return };
        for (met, mask) in self.masks_met.iter_mut().zip(rules.masks()) {
            if !*met && mask.applies_to_table(table) {
                *met = true;
            }
        }
        for (met, r) in self.must_move_met.iter_mut().zip(rules.replacements()) {
            if !*met && r.must_move().is_some_and(|m| m.applies_to_table(table)) {
                *met = true;
            }
        }
    }

    /// A new table's statements begin: lookups filled from the previous table are complete.
    fn switch_table(&mut self, table: &str) {
        if table == self.current_table {
            return;
        }
        if let (Some(rules), Some(store)) = (self.rules, self.lookups.as_mut()) {
            let mut completed = false;
            for id in rules.lookups_fed_by(&self.current_table) {
                Arc::make_mut(store).mark_complete(id);
                completed = true;
            }
            if let (true, Some(board)) = (completed, &self.lookup_board) {
                if let Ok(mut slot) = board.lock() {
                    *slot = Some(store.clone());
                }
            }
        }
        self.current_table = table.to_string();
    }

    fn statement(&mut self, kind: StatementKind, bytes: &[u8], pos: Position) -> Result<(), Error> {
        self.report.statements += 1;
        match statement_effect(bytes) {
            Effect::Other => {}
            Effect::NotSql => return Err(not_sql(bytes, pos)),
            effect => {
                if self.leaves_out(&effect) {
                    return Ok(());
                }
                self.check_effect(&effect, bytes, pos)?;
            }
        }
        let Some(rules) = self.rules else {
            return self.emit(bytes);
        };
        if rules.input().strip_database_statements
            && matches!(
                kind,
                StatementKind::CreateDatabase | StatementKind::Use | StatementKind::DropDatabase
            )
        {
            return Ok(());
        }
        if let Some(table) = statement_table(bytes) {
            if rules.table_action(&unquoted(table)).action == Action::Skip {
                return Ok(());
            }
        }
        if rules.input().strip_definers {
            if let Some(clean) = strip_definers(bytes) {
                return self.emit(&clean);
            }
        }
        self.emit(bytes)
    }

    /// Whether a statement that writes rows goes into a table whose data the rules leave
    /// out, so the statement is left out too.
    fn leaves_out(&self, effect: &Effect<'_>) -> bool {
        let (Some(rules), Effect::WritesRows { table, .. }) = (self.rules, effect) else {
            return false;
        };
        rules.table_action(&unquoted(table)).action != Action::Keep
    }

    /// Refuses a statement that changes data or columns the rewrite cannot follow: rows
    /// written into a table the rules mask or filter, or holding text a replacement moves;
    /// columns moved or tables renamed where the rules resolved positions by name; SQL
    /// built at restore time while anything is masked.
    fn check_effect(&self, effect: &Effect<'_>, bytes: &[u8], pos: Position) -> Result<(), Error> {
        let refuse =
            |table: &str, message: String| Error::statement(pos, table.to_owned(), message);
        let needs = |table: &str| self.rules.is_some_and(|r| r.needs_columns(table));
        match effect {
            Effect::WritesRows { table, verb } => {
                let table = unquoted(table);
                if needs(&table) {
                    return Err(refuse(
                        &table,
                        format!(
                            "{verb} writes rows into a table the rules mask or filter, with \
                             values the rewrite cannot see one by one: dump with mysqldump's \
                             INSERT … VALUES, or leave the statement out"
                        ),
                    ));
                }
                let mover = self
                    .groups_for(&table)
                    .find(|g| g.first_change(bytes) < bytes.len())
                    .map(|g| g.label.clone());
                if let Some(label) = mover {
                    return Err(refuse(
                        &table,
                        format!(
                            "{verb} holds text that {label} moves, in a statement the rewrite \
                             cannot change: dump with mysqldump's INSERT … VALUES, or leave \
                             the statement out"
                        ),
                    ));
                }
            }
            Effect::ShiftsColumns { table } => {
                let table = unquoted(table);
                if needs(&table) {
                    return Err(refuse(
                        &table,
                        "ALTER TABLE adds, drops, renames or moves columns of a table the rules \
                         read by column name: the dump's later rows would be masked as the \
                         wrong columns. Dump the table as it is now instead"
                            .into(),
                    ));
                }
            }
            Effect::RenamesTables { pairs } => {
                for (from, to) in pairs {
                    for name in [unquoted(from), unquoted(to)] {
                        let touched = self.rules.is_some_and(|r| {
                            needs(&name) || r.table_action(&name).action != Action::Keep
                        });
                        if touched {
                            return Err(refuse(
                                &name,
                                "RENAME TABLE moves data to or from a table the rules mask, \
                                 filter or drop, under a name the rules do not see it by"
                                    .into(),
                            ));
                        }
                    }
                }
            }
            Effect::Dynamic => {
                if self.rules.is_some_and(|r| !r.masks().is_empty()) {
                    return Err(Error::from(Detail::Format {
                        pos,
                        table: None,
                        message: "PREPARE / EXECUTE runs SQL built from a string when the dump \
                                  is restored, which no rewrite can look into; the rules mask \
                                  data, so the statement is refused"
                            .into(),
                    }));
                }
            }
            Effect::Other | Effect::NotSql => {}
        }
        Ok(())
    }

    /// Refuses `ON DUPLICATE KEY UPDATE` that assigns literals (`email = 'a@b.c'`) in a
    /// table the rules mask or filter, or holding text a replacement moves: values the
    /// rewrite does not see one by one. `col = VALUES(col)` copies the row's own, rewritten,
    /// values and passes.
    fn check_insert_tail(&self, tail: &[u8], pos: Position) -> Result<(), Error> {
        let table = self.current_table.as_str();
        let literal = tail.iter().any(|&b| b == b'\'' || b == b'"');
        let refuse = |message: String| Error::statement(pos, table.to_owned(), message);
        if literal && self.rules.is_some_and(|r| r.needs_columns(table)) {
            return Err(refuse(
                "ON DUPLICATE KEY UPDATE assigns literal values to a table the rules mask or \
                 filter, which the rewrite cannot see one by one"
                    .into(),
            ));
        }
        if let Some(group) = self
            .groups_for(table)
            .find(|g| g.first_change(tail) < tail.len())
        {
            return Err(refuse(format!(
                "ON DUPLICATE KEY UPDATE holds text that {} moves, which the rewrite cannot \
                 change there",
                group.label
            )));
        }
        Ok(())
    }

    /// The replacement groups that apply to some column of `table`, command line's last.
    fn groups_for<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'e Replacements> + 'a {
        let rules = self.rules.map(|r| r.replacements()).unwrap_or(&[]);
        rules
            .iter()
            .zip(self.engine.groups.iter())
            .filter(move |(r, _)| r.applies_to_table(table))
            .map(|(_, g)| g)
            .chain(self.engine.cli.as_deref().filter(|c| c.table_ok(table)))
    }

    /// Applies replacements to one value, which starts at stream `offset`; `self.token_out`
    /// holds the new token when it changed.
    fn replace_value(
        &mut self,
        token: &[u8],
        value: &understudy_sqldump::Value,
        pos: Position,
        offset: u64,
    ) -> Result<bool, Error> {
        if self.pre_statement {
            // A worker did it: its changed values are listed by offset, in stream order.
            while self
                .pre_values
                .get(self.pre_cursor)
                .is_some_and(|(at, _)| *at < offset)
            {
                self.pre_cursor += 1;
            }
            let Some((at, pre)) = self.pre_values.get_mut(self.pre_cursor) else {
                return Ok(false);
            };
            if *at != offset {
                return Ok(false);
            }
            self.pre_cursor += 1;
            std::mem::swap(&mut self.token_out, &mut pre.token);
            let outcome = std::mem::take(&mut pre.outcome);
            self.count_replacement(value.column, outcome, pos)?;
            return Ok(true);
        }
        let Some(ctx) = self.ctx.as_ref() else {
            return Ok(false);
        };
        let groups = ctx.groups(value.column as usize);
        match replace(token, value, groups, &mut self.scratch, &mut self.token_out) {
            Ok(None) => Ok(false),
            Ok(Some(outcome)) => {
                self.count_replacement(value.column, outcome, pos)?;
                Ok(true)
            }
            Err((_, e)) => Err(self.replacement_failed(value.column, pos, &e)),
        }
    }

    /// Applies the column's replacements to a masked value: a mask inside serialized data
    /// keeps the rest of the value, URLs included.
    fn replace_masked(
        &mut self,
        bytes: &mut Vec<u8>,
        value: &understudy_sqldump::Value,
        pos: Position,
    ) -> Result<(), Error> {
        let Some(ctx) = self.ctx.as_ref() else {
            return Ok(());
        };
        let groups = ctx.groups(value.column as usize);
        match replace_decoded(bytes, groups, &mut self.scratch) {
            Ok(None) => Ok(()),
            Ok(Some(outcome)) => self.count_replacement(value.column, outcome, pos),
            Err((_, e)) => Err(self.replacement_failed(value.column, pos, &e)),
        }
    }

    /// Counts one replaced value in the report, per rule and encoding; keeps its warnings.
    /// Runs for every replaced value, so it allocates only for what the report has not seen.
    fn count_replacement(
        &mut self,
        column: u32,
        outcome: ValueOutcome,
        pos: Position,
    ) -> Result<(), Error> {
        let row = (!outcome.warnings.is_empty()).then(|| self.row_name());
        let Some(ctx) = self.ctx.as_ref() else {
            return Ok(());
        };
        let index = column as usize;
        let groups = ctx.groups(index);
        let column = ctx.column_label(index);
        self.report.values_replaced += 1;
        self.report.serialized_rewritten += u64::from(outcome.serialized);
        let col = self.report.column_mut(&ctx.name, &column);
        for &i in &outcome.changed_by {
            count_in(&mut col.replaced, &groups[i].label);
        }
        count_in(&mut col.encodings, outcome.encoding);
        col.corrupt_serialized += outcome.warnings.len() as u64;
        // Warnings name the column as messages do, quoted.
        let quoted = (!outcome.warnings.is_empty()).then(|| ctx.column_name(index));
        for w in outcome.warnings {
            self.report.warnings.push(Warning::corrupt_serialized(
                pos,
                &ctx.name,
                quoted.clone().unwrap_or_default(),
                row.clone().unwrap_or_default(),
                w.to_string(),
            ));
        }
        if self.spills && quoted.is_some() {
            self.report.warnings.make_room().map_err(Error::spill)?;
        }
        Ok(())
    }

    /// The error for a value that strict mode refuses.
    fn replacement_failed(
        &self,
        column: u32,
        pos: Position,
        e: &understudy_phpser::Error,
    ) -> Error {
        let column = self.ctx.as_ref().map(|c| c.column_name(column as usize));
        self.rule_error(
            pos,
            column,
            true,
            format!("looks serialized but does not parse ({e}); stopping (strict)"),
        )
    }

    /// A whole row is in `self.row`: fill lookups, drop or mask, replace, write.
    fn finish_row(&mut self) -> Result<(), Error> {
        self.check_row_width(self.row.values.len())?;
        let ctx = self.ctx.as_ref().expect("rows come after a head");
        let names: &[String] = ctx.columns.as_deref().map(Vec::as_slice).unwrap_or(&[]);
        let pos = self.row.pos;
        if !ctx.lookups.is_empty() {
            let store = Arc::make_mut(
                self.lookups
                    .as_mut()
                    .expect("row-level work comes from rules"),
            );
            let view = RowView::new(&self.row, names, &ctx.bound);
            for &id in &ctx.lookups {
                if let Err(e) = store.record(id, &view) {
                    let msg = e.to_string();
                    return Err(self.rule_error(pos, None, true, msg));
                }
            }
        }
        let store = self
            .lookups
            .as_deref()
            .expect("row-level work comes from rules");
        let view = RowView::new(&self.row, names, &ctx.bound);
        for &(rule, col, cond) in &ctx.must_move {
            let holds = match cond.map(|c| c.matches(&view, store)) {
                None | Some(Ok(true)) => true,
                Some(Ok(false)) => false,
                Some(Err(e)) => {
                    let msg = format!("must_move: {e}");
                    return Err(self.rule_error(pos, None, true, msg));
                }
            };
            if !holds {
                continue;
            }
            let token = self.row.token(col);
            let moved = self.engine.groups[rule].first_change(token) < token.len();
            let value = match self.row.cell(col) {
                Some(Cell::Bytes(b)) => b,
                _ => b"NULL",
            };
            self.report
                .must_move
                .entry(rule)
                .or_default()
                .saw(moved, value);
        }
        if let Some(cond) = ctx.drop_rows {
            match cond.matches(&view, store) {
                Ok(true) => {
                    self.count_dropped();
                    return Ok(());
                }
                Ok(false) => {}
                Err(e) => {
                    let msg = format!("drop_rows: {e}");
                    return Err(self.rule_error(pos, None, true, msg));
                }
            }
        }
        // Masks: each one that applies replaces the column's current value.
        // Reused from row to row (a row's masks are few, its values many).
        let mut masked = std::mem::take(&mut self.masked);
        masked.clear();
        masked.resize(self.row.values.len(), None);
        if self.tally.masked.len() < ctx.masks.len() {
            self.tally
                .masked
                .resize(ctx.masks.len(), MaskTally::default());
        }
        // The masks the row's key selects, if its masks are keyed; a row without the key's
        // column has each mask tested, which says what is wrong.
        let selected = ctx.keyed.as_ref().and_then(|keyed| {
            Some(match view.row.cell(keyed.column)? {
                Cell::Bytes(b) => keyed.by_text.get(b).map_or(&[][..], Vec::as_slice),
                Cell::Null => &[],
            })
        });
        for (k, &(mask, col)) in ctx.masks.iter().enumerate() {
            let applies = match (selected, &ctx.keyed) {
                (Some(selected), Some(keyed)) if keyed.keyed[k] => selected.contains(&k),
                _ => mask.applies(&view, store).map_err(|e| {
                    self.rule_error(pos, Some(ctx.column_name(col)), true, e.to_string())
                })?,
            };
            if !applies {
                continue;
            }
            // Free text without the bytes any address holds stays as it is, found so in the
            // escaped bytes: most posts, which would otherwise be decoded only to be scanned.
            if masked[col].is_none() && mask.inside().is_none() {
                if let Some(raw) = view.row.escaped_text(col) {
                    if mask.scrub_may_find(raw) == Some(false) {
                        self.tally.masked[k].empty += u64::from(raw.is_empty());
                        continue;
                    }
                }
            }
            let current: Option<Cell<'_>> = match &masked[col] {
                Some(Some(v)) => Some(Cell::Bytes(v)),
                Some(None) => Some(Cell::Null),
                None => view.row.cell(col),
            };
            let Some(original) = current else {
                return Err(self.rule_error(
                    pos,
                    Some(ctx.column_name(col)),
                    true,
                    "the row has fewer values than the table has columns".into(),
                ));
            };
            // A NULL or an empty string the mask leaves as it is counts apart from the values
            // it masked: a report that calls NULLs masked claims more than was done.
            let blank = match original {
                Cell::Null => Some(true),
                Cell::Bytes(b) => b.is_empty().then_some(false),
            };
            let unique = ctx.unique.get(col).copied().unwrap_or(false) || mask.is_unique();
            let max_chars = ctx.max_chars.get(col).copied().flatten();
            let new = if mask.strategy() == StrategyKind::Scrub && mask.inside().is_none() {
                // Free text: only the addresses in it change; serialized strings keep
                // their lengths right. A cell an earlier mask replaced holds fakes already:
                // scrubbing them again would break the "same address, same fake" promise.
                let Cell::Bytes(whole) = original else {
                    self.tally.masked[k].null += 1;
                    continue;
                };
                if masked[col].is_some() {
                    continue;
                }
                match scrub_value(mask, whole, &mut self.mask_out) {
                    Ok(0) => {
                        self.tally.masked[k].empty += u64::from(whole.is_empty());
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let msg = format!("{}: {e}", mask.label());
                        return Err(self.rule_error(pos, Some(ctx.column_name(col)), true, msg));
                    }
                }
                if let Some(max) = max_chars {
                    let n = char_count(&self.mask_out);
                    if n > max {
                        return Err(self.rule_error(
                            pos,
                            Some(ctx.column_name(col)),
                            true,
                            format!(
                                "{}: the scrubbed value has {n} characters, the column takes {max}",
                                mask.label()
                            ),
                        ));
                    }
                }
                Some(take_buffer(&mut self.mask_out, &mut self.spare))
            } else if let Some(inside) = mask.inside() {
                // Mask leaves inside the value; the value keeps its shape.
                let Cell::Bytes(whole) = original else {
                    self.tally.masked[k].null += 1;
                    continue;
                };
                if whole.is_empty() {
                    self.tally.masked[k].empty += 1;
                    continue;
                }
                let mut leaf = |v: &[u8]| -> Result<Option<Vec<u8>>, String> {
                    let fit = Fit::default();
                    let mut buf = Vec::new();
                    match mask
                        .apply_into(Cell::Bytes(v), &view, store, fit, &mut buf)
                        .map_err(|e| e.to_string())?
                    {
                        Masked::Null => Ok(None),
                        Masked::Value => Ok(Some(buf)),
                    }
                };
                if !mask.path_is_optional() {
                    let checked = match inside {
                        Inside::Serialized => check_serialized_path(whole, mask.path()),
                        Inside::Json => check_json_path(whole, mask.path()),
                    };
                    if let Err(e) = checked {
                        return Err(self.rule_error(
                            pos,
                            Some(ctx.column_name(col)),
                            true,
                            format!(
                                "{}: the mask's path does not fit this value: {e}. The data \
                                 may sit elsewhere; if rows may lack the path, mark the mask \
                                 `path_optional = true`",
                                mask.label()
                            ),
                        ));
                    }
                }
                // From `spare`, as every masked value, which goes back there once written.
                let mut out = self.spare.pop().unwrap_or_default();
                let result = match inside {
                    Inside::Serialized => mask_serialized(whole, mask.path(), &mut out, &mut leaf),
                    Inside::Json => mask_json(whole, mask.path(), &mut out, &mut leaf),
                };
                match result {
                    Ok(0) => {
                        out.clear();
                        self.spare.push(out);
                        continue;
                    }
                    Ok(_) => Some(out),
                    Err(e) => {
                        return Err(self.rule_error(
                            pos,
                            Some(ctx.column_name(col)),
                            true,
                            format!("{}: {e}", mask.label()),
                        ));
                    }
                }
            } else {
                let mut attempt = 0;
                loop {
                    let fit = Fit {
                        max_chars,
                        unique,
                        attempt,
                    };
                    let result = mask
                        .apply_into(original, &view, store, fit, &mut self.mask_out)
                        .map_err(|e| {
                            self.rule_error(pos, Some(ctx.column_name(col)), true, e.to_string())
                        })?;
                    let value = match result {
                        Masked::Null => None,
                        Masked::Value => Some(take_buffer(&mut self.mask_out, &mut self.spare)),
                    };
                    if !unique || value.is_none() {
                        break value;
                    }
                    // A collision is the same output from a different input; the same input
                    // twice (a non-unique source column) keeps its one output.
                    let seen = self.unique_seen.entry((ctx.name.clone(), col)).or_default();
                    match seen.entry(hash_of(&value)) {
                        Entry::Vacant(slot) => {
                            slot.insert(hash_of(&original));
                            break value;
                        }
                        Entry::Occupied(slot) if *slot.get() == hash_of(&original) => break value,
                        Entry::Occupied(_) => {}
                    }
                    attempt += 1;
                    if attempt >= MAX_UNIQUE_ATTEMPTS {
                        return Err(self.rule_error(
                            pos,
                            Some(ctx.column_name(col)),
                            true,
                            format!(
                                "{}: no unused value after {attempt} attempts for a UNIQUE column",
                                mask.label()
                            ),
                        ));
                    }
                }
            };
            let tally = &mut self.tally.masked[k];
            match (blank, &new) {
                (Some(true), None) => tally.null += 1,
                (Some(false), Some(v)) if v.is_empty() => tally.empty += 1,
                _ => {
                    self.report.values_masked += 1;
                    tally.masked += 1;
                }
            }
            masked[col] = Some(new);
        }
        // Write the row.
        let first = self.insert.rows_written == 0;
        if let Some(head) = self.insert.held_head.take() {
            self.emit(&head)?;
        }
        let mut key = std::mem::take(&mut self.held_key);
        key.clear();
        let keyed = self.row_key().map(|k| key.extend_from_slice(k)).is_some();
        self.held_key = key;
        self.held_row = Some((self.insert.row, keyed));
        let row = std::mem::take(&mut self.row);
        // What no rule changes goes out in runs of the row's bytes, not a write per value.
        let mut unchanged = row.open.start;
        if first && row.bytes[row.open.clone()].contains(&b',') {
            let open = std::mem::take(&mut self.insert.first_open);
            self.emit(&open)?;
            unchanged = row.open.end;
        }
        self.insert.rows_written += 1;
        let mut result = Ok(());
        for (i, (value, range)) in row.values.iter().enumerate() {
            let token = row.token(i);
            let changed = if let Some(new) = masked[i].take() {
                // The replacements still apply to what a mask left: a mask inside serialized
                // data keeps the rest of the value, URLs included.
                match new {
                    Some(mut bytes) => {
                        if let Err(e) = self.replace_masked(&mut bytes, value, pos) {
                            result = Err(e);
                            break;
                        }
                        encode(token, value, Some(&bytes), &mut self.token_out);
                        // Keep as many as a row of masks takes (a value dropped on the way,
                        // a retry for a UNIQUE column, leaves one fewer), and only buffers of
                        // a short value's size.
                        if self.spare.len() < MAX_SPARE && bytes.capacity() <= MAX_SPARE_BYTES {
                            bytes.clear();
                            self.spare.push(bytes);
                        }
                    }
                    None => encode(token, value, None, &mut self.token_out),
                }
                true
            } else {
                let offset = pos.byte + (range.start - row.open.start) as u64;
                match self.replace_value(token, value, pos, offset) {
                    Ok(changed) => changed,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            };
            if changed {
                result = self.emit(&row.bytes[unchanged..range.start]);
                let out = std::mem::take(&mut self.token_out);
                result = result.and_then(|()| self.emit(&out));
                self.token_out = out;
                unchanged = range.end;
                if result.is_err() {
                    break;
                }
            }
        }
        if result.is_ok() {
            result = self.emit(&row.bytes[unchanged..row.close.end]);
        }
        self.row = row;
        self.held_row = None;
        self.masked = masked;
        result
    }

    /// Follows mysqldump's and mariadb-dump's header and trailer comments, which tell a
    /// whole dump from one cut at a statement boundary.
    fn dump_comment(&mut self, comment: &[u8], pos: Position) {
        if comment.starts_with(b"-- MySQL dump ") || comment.starts_with(b"-- MariaDB dump ") {
            self.open_dump = Some(pos);
        } else if comment.starts_with(b"-- Dump completed") {
            self.open_dump = None;
        }
    }

    /// Whether the input was a whole dump, checked at its end.
    fn check_whole(&self) -> Result<(), Error> {
        let end = Position { byte: 0, line: 1 };
        if self.report.bytes_in == 0 {
            return Err(Error::from(Detail::Format {
                pos: end,
                table: None,
                message: "the input is empty: not a MySQL dump (did the dump command fail?)".into(),
            }));
        }
        if self.report.statements == 0 {
            return Err(Error::from(Detail::Format {
                pos: end,
                table: None,
                message: "the input holds no SQL statement: not a MySQL dump".into(),
            }));
        }
        if let (Some(rules), false) = (self.rules, self.engine.allow_missing_tables) {
            let unmet: Vec<&str> = rules
                .masks()
                .iter()
                .zip(&self.masks_met)
                .filter(|(m, met)| !**met && !m.is_optional())
                .map(|(m, _)| m.label())
                .collect();
            if !unmet.is_empty() {
                let hint = rules.prefix_check().map_or(String::new(), |p| {
                    format!(
                        " Is the table prefix `{}` right (--var {}=…)?",
                        p.value(),
                        p.var()
                    )
                });
                return Err(Error::from(Detail::Rules(format!(
                    "{}: {} mask{} met no table of the dump, so what {} for is not masked: {}.{hint} \
                     If the dump leaves these tables out on purpose, pass --allow-missing-tables \
                     (or mark the masks `optional = true`)",
                    rules.origin(),
                    unmet.len(),
                    if unmet.len() == 1 { "" } else { "s" },
                    if unmet.len() == 1 { "it is" } else { "they are" },
                    unmet.join(", ")
                ))));
            }
        }
        if let Some(rules) = self.rules {
            for (i, r) in rules.replacements().iter().enumerate() {
                let Some(must) = r.must_move() else { continue };
                let seen = self.report.must_move.get(&i);
                if seen.is_some_and(|s| s.moved) {
                    continue;
                }
                let met = self.must_move_met.get(i).copied().unwrap_or(false);
                if !met && self.engine.allow_missing_tables {
                    continue;
                }
                let from = must.from();
                let held = match seen {
                    Some(s) if !s.values.is_empty() => format!(
                        "it holds {}",
                        s.values
                            .iter()
                            .map(|v| format!("{v:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ if met => "the dump has no such row".to_owned(),
                    _ => "the dump has no such table".to_owned(),
                };
                return Err(Error::from(Detail::Rules(format!(
                    "{}: {} found {from:?} nowhere in {}, where the site keeps its own \
                     address ({held}): the copy would still point at production. Give the \
                     value the dump holds there",
                    rules.origin(),
                    r.label(),
                    must.shown()
                ))));
            }
        }
        if let (Some(header), false) = (self.open_dump, self.engine.allow_incomplete) {
            return Err(Error::from(Detail::Format {
                pos: header,
                table: None,
                message: format!(
                    "the dump begins with mysqldump's header here but ends after {} bytes \
                     without its \"-- Dump completed\" trailer: it was cut short (a lost \
                     connection, a killed dump, a full disk). Dump again, or pass \
                     --allow-incomplete to rewrite what there is",
                    self.report.bytes_in
                ),
            }));
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Report, Error> {
        self.settle_counts();
        self.check_whole()?;
        if let Some(rules) = self.rules {
            for sql in rules.append_sql() {
                let sql = sql.trim_end();
                let mut text = format!("\n{sql}");
                if !sql.ends_with(';') {
                    text.push(';');
                }
                text.push('\n');
                self.emit(text.as_bytes())?;
                self.report.appended_statements += 1;
            }
        }
        self.out.flush().map_err(Error::output)?;
        Ok(self.report)
    }
}

/// How many emptied buffers of masked values [`Run`] keeps, and how large each may be.
const MAX_SPARE: usize = 64;
const MAX_SPARE_BYTES: usize = 64 * 1024;

/// The bytes in `buf`, which gets an emptied buffer from `spare` in their place.
impl<W: Write> Visit for Run<'_, W> {
    fn want(&self) -> Want<'_> {
        if self.skims() {
            Want::Skim
        } else if let Some(filter) = self.row_filter() {
            Want::Filter(filter)
        } else if self.holds_rows() {
            Want::Rows
        } else {
            Want::Tokens
        }
    }

    fn visit(&mut self, step: Step<'_>, values: &mut RowValues) -> Result<Flow, Error> {
        match step {
            Step::Rows(item) => self.unchanged_rows(item)?,
            Step::Row(row) => self.whole_row(row, values)?,
            Step::Token(item, delimiter_len) | Step::Starts(item, delimiter_len, _) => {
                self.token(item, delimiter_len)?
            }
        }
        Ok(Flow::Continue)
    }
}

fn take_buffer(buf: &mut Vec<u8>, spare: &mut Vec<Vec<u8>>) -> Vec<u8> {
    std::mem::replace(buf, spare.pop().unwrap_or_default())
}

/// Adds one to `key`'s count, allocating the key only the first time.
pub(crate) fn count_in(counts: &mut Counts, key: &str) {
    counts.add(key, 1);
}

/// Characters in possibly-invalid UTF-8 (an invalid byte counts as one), as MariaDB counts
/// them against `varchar(N)`.
fn char_count(b: &[u8]) -> usize {
    b.utf8_chunks()
        .map(|c| c.valid().chars().count() + c.invalid().len())
        .sum()
}

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The error for a statement that does not begin with an SQL word: the input is not a dump.
fn not_sql(bytes: &[u8], pos: Position) -> Error {
    let start = &bytes[..bytes.len().min(40)];
    let hint = if bytes.starts_with(b"\xEF\xBB\xBF") {
        " (it begins with a byte-order mark, which dump tools do not write: remove it)"
    } else if bytes.first() == Some(&0) {
        " (NUL bytes, where a statement should begin)"
    } else {
        ""
    };
    Error::from(Detail::Format {
        pos,
        table: None,
        message: format!(
            "not a MySQL dump: a statement here begins with {:?}, not an SQL word{hint}",
            String::from_utf8_lossy(start)
        ),
    })
}

pub(crate) fn unquoted(raw: &[u8]) -> String {
    String::from_utf8_lossy(&unquote_identifier(raw)).into_owned()
}

/// The table the last `INSERT` head named, as written and [`unquoted`]: with one row per
/// `INSERT`, most heads name the table the one before did, and are not unquoted again.
#[derive(Default)]
pub(crate) struct HeadName {
    raw: Vec<u8>,
    name: Option<String>,
}

impl HeadName {
    /// Whether the last head wrote its table as `raw`.
    pub(crate) fn is(&self, raw: &[u8]) -> bool {
        self.name.is_some() && self.raw == raw
    }

    /// The unquoted name of the table a head writes as `raw`.
    pub(crate) fn of(&mut self, raw: &[u8]) -> String {
        match &self.name {
            Some(name) if self.raw == raw => name.clone(),
            _ => {
                let name = unquoted(raw);
                self.raw.clear();
                self.raw.extend_from_slice(raw);
                self.name = Some(name.clone());
                name
            }
        }
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Keep => "keep",
        Action::DropData => "drop_data",
        Action::Skip => "skip",
    }
}

/// Removes `DEFINER=user@host` clauses (views, triggers, routines, events): they fail on a
/// target without that account. `None` when there are none.
fn strip_definers(statement: &[u8]) -> Option<Vec<u8>> {
    const KEY: &[u8] = b"DEFINER=";
    let finder = |hay: &[u8]| {
        hay.windows(KEY.len())
            .position(|w| w.eq_ignore_ascii_case(KEY))
    };
    let mut at = finder(statement)?;
    let mut out = Vec::with_capacity(statement.len());
    let mut copied = 0;
    loop {
        let start = at;
        let mut i = at + KEY.len();
        // user @ host, each quoted with ` or ' or ", or bare.
        for part in 0..2 {
            match statement.get(i) {
                Some(&q @ (b'`' | b'\'' | b'"')) => {
                    // Quoted; a doubled quote stands for itself.
                    i += 1;
                    loop {
                        i += statement[i..].iter().position(|&b| b == q)? + 1;
                        if statement.get(i) != Some(&q) {
                            break;
                        }
                        i += 1;
                    }
                }
                _ => {
                    while statement.get(i).is_some_and(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'%' | b'-')
                    }) {
                        i += 1;
                    }
                }
            }
            if part == 0 {
                if statement.get(i) != Some(&b'@') {
                    break;
                }
                i += 1;
            }
        }
        if statement.get(i) == Some(&b' ') {
            i += 1;
        }
        out.extend_from_slice(&statement[copied..start]);
        copied = i;
        match finder(&statement[i..]) {
            Some(next) => at = i + next,
            None => break,
        }
    }
    out.extend_from_slice(&statement[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{
        base64_look, strip_definers, EngineBuilder, Item, Look, Position, Run, SliceReader, Token,
    };

    /// The table in front of `base64_look` lets through every text the functions behind it
    /// would stop at or look inside.
    #[test]
    fn the_first_byte_table_passes_only_what_phpser_passes() {
        use understudy_phpser::hooks::{may_nest_base64, starts_like_base64};
        let tails: [&[u8]; 8] = [
            b"Toxxxxxxxxx",
            b"zoxxxxxxxxx",
            b"yJxxxxxxxxx",
            b"wogICAgICAg",
            b":1:{s:3:",
            b"\\\"x",
            b"",
            b" plain text",
        ];
        for first in 0..=255u8 {
            for tail in tails {
                let text = [&[first][..], tail].concat();
                let want = if starts_like_base64(&text) {
                    Look::Stop
                } else if may_nest_base64(&text) {
                    Look::Inside
                } else {
                    Look::Pass
                };
                assert_eq!(
                    base64_look(&text),
                    want,
                    "{}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        assert_eq!(base64_look(b""), Look::Pass);
    }

    /// The buffers of masked values do not pile up in `spare` row after row, a mask inside
    /// serialized data's included (they once did: 34 MiB after 1 GB of the WordPress pack).
    #[test]
    fn spare_buffers_stay_few_over_many_rows() {
        let toml = "[[mask]]\ntable = \"t\"\ncolumn = \"v\"\ninside = \"serialized\"\n\
                    path = [\"ip\"]\nstrategy = \"fixed\"\nvalue = \"x\"\n";
        let rules = understudy_rules::Rules::from_str(toml, "t.toml", &[]).unwrap();
        let engine = EngineBuilder::new()
            .rules(std::sync::Arc::new(rules))
            .build()
            .unwrap();
        let row = "(1,'a:1:{s:2:\"ip\";s:9:\"192.0.2.1\";}')";
        let rows = vec![row; 4 * super::MAX_SPARE].join(",");
        let dump = format!("INSERT INTO `t` (`id`, `v`) VALUES {rows};\n");
        let mut out = Vec::new();
        let mut run = Run::new(&engine, &mut out);
        let mut reader = SliceReader::new(engine.lexer(), Position { byte: 0, line: 1 }, "");
        let (mut at, mut values, mut whole) = (0, Vec::new(), 0);
        loop {
            if run.holds_rows() {
                if let Some(row) = reader.next_row(dump.as_bytes(), &mut at, &mut values) {
                    run.whole_row(row, &mut values).unwrap();
                    whole += 1;
                    continue;
                }
            }
            let Some(item) = reader.next(dump.as_bytes(), &mut at, true).unwrap() else {
                break;
            };
            run.token(item, 1).unwrap();
        }
        assert_eq!(whole, 4 * super::MAX_SPARE);
        assert!(
            run.spare.len() <= super::MAX_SPARE,
            "{} kept",
            run.spare.len()
        );
        let report = run.finish().unwrap();
        assert_eq!(report.values_masked, 4 * super::MAX_SPARE as u64);
        let masked = "(1,'a:1:{s:2:\\\"ip\\\";s:1:\\\"x\\\";}')";
        assert!(String::from_utf8_lossy(&out).contains(masked));
    }

    /// Rows a worker took whole, arriving where the pass must look into them (it resolved
    /// the table otherwise), are read value by value, not copied.
    /// An `INSERT` that follows one into the same table with only whitespace between takes
    /// a shorter path; the report counts every table's rows and statements the same.
    #[test]
    fn runs_of_inserts_into_one_table_are_counted_per_table() {
        let dump = "CREATE TABLE `t` (`a` int, `b` text);\nCREATE TABLE `u` (`a` int);\n\
            INSERT INTO `t` VALUES (1,'x');\nINSERT INTO `t` VALUES (2,'y'),(3,'z');\n\
            INSERT INTO `u` VALUES (1);\n\
            INSERT INTO `t` VALUES (4,'w');\n-- between\nINSERT INTO `t` VALUES (5,'v');\n\
            INSERT INTO `t` (`a`,`b`) VALUES (6,'s');\nINSERT INTO `t` VALUES (7,'r');\n\
            INSERT INTO `u` VALUES (2),(3);\n";
        for pairs in [false, true] {
            let mut builder = EngineBuilder::new();
            if pairs {
                builder.replace(b"y", b"Y");
            }
            let engine = builder.build().unwrap();
            let mut out = Vec::new();
            let report = engine.run(dump.as_bytes(), &mut out).unwrap();
            let want = if pairs {
                dump.replace("'y'", "'Y'")
            } else {
                dump.to_owned()
            };
            assert_eq!(String::from_utf8(out).unwrap(), want);
            assert_eq!(report.rows, 10);
            assert_eq!(report.statements, 10, "two CREATE TABLEs and eight INSERTs");
            assert_eq!(
                report.tables.get("t").unwrap().unwrap().rows,
                7,
                "pairs: {pairs}"
            );
            assert_eq!(
                report.tables.get("u").unwrap().unwrap().rows,
                3,
                "pairs: {pairs}"
            );
        }
    }

    #[test]
    fn skimmed_rows_are_rewritten_where_the_table_changes() {
        let engine = EngineBuilder::new()
            .replace(b"https://a.example", b"https://b.example")
            .build()
            .unwrap();
        let head = b"INSERT INTO `t` VALUES";
        let rows = b" (1,'https://a.example/x'),(2,'y')";
        let mut out = Vec::new();
        let mut run = Run::new(&engine, &mut out);
        let mut reader = SliceReader::new(engine.lexer(), Position { byte: 0, line: 1 }, "");
        let mut at = 0;
        let statement = [&head[..], rows, b";"].concat();
        let item = reader.next(&statement, &mut at, false).unwrap().unwrap();
        assert_eq!(item.bytes, head);
        run.token(item, 1).unwrap();
        assert!(!run.skims(), "the pairs apply to every table");
        let pos = Position {
            byte: head.len() as u64,
            line: 1,
        };
        let token = Token::Rows {
            rows: 2,
            first: true,
        };
        let item = Item {
            token,
            bytes: rows,
            pos,
        };
        run.token(item, 1).unwrap();
        let end = Item {
            token: Token::InsertEnd,
            bytes: b";",
            pos,
        };
        run.token(end, 1).unwrap();
        let report = run.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "INSERT INTO `t` VALUES (1,'https://b.example/x'),(2,'y');"
        );
        assert_eq!(report.rows, 2);
        assert_eq!(report.bytes_in, (head.len() + rows.len() + 1) as u64);
    }

    #[test]
    fn definers_are_removed() {
        let s = b"/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */ VIEW v;";
        assert_eq!(
            strip_definers(s).unwrap(),
            b"/*!50013 SQL SECURITY DEFINER */ VIEW v;".to_vec()
        );
        let s = b"/*!50017 DEFINER=`a``b`@`%`*/ /*!50003 TRIGGER t */;; DEFINER='x'@'h' y";
        assert_eq!(
            strip_definers(s).unwrap(),
            b"/*!50017 */ /*!50003 TRIGGER t */;; y".to_vec()
        );
        assert!(strip_definers(b"SELECT 1;").is_none());
    }
}
