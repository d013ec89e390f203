//! The sequential pipeline: tokens in, bytes out.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Arc;

use understudy_phpser::{Mode, Options};
use understudy_sqldump::schema::{parse_create_table, TableSchema};
use understudy_sqldump::{
    column_names, DumpReader, Item, LexerBuilder, Position, Token, DEFAULT_CHUNK,
};

use crate::error::Error;
use crate::value::{Replacements, Rewrite, ValueScratch};

/// Configures an [`Engine`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    max_token: usize,
    chunk: usize,
    replace: Vec<(Vec<u8>, Vec<u8>)>,
    serialized: Mode,
    strict: bool,
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
        }
    }

    /// The largest single statement or value accepted (see [`LexerBuilder::max_token`]).
    pub fn max_token(&mut self, bytes: usize) -> &mut EngineBuilder {
        self.max_token = bytes;
        self
    }

    /// Replaces `from` with `to` in every string value of every table, after the pairs added
    /// before it (like successive `str_replace()` calls). Values that are serialized PHP are
    /// rewritten with their `s:N:` lengths fixed, nested ones too.
    pub fn replace(&mut self, from: &[u8], to: &[u8]) -> &mut EngineBuilder {
        self.replace.push((from.to_vec(), to.to_vec()));
        self
    }

    /// How values that look like serialized PHP are treated (default: parsed when they parse).
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

    /// Builds the engine.
    ///
    /// # Errors
    /// When the replacement needles cannot be compiled into a search automaton.
    pub fn build(&self) -> Result<Engine, Error> {
        let replacements = if self.replace.is_empty() {
            None
        } else {
            let options = Options::new(self.serialized).strict(self.strict);
            Some(Replacements::new(&self.replace, options).map_err(Error::Replacements)?)
        };
        Ok(Engine {
            max_token: self.max_token,
            chunk: self.chunk,
            replacements: replacements.map(Arc::new),
        })
    }
}

/// Rewrites dumps. Build it with [`EngineBuilder`].
#[derive(Clone, Debug)]
pub struct Engine {
    max_token: usize,
    chunk: usize,
    replacements: Option<Arc<Replacements>>,
}

/// What a rewrite did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Bytes read (after decompression).
    pub bytes_in: u64,
    /// Bytes written (before compression).
    pub bytes_out: u64,
    /// Statements seen.
    pub statements: u64,
    /// Rows seen in `INSERT` statements.
    pub rows: u64,
    /// Values changed by replacements.
    pub values_replaced: u64,
    /// Of those, values rewritten as serialized PHP.
    pub serialized_rewritten: u64,
    /// Values that looked serialized but did not parse, replaced as plain bytes.
    pub warnings: Vec<Warning>,
}

/// A value that looked like serialized PHP but did not parse; it was replaced in as plain
/// bytes, so lengths inside it may be wrong (they probably were before).
#[derive(Clone, Debug)]
pub struct Warning {
    /// Where the value starts in the dump.
    pub pos: Position,
    /// Its table.
    pub table: String,
    /// Its column.
    pub column: String,
    /// The row (primary key, or number in the table).
    pub row: String,
    /// Why it did not parse, with the offset inside the value.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, table `{}`, column {}, row {}: looks serialized but does not parse ({}); replaced as plain text",
            self.pos, self.table, self.column, self.row, self.message
        )
    }
}

/// Where the current `INSERT` is: its table, column names and row.
#[derive(Default)]
struct InsertState {
    table: String,
    columns: Option<Arc<Vec<String>>>,
    /// Whether column 0 alone is the primary key (then it names rows in messages).
    first_is_key: bool,
    /// 1-based row number in the table.
    row: u64,
    /// Column 0's literal in the current row.
    row_key: Vec<u8>,
}

impl InsertState {
    fn column_name(&self, index: u32) -> String {
        self.columns
            .as_ref()
            .and_then(|c| c.get(index as usize))
            .map(|c| format!("`{c}`"))
            .unwrap_or_else(|| format!("#{}", index + 1))
    }

    fn row_name(&self) -> String {
        if self.first_is_key && !self.row_key.is_empty() {
            format!(
                "{} (key {})",
                self.row,
                String::from_utf8_lossy(&self.row_key)
            )
        } else {
            self.row.to_string()
        }
    }
}

impl Engine {
    /// Reads a whole dump from `input` and writes the rewritten dump to `output`.
    ///
    /// # Errors
    /// Malformed input (with its position and table), a value that cannot be rewritten in
    /// strict mode, or a failed write. The output is then incomplete: callers must not treat
    /// it as a dump.
    pub fn run<R: Read, W: Write>(&self, input: R, output: W) -> Result<Report, Error> {
        let lexer = LexerBuilder::new().max_token(self.max_token).build();
        let mut reader = DumpReader::with_lexer(input, lexer, self.chunk);
        let mut out = io::BufWriter::with_capacity(self.chunk, output);
        let mut report = Report::default();
        let mut schemas: HashMap<String, Arc<TableSchema>> = HashMap::new();
        let mut insert = InsertState::default();
        let mut scratch = ValueScratch::default();
        loop {
            let delimiter_len = reader.lexer().delimiter().len();
            let Some(item) = reader.next_token()? else {
                break;
            };
            let Item { token, bytes, pos } = item;
            report.bytes_in += bytes.len() as u64;
            let mut emitted: &[u8] = bytes;
            match token {
                Token::Statement { .. } | Token::InsertEnd => report.statements += 1,
                Token::CreateTable { .. } => {
                    report.statements += 1;
                    let delimiter = &bytes[bytes.len().saturating_sub(delimiter_len)..];
                    if let Ok(schema) = parse_create_table(bytes, delimiter) {
                        schemas.insert(schema.name.clone(), Arc::new(schema));
                    }
                }
                Token::InsertHead { table, columns, .. } => {
                    let name = String::from_utf8_lossy(&understudy_sqldump::unquote_identifier(
                        table.of(bytes),
                    ))
                    .into_owned();
                    if name != insert.table {
                        insert.row = 0;
                    }
                    let schema = schemas.get(&name);
                    insert.columns = match columns {
                        Some(list) => Some(Arc::new(column_names(list.of(bytes)))),
                        None => schema
                            .map(|s| Arc::new(s.columns.iter().map(|c| c.name.clone()).collect())),
                    };
                    insert.first_is_key = schema.is_some_and(|s| {
                        let first = insert.columns.as_ref().and_then(|c| c.first());
                        first
                            .is_some_and(|f| s.column_index(f).is_some_and(|i| s.columns[i].unique))
                    });
                    insert.table = name;
                }
                Token::RowOpen => {
                    insert.row += 1;
                    insert.row_key.clear();
                }
                Token::RowClose => report.rows += 1,
                Token::Value(value) => {
                    if value.column == 0 && insert.first_is_key {
                        insert.row_key.extend_from_slice(value.literal.of(bytes));
                    }
                    if let Some(replacements) = &self.replacements {
                        match replacements.rewrite(bytes, &value, &mut scratch) {
                            Ok(Rewrite::Unchanged) => {}
                            Ok(Rewrite::Changed {
                                serialized,
                                warning,
                            }) => {
                                report.values_replaced += 1;
                                report.serialized_rewritten += u64::from(serialized);
                                if let Some(w) = warning {
                                    report.warnings.push(Warning {
                                        pos,
                                        table: insert.table.clone(),
                                        column: insert.column_name(value.column),
                                        row: insert.row_name(),
                                        message: w.to_string(),
                                    });
                                }
                                emitted = &scratch.token;
                            }
                            Err(e) => {
                                return Err(Error::Value {
                                    pos,
                                    table: insert.table.clone(),
                                    column: insert.column_name(value.column),
                                    row: insert.row_name(),
                                    message: format!(
                                        "looks serialized but does not parse ({e}); stopping (strict)"
                                    ),
                                });
                            }
                        }
                    }
                }
                Token::Space | Token::Comment | Token::SandboxComment | Token::Delimiter { .. } => {
                }
            }
            report.bytes_out += emitted.len() as u64;
            out.write_all(emitted).map_err(Error::Output)?;
        }
        out.flush().map_err(Error::Output)?;
        Ok(report)
    }
}
