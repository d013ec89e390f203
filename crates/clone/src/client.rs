//! The MariaDB/MySQL client tools, and how they log in without a password on argv.
//!
//! Each server gets a client option file (`[client]` group, mode 0600, in a private
//! directory that is removed with the clone) passed as `--defaults-extra-file`, the one way
//! the tools take a password that other users' processes cannot read: argv is public in
//! `/proc/PID/cmdline`, and `MYSQL_PWD` is inherited by every child.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Stage};
use crate::plan::Database;

/// The programs a clone runs, found on `PATH`.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `mariadb` or `mysql`.
    pub client: PathBuf,
    /// `mariadb-dump` or `mysqldump`.
    pub dump: PathBuf,
}

impl Tools {
    /// Finds the client and dump programs, preferring MariaDB's names.
    ///
    /// # Errors
    /// A check-stage error naming what is missing.
    pub fn find() -> Result<Tools, Error> {
        let find = |names: &[&str]| names.iter().find_map(|n| which(n));
        let client = find(&["mariadb", "mysql"]).ok_or_else(|| {
            Error::stage_failed(Stage::Check, "no mariadb or mysql client on PATH")
        })?;
        let dump = find(&["mariadb-dump", "mysqldump"]).ok_or_else(|| {
            Error::stage_failed(Stage::Check, "no mariadb-dump or mysqldump on PATH")
        })?;
        Ok(Tools { client, dump })
    }
}

/// The first `name` on `PATH` that is an executable file.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A server the clone logs in to, through its option file.
#[derive(Debug)]
pub struct Login {
    option_file: PathBuf,
    client: PathBuf,
    /// Environment variables the client programs must not inherit (the plan's secrets).
    hide: Vec<String>,
    /// Who and where, for messages.
    pub describe: String,
}

impl Login {
    /// Writes `db`'s option file into `dir` (which must be private) as `name.cnf`.
    ///
    /// # Errors
    /// A check-stage error when the file cannot be written.
    pub fn new(
        dir: &Path,
        name: &str,
        db: &Database,
        tools: &Tools,
        hide: &[&str],
    ) -> Result<Login, Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.join(format!("{name}.cnf"));
        let mut text = String::from("[client]\n");
        let mut put = |key: &str, value: &str| {
            // Plan values are checked: no line breaks, and not both kinds of quote.
            let quote = if value.contains('"') { '\'' } else { '"' };
            text.push_str(&format!(
                "{key}={quote}{}{quote}\n",
                value.replace('\\', "\\\\")
            ));
        };
        if let Some(h) = &db.host {
            put("host", h);
        }
        if let Some(p) = db.port {
            put("port", &p.to_string());
        }
        if let Some(s) = &db.socket {
            put("socket", &s.to_string_lossy());
        }
        if let Some(u) = &db.user {
            put("user", u);
        }
        if let Some(p) = &db.password {
            put("password", p);
        }
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        };
        write().map_err(|e| {
            Error::stage_failed(
                Stage::Check,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
        Ok(Login {
            option_file: path,
            client: tools.client.clone(),
            hide: hide.iter().map(|s| s.to_string()).collect(),
            describe: db.describe(),
        })
    }

    /// A login that only shows commands (for a dry run): `option_file` is not written.
    pub fn describe_only(option_file: &str, tools: &Tools) -> Login {
        Login {
            option_file: option_file.into(),
            client: tools.client.clone(),
            hide: Vec::new(),
            describe: String::new(),
        }
    }

    /// `--defaults-extra-file=…`: the first argument of every client program.
    pub fn defaults_arg(&self) -> String {
        format!("--defaults-extra-file={}", self.option_file.display())
    }

    /// The client, logged in, with no database selected.
    pub fn client(&self) -> Command {
        let mut c = Command::new(&self.client);
        c.arg(self.defaults_arg());
        // The client reconnects by default when its connection drops (and runs the failed
        // statement again): a restore would go on into a server that restarted, or another
        // one now behind the same address, without the session settings the dump set at its
        // start (character set, time zone, foreign key checks), and the swap would put that
        // copy in place. Seen in the tests, where a killed server's port went to another.
        c.arg("--skip-reconnect");
        self.hide_secrets(&mut c);
        c
    }

    /// Removes the plan's secrets from `cmd`'s environment.
    pub fn hide_secrets(&self, cmd: &mut Command) {
        for name in &self.hide {
            cmd.env_remove(name);
        }
    }

    /// Runs `sql` (given on standard input, not argv) in `database` (or none) and returns
    /// the rows, tab-separated columns.
    ///
    /// # Errors
    /// A `stage` error with the client's standard error.
    pub fn query(
        &self,
        stage: Stage,
        database: Option<&str>,
        sql: &str,
    ) -> Result<Vec<Vec<String>>, Error> {
        let mut cmd = self.client();
        cmd.args(["--batch", "--skip-column-names", "--raw"]);
        if let Some(db) = database {
            cmd.arg(db);
        }
        let out = run_with_input(cmd, sql.as_bytes()).map_err(|e| Error::Stage {
            stage,
            message: format!("{} on {}: {}", first_line(sql), self.describe, e.0),
            stderr: e.1,
        })?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect())
    }
}

impl Login {
    /// Runs an SQL script (as `mariadb-dump` writes one: `DELIMITER`, versioned comments) in
    /// `database`.
    ///
    /// # Errors
    /// A `stage` error with the client's standard error.
    pub fn run_script(&self, stage: Stage, database: &str, script: &[u8]) -> Result<(), Error> {
        let mut cmd = self.client();
        cmd.args(["--batch", "--binary-mode", database]);
        run_with_input(cmd, script)
            .map(drop)
            .map_err(|e| Error::Stage {
                stage,
                message: format!("a script on {}: {}", self.describe, e.0),
                stderr: e.1,
            })
    }
}

/// Runs `cmd` with `input` on its standard input; its standard output, or what went wrong
/// and the tail of its standard error.
fn run_with_input(mut cmd: Command, input: &[u8]) -> Result<Vec<u8>, (String, String)> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            (
                format!("cannot start {:?}: {e}", cmd.get_program()),
                String::new(),
            )
        })?;
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
    });
    let out = child
        .wait_with_output()
        .map_err(|e| (format!("cannot wait for the client: {e}"), String::new()))?;
    let _ = feeder.join();
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err((
            format!("the client exited with {}", out.status),
            crate::child::tail(&out.stderr),
        ))
    }
}

fn first_line(sql: &str) -> String {
    let line = sql.trim_start().lines().next().unwrap_or("");
    let mut short: String = line.chars().take(60).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}
