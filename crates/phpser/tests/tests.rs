//! The integration tests of `understudy-phpser`, one binary.
//!
//! - `edge`: table-driven edge cases, one line each (`rewrites_to!`).
//! - `naive`: a tree-building reference implementation and property tests against it.
//! - `oracle`: property tests against real `php` (`unserialize()` must agree).

mod base64;
mod edge;
mod naive;
mod oracle;
mod session;
mod util;
