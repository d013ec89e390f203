//! The parallel rewrite: the dump is cut into batches of whole statements, worker threads
//! lex each batch and rewrite what they can, and one sequential pass replays everything in
//! input order through the same [`Run`] the single-threaded rewrite uses.
//!
//! # Why the output is the same byte for byte
//! What depends on the stream before a statement stays in the sequential pass: masks that
//! keep a UNIQUE column unique (they remember the values given so far), tables that fill
//! lookups, row numbers in messages, the report's totals, the writing. A worker rewrites a
//! whole `INSERT` only when its table needs nothing but the rows themselves and lookups the
//! pass has completed (masks are pure functions of the row, those lookups and the secret);
//! for any other `INSERT` it replaces values ahead, which depends only on a value's bytes and
//! its column. A statement with a warning or an error is left to the pass, which reports it
//! with the right row and position.
//!
//! Every guess a worker makes is checked by the pass:
//! - Cutting: a batch ends after the last `;` + newline in it, which is where mysqldump
//!   ends statements but can also sit inside a string or a `DELIMITER ;;` block. A worker
//!   lexes its batch as if it started between statements with the `;` delimiter; the pass
//!   takes its tokens only if the lexer, continued over everything before, really is there
//!   (between statements, `;`, only whitespace left over). Otherwise the pass lexes the
//!   batch itself, from where the stream really is.
//! - Columns: the `CREATE TABLE` a worker resolved a table with must equal the one the pass
//!   has (see [`SharedSchemas`]).
//! - Lookups: a worker reads them as the pass last published them; the statement counts
//!   only if the pass's lookups have not changed since (their generation).
//!
//! A wrong guess costs the time to redo a statement or a batch on the calling thread.
//!
//! # Why it is shaped this way
//! The pass is sequential, so whatever it does per statement bounds the whole run: with few
//! big statements it is nothing next to the workers' work, but a dump of one row per
//! `INSERT`, or of thousands of small tables, has a statement every few hundred bytes. So
//! the workers leave the pass as little per statement as they can: a statement a worker did
//! whole joins the one before it when only whitespace is between them and the pass would
//! take both the same way (see `Worker::join_last`), and the pass checks and writes the run
//! in one step. The worker does as little per statement too: its run goes on writing and
//! counting across such statements and is emptied once per run of them, not once per
//! statement (see `Worker::continue_chain`); with one row per `INSERT`, taking out and
//! merging a report per statement cost a worker half again the single-threaded rewrite.
//! `CREATE TABLE`s a worker read are read for the pass too (the engine's schema cache).
//! Every reader of tokens, workers and pass alike, runs the one loop of [`crate::drive`].
//! What the pass cannot leave to workers is every statement other than an `INSERT`, which
//! the rules decide on one by one; a worker that would have to wait for another to know a
//! table's columns leaves the table's rows to the pass instead (see [`SharedSchemas`]).
//!
//! Memory stays bounded: at most `threads + 2` batches of about [`BATCH`] bytes are in flight
//! with what the workers made of them, and a statement longer than
//! [`OVERSIZED_BATCHES`] batches is not held whole but streamed by the pass. Batches are read
//! on the calling thread, which is also the sequential pass. What stays per table to the end
//! is small: the tables a [`SchemaCache`](understudy_sqldump::schema::SchemaCache) read from
//! one text share one column list, and a table's report keeps its columns boxed.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

use memchr::memmem;
use understudy_rules::{Action, LookupStore};
use understudy_sqldump::schema::TableSchema;
use understudy_sqldump::{
    column_names, created_table, Item, Lexer, Position, SliceReader, Span, Token,
};

use crate::drive::{drive, Flow, RowValues, SliceCursor, Step, Stop, Visit, Want};
use crate::error::{Detail, Error};
use crate::pipeline::{
    same_schema, unquoted, ChangeAhead, Engine, HeadName, PreValue, Precomputed, Run,
};
use crate::report::Report;
use crate::table::{NameMap, TableCtx};
use crate::value::{replace, ValueScratch};

/// A statement longer than this many batches is not held whole: the pass lexes it as it is
/// read, on the calling thread, like the single-threaded rewrite does (32 MiB by default).
const OVERSIZED_BATCHES: usize = 32;

/// What the reader hands over.
enum Piece {
    /// Whole statements (but for a guess that may be wrong: see the module docs).
    Batch(Vec<u8>),
    /// The start of a statement longer than [`OVERSIZED_BATCHES`] batches.
    Stream(Vec<u8>),
}

/// The size a batch aims at, unless [`crate::EngineBuilder::batch_size`] says otherwise.
pub(crate) const BATCH: usize = 1 << 20;

/// The `CREATE TABLE`s of the batches, as the workers read them: a worker resolves an
/// `INSERT`'s columns from the last `CREATE TABLE` of its table before it, in its own batch
/// or in an earlier one. Each worker first looks through its batch for the words `CREATE
/// TABLE` and the names after them ([`SharedSchemas::scan`]); until every earlier batch
/// that may create a table has read it, a worker cannot know which `CREATE TABLE` is the
/// last, and leaves the table's `INSERT`s to the pass rather than wait. (In a dump of many
/// small tables, nearly every batch starts with the rows of a table created at the end of
/// the one before: waiting for that batch to be lexed made the workers take turns.) It
/// waits only for the earlier batches' scans, which are short and running: batches start
/// in order (rayon takes jobs spawned from outside the pool first in, first out). A batch
/// the scan misjudged costs speed, not correctness, as the pass checks the columns of
/// every statement a worker did.
pub(crate) struct SharedSchemas {
    state: Mutex<SchemaState>,
    scanned: Condvar,
}

#[derive(Default)]
struct SchemaState {
    /// Per table, each batch's last `CREATE TABLE` of it, by batch number: of the last
    /// [`SHARED_TABLES`] tables created.
    tables: NameMap<Vec<(u64, Arc<TableSchema>)>>,
    /// The names in `tables`, in the order they came, to forget the oldest.
    arrived: VecDeque<String>,
    /// The tables forgotten: a worker that meets one leaves its statement to the pass,
    /// which knows every table's schema (see [`crate::schemas`]).
    forgotten: NameFilter,
    /// Per batch not yet lexed, the tables it may create and has not read yet (`None`: a
    /// `CREATE TABLE` whose name the scan could not tell, which may be any table); the
    /// list is `None` until its worker has scanned the batch.
    creating: std::collections::BTreeMap<u64, Option<Vec<Option<String>>>>,
}

/// A table an earlier batch may still create: its schema is not known yet.
pub(crate) struct NotYet;

/// Tables whose schemas the workers share. More would cost memory that grows with a
/// multisite dump (ten tables per site); mysqldump writes a table's rows right after its
/// `CREATE TABLE`, so a worker rarely needs an older one.
const SHARED_TABLES: usize = 4096;

/// A set of names that may answer "maybe" for a name never added, never "no" for one that
/// was (a Bloom filter: 128 KiB, three probes; with a million names in it one name in
/// twenty is a false "maybe", which costs only speed). Written here, as the few lines it
/// takes, rather than one more dependency.
#[derive(Default)]
struct NameFilter {
    bits: Vec<u64>,
}

impl NameFilter {
    const BITS: u64 = 1 << 20;

    fn probes(name: &str) -> [u64; 3] {
        use std::hash::BuildHasher;
        let h = foldhash::fast::FixedState::with_seed(0x5eed).hash_one(name);
        let (a, b) = (h & 0xffff_ffff, (h >> 32) | 1);
        [0, 1, 2].map(|i| a.wrapping_add(i * b) % Self::BITS)
    }

    fn add(&mut self, name: &str) {
        if self.bits.is_empty() {
            self.bits = vec![0; (Self::BITS / 64) as usize];
        }
        for bit in Self::probes(name) {
            self.bits[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    fn may_hold(&self, name: &str) -> bool {
        !self.bits.is_empty()
            && Self::probes(name)
                .iter()
                .all(|bit| self.bits[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }
}

impl SharedSchemas {
    fn new() -> SharedSchemas {
        SharedSchemas {
            state: Mutex::default(),
            scanned: Condvar::new(),
        }
    }

    fn publish(&self, batch: u64, table: &str, schema: Arc<TableSchema>) {
        if let Ok(mut st) = self.state.lock() {
            let st = &mut *st;
            let list = match st.tables.get_mut(table) {
                Some(list) => list,
                None => {
                    st.arrived.push_back(table.to_owned());
                    st.tables.entry(table.to_owned()).or_default()
                }
            };
            match list.iter_mut().find(|(b, _)| *b == batch) {
                Some(slot) => slot.1 = schema,
                None => list.push((batch, schema)),
            }
            while st.tables.len() > SHARED_TABLES {
                let Some(oldest) = st.arrived.pop_front() else {
                    break;
                };
                st.tables.remove(&oldest);
                st.forgotten.add(&oldest);
            }
            if let Some(Some(names)) = st.creating.get_mut(&batch) {
                if let Some(i) = names.iter().position(|n| n.as_deref() == Some(table)) {
                    names.swap_remove(i);
                }
            }
        }
    }

    /// Batch `batch` is handed to a worker, which is to scan it.
    fn expect(&self, batch: u64) {
        if let Ok(mut st) = self.state.lock() {
            st.creating.insert(batch, None);
        }
    }

    /// A worker notes the tables its batch `bytes` may create, by the `CREATE TABLE`s that
    /// start a line (as mysqldump and most people write them, in any case), before it lexes
    /// the batch. One the scan misses costs speed, not correctness.
    ///
    /// Found from the newlines: a dump's strings hold theirs escaped, so there is one per
    /// statement, row or column definition. Two `memmem` passes, one per spelling, cost
    /// four times as much: the lower-case needle's rarest bytes are common in text.
    fn scan(&self, batch: u64, bytes: &[u8]) {
        let mut names = Vec::new();
        let line_starts =
            std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|at| at + 1));
        for at in line_starts {
            let line = &bytes[at..];
            if line
                .get(..CREATE_TABLE.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(CREATE_TABLE))
            {
                names.push(created_table(line).map(unquoted));
            }
        }
        if let Ok(mut st) = self.state.lock() {
            if names.is_empty() {
                st.creating.remove(&batch);
            } else {
                st.creating.insert(batch, Some(names));
            }
        }
        self.scanned.notify_all();
    }

    /// Batch `batch` has published all its `CREATE TABLE`s.
    fn lexed(&self, batch: u64) {
        if let Ok(mut st) = self.state.lock() {
            st.creating.remove(&batch);
        }
        self.scanned.notify_all();
    }

    /// The schema of `table` after every batch before `batch`, if each of them that may
    /// create it has read it.
    fn before(&self, batch: u64, table: &str) -> Result<Option<Arc<TableSchema>>, NotYet> {
        let mut st = self.state.lock().map_err(|_| NotYet)?;
        while st.creating.range(..batch).any(|(_, names)| names.is_none()) {
            st = self.scanned.wait(st).map_err(|_| NotYet)?;
        }
        let pending = st
            .creating
            .range(..batch)
            .flat_map(|(_, names)| names.iter().flatten())
            .any(|n| n.as_deref().is_none_or(|n| n == table));
        if pending {
            return Err(NotYet);
        }
        let latest = st.tables.get(table).and_then(|list| {
            list.iter()
                .filter(|(b, _)| *b < batch)
                .max_by_key(|(b, _)| *b)
        });
        match latest {
            Some((_, schema)) => Ok(Some(schema.clone())),
            // Its schema before `batch` may be one the workers no longer share.
            None if st.forgotten.may_hold(table) => Err(NotYet),
            None => Ok(None),
        }
    }
}

/// Marks a batch lexed however its lexing ends: later batches need not wait for its tables.
struct LexedGuard<'a>(&'a SharedSchemas, u64);

impl Drop for LexedGuard<'_> {
    fn drop(&mut self) {
        self.0.lexed(self.1);
    }
}

/// One token of a batch, with its place in the batch. A batch of short values holds one
/// every few bytes, so it is kept small: offsets in a batch fit in `u32` (see
/// [`EngineBuilder::batch_size`](crate::EngineBuilder::batch_size)).
struct Rec {
    token: Token,
    start: u32,
    len: u32,
    /// Newlines in the batch before the token.
    line: u32,
    delimiter_len: u8,
    /// For an `INSERT` head: what the worker did ahead of the pass.
    head: Option<Box<Ahead>>,
}

impl Rec {
    /// The record of `item`, a token of the batch `bytes`.
    fn new(
        item: &Item<'_>,
        delimiter_len: usize,
        bytes: &[u8],
        lines: &mut Lines,
        head: Option<Ahead>,
    ) -> Rec {
        let start = item.pos.byte as usize;
        Rec {
            token: item.token,
            start: start as u32,
            len: item.bytes.len() as u32,
            line: lines.at(bytes, start) as u32,
            delimiter_len: delimiter_len as u8,
            head: head.map(Box::new),
        }
    }

    fn span(&self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// Work a worker did on one `INSERT` statement.
// Always boxed (see `Rec::head`), so the sizes of the variants do not matter.
#[allow(clippy::large_enum_variant)]
enum Ahead {
    /// Its values' replacements.
    Values(Precomputed),
    /// The whole statement.
    Statement(Delegated),
    /// A `CREATE TABLE`'s columns (`None`: it cannot be read), read once for the workers
    /// and the pass: in a multisite dump the pass reads one every few statements.
    Schema(Option<Arc<TableSchema>>),
}

/// A whole `INSERT` statement a worker rewrote: its table needs nothing but its rows.
struct Delegated {
    /// Its table.
    table: String,
    /// The schema the worker read the table with (see [`Precomputed`]).
    schema: Option<Arc<TableSchema>>,
    /// The new statements, in the batch's output ([`Lexed::out`]); `None` when they are the
    /// input unchanged, `span` of the batch.
    output: Option<std::ops::Range<usize>>,
    span: std::ops::Range<usize>,
    report: Report,
    /// The generation of the lookups the worker read, if it read any.
    lookups: Option<u64>,
    /// A lexer as it was before the statement, should the pass have to lex it itself.
    lexer: Lexer,
}

/// Where the pass publishes its lookups each time one is complete, for the workers.
type LookupBoard = Arc<Mutex<Option<Arc<LookupStore>>>>;

/// Vectors handed back and forth between the reader, the workers and the pass, so a long
/// run does not keep asking the allocator (and the kernel, whose fresh pages each cost a
/// fault) for fresh megabytes, and its memory stays what the first batches needed.
struct Pool<T> {
    idle: std::sync::Mutex<Vec<Vec<T>>>,
    /// How many idle vectors to keep.
    keep: usize,
    /// A larger one (from one huge statement) goes back to the allocator.
    max_capacity: usize,
}

impl<T> Pool<T> {
    fn new(keep: usize, max_bytes: usize) -> Pool<T> {
        Pool {
            idle: std::sync::Mutex::new(Vec::new()),
            keep,
            max_capacity: max_bytes / std::mem::size_of::<T>().max(1),
        }
    }

    fn get(&self) -> Vec<T> {
        self.idle
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default()
    }

    fn put(&self, mut v: Vec<T>) {
        if v.capacity() == 0 || v.capacity() > self.max_capacity {
            return;
        }
        v.clear();
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.keep {
                idle.push(v);
            }
        }
    }
}

/// The pools of a parallel run.
struct Buffers {
    /// Batches, their rewritten statements, the reader's carry.
    bytes: Pool<u8>,
    /// The token records of batches.
    tokens: Pool<Rec>,
}

impl Buffers {
    /// Pools for `limit` batches in flight: each with its output, and the reader's carry.
    fn new(limit: usize) -> Buffers {
        Buffers {
            bytes: Pool::new(2 * limit + 2, 2 * BATCH),
            // A batch of short values has a record every few bytes.
            tokens: Pool::new(limit + 1, 8 * BATCH),
        }
    }

    fn get(&self) -> Vec<u8> {
        self.bytes.get()
    }

    fn put(&self, buf: Vec<u8>) {
        self.bytes.put(buf)
    }
}

/// A worker's work on one batch.
struct Lexed {
    bytes: Vec<u8>,
    /// `None`: the worker could not lex the batch (a wrong guess, or bad input); the
    /// sequential pass lexes it and finds out which.
    tokens: Option<Vec<Rec>>,
    /// Bytes covered by the tokens; the rest starts a token the next batch completes.
    consumed: usize,
    /// Newlines in `bytes[..consumed]`.
    lines: u64,
    lexer: Lexer,
    /// The table named last in the batch, if any.
    table: Option<String>,
    /// Changed values, by offset in the batch.
    values: Vec<(u64, PreValue)>,
    /// The statements the worker rewrote whole, one after another (see [`Delegated`]).
    out: Vec<u8>,
}

/// Runs `engine` over `input` with `threads` workers.
pub(crate) fn run<R: BufRead, W: Write>(
    engine: &Engine,
    threads: usize,
    input: R,
    output: W,
) -> Result<Report, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("understudy-worker-{i}"))
        .build()
        .map_err(|e| Error::from(Detail::Output(io::Error::other(e))))?;
    let schemas = SharedSchemas::new();
    let board = LookupBoard::default();
    let mut run = Run::new(engine, output);
    run.lookup_board = Some(board.clone());
    let mut pass = Pass {
        lexer: Some(engine.lexer()),
        pos: Position { byte: 0, line: 1 },
        tail: Vec::new(),
        table: String::new(),
    };
    let limit = threads + 2;
    let buffers = Buffers::new(limit);
    let mut splitter = Splitter::new(input, engine.batch);
    // The calling thread reads and runs the pass; the pool's threads lex and rewrite.
    pool.in_place_scope(|scope| -> Result<(), Error> {
        let mut queue: VecDeque<mpsc::Receiver<Lexed>> = VecDeque::new();
        let mut batch = 0;
        while let Some(piece) = splitter.next_batch(&buffers)? {
            let bytes = match piece {
                Piece::Batch(bytes) => bytes,
                Piece::Stream(bytes) => {
                    // Everything before it first, in order.
                    while let Some(pending) = queue.pop_front() {
                        pass.settle(&mut run, pending, &buffers)?;
                    }
                    pass.stream(&mut run, bytes, &mut splitter, &buffers)?;
                    continue;
                }
            };
            schemas.expect(batch);
            let (tx, rx) = mpsc::sync_channel(1);
            let shared = Shared {
                schemas: &schemas,
                buffers: &buffers,
                lookups: &board,
            };
            scope.spawn(move |_| {
                // The receiver is gone only when the run already failed.
                let _ = tx.send(lex_batch(engine, shared, batch, bytes));
            });
            queue.push_back(rx);
            batch += 1;
            if queue.len() >= limit {
                if let Some(pending) = queue.pop_front() {
                    pass.settle(&mut run, pending, &buffers)?;
                }
            }
        }
        while let Some(pending) = queue.pop_front() {
            pass.settle(&mut run, pending, &buffers)?;
        }
        if let Some(e) = splitter.failed.take() {
            // Where the single-threaded reader says it: after every byte read.
            let pos = advance(pass.pos, &pass.tail);
            let table = (!pass.table.is_empty()).then_some(pass.table.as_str());
            return Err(Error::from(Detail::Input(understudy_sqldump::Error::io(
                e, pos, table,
            ))));
        }
        pass.finish(&mut run, &buffers)
    })?;
    run.finish()
}

fn received(rx: mpsc::Receiver<Lexed>) -> Result<Lexed, Error> {
    rx.recv()
        .map_err(|_| Error::from(Detail::Output(io::Error::other("a worker thread stopped"))))
}

/// What starts a line that creates a table (see [`SharedSchemas::scan`]).
const CREATE_TABLE: &[u8] = b"CREATE TABLE";

/// Reads the input in batches that end after a `;` and a newline.
///
/// Bytes go once from the source's buffer into the batch, never zeroed first: a batch takes
/// whole pieces of the source while they fit under its size, then ends at the last `;` +
/// newline of the piece that does not fit (most often, with mysqldump's statements of about
/// a batch each), else at the last one it holds (the bytes after it go back to the source),
/// else, for one statement longer than a batch, at the first one after. Only the bytes near
/// the end are searched. (Reading a batch's size and cutting at its last `;` + newline, as
/// before, copied every byte after the cut a second time and searched the whole batch: half
/// the input again, on the thread that also runs the sequential pass.)
struct Splitter<R> {
    src: R,
    /// Bytes the pass gave back ([`Splitter::unread`]), read before `src`.
    unread: Vec<u8>,
    eof: bool,
    batch: usize,
    /// A read failed: the input ends there, and the run stops with this error once the
    /// bytes before it are through (its position is then known without counting lines
    /// twice).
    failed: Option<io::Error>,
}

impl<R: BufRead> Splitter<R> {
    fn new(src: R, batch: usize) -> Splitter<R> {
        Splitter {
            src,
            batch: batch.max(1),
            unread: Vec::new(),
            eof: false,
            failed: None,
        }
    }

    /// What the source has ready: the bytes given back first, then its buffer; empty at
    /// the end of the input (or after a failed read).
    fn available(&mut self) -> &[u8] {
        if !self.unread.is_empty() {
            return &self.unread;
        }
        if self.eof {
            return &[];
        }
        loop {
            match self.src.fill_buf() {
                // Borrowck: the buffer is asked for again below to return it.
                Ok(b) if !b.is_empty() => break,
                Ok(_) => {
                    self.eof = true;
                    return &[];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.failed = Some(e);
                    self.eof = true;
                    return &[];
                }
            }
        }
        self.src.fill_buf().unwrap_or_default()
    }

    /// Moves the first `n` bytes of what [`Splitter::available`] gave to `buf`.
    fn take(&mut self, buf: &mut Vec<u8>, n: usize) {
        if self.unread.is_empty() {
            // The buffer `available` gave, unchanged: a `BufRead` reads again only once
            // its buffer is consumed.
            let piece = self.src.fill_buf().unwrap_or_default();
            let n = n.min(piece.len());
            buf.extend_from_slice(&piece[..n]);
            self.src.consume(n);
        } else {
            buf.extend_from_slice(&self.unread[..n]);
            self.unread.drain(..n);
        }
    }

    fn next_batch(&mut self, buffers: &Buffers) -> Result<Option<Piece>, Error> {
        let batch = self.batch;
        let mut buf = buffers.get();
        // Once, to the size a batch most often reaches: grown piece by piece, a fresh
        // vector is moved (and its new pages faulted in) a dozen times per batch. An eighth
        // more, as a batch ends at the first statement's end past `batch`: doubled to make
        // room for those few bytes, every buffer of the pool would take twice the memory.
        buf.reserve(batch + batch / 8);
        // `buf[..clean]` holds no `;` + newline: one statement longer than a batch.
        let mut clean: usize = 0;
        loop {
            let held = buf.len();
            let ends_in_semicolon = buf.last() == Some(&b';');
            let piece = self.available();
            if piece.is_empty() {
                return Ok((held > 0).then_some(Piece::Batch(buf)));
            }
            let room = batch.saturating_sub(held);
            if piece.len() <= room {
                let n = piece.len();
                self.take(&mut buf, n);
                continue;
            }
            // The last end before the batch's size in the piece that crosses it, or the one
            // across the two pieces.
            if let Some(i) = memmem::rfind(&piece[..room], b";\n") {
                self.take(&mut buf, i + 2);
                return Ok(Some(Piece::Batch(buf)));
            }
            let straddles = ends_in_semicolon && piece[0] == b'\n';
            if straddles && room > 0 {
                self.take(&mut buf, 1);
                return Ok(Some(Piece::Batch(buf)));
            }
            // The last end in what the batch holds; the bytes after it go back (less than a
            // piece of the source, mostly).
            let from = clean.saturating_sub(1);
            if let Some(i) = memmem::rfind(&buf[from..], b";\n") {
                let cut = from + i + 2;
                self.unread(&buf[cut..]);
                buf.truncate(cut);
                return Ok(Some(Piece::Batch(buf)));
            }
            // One statement longer than a batch: up to its end.
            let from = room.saturating_sub(1);
            let piece = self.available();
            let end = if straddles {
                Some(1)
            } else {
                memmem::find(&piece[from..], b";\n").map(|i| from + i + 2)
            };
            if let Some(n) = end {
                self.take(&mut buf, n);
                return Ok(Some(Piece::Batch(buf)));
            }
            let n = piece.len();
            self.take(&mut buf, n);
            clean = buf.len();
            if buf.len() >= batch.saturating_mul(OVERSIZED_BATCHES) {
                // A statement too long to hold whole: the pass streams through it.
                return Ok(Some(Piece::Stream(buf)));
            }
        }
    }

    /// The next `want` bytes or fewer (what is left), for streaming; `None` at the end.
    fn next_chunk(&mut self, want: usize, buffers: &Buffers) -> Result<Option<Vec<u8>>, Error> {
        let mut buf = buffers.get();
        while buf.len() < want {
            let n = self.available().len().min(want - buf.len());
            if n == 0 {
                break;
            }
            self.take(&mut buf, n);
        }
        Ok((!buf.is_empty()).then_some(buf))
    }

    /// Puts `bytes` back in front of what comes next.
    fn unread(&mut self, bytes: &[u8]) {
        self.unread.splice(0..0, bytes.iter().copied());
    }
}

/// What the workers share with the pass.
#[derive(Clone, Copy)]
struct Shared<'a> {
    schemas: &'a SharedSchemas,
    buffers: &'a Buffers,
    lookups: &'a LookupBoard,
}

/// A worker: lexes a batch as if it began between statements, rewrites whole `INSERT`
/// statements of tables whose rows need nothing but themselves, and the values of the
/// others' `INSERT`s where it can resolve their table.
fn lex_batch(engine: &Engine, shared: Shared<'_>, batch: u64, bytes: Vec<u8>) -> Lexed {
    let guard = LexedGuard(shared.schemas, batch);
    shared.schemas.scan(batch, &bytes);
    let reader =
        SliceReader::new(engine.lexer(), Position { byte: 0, line: 0 }, "").without_lines();
    let mut src = SliceCursor::new(reader, &bytes, false);
    let mut worker = Worker::new(engine, shared, batch, &bytes);
    let mut ahead = ChangeAhead::default();
    let mut row_values = Vec::new();
    let failed = loop {
        match drive(&mut src, &mut worker, &mut ahead, &mut row_values) {
            // A statement the batch ends in comes to the pass token by token: lexed again
            // unless it changes nothing and starts its chain (its records are all there).
            Ok(Stop::End) => match worker.delegating.take() {
                Some(d) if d.own || !worker.starts_chain(&d) => worker.rewind(d, &mut src),
                _ => {
                    worker.close_chain();
                    break false;
                }
            },
            Ok(Stop::Break) => {
                if let Some(d) = worker.rewinding.take() {
                    worker.rewind(d, &mut src);
                }
            }
            Err(_) => break true,
        }
    };
    drop(guard);
    let at = src.at;
    let last_table = src.reader.table().to_owned();
    let lexer = src.reader.into_lexer();
    worker.end_run(usize::MAX);
    let Worker {
        named_table,
        mut lines,
        tokens,
        values,
        batch_out,
        ..
    } = worker;
    let table = named_table.then_some(last_table);
    Lexed {
        tokens: (!failed).then_some(tokens),
        consumed: at,
        lines: lines.at(&bytes, at),
        lexer,
        table,
        values,
        out: batch_out,
        bytes,
    }
}

/// A worker's state over its batch, as [`drive`] takes it through the tokens.
struct Worker<'e, 'b> {
    engine: &'e Engine,
    shared: Shared<'e>,
    batch: u64,
    bytes: &'b [u8],
    /// This batch's own `CREATE TABLE`s, which later statements in it see first.
    created: NameMap<Arc<TableSchema>>,
    /// Lines are counted in bulk, up to each token that is kept.
    lines: Lines,
    tokens: Vec<Rec>,
    /// Changed values, by offset in the batch.
    values: Vec<(u64, PreValue)>,
    scratch: ValueScratch,
    out: Vec<u8>,
    /// The table context of the current INSERT.
    ctx: Option<TableCtx<'e>>,
    /// Whether the current INSERT's values are being rewritten ahead.
    rewriting: bool,
    /// The current INSERT's rows go through unchanged or are all left out: they are taken
    /// whole, without a token per value.
    skimming: bool,
    /// A run of the engine for whole statements, and the statement being delegated.
    own: Option<Run<'e, Vec<u8>>>,
    delegating: Option<Delegating>,
    /// The statements done whole since the last chain was closed (rewritten by `own`, or
    /// changing nothing), which the next may continue (see [`Worker::continue_chain`]).
    chain: Option<Chain>,
    head_index: usize,
    named_table: bool,
    /// The head of a statement lexed again because its delegation fell through: the pass
    /// takes it token by token.
    redo_from: Option<usize>,
    /// The head of a statement lexed again because its delegation fell through, after
    /// others of its chain that did not: it starts a chain of its own.
    cut_at: Option<usize>,
    /// The delegated statement to lex again ([`Worker::rewind`]) once `drive` breaks.
    rewinding: Option<Delegating>,
    /// The record of the last statement done whole, which the next may join.
    last_done: Option<usize>,
    /// What `own` wrote, while no run is open: the statements it rewrote whole.
    batch_out: Vec<u8>,
    /// The table and schema `ctx` was made for from its `CREATE TABLE` (not from a column
    /// list): the next `INSERT` into that table reuses it, as the pass does. Made again per
    /// statement, it cost more than the statement itself with one row per `INSERT`.
    ctx_of: Option<(String, Option<Arc<TableSchema>>)>,
    /// [`SharedSchemas::before`] this batch, by table, once known.
    before: NameMap<Option<Arc<TableSchema>>>,
    /// The table the last `INSERT` head named.
    head_name: HeadName,
}

impl<'e, 'b> Worker<'e, 'b> {
    fn new(engine: &'e Engine, shared: Shared<'e>, batch: u64, bytes: &'b [u8]) -> Self {
        Worker {
            engine,
            shared,
            batch,
            bytes,
            created: NameMap::default(),
            lines: Lines::default(),
            tokens: shared.buffers.tokens.get(),
            values: Vec::new(),
            scratch: ValueScratch::default(),
            out: Vec::new(),
            ctx: None,
            rewriting: false,
            skimming: false,
            own: None,
            delegating: None,
            chain: None,
            head_index: 0,
            named_table: false,
            redo_from: None,
            cut_at: None,
            rewinding: None,
            last_done: None,
            batch_out: Vec::new(),
            ctx_of: None,
            before: NameMap::default(),
            head_name: HeadName::default(),
        }
    }

    /// Joins the statements `done`, whose head record is at `head`, to the last ones done
    /// whole, if only whitespace is between them and the pass would take both the same way
    /// (same table, schema and lookups); else gives them back. The pass then takes a run of
    /// small statements (one row per `INSERT`, say) in one step: per statement, it would
    /// check, count and write them one by one, and with small statements that sequential
    /// work is most of the run. Taking both at once gives the same: the checks would give
    /// the same answers, as nothing the pass keeps changes between them, and counts, rows
    /// and output add up. (Statements one after another join earlier, as a [`Chain`]; this
    /// joins chains that had to be closed apart, as around a statement lexed again.)
    fn join_last(&mut self, head: usize, done: Box<Delegated>) -> Result<(), Box<Delegated>> {
        let Some(last) = self.last_done else {
            return Err(done);
        };
        let between = &self.tokens[last + 1..head];
        if !between.iter().all(|r| r.token == Token::Space) {
            return Err(done);
        }
        let Some(Ahead::Statement(prev)) = self.tokens[last].head.as_deref_mut() else {
            return Err(done);
        };
        if prev.table != done.table
            || !same_schema(&prev.schema, &done.schema)
            || prev.lookups != done.lookups
        {
            return Err(done);
        }
        let gap = prev.span.end..done.span.start;
        // Both the input as it is, or both written one after the other with nothing between.
        match (&mut prev.output, &done.output) {
            (None, None) => {}
            (Some(a), Some(b)) if a.end == b.start && gap.is_empty() => a.end = b.end,
            _ => return Err(done),
        }
        prev.span.end = done.span.end;
        // The whitespace between, as the pass counts a token it writes.
        prev.report.bytes_in += gap.len() as u64;
        prev.report.bytes_out += gap.len() as u64;
        let done = *done;
        prev.report.merge(done.report);
        // Whitespace read after `done` stays.
        self.tokens.drain(last + 1..=head);
        Ok(())
    }

    /// `done`, whose head record is at `head`, joins the last statements done whole or is
    /// kept in that record for the pass.
    fn done(&mut self, head: usize, done: Box<Delegated>) {
        if let Err(done) = self.join_last(head, done) {
            self.tokens[head].head = Some(Box::new(Ahead::Statement(*done)));
            self.last_done = Some(head);
        }
    }

    /// Whether the `INSERT` at `item`, into `table` with `schema`, reading the lookups of
    /// `generation`, continues the open chain (`None`: it does not); if so, the worker's run
    /// has taken its head, or failed on it and the chain is to be lexed again.
    ///
    /// A statement continues the chain when only whitespace is between them and the pass
    /// would take both the same way (see [`Worker::join_last`]). The run then goes on
    /// writing and counting as the pass would, and the chain reaches the pass as one
    /// statement: with one row per `INSERT`, taking each statement's output and report out
    /// of the run and merging it into the last cost the worker more than rewriting it.
    fn continue_chain(
        &mut self,
        table: &str,
        schema: &Option<Arc<TableSchema>>,
        generation: Option<u64>,
        own: bool,
        item: Item<'_>,
        delimiter_len: usize,
    ) -> Option<Flow> {
        let at = item.pos.byte as usize;
        let follows = self.chain.as_ref().is_some_and(|c| {
            c.d.table == table
                && c.d.own == own
                && same_schema(&c.d.schema, schema)
                && c.d.lookups == generation
                && self.cut_at != Some(at)
        });
        if !follows {
            return None;
        }
        // Any other token closed the chain (`Worker::visit`).
        debug_assert!(self
            .chain
            .as_ref()
            .is_some_and(|c| self.tokens[c.d.head + 1..]
                .iter()
                .all(|r| r.token == Token::Space)));
        let Chain { mut d, end } = self.chain.take()?;
        self.tokens.truncate(d.head + 1);
        d.at = at;
        if own {
            let run = self.own.as_mut().expect("a chain runs in `own`");
            if run.copy_between(&self.bytes[end..at]).is_err()
                || run.token(item, delimiter_len).is_err()
            {
                return Some(self.break_to_rewind(Some(d)));
            }
        }
        self.delegating = Some(d);
        Some(Flow::Continue)
    }

    /// Takes the open chain's output and report out of the worker's run (or makes them, for
    /// statements that change nothing), for the pass.
    fn close_chain(&mut self) {
        let Some(Chain { d, end }) = self.chain.take() else {
            return;
        };
        let span = self.tokens[d.head].span().start..end;
        let (output, report) = if d.own {
            let run = self.own.as_mut().expect("a chain runs in `own`");
            let output = d.out_at..run.written();
            (Some(output), run.take_counts())
        } else {
            let report = unchanged_report(&d.table, span.len(), d.statements, d.rows);
            (None, report)
        };
        let done = Box::new(Delegated {
            table: d.table,
            schema: d.schema,
            output,
            span,
            report,
            lookups: d.lookups,
            lexer: d.lexer,
        });
        self.done(d.head, done);
    }

    /// The worker's run for whole statements, made if there is none: it writes after the
    /// statements rewritten before it.
    fn open_run(&mut self) -> &mut Run<'e, Vec<u8>> {
        let (engine, buffers) = (self.engine, self.shared.buffers);
        let out = &mut self.batch_out;
        self.own.get_or_insert_with(|| {
            let out = match std::mem::take(out) {
                out if out.capacity() > 0 => out,
                _ => {
                    // As a batch (see `Splitter::next_batch`): rewritten, it is about as long.
                    let mut out = buffers.get();
                    out.reserve(BATCH + BATCH / 8);
                    out
                }
            };
            Run::for_worker(engine, out)
        })
    }

    /// Ends the worker's run (it failed on a statement, or the batch is done): its output
    /// up to `keep` stays, for the statements already done.
    fn end_run(&mut self, keep: usize) {
        if let Some(run) = self.own.take() {
            let mut out = run.into_output();
            out.truncate(keep);
            self.batch_out = out;
        }
    }

    fn record(&mut self, item: &Item<'_>, delimiter_len: usize, head: Option<Ahead>) {
        let rec = Rec::new(item, delimiter_len, self.bytes, &mut self.lines, head);
        self.tokens.push(rec);
    }

    /// Asks `drive` to stop, so the delegated statement `d` is lexed again from its head.
    fn break_to_rewind(&mut self, d: Option<Delegating>) -> Flow {
        match d {
            Some(d) => {
                self.rewinding = Some(d);
                Flow::Break
            }
            None => Flow::Continue,
        }
    }

    /// Whether the statement being delegated is the first of its chain.
    fn starts_chain(&self, d: &Delegating) -> bool {
        d.at == self.tokens[d.head].span().start
    }

    /// Lexes the delegated statement `d` again from its head, a record per token, for the
    /// pass: its worker run failed or warned, or the batch ends inside it. When `d` is the
    /// last of a chain, the chain is lexed again up to `d`, which then starts a chain of its
    /// own: each of them is lexed at most three times, however many statements fail.
    fn rewind(&mut self, d: Delegating, src: &mut SliceCursor<'_>) {
        let head = self.tokens[d.head].span().start;
        if self.starts_chain(&d) {
            self.redo_from = Some(head);
        } else {
            self.cut_at = Some(d.at);
        }
        // A chain is open only between statements, and `d` is the statement being read.
        debug_assert!(self.chain.is_none());
        self.lines = Lines {
            upto: head,
            count: u64::from(self.tokens[d.head].line),
        };
        self.tokens.truncate(d.head);
        let pos = Position {
            byte: head as u64,
            line: 0,
        };
        src.reader = SliceReader::new(d.lexer, pos, &d.table).without_lines();
        src.at = head;
        if d.own {
            self.end_run(d.out_at);
        }
        self.skimming = false;
        self.rewriting = false;
    }

    /// The schema of `table` as the pass will have it at this batch's next statement, as far
    /// as the worker can know it yet (see [`SharedSchemas`]).
    fn schema_of(&mut self, table: &str) -> Result<Option<Arc<TableSchema>>, NotYet> {
        if let Some(s) = self.created.get(table) {
            return Ok(Some(s.clone()));
        }
        if let Some(s) = self.before.get(table) {
            return Ok(s.clone());
        }
        let s = self.shared.schemas.before(self.batch, table)?;
        self.before.insert(table.to_owned(), s.clone());
        Ok(s)
    }

    /// An `INSERT` head: resolves its table and decides what the worker does with it.
    fn insert_head(
        &mut self,
        item: Item<'_>,
        delimiter_len: usize,
        before: Lexer,
        table: Span,
        columns: Option<Span>,
    ) -> Flow {
        let engine = self.engine;
        let tb = item.bytes;
        self.named_table = true;
        self.delegating = None;
        self.rewriting = false;
        let name = self.head_name.of(table.of(tb));
        let schema = match self.schema_of(&name) {
            Ok(schema) => schema,
            Err(NotYet) => {
                // The pass takes the statement. Its rows come whole: the pass copies them
                // if its table changes nothing, else reads them value by value as one
                // thread does (`Token::Rows` in `Run::token`).
                self.close_chain();
                self.ctx = None;
                self.ctx_of = None;
                self.skimming = true;
                self.head_index = self.tokens.len();
                self.record(&item, delimiter_len, None);
                return Flow::Continue;
            }
        };
        let reuse = columns.is_none()
            && self.ctx.is_some()
            && self
                .ctx_of
                .as_ref()
                .is_some_and(|(t, s)| *t == name && same_schema(s, &schema));
        if !reuse {
            let names = match columns {
                Some(list) => Some(Arc::new(column_names(list.of(tb)))),
                None => schema
                    .as_ref()
                    .map(|s| Arc::new(s.columns.iter().map(|c| c.name.clone()).collect())),
            };
            self.ctx = TableCtx::new(
                &name,
                names,
                schema.as_deref(),
                engine.rules.as_deref(),
                &engine.groups,
                engine.cli.as_deref(),
            )
            .ok();
            self.ctx_of = columns.is_none().then(|| (name.clone(), schema.clone()));
        }
        let ctx = self.ctx.as_ref();
        self.head_index = self.tokens.len();
        let keep = ctx.is_some_and(|c| c.action == Action::Keep);
        let unchanged = ctx.is_some_and(TableCtx::changes_nothing);
        self.skimming = unchanged || (ctx.is_some() && !keep);
        let contained = keep && ctx.is_some_and(TableCtx::self_contained);
        let reads_lookups = ctx.is_some_and(TableCtx::reads_lookups);
        let mut head = None;
        // The lookups as the pass last completed them, if the table reads any.
        let read = if contained && reads_lookups {
            self.shared.lookups.lock().ok().and_then(|b| b.clone())
        } else {
            None
        };
        let generation = read.as_ref().map(|l| l.generation());
        let contained = contained && (read.is_some() || !reads_lookups);
        let at = item.pos.byte as usize;
        let contained = contained && self.redo_from != Some(at);
        if contained || unchanged {
            let own = !unchanged;
            if let Some(flow) =
                self.continue_chain(&name, &schema, generation, own, item, delimiter_len)
            {
                return flow;
            }
        }
        self.close_chain();
        if unchanged || contained {
            let mut out_at = 0;
            let fed = !contained || unchanged || {
                let run = self.open_run();
                out_at = run.written();
                if let Some(store) = read {
                    run.know_lookups(store);
                }
                run.know_schema(&name, schema.clone()).is_ok()
                    && run.token(item, delimiter_len).is_ok()
            };
            if fed {
                self.delegating = Some(Delegating {
                    table: name,
                    head: self.head_index,
                    schema,
                    own: !unchanged,
                    lexer: before,
                    lookups: generation,
                    rows: 0,
                    statements: 0,
                    at,
                    out_at,
                });
            } else {
                self.end_run(out_at);
            }
        } else if keep {
            self.rewriting = true;
            head = Some(Ahead::Values(Precomputed { schema }));
        }
        self.record(&item, delimiter_len, head);
        Flow::Continue
    }

    /// A token of the statement being delegated; `false` if the worker's run failed on it.
    fn delegated_token(&mut self, item: Item<'_>, delimiter_len: usize) -> Flow {
        let Some(d) = self.delegating.as_mut() else {
            return Flow::Continue;
        };
        let mut fed = true;
        if d.own {
            let run = self.own.as_mut().expect("delegating runs in `own`");
            fed = run.token(item, delimiter_len).is_ok();
        } else if item.token == Token::RowOpen {
            d.rows += 1;
        }
        let end = matches!(item.token, Token::InsertEnd | Token::InsertTail);
        if !fed {
            // The pass redoes the statement and reports the error in its place.
            let d = self.delegating.take();
            return self.break_to_rewind(d);
        }
        if !end {
            if !d.own {
                self.record(&item, delimiter_len, None);
            }
            // Else no record: the statement comes back whole, or is lexed again.
            return Flow::Continue;
        }
        let mut d = self.delegating.take().expect("checked");
        let end = item.pos.byte as usize + item.bytes.len();
        // Only the head stays: the statement is done.
        self.tokens.truncate(d.head + 1);
        d.statements += 1;
        if d.own && self.own.as_ref().is_some_and(Run::warned) {
            // Warnings name rows by number, which only the pass knows.
            return self.break_to_rewind(Some(d));
        }
        self.chain = Some(Chain { d, end });
        Flow::Continue
    }
}

impl Visit for Worker<'_, '_> {
    fn want(&self) -> Want<'_> {
        if self.skimming {
            return Want::Skim;
        }
        match (&self.own, &self.delegating) {
            // A statement this worker rewrites whole: rows in which no replacement may change
            // anything are copied through as they are (see `Run::row_filter`).
            (Some(run), Some(d)) if d.own => match run.row_filter() {
                Some(filter) => Want::Filter(filter),
                None if run.holds_rows() => Want::Rows,
                None => Want::Tokens,
            },
            _ => Want::Tokens,
        }
    }

    fn visit(&mut self, step: Step<'_>, values: &mut RowValues) -> Result<Flow, Error> {
        let (item, delimiter_len, before) = match step {
            Step::Rows(item) if self.skimming => {
                if let (Token::Rows { rows, .. }, Some(d)) = (item.token, self.delegating.as_mut())
                {
                    d.rows += u64::from(rows);
                }
                self.record(&item, 0, None);
                return Ok(Flow::Continue);
            }
            Step::Rows(item) => {
                let run = self.own.as_mut().expect("a filter is the own run's");
                if run.unchanged_rows(item).is_err() {
                    let d = self.delegating.take();
                    return Ok(self.break_to_rewind(d));
                }
                return Ok(Flow::Continue);
            }
            Step::Row(row) => {
                let run = self.own.as_mut().expect("whole rows are the own run's");
                if run.whole_row(row, values).is_err() {
                    let d = self.delegating.take();
                    return Ok(self.break_to_rewind(d));
                }
                return Ok(Flow::Continue);
            }
            Step::Token(item, delimiter_len) => (item, delimiter_len, None),
            Step::Starts(item, delimiter_len, before) => (item, delimiter_len, Some(before)),
        };
        let tb = item.bytes;
        if self.chain.is_some() && !matches!(item.token, Token::Space | Token::InsertHead { .. }) {
            self.close_chain();
        }
        match item.token {
            Token::CreateTable { name } => {
                self.named_table = true;
                // As the pass reads it: a statement it cannot read changes nothing.
                let delimiter = &tb[tb.len().saturating_sub(delimiter_len)..];
                let schema = self.engine.read_schema(tb, name, delimiter).map(Arc::new);
                if let Some(schema) = &schema {
                    let name = unquoted(name.of(tb));
                    self.shared
                        .schemas
                        .publish(self.batch, &name, schema.clone());
                    self.created.insert(name, schema.clone());
                }
                self.record(&item, delimiter_len, Some(Ahead::Schema(schema)));
                return Ok(Flow::Continue);
            }
            Token::InsertHead { table, columns, .. } => {
                // An INSERT head is lexed between statements, so `before` is there.
                let before = before.unwrap_or_else(|| self.engine.lexer());
                return Ok(self.insert_head(item, delimiter_len, before, table, columns));
            }
            _ if self.delegating.is_some() => return Ok(self.delegated_token(item, delimiter_len)),
            Token::Value(value) if self.rewriting => {
                let groups = self.ctx.as_ref().map(|c| c.groups(value.column as usize));
                match replace(
                    tb,
                    &value,
                    groups.unwrap_or(&[]),
                    &mut self.scratch,
                    &mut self.out,
                ) {
                    Ok(None) => {}
                    Ok(Some(outcome)) => self.values.push((
                        item.pos.byte,
                        PreValue {
                            token: std::mem::take(&mut self.out),
                            outcome,
                        },
                    )),
                    Err(_) => {
                        // Strict mode stops here; the sequential pass says so with the
                        // row's name, so it redoes the statement.
                        self.rewriting = false;
                        if let Some(Rec { head, .. }) = self.tokens.get_mut(self.head_index) {
                            *head = None;
                        }
                    }
                }
            }
            Token::InsertEnd | Token::InsertTail => {
                self.rewriting = false;
                self.skimming = false;
            }
            _ => {}
        }
        self.record(&item, delimiter_len, None);
        Ok(Flow::Continue)
    }
}

/// Newlines counted so far in a batch: one `memchr` pass over each stretch, not one call per
/// token.
#[derive(Default)]
struct Lines {
    upto: usize,
    count: u64,
}

impl Lines {
    /// Newlines in `bytes[..at]`; `at` never goes back.
    fn at(&mut self, bytes: &[u8], at: usize) -> u64 {
        if at > self.upto {
            self.count += memchr::memchr_iter(b'\n', &bytes[self.upto..at]).count() as u64;
            self.upto = at;
        }
        self.count
    }
}

/// The statement a worker is rewriting whole.
struct Delegating {
    table: String,
    /// Its head's index among the batch's tokens.
    head: usize,
    schema: Option<Arc<TableSchema>>,
    /// Whether the worker's own run rewrites it; else nothing in it changes.
    own: bool,
    /// As before the statement.
    lexer: Lexer,
    /// The generation of the lookups it reads, if any.
    lookups: Option<u64>,
    /// Rows and statements counted (when nothing changes).
    rows: u64,
    statements: u64,
    /// The offset of its last statement's head: it is a chain's first statement or one
    /// that continues it (see [`Worker::continue_chain`]).
    at: usize,
    /// Where its output starts in the batch's.
    out_at: usize,
}

/// Statements a worker did whole (its own run rewrote them, or they change nothing), one
/// after another, into one table: the first one's [`Delegating`] and the end of the last.
struct Chain {
    d: Delegating,
    end: usize,
}

/// What the engine reports for `statements` `INSERT`s of `rows` rows and `bytes` bytes in
/// all that it copies unchanged into a kept table.
fn unchanged_report(table: &str, bytes: usize, statements: u64, rows: u64) -> Report {
    let mut report = Report {
        bytes_in: bytes as u64,
        bytes_out: bytes as u64,
        statements,
        rows,
        ..Report::default()
    };
    let t = report.tables.entry(table);
    t.action = "keep";
    t.rows = rows;
    t.numbered = rows;
    report
}

/// The sequential pass: where the stream is, and the bytes of an unfinished token.
struct Pass {
    /// `None` only while a batch is being lexed here.
    lexer: Option<Lexer>,
    /// The position of `tail[0]`.
    pos: Position,
    tail: Vec<u8>,
    table: String,
}

impl Pass {
    /// Whether a batch lexed from a fresh lexer continues the stream here.
    fn at_fresh_start(&self) -> bool {
        self.lexer
            .as_ref()
            .is_some_and(|l| l.is_between_statements() && l.delimiter() == b";")
            && self.tail.iter().all(u8::is_ascii_whitespace)
    }

    /// The unfinished tail and then `bytes`, in a buffer of the pool: the tail is most
    /// often the newline after a batch's last `;`, and growing its own small vector to a
    /// batch's size took fresh pages from the kernel for every batch.
    fn after_tail(&mut self, bytes: Vec<u8>, buffers: &Buffers) -> Vec<u8> {
        if self.tail.is_empty() {
            return bytes;
        }
        let mut buf = buffers.get();
        buf.extend_from_slice(&self.tail);
        buf.extend_from_slice(&bytes);
        self.tail.clear();
        buffers.put(bytes);
        buf
    }

    /// Takes the next batch, as its worker made it.
    fn settle<W: Write>(
        &mut self,
        run: &mut Run<'_, W>,
        pending: mpsc::Receiver<Lexed>,
        buffers: &Buffers,
    ) -> Result<(), Error> {
        self.accept(run, received(pending)?, buffers)
    }

    fn accept<W: Write>(
        &mut self,
        run: &mut Run<'_, W>,
        lexed: Lexed,
        buffers: &Buffers,
    ) -> Result<(), Error> {
        if lexed.tokens.is_some() && self.at_fresh_start() {
            self.replay(run, lexed, buffers)
        } else {
            let buf = self.after_tail(lexed.bytes, buffers);
            if let Some(tokens) = lexed.tokens {
                buffers.tokens.put(tokens);
            }
            buffers.put(lexed.out);
            self.lex_here(run, buf, false, buffers)
        }
    }

    /// Takes a worker's tokens.
    fn replay<W: Write>(
        &mut self,
        run: &mut Run<'_, W>,
        lexed: Lexed,
        buffers: &Buffers,
    ) -> Result<(), Error> {
        if !self.tail.is_empty() {
            let tail = std::mem::take(&mut self.tail);
            run.token(
                Item {
                    token: Token::Space,
                    bytes: &tail,
                    pos: self.pos,
                },
                1,
            )?;
            self.pos = advance(self.pos, &tail);
        }
        let base = self.pos;
        run.pre_values = lexed
            .values
            .into_iter()
            .map(|(at, v)| (base.byte + at, v))
            .collect();
        run.pre_cursor = 0;
        let bytes = &lexed.bytes;
        let mut tokens = lexed.tokens.unwrap_or_default();
        for rec in tokens.drain(..) {
            let token_bytes = &bytes[rec.span()];
            let pos = Position {
                byte: base.byte + u64::from(rec.start),
                line: base.line + u64::from(rec.line),
            };
            run.pre_head = match rec.head.map(|ahead| *ahead) {
                Some(Ahead::Values(pre)) => Some(pre),
                Some(Ahead::Statement(done)) => {
                    let Delegated {
                        table: name,
                        schema,
                        output,
                        span,
                        report,
                        lookups,
                        lexer,
                    } = done;
                    let written = match output {
                        Some(range) => &lexed.out[range],
                        None => &bytes[span.clone()],
                    };
                    let taken = run.delegated(&name, &schema, written, report, lookups)?;
                    if !taken {
                        // The worker read the table otherwise: lex the statement here.
                        let reader = SliceReader::new(lexer, pos, &name);
                        let mut src = SliceCursor::new(reader, &bytes[span], true);
                        drive(&mut src, run, &mut ChangeAhead::default(), &mut Vec::new())?;
                    }
                    continue;
                }
                Some(Ahead::Schema(schema)) => {
                    run.pre_schema = Some(schema);
                    None
                }
                None => None,
            };
            let item = Item {
                token: rec.token,
                bytes: token_bytes,
                pos,
            };
            run.token(item, usize::from(rec.delimiter_len))?;
        }
        buffers.tokens.put(tokens);
        run.pre_head = None;
        run.pre_schema = None;
        run.pre_values.clear();
        self.pos = Position {
            byte: base.byte + lexed.consumed as u64,
            line: base.line + lexed.lines,
        };
        self.tail = bytes[lexed.consumed..].to_vec();
        self.lexer = Some(lexed.lexer);
        if let Some(t) = lexed.table {
            self.table = t;
        }
        buffers.put(lexed.bytes);
        buffers.put(lexed.out);
        Ok(())
    }

    /// Lexes `buf` (the unfinished tail and a batch) here, continuing the stream's lexer;
    /// `buf` then goes back to the pool.
    fn lex_here<W: Write>(
        &mut self,
        run: &mut Run<'_, W>,
        buf: Vec<u8>,
        eof: bool,
        buffers: &Buffers,
    ) -> Result<(), Error> {
        let lexer = self.lexer.take().expect("the pass always holds its lexer");
        let reader = SliceReader::new(lexer, self.pos, &self.table);
        let mut src = SliceCursor::new(reader, &buf, eof);
        drive(&mut src, run, &mut ChangeAhead::default(), &mut Vec::new())?;
        let at = src.at;
        let reader = src.reader;
        self.pos = reader.position();
        self.table = reader.table().to_owned();
        self.lexer = Some(reader.into_lexer());
        self.tail.clear();
        self.tail.extend_from_slice(&buf[at..]);
        buffers.put(buf);
        Ok(())
    }

    /// Lexes a long statement here as it is read, until the stream is between statements
    /// again; what follows is then read in batches.
    fn stream<W: Write, R: BufRead>(
        &mut self,
        run: &mut Run<'_, W>,
        start: Vec<u8>,
        splitter: &mut Splitter<R>,
        buffers: &Buffers,
    ) -> Result<(), Error> {
        let mut buf = std::mem::take(&mut self.tail);
        buf.extend_from_slice(&start);
        buffers.put(start);
        loop {
            let given = buf.len();
            self.lex_here(run, buf, false, buffers)?;
            // Back to batches once a statement ended here (a single long token, consumed
            // nothing yet, is streamed on).
            let progressed = self.tail.len() < given;
            if progressed
                && self
                    .lexer
                    .as_ref()
                    .is_some_and(Lexer::is_between_statements)
            {
                // The unfinished next statement goes to the next batch.
                splitter.unread(&std::mem::take(&mut self.tail));
                return Ok(());
            }
            // At least as much as the unfinished token holds, so a long value costs
            // amortized linear time however it is cut.
            let want = splitter.batch.max(self.tail.len());
            let Some(chunk) = splitter.next_chunk(want, buffers)? else {
                return Ok(());
            };
            buf = std::mem::take(&mut self.tail);
            buf.extend_from_slice(&chunk);
            buffers.put(chunk);
        }
    }

    /// The end of the input: what is left must complete the dump.
    fn finish<W: Write>(&mut self, run: &mut Run<'_, W>, buffers: &Buffers) -> Result<(), Error> {
        let buf = std::mem::take(&mut self.tail);
        self.lex_here(run, buf, true, buffers)
    }
}

/// The position after `bytes`.
fn advance(mut pos: Position, bytes: &[u8]) -> Position {
    pos.byte += bytes.len() as u64;
    pos.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
    pos
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Read;

    fn schema_of(name: &str) -> Arc<TableSchema> {
        Arc::new(TableSchema {
            name: name.to_owned(),
            columns: Vec::new().into(),
        })
    }

    /// Workers share the schemas of the last tables created; for an older one they leave
    /// the statement to the pass (`NotYet`), and a table never created has none.
    #[test]
    fn workers_share_the_recent_schemas_and_defer_older_ones() {
        let shared = SharedSchemas::new();
        for i in 0..SHARED_TABLES + 100 {
            let name = format!("wp_{i}_posts");
            shared.publish(i as u64 / 1000, &name, schema_of(&name));
        }
        let batch = 100;
        let recent = format!("wp_{}_posts", SHARED_TABLES + 99);
        assert_eq!(
            shared.before(batch, &recent).ok().flatten(),
            Some(schema_of(&recent))
        );
        for old in ["wp_0_posts", "wp_99_posts"] {
            assert!(shared.before(batch, old).is_err(), "{old}");
        }
        assert!(matches!(shared.before(batch, "wp_100_posts"), Ok(Some(_))));
        // A forgotten table created again: its schema before that batch is not known.
        shared.publish(200, "wp_0_posts", schema_of("wp_0_posts"));
        assert!(shared.before(batch, "wp_0_posts").is_err());
        assert!(matches!(shared.before(201, "wp_0_posts"), Ok(Some(_))));
        assert!(matches!(shared.before(batch, "never_created"), Ok(None)));
        let filter_misses = (0..10_000)
            .filter(|i| shared.before(batch, &format!("other_{i}")).is_err())
            .count();
        assert!(filter_misses < 10, "{filter_misses} false maybes");
    }

    /// A batch's scan names the tables it creates at a line's start in any case, so later
    /// batches wait for them; the tables it does not create are known at once.
    #[test]
    fn a_scan_finds_the_tables_a_batch_creates() {
        let shared = SharedSchemas::new();
        shared.expect(5);
        let batch = b"CREATE TABLE `a` (`id` int);\n\
                      INSERT INTO `x` VALUES ('\\ncreate table `no`');\n\
                      create table `b` (`id` int);\n/* c */ Create Table `c` (`id` int);\n\
                      Create Table `d` (`id` int);\n";
        shared.scan(5, batch);
        for table in ["a", "b", "d"] {
            assert!(shared.before(6, table).is_err(), "{table}");
        }
        for table in ["x", "no", "zzz"] {
            assert!(matches!(shared.before(6, table), Ok(None)), "{table}");
        }
        // Batch 5 itself, and earlier ones, need not wait for it.
        assert!(matches!(shared.before(5, "a"), Ok(None)));
        shared.lexed(5);
        assert!(matches!(shared.before(6, "a"), Ok(None)));
    }

    /// A buffered source handing out at most `piece` bytes at a time.
    struct Pieces<'a> {
        data: &'a [u8],
        at: usize,
        piece: usize,
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.fill_buf()?.len().min(out.len());
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.consume(n);
            Ok(n)
        }
    }

    impl BufRead for Pieces<'_> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            let end = (self.at + self.piece).min(self.data.len());
            Ok(&self.data[self.at..end])
        }

        fn consume(&mut self, n: usize) {
            self.at += n;
        }
    }

    /// Every piece the splitter cuts from `data`, as (streamed, bytes).
    fn split(data: &[u8], piece: usize, batch: usize) -> Vec<(bool, Vec<u8>)> {
        let buffers = Buffers::new(4);
        let src = Pieces { data, at: 0, piece };
        let mut splitter = Splitter::new(src, batch);
        let mut out = Vec::new();
        while let Some(p) = splitter.next_batch(&buffers).unwrap() {
            out.push(match p {
                Piece::Batch(b) => (false, b),
                Piece::Stream(b) => (true, b),
            });
        }
        out
    }

    fn ends_between(bytes: &[u8], from: usize, to: usize) -> bool {
        (from.max(2)..to).any(|end| &bytes[end - 2..end] == b";\n")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Batches are the input in order; each but the last ends with `;` + newline and
        /// is at most the batch size, or one statement; only a piece of
        /// `OVERSIZED_BATCHES` batches or more, a statement's start, is streamed.
        #[test]
        fn batches_end_after_statements(
            data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b';'), Just(b'\n')], 0..3000),
            piece in 1usize..300,
            batch in 1usize..200,
        ) {
            let pieces = split(&data, piece, batch);
            let joined: Vec<u8> = pieces.iter().flat_map(|(_, b)| b.iter().copied()).collect();
            prop_assert_eq!(&joined, &data);
            for (i, (streamed, bytes)) in pieces.iter().enumerate() {
                prop_assert!(!bytes.is_empty());
                if *streamed {
                    prop_assert!(bytes.len() >= batch * OVERSIZED_BATCHES);
                    prop_assert!(!ends_between(bytes, 2, bytes.len() + 1), "stream {}", i);
                } else if i + 1 < pieces.len() {
                    prop_assert!(bytes.ends_with(b";\n"), "batch {} of {}", i, pieces.len());
                }
                if bytes.len() > batch {
                    prop_assert!(!ends_between(bytes, 2, bytes.len()), "batch {}", i);
                }
            }
        }
    }

    #[test]
    fn a_batch_ends_at_the_last_statement_end_before_its_size() {
        let data = b"INSERT 1;\nINSERT 2;\nINSERT 3;\nINSERT 4;\n";
        // Any piece size: at most 25 bytes, so cut after `2;\n`.
        for piece in [1, 5, 11, 19, 20, 21, 25, 26, 100] {
            let pieces = split(data, piece, 25);
            let batches: Vec<&[u8]> = pieces.iter().map(|(_, b)| &b[..]).collect();
            assert_eq!(
                batches,
                [&b"INSERT 1;\nINSERT 2;\n"[..], b"INSERT 3;\nINSERT 4;\n"],
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn bytes_given_back_come_first() {
        let buffers = Buffers::new(4);
        let data = b"B;\nC;\n";
        let mut splitter = Splitter::new(
            Pieces {
                data,
                at: 0,
                piece: 2,
            },
            1,
        );
        let first = splitter.next_chunk(2, &buffers).unwrap().unwrap();
        assert_eq!(first, b"B;");
        splitter.unread(b"A;\nB;");
        let mut got = Vec::new();
        while let Some(Piece::Batch(b)) = splitter.next_batch(&buffers).unwrap() {
            got.push(b);
        }
        assert_eq!(got, [&b"A;\n"[..], b"B;\n", b"C;\n"]);
    }
}
