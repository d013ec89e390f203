//! `understudy clone`: a whole site copied from one plan file.
//!
//! The database goes dump → rewrite → restore as one pipe ([`database`]): the dump
//! program's standard output feeds the rewrite engine in this process, which feeds the
//! restore client's standard input, with no file between them. By default the restore goes
//! into a staging database beside the target, and the copy replaces the target's tables in
//! one `RENAME TABLE` only when it is complete: a clone that fails at any stage leaves the
//! target as it was.
//!
//! Child processes and pipes run on plain threads, not an async runtime: there are two
//! children and four pipes, the engine between them is synchronous and CPU-bound, and the
//! engine's own reader and writer threads already give each pipe a thread that blocks on
//! it — back-pressure is the pipes' and the bounded queues' own.
//!
//! Passwords reach the client programs through option files only their owner can read
//! ([`client`]), never argv or the environment.

#![deny(missing_docs)]

mod child;
pub mod client;
pub mod database;
mod error;
pub mod phpconfig;
pub mod plan;

use std::sync::Arc;
use std::time::Instant;

use understudy_engine::{Engine, EngineBuilder};

pub use crate::database::{DatabaseReport, Mode};
pub use crate::error::{Error, Stage};
pub use crate::plan::Plan;

use crate::client::{Login, Tools};

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Atomic swap or restore in place.
    pub mode: Mode,
    /// Engine threads (0: one per CPU).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mode: Mode::Atomic,
            threads: 0,
        }
    }
}

/// What a clone did: the `--report` file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CloneReport {
    /// The source, as `user@host/database` (no password).
    pub source: String,
    /// The target.
    pub target: String,
    /// `atomic` or `in-place`.
    pub mode: &'static str,
    /// The database copy.
    pub database: DatabaseReport,
    /// Seconds in all.
    pub seconds: f64,
}

/// Runs `plan`: the database copy, then the post-steps. `progress` gets a line per step.
///
/// # Errors
/// The first stage that failed, with the end of its program's standard error. In
/// [`Mode::Atomic`] the target database is then as it was.
pub fn run(
    plan: &Plan,
    options: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<CloneReport, Error> {
    let start = Instant::now();
    let engine = build_engine(plan, options)?;
    let tools = Tools::find()?;
    let dir = private_dir()?;
    let source = Login::new(dir.path(), "source", &plan.source, &tools)?;
    let target = Login::new(dir.path(), "target", &plan.target, &tools)?;
    let database = database::copy(
        plan,
        &engine,
        &tools,
        &source,
        &target,
        options.mode,
        progress,
    )?;
    Ok(CloneReport {
        source: plan.source.describe(),
        target: plan.target.describe(),
        mode: mode_name(options.mode),
        database,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The steps `run` would take, one line each, with no secret in them.
pub fn dry_run(plan: &Plan, options: &Options) -> Vec<String> {
    let tools = Tools::find().unwrap_or(Tools {
        client: "mariadb".into(),
        dump: "mariadb-dump".into(),
    });
    let stage = plan.target.stage_name();
    let into = match options.mode {
        Mode::Atomic => stage.clone(),
        Mode::InPlace => plan.target.database.clone(),
    };
    let mut steps = vec![format!(
        "write client option files (mode 0600) for {} and {}",
        plan.source.describe(),
        plan.target.describe()
    )];
    if options.mode == Mode::Atomic {
        steps.push(format!(
            "on the target: DROP DATABASE IF EXISTS `{stage}`; CREATE DATABASE `{stage}`"
        ));
    }
    let fake = |name: &str| Login::describe_only(&format!("/PRIVATE-DIR/{name}.cnf"), &tools);
    let dump = database::dump_command(
        &plan.dump,
        &tools,
        &fake("source"),
        &plan.source.database,
        options.mode,
    );
    let argv = |c: &std::process::Command| {
        std::iter::once(c.get_program())
            .chain(c.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rules = match &plan.rewrite.rules {
        Some(r) => format!("understudy rewrite --rules {}", r.display()),
        None => "understudy rewrite".into(),
    };
    let mut restore = fake("target").client();
    restore.args(["--binary-mode", &into]);
    steps.push(format!("{} | {rules} | {}", argv(&dump), argv(&restore)));
    for post in &plan.post_sql {
        steps.push(format!("on `{into}`: post_sql {}", post.name));
    }
    if options.mode == Mode::Atomic {
        steps.push(format!(
            "on the target: RENAME TABLE every table of `{}` to `{}`, and of `{stage}` to `{}`; drop both",
            plan.target.database,
            plan.target.old_name(),
            plan.target.database
        ));
    }
    steps
}

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
    match build_engine(plan, options) {
        Ok(_) => line(
            true,
            match &plan.rewrite.rules {
                Some(r) => format!("rules {}: ok", r.display()),
                None => "no rules: the dump is copied as it is".into(),
            },
        ),
        Err(e) => line(false, format!("rules: {}", error_text(&e))),
    }
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
    let dir = match private_dir() {
        Ok(d) => d,
        Err(e) => {
            line(false, error_text(&e));
            return lines;
        }
    };
    let logins = Login::new(dir.path(), "source", &plan.source, &tools)
        .and_then(|s| Ok((s, Login::new(dir.path(), "target", &plan.target, &tools)?)));
    let (source, target) = match logins {
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
            if options.mode == Mode::Atomic && !facts.other_objects.is_empty() {
                line(
                    false,
                    format!(
                        "the atomic swap cannot move {}; clone with --in-place",
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
    lines
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

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Atomic => "atomic",
        Mode::InPlace => "in-place",
    }
}

/// A private directory (mode 0700) for the option files, removed when dropped.
fn private_dir() -> Result<tempfile::TempDir, Error> {
    tempfile::Builder::new()
        .prefix("understudy-clone-")
        .tempdir()
        .map_err(|e| {
            Error::stage_failed(
                Stage::Check,
                format!("cannot create a private directory: {e}"),
            )
        })
}

/// The rewrite engine the plan asks for.
fn build_engine(plan: &Plan, options: &Options) -> Result<Engine, Error> {
    let mut engine = EngineBuilder::new();
    for arg in &plan.rewrite.replace {
        engine.replace_arg(arg).map_err(|m| Error::Plan {
            file: plan.file.clone(),
            line: None,
            key: "rewrite.replace".into(),
            message: m,
        })?;
    }
    if let Some(path) = &plan.rewrite.rules {
        let mut vars: Vec<(String, String)> = plan.rewrite.vars.clone().into_iter().collect();
        if vars.iter().any(|(k, _)| k == "secret") {
            return Err(Error::Plan {
                file: plan.file.clone(),
                line: None,
                key: "rewrite.vars.secret".into(),
                message: "the masking secret is not written into the plan: give \
                          rewrite.secret_file or set UNDERSTUDY_SECRET"
                    .into(),
            });
        }
        if let Some(file) = &plan.rewrite.secret_file {
            vars.push((
                "secret".into(),
                understudy_rules::read_secret_file(file).map_err(Error::Rules)?,
            ));
        }
        let rules = understudy_rules::Rules::from_path(path, &vars).map_err(Error::Rules)?;
        engine.rules(Arc::new(rules));
    }
    engine.threads(if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    });
    engine.output_is_buffered(true);
    engine.build().map_err(|e| Error::Plan {
        file: plan.file.clone(),
        line: None,
        key: "rewrite".into(),
        message: e.to_string(),
    })
}
