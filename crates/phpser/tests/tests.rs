//! The integration tests of `understudy-phpser`, one binary.
//!
//! - `edge`: table-driven edge cases, one line each (`rewrites_to!`).
//! - `naive`: a tree-building reference implementation and property tests against it.
//! - `oracle`: property tests against real `php` (`unserialize()` must agree).
//! - `session`, `base64`, `classes`, `json`: the wrappers of issue #6 (sessions, base64, real
//!   `Serializable` and `__serialize` classes) against real `php`.

mod base64;
mod boundary;
mod classes;
mod edge;
mod json;
mod naive;
mod oracle;
mod plain;
mod session;
mod util;
