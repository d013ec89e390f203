//! Understudy's rules: the TOML rule files that say how a dump is rewritten, compiled into
//! an immutable [`CompiledRules`] that the engine consults while streaming.
//!
//! This crate owns the model, not the stream: it never sees dump bytes. The engine decodes
//! rows and asks: which table action ([`CompiledRules::table_action`]), which replacement
//! pairs for a column ([`Replacement::applies_to`], [`Replacement::pairs`]), which masks
//! ([`CompiledRules::masks_for`], [`Mask::applies`], [`Mask::apply`]), which lookups to
//! fill ([`CompiledRules::lookups_fed_by`], [`LookupStore::record`]).
//!
//! Loading validates everything up front, so a broken rule fails before the first byte of
//! output, with `file:line:column: key: message` ([`RulesError`]). Masking fails closed: a
//! value that cannot be masked is an error ([`MaskError`]), never passed through.
//!
//! ```
//! use understudy_rules::{Cell, LookupStore, MaskValue, Rules};
//!
//! let rules = Rules::from_str(r#"
//!     [vars]
//!     secret = "not-a-real-secret"
//!     [[mask]]
//!     table = "users"
//!     column = "email"
//!     strategy = "template"
//!     template = "user{id}@example.invalid"
//! "#, "example.toml", &[]).unwrap();
//!
//! let lookups = LookupStore::new(&rules);
//! let row = [("id", Cell::Bytes(b"7")), ("email", Cell::Bytes(b"a@b.c"))];
//! let mask = rules.masks_for("users").next().unwrap();
//! assert!(mask.applies(&row, &lookups).unwrap());
//! let v = mask.apply(Cell::Bytes(b"a@b.c"), &row, &lookups, Some(100), false).unwrap();
//! assert_eq!(v, MaskValue::Bytes(b"user7@example.invalid".to_vec()));
//! ```
//!
//! The rule file format is documented in `docs/rules.md`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod compile;
mod condition;
mod error;
mod file;
pub mod find;
mod glob;
mod lookup;
mod mask;
mod model;
mod replace;
mod row;
mod scrub;
mod secret;
mod source;
mod template;
mod vars;

use std::path::Path;

pub(crate) use compile::Ctx;

pub use crate::{
    condition::Condition,
    error::{ErrorKind, EvalError, LookupError, MaskError, RulesError},
    lookup::{Lookup, LookupId, LookupStore},
    mask::{Fit, Inside, Mask, MaskValue, Masked, PathSegment, StrategyKind},
    model::{Action, CompiledRules, InputOptions, PrefixCheck, TableAction, Unlisted},
    replace::{
        DropReason, DroppedReplace, MustMove, Pair, PairKind, ReplaceScope, Replacement,
        SerializedMode, Variants,
    },
    row::{Cell, RowAccess},
    secret::read_secret_file,
    vars::VarDoc,
};

/// A rule file's name (for messages) and text.
fn read_rules(path: &Path) -> Result<(String, String), RulesError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        RulesError::new(
            &origin,
            None,
            "",
            ErrorKind::Io,
            format!("cannot read rules: {e}"),
        )
    })?;
    Ok((origin, text))
}

/// The shortest masking secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// Loads rule files. The associated functions cover the common case; the builder methods
/// let a caller (or a test) set variables and replace the process environment.
///
/// ```
/// use understudy_rules::Rules;
/// let rules = Rules::new()
///     .var("dst_url", "https://int.example.org/")
///     .env("UNDERSTUDY_SECRET", "s3cret-of-sixteen-bytes")
///     .compile_str(
///         "[vars]\nsecret = \"${env:UNDERSTUDY_SECRET}\"\ndst_url = \"\"\n",
///         "inline.toml",
///     )
///     .unwrap();
/// assert!(rules.has_secret());
/// ```
#[derive(Clone, Default)]
pub struct Rules {
    vars: Vec<(String, String)>,
    env: Option<Vec<(String, String)>>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.vars.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Rules")
            .field("vars", &names)
            .field("env", &self.env.as_ref().map(|e| e.len()))
            .finish()
    }
}

impl Rules {
    /// A loader with no overrides that reads the process environment.
    pub fn new() -> Rules {
        Rules::default()
    }

    /// Overrides a variable (as `--var name=value`); the last call for a name wins.
    pub fn var(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Rules {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// Sets an environment variable as `${env:NAME}` sees it. Once called, the process
    /// environment is no longer read (tests stay independent of it).
    pub fn env(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Rules {
        self.env
            .get_or_insert_with(Vec::new)
            .push((name.into(), value.into()));
        self
    }

    /// Compiles rule text; `origin` names it in errors.
    ///
    /// # Errors
    /// The first problem found, positioned.
    pub fn compile_str(&self, text: &str, origin: &str) -> Result<CompiledRules, RulesError> {
        let env_fn = |name: &str| -> Option<String> {
            match &self.env {
                Some(env) => env
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone()),
                None => std::env::var(name).ok(),
            }
        };
        // Later overrides win.
        let mut vars: Vec<(String, String)> = Vec::new();
        for (n, v) in &self.vars {
            vars.retain(|(m, _)| m != n);
            vars.push((n.clone(), v.clone()));
        }
        compile::compile(origin, text, &vars, &env_fn)
    }

    /// Reads and compiles a rule file.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] if the file cannot be read (or is not UTF-8), else as
    /// [`compile_str`](Self::compile_str).
    pub fn compile_path(&self, path: impl AsRef<Path>) -> Result<CompiledRules, RulesError> {
        let (origin, text) = read_rules(path.as_ref())?;
        self.compile_str(&text, &origin)
    }

    /// Reads and compiles a rule file with `--var` overrides.
    ///
    /// # Errors
    /// As [`compile_path`](Self::compile_path).
    pub fn from_path(
        path: impl AsRef<Path>,
        overrides: &[(String, String)],
    ) -> Result<CompiledRules, RulesError> {
        let mut r = Rules::new();
        r.vars = overrides.to_vec();
        r.compile_path(path)
    }

    /// The variables a rule file declares (`[vars]`, in file order) with what
    /// `[vars_help]` says they mean: what `understudy rules vars` lists. Nothing is
    /// compiled, so no variable needs a value.
    ///
    /// ```
    /// use understudy_rules::Rules;
    /// let vars = Rules::vars_of_str(
    ///     "[vars]\nsrc_url = \"\"\n[vars_help]\nsrc_url = \"the production URL\"\n",
    ///     "inline.toml",
    /// ).unwrap();
    /// assert_eq!(vars[0].name, "src_url");
    /// assert_eq!(vars[0].help.as_deref(), Some("the production URL"));
    /// ```
    ///
    /// # Errors
    /// A TOML error, or a `[vars_help]` key that names no variable.
    pub fn vars_of_str(text: &str, origin: &str) -> Result<Vec<VarDoc>, RulesError> {
        compile::documented_vars(origin, text)
    }

    /// [`vars_of_str`](Self::vars_of_str) of a file.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] if the file cannot be read, else as `vars_of_str`.
    pub fn vars_of_path(path: impl AsRef<Path>) -> Result<Vec<VarDoc>, RulesError> {
        let (origin, text) = read_rules(path.as_ref())?;
        compile::documented_vars(&origin, &text)
    }

    /// Compiles rule text with `--var` overrides; `origin` names it in errors.
    ///
    /// # Errors
    /// As [`compile_str`](Self::compile_str).
    pub fn from_str(
        text: &str,
        origin: &str,
        overrides: &[(String, String)],
    ) -> Result<CompiledRules, RulesError> {
        let mut r = Rules::new();
        r.vars = overrides.to_vec();
        r.compile_str(text, origin)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
