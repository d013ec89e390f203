//! The rewrite engine: reads a dump with [`understudy_sqldump`], applies replacements to each
//! string value (through [`understudy_phpser`], so serialized PHP keeps correct byte lengths),
//! and writes every byte it does not change exactly as it was.
//!
//! Values are decoded only when a needle may be in them: the raw (still SQL-escaped) bytes are
//! searched for the SQL-escaped needles first, which for mysqldump's escaping finds every
//! occurrence in the decoded value, so the common value costs one Aho-Corasick pass.
//!
//! # Shape
//! One reader loop (`drive.rs`) reads every token, in the single-threaded run, in the
//! workers of the parallel one and in its in-order pass: it asks a visitor what it wants
//! (rows copied through whole, rows up to where a replacement may change something, whole
//! rows for masks, or single tokens) and hands it each step. The parallel run
//! (`parallel.rs`) speculates in workers and verifies in order; its module docs say why the
//! output is the same byte for byte, why runs of small statements reach the in-order pass
//! as one step, and why no worker waits for another.
//!
//! What the run must keep per table to the end, each table's schema (`schemas.rs`) and its
//! report entry (`tables.rs`), stays in memory for the last few thousand tables and goes
//! to sorted runs in temporary files beyond (`spill.rs`): a multisite dump has hundreds of
//! thousands of tables, and memory must not grow with the dump.
#![deny(missing_docs)]

mod coverage;
mod drive;
mod error;
mod html;
mod parallel;
mod piped;
mod pipeline;
mod report;
mod row;
mod schemas;
mod spill;
mod structured;
mod table;
mod tables;
mod value;
mod warnings;

pub use crate::coverage::{coverage, Coverage};
pub use crate::error::{Detail, Error, ErrorKind};
pub use crate::piped::{OnFailure, INCOMPLETE_MARKER};
pub use crate::pipeline::{Engine, EngineBuilder};
pub use crate::report::{ColumnReport, Counts, Report, TableReport, ValueAt, Warning, WarningKind};
pub use crate::tables::{Iter as TablesIter, Tables};
pub use crate::warnings::Warnings;
pub use understudy_phpser::Boundary;
pub use understudy_phpser::Mode as SerializedMode;
