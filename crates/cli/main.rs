//! The `understudy` binary: parses arguments, builds a checked configuration, calls one library
//! entry point and maps the outcome to an exit code. Everything else lives in the crates.

// The doc comments of `args.rs` are the `--help` text, where URLs are plain text.
#![allow(rustdoc::bare_urls)]

mod args;
mod cleanup;
mod exit;
mod io;
mod memory;
mod scan;
mod threaded;

use std::io::Write;
use std::process;

use anyhow::{Context, Result};
use clap::Parser;
use understudy_engine::Boundary;

use std::sync::Arc;

use crate::args::{
    Args, Command, CompressArg, RewriteArgs, RulesCheckArgs, RulesCommand, SerializedArg,
};
use crate::exit::ExitCode;
use crate::io::{codec_for_path, open_input, Codec, Output};
use crate::threaded::{ReadAhead, WriteBehind};

fn main() {
    memory::keep_flat();
    let args = Args::parse();
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
    }
}

fn run_rewrite(args: RewriteArgs) -> Result<()> {
    cleanup::install()?;
    check_paths(&args)?;
    let mut engine = understudy_engine::EngineBuilder::new();
    if let Some(limit) = args.max_value_size {
        engine.max_token(limit);
    }
    for (from, to, boundary) in replace_pairs(&args.replace)? {
        engine.replace_bounded(&from, &to, boundary);
    }
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
    if let Some(path) = &args.rules {
        let rules = load_rules(path, &args.vars, args.secret_file.as_deref())?;
        // One that must move stops the engine's build, which says so.
        for dropped in rules.dropped_replacements() {
            if dropped.must_move.is_none() {
                eprintln!("understudy: {dropped}");
            }
        }
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
    let (input, _) = open_input(args.input.as_deref(), !args.quiet)?;
    let input = ReadAhead::spawn(input).context("cannot start the reader thread")?;
    let report = if args.dry_run {
        engine
            .run(input, std::io::sink())
            .context("rewrite stopped")?
    } else {
        let output = Output::create(args.output.as_deref(), codec)?;
        let stream = output.is_stream();
        let mut behind = WriteBehind::spawn(output).context("cannot start the writer thread")?;
        match engine.run(input, &mut behind) {
            Ok(report) => {
                behind.finish().context("cannot write output")?.finish()?;
                report
            }
            Err(err) => {
                if stream {
                    // What was streamed so far may already be in a restore. End it with a
                    // statement that cannot run, so the restore fails too instead of
                    // leaving a silently partial copy.
                    let _ = behind.write_all(INCOMPLETE_MARKER);
                    if let Ok(output) = behind.finish() {
                        let _ = output.finish();
                    }
                } else {
                    // Waits for the writer thread, which then drops the unfinished output
                    // file (removing it) before the process exits.
                    drop(behind.finish());
                }
                return Err(err).context("rewrite stopped; no complete output was produced");
            }
        }
    };
    for warning in &report.warnings {
        eprintln!("understudy: warning: {warning}");
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report).context("cannot encode the report")?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !args.quiet && (!args.replace.is_empty() || args.rules.is_some() || args.dry_run) {
        eprintln!(
            "understudy: {} rows ({} dropped), {} values replaced ({} inside serialized PHP), {} masked, {} warnings",
            report.rows,
            report.rows_dropped,
            report.values_replaced,
            report.serialized_rewritten,
            report.values_masked,
            report.warnings.len()
        );
    }
    Ok(())
}

/// Refuses output and report paths that cannot be written, before any input is read: found
/// at the end, they would cost the whole run (5 s a gigabyte) for nothing.
fn check_paths(args: &RewriteArgs) -> Result<()> {
    let writable = |path: &std::path::Path, what: &str| -> Result<()> {
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
    };
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

/// Written after a failed rewrite to standard output: whatever token it follows, it is not
/// valid SQL, so a `mariadb` client restoring the stream stops with an error.
const INCOMPLETE_MARKER: &[u8] =
    b"\n-- understudy: the rewrite failed; this dump is incomplete\nUNDERSTUDY REWRITE FAILED;\n";

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
        overrides.push(("secret".into(), read_secret_file(file)?));
    }
    understudy_rules::Rules::from_path(path, &overrides).map_err(BadArgs::from_display)
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
        overrides.push(("secret".into(), read_secret_file(file)?));
    }
    match understudy_rules::Rules::from_path(path, &overrides) {
        Err(e)
            if e.kind() == understudy_rules::ErrorKind::MissingSecret && secret_file.is_none() =>
        {
            overrides.push(("secret".into(), "understudy-stand-in-secret".into()));
            let rules = understudy_rules::Rules::from_path(path, &overrides)
                .map_err(BadArgs::from_display)?;
            Ok((rules, true))
        }
        other => Ok((other.map_err(BadArgs::from_display)?, false)),
    }
}

/// The masking secret from `--secret-file`: the file's first line, from a file no one but
/// its owner can read or write.
fn read_secret_file(path: &std::path::Path) -> Result<String> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the secret file {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .with_context(|| format!("cannot read the secret file {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(BadArgs(format!(
                "the secret file {} may be read or written by others (mode {:04o}): \
                 chmod 600 it",
                path.display(),
                mode & 0o7777
            ))
            .into());
        }
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::BufReader::new(file), &mut text).with_context(
        || {
            format!(
                "cannot read the secret file {} (UTF-8 text)",
                path.display()
            )
        },
    )?;
    let secret = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if secret.is_empty() {
        return Err(BadArgs(format!("the secret file {} is empty", path.display())).into());
    }
    Ok(secret.to_owned())
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
    let (input, _) = open_input(Some(dump), false)?;
    let mut reader = understudy_sqldump::DumpReader::new(input);
    let mut uncovered = Vec::new();
    let mut tables = 0;
    loop {
        let delimiter_len = reader.lexer().delimiter().len();
        let item = reader
            .next_token()
            .with_context(|| format!("cannot read {}", dump.display()))?;
        let Some(item) = item else { break };
        if let understudy_sqldump::Token::CreateTable { .. } = item.token {
            let delimiter = &item.bytes[item.bytes.len().saturating_sub(delimiter_len)..];
            let schema = understudy_sqldump::schema::parse_create_table(item.bytes, delimiter)
                .map_err(BadArgs::from_display)?;
            tables += 1;
            for column in &schema.columns {
                if !rules.is_covered(&schema.name, &column.name) {
                    uncovered.push(format!("{}.{}", schema.name, column.name));
                }
            }
        }
    }
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

/// A `--replace`: needle, replacement, and where the needle may match.
type ReplacePair = (Vec<u8>, Vec<u8>, Boundary);

/// `OLD=NEW` pairs, each followed by its JSON-escaped form (`/` as `\/`) when that differs,
/// so `https:\/\/old.example` inside JSON moves too; both keep to where OLD's host or path
/// ends.
fn replace_pairs(args: &[String]) -> Result<Vec<ReplacePair>> {
    let mut pairs = Vec::new();
    for arg in args {
        let Some((from, to)) = arg.split_once('=') else {
            return Err(BadArgs(format!("--replace {arg:?}: expected OLD=NEW")).into());
        };
        if from.is_empty() {
            return Err(BadArgs(format!("--replace {arg:?}: OLD is empty")).into());
        }
        let boundary = Boundary::of_source(from.as_bytes());
        pairs.push((
            from.as_bytes().to_vec(),
            to.as_bytes().to_vec(),
            boundary.clone(),
        ));
        let json = |s: &str| s.replace('/', "\\/").into_bytes();
        if from.contains('/') || to.contains('/') {
            pairs.push((json(from), json(to), boundary));
        }
    }
    Ok(pairs)
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

/// Bad input and rules exit 1; I/O and the environment exit 2.
fn classify(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.downcast_ref::<BadArgs>().is_some() {
            return ExitCode::BadInput;
        }
        if cause.downcast_ref::<understudy_sqldump::Error>().is_some() {
            return ExitCode::BadInput;
        }
        if let Some(engine) = cause.downcast_ref::<understudy_engine::Error>() {
            // Input that cannot be read to its end (corrupt, truncated or undecodable) is bad
            // input; failing to write is the environment's.
            return match engine.kind() {
                understudy_engine::ErrorKind::OutputIo => ExitCode::Environment,
                _ => ExitCode::BadInput,
            };
        }
    }
    ExitCode::Environment
}
