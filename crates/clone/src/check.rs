//! `clone --check`, the doctor: what a clone needs, checked before anything is copied.

use std::path::Path;

use crate::client::{Login, Tools};
use crate::host::Host;
use crate::ssh::{quote_path, Remote};
use crate::{
    build_engine, database, logins, private_dir, source_vars, Error, Mode, Options, Plan, Stage,
};

/// One line of `clone --check`: whether it is fine, and what was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    /// No problem.
    pub ok: bool,
    /// What was checked and found.
    pub text: String,
}

/// The doctor: tools and versions, both servers reachable with the rights a clone needs,
/// the source's facts, the rules. Nothing is copied; the target gets a staging database
/// created and dropped again (the right the clone needs first).
pub fn check(plan: &Plan, options: &Options) -> Vec<CheckLine> {
    let mut lines = Vec::new();
    let mut line = |ok: bool, text: String| lines.push(CheckLine { ok, text });
    let local_db = plan.source.ssh.is_none() || plan.target.ssh.is_none();
    if local_db {
        let tools = match Tools::find() {
            Ok(t) => t,
            Err(e) => {
                line(false, error_text(&e));
                return lines;
            }
        };
        for program in [&tools.client, &tools.dump] {
            match std::process::Command::new(program)
                .arg("--version")
                .output()
            {
                Ok(out) if out.status.success() => line(
                    true,
                    format!(
                        "{}: {}",
                        program.display(),
                        String::from_utf8_lossy(&out.stdout).trim()
                    ),
                ),
                _ => line(false, format!("{}: does not run", program.display())),
            }
        }
    }
    if !check_remotes(plan, &mut line) {
        return lines;
    }
    let dir = match private_dir() {
        Ok(d) => d,
        Err(e) => {
            line(false, error_text(&e));
            return lines;
        }
    };
    let (source, target) = match logins(plan, &dir) {
        Ok(l) => l,
        Err(e) => {
            line(false, error_text(&e));
            return lines;
        }
    };
    match database::source_facts(&source, &plan.source.database) {
        Ok(facts) => {
            line(true, format!("source {}: reachable", source.describe));
            if !facts.inconsistent_tables.is_empty() {
                line(
                    true,
                    format!(
                        "warning: not transactional, so not in the snapshot's consistency: {}",
                        facts.inconsistent_tables.join(", ")
                    ),
                );
            }
            if !facts.other_objects.is_empty() {
                line(
                    true,
                    format!(
                        "the copy's {} follow its tables",
                        facts.other_objects.join(", ")
                    ),
                );
            }
        }
        Err(e) => line(
            false,
            format!("source {}: {}", source.describe, error_text(&e)),
        ),
    }
    // The rules with the variables the run would have (the source's address read from its
    // database where the plan leaves it out).
    let vars =
        source_vars(plan, &source, &mut |_| {}).unwrap_or_else(|_| plan.rewrite.vars.clone());
    match build_engine(plan, &vars, options) {
        Ok(_) => line(
            true,
            match &plan.rewrite.rules {
                Some(r) => format!("rules {}: ok", r.display()),
                None => "no rules: the dump is copied as it is".into(),
            },
        ),
        Err(e) => line(false, format!("rules: {}", error_text(&e))),
    }
    let stage = database::quote_ident(&plan.target.stage_name());
    match target.query(
        Stage::Check,
        None,
        &format!("DROP DATABASE IF EXISTS {stage}; CREATE DATABASE {stage}; DROP DATABASE {stage}"),
    ) {
        Ok(_) => line(
            true,
            format!(
                "target {}: reachable, may create and drop databases",
                target.describe
            ),
        ),
        Err(e) => line(
            false,
            format!("target {}: {}", target.describe, error_text(&e)),
        ),
    }
    if options.mode == Mode::Atomic {
        match staging_space(plan, &source, &target) {
            Ok(Some((need, free))) => line(
                free > need,
                format!(
                    "target disk: the copy takes about {:.0} MB (the source's tables), \
                     {:.0} MB are free where the target keeps its data",
                    need as f64 / 1e6,
                    free as f64 / 1e6
                ),
            ),
            Ok(None) => line(
                true,
                "target disk: not on this machine, its free space is not checked".into(),
            ),
            Err(e) => line(false, format!("target disk: {}", error_text(&e))),
        }
    }
    let target_files = Host::of(&plan.connections, plan.target_files.as_ref());
    for dir in plan
        .copies
        .iter()
        .map(|c| c.to.as_path())
        .chain(plan.site.iter().map(|s| s.target_root.as_path()))
    {
        if let Host::Remote(ssh, r) = target_files {
            // The nearest directory that exists: writable, and its free space.
            let script = format!(
                "d={}; while [ ! -e \"$d\" ]; do d=$(dirname \"$d\"); done; \
                 if [ -w \"$d\" ]; then echo writable; else echo read-only; fi; echo \"$d\"; \
                 df --output=avail -B1 \"$d\" | tail -n 1",
                quote_path(dir)
            );
            match ssh.run(r, &script, b"", Stage::Check) {
                Ok(out) if out.status.success() => {
                    let text = String::from_utf8_lossy(&out.stdout);
                    let mut it = text.lines();
                    let (state, existing, free) = (
                        it.next().unwrap_or(""),
                        it.next().unwrap_or(""),
                        it.next().and_then(|f| f.trim().parse::<u64>().ok()),
                    );
                    let free = free
                        .map(|f| format!(", {:.0} MB free", f as f64 / 1e6))
                        .unwrap_or_default();
                    line(
                        state == "writable",
                        format!("{}: {existing} is {state}{free}", target_files.show(dir)),
                    );
                }
                Ok(out) => line(
                    false,
                    format!(
                        "{}: cannot be checked: {}",
                        target_files.show(dir),
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                ),
                Err(e) => line(false, error_text(&e)),
            }
            continue;
        }
        let existing = dir.ancestors().find(|d| d.exists());
        match existing {
            Some(d) if writable(d) => {
                line(true, format!("{}: writable", dir.display()));
            }
            Some(d) => line(
                false,
                format!("{}: {} is not writable", dir.display(), d.display()),
            ),
            None => line(
                false,
                format!("{}: no directory of it exists", dir.display()),
            ),
        }
    }
    lines
}

/// Whether this process may create files in `dir`.
fn writable(dir: &Path) -> bool {
    tempfile::Builder::new()
        .prefix(".understudy-check-")
        .tempfile_in(dir)
        .is_ok()
}

/// The bytes the source's tables take and the bytes free in the target server's data
/// directory, when that server runs on this machine (a socket, or a local address).
fn staging_space(plan: &Plan, source: &Login, target: &Login) -> Result<Option<(u64, u64)>, Error> {
    // Local as the machine the target's client runs on sees it.
    let local = plan.target.socket.is_some()
        || matches!(
            plan.target.host.as_deref(),
            None | Some("localhost" | "127.0.0.1" | "::1")
        );
    if !local {
        return Ok(None);
    }
    let need = source.query(
        Stage::Check,
        None,
        &format!(
            "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables \
             WHERE table_schema = {}",
            database::sql_string(&plan.source.database)
        ),
    )?;
    let need: u64 = need
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let datadir = target.query(Stage::Check, None, "SELECT @@datadir")?;
    let Some(datadir) = datadir.first().and_then(|r| r.first()) else {
        return Ok(None);
    };
    let free = match target.connections() {
        None => free_bytes(Path::new(datadir)),
        Some((ssh, r)) => {
            let out = ssh.run(
                r,
                &format!(
                    "df --output=avail -B1 {} | tail -n 1",
                    quote_path(Path::new(datadir))
                ),
                b"",
                Stage::Check,
            )?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        }
    };
    Ok(free.map(|free| (need, free)))
}

/// Free bytes (for an unprivileged user) on the filesystem of `path`, from `df`.
fn free_bytes(path: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

/// An error and its causes on one line.
fn error_text(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Each machine of the plan reached over ssh: reachable, with the programs its part of the
/// clone needs. False when one is not reachable (the checks after it would only repeat it).
fn check_remotes(plan: &Plan, line: &mut dyn FnMut(bool, String)) -> bool {
    // (machine, what runs there)
    let mut needs: Vec<(Remote, Vec<&[&str]>)> = Vec::new();
    let mut need = |r: Option<&Remote>, tools: &'static [&'static str]| {
        let Some(r) = r else { return };
        match needs.iter_mut().find(|(m, _)| m == r) {
            Some((_, t)) => t.push(tools),
            None => needs.push((r.clone(), vec![tools])),
        }
    };
    need(plan.source.ssh.as_ref(), &["mariadb-dump", "mysqldump"]);
    need(plan.source.ssh.as_ref(), &["mariadb", "mysql"]);
    need(plan.target.ssh.as_ref(), &["mariadb", "mysql"]);
    need(plan.target.ssh.as_ref(), &["mariadb-dump", "mysqldump"]);
    if !plan.copies.is_empty() {
        need(plan.source_files.as_ref(), &["rsync"]);
        need(plan.target_files.as_ref(), &["rsync"]);
    }
    if plan.site.is_some() || !plan.configs.is_empty() {
        need(plan.target_files.as_ref(), &["php"]);
    }
    need(plan.target_files.as_ref(), &["df"]);
    let mut all_reachable = true;
    for (remote, wants) in needs {
        match plan.connections.tools(&remote, Stage::Check) {
            Ok(found) => {
                let missing: Vec<String> = wants
                    .iter()
                    .filter(|any| !any.iter().any(|t| found.iter().any(|f| f == t)))
                    .map(|any| any.join(" or "))
                    .collect();
                let zstd = if found.iter().any(|f| f == "zstd") {
                    "; zstd there: the database streams compressed"
                } else {
                    "; no zstd there: the database streams uncompressed"
                };
                if missing.is_empty() {
                    line(
                        true,
                        format!(
                            "{}: reachable over ssh, has {}{zstd}",
                            remote.describe(),
                            found
                                .iter()
                                .filter(|f| f.as_str() != "df")
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                } else {
                    line(
                        false,
                        format!(
                            "{}: reachable over ssh, but lacks {}",
                            remote.describe(),
                            missing.join(", ")
                        ),
                    );
                }
            }
            Err(e) => {
                all_reachable = false;
                line(false, error_text(&e));
            }
        }
    }
    all_reachable
}
