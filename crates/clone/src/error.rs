//! Clone errors: which stage failed, and what it said.

use std::path::PathBuf;

/// A step of a clone, as progress, errors and the report name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Reading and checking the plan.
    Plan,
    /// The checks before anything is copied (servers reachable, tools present).
    Check,
    /// The source's dump command.
    Dump,
    /// The rewrite between dump and restore.
    Rewrite,
    /// The restore into the target server.
    Restore,
    /// File copies (`[[copy]]`).
    Files,
    /// Patching the target's config files.
    Config,
    /// Commands run after everything else (`[[post_command]]`).
    PostCommand,
    /// SQL run on the copy after the restore (`[[post_sql]]`).
    PostSql,
    /// Putting the copy in place of the target database.
    Swap,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Plan => "plan",
            Stage::Check => "check",
            Stage::Dump => "dump",
            Stage::Rewrite => "rewrite",
            Stage::Restore => "restore",
            Stage::PostSql => "post_sql",
            Stage::Files => "files",
            Stage::Config => "config",
            Stage::PostCommand => "post_command",
            Stage::Swap => "swap",
        })
    }
}

/// Why a clone stopped. In the default atomic mode the target database is then as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plan file cannot be read or is wrong: `file:line:column: key: message`.
    #[error("{}{}: {key}{}{message}", file.display(), line.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default(), if key.is_empty() { "" } else { ": " })]
    Plan {
        /// The plan file.
        file: PathBuf,
        /// 1-based line and column, when the problem has a place in the file.
        line: Option<(usize, usize)>,
        /// The key concerned (`target.database`), or empty.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A stage failed. `stderr` is the end of what its program wrote to standard error.
    #[error("{stage} failed: {message}{}", if stderr.is_empty() { String::new() } else { format!("\n--- end of its standard error ---\n{stderr}") })]
    Stage {
        /// The stage.
        stage: Stage,
        /// What happened.
        message: String,
        /// The tail of the program's standard error (empty for in-process stages).
        stderr: String,
    },
    /// The rewrite stopped: the engine's own error, which names offset, line and table.
    #[error("rewrite failed")]
    Rewrite(#[source] understudy_engine::Error),
    /// The rules named by the plan cannot be loaded.
    #[error("cannot load the rules")]
    Rules(#[source] understudy_rules::RulesError),
}

impl Error {
    /// The stage this error stopped.
    pub fn stage(&self) -> Stage {
        match self {
            Error::Plan { .. } | Error::Rules(_) => Stage::Plan,
            Error::Stage { stage, .. } => *stage,
            Error::Rewrite(_) => Stage::Rewrite,
        }
    }

    /// This error with `note` added to its message (stage errors; others are returned as
    /// they are).
    pub(crate) fn with_note(self, note: String) -> Error {
        match self {
            Error::Stage {
                stage,
                message,
                stderr,
            } => Error::Stage {
                stage,
                message: format!("{message}; {note}"),
                stderr,
            },
            other => other,
        }
    }

    pub(crate) fn stage_failed(stage: Stage, message: impl Into<String>) -> Error {
        Error::Stage {
            stage,
            message: message.into(),
            stderr: String::new(),
        }
    }
}
