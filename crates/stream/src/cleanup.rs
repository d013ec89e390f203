//! Removes an unfinished output file on every way out, not only on errors: a signal (Ctrl-C,
//! `kill`, a closed terminal) or a panic would otherwise leave a `.partial` file of tens of
//! megabytes behind, which a user may take for a dump, or a clone's client option files,
//! which hold passwords.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Files and directories to remove on the way out: the temporary output file being
/// written, a clone's private directory of client option files.
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Starts watching for SIGINT, SIGTERM and SIGHUP, and for panics: each removes the
/// registered file, then ends the process as that signal (or panic) would have, so the exit
/// status is the conventional one (130 for Ctrl-C in a shell).
pub fn install() -> Result<()> {
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).map_err(|source| {
            Error::Start {
                what: "the signal watch",
                source,
            }
        })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                remove();
                // Restores the default action and raises the signal again.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        })
        .map_err(|source| Error::Start {
            what: "the signal thread",
            source,
        })?;
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        remove();
        default(info);
    }));
    Ok(())
}

/// Registers `path` (a file, or a directory removed with all it holds) to remove.
pub fn register(path: &Path) {
    if let Ok(mut partial) = PARTIAL.lock() {
        partial.push(path.to_path_buf());
    }
}

/// `path` is finished (renamed into place) or gone: it is no longer removed.
pub fn forget(path: &Path) {
    if let Ok(mut partial) = PARTIAL.lock() {
        partial.retain(|p| p != path);
    }
}

fn remove() {
    // `try_lock`: a panic while the lock is held must not deadlock in its own hook.
    if let Ok(mut partial) = PARTIAL.try_lock() {
        for path in partial.drain(..) {
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(path);
            } else {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
