//! `understudy clone`: arguments, and the library call.

use std::path::PathBuf;

use anyhow::{Context, Result};
use understudy_clone::{Mode, Options, Part, Plan};

use crate::BadArgs;

#[derive(Debug, clap::Args)]
pub struct CloneArgs {
    /// The plan file (TOML: source, target, rules, files; see `understudy clone --help` and
    /// Understudy's documentation).
    pub plan: PathBuf,

    /// Check the plan, the tools and both servers, copy nothing; exit 1 on a problem.
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,

    /// Print every step, secrets hidden, and run none.
    #[arg(long)]
    pub dry_run: bool,

    /// Print a digest of each part of the target the plan writes (database, copies, config
    /// files) and copy nothing: the same before and after a clone that changed nothing.
    #[arg(long, conflicts_with_all = ["check", "dry_run", "report"])]
    pub fingerprint: bool,

    /// Restore straight into the target database instead of a staging database swapped in
    /// at the end. Faster on small disks; a failed clone then leaves the target half-copied.
    #[arg(long)]
    pub in_place: bool,

    /// Run only these parts, comma-separated: database, files, config, post.
    #[arg(long, value_name = "PARTS", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Write what was done (time and bytes per stage, rows, masks) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Rewrite threads (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,

    /// No progress lines on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: CloneArgs) -> Result<()> {
    // A signal or panic must not leave the client option files (passwords) behind.
    understudy_stream::cleanup::install()?;
    // A plan that cannot be read is the environment's failure (exit 2), one that is wrong
    // the user's (exit 1): the library reports both as a plan error.
    std::fs::File::open(&args.plan)
        .with_context(|| format!("cannot read the plan {}", args.plan.display()))?;
    let plan = Plan::from_path(&args.plan)?;
    if let Some(report) = args
        .report
        .as_deref()
        .filter(|_| !args.dry_run && !args.check)
    {
        // Found at the end, it would cost the whole copy.
        crate::writable(report, "report")?;
    }
    let options = Options {
        mode: if args.in_place {
            Mode::InPlace
        } else {
            Mode::Atomic
        },
        threads: args.threads.map_or(0, usize::from),
        only: if args.only.is_empty() {
            Part::ALL.to_vec()
        } else {
            args.only
                .iter()
                .map(|p| {
                    Part::parse(p.trim()).ok_or_else(|| {
                        BadArgs(format!(
                            "--only {p:?}: expected database, files, config or post"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?
        },
    };
    if args.dry_run {
        for step in understudy_clone::dry_run(&plan, &options) {
            println!("{step}");
        }
        return Ok(());
    }
    if args.fingerprint {
        for part in understudy_clone::fingerprint(&plan, &options)?.parts {
            println!("{part}");
        }
        return Ok(());
    }
    if args.check {
        let lines = understudy_clone::check(&plan, &options);
        let problems = lines.iter().filter(|l| !l.ok).count();
        for line in &lines {
            println!(
                "{} {}",
                if line.ok { "ok     " } else { "PROBLEM" },
                line.text
            );
        }
        if problems > 0 {
            return Err(BadArgs(format!("{problems} problems found")).into());
        }
        return Ok(());
    }
    let quiet = args.quiet;
    let mut progress = |line: &str| {
        if !quiet {
            eprintln!("understudy: clone: {line}");
        }
    };
    let report = understudy_clone::run(&plan, &options, &mut progress).map_err(|e| {
        use understudy_clone::Stage;
        let state = match (e.stage(), options.mode) {
            (Stage::Files | Stage::Config | Stage::PostCommand, _) => {
                if options.only.contains(&Part::Database) {
                    "clone stopped after the database copy was put in place; run it again \
                     (or with --only files,config,post) to finish"
                } else {
                    "clone stopped"
                }
            }
            (_, Mode::Atomic) => "clone stopped; the target database is as it was",
            (_, Mode::InPlace) => "clone stopped; the target database may be partly restored",
        };
        anyhow::Error::new(e).context(state)
    })?;
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report).context("cannot encode the report")?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let database = report.database.as_ref().map_or_else(String::new, |d| {
        format!("{} tables, {} rows; ", d.tables, d.rows)
    });
    let files: u64 = report.files.iter().map(|f| f.files).sum();
    progress(&format!(
        "done in {:.1} s: {database}{files} files, {} config files, {} commands; target {}",
        report.seconds,
        report.config.len(),
        report.post_commands.len(),
        report.target
    ));
    Ok(())
}
