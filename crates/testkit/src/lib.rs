//! Test harnesses for Understudy: real components, really started.
//!
//! - [`mariadb`]: a throwaway `mariadbd` with its own datadir, socket and port.
//! - [`php`]: the `php-cli` oracle for serialized PHP data.
//! - [`sshd`]: a throwaway OpenSSH server on 127.0.0.1, for clones across machines.
//! - [`ports`]: ports on 127.0.0.1 for those servers, none given twice in a process.
//! - [`json`]: generated JSON documents for property tests.
//! - [`leaks`]: the rule packs as fuzzing runs them, and the check that no masked value
//!   survives a rewrite.
//!
//! Dev-dependency only; never shipped.

pub mod json;
pub mod leaks;
pub mod mariadb;
pub mod php;
pub mod ports;
pub mod sshd;
