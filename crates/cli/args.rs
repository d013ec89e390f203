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
#[command(
    name = "understudy",
    version,
    about,
    long_about,
    max_term_width = 100,
    after_long_help = EXAMPLES_MAIN
)]
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
    /// failed run leaves no partial file. Exit status: 0 done; 1 what you gave is wrong (usage,
    /// rules, a dump that is not one or does not fit them); 2 a file that cannot be opened,
    /// read or written, or a closed pipe downstream.
    #[command(after_long_help = EXAMPLES_REWRITE)]
    Rewrite(RewriteArgs),

    /// Work with rule files.
    #[command(subcommand, after_long_help = EXAMPLES_RULES)]
    Rules(RulesCommand),

    /// Scan a dump for what looks personal (e-mail and IP addresses, phone numbers, password
    /// hashes, payment cards, IBANs; inside serialized PHP and JSON too) and for production
    /// URLs, per table and column; with --rules, whether the rules mask each column.
    ///
    /// Meant for the end of the pipe:
    /// `… | understudy rewrite --rules R … | understudy scan --strict --rules R …`.
    /// Exit status: 0 done (clean, or not --strict); 1 problems under --strict, or what you
    /// gave is wrong (usage, rules, input); 2 a file that cannot be opened or read.
    #[command(after_long_help = EXAMPLES_SCAN)]
    Scan(crate::scan::ScanArgs),

    /// Copy a whole site from one plan file: dump → rewrite → restore as one pipe, into a
    /// staging database swapped in only when complete.
    ///
    /// The plan (TOML, described in Understudy's documentation) names source and target
    /// databases (passwords from ${env:NAME} or a 0600 file, handed to the client tools in a
    /// 0600 option file, never on argv), the rules and their variables, and SQL to run on the
    /// copy. No dump file is written. Exit status: 0 done; 1 what you gave is wrong (usage, the
    /// plan, the rules, problems --check found, a rewrite the rules stopped); 2 a file that
    /// cannot be opened or written, or a stage that failed (the error names it and shows the
    /// end of its standard error).
    #[command(after_long_help = EXAMPLES_CLONE)]
    Clone(crate::clone::CloneArgs),

    /// Write a seeded, realistic dump of a WordPress, Elgg or Drupal site, as mariadb-dump
    /// writes it, in the shape asked for: for benchmarks of rewrites, restores and pipelines.
    ///
    /// The shapes are those real dumps come in: a few big tables, thousands of small ones
    /// (multisite), one row per INSERT, serialized-PHP dense, hex blobs, or all of them. The
    /// same settings and seed always give the same bytes; the dump always loads. Exit
    /// status: 0 done; 1 settings that do not go together (usage, --tables beyond what the
    /// size holds); 2 an output that cannot be written, or a closed pipe downstream.
    #[command(after_long_help = EXAMPLES_GENERATE)]
    Generate(crate::generate::GenerateArgs),

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard
    /// output.
    #[command(after_long_help = EXAMPLES_COMPLETIONS)]
    Completions(crate::manual::CompletionsArgs),

    /// Print the manual page (roff) to standard output, or write one page per command into
    /// a directory.
    #[command(after_long_help = EXAMPLES_MAN)]
    Man(crate::manual::ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check a rule file: syntax, variables, regexes, lookups, secrets. With --dump, also list
    /// every column of the dump's tables that no rule masks or keeps (exit 1 if any).
    #[command(after_long_help = EXAMPLES_RULES_CHECK)]
    Check(RulesCheckArgs),

    /// List a rule file's variables: name, default and meaning (from its [vars_help]), so
    /// you see what to pass with --var.
    #[command(after_long_help = EXAMPLES_RULES_VARS)]
    Vars(RulesVarsArgs),
}

#[derive(Debug, clap::Args)]
pub struct RulesVarsArgs {
    /// The rule file (a pack such as wordpress.toml, or your own).
    pub rules: PathBuf,
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

    /// A rule file (TOML): replacements, masks, table actions, appended SQL. Understudy's
    /// documentation describes the format and its packs (WordPress, Elgg, Drupal);
    /// `understudy rules vars FILE` lists a file's variables.
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

    /// Write a report: per table and column, rows seen and dropped, values replaced per rule,
    /// values masked per mask (and NULL or empty values a mask left alone), corrupt serialized
    /// values with their offsets. FILE.html is a page for a browser (self-contained); any
    /// other name gets JSON.
    #[arg(long, value_name = "FILE.json|FILE.html")]
    pub report: Option<PathBuf>,

    /// Replace OLD with NEW in every string value of every table (split at the first `=`).
    /// Repeatable; applied in the order given. Serialized PHP is rewritten with its s:N:
    /// byte lengths fixed, nested too; `0x…` and `_binary '…'` values are decoded, rewritten
    /// and written back in the same form; the JSON-escaped form (`https:\/\/…`) is
    /// replaced as well.
    #[arg(long = "replace", value_name = "OLD=NEW")]
    pub replace: Vec<String>,

    /// Leave these tables alone in the --replace pairs (comma-separated or repeated; globs:
    /// `wp_*_logs`), as wp search-replace --skip-tables. A rule file's [[replace]] has
    /// `skip_tables` of its own.
    #[arg(
        long,
        value_name = "TABLES",
        value_delimiter = ',',
        requires = "replace"
    )]
    pub skip_tables: Vec<String>,

    /// Leave these columns alone in the --replace pairs (comma-separated or repeated; `name`
    /// in every table or `table.name`), as wp search-replace --skip-columns=guid.
    #[arg(
        long,
        value_name = "COLUMNS",
        value_delimiter = ',',
        requires = "replace"
    )]
    pub skip_columns: Vec<String>,

    /// Apply the --replace pairs to these columns only (comma-separated or repeated; `name`
    /// or `table.name`), as wp search-replace --include-columns.
    #[arg(
        long,
        value_name = "COLUMNS",
        value_delimiter = ',',
        requires = "replace"
    )]
    pub include_columns: Vec<String>,

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

// The EXAMPLES sections of `--help` (and of the man pages), in the style of
// `wp search-replace --help`: a comment saying what, then the command. They name the
// masking secret's two sources, since a rewrite with masks stops without one, and no file
// of the source tree, which an installed binary's user does not have.

const EXAMPLES_MAIN: &str = "\
EXAMPLES
    # Move a WordPress site's URL, with serialized PHP fixed, straight into a restore
    $ mariadb-dump prod \\
      | understudy rewrite --replace https://www.example.org=https://int.example.org \\
      | mariadb int

    # Mask personal data with a rule file; the masking secret comes from the environment
    $ export UNDERSTUDY_SECRET=$(head -c 32 /dev/urandom | base64)
    $ understudy rewrite --rules wordpress.toml --var src_url=https://www.example.org \\
        --var dst_url=https://int.example.org prod.sql.gz -o int.sql.gz

    # Which variables does a rule file take?
    $ understudy rules vars wordpress.toml

    # Shell completions and the manual page
    $ understudy completions bash > ~/.local/share/bash-completion/completions/understudy
    $ understudy man | man -l -";

const EXAMPLES_REWRITE: &str = "\
EXAMPLES
    # Search and replace a URL, as wp search-replace would, into a restore
    $ mariadb-dump prod \\
      | understudy rewrite --replace https://www.example.org=https://int.example.org \\
      | mariadb int

    # The same, leaving post GUIDs and the log tables alone
    $ understudy rewrite --replace https://www.example.org=https://int.example.org \\
        --skip-columns guid --skip-tables 'wp_*_logs' prod.sql -o int.sql

    # Replace only in some columns, and see what would change without writing anything
    $ understudy rewrite --replace old.example=new.example \\
        --include-columns post_content,meta_value --dry-run --report changes.html prod.sql

    # Move and mask with a rule pack; the masking secret from the environment variable
    $ export UNDERSTUDY_SECRET=\"$(cat /run/secrets/understudy)\"
    $ understudy rewrite --rules wordpress.toml --var src_url=https://www.example.org \\
        --var dst_url=https://int.example.org prod.sql.gz -o int.sql.gz

    # The same with the secret in a file only you can read (chmod 600)
    $ understudy rewrite --rules wordpress.toml --secret-file ~/.understudy-secret \\
        --var src_url=https://www.example.org --var dst_url=https://int.example.org \\
        --report report.json prod.sql.gz -o int.sql.zst";

const EXAMPLES_SCAN: &str = "\
EXAMPLES
    # What looks personal in a dump, per table and column
    $ understudy scan prod.sql.gz

    # Check a rewritten copy: exit 1 if personal data or the production URL is left
    $ understudy rewrite --rules wordpress.toml --secret-file ~/.understudy-secret \\
        --var src_url=https://www.example.org --var dst_url=https://int.example.org \\
        prod.sql \\
      | understudy scan --strict --rules wordpress.toml --var src_url=https://www.example.org

    # The whole report as JSON (no masking secret needed: a scan masks nothing, so
    # neither UNDERSTUDY_SECRET nor --secret-file is read)
    $ understudy scan --format json --rules wordpress.toml int.sql > scan.json";

const EXAMPLES_CLONE: &str = "\
EXAMPLES
    # Show every step of a plan, secrets hidden, without running any
    $ understudy clone --dry-run plan.toml

    # Check the plan, the tools and both servers
    $ understudy clone --check plan.toml

    # Copy the site; a plan with masks takes the masking secret from UNDERSTUDY_SECRET,
    # or from the file its [rewrite] secret_file names (as rewrite's --secret-file)
    $ export UNDERSTUDY_SECRET=\"$(cat /run/secrets/understudy)\"
    $ understudy clone --report clone.json plan.toml

    # Only the files and the configuration, the database left as it is
    $ understudy clone --only files,config plan.toml";

const EXAMPLES_RULES: &str = "\
EXAMPLES
    # The variables a rule file takes, then a check with them
    $ understudy rules vars wordpress.toml
    $ understudy rules check wordpress.toml --var src_url=https://www.example.org

    # A rewrite with masks needs the masking secret: UNDERSTUDY_SECRET or --secret-file FILE
    $ understudy rules check wordpress.toml --secret-file ~/.understudy-secret";

const EXAMPLES_RULES_CHECK: &str = "\
EXAMPLES
    # Check a rule file with its variables (no masking secret needed for a check)
    $ understudy rules check wordpress.toml --var prefix=wp_

    # List every column of a dump that no rule masks or keeps
    $ understudy rules check wordpress.toml --dump prod.sql.gz

    # Check with the secret a rewrite will use (from UNDERSTUDY_SECRET, or a file)
    $ understudy rules check wordpress.toml --secret-file ~/.understudy-secret";

const EXAMPLES_RULES_VARS: &str = "\
EXAMPLES
    # What variables a pack takes, their defaults and meaning
    $ understudy rules vars wordpress.toml

    # Then pass them (the masking secret never with --var: set UNDERSTUDY_SECRET or
    # pass --secret-file FILE)
    $ understudy rewrite --rules wordpress.toml --var src_url=https://www.example.org \\
        --var dst_url=https://int.example.org --secret-file ~/.understudy-secret \\
        prod.sql -o int.sql";

const EXAMPLES_GENERATE: &str = "\
EXAMPLES
    # A 1 GB WordPress dump, to time a rewrite or a restore
    $ understudy generate --size 1G -o wordpress.sql

    # A multisite network of about 18,000 tables, compressed by the file's extension
    $ understudy generate --shape many-tables --tables 18000 --size 350M -o multisite.sql.zst

    # Drupal with hex blobs, another seed, straight into a restore
    $ understudy generate --layout drupal --shape hex-blob --size 500M --seed 7 | mariadb bench

    # One row per INSERT, as mariadb-dump --skip-extended-insert writes
    $ understudy generate --shape one-row-inserts --size 100M > skip-extended.sql";

const EXAMPLES_COMPLETIONS: &str = "\
EXAMPLES
    # bash, for your user (bash-completion loads it on demand)
    $ mkdir -p ~/.local/share/bash-completion/completions
    $ understudy completions bash > ~/.local/share/bash-completion/completions/understudy

    # zsh: a directory on $fpath
    $ understudy completions zsh > ~/.zfunc/_understudy

    # fish
    $ understudy completions fish > ~/.config/fish/completions/understudy.fish";

const EXAMPLES_MAN: &str = "\
EXAMPLES
    # Read the manual page now
    $ understudy man | man -l -

    # Install the pages for every command (understudy-rewrite(1), …)
    $ sudo understudy man --dir /usr/local/share/man/man1";
