//! Engine errors.

use std::io;

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
}
