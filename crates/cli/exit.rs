//! Exit codes. A partial or unmasked output is never a success.

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything was written.
    Success = 0,
    /// The input or the rules are wrong: fix them and run again.
    BadInput = 1,
    /// Reading, writing or the environment failed (including a closed pipe downstream).
    Environment = 2,
}
