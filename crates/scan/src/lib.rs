//! Finds what a dump still holds that looks personal, and the production URLs still in it:
//! the check at the end of `mariadb-dump prod | understudy rewrite … | understudy scan`.
//!
//! A rewrite with a rule pack masks what the pack knows about. What it does not know about
//! (a plugin's table, a column added last year, an e-mail address in a serialized widget)
//! goes through untouched, and nobody notices until the copy mails a customer. A scan reads
//! the same stream and reports, per table and column, values that look like e-mail and IP
//! addresses, phone numbers, password hashes, payment cards and IBANs (see [`Kind`] and
//! `docs/scan.md` for each heuristic), inside serialized PHP and JSON too; occurrences of
//! each replacement's needles (the production URL); and, given the rules, whether each
//! column is masked, kept or dropped by them, or uncovered ([`Coverage`]). What a mask
//! writes (an address at `example.invalid`, the pack's fixed password hash) is counted as
//! mask output, not as personal.
//!
//! Why it is shaped like this:
//!
//! - **A library, not a part of the binary**: a second front end (`clone`, a CI check)
//!   calls [`Scanner::scan`] on any [`std::io::Read`] and gets a [`Report`] of counts back;
//!   the CLI only parses arguments, prints and maps [`Report::problems`] to an exit code.
//! - **One pass, no regexes, detectors on threads**: it should keep up with `rewrite` at
//!   the end of the same pipe. The reading thread lexes whole rows and copies string values
//!   into batches; detector threads ([`ScannerBuilder::threads`]) count into their own
//!   tables, summed at the end, so the report does not depend on the number of threads.
//!   Strings shorter than any finding are counted and not handed on. A sieve over each
//!   string's raw bytes (a `memchr` for `@ $ +`, one vectorized count of digits, dots and
//!   colons that decides whether IP addresses and cards are worth looking for, then 64-byte
//!   bit masks for card and IBAN candidates) rules out most values before any decoding;
//!   only the rest are decoded, parsed (JSON without building a tree) and run through the
//!   detectors. The replacements' needles are searched once per batch.
//! - **Counts, never values**: the report says where, not what, so it can go into a CI log.
//! - **The scrub's finders**: e-mail and IP addresses are found by
//!   [`understudy_rules::find`], the code the `scrub` mask replaces them with, so a column a
//!   scrub has been over does not light up again.
//!
//! ```
//! use understudy_scan::{Kind, ScannerBuilder};
//!
//! let dump = b"CREATE TABLE `t` (`id` int, `note` text);\n\
//!     INSERT INTO `t` VALUES (1,'mail anna@example.org'),(2,'a:1:{s:2:\\\"ip\\\";s:9:\\\"192.0.2.7\\\";}');\n";
//! let report = ScannerBuilder::new().build()?.scan(&dump[..])?;
//! let note = &report.tables[0].columns[1];
//! assert_eq!(note.findings[&Kind::Email].personal, 1);
//! assert_eq!(note.findings[&Kind::Ipv4].in_serialized, 1);
//! assert!(!report.is_clean()); // without rules, every column is uncovered
//! # Ok::<(), understudy_scan::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod detect;
mod error;
mod json;
mod report;
mod scan;
mod value;

pub use crate::detect::{Context, Kind};
pub use crate::error::{Error, ErrorKind};
pub use crate::report::{
    ColumnReport, Coverage, KindCount, Problem, Report, TableReport, UrlCount,
};
pub use crate::scan::{Scanner, ScannerBuilder};
