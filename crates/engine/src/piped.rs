//! The rewrite between a pipe and a pipe: the way every front end runs the engine.
//!
//! `rewrite` (from a file or standard input to a file or standard output) and `clone` (from
//! the dump's standard output to the restore's standard input) both want the same things
//! around [`Engine::run`]: reading and writing on threads of their own, and an output that
//! cannot be taken for a complete dump when the rewrite stops half-way.

use std::io::{Read, Write};

use understudy_stream::{ReadAhead, WriteBehind};

use crate::error::Error;
use crate::pipeline::Engine;
use crate::report::Report;

/// Written after a failed rewrite to a stream: whatever token it follows, it is not valid
/// SQL, so a `mariadb` client restoring the stream stops with an error instead of leaving a
/// silently partial copy.
pub const INCOMPLETE_MARKER: &[u8] =
    b"\n-- understudy: the rewrite failed; this dump is incomplete\nUNDERSTUDY REWRITE FAILED;\n";

/// What a stopped rewrite does to what it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Ends the output with [`INCOMPLETE_MARKER`]: for a stream that a restore may already
    /// be reading.
    Mark,
    /// Leaves the output as it is, for an output that is discarded when not finished (a
    /// file that appears only when complete).
    Discard,
}

impl Engine {
    /// Runs [`Engine::run`] with `input` read ahead and `output` written behind, each on a
    /// thread of its own, so the kernel's pipe copies (and any decompression inside
    /// `input` or compression inside `output`) run beside the rewrite instead of taking
    /// turns with it. Returns the report and `output`, flushed.
    ///
    /// # Errors
    /// What [`Engine::run`] returns, or an error of kind
    /// [`ErrorKind::OutputIo`](crate::ErrorKind::OutputIo) when the writer failed (also at
    /// the very end). On any error `output` has been dealt with as `on_failure` says and
    /// dropped.
    pub fn run_piped<R, W>(
        &self,
        input: R,
        output: W,
        on_failure: OnFailure,
    ) -> Result<(Report, W), Error>
    where
        R: Read + Send + 'static,
        W: Write + Send + 'static,
    {
        let input = ReadAhead::spawn(input).map_err(Error::start)?;
        let mut behind = WriteBehind::spawn(output).map_err(Error::start)?;
        // `ReadAhead` is buffered already: it lends out the chunks its thread read.
        match self.run(input, &mut behind) {
            Ok(report) => {
                let output = behind.finish().map_err(Error::output)?;
                Ok((report, output))
            }
            Err(err) => {
                if on_failure == OnFailure::Mark {
                    let _ = behind.write_all(INCOMPLETE_MARKER);
                }
                // Waits for the writer thread. A marked stream is flushed (a compressor's
                // flush makes what it holds readable); the output is then dropped.
                if let Ok(mut output) = behind.finish() {
                    if on_failure == OnFailure::Mark {
                        let _ = output.flush();
                    }
                }
                Err(err)
            }
        }
    }
}
