//! The `understudy` binary: parses arguments, builds a checked configuration, calls one library
//! entry point and maps the outcome to an exit code. Everything else lives in the crates.

mod args;
mod exit;
mod io;

use std::process;

use anyhow::{Context, Result};
use clap::Parser;

use crate::args::{Args, Command, CompressArg, RewriteArgs, SerializedArg};
use crate::exit::ExitCode;
use crate::io::{codec_for_path, open_input, Codec, Output};

fn main() {
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
    }
}

fn run_rewrite(args: RewriteArgs) -> Result<()> {
    let mut engine = understudy_engine::EngineBuilder::new();
    if let Some(limit) = args.max_value_size {
        engine.max_token(limit);
    }
    for (from, to) in replace_pairs(&args.replace)? {
        engine.replace(&from, &to);
    }
    engine.serialized(match args.serialized {
        SerializedArg::Auto => understudy_engine::SerializedMode::Auto,
        SerializedArg::Off => understudy_engine::SerializedMode::Off,
        SerializedArg::Repair => understudy_engine::SerializedMode::Repair,
    });
    engine.strict(args.strict);
    let engine = engine.build().map_err(BadArgs::from_display)?;
    let codec = match (args.compress, args.output.as_deref()) {
        (CompressArg::Auto, Some(path)) => codec_for_path(path),
        (CompressArg::Auto, None) | (CompressArg::None, _) => Codec::None,
        (CompressArg::Gzip, _) => Codec::Gzip,
        (CompressArg::Zstd, _) => Codec::Zstd,
    };
    let (input, _) = open_input(args.input.as_deref())?;
    let mut output = Output::create(args.output.as_deref(), codec)?;
    let report = engine
        .run(input, &mut output)
        .context("rewrite stopped; no complete output was produced")?;
    output.finish()?;
    for warning in &report.warnings {
        eprintln!("understudy: warning: {warning}");
    }
    if !args.replace.is_empty() {
        eprintln!(
            "understudy: {} rows, {} values replaced ({} as serialized PHP), {} warnings",
            report.rows,
            report.values_replaced,
            report.serialized_rewritten,
            report.warnings.len()
        );
    }
    Ok(())
}

/// `OLD=NEW` pairs, each followed by its JSON-escaped form (`/` as `\/`) when that differs,
/// so `https:\/\/old.example` inside JSON moves too.
fn replace_pairs(args: &[String]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut pairs = Vec::new();
    for arg in args {
        let Some((from, to)) = arg.split_once('=') else {
            return Err(BadArgs(format!("--replace {arg:?}: expected OLD=NEW")).into());
        };
        if from.is_empty() {
            return Err(BadArgs(format!("--replace {arg:?}: OLD is empty")).into());
        }
        pairs.push((from.as_bytes().to_vec(), to.as_bytes().to_vec()));
        let json = |s: &str| s.replace('/', "\\/").into_bytes();
        if from.contains('/') || to.contains('/') {
            pairs.push((json(from), json(to)));
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
        if let Some(engine) = cause.downcast_ref::<understudy_engine::Error>() {
            // Input that cannot be read to its end (corrupt, truncated or undecodable) is bad
            // input; failing to write is the environment's.
            return match engine {
                understudy_engine::Error::Input(_) | understudy_engine::Error::Value { .. } => {
                    ExitCode::BadInput
                }
                _ => ExitCode::Environment,
            };
        }
    }
    ExitCode::Environment
}
