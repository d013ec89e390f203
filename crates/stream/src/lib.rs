//! Moving dump bytes between files, pipes and threads, for every front end (`rewrite`,
//! `scan`, `clone`): compression detected by content, output files that appear only when
//! complete (and are removed on signals and panics), wider pipes, and reader and writer
//! threads that keep the kernel's copies off the rewrite's thread.
//!
//! ripgrep's `grep-cli` is the model: what a command-line front end needs around the
//! search, kept out of the binary so a second front end gets the same behaviour.

pub mod cleanup;
mod error;
mod io;
mod progress;
mod threaded;

pub use error::{Error, ErrorKind, Result};
pub use io::{codec_for_path, open_input, widen_pipe, Codec, Output};
pub use progress::{bytes, rate, thousands, Counted, Meter, MeterStyle, Progress};
pub use threaded::{ReadAhead, WriteBehind};
