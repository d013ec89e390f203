//! The one reader loop: every place that reads dump tokens (the single-threaded rewrite, a
//! worker's batch, the sequential pass, a statement or rows read again) runs [`drive`].
//!
//! The loop asks its [`Visit`]or what it wants next ([`Want`]): rows taken whole and copied
//! through, rows up to where a replacement may change something, whole rows for masks, or
//! single tokens. It tries that first and falls back to the next token, which reads more
//! input and reports errors where they are. The visitor answers each [`Step`] with a plain
//! [`Flow`]; it never calls back into the loop, and the loop owns no rewrite state (ripgrep's
//! searcher and `Sink`). Written out by hand in four places, this loop drifted: one copy had
//! lost two of its branches.

use std::ops::Range;

use understudy_sqldump::{DumpReader, Item, Lexer, Look, RowItem, SliceReader, Token, Value};

use crate::error::Error;
use crate::pipeline::{base64_look, ChangeAhead, RowFilter};

/// What a visitor wants the reader to try before the next token.
pub(crate) enum Want<'a> {
    /// Single tokens.
    Tokens,
    /// The rows that follow, whole, as one [`Token::Rows`]: they go through unchanged.
    Skim,
    /// Rows (or a row's remaining values) up to where the filter's replacements may change
    /// something.
    Filter(RowFilter<'a>),
    /// Whole rows, one at a time.
    Rows,
}

/// What the reader hands a visitor.
pub(crate) enum Step<'a> {
    /// Rows (or values) taken whole by [`Want::Skim`] or [`Want::Filter`]: a
    /// [`Token::Rows`] or [`Token::Values`].
    Rows(Item<'a>),
    /// A whole row ([`Want::Rows`]); its values are in the `values` given with it.
    Row(RowItem<'a>),
    /// One token, and the length of the delimiter in force before it.
    Token(Item<'a>, usize),
    /// A token that starts a statement, and a lexer as before it (to lex the statement
    /// again elsewhere: [`Lexer::restarted`]).
    Starts(Item<'a>, usize, Lexer),
}

/// What the loop does after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// Stop and return [`Stop::Break`]: the caller changes the source (a worker that lexes a
    /// statement again) and may drive on.
    Break,
}

/// Why [`drive`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The source has no further token: the end of the dump, or of the bytes at hand.
    End,
    /// The visitor said [`Flow::Break`].
    Break,
}

/// The values of a row taken whole, swapped between the reader and the visitor.
pub(crate) type RowValues = Vec<(Value, Range<usize>)>;

/// One statement-, row- and value-reading visitor.
pub(crate) trait Visit {
    /// What to try before the next token.
    fn want(&self) -> Want<'_>;

    /// Takes one step; `values` holds a [`Step::Row`]'s values.
    fn visit(&mut self, step: Step<'_>, values: &mut RowValues) -> Result<Flow, Error>;
}

/// Where [`drive`] reads tokens from: a [`DumpReader`] over a stream or a [`SliceCursor`]
/// over bytes in memory.
pub(crate) trait Source {
    fn lexer(&self) -> &Lexer;
    /// The unread bytes at hand and the stream offset of their first.
    fn rest(&mut self) -> (&[u8], u64);
    fn skim_rows(&mut self) -> Option<Item<'_>>;
    fn skim_rows_before<F: Fn(&[u8]) -> Look>(
        &mut self,
        limit: usize,
        look: &F,
    ) -> Option<Item<'_>>;
    fn next_row(&mut self, values: &mut RowValues) -> Option<RowItem<'_>>;
    fn next_token(&mut self) -> Result<Option<Item<'_>>, Error>;
}

impl<R: std::io::Read> Source for DumpReader<R> {
    fn lexer(&self) -> &Lexer {
        DumpReader::lexer(self)
    }

    fn rest(&mut self) -> (&[u8], u64) {
        self.buffered()
    }

    fn skim_rows(&mut self) -> Option<Item<'_>> {
        DumpReader::skim_rows(self)
    }

    fn skim_rows_before<F: Fn(&[u8]) -> Look>(
        &mut self,
        limit: usize,
        look: &F,
    ) -> Option<Item<'_>> {
        DumpReader::skim_rows_before(self, limit, look)
    }

    fn next_row(&mut self, values: &mut RowValues) -> Option<RowItem<'_>> {
        DumpReader::next_row(self, values)
    }

    fn next_token(&mut self) -> Result<Option<Item<'_>>, Error> {
        Ok(DumpReader::next_token(self)?)
    }
}

/// A [`SliceReader`] with the bytes it reads and how far it is: `bytes[at..]` is unread.
pub(crate) struct SliceCursor<'b> {
    pub(crate) reader: SliceReader,
    pub(crate) bytes: &'b [u8],
    pub(crate) at: usize,
    /// Whether the input ends with `bytes` (else a token cut by their end waits for more).
    pub(crate) eof: bool,
}

impl<'b> SliceCursor<'b> {
    pub(crate) fn new(reader: SliceReader, bytes: &'b [u8], eof: bool) -> SliceCursor<'b> {
        SliceCursor {
            reader,
            bytes,
            at: 0,
            eof,
        }
    }
}

impl Source for SliceCursor<'_> {
    fn lexer(&self) -> &Lexer {
        self.reader.lexer()
    }

    fn rest(&mut self) -> (&[u8], u64) {
        (&self.bytes[self.at..], self.reader.position().byte)
    }

    fn skim_rows(&mut self) -> Option<Item<'_>> {
        self.reader.skim_rows(self.bytes, &mut self.at)
    }

    fn skim_rows_before<F: Fn(&[u8]) -> Look>(
        &mut self,
        limit: usize,
        look: &F,
    ) -> Option<Item<'_>> {
        self.reader
            .skim_rows_before(self.bytes, &mut self.at, limit, look)
    }

    fn next_row(&mut self, values: &mut RowValues) -> Option<RowItem<'_>> {
        self.reader.next_row(self.bytes, &mut self.at, values)
    }

    fn next_token(&mut self) -> Result<Option<Item<'_>>, Error> {
        Ok(self.reader.next(self.bytes, &mut self.at, self.eof)?)
    }
}

/// Reads `src` into `visitor` until the source ends or the visitor breaks.
///
/// `ahead` remembers where the last row filter's search found something; `values` is the buffer of whole rows' values. Both belong to the caller, so
/// a caller that drives on after a break keeps them.
///
/// # Errors
/// Input that is not a well-formed dump, or the visitor's error.
pub(crate) fn drive<S: Source, V: Visit>(
    src: &mut S,
    visitor: &mut V,
    ahead: &mut ChangeAhead,
    values: &mut RowValues,
) -> Result<Stop, Error> {
    loop {
        let step = match visitor.want() {
            Want::Tokens => None,
            Want::Skim => src.skim_rows().map(Step::Rows),
            Want::Filter(filter) => {
                // The search is made only where a skim may take something (it is kept in
                // `ahead` until the reader is past what it found).
                if src.lexer().can_skim(true) {
                    let (rest, offset) = src.rest();
                    let limit = ahead.limit(&filter, rest, offset);
                    if filter.base64 {
                        src.skim_rows_before(limit, &base64_look)
                    } else {
                        src.skim_rows_before(limit, &|_: &[u8]| Look::Pass)
                    }
                    .map(Step::Rows)
                } else {
                    None
                }
            }
            Want::Rows => src.next_row(values).map(Step::Row),
        };
        let step = match step {
            Some(step) => step,
            None => {
                let delimiter_len = src.lexer().delimiter().len();
                // A copy of a few words per statement, not per token.
                let before = src
                    .lexer()
                    .is_between_statements()
                    .then(|| src.lexer().restarted());
                let Some(item) = src.next_token()? else {
                    return Ok(Stop::End);
                };
                match (before, item.token) {
                    (Some(before), Token::InsertHead { .. }) => {
                        Step::Starts(item, delimiter_len, before)
                    }
                    _ => Step::Token(item, delimiter_len),
                }
            }
        };
        if visitor.visit(step, values)? == Flow::Break {
            return Ok(Stop::Break);
        }
    }
}
