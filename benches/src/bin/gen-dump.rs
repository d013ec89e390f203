//! Writes a seeded, WordPress-shaped mariadb-dump to standard output.
//!
//! ```text
//! gen-dump --size 100M --seed 1 > dump.sql
//! ```

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use understudy_benches::{parse_size, DumpGenerator};

const USAGE: &str = "usage: gen-dump --size SIZE [--seed N] > dump.sql

Writes a WordPress-shaped mariadb-dump of at least SIZE bytes (K, M, G: powers of 1024),
ending at the first row boundary after SIZE. The same SIZE and seed (default 1) always give
the same bytes.";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("gen-dump: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut size = None;
    let mut seed = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        match flag.as_str() {
            "--size" | "-s" => size = Some(parse_size(&value()?)?),
            "--seed" => {
                let v = value()?;
                seed = v.parse().map_err(|_| format!("not a seed: {v:?}"))?;
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    let size = size.ok_or_else(|| format!("--size is required\n\n{USAGE}"))?;
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, stdout);
    let stats = DumpGenerator::new(size)
        .seed(seed)
        .write_to(&mut out)
        .and_then(|stats| out.flush().map(|()| stats))
        .map_err(|e| format!("writing the dump failed: {e}"))?;
    eprintln!(
        "gen-dump: {} bytes, {} INSERT statements, {} rows, {} values (seed {seed})",
        stats.bytes, stats.inserts, stats.rows, stats.values
    );
    Ok(())
}
