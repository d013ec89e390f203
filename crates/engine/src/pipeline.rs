//! The sequential pipeline: tokens in, bytes out.

use std::io::{self, Read, Write};

use understudy_sqldump::{DumpReader, LexerBuilder, Token, DEFAULT_CHUNK};

use crate::error::Error;

/// Configures an [`Engine`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    max_token: usize,
    chunk: usize,
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
        }
    }

    /// The largest single statement or value accepted (see [`LexerBuilder::max_token`]).
    pub fn max_token(&mut self, bytes: usize) -> &mut EngineBuilder {
        self.max_token = bytes;
        self
    }

    /// Builds the engine.
    pub fn build(&self) -> Engine {
        Engine {
            max_token: self.max_token,
            chunk: self.chunk,
        }
    }
}

/// Rewrites dumps. Build it with [`EngineBuilder`].
#[derive(Clone, Debug)]
pub struct Engine {
    max_token: usize,
    chunk: usize,
}

/// What a rewrite did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Bytes read (after decompression).
    pub bytes_in: u64,
    /// Bytes written (before compression).
    pub bytes_out: u64,
    /// Statements seen.
    pub statements: u64,
    /// Rows seen in `INSERT` statements.
    pub rows: u64,
}

impl Engine {
    /// Reads a whole dump from `input` and writes the rewritten dump to `output`.
    ///
    /// # Errors
    /// Malformed input (with its position and table) or a failed write. The output is then
    /// incomplete: callers must not treat it as a dump.
    pub fn run<R: Read, W: Write>(&self, input: R, output: W) -> Result<Report, Error> {
        let lexer = LexerBuilder::new().max_token(self.max_token).build();
        let mut reader = DumpReader::with_lexer(input, lexer, self.chunk);
        let mut out = io::BufWriter::with_capacity(self.chunk, output);
        let mut report = Report::default();
        while let Some(item) = reader.next_token()? {
            match item.token {
                Token::Statement { .. } | Token::CreateTable { .. } | Token::InsertEnd => {
                    report.statements += 1;
                }
                Token::RowClose => report.rows += 1,
                _ => {}
            }
            report.bytes_in += item.bytes.len() as u64;
            out.write_all(item.bytes).map_err(Error::Output)?;
        }
        report.bytes_out = report.bytes_in;
        out.flush().map_err(Error::Output)?;
        Ok(report)
    }
}
