//! Process tests of the `understudy` binary: real files, real pipes, real MariaDB and PHP.

mod util;

mod ansible;
mod boundaries;
mod clone;
mod clone_ssh;
mod clone_wordpress;
mod doc_commands;
mod docs;
mod errors;
mod failclosed;
mod generate;
mod help;
mod packs;
mod passthrough;
mod preflight;
mod progress;
mod replace;
mod report;
mod roundtrip;
mod rules;
mod scan;
mod threads;
mod wordpress;
mod wrappers;
