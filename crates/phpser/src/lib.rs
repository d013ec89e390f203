//! Reads and rewrites serialized PHP values (`serialize()` output) without breaking them.
//!
//! PHP stores arrays and objects in the database as `serialize()` strings, and every string
//! in them carries its length in bytes: `s:31:"https://mitglieder.example.org/";`. Cloning a
//! site means replacing its URL and paths in the dump, and a plain `sed` leaves the old
//! length in front of the new text: `s:31:"https://int.example.org/";`. `unserialize()` then
//! fails, and WordPress and Elgg silently fall back to defaults (or lose the option). This
//! crate does the replacement the way PHP would see it: it parses the value, changes the
//! strings, and writes each changed string with its new length, recursing into strings
//! that are themselves serialized (WordPress nests these).
//!
//! Everything that does not change is copied byte for byte: floats are not reformatted,
//! untouched parts are not re-serialized, and a value without any change is not copied at all
//! ([`Outcome::Unchanged`]).
//!
//! - [`looks_serialized`]: a cheap prefix check, to decide whether to parse at all.
//! - [`Parser`]: a streaming, zero-copy reader of [`Item`]s with byte ranges; no tree.
//! - [`rewrite`] / [`Rewriter`]: the rewriter, driven by a callback that gets each string with
//!   its [`Role`] (key, property name, value, class name).
//! - [`Replacer`] and [`replace_in_value`]: what the engine uses per column value, with
//!   [`Mode`]s for plain text, corrupt values (plain replacement plus a warning) and repairing
//!   the stale lengths earlier `sed` runs left behind. Values wrapped in PHP sessions, JSON
//!   documents and base64 are seen through, to any mix of them.
//! - [`hooks`]: the probes `understudy-engine` asks before it decodes a value, to skip it or
//!   to replace in its SQL-escaped bytes; not a stable API.
//!
//! The input is the *unescaped* SQL value: the dump's `\"` and `\0` must already be decoded,
//! because `s:N:` counts the bytes PHP sees, including the NUL bytes around protected
//! (`\0*\0name`) and private (`\0Class\0name`) property names.
//!
//! ```
//! use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};
//!
//! let r = Replacer::new([("https://mitglieder.example.org", "https://int.example.org")])?;
//! let (mut scratch, mut out) = (Scratch::new(), Vec::new());
//! let value = br#"a:1:{s:7:"Tickets";s:38:"https://mitglieder.example.org/tickets";}"#;
//! replace_in_value(value, &r, &mut scratch, &mut out, Options::new(Mode::Auto))?;
//! assert_eq!(out, br#"a:1:{s:7:"Tickets";s:31:"https://int.example.org/tickets";}"#);
//!
//! // What sed would have written, and how Mode::Repair fixes it afterwards:
//! let broken = br#"a:1:{s:7:"Tickets";s:38:"https://int.example.org/tickets";}"#;
//! let none = Replacer::new(Vec::<(&str, &str)>::new())?;
//! let report = replace_in_value(broken, &none, &mut scratch, &mut out, Options::new(Mode::Repair))?;
//! assert!(report.repaired);
//! assert_eq!(out, br#"a:1:{s:7:"Tickets";s:31:"https://int.example.org/tickets";}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod base64;
mod boundary;
mod error;
mod json;
mod needles;
mod parse;
mod plain;
mod repair;
mod replace;
mod replacer;
mod rewrite;
mod session;

pub use crate::boundary::Boundary;
pub use crate::error::{Error, ErrorKind};
pub use crate::needles::BuildError;
pub use crate::parse::{looks_serialized, unescape, Item, Parser, Role, DEFAULT_MAX_DEPTH};
pub use crate::replace::{replace_in_value, Mode, Options, Report, Scratch};
pub use crate::replacer::Replacer;
pub use crate::rewrite::{rewrite, Edit, Outcome, Rewriter};

/// The fast-path probes of `understudy-engine`; not a stable API.
///
/// [`replace_in_value`] needs a decoded value, and decoding every value of a dump (SQL
/// escapes) costs more than the replacements. So the engine first asks these whether a value
/// can change at all and in what form: whether base64 that hides a needle may be in it
/// (`may_be_base64`, `may_hold_base64`, and `starts_like_base64` / `may_nest_base64` where
/// its lexer copies rows through unread), whether it is plain text or flat JSON whose needles
/// it may replace in the escaped bytes (`plain_text`, `plain_json`), and it searches the
/// escaped needles with the same [`NeedleSet`](hooks::NeedleSet) a [`Replacer`] uses.
///
/// The probes are conservative: one answer of each is sure, the other only means "look
/// closer" (a probe that called a value plain which [`replace_in_value`] would do more with
/// would change the output). Their contract is the engine's fast paths and changes with
/// them; a user of this crate calls [`replace_in_value`], which asks them itself.
pub mod hooks {
    pub use crate::base64::{may_be_base64, may_hold_base64, may_nest_base64, starts_like_base64};
    pub use crate::json::FlatMarks;
    pub use crate::needles::NeedleSet;
    pub use crate::plain::{plain_json, plain_text, PLAIN_HEAD};
}
