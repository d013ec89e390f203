//! File copies with the system's `rsync`: what operators already trust, resumable, with
//! deletes and excludes they know, and the same program over ssh (`-e`, through the clone's
//! control master) when one side is on another machine. A crate would
//! have to reimplement its delta transfer and its filter rules for no gain here.
//!
//! Nothing is written outside the target: `..` in a path is refused, and so is a symbolic
//! link in the source that points outside the tree being copied (the copy would point at
//! production's files, and a site writing through it would write there).

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::child::tail;
use crate::error::{Error, Stage};
use crate::host::Host;

/// One `[[copy]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// The source directory.
    pub from: PathBuf,
    /// The target directory.
    pub to: PathBuf,
    /// rsync patterns left out (`cache/`, `*.log`); they are also kept on the target.
    pub exclude: Vec<String>,
    /// Delete target files the source does not have (except `keep`).
    pub delete: bool,
    /// Patterns of target files that `delete` leaves alone when the source lacks them
    /// (`.htaccess`, an upload directory of the target's own).
    pub keep: Vec<String>,
    /// `--chown=USER:GROUP`.
    pub owner: Option<String>,
    /// `--chmod=…` in rsync's syntax (`D2775,F664`).
    pub chmod: Option<String>,
    /// Symbolic links pointing out of the tree are copied as the files they point at
    /// (a Debian-packaged WordPress links its libraries into `/usr/share`), instead of
    /// refused.
    pub copy_outside_links: bool,
}

/// What a copy did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FilesReport {
    /// Per `[[copy]]`: target directory, files transferred, bytes transferred.
    pub copies: Vec<CopyReport>,
}

/// One copy's figures, from rsync's `--stats`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CopyReport {
    /// The target directory.
    pub to: String,
    /// Regular files transferred.
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Seconds.
    pub seconds: f64,
}

/// Refuses a path with `..` in it.
pub(crate) fn check_no_parent(path: &Path, key: &str) -> Result<(), String> {
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(format!("{key} {}: `..` is not allowed", path.display()));
    }
    Ok(())
}

/// Symbolic links under `root` whose target is outside `root`.
fn links_out(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let root = root.canonicalize()?;
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_symlink() {
                let target = std::fs::read_link(&path)?;
                let resolved = lexical_join(&dir, &target);
                if !resolved.starts_with(&root) {
                    out.push(path);
                }
            } else if kind.is_dir() {
                dirs.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `base/target` with `.` and `..` resolved by name (the link need not exist).
fn lexical_join(base: &Path, target: &Path) -> PathBuf {
    let mut out = if target.is_absolute() {
        PathBuf::new()
    } else {
        base.to_path_buf()
    };
    for c in target.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Runs one copy, from `source` (the machine holding the source's files) to `target`;
/// at most one of them is another machine (the plan makes sure).
pub(crate) fn copy(
    c: &Copy,
    source: Host<'_>,
    target: Host<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<CopyReport, Error> {
    let failed = |m: String| Error::stage_failed(Stage::Files, m);
    let out = match source {
        Host::Local => {
            if !c.from.is_dir() {
                return Err(failed(format!("{} is not a directory", c.from.display())));
            }
            links_out(&c.from)
                .map_err(|e| failed(format!("cannot read {}: {e}", c.from.display())))?
        }
        Host::Remote(..) => {
            let (root, links) = source.remote_links(&c.from, Stage::Files)?;
            let mut out: Vec<PathBuf> = links
                .into_iter()
                .filter(|(path, target)| {
                    let dir = path.parent().unwrap_or(&root);
                    !lexical_join(dir, target).starts_with(&root)
                })
                .map(|(path, _)| path)
                .collect();
            out.sort();
            out
        }
    };
    if !out.is_empty() && !c.copy_outside_links {
        let names: Vec<String> = out
            .iter()
            .take(10)
            .map(|p| p.display().to_string())
            .collect();
        return Err(failed(format!(
            "symbolic links in {} point outside it, so the copy would point at the source's \
             files: {}{}; exclude them, or set outside_links = \"copy\" to copy what they \
             point at",
            source.show(&c.from),
            names.join(", "),
            if out.len() > 10 { ", …" } else { "" }
        )));
    }
    target.create_dir_all(&c.to, Stage::Files)?;
    let start = std::time::Instant::now();
    let mut cmd = rsync_command(c);
    let (mut from, mut to) = (
        c.from.clone().into_os_string(),
        c.to.clone().into_os_string(),
    );
    for (host, path) in [(source, &mut from), (target, &mut to)] {
        if let Host::Remote(ssh, r) = host {
            cmd.arg("-e").arg(ssh.rsync_shell(r, Stage::Files)?);
            let mut remote = std::ffi::OsString::from(r.rsync_prefix());
            remote.push(&*path);
            *path = remote;
        }
    }
    // The trailing slash copies the directory's contents, not the directory.
    from.push("/");
    cmd.arg(from).arg(to);
    progress(&format!(
        "files {} -> {}",
        source.show(&c.from),
        target.show(&c.to)
    ));
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            failed(format!(
                "cannot start rsync: {e} (install the rsync package)"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Stage {
            stage: Stage::Files,
            message: format!(
                "rsync {} -> {} exited with {}",
                source.show(&c.from),
                target.show(&c.to),
                out.status
            ),
            stderr: tail(&out.stderr),
        });
    }
    let stats = String::from_utf8_lossy(&out.stdout);
    let number = |label: &str| {
        stats
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .map(|n| n.replace(',', ""))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let report = CopyReport {
        to: target.show(&c.to),
        files: number("Number of regular files transferred:"),
        bytes: number("Total transferred file size:"),
        seconds: start.elapsed().as_secs_f64(),
    };
    progress(&format!(
        "copied {} files, {} bytes in {:.1} s",
        report.files, report.bytes, report.seconds
    ));
    Ok(report)
}

/// The rsync command line of a copy, without its source and destination.
pub(crate) fn rsync_command(c: &Copy) -> Command {
    let mut cmd = Command::new("rsync");
    cmd.args(["--archive", "--stats", "--no-inc-recursive"]);
    // Excluded names are kept on the target too (a cache the target builds for itself).
    for pattern in &c.exclude {
        cmd.arg(format!("--filter=- {pattern}"));
    }
    for pattern in &c.keep {
        cmd.arg(format!("--filter=P {pattern}"));
    }
    if c.delete {
        cmd.arg("--delete");
    }
    if c.copy_outside_links {
        cmd.arg("--copy-unsafe-links");
    }
    if let Some(owner) = &c.owner {
        cmd.arg(format!("--chown={owner}"));
    }
    if let Some(chmod) = &c.chmod {
        cmd.arg(format!("--chmod={chmod}"));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_out_of_the_tree_are_found_and_links_within_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::os::unix::fs::symlink("../b", root.join("a/b/up")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("a/etc")).unwrap();
        std::os::unix::fs::symlink("../../outside", root.join("a/out")).unwrap();
        let found = links_out(&root).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["etc", "out"]);
    }

    #[test]
    fn parent_components_are_refused() {
        assert!(check_no_parent(Path::new("uploads/../../etc"), "copy.to").is_err());
        assert!(check_no_parent(Path::new("uploads/x"), "copy.to").is_ok());
    }
}
