//! The target's fingerprint (`understudy clone --fingerprint`): one digest per part of the
//! target a plan writes, so a wrapper — the Ansible role in `contrib/ansible/` — can say
//! whether a clone changed anything.
//!
//! Why the clone's own figures cannot say it: a clone restores the whole database every
//! time, and rsync copies the source's config file again each time before the patch writes
//! the target's settings back into it, so rows restored and files transferred are never
//! zero, even when the target ends exactly as it was. The question a second run has to
//! answer is whether the target differs, so the target itself is read, before and after.
//!
//! What is read, for the parts the options run:
//! - `database`: the target database's tables (name, type, columns, indexes), the
//!   `CHECKSUM TABLE` of each base table, and its views, triggers and routines. Not
//!   `AUTO_INCREMENT` counters, which a restore sets from the dump anyway.
//! - `files`: under each `[[copy]]`'s target, every entry's path, type, mode, owner, size
//!   and modification time (rsync's own quick check; `--archive` keeps the source's
//!   times), and a link's target. Directories' times are left out: the config patch
//!   renames a new file into its directory. A config file the clone patches is read whole
//!   instead: rsync gives it the source's time, the patch a new one, each run.
//! - `config`: the bytes of each config file the clone patches.
//!
//! Post commands are seen only in what they change of those. Reading costs a full scan of
//! every target table (`CHECKSUM TABLE`) and a `stat` of every target file.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::client::Login;
use crate::database::{quote_ident, sql_string};
use crate::error::{Error, Stage};
use crate::{Options, Part, Plan};

/// The target's digests, one per part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// In the order the clone writes them: database, file copies, config files.
    pub parts: Vec<PartPrint>,
}

/// One part of the target and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartPrint {
    /// `database`, `files` or `config`.
    pub part: &'static str,
    /// `user@host/database`, a directory or a file.
    pub name: String,
    /// SHA-256, in hex.
    pub digest: String,
}

impl std::fmt::Display for PartPrint {
    /// `part sha256:digest name`: the name last, as it may hold spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} sha256:{} {}", self.part, self.digest, self.name)
    }
}

/// Reads the target of `plan`, for the parts `options` runs.
///
/// # Errors
/// A check-stage error when the target server or a target file cannot be read. A target
/// database or directory that does not exist yet is not an error: it has a digest too.
pub fn fingerprint(plan: &Plan, options: &Options) -> Result<Fingerprint, Error> {
    let wants = |p: Part| options.only.contains(&p);
    let configs = config_files(plan);
    let mut parts = Vec::new();
    if wants(Part::Database) {
        parts.push(PartPrint {
            part: "database",
            name: plan.target.describe(),
            digest: database_digest(plan)?,
        });
    }
    // The file and config digests read the target's files here; over ssh they would need
    // a remote walk this does not do yet, and a digest of the wrong machine's files would
    // report "unchanged" for a clone that changed them.
    if plan.target_files.is_some() && (wants(Part::Files) || wants(Part::Config)) {
        return Err(Error::stage_failed(
            Stage::Check,
            "--fingerprint reads the target's files on this machine; the plan's target files \
             are on another machine (use --only database)"
                .to_string(),
        ));
    }
    if wants(Part::Files) {
        let patched: BTreeSet<&Path> = configs.iter().map(PathBuf::as_path).collect();
        for copy in &plan.copies {
            parts.push(PartPrint {
                part: "files",
                name: copy.to.display().to_string(),
                digest: tree_digest(&copy.to, &patched)?,
            });
        }
    }
    if wants(Part::Config) {
        for file in &configs {
            let mut hash = Sha256::new();
            content(file, &mut hash)?;
            parts.push(PartPrint {
                part: "config",
                name: file.display().to_string(),
                digest: hex(hash),
            });
        }
    }
    Ok(Fingerprint { parts })
}

/// The config files the clone patches: the application's (where its root has one) and
/// each `[[config]]`'s.
fn config_files(plan: &Plan) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let root = match &plan.site {
        Some(site) => {
            if site.patch_config {
                files.extend(site.kind.config_file(&site.target_root));
            }
            site.target_root.clone()
        }
        None => PathBuf::from("."),
    };
    for patch in &plan.configs {
        files.push(if patch.file.is_absolute() {
            patch.file.clone()
        } else {
            root.join(&patch.file)
        });
    }
    files
}

/// The target database's structure and content, as the server reports them.
fn database_digest(plan: &Plan) -> Result<String, Error> {
    let dir = crate::private_dir()?;
    let login = Login::new(
        dir.path(),
        "target",
        &plan.target,
        &plan.secret_env_names(),
        plan.target.ssh.as_ref().map(|r| (&plan.connections, r)),
    )?;
    let db = sql_string(&plan.target.database);
    // Everything but the rows, in one round trip; ORDER BY makes it the same each time.
    let meta = login.query(
        Stage::Check,
        None,
        &format!(
            "SELECT 'table', TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION \
               FROM information_schema.TABLES WHERE TABLE_SCHEMA = {db} ORDER BY TABLE_NAME;\n\
             SELECT 'column', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, \
                    IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLLATION_NAME \
               FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {db} \
               ORDER BY TABLE_NAME, ORDINAL_POSITION;\n\
             SELECT 'index', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE \
               FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {db} \
               ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX;\n\
             SELECT 'view', TABLE_NAME, VIEW_DEFINITION \
               FROM information_schema.VIEWS WHERE TABLE_SCHEMA = {db} ORDER BY TABLE_NAME;\n\
             SELECT 'trigger', TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, \
                    EVENT_MANIPULATION, ACTION_STATEMENT \
               FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {db} \
               ORDER BY TRIGGER_NAME;\n\
             SELECT 'routine', ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION \
               FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {db} \
               ORDER BY ROUTINE_TYPE, ROUTINE_NAME;"
        ),
    )?;
    let mut hash = Sha256::new();
    let mut tables = Vec::new();
    for row in &meta {
        if let [kind, name, kind_of_table, ..] = row.as_slice() {
            if kind == "table" && kind_of_table == "BASE TABLE" {
                tables.push(format!(
                    "{}.{}",
                    quote_ident(&plan.target.database),
                    quote_ident(name)
                ));
            }
        }
        field_row(&mut hash, row);
    }
    if !tables.is_empty() {
        // The rows themselves: the server's checksum of each table's content.
        let sums = login.query(
            Stage::Check,
            None,
            &format!("CHECKSUM TABLE {}", tables.join(", ")),
        )?;
        for row in &sums {
            field_row(&mut hash, row);
        }
    }
    Ok(hex(hash))
}

/// Feeds one row into `hash`, each field ended by a NUL (which no field holds: the client
/// prints it as `\0`), the row by a newline.
fn field_row(hash: &mut Sha256, row: &[String]) {
    for field in row {
        hash.update(field.as_bytes());
        hash.update(b"\0");
    }
    hash.update(b"\n");
}

/// Every entry under `root`, in name order; the files in `patched` by content.
fn tree_digest(root: &Path, patched: &BTreeSet<&Path>) -> Result<String, Error> {
    let failed = |p: &Path, e: std::io::Error| {
        Error::stage_failed(Stage::Check, format!("cannot read {}: {e}", p.display()))
    };
    let mut hash = Sha256::new();
    match std::fs::symlink_metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            hash.update(b"absent\n");
            return Ok(hex(hash));
        }
        Err(e) => return Err(failed(root, e)),
        Ok(_) => {}
    }
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries = std::fs::read_dir(&dir)
            .and_then(|d| d.collect::<Result<Vec<_>, _>>())
            .map_err(|e| failed(&dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        // Subdirectories are walked after this one's entries, in name order: a stack, so
        // pushed in reverse.
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| failed(&path, e))?;
            let rel = path.strip_prefix(root).unwrap_or(&path);
            hash.update(rel.as_os_str().as_bytes());
            hash.update(b"\0");
            hash.update(format!("{:o}\0{}:{}\0", meta.mode(), meta.uid(), meta.gid()).as_bytes());
            let kind = meta.file_type();
            if kind.is_dir() {
                subdirs.push(path);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).map_err(|e| failed(&path, e))?;
                hash.update(target.as_os_str().as_bytes());
            } else if patched.contains(path.as_path()) {
                content(&path, &mut hash)?;
            } else {
                hash.update(
                    format!("{}\0{}.{}", meta.size(), meta.mtime(), meta.mtime_nsec()).as_bytes(),
                );
            }
            hash.update(b"\n");
        }
        dirs.extend(subdirs.into_iter().rev());
    }
    Ok(hex(hash))
}

/// Feeds `file`'s bytes into `hash` (or `absent`).
fn content(file: &Path, hash: &mut Sha256) -> Result<(), Error> {
    let failed = |e: std::io::Error| {
        Error::stage_failed(Stage::Check, format!("cannot read {}: {e}", file.display()))
    };
    let mut f = match std::fs::File::open(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            hash.update(b"absent");
            return Ok(());
        }
        other => other.map_err(failed)?,
    };
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(failed)?;
        if n == 0 {
            return Ok(());
        }
        hash.update(&buf[..n]);
    }
}

fn hex(hash: Sha256) -> String {
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(root: &Path, patched: &[&Path]) -> String {
        tree_digest(root, &patched.iter().copied().collect()).unwrap()
    }

    #[test]
    fn a_tree_digest_changes_with_content_time_mode_and_names_not_with_directory_times() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("t");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f"), b"one").unwrap();
        std::fs::write(root.join("a/settings.php"), b"<?php 1").unwrap();
        let settings = root.join("a/settings.php");
        let first = digest(&root, &[&settings]);
        assert_eq!(first, digest(&root, &[&settings]));

        // The patched file rewritten with the same bytes (a new time), and a new file in its
        // directory removed again (a new directory time): no change.
        std::fs::write(&settings, b"<?php 1").unwrap();
        std::fs::write(root.join("a/tmp"), b"").unwrap();
        std::fs::remove_file(root.join("a/tmp")).unwrap();
        assert_eq!(first, digest(&root, &[&settings]));

        // Other bytes in the patched file; a mode; a name; an ordinary file's size.
        std::fs::write(&settings, b"<?php 2").unwrap();
        let second = digest(&root, &[&settings]);
        assert_ne!(first, second);
        std::fs::set_permissions(root.join("a/b/f"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        let third = digest(&root, &[&settings]);
        assert_ne!(second, third);
        std::fs::rename(root.join("a/b/f"), root.join("a/b/g")).unwrap();
        let fourth = digest(&root, &[&settings]);
        assert_ne!(third, fourth);
        std::fs::write(root.join("a/b/g"), b"one more").unwrap();
        assert_ne!(fourth, digest(&root, &[&settings]));
    }

    #[test]
    fn a_missing_tree_has_a_digest_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let missing = digest(&dir.path().join("nothing"), &[]);
        let empty = digest(dir.path(), &[]);
        assert_ne!(missing, empty);
    }
}
