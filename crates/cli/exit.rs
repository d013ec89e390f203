//! Exit codes, the same for every subcommand (README's "Exit status" table). A partial or
//! unmasked output is never a success.
//!
//! The line between 1 and 2 is who can fix it: what the user gave (arguments, rules,
//! plan, the dump's content) or the machine (files that cannot be opened, read or
//! written, pipes, servers). A missing file is the second kind whichever file it is, so
//! a script can tell "fix the command" from "retry when the disk or server is back".

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything was written.
    Success = 0,
    /// The arguments (a usage error too), the rules, the plan or the dump's content are
    /// wrong, or a check found problems: fix them and run again.
    BadInput = 1,
    /// A file could not be opened, read or written, or the environment failed (including
    /// a closed pipe downstream, and a tool or server a clone runs).
    Environment = 2,
}
