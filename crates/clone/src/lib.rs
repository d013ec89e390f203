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
//!
//! Either side may be on another machine ([`ssh`]): its client programs run there through
//! the system's ssh, the dump and the restore stream over the connection (the rewrite stays
//! in this process), and its files are copied, read and patched there ([`files`],
//! [`config`]).

#![deny(missing_docs)]

mod check;
mod child;
pub mod client;
pub mod config;
pub mod database;
mod error;
pub mod files;
mod fingerprint;
mod host;
pub mod phpconfig;
pub mod plan;
pub mod site;
pub mod ssh;

use std::sync::Arc;
use std::time::Instant;

use understudy_engine::{Engine, EngineBuilder};

pub use crate::check::{check, CheckLine};
pub use crate::database::{DatabaseReport, Mode};
pub use crate::error::{Error, Stage};
pub use crate::fingerprint::{fingerprint, Fingerprint, PartPrint};
pub use crate::plan::Plan;

use crate::client::{Login, Tools};
use crate::host::Host;

/// The parts of a clone, as `--only` names them (the playbook's tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Dump, rewrite, restore, post-SQL, swap.
    Database,
    /// `[[copy]]`.
    Files,
    /// The application's config and `[[config]]`.
    Config,
    /// `[[post_command]]`.
    Post,
}

impl Part {
    /// Every part, in the order they run.
    pub const ALL: [Part; 4] = [Part::Database, Part::Files, Part::Config, Part::Post];

    /// Parses `database`, `files`, `config` or `post`.
    pub fn parse(name: &str) -> Option<Part> {
        Some(match name {
            "database" | "db" => Part::Database,
            "files" => Part::Files,
            "config" => Part::Config,
            "post" => Part::Post,
            _ => return None,
        })
    }
}

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Atomic swap or restore in place.
    pub mode: Mode,
    /// Engine threads (0: one per CPU).
    pub threads: usize,
    /// The parts to run.
    pub only: Vec<Part>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mode: Mode::Atomic,
            threads: 0,
            only: Part::ALL.to_vec(),
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
    /// The database copy (absent when not run).
    pub database: Option<DatabaseReport>,
    /// The file copies.
    pub files: Vec<files::CopyReport>,
    /// Config files patched, with the settings changed (names only).
    pub config: Vec<ConfigReport>,
    /// Commands run at the end, and their seconds.
    pub post_commands: Vec<(String, f64)>,
    /// Seconds in all.
    pub seconds: f64,
}

/// One config file patched.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfigReport {
    /// The file.
    pub file: String,
    /// The settings changed or added (names, never values).
    pub settings: Vec<String>,
}

/// Runs `plan`: the database (dump → rewrite → restore, post-SQL, swap), the file copies,
/// the config patches, the post commands, as `options.only` says. `progress` gets a line
/// per step.
///
/// The database goes first: it is the step a fail-closed rule can stop, and in the atomic
/// mode a stop there leaves the whole target as it was.
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
    let wants = |p: Part| options.only.contains(&p);
    let mut report = CloneReport {
        source: plan.source.describe(),
        target: plan.target.describe(),
        mode: mode_name(options.mode),
        database: None,
        files: Vec::new(),
        config: Vec::new(),
        post_commands: Vec::new(),
        seconds: 0.0,
    };
    if let Some(site) = &plan.site {
        let f = &site.facts;
        let mut found = vec![format!("database {}", plan.source.describe())];
        if let Some(p) = &f.prefix {
            found.push(format!("table prefix {p:?}"));
        }
        if let Some(u) = &f.url {
            found.push(format!("address {u}"));
        }
        if let Some(d) = &f.data {
            found.push(format!("data directory {}", d.display()));
        }
        progress(&format!(
            "site: {} at {}; {} says: {}",
            site.kind.name(),
            site.source_root.display(),
            f.file.display(),
            found.join(", ")
        ));
    }
    if wants(Part::Database) {
        let dir = private_dir()?;
        let (source, target) = logins(plan, &dir)?;
        let vars = source_vars(plan, &source, progress)?;
        let engine = build_engine(plan, &vars, options)?;
        report.database = Some(database::copy(
            plan,
            &engine,
            &source,
            &target,
            options.mode,
            progress,
        )?);
    }
    let ssh = &plan.connections;
    let source_files = Host::of(ssh, plan.source_files.as_ref());
    let target_files = Host::of(ssh, plan.target_files.as_ref());
    if wants(Part::Files) {
        for copy in &plan.copies {
            report
                .files
                .push(files::copy(copy, source_files, target_files, progress)?);
        }
    }
    if wants(Part::Config) {
        if let Some(site) = plan.site.as_ref().filter(|s| s.patch_config) {
            let preset = config::Preset {
                kind: site.kind,
                database: &plan.target,
                url: site.target_url.as_deref(),
                data: site.target_data.as_deref(),
            };
            let (file, settings) = config::apply_preset(target_files, &site.target_root, &preset)?;
            progress(&format!(
                "config {}: {}",
                target_files.show(&file),
                settings.join(", ")
            ));
            report.config.push(ConfigReport {
                file: file.display().to_string(),
                settings,
            });
        }
        let root = plan
            .site
            .as_ref()
            .map_or_else(|| std::path::PathBuf::from("."), |s| s.target_root.clone());
        for patch in &plan.configs {
            let file = config::apply_patch(target_files, &root, patch)?;
            progress(&format!("config {}", target_files.show(&file)));
            let mut settings: Vec<String> = patch.set.iter().map(|(n, _)| n.clone()).collect();
            settings.extend(patch.regex.iter().map(|(r, _)| format!("/{}/", r.as_str())));
            report.config.push(ConfigReport {
                file: file.display().to_string(),
                settings,
            });
        }
    }
    if wants(Part::Post) {
        for post in &plan.post_commands {
            let seconds = run_post_command(plan, target_files, post, progress)?;
            report.post_commands.push((post.name.clone(), seconds));
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// The source's and the target's logins: option files in `dir` for local servers, kept in
/// memory for the ones reached over ssh.
pub(crate) fn logins(plan: &Plan, dir: &PrivateDir) -> Result<(Login, Login), Error> {
    let hide = plan.secret_env_names();
    let login = |name: &str, db: &plan::Database| {
        Login::new(
            dir.path(),
            name,
            db,
            &hide,
            db.ssh.as_ref().map(|r| (&plan.connections, r)),
        )
    };
    Ok((
        login("source", &plan.source)?,
        login("target", &plan.target)?,
    ))
}

/// The rules' variables, with the source's site address read from its database where the
/// plan and the config leave it out (WordPress keeps it in the `home` option).
pub(crate) fn source_vars(
    plan: &Plan,
    source: &Login,
    progress: &mut dyn FnMut(&str),
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let mut vars = plan.rewrite.vars.clone();
    let Some(site) = &plan.site else {
        return Ok(vars);
    };
    if site.kind == site::Kind::WordPress && plan.rewrite.rules.is_some() {
        let prefix = vars.get("prefix").cloned().unwrap_or_else(|| "wp_".into());
        let rows = source.query(
            Stage::Check,
            Some(&plan.source.database),
            &format!(
                "SELECT option_value FROM {} WHERE option_name = 'home'",
                database::quote_ident(&format!("{prefix}options"))
            ),
        )?;
        if let Some(home) = rows.into_iter().next().and_then(|mut r| r.drain(..).next()) {
            match vars.get("src_url") {
                Some(given) if given.trim_end_matches('/') != home.trim_end_matches('/') => {
                    return Err(Error::Plan {
                        file: plan.file.clone(),
                        line: None,
                        key: "rewrite.vars.src_url".into(),
                        message: format!("{given:?}, but the source's home option is {home:?}"),
                    });
                }
                Some(_) => {}
                None => {
                    progress(&format!("source address (home option): {home}"));
                    vars.insert("src_url".into(), home);
                }
            }
        }
    }
    Ok(vars)
}

/// Runs a `[[post_command]]` in its directory, without the clone's secrets in its
/// environment; its seconds.
fn run_post_command(
    plan: &Plan,
    host: Host<'_>,
    post: &plan::PostCommand,
    progress: &mut dyn FnMut(&str),
) -> Result<f64, Error> {
    let start = Instant::now();
    progress(&format!("post_command {}", post.name));
    let dir = post
        .dir
        .clone()
        .or_else(|| plan.site.as_ref().map(|s| s.target_root.clone()));
    let out = host
        .run(
            &post.command,
            dir.as_deref(),
            Stage::PostCommand,
            &plan.secret_env_names(),
        )
        .map_err(|e| e.with_note(format!("post command {}", post.name)))?;
    if !out.status.success() {
        let mut all = out.stdout;
        all.extend_from_slice(&out.stderr);
        return Err(Error::Stage {
            stage: Stage::PostCommand,
            message: format!("{} exited with {}", post.name, out.status),
            stderr: child::tail(&all),
        });
    }
    Ok(start.elapsed().as_secs_f64())
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
    let on = |db: &plan::Database| {
        db.ssh
            .as_ref()
            .map(|r| {
                format!(
                    "on {} (over ssh, the option file on its standard input): ",
                    r.describe()
                )
            })
            .unwrap_or_default()
    };
    // A remote side's command is shown as it runs there; nothing connects in a dry run.
    let dump =
        match database::dump_command(&plan.dump, &fake("source"), &plan.source.database, false) {
            Ok(inv) => argv(&inv.cmd).replace(
                "/PRIVATE-DIR/source.cnf",
                if plan.source.ssh.is_some() {
                    "REMOTE-PRIVATE-DIR/client.cnf"
                } else {
                    "/PRIVATE-DIR/source.cnf"
                },
            ),
            Err(e) => e.to_string(),
        };
    let mut restore = fake("target").client();
    restore.args(["--binary-mode", &into]);
    let restore = argv(&restore).replace(
        "/PRIVATE-DIR/target.cnf",
        if plan.target.ssh.is_some() {
            "REMOTE-PRIVATE-DIR/client.cnf"
        } else {
            "/PRIVATE-DIR/target.cnf"
        },
    );
    steps.push(format!(
        "{}{dump} | {rules} | {}{restore}",
        on(&plan.source),
        on(&plan.target)
    ));
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

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Atomic => "atomic",
        Mode::InPlace => "in-place",
    }
}

/// A private directory (mode 0700) for the option files, removed when dropped, and on a
/// signal or panic when the front end has installed [`understudy_stream::cleanup`].
pub(crate) struct PrivateDir(tempfile::TempDir);

impl PrivateDir {
    pub(crate) fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        understudy_stream::cleanup::forget(self.0.path());
    }
}

/// Creates a private directory (mode 0700), registered for removal on a signal.
pub(crate) fn private_dir() -> Result<PrivateDir, Error> {
    let dir = tempfile::Builder::new()
        .prefix("understudy-clone-")
        .tempdir()
        .map_err(|e| {
            Error::stage_failed(
                Stage::Check,
                format!("cannot create a private directory: {e}"),
            )
        })?;
    understudy_stream::cleanup::register(dir.path());
    Ok(PrivateDir(dir))
}

/// The rewrite engine the plan asks for.
pub(crate) fn build_engine(
    plan: &Plan,
    vars: &std::collections::BTreeMap<String, String>,
    options: &Options,
) -> Result<Engine, Error> {
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
        let mut vars: Vec<(String, String)> = vars.clone().into_iter().collect();
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
    engine.allow_missing_tables(plan.rewrite.allow_missing_tables);
    engine.output_is_buffered(true);
    engine.build().map_err(|e| Error::Plan {
        file: plan.file.clone(),
        line: None,
        key: "rewrite".into(),
        message: e.to_string(),
    })
}
