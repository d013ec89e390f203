//! `understudy scan`: arguments to a [`understudy_scan::Scanner`], the report to standard
//! output, problems to the exit code.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::BadArgs;
use understudy_stream::{open_input, Progress, ReadAhead};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The dump to read (plain, .gz or .zst); `-` or nothing reads standard input.
    pub input: Option<PathBuf>,

    /// A rule file: report whether each column is masked, kept, dropped or uncovered, count
    /// the replacements' needles (the production URL), and count what its masks write as
    /// mask output, not as personal data.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Set a rule variable (repeatable), as for `rewrite`: e.g. --var src_url=https://www.example.org.
    /// The masking secret is not needed.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Exit 1 if a personal-looking value sits in a column no mask covers (every column,
    /// without --rules), or a production URL remains where a replacement applies.
    #[arg(long)]
    pub strict: bool,

    /// How to print the report.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,

    /// Threads that run the detectors (default: one per CPU); the report is the same with
    /// any number. Reading and lexing run on threads of their own.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Refuse any single statement or value larger than this many bytes (default 1 GiB).
    #[arg(long, value_name = "BYTES")]
    pub max_value_size: Option<usize>,

    /// No progress on standard error (errors still print).
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub progress: crate::args::ProgressArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// For people: one line per column where something was found.
    Table,
    /// For programs: the whole report, every table and column, stable keys.
    Json,
}

pub fn run(args: ScanArgs) -> Result<()> {
    let mut scanner = understudy_scan::ScannerBuilder::new();
    if let Some(path) = &args.rules {
        // A scan masks nothing, so it asks for no masking secret (see
        // `load_rules_without_secret`).
        let (rules, _) = crate::load_rules_without_secret(path, &args.vars, None)?;
        scanner.rules(Arc::new(rules));
    } else if !args.vars.is_empty() {
        return Err(BadArgs("--var needs --rules".into()).into());
    }
    if let Some(limit) = args.max_value_size {
        scanner.max_token(limit);
    }
    if let Some(n) = args.threads {
        scanner.threads(usize::from(n));
    }
    let scanner = scanner.build().map_err(BadArgs::from_display)?;
    let progress = Progress::new();
    let (input, _) = open_input(args.input.as_deref(), Some(&progress))?;
    let meter = crate::start_meter(progress, args.quiet, &args.progress)?;
    let input = ReadAhead::spawn(input).context("cannot start the reader thread")?;
    let report = scanner.scan(input).map_err(|e| {
        if e.is_io() {
            anyhow::Error::new(e).context("scan stopped")
        } else {
            anyhow::Error::new(BadArgs(e.to_string())).context("scan stopped")
        }
    });
    // Its line is erased before the report or an error is printed.
    drop(meter);
    let report = report?;
    let mut out = std::io::stdout().lock();
    match args.format {
        FormatArg::Table => report.write_table(&mut out),
        FormatArg::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
    }
    .context("cannot write the report")?;
    out.flush().context("cannot write the report")?;
    if args.strict && !report.is_clean() {
        let list: Vec<String> = report.problems.iter().map(|p| format!("  {p}")).collect();
        return Err(BadArgs(format!(
            "--strict: {} problems:\n{}",
            report.problems.len(),
            list.join("\n")
        ))
        .into());
    }
    Ok(())
}
