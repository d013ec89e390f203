//! A byte-exact, streaming lexer for mysqldump / mariadb-dump output.
//!
//! Understudy's promise is that every byte it does not change comes out exactly as it went in.
//! This crate makes that possible: it cuts a dump into [`Token`]s whose bytes, written back in
//! order, are the input, and inside `INSERT` statements it hands out each literal value with
//! its column position, so a later stage can decode, change and re-encode just that value.
//!
//! - [`Lexer`] is the core: a resumable state machine over caller-owned `&[u8]`, no I/O, no
//!   allocation, fed chunks of any size (`csv-core`'s shape).
//! - [`DumpReader`] is the driver: it reads from any `io::Read`, keeps the position and the
//!   current table, and turns lexer errors into [`Error`]s that name the byte offset, line and
//!   table.
//! - [`literal`] decodes and encodes MySQL literals exactly as mysqldump writes them, and
//!   [`schema`] reads column definitions out of `CREATE TABLE` statements.
//!
//! ```
//! use understudy_sqldump::{DumpReader, Token};
//!
//! let dump = b"INSERT INTO `t` VALUES (1,'it\\'s'),(2,NULL);\n";
//! let mut reader = DumpReader::new(&dump[..]);
//! let mut out = Vec::new();
//! let mut values = 0;
//! while let Some(item) = reader.next_token()? {
//!     if let Token::Value(_) = item.token {
//!         values += 1;
//!     }
//!     out.extend_from_slice(item.bytes);
//! }
//! assert_eq!(values, 4);
//! assert_eq!(out, dump);
//! # Ok::<(), understudy_sqldump::Error>(())
//! ```
#![deny(missing_docs)]

mod effect;
mod error;
mod lexer;
pub mod literal;
mod reader;
pub mod schema;
mod stops;
mod strings;

pub use crate::effect::{statement_effect, Effect};
pub use crate::error::{Error, ErrorKind, Position, ShownByte};
pub use crate::lexer::{
    created_table, statement_table, InsertVerb, LexError, Lexed, LexedRow, Lexer, LexerBuilder,
    Look, Skimmed, Span, StatementKind, Token, Value, ValueKind,
};
pub use crate::literal::{column_names, unquote_identifier};
pub use crate::reader::{DumpReader, Item, RowItem, SliceReader, DEFAULT_CHUNK};
