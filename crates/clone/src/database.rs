//! The database copy: dump → rewrite → restore as one pipe into a staging database, then
//! the swap.
//!
//! The dump's standard output is read by the engine's reader thread, the engine rewrites on
//! this thread (and its workers), and its writer thread feeds the restore's standard input:
//! bounded queues of 256 KiB chunks between them, so a slow restore holds the dump back
//! instead of filling memory or disk. No byte of the dump touches a file.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use understudy_engine::{Engine, ErrorKind as EngineErrorKind, OnFailure, Report};

use crate::child::Stagehand;
use crate::client::{Invocation, Login, Tool, REMOTE_CLIENT, REMOTE_DUMP};
use crate::error::{Error, Stage};
use crate::plan::{DumpCommand, Plan};

/// What the database copy did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DatabaseReport {
    /// Bytes the dump wrote (after decompression, as the engine read them).
    pub bytes_dumped: u64,
    /// Bytes handed to the restore.
    pub bytes_restored: u64,
    /// Rows read.
    pub rows: u64,
    /// Values the replacements changed.
    pub values_replaced: u64,
    /// Values masked.
    pub values_masked: u64,
    /// Tables in the copy.
    pub tables: usize,
    /// Tables of the old target that the source no longer has, dropped by the swap.
    pub tables_dropped: Vec<String>,
    /// Seconds from the dump's start to the restore's end.
    pub pipe_seconds: f64,
    /// Seconds of the post-SQL and swap.
    pub swap_seconds: f64,
    /// Tables whose engine the snapshot cannot cover (MyISAM, Aria).
    pub inconsistent_tables: Vec<String>,
    /// The rewrite's first warnings, at most [`WARNINGS_LISTED`]: a site with broken
    /// serialized data has them by the million, which a report kept whole would hold in
    /// memory.
    pub warnings: Vec<String>,
    /// The rewrite's warnings, all of them.
    pub warnings_total: usize,
}

/// Whether the copy replaces the target in one step or is restored into it directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Restore into a staging database, then swap it in: the target stays usable and
    /// unchanged until the copy is complete.
    Atomic,
    /// Restore straight into the target, as the playbooks do.
    InPlace,
}

/// The source-side facts checked before the dump.
pub(crate) struct SourceFacts {
    pub inconsistent_tables: Vec<String>,
    /// Views, routines, events and triggers, by kind and name.
    pub other_objects: Vec<String>,
}

pub(crate) fn source_facts(source: &Login, database: &str) -> Result<SourceFacts, Error> {
    let q = |sql: &str| source.query(Stage::Check, None, sql);
    let db = sql_string(database);
    let inconsistent_tables = q(&format!(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = {db} \
         AND table_type = 'BASE TABLE' AND engine IN ('MyISAM', 'Aria', 'MRG_MyISAM', \
         'CSV', 'ARCHIVE', 'MEMORY') ORDER BY table_name"
    ))?
    .into_iter()
    .filter_map(|mut r| r.drain(..).next())
    .collect();
    let other_objects = q(&format!(
        "SELECT CONCAT('view ', table_name) FROM information_schema.views WHERE table_schema = {db} \
         UNION ALL SELECT CONCAT(LOWER(routine_type), ' ', routine_name) FROM information_schema.routines WHERE routine_schema = {db} \
         UNION ALL SELECT CONCAT('event ', event_name) FROM information_schema.events WHERE event_schema = {db} \
         UNION ALL SELECT CONCAT('trigger ', trigger_name) FROM information_schema.triggers WHERE trigger_schema = {db}"
    ))?
    .into_iter()
    .filter_map(|mut r| r.drain(..).next())
    .collect();
    let exists = q(&format!(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = {db}"
    ))?;
    if exists.first().and_then(|r| r.first()).map(String::as_str) != Some("1") {
        return Err(Error::stage_failed(
            Stage::Check,
            format!("the source database {} does not exist", source.describe),
        ));
    }
    Ok(SourceFacts {
        inconsistent_tables,
        other_objects,
    })
}

/// The arguments of the default dump: a consistent snapshot, with the triggers, routines
/// and events (the atomic swap moves them after the tables, see `swap`).
const DUMP_ARGS: [&str; 5] = [
    "--single-transaction",
    "--quick",
    "--routines",
    "--triggers",
    "--events",
];

/// The dump command line: the plan's own, or `mariadb-dump` with a consistent snapshot.
/// Run here for a local source; on the source's machine, through ssh, for a remote one,
/// its output compressed with zstd there when `compress`.
pub(crate) fn dump_command(
    dump: &DumpCommand,
    source: &Login,
    database: &str,
    compress: bool,
) -> Result<Invocation, Error> {
    let mut args: Vec<String> = Vec::new();
    if dump.command.is_none() {
        args.extend(DUMP_ARGS.map(String::from));
    }
    args.extend(dump.args.iter().cloned());
    if dump.command.is_none() {
        args.push(database.to_string());
    }
    if source.remote().is_none() {
        return Ok(match &dump.command {
            Some(argv) => {
                let mut c = Command::new(&argv[0]);
                c.args(&argv[1..]).args(&args);
                source.hide_secrets(&mut c);
                Invocation {
                    cmd: c,
                    preamble: Vec::new(),
                }
            }
            None => source.invoke(Tool::Dump, &args, Stage::Dump)?,
        });
    }
    let mut body = match &dump.command {
        Some(argv) => argv
            .iter()
            .map(|a| crate::ssh::quote(a))
            .collect::<Vec<_>>()
            .join(" "),
        None => REMOTE_DUMP.to_string(),
    };
    for a in &args {
        body.push(' ');
        body.push_str(&crate::ssh::quote(a));
    }
    if compress {
        // sh has no pipefail: the dump's status is kept in a file beside the option file.
        body = format!(
            "{{ {body}; echo $? > \"$d/rc\"; }} | zstd -q -c || exit 1\n\
             rc=$(cat \"$d/rc\" 2>/dev/null); exit \"${{rc:-1}}\""
        );
    }
    source.remote_script(&body, Stage::Dump)
}

/// The restore into `into`: here, or on the target's machine through ssh (its input
/// compressed with zstd on the way when `compress`).
fn restore_command(target: &Login, into: &str, compress: bool) -> Result<Invocation, Error> {
    // Binary mode: a dump's values may hold `\0` and bytes that are not UTF-8.
    let args = ["--binary-mode".to_string(), into.to_string()];
    if target.remote().is_none() || !compress {
        return target.invoke(Tool::Client, &args, Stage::Restore);
    }
    let body = format!(
        "{{ zstd -d -q -c; echo $? > \"$d/zrc\"; }} | {REMOTE_CLIENT} --skip-reconnect --binary-mode {}\n\
         rc=$?; [ \"$rc\" -eq 0 ] && rc=$(cat \"$d/zrc\" 2>/dev/null); exit \"${{rc:-1}}\"",
        crate::ssh::quote(into)
    );
    target.remote_script(&body, Stage::Restore)
}

/// Copies the source database into the target as `plan` says. `engine` is built from the
/// plan's rules; `progress` gets a line per step.
pub(crate) fn copy(
    plan: &Plan,
    engine: &Engine,
    source: &Login,
    target: &Login,
    mode: Mode,
    progress: &mut dyn FnMut(&str),
) -> Result<DatabaseReport, Error> {
    let mut report = DatabaseReport::default();
    let facts = source_facts(source, &plan.source.database)?;
    if !facts.inconsistent_tables.is_empty() {
        progress(&format!(
            "warning: {} tables are not transactional ({}); the dump of a site that writes \
             to them while it runs is not one consistent snapshot",
            facts.inconsistent_tables.len(),
            facts.inconsistent_tables.join(", ")
        ));
    }
    report.inconsistent_tables = facts.inconsistent_tables;
    let into = match mode {
        Mode::Atomic => plan.target.stage_name(),
        Mode::InPlace => plan.target.database.clone(),
    };
    match mode {
        Mode::Atomic => {
            let stage = quote_ident(&into);
            target.query(
                Stage::Restore,
                None,
                &format!("DROP DATABASE IF EXISTS {stage}; CREATE DATABASE {stage}"),
            )?;
        }
        Mode::InPlace => {
            target.query(
                Stage::Restore,
                None,
                &format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(&into)),
            )?;
        }
    }
    let result = pipe(plan, engine, source, target, &into, progress, &mut report).and_then(|()| {
        let start = Instant::now();
        for post in &plan.post_sql {
            progress(&format!("post_sql {}", post.name));
            target
                .query(Stage::PostSql, Some(&into), &post.sql)
                .map_err(|e| match e {
                    Error::Stage {
                        message, stderr, ..
                    } => Error::Stage {
                        stage: Stage::PostSql,
                        message: format!("{}: {message}", post.name),
                        stderr,
                    },
                    other => other,
                })?;
        }
        if mode == Mode::Atomic {
            swap(plan, target, &mut report, progress)?;
        }
        report.swap_seconds = start.elapsed().as_secs_f64();
        Ok(())
    });
    if let Err(e) = result {
        if mode == Mode::Atomic {
            // The target was not touched; the staging copy is dropped. If the server is
            // gone this fails too, and the next clone drops it first: say so.
            // The server may still be rolling back the restore's last statement: a few
            // tries, a moment apart.
            let mut dropped = Ok(Vec::new());
            for wait in [0, 250, 1000] {
                std::thread::sleep(Duration::from_millis(wait));
                dropped = target.query(
                    Stage::Restore,
                    None,
                    &format!("DROP DATABASE IF EXISTS {}", quote_ident(&into)),
                );
                if dropped.is_ok() {
                    break;
                }
            }
            if let Err(Error::Stage {
                message, stderr, ..
            }) = dropped
            {
                return Err(e.with_note(format!(
                    "the staging database `{into}` could not be dropped ({message}: {}); \
                     the next clone drops it first",
                    stderr.lines().last().unwrap_or("")
                )));
            }
        }
        return Err(e);
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn pipe(
    plan: &Plan,
    engine: &Engine,
    source: &Login,
    target: &Login,
    into: &str,
    progress: &mut dyn FnMut(&str),
    report: &mut DatabaseReport,
) -> Result<(), Error> {
    progress(&format!(
        "dump {} | rewrite | restore into {}",
        source.describe,
        target.describe.replacen(
            &format!("/{}", plan.target.database),
            &format!("/{into}"),
            1
        )
    ));
    let compress = |login: &Login, stage: Stage| -> Result<bool, Error> {
        match login.connections() {
            Some((ssh, remote)) => ssh.compress(remote, stage),
            None => Ok(false),
        }
    };
    let (dump_zstd, restore_zstd) = (
        compress(source, Stage::Dump)?,
        compress(target, Stage::Restore)?,
    );
    for (zstd, what) in [(dump_zstd, "the dump"), (restore_zstd, "the restore")] {
        if zstd {
            progress(&format!("{what} streams over ssh compressed with zstd"));
        }
    }
    let start = Instant::now();
    let dump_inv = dump_command(&plan.dump, source, &plan.source.database, dump_zstd)?;
    let mut dump = Stagehand::spawn(Stage::Dump, dump_inv.cmd, Stdio::piped(), Stdio::piped())?;
    if let Some(mut stdin) = dump.child.stdin.take() {
        // A few hundred bytes, far less than a pipe holds; a failure shows in the status.
        let _ = stdin.write_all(&dump_inv.preamble);
    }
    let restore_inv = restore_command(target, into, restore_zstd)?;
    let mut restore = Stagehand::spawn(
        Stage::Restore,
        restore_inv.cmd,
        Stdio::piped(),
        Stdio::null(),
    )?;
    let (Some(dump_out), Some(mut restore_in)) =
        (dump.child.stdout.take(), restore.child.stdin.take())
    else {
        return Err(Error::stage_failed(Stage::Dump, "the pipes did not open"));
    };
    let _ = restore_in.write_all(&restore_inv.preamble);
    let input: Box<dyn Read + Send> = if dump_zstd {
        Box::new(
            zstd::stream::read::Decoder::new(dump_out)
                .map_err(|e| Error::stage_failed(Stage::Dump, format!("cannot start zstd: {e}")))?,
        )
    } else {
        Box::new(dump_out)
    };
    let output = if restore_zstd {
        Sink::Zstd(
            zstd::stream::write::Encoder::new(restore_in, 3).map_err(|e| {
                Error::stage_failed(Stage::Restore, format!("cannot start zstd: {e}"))
            })?,
        )
    } else {
        Sink::Plain(restore_in)
    };
    let run = run_with_progress(engine, input, output, start, progress);
    match run {
        Ok((r, restore_in)) => {
            // The restore ends when its input does.
            let finished = restore_in.finish();
            let dumped = dump.wait()?;
            if !dumped.success() {
                restore.stop();
                return Err(dump.failed(dumped));
            }
            let restored = restore.wait()?;
            if !restored.success() {
                return Err(restore.failed(restored));
            }
            if let Err(e) = finished {
                return Err(Error::stage_failed(
                    Stage::Restore,
                    format!("the end of the compressed stream could not be written: {e}"),
                ));
            }
            fill(report, &r);
        }
        Err(e) => {
            return Err(blame(e, &mut dump, &mut restore));
        }
    }
    report.pipe_seconds = start.elapsed().as_secs_f64();
    progress(&format!(
        "copied {} rows, {} bytes in {:.1} s ({} replaced, {} masked)",
        report.rows,
        report.bytes_restored,
        report.pipe_seconds,
        report.values_replaced,
        report.values_masked
    ));
    Ok(())
}

/// The restore's input: plain, or compressed for a remote restore.
enum Sink {
    Plain(std::process::ChildStdin),
    Zstd(zstd::stream::write::Encoder<'static, std::process::ChildStdin>),
}

impl Sink {
    /// Ends the stream (a compressed one with its last frame) and closes it.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Plain(_) => Ok(()),
            Sink::Zstd(z) => z.finish().map(drop),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Zstd(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
        }
    }
}

/// How often a running pipe reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Runs the engine between the two children on a thread of its own, while this thread says
/// every [`PROGRESS_EVERY`] how far the dump has come.
fn run_with_progress<R, W>(
    engine: &Engine,
    dump_out: R,
    restore_in: W,
    start: Instant,
    progress: &mut dyn FnMut(&str),
) -> Result<(Report, W), understudy_engine::Error>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let read = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: dump_out,
        read: Arc::clone(&read),
    };
    std::thread::scope(|scope| {
        let run = scope.spawn(|| engine.run_piped(counted, restore_in, OnFailure::Mark));
        let mut last = Instant::now();
        while !run.is_finished() {
            std::thread::sleep(Duration::from_millis(50));
            if last.elapsed() >= PROGRESS_EVERY {
                last = Instant::now();
                let bytes = read.load(Ordering::Relaxed);
                let secs = start.elapsed().as_secs_f64();
                progress(&format!(
                    "{:.1} MB dumped and rewritten, {:.1} MB/s, {secs:.0} s",
                    bytes as f64 / 1e6,
                    bytes as f64 / 1e6 / secs.max(0.001)
                ));
            }
        }
        match run.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// A reader that counts what passes.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Which stage a failed rewrite run is the fault of: the restore when writing failed, the
/// dump when it ended badly on its own (the engine then saw a cut dump), else the rewrite.
fn blame(e: understudy_engine::Error, dump: &mut Stagehand, restore: &mut Stagehand) -> Error {
    match e.kind() {
        EngineErrorKind::OutputIo => {
            dump.stop();
            match restore.wait_for(Duration::from_secs(10)) {
                Some(s) if !s.success() => restore.failed(s),
                _ => {
                    restore.stop();
                    Error::Stage {
                        stage: Stage::Restore,
                        message: format!("the restore stopped reading: {e}"),
                        stderr: restore.stderr_tail(),
                    }
                }
            }
        }
        EngineErrorKind::InputIo | EngineErrorKind::InputFormat => {
            // A dump that died has closed its output: it is ending or has ended.
            let status = dump.wait_for(Duration::from_secs(5));
            restore.stop();
            match status {
                Some(s) if !s.success() => dump.failed(s),
                _ => {
                    dump.stop();
                    Error::Rewrite(e)
                }
            }
        }
        _ => {
            dump.stop();
            restore.stop();
            Error::Rewrite(e)
        }
    }
}

fn fill(report: &mut DatabaseReport, r: &Report) {
    report.bytes_dumped = r.bytes_in;
    report.bytes_restored = r.bytes_out;
    report.rows = r.rows;
    report.values_replaced = r.values_replaced;
    report.values_masked = r.values_masked;
    report.warnings_total = r.warnings.len();
    // A warning the rewrite wrote out and cannot read back is still counted.
    report.warnings = r
        .warnings
        .iter()
        .take(WARNINGS_LISTED)
        .map_while(Result::ok)
        .map(|w| w.to_string())
        .collect();
}

/// How many of the rewrite's warnings a clone's report lists.
pub const WARNINGS_LISTED: usize = 1000;

/// Puts the staging database's tables in place of the target's in one `RENAME TABLE`
/// (atomic: other sessions see the old tables or the new ones, never a mix), then drops
/// what the target held that the copy does not.
fn swap(
    plan: &Plan,
    target: &Login,
    report: &mut DatabaseReport,
    progress: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    let db = &plan.target.database;
    let stage = plan.target.stage_name();
    let old = plan.target.old_name();
    let tables = |name: &str| -> Result<Vec<String>, Error> {
        Ok(target
            .query(
                Stage::Swap,
                None,
                &format!(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = {} \
                     AND table_type = 'BASE TABLE' ORDER BY table_name",
                    sql_string(name)
                ),
            )?
            .into_iter()
            .filter_map(|mut r| r.drain(..).next())
            .collect())
    };
    let new = tables(&stage)?;
    let current = tables(db)?;
    report.tables = new.len();
    report.tables_dropped = current
        .iter()
        .filter(|t| !new.contains(t))
        .cloned()
        .collect();
    let (q_db, q_stage, q_old) = (quote_ident(db), quote_ident(&stage), quote_ident(&old));
    let mut renames: Vec<String> = current
        .iter()
        .map(|t| format!("{q_db}.{} TO {q_old}.{}", quote_ident(t), quote_ident(t)))
        .collect();
    renames.extend(
        new.iter()
            .map(|t| format!("{q_stage}.{} TO {q_db}.{}", quote_ident(t), quote_ident(t))),
    );
    progress(&format!("swap {} tables into {db}", new.len()));
    // Triggers cannot be renamed into another database: both sides' are saved as SQL and
    // dropped first, the copy's are created after the rename (with its views, routines and
    // events), the target's are put back if the rename fails.
    let new_objects = Objects::of(target, &stage)?;
    let old_objects = Objects::of(target, db)?;
    let new_script = new_objects.script(target, &stage)?;
    let old_script = old_objects.script(target, db)?;
    let mut sql = format!(
        "CREATE DATABASE IF NOT EXISTS {q_db}; DROP DATABASE IF EXISTS {q_old}; CREATE DATABASE {q_old};"
    );
    for (objects, q) in [(&new_objects, &q_stage), (&old_objects, &q_db)] {
        for t in &objects.triggers {
            sql.push_str(&format!(" DROP TRIGGER {q}.{};", quote_ident(t)));
        }
    }
    if !renames.is_empty() {
        sql.push_str(&format!(" RENAME TABLE {};", renames.join(", ")));
    }
    if let Err(e) = target.query(Stage::Swap, None, &sql) {
        if !old_objects.triggers.is_empty() {
            // The rename did not happen: the target's tables are where they were.
            let _ = target.run_script(Stage::Swap, db, &old_script);
        }
        return Err(e);
    }
    // The target's views, routines and events give way to the copy's.
    let mut drop = String::new();
    for v in &old_objects.views {
        drop.push_str(&format!("DROP VIEW IF EXISTS {q_db}.{};", quote_ident(v)));
    }
    for (kind, name) in &old_objects.routines {
        drop.push_str(&format!(
            "DROP {kind} IF EXISTS {q_db}.{};",
            quote_ident(name)
        ));
    }
    for e in &old_objects.events {
        drop.push_str(&format!("DROP EVENT IF EXISTS {q_db}.{};", quote_ident(e)));
    }
    if !drop.is_empty() {
        target.query(Stage::Swap, None, &drop)?;
    }
    if !new_script.is_empty() {
        progress(&format!("swap: {}", new_objects.describe()));
        target
            .run_script(Stage::Swap, db, &new_script)
            .map_err(|e| {
                e.with_note(format!(
                    "the copy's tables are in place in {db}, its {} are not",
                    new_objects.describe()
                ))
            })?;
    }
    target.query(
        Stage::Swap,
        None,
        &format!("DROP DATABASE {q_old}; DROP DATABASE {q_stage}"),
    )?;
    Ok(())
}

/// A database's objects other than tables, by name.
#[derive(Debug, Default)]
struct Objects {
    views: Vec<String>,
    triggers: Vec<String>,
    /// (`PROCEDURE` or `FUNCTION`, name).
    routines: Vec<(String, String)>,
    events: Vec<String>,
}

impl Objects {
    fn of(target: &Login, database: &str) -> Result<Objects, Error> {
        let db = sql_string(database);
        let names = |sql: String| -> Result<Vec<Vec<String>>, Error> {
            target.query(Stage::Swap, None, &sql)
        };
        let first = |rows: Vec<Vec<String>>| -> Vec<String> {
            rows.into_iter()
                .filter_map(|mut r| r.drain(..).next())
                .collect()
        };
        Ok(Objects {
            views: first(names(format!(
                "SELECT table_name FROM information_schema.views WHERE table_schema = {db} ORDER BY 1"
            ))?),
            triggers: first(names(format!(
                "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = {db} ORDER BY 1"
            ))?),
            routines: names(format!(
                "SELECT routine_type, routine_name FROM information_schema.routines \
                 WHERE routine_schema = {db} ORDER BY 1, 2"
            ))?
            .into_iter()
            .filter(|r| r.len() == 2)
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect(),
            events: first(names(format!(
                "SELECT event_name FROM information_schema.events WHERE event_schema = {db} ORDER BY 1"
            ))?),
        })
    }

    fn is_empty(&self) -> bool {
        self.views.is_empty()
            && self.triggers.is_empty()
            && self.routines.is_empty()
            && self.events.is_empty()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (self.views.len(), "views"),
            (self.triggers.len(), "triggers"),
            (self.routines.len(), "routines"),
            (self.events.len(), "events"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }

    /// SQL that creates them in the current database, as `mariadb-dump` writes it (views
    /// unqualified, triggers with their tables' names, `DELIMITER` around bodies): held in
    /// memory, a few kilobytes of DDL.
    fn script(&self, target: &Login, database: &str) -> Result<Vec<u8>, Error> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let dump = |extra: &[&str], names: &[String]| -> Result<Vec<u8>, Error> {
            let mut args: Vec<String> = ["--no-data", "--skip-comments"].map(String::from).to_vec();
            args.extend(extra.iter().map(|s| s.to_string()));
            args.push(database.to_string());
            args.extend(names.iter().cloned());
            target.dump_output(Stage::Swap, &args).map_err(|e| {
                e.with_note(format!(
                    "dumping the views, triggers and routines of {database} failed"
                ))
            })
        };
        let mut script = Vec::new();
        if !(self.triggers.is_empty() && self.routines.is_empty() && self.events.is_empty()) {
            script.extend(dump(
                &["--no-create-info", "--triggers", "--routines", "--events"],
                &[],
            )?);
        }
        if !self.views.is_empty() {
            script.extend(dump(&["--skip-triggers"], &self.views)?);
        }
        Ok(script)
    }
}

/// `name` as a MariaDB identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `text` as a MariaDB string literal.
pub(crate) fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}
