//! Engine errors.

use std::io;

use understudy_sqldump::Position;

/// Why a rewrite stopped. A rewrite that stopped has not produced complete output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a well-formed dump, or reading it failed.
    #[error(transparent)]
    Input(#[from] understudy_sqldump::Error),
    /// Writing the output failed.
    #[error("writing output failed: {0}")]
    Output(#[source] io::Error),
    /// A value could not be rewritten and the configuration says to stop (`--strict`).
    #[error("{pos}, table `{table}`, column {column}, row {row}: {message}")]
    Value {
        /// Where the value starts.
        pos: Position,
        /// Its table.
        table: String,
        /// Its column name (or `#index` when the dump gives no names).
        column: String,
        /// The row, by primary key when known, else by its 1-based number in the table.
        row: String,
        /// What went wrong.
        message: String,
    },
    /// The replacements cannot be compiled.
    #[error("cannot build the replacement search: {0}")]
    Replacements(String),
}
