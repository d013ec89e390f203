//! The `understudy` binary: parses arguments, builds a checked configuration, calls one library
//! entry point and maps the outcome to an exit code. Everything else lives in the crates.

mod args;
mod exit;
mod io;

use std::process;

use anyhow::{Context, Result};
use clap::Parser;

use crate::args::{Args, Command, CompressArg, RewriteArgs};
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
    let engine = engine.build();
    let codec = match (args.compress, args.output.as_deref()) {
        (CompressArg::Auto, Some(path)) => codec_for_path(path),
        (CompressArg::Auto, None) | (CompressArg::None, _) => Codec::None,
        (CompressArg::Gzip, _) => Codec::Gzip,
        (CompressArg::Zstd, _) => Codec::Zstd,
    };
    let (input, _) = open_input(args.input.as_deref())?;
    let mut output = Output::create(args.output.as_deref(), codec)?;
    engine
        .run(input, &mut output)
        .context("rewrite stopped; no complete output was produced")?;
    output.finish()
}

/// Bad input and rules exit 1; I/O and the environment exit 2.
fn classify(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if let Some(engine) = cause.downcast_ref::<understudy_engine::Error>() {
            // Input that cannot be read to its end (corrupt, truncated or undecodable) is bad
            // input; failing to write is the environment's.
            return match engine {
                understudy_engine::Error::Input(_) => ExitCode::BadInput,
                _ => ExitCode::Environment,
            };
        }
    }
    ExitCode::Environment
}
