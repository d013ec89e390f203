//! [`DumpReader`]: the buffered driver around the [`Lexer`] core.
//!
//! It owns the buffer, reads from any [`io::Read`], keeps the stream [`Position`], and knows
//! which table the current statement belongs to, so every error names a byte offset, a line and
//! a table. Like ripgrep's line buffer it never holds more than the current token plus one read:
//! consumed bytes are dropped by moving the partial tail to the front, and the buffer only grows
//! when a single token is larger than it.

use std::io;

use crate::error::{Error, Position};
use std::ops::Range;

use crate::lexer::{Lexed, LexedRow, Lexer, Look, Skimmed, Token, Value};
use crate::literal::unquote_identifier;

/// The default read size and initial buffer size.
pub const DEFAULT_CHUNK: usize = 256 * 1024;

/// A token and its bytes, as handed out by [`DumpReader::next_token`].
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    /// What the bytes are.
    pub token: Token,
    /// The token's bytes, exactly as read.
    pub bytes: &'a [u8],
    /// Where the token starts in the stream.
    pub pos: Position,
}

/// A whole row, as handed out by [`DumpReader::next_row`]: the bytes of its
/// [`Token::RowOpen`], values and [`Token::RowClose`], exactly as read.
#[derive(Clone, Debug)]
pub struct RowItem<'a> {
    /// The row's bytes.
    pub bytes: &'a [u8],
    /// Where its open and close tokens are in `bytes`.
    pub parts: LexedRow,
    /// Where the row starts in the stream.
    pub pos: Position,
}

/// Reads a dump and yields its tokens. Buffers reads, tracks positions and tables, and drops consumed bytes; see the [crate docs](crate).
#[derive(Debug)]
pub struct DumpReader<R> {
    src: R,
    lexer: Lexer,
    buf: Vec<u8>,
    /// `buf[start..end]` holds bytes read but not yet consumed.
    start: usize,
    end: usize,
    /// Bytes of the token handed out last, consumed on the next call.
    pending: usize,
    eof: bool,
    /// Position of `buf[start]`.
    pos: Position,
    chunk: usize,
    /// The table of the current or last `INSERT` / `CREATE TABLE`.
    table: String,
}

impl<R: io::Read> DumpReader<R> {
    /// A reader with the default lexer and chunk size.
    pub fn new(src: R) -> DumpReader<R> {
        DumpReader::with_lexer(src, Lexer::new(), DEFAULT_CHUNK)
    }

    /// A reader with a configured lexer, reading `chunk` bytes at a time.
    pub fn with_lexer(src: R, lexer: Lexer, chunk: usize) -> DumpReader<R> {
        let chunk = chunk.max(1);
        DumpReader {
            src,
            lexer,
            buf: vec![0; chunk],
            start: 0,
            end: 0,
            pending: 0,
            eof: false,
            pos: Position { byte: 0, line: 1 },
            chunk,
            table: String::new(),
        }
    }

    /// The table of the current (or last) `INSERT` or `CREATE TABLE`; empty before the first.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The lexer, e.g. to read the delimiter in force.
    pub fn lexer(&self) -> &Lexer {
        &self.lexer
    }

    /// The position of the next byte to be consumed.
    pub fn position(&self) -> Position {
        self.pos
    }

    /// The next token, or `None` at the end of a complete dump.
    ///
    /// # Errors
    /// A read error, or input that is not a well-formed dump (see [`crate::ErrorKind`]), with
    /// the position and table.
    pub fn next_token(&mut self) -> Result<Option<Item<'_>>, Error> {
        self.consume_pending();
        loop {
            let input = &self.buf[self.start..self.end];
            match self.lexer.lex(input, self.eof) {
                Ok((Lexed::Token(token), n)) => {
                    match token {
                        Token::InsertHead { table: name, .. } | Token::CreateTable { name } => {
                            let raw = unquote_identifier(name.of(input));
                            self.table.clear();
                            self.table.push_str(&String::from_utf8_lossy(&raw));
                        }
                        _ => {}
                    }
                    self.pending = n;
                    return Ok(Some(Item {
                        token,
                        bytes: &self.buf[self.start..self.start + n],
                        pos: self.pos,
                    }));
                }
                Ok((Lexed::End, _)) => return Ok(None),
                Ok((Lexed::NeedInput, _)) => self.fill()?,
                Err(e) => {
                    let input = &self.buf[self.start..self.end];
                    let offset = e.offset.min(input.len());
                    let pos = advance(self.pos, &input[..offset]);
                    let table = if self.lexer.is_between_statements() {
                        crate::lexer::table_of_partial_statement(input)
                            .map(|raw| {
                                String::from_utf8_lossy(&unquote_identifier(raw)).into_owned()
                            })
                            .or_else(|| (!self.table.is_empty()).then(|| self.table.clone()))
                    } else {
                        Some(self.table.clone())
                    };
                    return Err(Error::new(e.kind, pos, table.as_deref()));
                }
            }
        }
    }

    /// The next row of the current `INSERT`, whole (see [`Lexer::lex_row`]), its values in
    /// `values`; or `None` if there is none here or it is not all in the buffer: call
    /// [`DumpReader::next_token`] then, which reads more and reports any error.
    pub fn next_row(&mut self, values: &mut Vec<(Value, Range<usize>)>) -> Option<RowItem<'_>> {
        self.consume_pending();
        let input = &self.buf[self.start..self.end];
        let parts = self.lexer.lex_row(input, values)?;
        self.pending = parts.close.end;
        Some(RowItem {
            bytes: &input[..parts.close.end],
            parts,
            pos: self.pos,
        })
    }

    /// The whole rows of the current `INSERT` that follow, as one [`Token::Rows`] item (see
    /// [`Lexer::skim_rows`]), or `None` if none can be taken that way: call
    /// [`DumpReader::next_token`] then, which also reports any error. For callers that copy
    /// a statement through unchanged.
    ///
    /// It reads nothing: the rows must be in the buffer already.
    pub fn skim_rows(&mut self) -> Option<Item<'_>> {
        self.skim(false, |lexer, input| lexer.skim_rows(input))
    }

    /// The bytes read but not yet handed out, and the stream offset of their first: what
    /// the next token, row or skim starts in. A caller that limits a skim by what it finds
    /// in them ([`DumpReader::skim_rows_before`]) searches these.
    pub fn buffered(&mut self) -> (&[u8], u64) {
        self.consume_pending();
        (&self.buf[self.start..self.end], self.pos.byte)
    }

    /// [`DumpReader::skim_rows`] taking only rows (or a row's remaining values) that end by
    /// `limit`, an offset in [`DumpReader::buffered`], and that hold no text `look` stops at
    /// (see [`Lexer::skim_rows_before`]).
    pub fn skim_rows_before<F>(&mut self, limit: usize, look: &F) -> Option<Item<'_>>
    where
        F: Fn(&[u8]) -> Look,
    {
        self.skim(true, |lexer, input| {
            lexer.skim_rows_before(input, limit, look)
        })
    }

    fn skim(
        &mut self,
        values_too: bool,
        skim: impl FnOnce(&mut Lexer, &[u8]) -> Skimmed,
    ) -> Option<Item<'_>> {
        self.consume_pending();
        if !self.lexer.can_skim(values_too) {
            return None;
        }
        let input = &self.buf[self.start..self.end];
        match skim(&mut self.lexer, input) {
            Skimmed::Rows(token, n) => {
                self.pending = n;
                Some(Item {
                    token,
                    bytes: &self.buf[self.start..self.start + n],
                    pos: self.pos,
                })
            }
            // A row cut by the end of the buffer goes token by token, which reads more when
            // the lexer needs it: the reads (and a failing one) happen where they would
            // without skimming. One row per buffer.
            Skimmed::Cut | Skimmed::NotPlain => None,
        }
    }

    fn consume_pending(&mut self) {
        if self.pending > 0 {
            let consumed = &self.buf[self.start..self.start + self.pending];
            self.pos = advance(self.pos, consumed);
            self.start += self.pending;
            self.pending = 0;
        }
    }

    /// Makes room and reads more; sets `eof` when the source is exhausted.
    fn fill(&mut self) -> Result<(), Error> {
        if self.eof {
            unreachable!("the lexer finishes or fails at end of input");
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // Read at least a chunk, and at least as much as the unfinished token already holds:
        // a scanner that restarts a short token from its beginning (numbers, hex literals) then
        // costs amortized O(n) even for a 30 MB `0x…` blob, whatever size the source's reads are.
        let want = self.chunk.max(self.end - self.start);
        if self.buf.len() - self.end < want {
            self.buf.resize(self.end + want, 0);
        }
        let target = self.end + want;
        while self.end < target {
            match self.src.read(&mut self.buf[self.end..target]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    self.end += n;
                    // Hand over what a slow source delivered rather than wait for a full
                    // chunk, unless a long token is being completed.
                    if want == self.chunk {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let pos = advance(self.pos, &self.buf[self.start..self.end]);
                    let table = (!self.table.is_empty()).then_some(self.table.as_str());
                    return Err(Error::io(e, pos, table));
                }
            }
        }
        Ok(())
    }
}

/// Lexes dump bytes that are already in memory, a buffer at a time, continuing one lexer
/// across buffers. The parallel rewrite cuts a dump into batches and lexes each on its own
/// thread with one of these; [`DumpReader`] is the same thing for an [`io::Read`].
///
/// Positions count from the one given to [`SliceReader::new`], so a batch lexed on its own
/// can number its tokens from 0 and have them moved to the stream position later.
#[derive(Clone, Debug)]
pub struct SliceReader {
    lexer: Lexer,
    pos: Position,
    table: String,
    /// Whether `pos.line` is kept (a caller that counts lines itself, in bulk, turns it off).
    lines: bool,
}

impl SliceReader {
    /// Continues `lexer` (fresh, or where an earlier buffer left it) at `pos`, inside `table`
    /// (the table named in messages until the next `INSERT` or `CREATE TABLE`).
    pub fn new(lexer: Lexer, pos: Position, table: &str) -> SliceReader {
        SliceReader {
            lexer,
            pos,
            table: table.to_owned(),
            lines: true,
        }
    }

    /// Stops counting lines: positions then carry the starting line only. Counting per
    /// token costs a call per token; a caller that needs few lines counts them in bulk.
    pub fn without_lines(mut self) -> SliceReader {
        self.lines = false;
        self
    }

    /// The lexer, e.g. to ask whether it is between statements.
    pub fn lexer(&self) -> &Lexer {
        &self.lexer
    }

    /// Gives the lexer back, e.g. to continue it in another `SliceReader`.
    pub fn into_lexer(self) -> Lexer {
        self.lexer
    }

    /// The position of the next byte to be consumed.
    pub fn position(&self) -> Position {
        self.pos
    }

    /// The table of the current (or last) `INSERT` or `CREATE TABLE`.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The whole rows of the current `INSERT` at `input[*at..]` as one [`Token::Rows`] item,
    /// moving `at` past them, or `None` if none can be taken that way (see
    /// [`DumpReader::skim_rows`]).
    pub fn skim_rows<'b>(&mut self, input: &'b [u8], at: &mut usize) -> Option<Item<'b>> {
        self.skim(input, at, false, |lexer, rest| lexer.skim_rows(rest))
    }

    /// [`SliceReader::skim_rows`] taking only rows (or a row's remaining values) that end by
    /// `input[*at + limit]`, and that hold no text `look` stops at (see
    /// [`Lexer::skim_rows_before`]).
    pub fn skim_rows_before<'b, F>(
        &mut self,
        input: &'b [u8],
        at: &mut usize,
        limit: usize,
        look: &F,
    ) -> Option<Item<'b>>
    where
        F: Fn(&[u8]) -> Look,
    {
        self.skim(input, at, true, |lexer, rest| {
            lexer.skim_rows_before(rest, limit, look)
        })
    }

    fn skim<'b>(
        &mut self,
        input: &'b [u8],
        at: &mut usize,
        values_too: bool,
        skim: impl FnOnce(&mut Lexer, &[u8]) -> Skimmed,
    ) -> Option<Item<'b>> {
        if !self.lexer.can_skim(values_too) {
            return None;
        }
        let rest = &input[*at..];
        let Skimmed::Rows(token, n) = skim(&mut self.lexer, rest) else {
            return None;
        };
        Some(self.hand_out(token, rest, n, at))
    }

    /// The item of the token that covers `rest[..n]`, moving the position and `at` past it.
    fn hand_out<'b>(&mut self, token: Token, rest: &'b [u8], n: usize, at: &mut usize) -> Item<'b> {
        let bytes = &rest[..n];
        let item = Item {
            token,
            bytes,
            pos: self.pos,
        };
        if self.lines {
            self.pos = advance(self.pos, bytes);
        } else {
            self.pos.byte += n as u64;
        }
        *at += n;
        item
    }

    /// The next row of `input[*at..]`, whole, moving `at` past it (see
    /// [`DumpReader::next_row`]); `None` if there is none or it is cut: call
    /// [`SliceReader::next`] then.
    pub fn next_row<'b>(
        &mut self,
        input: &'b [u8],
        at: &mut usize,
        values: &mut Vec<(Value, Range<usize>)>,
    ) -> Option<RowItem<'b>> {
        let rest = &input[*at..];
        let parts = self.lexer.lex_row(rest, values)?;
        let n = parts.close.end;
        let pos = self.pos;
        if self.lines {
            self.pos = advance(self.pos, &rest[..n]);
        } else {
            self.pos.byte += n as u64;
        }
        *at += n;
        Some(RowItem {
            bytes: &rest[..n],
            parts,
            pos,
        })
    }

    /// The next token of `input[*at..]`, advancing `at` past it. `Ok(None)` when the input
    /// ends before the next token does (`at` then points at the unfinished bytes: hand them
    /// over again, followed by more) or, with `eof`, at the end of a complete dump.
    ///
    /// # Errors
    /// Input that is not a well-formed dump, with the position and table.
    pub fn next<'b>(
        &mut self,
        input: &'b [u8],
        at: &mut usize,
        eof: bool,
    ) -> Result<Option<Item<'b>>, Error> {
        let rest = &input[*at..];
        match self.lexer.lex(rest, eof) {
            Ok((Lexed::Token(token), n)) => {
                if let Token::InsertHead { table: name, .. } | Token::CreateTable { name } = token {
                    let raw = unquote_identifier(name.of(rest));
                    self.table.clear();
                    self.table.push_str(&String::from_utf8_lossy(&raw));
                }
                Ok(Some(self.hand_out(token, rest, n, at)))
            }
            Ok((Lexed::End | Lexed::NeedInput, _)) => Ok(None),
            Err(e) => {
                let offset = e.offset.min(rest.len());
                let pos = advance(self.pos, &rest[..offset]);
                let table = if self.lexer.is_between_statements() {
                    crate::lexer::table_of_partial_statement(rest)
                        .map(|raw| String::from_utf8_lossy(&unquote_identifier(raw)).into_owned())
                        .or_else(|| (!self.table.is_empty()).then(|| self.table.clone()))
                } else {
                    Some(self.table.clone())
                };
                Err(Error::new(e.kind, pos, table.as_deref()))
            }
        }
    }
}

/// The position after `bytes`.
#[inline]
fn advance(mut pos: Position, bytes: &[u8]) -> Position {
    pos.byte += bytes.len() as u64;
    // Called for every token, most of them a short value: a plain loop (which the compiler
    // vectorizes) costs less there than `memchr`'s dispatch to its SIMD count.
    pos.line += if bytes.len() < 64 {
        bytes.iter().filter(|&&b| b == b'\n').count()
    } else {
        memchr::memchr_iter(b'\n', bytes).count()
    } as u64;
    pos
}
