//! Test harnesses for Understudy: real components, really started.
//!
//! - [`mariadb`]: a throwaway `mariadbd` with its own datadir, socket and port.
//! - [`php`]: the `php-cli` oracle for serialized PHP data.
//! - [`json`]: generated JSON documents for property tests.
//!
//! Dev-dependency only; never shipped.

pub mod json;
pub mod mariadb;
pub mod php;
