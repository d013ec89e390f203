//! The `understudy` binary: parses arguments, builds a checked configuration, calls one library
//! entry point and maps the outcome to an exit code. Everything else lives in the crates.

// The doc comments of `args.rs` are the `--help` text, where URLs and `[name]` (a TOML
// table) are plain text, not links.
#![allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]

mod args;
mod clone;
mod exit;
mod generate;
mod manual;
mod memory;
mod report;
mod scan;
mod vars;

use std::io::Write as _;
use std::process;

use anyhow::{Context, Result};
use clap::Parser;
use understudy_engine::OnFailure;

use std::sync::Arc;

use crate::args::{
    Args, Command, CompressArg, RewriteArgs, RulesCheckArgs, RulesCommand, SerializedArg,
};
use crate::exit::ExitCode;
use understudy_stream::{
    cleanup, codec_for_path, open_input, Codec, Meter, MeterStyle, Output, Progress,
};

fn main() {
    memory::keep_flat();
    let args = match Args::try_parse() {
        Ok(args) => args,
        // `--help` and `--version` are not errors. A usage error exits 1 like any other
        // argument that cannot work (clap's own convention is 2, which here means the
        // environment failed).
        Err(err) => {
            let _ = err.print();
            process::exit(if err.use_stderr() {
                ExitCode::BadInput
            } else {
                ExitCode::Success
            } as i32);
        }
    };
    let code = match run(args) {
        Ok(()) => ExitCode::Success,
        Err(err) => {
            eprintln!("understudy: {err:#}");
            classify(&err)
        }
    };
    process::exit(code as i32);
}

fn run(args: Args) -> Result<()> {
    match args.command {
        Command::Rewrite(rewrite) => run_rewrite(rewrite),
        Command::Rules(RulesCommand::Check(check)) => run_rules_check(check),
        Command::Scan(scan) => scan::run(scan),
        Command::Clone(clone) => clone::run(clone),
        Command::Generate(generate) => generate::run(generate),
        Command::Rules(RulesCommand::Vars(vars)) => vars::run(vars),
        Command::Completions(shell) => manual::completions(shell),
        Command::Man(man) => manual::man(man),
    }
}

fn run_rewrite(args: RewriteArgs) -> Result<()> {
    let started = std::time::Instant::now();
    cleanup::install()?;
    check_paths(&args)?;
    let progress = Progress::new();
    let mut engine = understudy_engine::EngineBuilder::new();
    if let Some(limit) = args.max_value_size {
        engine.max_token(limit);
    }
    for arg in &args.replace {
        engine
            .replace_arg(arg)
            .map_err(|e| BadArgs(format!("--replace {e}")))?;
    }
    engine.replace_scope(
        understudy_rules::ReplaceScope::new(
            &args.skip_tables,
            &args.skip_columns,
            &args.include_columns,
        )
        .map_err(BadArgs)?,
    );
    engine.serialized(match args.serialized {
        SerializedArg::Auto => understudy_engine::SerializedMode::Auto,
        SerializedArg::Off => understudy_engine::SerializedMode::Off,
        SerializedArg::Repair => understudy_engine::SerializedMode::Repair,
    });
    engine.strict(args.strict);
    engine.allow_incomplete(args.allow_incomplete);
    engine.allow_missing_tables(args.allow_missing_tables);
    engine.threads(match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    if let Some(bytes) = args.batch_size {
        engine.batch_size(bytes);
    }
    engine.progress(Arc::clone(&progress));
    if let Some(path) = &args.rules {
        // Replacements that moved nothing are among the report's warnings; one that must
        // move stops the engine's build, which says so.
        let rules = load_rules(path, &args.vars, args.secret_file.as_deref())?;
        engine.rules(Arc::new(rules));
    } else if !args.vars.is_empty() {
        return Err(BadArgs("--var needs --rules".into()).into());
    }
    // The writer thread buffers (and `--dry-run`'s sink costs nothing).
    engine.output_is_buffered(true);
    let engine = engine.build().map_err(BadArgs::from_display)?;
    let codec = match (args.compress, args.output.as_deref()) {
        (CompressArg::Auto, Some(path)) => codec_for_path(path),
        (CompressArg::Auto, None) | (CompressArg::None, _) => Codec::None,
        (CompressArg::Gzip, _) => Codec::Gzip,
        (CompressArg::Zstd, _) => Codec::Zstd,
    };
    let (input, _) = open_input(args.input.as_deref(), Some(&progress))?;
    // Dropped on every way out of this function, which erases its line first.
    let _meter = start_meter(progress, args.quiet, &args.progress)?;
    let report = if args.dry_run {
        let (report, _) = engine
            .run_piped(input, std::io::sink(), OnFailure::Discard)
            .context("rewrite stopped")?;
        report
    } else {
        let output = Output::create(args.output.as_deref(), codec)?;
        // What was streamed may already be in a restore: a failure must make it fail too.
        // A file output is removed when dropped unfinished.
        let on_failure = if output.is_stream() {
            OnFailure::Mark
        } else {
            OnFailure::Discard
        };
        let (report, output) = engine
            .run_piped(input, output, on_failure)
            .context("rewrite stopped; no complete output was produced")?;
        output.finish().context("cannot write output")?;
        report
    };
    drop(_meter);
    if !args.quiet {
        // Buffered: a dump with broken serialized data has warnings by the million, and
        // one write each took longer than the rewrite.
        let mut err = std::io::BufWriter::new(std::io::stderr().lock());
        for warning in report.warnings.iter() {
            let warning = warning.context("cannot read the run's warnings back from disk")?;
            let _ = writeln!(err, "understudy: warning: {warning}");
        }
        let _ = err.flush();
    }
    if let Some(path) = &args.report {
        report::write(path, &report)?;
    }
    if !args.quiet && (!args.replace.is_empty() || args.rules.is_some() || args.dry_run) {
        eprintln!("understudy: {}", summary(&report, started.elapsed()));
    }
    Ok(())
}

/// The closing line: how long, how fast, how much, and what was changed.
fn summary(report: &understudy_engine::Report, elapsed: std::time::Duration) -> String {
    use understudy_stream::{bytes, rate, thousands};
    let secs = elapsed.as_secs_f64();
    let plural = |n: usize, one: &str, many: &str| {
        format!(
            "{} {}",
            thousands(n as u64),
            if n == 1 { one } else { many }
        )
    };
    format!(
        "done in {secs:.1} s ({}/s): {} read, {} written; {} ({} dropped), {} replaced \
         ({} inside serialized PHP), {} masked, {}",
        bytes(rate(report.bytes_in, secs)),
        bytes(report.bytes_in),
        bytes(report.bytes_out),
        plural(report.rows as usize, "row", "rows"),
        thousands(report.rows_dropped),
        plural(report.values_replaced as usize, "value", "values"),
        thousands(report.serialized_rewritten),
        thousands(report.values_masked),
        plural(report.warnings.len(), "warning", "warnings"),
    )
}

/// A meter on standard error for `progress`, or none: `-q` shows none, `--progress` one
/// anywhere, and otherwise only a terminal gets one (a log would fill with them).
pub(crate) fn start_meter(
    progress: Arc<Progress>,
    quiet: bool,
    args: &crate::args::ProgressArgs,
) -> Result<Option<Meter>> {
    use std::io::IsTerminal;
    let style = if quiet {
        return Ok(None);
    } else if std::io::stderr().is_terminal() {
        MeterStyle::Redrawn
    } else if args.progress {
        MeterStyle::Lines
    } else {
        return Ok(None);
    };
    let every = match (args.progress_interval, style) {
        (Some(s), _) if s.is_finite() && s > 0.0 => std::time::Duration::from_secs_f64(s),
        (Some(_), _) => {
            return Err(BadArgs("--progress-interval: expected seconds > 0".into()).into())
        }
        (None, MeterStyle::Redrawn) => std::time::Duration::from_millis(250),
        (None, MeterStyle::Lines) => std::time::Duration::from_secs(5),
    };
    let meter = Meter::start(progress, style, every).context("cannot start the progress thread")?;
    Ok(Some(meter))
}

/// Refuses output and report paths that cannot be written, before any input is read: found
/// at the end, they would cost the whole run (5 s a gigabyte) for nothing.
fn check_paths(args: &RewriteArgs) -> Result<()> {
    if !args.dry_run {
        if let Some(out) = args
            .output
            .as_deref()
            .filter(|p| *p != std::path::Path::new("-"))
        {
            // A device or named pipe (`/dev/null`, a fifo into a restore) is written as it is.
            if !std::fs::metadata(out).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
                writable(out, "output")?;
            }
        }
    }
    if let Some(report) = &args.report {
        writable(report, "report")?;
    }
    Ok(())
}

/// Whether a file can be written at `path` (`what` names it in the error): not a
/// directory, in a directory that exists. An I/O failure, so it exits 2.
pub(crate) fn writable(path: &std::path::Path, what: &str) -> Result<()> {
    if path.is_dir() {
        return Err(anyhow::anyhow!("{what} {} is a directory", path.display()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(anyhow::anyhow!(
            "{what} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        ));
    }
    Ok(())
}

/// `NAME=VALUE` pairs from `--var`. A malformed one is named by its place, never shown: it
/// may be a secret typed without its name.
fn parse_vars(vars: &[String]) -> Result<Vec<(String, String)>> {
    vars.iter()
        .enumerate()
        .map(|(i, v)| match v.split_once('=') {
            Some(("secret", _)) => Err(BadArgs(
                "--var secret=…: the masking secret is not taken from the command line, where \
                 every user can read it (/proc/PID/cmdline); set UNDERSTUDY_SECRET or pass \
                 --secret-file FILE"
                    .into(),
            )
            .into()),
            Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
            _ => Err(BadArgs(format!(
                "--var number {}: expected NAME=VALUE (the value is not shown)",
                i + 1
            ))
            .into()),
        })
        .collect()
}

fn load_rules(
    path: &std::path::Path,
    vars: &[String],
    secret_file: Option<&std::path::Path>,
) -> Result<understudy_rules::CompiledRules> {
    let mut overrides = parse_vars(vars)?;
    if let Some(file) = secret_file {
        overrides.push(("secret".into(), understudy_rules::read_secret_file(file)?));
    }
    Ok(understudy_rules::Rules::from_path(path, &overrides)?)
}

/// Rules for a command that masks nothing (`rules check`, `scan`): when they need a masking
/// secret and none was given, a stand-in lets their masks compile (what a mask writes does
/// not depend on the key). Returns whether the stand-in was used.
pub(crate) fn load_rules_without_secret(
    path: &std::path::Path,
    vars: &[String],
    secret_file: Option<&std::path::Path>,
) -> Result<(understudy_rules::CompiledRules, bool)> {
    let mut overrides = parse_vars(vars)?;
    if let Some(file) = secret_file {
        overrides.push(("secret".into(), understudy_rules::read_secret_file(file)?));
    }
    match understudy_rules::Rules::from_path(path, &overrides) {
        Err(e)
            if e.kind() == understudy_rules::ErrorKind::MissingSecret && secret_file.is_none() =>
        {
            overrides.push(("secret".into(), "understudy-stand-in-secret".into()));
            let rules = understudy_rules::Rules::from_path(path, &overrides)?;
            Ok((rules, true))
        }
        other => Ok((other?, false)),
    }
}

fn run_rules_check(args: RulesCheckArgs) -> Result<()> {
    let (rules, stand_in) =
        load_rules_without_secret(&args.rules, &args.vars, args.secret_file.as_deref())?;
    println!("{}: ok", args.rules.display());
    if stand_in {
        println!(
            "note: a rewrite with these rules needs the masking secret: set UNDERSTUDY_SECRET \
             or pass --secret-file FILE"
        );
    }
    for dropped in rules.dropped_replacements() {
        println!("note: {dropped}");
    }
    let Some(dump) = &args.dump else {
        return Ok(());
    };
    let (input, _) = open_input(Some(dump), None)?;
    let understudy_engine::Coverage {
        tables, uncovered, ..
    } = understudy_engine::coverage(&rules, std::io::BufReader::new(input))
        .with_context(|| format!("cannot read {}", dump.display()))?;
    if uncovered.is_empty() {
        println!("every column of the dump's {tables} tables is masked, kept or dropped");
        return Ok(());
    }
    println!(
        "columns no rule masks or keeps ({} of the dump's {tables} tables' columns):",
        uncovered.len()
    );
    for column in &uncovered {
        println!("  {column}");
    }
    Err(BadArgs(format!("{} uncovered columns", uncovered.len())).into())
}

/// Arguments that cannot work; exits 1 like bad input.
#[derive(Debug)]
struct BadArgs(String);

impl BadArgs {
    fn from_display(e: impl std::fmt::Display) -> anyhow::Error {
        BadArgs(e.to_string()).into()
    }
}

impl std::fmt::Display for BadArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadArgs {}

/// What the user gave is wrong (arguments, rules, plan, the dump's content) exits 1; a
/// file that cannot be opened, read or written, and every other failure of the
/// environment, exits 2. See [`ExitCode`] and README's table.
fn classify(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.downcast_ref::<BadArgs>().is_some() {
            return ExitCode::BadInput;
        }
        if let Some(rules) = cause.downcast_ref::<understudy_rules::RulesError>() {
            return rules_exit(rules);
        }
        if let Some(clone) = cause.downcast_ref::<understudy_clone::Error>() {
            match clone {
                // Its source, the engine's error, says which.
                understudy_clone::Error::Rewrite(_) => continue,
                understudy_clone::Error::Rules(rules) => return rules_exit(rules),
                understudy_clone::Error::Plan { .. } => return ExitCode::BadInput,
                _ => return ExitCode::Environment,
            }
        }
        if cause.downcast_ref::<understudy_sqldump::Error>().is_some() {
            return ExitCode::BadInput;
        }
        if let Some(engine) = cause.downcast_ref::<understudy_engine::Error>() {
            // Input that cannot be read to its end (corrupt, truncated or undecodable) is bad
            // input; failing to write is the environment's.
            return match engine.kind() {
                understudy_engine::ErrorKind::OutputIo
                | understudy_engine::ErrorKind::Environment => ExitCode::Environment,
                _ => ExitCode::BadInput,
            };
        }
    }
    ExitCode::Environment
}

/// A rule or secret file that cannot be read is the environment's; one that is wrong
/// (including a secret file others may read) is the user's.
fn rules_exit(err: &understudy_rules::RulesError) -> ExitCode {
    match err.kind() {
        understudy_rules::ErrorKind::Io => ExitCode::Environment,
        _ => ExitCode::BadInput,
    }
}
