//! The rewrite engine: reads a dump with [`understudy_sqldump`], applies replacements to each
//! string value (through [`understudy_phpser`], so serialized PHP keeps correct byte lengths),
//! and writes every byte it does not change exactly as it was.
//!
//! Values are decoded only when a needle may be in them: the raw (still SQL-escaped) bytes are
//! searched for the SQL-escaped needles first, which for mysqldump's escaping finds every
//! occurrence in the decoded value, so the common value costs one Aho-Corasick pass.
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
mod structured;
mod table;
mod value;

pub use crate::coverage::{coverage, Coverage};
pub use crate::error::{Detail, Error, ErrorKind};
pub use crate::piped::{OnFailure, INCOMPLETE_MARKER};
pub use crate::pipeline::{Engine, EngineBuilder};
pub use crate::report::{ColumnReport, Report, TableReport, ValueAt, Warning, WarningKind};
pub use understudy_phpser::Boundary;
pub use understudy_phpser::Mode as SerializedMode;
