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
    #[error("writing output failed")]
    Output(#[source] io::Error),
    /// A value or row could not be processed as the rules demand; nothing unmasked is written.
    #[error("{pos}, table `{table}`{}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default(), row.as_ref().map(|r| format!(", row {r}")).unwrap_or_default())]
    Rule {
        /// Where the value, row or statement starts.
        pos: Position,
        /// Its table.
        table: String,
        /// Its column, when one column is concerned.
        column: Option<String>,
        /// The row, by primary key when known, else by its 1-based number in the table.
        row: Option<String>,
        /// What went wrong.
        message: String,
    },
    /// The replacements cannot be compiled.
    #[error("cannot build the replacement search: {0}")]
    Replacements(String),
}
