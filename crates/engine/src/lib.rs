//! The rewrite engine: reads a dump with [`understudy_sqldump`], applies the rules to each value,
//! and writes every byte it does not change exactly as it was.
#![deny(missing_docs)]

mod error;
mod pipeline;

pub use crate::error::Error;
pub use crate::pipeline::{Engine, EngineBuilder, Report};
