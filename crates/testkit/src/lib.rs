//! Test harnesses for Understudy: real components, really started.
//!
//! - [`mariadb`]: a throwaway `mariadbd` with its own datadir, socket and port.
//! - [`php`]: the `php-cli` oracle for serialized PHP data.
//!
//! Dev-dependency only; never shipped.

pub mod mariadb;
pub mod php;
