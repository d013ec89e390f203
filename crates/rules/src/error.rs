//! Errors: [`RulesError`] for loading a rule file, [`EvalError`], [`MaskError`] and
//! [`LookupError`] for applying rules to rows.
//!
//! No message ever contains the value of the `secret` variable or of anything read from
//! `${env:…}`: messages name keys, variables and columns, never values.

use std::fmt;

/// What kind of problem a [`RulesError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The rule file could not be read.
    Io,
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    Syntax,
    /// `${name}` names a variable that `[vars]` does not declare (or `--var` names one).
    UnknownVariable,
    /// A malformed `${…}`, or variables that refer to each other in a cycle.
    BadVariable,
    /// `strategy` (or `kind`, `action`, `variants`, …) has a value that is not one of the
    /// known names.
    UnknownName,
    /// A `regex` condition does not compile.
    BadRegex,
    /// A glob does not compile.
    BadGlob,
    /// A mask `template` does not parse.
    BadTemplate,
    /// A condition or template refers to a `[[lookup]]` or field that does not exist.
    UnknownLookup,
    /// A lookup's table is dumped after a table that uses it.
    LookupOrder,
    /// A `hash` or `fake` mask (or a template with `hash()`) needs the `secret` variable and
    /// it is empty.
    MissingSecret,
    /// The `secret` is shorter than [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) bytes: masks
    /// keyed with it could be reversed by trying every key.
    WeakSecret,
    /// The secret file may be read or written by users other than its owner.
    ExposedSecret,
    /// Any other rule that is well-formed TOML but makes no sense.
    Invalid,
}

/// An error in a rule file, with the file, position and key it concerns.
///
/// Displays as `file:line:column: key: message` (parts that do not apply are left out),
/// e.g. `elgg.toml:12:12: mask[2].strategy: unknown strategy "fakee", expected one of …`.
/// Array-of-table entries are counted from 0: `mask[2]` is the third `[[mask]]`.
pub struct RulesError(Box<Inner>);

struct Inner {
    origin: Box<str>,
    /// 1-based line and column (in characters); `None` when the error has no place in the
    /// file (I/O, `--var`).
    pos: Option<(usize, usize)>,
    key: Box<str>,
    kind: ErrorKind,
    message: String,
}

impl RulesError {
    pub(crate) fn new(
        origin: &str,
        pos: Option<(usize, usize)>,
        key: impl Into<Box<str>>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> RulesError {
        RulesError(Box::new(Inner {
            origin: origin.into(),
            pos,
            key: key.into(),
            kind,
            message: message.into(),
        }))
    }

    /// Replaces secret values in the key and message.
    pub(crate) fn redacted(mut self, r: &crate::model::Redactor) -> RulesError {
        self.0.key = r.apply(&self.0.key).into();
        self.0.message = r.apply(&self.0.message);
        self
    }

    /// The file name (or the origin name given to `from_str`).
    pub fn origin(&self) -> &str {
        &self.0.origin
    }

    /// 1-based line, if the error has a place in the file.
    pub fn line(&self) -> Option<usize> {
        self.0.pos.map(|p| p.0)
    }

    /// 1-based column in characters, if the error has a place in the file.
    pub fn column(&self) -> Option<usize> {
        self.0.pos.map(|p| p.1)
    }

    /// The dotted key the error is about, e.g. `mask[2].when.name`; empty if none.
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message without file, position and key.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        f.write_str(&e.origin)?;
        if let Some((line, col)) = e.pos {
            write!(f, ":{line}:{col}")?;
        }
        if !e.key.is_empty() {
            write!(f, ": {}", e.key)?;
        }
        write!(f, ": {}", e.message)
    }
}

impl fmt::Debug for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RulesError")
            .field("kind", &self.0.kind)
            .field("text", &self.to_string())
            .finish()
    }
}

impl std::error::Error for RulesError {}

/// An error while evaluating a condition against a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The condition names a column the row does not have.
    #[error("{rule}: the row has no column `{column}`")]
    NoColumn {
        /// Which rule, e.g. `mask[3].when`.
        rule: Box<str>,
        /// The missing column.
        column: Box<str>,
    },
    /// The condition reads a lookup whose table has not been read completely yet.
    #[error("{rule}: lookup `{lookup}` is not filled yet: its table `{table}` has not been read completely")]
    LookupNotReady {
        /// Which rule.
        rule: Box<str>,
        /// The lookup's name.
        lookup: Box<str>,
        /// The lookup's source table.
        table: Box<str>,
    },
}

/// An error while computing a mask value. The run must stop: a value that cannot be masked
/// is never passed through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MaskError {
    /// A template names a column the row does not have.
    #[error("{mask}: the template needs column `{column}`, which the row does not have")]
    NoColumn {
        /// Which mask, e.g. `mask[3] (wp_users.user_email)`.
        mask: Box<str>,
        /// The missing column.
        column: Box<str>,
    },
    /// A template names a column whose value is NULL in this row.
    #[error("{mask}: the template needs column `{column}`, which is NULL in this row")]
    NullInTemplate {
        /// Which mask.
        mask: Box<str>,
        /// The NULL column.
        column: Box<str>,
    },
    /// A template reads a lookup and the lookup has no entry for this row's key.
    #[error("{mask}: lookup `{lookup}` has no row whose key equals this row's `{column}`")]
    NoLookupEntry {
        /// Which mask.
        mask: Box<str>,
        /// The lookup's name.
        lookup: Box<str>,
        /// The row's column that holds the key.
        column: Box<str>,
    },
    /// A template reads a lookup field that is NULL.
    #[error("{mask}: lookup `{lookup}` field `{field}` is NULL for this row")]
    NullLookupField {
        /// Which mask.
        mask: Box<str>,
        /// The lookup's name.
        lookup: Box<str>,
        /// The field.
        field: Box<str>,
    },
    /// A template reads a lookup that is not filled yet.
    #[error("{mask}: lookup `{lookup}` is not filled yet: its table `{table}` has not been read completely")]
    LookupNotReady {
        /// Which mask.
        mask: Box<str>,
        /// The lookup's name.
        lookup: Box<str>,
        /// The lookup's source table.
        table: Box<str>,
    },
    /// The value cannot be made to fit the column.
    #[error(
        "{mask}: the masked value needs at least {needed} characters, but the column holds {max}"
    )]
    DoesNotFit {
        /// Which mask.
        mask: Box<str>,
        /// Characters the shortest acceptable value needs.
        needed: usize,
        /// The column's limit.
        max: usize,
    },
    /// The strategy cannot produce distinct values for distinct inputs, but the column is
    /// UNIQUE (or the engine asked for another attempt after a collision).
    #[error("{mask}: strategy `{strategy}` cannot make distinct values for a UNIQUE column")]
    CannotBeUnique {
        /// Which mask.
        mask: Box<str>,
        /// The strategy (or `fake` kind), e.g. `fixed`, `fake:date`.
        strategy: Box<str>,
    },
}

/// An error while recording a row into a [`LookupStore`](crate::LookupStore).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The source table's row lacks the key or a field column.
    #[error("lookup `{lookup}`: table `{table}` has no column `{column}`")]
    NoColumn {
        /// The lookup's name.
        lookup: Box<str>,
        /// The source table.
        table: Box<str>,
        /// The missing column.
        column: Box<str>,
    },
}
