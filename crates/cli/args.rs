//! Command-line arguments, as the user types them. `config.rs` turns them into checked values.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Faithful, safe copies of production PHP/MySQL sites.
///
/// Understudy reads mysqldump / mariadb-dump output as a stream and rewrites it on the way to
/// another server: URLs and paths moved (inside PHP serialize() data too, with the byte lengths
/// fixed), every byte it does not change left exactly as it was.
///
///   mariadb-dump prod | understudy rewrite --replace https://www.example.org=https://int.example.org | mariadb integration
#[derive(Debug, Parser)]
#[command(name = "understudy", version, about, long_about, max_term_width = 100)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rewrite a dump: stdin to stdout by default.
    ///
    /// Input compressed with gzip or zstd is detected by its first bytes. Output is compressed
    /// when OUTPUT ends in .gz or .zst, or as --compress says. Writing to a file goes through a
    /// temporary file in the same directory, renamed only when the whole dump was written: a
    /// failed run leaves no partial file. Exit status: 0 done, 1 bad input or rules, 2 an I/O
    /// or environment failure (including a closed pipe downstream).
    Rewrite(RewriteArgs),

    /// Work with rule files.
    #[command(subcommand)]
    Rules(RulesCommand),

    /// Scan a dump for what looks personal (e-mail and IP addresses, phone numbers, password
    /// hashes, payment cards, IBANs; inside serialized PHP and JSON too) and for production
    /// URLs, per table and column; with --rules, whether the rules mask each column.
    ///
    /// Meant for the end of the pipe:
    /// `… | understudy rewrite --rules R … | understudy scan --strict --rules R …`.
    /// Exit status: 0 done (clean, or not --strict), 1 problems under --strict or bad input
    /// or rules, 2 an I/O or environment failure.
    Scan(crate::scan::ScanArgs),

    /// Copy a whole site from one plan file: dump → rewrite → restore as one pipe, into a
    /// staging database swapped in only when complete.
    ///
    /// The plan (TOML, see docs/clone.md) names source and target databases (passwords from
    /// ${env:NAME} or a 0600 file, handed to the client tools in a 0600 option file, never on
    /// argv), the rules and their variables, and SQL to run on the copy. No dump file is
    /// written. Exit status: 0 done, 1 a wrong plan, input or rules, 2 a stage that failed
    /// (the error names it and shows the end of its standard error).
    Clone(crate::clone::CloneArgs),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check a rule file: syntax, variables, regexes, lookups, secrets. With --dump, also list
    /// every column of the dump's tables that no rule masks or keeps (exit 1 if any).
    Check(RulesCheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct RulesCheckArgs {
    /// The rule file.
    pub rules: PathBuf,

    /// A dump (plain, .gz or .zst) whose tables and columns to check coverage against.
    #[arg(long, value_name = "DUMP")]
    pub dump: Option<PathBuf>,

    /// Set a rule variable (repeatable), e.g. --var dst_url=https://int.example.org.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read the masking secret from FILE (its first line), which only its owner may read
    /// (chmod 600). Else the secret comes from the environment variable UNDERSTUDY_SECRET; it
    /// is never taken from the command line, where other users can read it.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RewriteArgs {
    /// The dump to read (plain, .gz or .zst); `-` or nothing reads standard input.
    pub input: Option<PathBuf>,

    /// Where to write; `-` or nothing writes standard output.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,

    /// Compress the output: `auto` follows the output file's extension (.gz, .zst).
    #[arg(long, value_enum, default_value_t = CompressArg::Auto)]
    pub compress: CompressArg,

    /// A rule file (TOML): replacements, masks, table actions, appended SQL. See docs/rules.md
    /// and the packs in rules/.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Set a rule variable (repeatable), e.g. --var src_url=https://www.example.org.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read the masking secret from FILE (its first line), which only its owner may read
    /// (chmod 600). Else the secret comes from the environment variable UNDERSTUDY_SECRET; it
    /// is never taken from the command line, where other users can read it.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,

    /// Read and process the whole dump, write nothing; print the summary.
    #[arg(long)]
    pub dry_run: bool,

    /// Write a JSON report: per table and column, rows seen and dropped, values replaced per
    /// rule, values masked per mask, corrupt serialized values.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// Replace OLD with NEW in every string value of every table (split at the first `=`).
    /// Repeatable; applied in the order given. Serialized PHP is rewritten with its s:N:
    /// byte lengths fixed, nested too; `0x…` and `_binary '…'` values are decoded, rewritten
    /// and written back in the same form; the JSON-escaped form (`https:\/\/…`) is
    /// replaced as well.
    #[arg(long = "replace", value_name = "OLD=NEW")]
    pub replace: Vec<String>,

    /// How values that look like PHP serialize() output are treated: `auto` parses them and
    /// fixes lengths (a value that does not parse gets a plain replace and a warning), `off`
    /// replaces bytes like sed, `repair` also recomputes wrong lengths left by earlier sed runs.
    #[arg(long, value_enum, default_value_t = SerializedArg::Auto)]
    pub serialized: SerializedArg,

    /// Stop with an error at a value that looks serialized but does not parse.
    #[arg(long)]
    pub strict: bool,

    /// Rewrite a dump that begins with mysqldump's header but lacks its `-- Dump completed`
    /// trailer (a dump cut short). Without it such a dump is an error.
    #[arg(long)]
    pub allow_incomplete: bool,

    /// Accept a dump that lacks every table some mask of the rules names (a dump of some
    /// tables only). Without it such a run fails: a wrong table prefix makes masks meet
    /// nothing, and the data they are for would pass unmasked.
    #[arg(long)]
    pub allow_missing_tables: bool,

    /// No progress, no summary and no warnings on standard error (errors still print;
    /// warnings are in --report).
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub progress: ProgressArgs,

    /// Refuse any single statement or value larger than this many bytes (default 1 GiB,
    /// MariaDB's largest max_allowed_packet).
    #[arg(long, value_name = "BYTES")]
    pub max_value_size: Option<usize>,

    /// Threads that lex and rewrite batches of statements (default: one per CPU). The
    /// output is the same byte for byte with any number; 1 runs everything on one thread,
    /// and so does a run with neither rules nor --replace, which only checks the dump.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Size of the batches the parallel rewrite cuts the dump into (for tests).
    #[arg(long, value_name = "BYTES", hide = true)]
    pub batch_size: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompressArg {
    /// By the output file's extension; none for standard output.
    Auto,
    /// No compression.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SerializedArg {
    /// Parse serialized values and fix their lengths.
    Auto,
    /// Plain byte replacement everywhere.
    Off,
    /// Like auto, and repair values whose lengths are already wrong.
    Repair,
}

/// When progress is shown. Without either flag: on standard error when it is a terminal.
#[derive(Debug, clap::Args)]
pub struct ProgressArgs {
    /// Show progress (bytes read, rows, throughput, elapsed time) even when standard error
    /// is not a terminal: a line every 5 seconds, for CI logs.
    #[arg(long, conflicts_with = "quiet")]
    pub progress: bool,

    /// Seconds between progress lines (for tests).
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub progress_interval: Option<f64>,
}
