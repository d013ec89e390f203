//! The resumable lexer core: bytes in, tokens out, no I/O and no allocation on the hot path.
//!
//! The shape follows `csv-core`: the caller owns the buffer and hands the lexer a slice;
//! [`Lexer::lex`] answers with the next token and how many bytes of the slice it covers, or
//! with [`Lexed::NeedInput`] when the slice ends before the token does. Running out of input is
//! a status, not an error, so the caller may feed chunks of any size (down to one byte) and gets
//! the same tokens.
//!
//! Every input byte lands in exactly one token, so writing out the bytes of every token in order
//! reproduces the input. That is the foundation of Understudy's promise to leave every byte it
//! does not change exactly as it was.
//!
//! Long tokens (multi-megabyte string values, long statements) are not rescanned when more
//! input arrives: the lexer remembers how far it got inside the token (`resume`) and carries on
//! from there, so feeding a 16 MiB value in 64 KiB chunks costs one pass, not 256.

use std::ops::Range;

use memchr::{memchr, memchr2};

use crate::error::{ErrorKind, ShownByte};
use crate::stops::Stops;
use crate::strings::{self, is_mysqldump_escape};

/// A byte range relative to the start of a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        // Tokens are limited to `u32::MAX` bytes by `LexerBuilder::max_token`.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The bytes of this span inside `token` (the token's own bytes).
    ///
    /// # Panics
    /// If `token` is not the token this span came from and is too short.
    pub fn of<'a>(&self, token: &'a [u8]) -> &'a [u8] {
        &token[self.start as usize..self.end as usize]
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span is empty.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// One token. Its bytes are the slice the lexer reported as consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// Whitespace between statements.
    Space,
    /// A comment between statements: `-- …`, `# …` (each with its line end) or `/* … */`.
    Comment,
    /// MariaDB's first line `/*M!999999\- enable the sandbox mode */`, which older clients reject.
    SandboxComment,
    /// A `DELIMITER xx` client command, through its line end.
    Delimiter {
        /// The new delimiter.
        delimiter: Span,
    },
    /// A whole statement the lexer does not look into, through its delimiter.
    Statement {
        /// What sort of statement it is, as far as Understudy cares.
        kind: StatementKind,
    },
    /// A whole `CREATE TABLE` statement, through its delimiter.
    CreateTable {
        /// The table name as written (quoted or not; see [`crate::unquote_identifier`]).
        name: Span,
    },
    /// `INSERT INTO t (cols) VALUES`: everything up to and including the `VALUES` keyword.
    InsertHead {
        /// `INSERT`, `INSERT IGNORE` or `REPLACE`.
        verb: InsertVerb,
        /// The table name as written.
        table: Span,
        /// The column list between the parentheses, if the statement has one.
        columns: Option<Span>,
    },
    /// The `(` that opens a row, with the separator and whitespace before it.
    RowOpen,
    /// One literal in a row, with the separator and whitespace before it.
    Value(Value),
    /// The `)` that closes a row, with the whitespace before it.
    RowClose,
    /// The delimiter that ends an `INSERT`, with the whitespace before it.
    InsertEnd,
    /// Whole rows of an `INSERT` taken in one step by [`Lexer::skim_rows`], never by
    /// [`Lexer::lex`]: each with the `,` and whitespace before it.
    Rows {
        /// How many rows.
        rows: u32,
        /// Whether they start with the statement's first row (no `,` before it).
        first: bool,
    },
    /// Values of a row taken in one step by [`Lexer::skim_rows_before`], never by
    /// [`Lexer::lex`]: each with the `,` before it, never a row's first value.
    Values {
        /// How many values.
        values: u32,
    },
    /// What follows an `INSERT`'s rows up to and including its delimiter, such as
    /// `ON DUPLICATE KEY UPDATE b = VALUES(b);`. Ends the `INSERT` like [`Token::InsertEnd`].
    InsertTail,
}

/// How an `INSERT`-like statement treats existing rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertVerb {
    /// `INSERT`.
    Insert,
    /// `INSERT IGNORE`.
    InsertIgnore,
    /// `REPLACE`.
    Replace,
}

/// A classification of opaque statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// `CREATE DATABASE` / `CREATE SCHEMA` (from `--databases`).
    CreateDatabase,
    /// `USE db`.
    Use,
    /// `DROP DATABASE` (from `--add-drop-database`).
    DropDatabase,
    /// An `INSERT`/`REPLACE` whose rows are not a `VALUES` list (`INSERT … SELECT`, `… SET`).
    OtherInsert,
    /// Anything else.
    Other,
}

/// A literal value inside a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    /// What sort of literal.
    pub kind: ValueKind,
    /// 0-based position of the value in its row.
    pub column: u32,
    /// The literal as written, including any charset introducer, sign and quotes.
    pub literal: Span,
    /// For strings: the bytes between the quotes, still escaped. For hex and bit literals: the
    /// digits. Otherwise the same as `literal`.
    pub content: Span,
}

/// The sort of a literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A quoted string, possibly with a charset introducer (`_binary '…'`) or `N` prefix.
    Str {
        /// Whether the content holds backslash escapes or doubled quotes.
        escapes: bool,
        /// Whether every escape is one mysqldump writes (`\0 \' \" \n \r \\ \Z`). When it
        /// is, escaping is a byte-by-byte map of the decoded value, so a search for an escaped
        /// needle in the raw content finds every needle in the decoded value.
        canonical: bool,
        /// Whether every `"` in the content is escaped (`\"`), as mysqldump writes them;
        /// other tools may leave them as they are in a `'…'` string. With `canonical`, the
        /// content is then escaped exactly as mysqldump escapes the decoded value.
        double_quotes_escaped: bool,
        /// The quote character, `'` or `"`.
        quote: u8,
    },
    /// An integer, decimal or float, possibly signed.
    Number,
    /// `NULL`.
    Null,
    /// `0x…` or `X'…'`.
    Hex,
    /// `0b…` or `b'…'`.
    Bit,
    /// Another bare word: `TRUE`, `FALSE`, `DEFAULT`.
    Keyword,
    /// Adjacent quoted strings that MySQL joins into one: `'con' 'cat' "enated"`. Its
    /// `content` is the whole literal; decode with [`crate::literal::unescape_concat`].
    Concat,
}

/// What the caller does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lexed {
    /// A token covering the first `nin` bytes of the input.
    Token(Token),
    /// The input ends before the next token does: call again with the same unconsumed bytes
    /// plus more (or with `eof = true`).
    NeedInput,
    /// The input is finished and every byte has been tokenized.
    End,
}

/// The lexer's error before it is positioned: a kind and the offset inside the current token.
type RawError = (ErrorKind, usize);

/// An error from [`Lexer::lex`]: what went wrong and where, relative to the start of the input
/// slice (which is always the start of the current token). [`crate::DumpReader`] turns it into a
/// positioned [`crate::Error`].
#[derive(Debug)]
pub struct LexError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The offset inside the input slice.
    pub offset: usize,
}

const MAX_DELIMITER: usize = 16;

const EXPECT_ROW: &str = "'(' to open a row";
const EXPECT_NEXT_ROW: &str = "',' and another row, or the statement's end, after ')'";
const EXPECT_VALUE: &str = "a value";
const EXPECT_NEXT_VALUE: &str = "',' and another value, or ')' to close the row";

/// Where the lexer is in the statement structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Between statements.
    Between,
    /// After an `INSERT … VALUES` head, before the first row.
    FirstRow,
    /// After a row's `)`: a `,` and another row, or the delimiter.
    AfterRow,
    /// After a row's `(`: a value or `)`.
    RowStart,
    /// After a value: `,` and a value, or `)`.
    AfterValue,
}

/// Progress inside a statement's text, kept across `NeedInput` so nothing is rescanned.
#[derive(Clone, Copy, Debug, Default)]
struct TextScan {
    /// The first byte not yet examined.
    at: usize,
    state: TextState,
    /// Where the quoted part that `state` is in started (for errors).
    quote_start: usize,
    /// For `INSERT` heads: where the current bare word started.
    word_start: Option<usize>,
    /// For `INSERT` heads: the statement turned out not to have a `VALUES` list.
    opaque: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum TextState {
    #[default]
    Code,
    Quoted(u8),
    LineComment,
    BlockComment,
}

/// What a finished text scan found.
enum TextEnd {
    /// The delimiter; the statement ends at this offset.
    Delimiter(usize),
    /// The `VALUES` keyword of an `INSERT`; the head ends at this offset.
    Values(usize),
}

/// Builds a [`Lexer`] with limits.
#[derive(Clone, Debug)]
pub struct LexerBuilder {
    max_token: usize,
}

impl Default for LexerBuilder {
    fn default() -> Self {
        LexerBuilder::new()
    }
}

impl LexerBuilder {
    /// The default limits: tokens up to 1 GiB (MariaDB's largest `max_allowed_packet`).
    pub fn new() -> LexerBuilder {
        LexerBuilder { max_token: 1 << 30 }
    }

    /// The largest single token (statement, literal) the lexer accepts before it reports
    /// [`ErrorKind::TokenTooLarge`]. Capped at `u32::MAX`.
    pub fn max_token(&mut self, bytes: usize) -> &mut LexerBuilder {
        self.max_token = bytes.min(u32::MAX as usize);
        self
    }

    /// Builds the lexer.
    pub fn build(&self) -> Lexer {
        Lexer {
            mode: Mode::Between,
            delimiter: [0; MAX_DELIMITER],
            delimiter_len: 1,
            column: 0,
            text: TextScan::default(),
            resume: 0,
            escapes: false,
            odd_escapes: false,
            raw_double_quotes: false,
            piece_quote: 0,
            max_token: self.max_token,
        }
        .with_default_delimiter()
    }
}

/// Where the parts of a row taken by [`Lexer::lex_row`] are in its input: the row is
/// `input[..close.end]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexedRow {
    /// The length of the [`Token::RowOpen`] (the separator, whitespace and `(`).
    pub open: usize,
    /// The [`Token::RowClose`] (whitespace and `)`).
    pub close: Range<usize>,
}

/// What [`Lexer::skim_rows`] took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skimmed {
    /// Whole rows or values: a [`Token::Rows`] or [`Token::Values`] and how many bytes it
    /// covers.
    Rows(Token, usize),
    /// The next row is cut by the end of the input: with more input it may be taken.
    Cut,
    /// The next row is not plain, or the statement ends: lex on token by token.
    NotPlain,
}

/// What [`Lexer::skim_rows_before`] does with a string, as its caller's `look` answers
/// about the text where the string starts (and, after [`Look::Inside`], after each `"` in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    /// Go on; inside this string, ask no more.
    Pass,
    /// Go on, and ask again after every `"` inside this string (where the strings of
    /// serialized PHP and JSON start).
    Inside,
    /// Leave the row (or the value) this is in to the lexer.
    Stop,
}

/// The resumable dump lexer.
///
/// The caller owns the buffer and hands the lexer a slice that starts at the current token;
/// [`Lexer::lex`] answers with the next token and how many bytes it covers, or with
/// [`Lexed::NeedInput`] when the slice ends first: call again with the same bytes plus more.
/// Running out of input is a status, not an error, so chunks of any size (down to one byte)
/// give the same tokens. Every input byte lands in exactly one token. Inside long string
/// values and statements the lexer remembers how far it got, so more input costs no rescan.
/// [`crate::DumpReader`] is the driver that does the buffering.
#[derive(Clone, Debug)]
pub struct Lexer {
    mode: Mode,
    delimiter: [u8; MAX_DELIMITER],
    delimiter_len: usize,
    /// The column index of the last value in the current row.
    column: u32,
    /// Progress in the current statement-like token.
    text: TextScan,
    /// Progress in the current string literal (0: none yet).
    resume: usize,
    /// Whether the current string literal holds escapes (kept with `resume`).
    escapes: bool,
    /// Whether it holds escapes mysqldump does not write (kept with `resume`).
    odd_escapes: bool,
    /// Whether it holds a `"` not escaped, as mysqldump escapes them (kept with `resume`).
    raw_double_quotes: bool,
    /// The quote of the current piece of a concatenated string literal (0: the first piece).
    piece_quote: u8,
    max_token: usize,
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer::new()
    }
}

impl Lexer {
    /// A lexer with the default limits.
    pub fn new() -> Lexer {
        LexerBuilder::new().build()
    }

    fn with_default_delimiter(mut self) -> Lexer {
        self.delimiter[0] = b';';
        self.delimiter_len = 1;
        self
    }

    /// The statement delimiter currently in force.
    pub fn delimiter(&self) -> &[u8] {
        &self.delimiter[..self.delimiter_len]
    }

    /// The largest token this lexer accepts.
    pub fn max_token(&self) -> usize {
        self.max_token
    }

    /// Whether the lexer is between statements (nothing half-read).
    pub fn is_between_statements(&self) -> bool {
        self.mode == Mode::Between
    }

    /// A lexer between statements with this one's delimiter and limits, nothing in
    /// progress: what this one was before the statement it is in, to lex that statement
    /// again elsewhere.
    pub fn restarted(&self) -> Lexer {
        Lexer {
            mode: Mode::Between,
            delimiter: self.delimiter,
            delimiter_len: self.delimiter_len,
            column: 0,
            text: TextScan::default(),
            resume: 0,
            escapes: false,
            odd_escapes: false,
            raw_double_quotes: false,
            piece_quote: 0,
            max_token: self.max_token,
        }
    }

    /// Whether the lexer is between two rows of an `INSERT` (after its `VALUES` or a row's
    /// `)`), where [`Lexer::skim_rows`] may take over.
    pub fn is_between_rows(&self) -> bool {
        matches!(self.mode, Mode::FirstRow | Mode::AfterRow)
    }

    /// A lexer with this one's delimiter and limits, between two rows of an `INSERT`: before
    /// its first row if `first`. It lexes the bytes of a [`Token::Rows`] value by value.
    pub fn between_rows(&self, first: bool) -> Lexer {
        let mut lexer = self.restarted();
        lexer.mode = if first {
            Mode::FirstRow
        } else {
            Mode::AfterRow
        };
        lexer
    }

    /// Consumes the whole rows at the start of `input` in one step, without a token per
    /// value, for callers that copy an `INSERT` through unchanged. Returns the bytes taken
    /// and the [`Token::Rows`] that stands for them; otherwise [`Lexer::lex`] goes on as
    /// usual (and reports any error).
    ///
    /// Only the plain rows mysqldump writes are taken, `('a\'b',-1.5e3,NULL,0x1F)`: a quoted
    /// string followed right away by `,` or `)`, a number, `NULL`, `0x…`, no spaces inside
    /// the row. Anything else stops the skim before its row, so the skim accepts nothing
    /// [`Lexer::lex`] would not. Call it only where [`Lexer::is_between_rows`].
    ///
    /// This is the hot path of a rewrite that changes few tables: a token per value costs
    /// tens of nanoseconds in every layer above the lexer, and rows of small numbers (link
    /// tables) hold a value every few bytes. Hand-written for that reason; strings are
    /// skipped by their quotes alone (`memchr`), the backslashes before a quote counted.
    pub fn skim_rows(&mut self, input: &[u8]) -> Skimmed {
        self.skim(input, None, &|_: &[u8]| Look::Pass)
    }

    /// [`Lexer::skim_rows`] for callers that change some rows: it takes only rows that end
    /// at or before `input[limit]`, and only rows whose text a search of the escaped bytes
    /// sees as it is: every string's escapes are ones mysqldump writes (`\0 \' \" \n \r
    /// \\ \Z`, no doubled quotes) and no value is `0x…`. A caller that searched
    /// `input[..limit]` for what it would change and found nothing there can so copy the
    /// rows through. The first row not taken is left for [`Lexer::lex`].
    ///
    /// Some text a search of the escaped bytes cannot judge: base64, say, which hides what
    /// it encodes. `look` is asked about the text where each string starts, still escaped
    /// and running on to the end of `input`, and, if it answers [`Look::Inside`], about the
    /// text after each `"` in that string (where the strings of serialized PHP and JSON
    /// start); a row with text it answers [`Look::Stop`] to is not taken either. It is asked
    /// at stops the string scan makes anyway, so it costs next to nothing when it looks at a
    /// byte or two first; strings it passes are scanned as fast as without it.
    ///
    /// Inside a row, after a value ([`Lexer::is_after_value`]), it takes the values that
    /// follow in the same way, as a [`Token::Values`], up to the row's `)`: so a row with a
    /// needle in one value is read value by value only there.
    pub fn skim_rows_before<F>(&mut self, input: &[u8], limit: usize, look: &F) -> Skimmed
    where
        F: Fn(&[u8]) -> Look,
    {
        if self.mode == Mode::AfterValue {
            return self.skim_values(input, limit, look);
        }
        self.skim(input, Some(limit), look)
    }

    /// Lexes one whole row at the start of `input` in one call, between two rows of an
    /// `INSERT` ([`Lexer::is_between_rows`]): the tokens [`Lexer::lex`] would hand out one by
    /// one ([`Token::RowOpen`], each [`Token::Value`], [`Token::RowClose`]), the same bytes
    /// and the same values, with no call per token. `values` is cleared, then gets each value
    /// with its token's range in `input` (the value's spans are in its token, as `lex` gives
    /// them).
    ///
    /// `None` leaves the lexer as it was: there is no whole row here (the statement ends, the
    /// row is cut by the end of `input`, or it is malformed); go on with [`Lexer::lex`], which
    /// reads more or reports the error where it is.
    ///
    /// For callers that hold every row whole (masks read other columns): a token per value
    /// costs a call through every layer above the lexer, and such rows are most of a
    /// masked dump.
    pub fn lex_row(
        &mut self,
        input: &[u8],
        values: &mut Vec<(Value, Range<usize>)>,
    ) -> Option<LexedRow> {
        if !self.is_between_rows() {
            return None;
        }
        let saved = self.clone();
        values.clear();
        let row = self.lex_row_tokens(input, values);
        if row.is_none() {
            *self = saved;
            values.clear();
        }
        row
    }

    fn lex_row_tokens(
        &mut self,
        input: &[u8],
        values: &mut Vec<(Value, Range<usize>)>,
    ) -> Option<LexedRow> {
        let open = match self.lex_raw(input, false) {
            Ok((Lexed::Token(Token::RowOpen), n)) => n,
            _ => return None,
        };
        let mut at = open;
        loop {
            // What `lex_raw` does inside a row, without its dispatch on the mode (a fifth of
            // lexing a row of short values); anything else is left to it.
            let rest = &input[at..];
            if rest.is_empty() {
                return None;
            }
            let row_start = self.mode == Mode::RowStart;
            match self.lex_in_row(rest, false, row_start) {
                Ok(Some((Token::Value(value), n))) if n <= self.max_token => {
                    self.token_done();
                    values.push((value, at..at + n));
                    at += n;
                }
                Ok(Some((Token::RowClose, n))) => {
                    self.token_done();
                    return Some(LexedRow {
                        open,
                        close: at..at + n,
                    });
                }
                _ => return None,
            }
        }
    }

    /// Whether the lexer is inside a row, after one of its values.
    pub fn is_after_value(&self) -> bool {
        self.mode == Mode::AfterValue
    }

    /// Whether [`Lexer::skim_rows`] (`values_too`: [`Lexer::skim_rows_before`]) may take
    /// anything here.
    ///
    /// Never inside a token an earlier call stopped in at the end of its input: that token's
    /// progress is kept for the call that continues it, and a skim from its start would
    /// take the token again while the progress stays (a row's values then counted into the
    /// next row's).
    pub fn can_skim(&self, values_too: bool) -> bool {
        let placed = self.is_between_rows() || values_too && self.is_after_value();
        placed && !self.in_token()
    }

    /// Whether a token is half read: an earlier call ran out of input inside it.
    fn in_token(&self) -> bool {
        self.resume != 0 || self.piece_quote != 0 || self.text.at != 0
    }

    fn skim_values<F>(&mut self, input: &[u8], limit: usize, look: &F) -> Skimmed
    where
        F: Fn(&[u8]) -> Look,
    {
        if self.delimiter[0] == b',' {
            return Skimmed::NotPlain;
        }
        let mut values: u32 = 0;
        let mut taken = 0;
        while values < u32::MAX && input.get(taken) == Some(&b',') {
            let end = match skim_value(input, taken + 1, Some(look), limit) {
                // Followed right away by the next value or the row's end, as in `skim_row`.
                Ok(end) if end > limit => Err(NoRow::NotPlain),
                Ok(end) => match input.get(end) {
                    Some(b',' | b')') => Ok(end),
                    Some(_) => Err(NoRow::NotPlain),
                    None => Err(NoRow::Cut),
                },
                Err(e) => Err(e),
            };
            match end {
                Ok(end) => {
                    taken = end;
                    values += 1;
                }
                Err(_) => break,
            }
        }
        if values == 0 {
            return Skimmed::NotPlain;
        }
        self.column += values;
        Skimmed::Rows(Token::Values { values }, taken)
    }

    fn skim<F>(&mut self, input: &[u8], limit: Option<usize>, look: &F) -> Skimmed
    where
        F: Fn(&[u8]) -> Look,
    {
        let first = match self.mode {
            Mode::FirstRow => true,
            Mode::AfterRow => false,
            _ => return Skimmed::NotPlain,
        };
        let delimiter = self.delimiter[0];
        let mut rows: u32 = 0;
        let mut taken = 0;
        while rows < u32::MAX {
            match skim_row(input, taken, first && rows == 0, delimiter, limit, look) {
                Ok(end) => {
                    taken = end;
                    rows += 1;
                }
                Err(_) if rows > 0 => break,
                Err(NoRow::Cut) => return Skimmed::Cut,
                Err(NoRow::NotPlain) => return Skimmed::NotPlain,
            }
        }
        self.mode = Mode::AfterRow;
        Skimmed::Rows(Token::Rows { rows, first }, taken)
    }

    /// Lexes the next token from the start of `input`.
    ///
    /// Returns the token and the number of bytes it covers. On [`Lexed::NeedInput`] that number
    /// is 0: call again with the same bytes plus more. `eof` says that no more bytes will come
    /// after `input`; a token that is cut by the end of input is then an error.
    ///
    /// # Errors
    /// The offset inside `input` where the problem is, with its kind; the caller (usually
    /// [`crate::DumpReader`]) turns it into a positioned [`crate::Error`]. After an error the
    /// lexer's state is unspecified.
    pub fn lex(&mut self, input: &[u8], eof: bool) -> Result<(Lexed, usize), LexError> {
        self.lex_raw(input, eof)
            .map_err(|(kind, offset)| LexError { kind, offset })
    }

    fn lex_raw(&mut self, input: &[u8], eof: bool) -> Result<(Lexed, usize), RawError> {
        if input.is_empty() {
            if !eof {
                return Ok((Lexed::NeedInput, 0));
            }
            let expected = match self.mode {
                Mode::Between => return Ok((Lexed::End, 0)),
                Mode::FirstRow => EXPECT_ROW,
                Mode::AfterRow => EXPECT_NEXT_ROW,
                Mode::RowStart => EXPECT_VALUE,
                Mode::AfterValue => EXPECT_NEXT_VALUE,
            };
            return Err((ErrorKind::UnexpectedEof { expected }, 0));
        }
        let step = match self.mode {
            Mode::Between => self.lex_between(input, eof)?,
            Mode::FirstRow => self.lex_row_open(input, eof, false)?,
            Mode::AfterRow => self.lex_row_open(input, eof, true)?,
            Mode::RowStart => self.lex_in_row(input, eof, true)?,
            Mode::AfterValue => self.lex_in_row(input, eof, false)?,
        };
        match step {
            Some((token, n)) => {
                if n > self.max_token {
                    return Err((
                        ErrorKind::TokenTooLarge {
                            limit: self.max_token,
                        },
                        0,
                    ));
                }
                self.token_done();
                Ok((Lexed::Token(token), n))
            }
            None => {
                debug_assert!(!eof, "scanners finish or fail at end of input");
                if input.len() > self.max_token {
                    return Err((
                        ErrorKind::TokenTooLarge {
                            limit: self.max_token,
                        },
                        0,
                    ));
                }
                Ok((Lexed::NeedInput, 0))
            }
        }
    }

    /// Forgets the progress inside the token just finished.
    fn token_done(&mut self) {
        self.text = TextScan::default();
        self.resume = 0;
        self.escapes = false;
        self.odd_escapes = false;
        self.raw_double_quotes = false;
        self.piece_quote = 0;
    }

    // ---- between statements ------------------------------------------------------------

    fn lex_between(&mut self, input: &[u8], eof: bool) -> Result<Option<(Token, usize)>, RawError> {
        let first = input[0];
        if is_space(first) {
            let n = input
                .iter()
                .position(|&b| !is_space(b))
                .unwrap_or(input.len());
            if n == input.len() && !eof {
                return Ok(None);
            }
            return Ok(Some((Token::Space, n)));
        }
        match first {
            b'#' => return Ok(line_comment(input, 1, eof).map(|n| (Token::Comment, n))),
            b'-' => match starts_line_comment(input, 0, eof) {
                None => return Ok(None),
                Some(true) => {
                    return Ok(line_comment(input, 2, eof).map(|n| (Token::Comment, n)));
                }
                Some(false) => {}
            },
            b'/' => match classify_slash(input, eof) {
                SlashKind::NeedInput => return Ok(None),
                SlashKind::Sandbox => {
                    return block_comment(input, self.text.at.max(2), eof, &mut self.text.at)
                        .map(|r| r.map(|n| (Token::SandboxComment, n)));
                }
                SlashKind::Comment => {
                    return block_comment(input, self.text.at.max(2), eof, &mut self.text.at)
                        .map(|r| r.map(|n| (Token::Comment, n)));
                }
                SlashKind::Code | SlashKind::NotComment => {}
            },
            _ => {}
        }
        // A statement or a client command. The first word decides which.
        let word_len = input.iter().take_while(|&&b| is_word_byte(b)).count();
        if word_len == input.len() && !eof {
            return Ok(None);
        }
        let word = &input[..word_len];
        if word.eq_ignore_ascii_case(b"DELIMITER")
            && input.get(word_len).is_none_or(|&b| b == b' ' || b == b'\t')
        {
            return self.lex_delimiter(input, word_len, eof);
        }
        // The general scan looks for the delimiter at the spaces and backticks of the head.
        let plain_delimiter = !matches!(self.delimiter[0], b' ' | b'`');
        if word == b"INSERT" && !self.in_token() && plain_delimiter {
            if let Some((token, end)) = dumped_insert_head(input) {
                self.mode = Mode::FirstRow;
                return Ok(Some((token, end)));
            }
        }
        let is_insert =
            word.eq_ignore_ascii_case(b"INSERT") || word.eq_ignore_ascii_case(b"REPLACE");
        if is_insert && !self.text.opaque {
            match self.scan_text(input, eof, true)? {
                None => return Ok(None),
                Some(TextEnd::Values(end)) => {
                    if let Some(token) = parse_insert_head(&input[..end]) {
                        self.mode = Mode::FirstRow;
                        return Ok(Some((token, end)));
                    }
                    // Not a head we understand: the statement passes through whole.
                    self.text.opaque = true;
                    self.text.at = end;
                }
                Some(TextEnd::Delimiter(end)) => {
                    return Ok(Some((
                        Token::Statement {
                            kind: StatementKind::OtherInsert,
                        },
                        end,
                    )));
                }
            }
        }
        match self.scan_text(input, eof, false)? {
            None => Ok(None),
            Some(TextEnd::Values(_)) => unreachable!("VALUES is only looked for in heads"),
            Some(TextEnd::Delimiter(end)) => {
                let statement = &input[..end];
                let token = if is_insert {
                    Token::Statement {
                        kind: StatementKind::OtherInsert,
                    }
                } else {
                    classify_statement(statement)
                };
                Ok(Some((token, end)))
            }
        }
    }

    fn lex_delimiter(
        &mut self,
        input: &[u8],
        word_len: usize,
        eof: bool,
    ) -> Result<Option<(Token, usize)>, RawError> {
        let Some(end) = line_comment(input, word_len, eof) else {
            return Ok(None);
        };
        let line = &input[word_len..end];
        let start = word_len
            + line
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
        let len = input[start..end]
            .iter()
            .take_while(|&&b| !is_space(b))
            .count();
        let new = &input[start..start + len];
        if new.is_empty() {
            return Err((ErrorKind::BadDelimiter { why: "it is empty" }, 0));
        }
        if new.len() > MAX_DELIMITER {
            return Err((
                ErrorKind::BadDelimiter {
                    why: "it is longer than 16 bytes",
                },
                start,
            ));
        }
        if new.contains(&b'\\') {
            return Err((
                ErrorKind::BadDelimiter {
                    why: "it contains a backslash",
                },
                start,
            ));
        }
        self.delimiter[..new.len()].copy_from_slice(new);
        self.delimiter_len = new.len();
        Ok(Some((
            Token::Delimiter {
                delimiter: Span::new(start, start + len),
            },
            end,
        )))
    }

    /// Scans SQL text from `self.text.at`: through quotes and comments to the delimiter, or, for
    /// an `INSERT` head (`head`), to the `VALUES` keyword.
    fn scan_text(
        &mut self,
        input: &[u8],
        eof: bool,
        head: bool,
    ) -> Result<Option<TextEnd>, RawError> {
        let delimiter = &self.delimiter[..self.delimiter_len];
        let ts = &mut self.text;
        let mut i = ts.at;
        let n = input.len();
        loop {
            match ts.state {
                TextState::Code => {
                    if i >= n {
                        if let (true, Some(ws)) = (head && !ts.opaque, ts.word_start) {
                            if !eof {
                                ts.at = ws;
                                ts.word_start = None;
                                return Ok(None);
                            }
                            if let Some(end) = head_word_ends(input, ws, n, ts) {
                                return Ok(Some(end));
                            }
                        }
                        break;
                    }
                    let b = input[i];
                    if head && !ts.opaque {
                        if is_word_byte(b) {
                            if ts.word_start.is_none() {
                                ts.word_start = Some(i);
                            }
                            i += 1;
                            continue;
                        }
                        if let Some(ws) = ts.word_start {
                            if let Some(end) = head_word_ends(input, ws, i, ts) {
                                return Ok(Some(end));
                            }
                        }
                    }
                    // The delimiter first: it may start with a byte that is special
                    // otherwise (`DELIMITER //`).
                    match delimiter_at(input, i, delimiter, eof) {
                        Some(true) => return Ok(Some(TextEnd::Delimiter(i + delimiter.len()))),
                        None => break,
                        Some(false) => {}
                    }
                    match b {
                        b'\'' | b'"' | b'`' => {
                            ts.state = TextState::Quoted(b);
                            ts.quote_start = i;
                            i += 1;
                        }
                        b'#' => {
                            ts.state = TextState::LineComment;
                            i += 1;
                        }
                        b'-' => match starts_line_comment(input, i, eof) {
                            None => break,
                            Some(true) => {
                                ts.state = TextState::LineComment;
                                i += 2;
                            }
                            Some(false) => i += 1,
                        },
                        b'/' => {
                            if i + 2 >= n && !eof {
                                break;
                            }
                            match input.get(i + 1) {
                                Some(b'*') => {
                                    let versioned = matches!(input.get(i + 2), Some(b'!'))
                                        || (matches!(input.get(i + 2), Some(b'M'))
                                            && matches!(input.get(i + 3), Some(b'!')));
                                    if !versioned
                                        && input.get(i + 2) == Some(&b'M')
                                        && i + 3 >= n
                                        && !eof
                                    {
                                        break;
                                    }
                                    if versioned {
                                        // `/*!…*/` holds code: scan its content as code.
                                        i += 3;
                                    } else {
                                        ts.state = TextState::BlockComment;
                                        ts.quote_start = i;
                                        i += 2;
                                    }
                                }
                                _ => i += 1,
                            }
                        }
                        _ => i += 1,
                    }
                }
                TextState::Quoted(q) => {
                    let found = if q == b'`' {
                        memchr(q, &input[i..])
                    } else {
                        memchr2(q, b'\\', &input[i..])
                    };
                    match found {
                        None => {
                            i = n;
                            break;
                        }
                        Some(k) => {
                            let j = i + k;
                            if input[j] == b'\\' {
                                if j + 1 >= n {
                                    i = j;
                                    break;
                                }
                                i = j + 2;
                            } else if j + 1 >= n && !eof {
                                // A doubled quote may follow.
                                i = j;
                                break;
                            } else if input.get(j + 1) == Some(&q) {
                                i = j + 2;
                            } else {
                                ts.state = TextState::Code;
                                i = j + 1;
                            }
                        }
                    }
                }
                TextState::LineComment => match memchr(b'\n', &input[i..]) {
                    None => {
                        i = n;
                        break;
                    }
                    Some(k) => {
                        ts.state = TextState::Code;
                        i += k + 1;
                    }
                },
                TextState::BlockComment => match memchr::memmem::find(&input[i..], b"*/") {
                    None => {
                        // Keep a trailing `*` for the next round.
                        i = if input[n - 1] == b'*' { n - 1 } else { n }.max(i);
                        break;
                    }
                    Some(k) => {
                        ts.state = TextState::Code;
                        i += k + 2;
                    }
                },
            }
        }
        if eof {
            return Err(match ts.state {
                TextState::Quoted(_) => (ErrorKind::UnterminatedString, ts.quote_start),
                TextState::BlockComment => (ErrorKind::UnterminatedComment, ts.quote_start),
                TextState::Code | TextState::LineComment => (
                    ErrorKind::UnterminatedStatement {
                        delimiter: String::from_utf8_lossy(delimiter).into_owned(),
                    },
                    0,
                ),
            });
        }
        ts.at = i;
        Ok(None)
    }

    // ---- inside an INSERT ----------------------------------------------------------------

    /// `(` of the first row (`after_row == false`), or `, (` / the delimiter after a row.
    fn lex_row_open(
        &mut self,
        input: &[u8],
        eof: bool,
        after_row: bool,
    ) -> Result<Option<(Token, usize)>, RawError> {
        let Some(mut i) = skip_space(input, 0) else {
            return more_or_eof(
                eof,
                if after_row {
                    EXPECT_NEXT_ROW
                } else {
                    EXPECT_ROW
                },
                input.len(),
            );
        };
        if after_row {
            let delimiter = &self.delimiter[..self.delimiter_len];
            match delimiter_at(input, i, delimiter, eof) {
                Some(true) => {
                    self.mode = Mode::Between;
                    return Ok(Some((Token::InsertEnd, i + delimiter.len())));
                }
                None => return Ok(None),
                Some(false) => {}
            }
            if is_word_byte(input[i]) {
                // `ON DUPLICATE KEY UPDATE …`: the rest of the statement as it is.
                if self.text.at < i {
                    self.text.at = i;
                }
                return match self.scan_text(input, eof, false)? {
                    None => Ok(None),
                    Some(TextEnd::Delimiter(end)) => {
                        self.mode = Mode::Between;
                        Ok(Some((Token::InsertTail, end)))
                    }
                    Some(TextEnd::Values(_)) => unreachable!("VALUES is only looked for in heads"),
                };
            }
            if input[i] != b',' {
                return Err(unexpected(input[i], EXPECT_NEXT_ROW, i));
            }
            let Some(j) = skip_space(input, i + 1) else {
                return more_or_eof(eof, EXPECT_ROW, input.len());
            };
            i = j;
        }
        if input[i] != b'(' {
            return Err(unexpected(input[i], EXPECT_ROW, i));
        }
        self.mode = Mode::RowStart;
        Ok(Some((Token::RowOpen, i + 1)))
    }

    /// A value or `)` after `(` (`row_start`), or `, value` / `)` after a value.
    fn lex_in_row(
        &mut self,
        input: &[u8],
        eof: bool,
        row_start: bool,
    ) -> Result<Option<(Token, usize)>, RawError> {
        let Some(mut i) = skip_space(input, 0) else {
            return more_or_eof(
                eof,
                if row_start {
                    EXPECT_VALUE
                } else {
                    EXPECT_NEXT_VALUE
                },
                input.len(),
            );
        };
        if input[i] == b')' {
            self.mode = Mode::AfterRow;
            return Ok(Some((Token::RowClose, i + 1)));
        }
        let column = if row_start {
            0
        } else {
            if input[i] != b',' {
                return Err(unexpected(input[i], EXPECT_NEXT_VALUE, i));
            }
            let Some(j) = skip_space(input, i + 1) else {
                return more_or_eof(eof, EXPECT_VALUE, input.len());
            };
            i = j;
            self.column + 1
        };
        let Some((kind, end, content)) = self.scan_literal(input, i, eof)? else {
            return Ok(None);
        };
        self.column = column;
        self.mode = Mode::AfterValue;
        Ok(Some((
            Token::Value(Value {
                kind,
                column,
                literal: Span::new(i, end),
                content,
            }),
            end,
        )))
    }

    /// Scans one literal starting at `input[start]`.
    fn scan_literal(
        &mut self,
        input: &[u8],
        start: usize,
        eof: bool,
    ) -> Result<Option<(ValueKind, usize, Span)>, RawError> {
        let n = input.len();
        let first = input[start];
        match first {
            b'\'' | b'"' => self.scan_string(input, start, start, eof),
            b'_' => {
                // A charset introducer: `_binary '…'`, `_utf8mb4 0x…`.
                let word = word_end(input, start + 1);
                if word == n && !eof {
                    return Ok(None);
                }
                let Some(lit) = skip_space(input, word) else {
                    return more_or_eof(eof, "a literal after a charset introducer", n);
                };
                match input[lit] {
                    b'\'' | b'"' => self.scan_string(input, start, lit, eof),
                    b'0' | b'x' | b'X' | b'b' | b'B' => match scan_simple(input, lit, eof)? {
                        None => Ok(None),
                        Some((kind @ (ValueKind::Hex | ValueKind::Bit), end, content)) => {
                            Ok(Some((kind, end, content)))
                        }
                        Some(_) => Err(unexpected(
                            input[lit],
                            "a string or hex literal after a charset introducer",
                            lit,
                        )),
                    },
                    b => Err(unexpected(
                        b,
                        "a string or hex literal after a charset introducer",
                        lit,
                    )),
                }
            }
            b'N' | b'n' if input.get(start + 1) == Some(&b'\'') => {
                self.scan_string(input, start, start + 1, eof)
            }
            _ => scan_simple(input, start, eof),
        }
    }

    /// Scans a quoted string whose opening quote is at `quote_at`; the literal starts at `start`.
    fn scan_string(
        &mut self,
        input: &[u8],
        start: usize,
        quote_at: usize,
        eof: bool,
    ) -> Result<Option<(ValueKind, usize, Span)>, RawError> {
        let mut quote = match self.piece_quote {
            0 => input[quote_at],
            q => q,
        };
        let n = input.len();
        let mut i = self.resume.max(quote_at + 1);
        loop {
            // Hot loop: the text to the next quote no backslash escapes, a block at a time
            // (see `strings`).
            let scanned = strings::scan(input, i, quote);
            self.escapes |= scanned.escapes;
            self.odd_escapes |= scanned.odd_escapes;
            self.raw_double_quotes |= scanned.raw_double_quotes;
            let Some(j) = scanned.end else {
                i = scanned.resume;
                break;
            };
            if j + 1 >= n && !eof {
                // A doubled quote may follow.
                i = j;
                break;
            }
            if input.get(j + 1) == Some(&quote) {
                self.escapes = true;
                self.odd_escapes = true;
                i = j + 2;
                continue;
            }
            // Another quoted piece after whitespace joins this one (`'a' 'b'` is `'ab'`).
            let next = skip_space_all(input, j + 1);
            if next >= n && !eof {
                i = j;
                break;
            }
            if let Some(&q @ (b'\'' | b'"')) = input.get(next) {
                quote = q;
                self.piece_quote = q;
                i = next + 1;
                continue;
            }
            if self.piece_quote != 0 {
                return Ok(Some((ValueKind::Concat, j + 1, Span::new(start, j + 1))));
            }
            let kind = ValueKind::Str {
                escapes: self.escapes,
                canonical: !self.odd_escapes,
                double_quotes_escaped: !self.raw_double_quotes,
                quote,
            };
            return Ok(Some((kind, j + 1, Span::new(quote_at + 1, j))));
        }
        if eof {
            return Err((ErrorKind::UnterminatedString, start));
        }
        self.resume = i;
        Ok(None)
    }
}

/// Why [`skim_row`] took no row.
enum NoRow {
    /// The row is cut by the end of the input; more input may let it be taken.
    Cut,
    /// The row is not plain (or there is none): the lexer reads it token by token.
    NotPlain,
}

/// One whole plain row at `input[at..]` for [`Lexer::skim_rows`], with the space and `,`
/// before it (none before the `first` row): where it ends. With a `limit`, only a row that
/// ends by then, whose strings hold no escapes but mysqldump's and nothing `look` stops at,
/// and no `0x…` value (see [`Lexer::skim_rows_before`]).
fn skim_row<F>(
    input: &[u8],
    at: usize,
    first: bool,
    delimiter: u8,
    limit: Option<usize>,
    look: &F,
) -> Result<usize, NoRow>
where
    F: Fn(&[u8]) -> Look,
{
    let canonical = limit.map(|_| look);
    let limit = limit.unwrap_or(usize::MAX);
    use NoRow::{Cut, NotPlain};
    let byte = |i: usize| input.get(i).copied().ok_or(Cut);
    let mut i = skip_space(input, at).ok_or(Cut)?;
    if !first {
        if input[i] != b',' || delimiter == b',' {
            return Err(NotPlain);
        }
        i = skip_space(input, i + 1).ok_or(Cut)?;
    }
    if input[i] != b'(' {
        return Err(NotPlain);
    }
    i += 1;
    loop {
        i = skim_value(input, i, canonical, limit)?;
        match byte(i)? {
            _ if i >= limit => return Err(NotPlain),
            b',' => i += 1,
            b')' => return Ok(i + 1),
            _ => return Err(NotPlain),
        }
    }
}

/// One plain value at `input[i]` for [`skim_row`] and [`Lexer::skim_rows_before`]: where it
/// ends. With `canonical` (the `look` of [`Lexer::skim_rows_before`]), see [`skim_row`].
#[inline]
fn skim_value<F>(
    input: &[u8],
    i: usize,
    canonical: Option<&F>,
    limit: usize,
) -> Result<usize, NoRow>
where
    F: Fn(&[u8]) -> Look,
{
    use NoRow::{Cut, NotPlain};
    let byte = |i: usize| input.get(i).copied().ok_or(Cut);
    Ok(match byte(i)? {
        b'\'' => match canonical {
            Some(look) => skim_canonical_string(input, i + 1, limit, look)?,
            None => skim_string(input, i + 1).ok_or(Cut)?,
        },
        b'0' if matches!(byte(i + 1)?, b'x' | b'X') => {
            if canonical.is_some() {
                return Err(NotPlain);
            }
            let digits = i + 2;
            let end = digits
                + input[digits..]
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count();
            if end == digits {
                return Err(if end == input.len() { Cut } else { NotPlain });
            }
            end
        }
        b'N' => {
            let word = input.get(i..i + 4).ok_or(Cut)?;
            if word != b"NULL" {
                return Err(NotPlain);
            }
            i + 4
        }
        b'0'..=b'9' | b'-' | b'+' | b'.' => {
            let number = input[i..]
                .iter()
                .take_while(|&&b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                })
                .count();
            // The lexer wants a digit in it; `e` alone or `-.` is not a number.
            if !input[i..i + number].iter().any(u8::is_ascii_digit) {
                return Err(if i + number == input.len() {
                    Cut
                } else {
                    NotPlain
                });
            }
            i + number
        }
        _ => return Err(NotPlain),
    })
}

/// The end of a `'`-quoted string whose content starts at `input[at]`: one past its closing
/// quote, or `None` if `input` ends first.
///
/// It stops only at quotes, not at every backslash as [`Lexer::lex`] does (which must see
/// each escape): text in dumps is full of `\"` and `\n`, and a quote is escaped exactly
/// when an odd run of backslashes precedes it. The run cannot reach back past the string's
/// opening quote.
fn skim_string(input: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let j = at + memchr(b'\'', input.get(at..)?)?;
        let backslashes = input[..j].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 1 {
            at = j + 1;
            continue;
        }
        // `''` is a quote inside the string; the byte after the closing one must be known.
        match *input.get(j + 1)? {
            b'\'' => at = j + 2,
            _ => return Some(j + 1),
        }
    }
}

/// [`skim_string`] for a string whose escapes must all be ones mysqldump writes, with
/// nothing `look` stops at (see [`Lexer::skim_rows_before`]): `NotPlain` at the first other
/// escape (or a doubled quote) or text it stops at, or once it runs past `limit`; `Cut` if
/// `input` ends first.
fn skim_canonical_string<F>(input: &[u8], at: usize, limit: usize, look: &F) -> Result<usize, NoRow>
where
    F: Fn(&[u8]) -> Look,
{
    match look(&input[at.min(input.len())..]) {
        Look::Stop => Err(NoRow::NotPlain),
        Look::Pass => {
            // Up to `limit` only: a string that ends after it is not skimmed anyway.
            let text = &input[..input.len().min(limit)];
            let scanned = strings::scan(text, at, b'\'');
            match scanned.end {
                _ if scanned.odd_escapes => Err(NoRow::NotPlain),
                None if input.len() > limit => Err(NoRow::NotPlain),
                None => Err(NoRow::Cut),
                Some(j) => match input.get(j + 1) {
                    None => Err(NoRow::Cut),
                    Some(b'\'') => Err(NoRow::NotPlain),
                    Some(_) => Ok(j + 1),
                },
            }
        }
        Look::Inside => {
            // `"` too: mysqldump writes it escaped, other tools may not.
            let stops = Stops::new(input, [b'\'', b'\\', b'"'], at);
            canonical_string_end(input, stops, limit, &|text| look(text) == Look::Stop)
        }
    }
}

/// [`skim_canonical_string`] from its first stop on; `stop_after_quote` is asked about the
/// text after each `"` that `stops` gives (as `\"` or, if among its bytes, as it is).
fn canonical_string_end<const N: usize, G>(
    input: &[u8],
    mut stops: Stops<'_, N>,
    limit: usize,
    stop_after_quote: &G,
) -> Result<usize, NoRow>
where
    G: Fn(&[u8]) -> bool,
{
    while let Some(j) = stops.next_stop() {
        if j >= limit {
            // Its row ends after `limit`: no use reading on.
            return Err(NoRow::NotPlain);
        }
        let next = *input.get(j + 1).ok_or(NoRow::Cut)?;
        let stop = input[j];
        if stop == b'\\' {
            if !is_mysqldump_escape(next) || next == b'"' && stop_after_quote(&input[j + 2..]) {
                return Err(NoRow::NotPlain);
            }
            stops.skip_to(j + 2);
        } else if stop == b'"' {
            if stop_after_quote(&input[j + 1..]) {
                return Err(NoRow::NotPlain);
            }
        } else if next == b'\'' {
            return Err(NoRow::NotPlain);
        } else {
            return Ok(j + 1);
        }
    }
    Err(NoRow::Cut)
}

/// Numbers, `NULL`, keywords, `0x…`, `X'…'`, `0b…`, `b'…'`: short literals, rescanned whole
/// when cut by the end of a chunk.
fn scan_simple(
    input: &[u8],
    start: usize,
    eof: bool,
) -> Result<Option<(ValueKind, usize, Span)>, RawError> {
    let n = input.len();
    let first = input[start];
    let quoted_digits = |kind: ValueKind, is_digit: fn(u8) -> bool| {
        // X'…' or b'…'
        let digits = start + 2;
        let end = digits + input[digits..].iter().take_while(|&&b| is_digit(b)).count();
        if end >= n {
            return if eof {
                Err((ErrorKind::UnterminatedString, start))
            } else {
                Ok(None)
            };
        }
        if input[end] != b'\'' {
            return Err(unexpected(input[end], "a digit or the closing quote", end));
        }
        Ok(Some((kind, end + 1, Span::new(digits, end))))
    };
    if matches!(first, b'x' | b'X') && input.get(start + 1) == Some(&b'\'') {
        return quoted_digits(ValueKind::Hex, |b| b.is_ascii_hexdigit());
    }
    if matches!(first, b'b' | b'B') && input.get(start + 1) == Some(&b'\'') {
        return quoted_digits(ValueKind::Bit, |b| b == b'0' || b == b'1');
    }
    if start + 1 >= n && !eof && matches!(first, b'x' | b'X' | b'b' | b'B' | b'0') {
        return Ok(None);
    }
    if first == b'0' && matches!(input.get(start + 1), Some(b'x' | b'X' | b'b' | b'B')) {
        let hex = matches!(input[start + 1], b'x' | b'X');
        let digits = start + 2;
        let end = digits
            + input[digits..]
                .iter()
                .take_while(|&&b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        b == b'0' || b == b'1'
                    }
                })
                .count();
        if end == n && !eof {
            return Ok(None);
        }
        if end > digits && !input.get(end).is_some_and(|&b| is_word_byte(b)) {
            let kind = if hex { ValueKind::Hex } else { ValueKind::Bit };
            return Ok(Some((kind, end, Span::new(digits, end))));
        }
        // `0b1a`, `0x`: not a hex/bit literal; fall through to the number check, which fails.
    }
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        let end = start
            + input[start..]
                .iter()
                .take_while(|&&b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                })
                .count();
        if end == n && !eof {
            return Ok(None);
        }
        let number = &input[start..end];
        if !number.iter().any(u8::is_ascii_digit)
            || input.get(end).is_some_and(|&b| is_word_byte(b))
        {
            let at = end.min(n - 1);
            return Err(unexpected(input[at], "a number", at));
        }
        return Ok(Some((ValueKind::Number, end, Span::new(start, end))));
    }
    if is_word_byte(first) {
        let end = word_end(input, start);
        if end == n && !eof {
            return Ok(None);
        }
        let word = &input[start..end];
        if input.get(end) == Some(&b'(') {
            return Err(unexpected(
                b'(',
                "a literal value (function calls in VALUES are not supported)",
                end,
            ));
        }
        let kind = if word.eq_ignore_ascii_case(b"NULL") {
            ValueKind::Null
        } else {
            ValueKind::Keyword
        };
        return Ok(Some((kind, end, Span::new(start, end))));
    }
    Err(unexpected(first, "a value", start))
}

/// The raw name of the table a (possibly cut) `CREATE TABLE` or `INSERT` statement is about,
/// for error messages.
pub(crate) fn table_of_partial_statement(input: &[u8]) -> Option<&[u8]> {
    let at = skip_space_all(input, 0);
    let statement = &input[at..];
    let mut words = CodeWords::new(statement);
    let (first, _) = words.next()?;
    let (second, second_end) = words.next()?;
    let name_at = if first.eq_ignore_ascii_case(b"CREATE") && second.eq_ignore_ascii_case(b"TABLE")
    {
        skip_space_all(statement, second_end)
    } else if first.eq_ignore_ascii_case(b"INSERT") || first.eq_ignore_ascii_case(b"REPLACE") {
        let mut end = second_end;
        let mut word = second;
        while [
            &b"INTO"[..],
            b"IGNORE",
            b"LOW_PRIORITY",
            b"DELAYED",
            b"HIGH_PRIORITY",
        ]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
        {
            let start = skip_space_all(statement, end);
            end = word_end(statement, start);
            word = &statement[start..end];
            if word.is_empty() {
                return identifier(statement, start).map(|(span, _)| span.of(statement));
            }
        }
        end - word.len()
    } else {
        return None;
    };
    identifier(statement, name_at).map(|(span, _)| span.of(statement))
}

/// The table a `CREATE TABLE` statement creates, as the lexer's [`Token::CreateTable`] names
/// it: `statement` need only start with the statement (the words after its name are not
/// read), so a reader can look ahead at the tables a stretch of a dump creates.
pub fn created_table(statement: &[u8]) -> Option<&[u8]> {
    match classify_statement(statement) {
        Token::CreateTable { name } => Some(name.of(statement)),
        _ => None,
    }
}

/// The table a whole statement is about, for the statements mysqldump writes around a table's
/// data: `DROP TABLE [IF EXISTS] t`, `LOCK TABLES t …`, `ALTER TABLE t …` (also inside
/// `/*!40000 … */`), `CREATE TABLE t`. Returns the name as written (see
/// [`crate::unquote_identifier`] for quoted names).
pub fn statement_table(statement: &[u8]) -> Option<&[u8]> {
    let mut words = CodeWords::new(statement);
    let (first, _) = words.next()?;
    let (second, mut end) = words.next()?;
    let is = |w: &[u8], k: &[u8]| w.eq_ignore_ascii_case(k);
    let table_word = (is(first, b"DROP") || is(first, b"ALTER") || is(first, b"CREATE"))
        && is(second, b"TABLE")
        || is(first, b"LOCK") && (is(second, b"TABLES") || is(second, b"TABLE"));
    if is(first, b"CREATE") && !table_word {
        if let Some(table) = trigger_table(statement) {
            return Some(table);
        }
    }
    if !table_word {
        return table_of_partial_statement(statement);
    }
    let mut at = skip_space_all(statement, end);
    if is(first, b"DROP") || is(first, b"CREATE") {
        // IF [NOT] EXISTS
        let w = word_end(statement, at);
        if is(&statement[at..w], b"IF") {
            for _ in 0..2 {
                at = skip_space_all(statement, word_end(statement, at));
                let w = word_end(statement, at);
                if is(&statement[at..w], b"EXISTS") {
                    end = w;
                    break;
                }
            }
            at = skip_space_all(statement, end);
        }
    }
    let (mut name, after) = identifier(statement, at)?;
    if statement.get(after) == Some(&b'.') {
        if let Some((table, _)) = identifier(statement, after + 1) {
            name = table;
        }
    }
    Some(name.of(statement))
}

/// The table of `CREATE [DEFINER=…] TRIGGER name {BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON t`,
/// as mysqldump writes it in pieces of versioned comments.
fn trigger_table(statement: &[u8]) -> Option<&[u8]> {
    let find = |hay: &[u8], word: &[u8]| {
        hay.windows(word.len())
            .position(|w| w.eq_ignore_ascii_case(word))
    };
    // Only the head: the body may contain anything.
    let head = &statement[..statement.len().min(1024)];
    let trigger = find(head, b" TRIGGER ")?;
    let on = trigger + find(&head[trigger..], b" ON ")? + 4;
    let at = skip_space_all(statement, on);
    let (mut name, after) = identifier(statement, at)?;
    if statement.get(after) == Some(&b'.') {
        if let Some((table, _)) = identifier(statement, after + 1) {
            name = table;
        }
    }
    Some(name.of(statement))
}

/// Checks a finished bare word in an `INSERT` head; ends the head at `VALUES`.
fn head_word_ends(input: &[u8], ws: usize, end: usize, ts: &mut TextScan) -> Option<TextEnd> {
    ts.word_start = None;
    let word = &input[ws..end];
    if word.eq_ignore_ascii_case(b"VALUES") || word.eq_ignore_ascii_case(b"VALUE") {
        return Some(TextEnd::Values(end));
    }
    if word.eq_ignore_ascii_case(b"SELECT")
        || word.eq_ignore_ascii_case(b"SET")
        || word.eq_ignore_ascii_case(b"WITH")
        || word.eq_ignore_ascii_case(b"TABLE")
    {
        // `INSERT … SELECT` / `… SET`: no VALUES list; read it as an opaque statement.
        ts.opaque = true;
    }
    None
}

/// The head mysqldump and mariadb-dump write, ``INSERT INTO `t` VALUES``, at the start of
/// `input` and followed by a byte that ends the word `VALUES`: the token and its length,
/// as the general scan ([`Lexer::scan_text`] and [`parse_insert_head`]) finds them; `None`
/// for any other spelling, which that scan reads.
///
/// A dump with one row per `INSERT` has such a head every few hundred bytes, and the
/// general scan looks at each of its bytes for quotes, comments and the delimiter: a
/// quarter of lexing such a dump.
fn dumped_insert_head(input: &[u8]) -> Option<(Token, usize)> {
    const OPEN: &[u8] = b"INSERT INTO `";
    const VALUES: &[u8] = b"` VALUES";
    let rest = input.strip_prefix(OPEN)?;
    let close = memchr(b'`', rest)?;
    let after = &rest[close..];
    let end = OPEN.len() + close + VALUES.len();
    // A doubled backtick (one inside the name) or a longer word: the general scan.
    if !after.starts_with(VALUES) || input.get(end).is_none_or(|&b| is_word_byte(b)) {
        return None;
    }
    let token = Token::InsertHead {
        verb: InsertVerb::Insert,
        table: Span::new(OPEN.len(), OPEN.len() + close),
        columns: None,
    };
    Some((token, end))
}

/// Parses `INSERT [LOW_PRIORITY|DELAYED|HIGH_PRIORITY] [IGNORE] [INTO] tbl [(cols)] VALUES`.
/// Returns `None` for anything else, which then passes through as an opaque statement.
fn parse_insert_head(head: &[u8]) -> Option<Token> {
    let mut i = 0;
    let verb_end = word_end(head, 0);
    let mut verb = if head[..verb_end].eq_ignore_ascii_case(b"REPLACE") {
        InsertVerb::Replace
    } else {
        InsertVerb::Insert
    };
    i = skip_space_all(head, i + verb_end);
    loop {
        let end = word_end(head, i);
        let word = &head[i..end];
        if word.eq_ignore_ascii_case(b"IGNORE") {
            if verb == InsertVerb::Insert {
                verb = InsertVerb::InsertIgnore;
            }
        } else if !(word.eq_ignore_ascii_case(b"INTO")
            || word.eq_ignore_ascii_case(b"LOW_PRIORITY")
            || word.eq_ignore_ascii_case(b"DELAYED")
            || word.eq_ignore_ascii_case(b"HIGH_PRIORITY"))
        {
            break;
        }
        i = skip_space_all(head, end);
    }
    let (mut table, mut end) = identifier(head, i)?;
    if head.get(end) == Some(&b'.') {
        (table, end) = identifier(head, end + 1)?;
    }
    i = skip_space_all(head, end);
    let mut columns = None;
    if head.get(i) == Some(&b'(') {
        let open = i + 1;
        let mut j = open;
        loop {
            match head.get(j)? {
                b')' => break,
                b'`' => j = j + 1 + memchr(b'`', &head[j + 1..])? + 1,
                _ => j += 1,
            }
        }
        columns = Some(Span::new(open, j));
        i = skip_space_all(head, j + 1);
    }
    let rest = &head[i..];
    if !(rest.eq_ignore_ascii_case(b"VALUES") || rest.eq_ignore_ascii_case(b"VALUE")) {
        return None;
    }
    Some(Token::InsertHead {
        verb,
        table,
        columns,
    })
}

/// An identifier at `at`: `` `quoted` `` (content span) or a bare word. Returns it and its end.
pub(crate) fn identifier(input: &[u8], at: usize) -> Option<(Span, usize)> {
    match input.get(at)? {
        b'`' => {
            let mut j = at + 1;
            loop {
                let k = j + memchr(b'`', &input[j..])?;
                if input.get(k + 1) == Some(&b'`') {
                    j = k + 2;
                } else {
                    return Some((Span::new(at + 1, k), k + 1));
                }
            }
        }
        b'"' => {
            let k = at + 1 + memchr(b'"', &input[at + 1..])?;
            Some((Span::new(at + 1, k), k + 1))
        }
        &b if is_word_byte(b) || b >= 0x80 => {
            let end = at
                + input[at..]
                    .iter()
                    .take_while(|&&b| is_word_byte(b) || b >= 0x80)
                    .count();
            Some((Span::new(at, end), end))
        }
        _ => None,
    }
}

/// Recognizes statements Understudy may want to drop or look into.
fn classify_statement(statement: &[u8]) -> Token {
    let mut words = CodeWords::new(statement);
    let first = words.next();
    let kind = match first {
        Some((w, _)) if w.eq_ignore_ascii_case(b"USE") => StatementKind::Use,
        Some((w, _)) if w.eq_ignore_ascii_case(b"CREATE") => {
            let mut second = words.next();
            if second.is_some_and(|(w, _)| {
                w.eq_ignore_ascii_case(b"TEMPORARY") || w.eq_ignore_ascii_case(b"OR")
            }) {
                // `CREATE OR REPLACE TABLE`, `CREATE TEMPORARY TABLE`
                if second.is_some_and(|(w, _)| w.eq_ignore_ascii_case(b"OR")) {
                    words.next();
                }
                second = words.next();
            }
            match second {
                Some((w, _))
                    if w.eq_ignore_ascii_case(b"DATABASE") || w.eq_ignore_ascii_case(b"SCHEMA") =>
                {
                    StatementKind::CreateDatabase
                }
                Some((w, end)) if w.eq_ignore_ascii_case(b"TABLE") => {
                    let mut at = skip_space_all(statement, end);
                    // IF NOT EXISTS
                    let w1 = word_end(statement, at);
                    if statement[at..w1].eq_ignore_ascii_case(b"IF") {
                        at = skip_space_all(statement, w1);
                        at = skip_space_all(statement, word_end(statement, at));
                        at = skip_space_all(statement, word_end(statement, at));
                    }
                    if let Some((mut name, end)) = identifier(statement, at) {
                        // `db`.`table`: the table is the last part.
                        if statement.get(end) == Some(&b'.') {
                            if let Some((table, _)) = identifier(statement, end + 1) {
                                name = table;
                            }
                        }
                        return Token::CreateTable { name };
                    }
                    StatementKind::Other
                }
                _ => StatementKind::Other,
            }
        }
        Some((w, _)) if w.eq_ignore_ascii_case(b"DROP") => match words.next() {
            Some((w, _))
                if w.eq_ignore_ascii_case(b"DATABASE") || w.eq_ignore_ascii_case(b"SCHEMA") =>
            {
                StatementKind::DropDatabase
            }
            _ => StatementKind::Other,
        },
        _ => StatementKind::Other,
    };
    Token::Statement { kind }
}

/// The bare words of a statement's code, skipping whitespace, comments and the `/*!NNNNN` and
/// `*/` markers of versioned comments. Stops at the first quote or punctuation.
pub(crate) struct CodeWords<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> CodeWords<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        CodeWords { input, at: 0 }
    }

    pub(crate) fn next(&mut self) -> Option<(&'a [u8], usize)> {
        let s = self.input;
        loop {
            self.at = skip_space_all(s, self.at);
            let rest = &s[self.at..];
            if rest.starts_with(b"/*!") || rest.starts_with(b"/*M!") {
                self.at += if rest[2] == b'M' { 4 } else { 3 };
                while s.get(self.at).is_some_and(u8::is_ascii_digit) {
                    self.at += 1;
                }
            } else if rest.starts_with(b"*/") {
                self.at += 2;
            } else if rest.starts_with(b"/*") {
                self.at += 2 + memchr::memmem::find(&rest[2..], b"*/")? + 2;
            } else {
                break;
            }
        }
        let start = self.at;
        let end = word_end(s, start);
        if end == start {
            return None;
        }
        self.at = end;
        Some((&s[start..end], end))
    }
}

enum SlashKind {
    NeedInput,
    NotComment,
    Comment,
    Code,
    Sandbox,
}

const SANDBOX: &[u8] = b"/*M!999999\\-";

fn classify_slash(input: &[u8], eof: bool) -> SlashKind {
    let n = input.len();
    if n < 2 {
        return if eof {
            SlashKind::NotComment
        } else {
            SlashKind::NeedInput
        };
    }
    if input[1] != b'*' {
        return SlashKind::NotComment;
    }
    let cmp = n.min(SANDBOX.len());
    if input[..cmp] == SANDBOX[..cmp] {
        if cmp == SANDBOX.len() {
            return SlashKind::Sandbox;
        }
        if !eof {
            return SlashKind::NeedInput;
        }
    }
    match input.get(2) {
        None => SlashKind::Comment,
        Some(b'!') => SlashKind::Code,
        Some(b'M') => match input.get(3) {
            Some(b'!') => SlashKind::Code,
            None if !eof => SlashKind::NeedInput,
            _ => SlashKind::Comment,
        },
        Some(_) => SlashKind::Comment,
    }
}

/// A `/* … */` comment from `from` (inside it); `progress` keeps how far it was searched.
fn block_comment(
    input: &[u8],
    from: usize,
    eof: bool,
    progress: &mut usize,
) -> Result<Option<usize>, RawError> {
    match memchr::memmem::find(&input[from..], b"*/") {
        Some(k) => Ok(Some(from + k + 2)),
        None if eof => Err((ErrorKind::UnterminatedComment, 0)),
        None => {
            *progress = (input.len() - 1).max(2);
            Ok(None)
        }
    }
}

/// Whether `input[at..]` starts a `-- ` comment (`--` then whitespace, a control byte or the
/// end). `None`: not enough input to tell.
fn starts_line_comment(input: &[u8], at: usize, eof: bool) -> Option<bool> {
    match (input.get(at + 1), input.get(at + 2)) {
        (Some(b'-'), Some(&c)) => Some(c <= b' '),
        (Some(b'-'), None) | (None, _) if !eof => None,
        (Some(b'-'), None) => Some(true),
        _ => Some(false),
    }
}

/// A line comment's end (after its `\n`), searching from `from`.
fn line_comment(input: &[u8], from: usize, eof: bool) -> Option<usize> {
    match memchr(b'\n', &input[from.min(input.len())..]) {
        Some(k) => Some(from + k + 1),
        None if eof => Some(input.len()),
        None => None,
    }
}

/// Whether the delimiter starts at `input[at]`; `None`: the input ends inside a possible match.
fn delimiter_at(input: &[u8], at: usize, delimiter: &[u8], eof: bool) -> Option<bool> {
    if input[at] != delimiter[0] {
        return Some(false);
    }
    let have = (input.len() - at).min(delimiter.len());
    if input[at..at + have] != delimiter[..have] {
        return Some(false);
    }
    if have == delimiter.len() {
        Some(true)
    } else if eof {
        Some(false)
    } else {
        None
    }
}

/// Skips whitespace from `at`; `None` if the input ends first.
#[inline]
fn skip_space(input: &[u8], at: usize) -> Option<usize> {
    let end = skip_space_all(input, at);
    (end < input.len()).then_some(end)
}

/// The input ended where `expected` should be: more input, or an error at the end of input.
fn more_or_eof<T>(eof: bool, expected: &'static str, at: usize) -> Result<Option<T>, RawError> {
    if eof {
        Err((ErrorKind::UnexpectedEof { expected }, at))
    } else {
        Ok(None)
    }
}

pub(crate) fn skip_space_all(input: &[u8], at: usize) -> usize {
    at + input[at.min(input.len())..]
        .iter()
        .take_while(|&&b| is_space(b))
        .count()
}

pub(crate) fn word_end(input: &[u8], at: usize) -> usize {
    at + input[at.min(input.len())..]
        .iter()
        .take_while(|&&b| is_word_byte(b))
        .count()
}

fn unexpected(found: u8, expected: &'static str, at: usize) -> RawError {
    (
        ErrorKind::Unexpected {
            found: ShownByte(found),
            expected,
        },
        at,
    )
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

#[inline]
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}
