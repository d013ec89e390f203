//! The MariaDB/MySQL client tools, and how they log in without a password on argv.
//!
//! Each server gets a client option file (`[client]` group, mode 0600, in a private
//! directory that is removed with the clone) passed as `--defaults-extra-file`, the one way
//! the tools take a password that other users' processes cannot read: argv is public in
//! `/proc/PID/cmdline`, and `MYSQL_PWD` is inherited by every child.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::sync::Arc;

use crate::error::{Error, Stage};
use crate::plan::Database;
use crate::ssh::{Connections, Remote};

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
pub struct Login {
    place: Place,
    /// Environment variables the client programs must not inherit (the plan's secrets).
    hide: Vec<String>,
    /// Who and where, for messages.
    pub describe: String,
}

enum Place {
    /// The clients run here, with the option file in the clone's private directory.
    Local { option_file: PathBuf, tools: Tools },
    /// The clients run on another machine: the option file's text is sent on each
    /// command's standard input, and written there into a private directory (mode 0700)
    /// that the command removes when it ends.
    Remote {
        ssh: Arc<Connections>,
        remote: Remote,
        options: String,
    },
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the option text: it holds the password.
        f.debug_struct("Login")
            .field("describe", &self.describe)
            .field(
                "remote",
                &match &self.place {
                    Place::Local { .. } => None,
                    Place::Remote { remote, .. } => Some(remote.describe()),
                },
            )
            .finish_non_exhaustive()
    }
}

/// The client programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    /// `mariadb` (or `mysql`).
    Client,
    /// `mariadb-dump` (or `mysqldump`).
    Dump,
}

/// A command, and the bytes to write to its standard input before anything else (the
/// option file of a remote login; empty here).
pub(crate) struct Invocation {
    pub cmd: Command,
    pub preamble: Vec<u8>,
}

/// The shell script around every remote client command: the option file read from
/// standard input (its lines up to an empty one) into a fresh private directory, the
/// client programs found, the directory removed when the script ends, however it ends but
/// SIGKILL.
const REMOTE_PROLOGUE: &str = r#"umask 077
d=$(mktemp -d "${TMPDIR:-/tmp}/understudy-XXXXXXXX") || exit 125
trap 'rm -rf "$d"' EXIT
trap 'exit 129' HUP INT TERM PIPE
while IFS= read -r l && [ -n "$l" ]; do printf '%s\n' "$l"; done > "$d/client.cnf" || exit 125
c=$(command -v mariadb || command -v mysql)
dump=$(command -v mariadb-dump || command -v mysqldump)
"#;

/// The client on the remote side, as the prologue found it.
pub(crate) const REMOTE_CLIENT: &str =
    r#""${c:?no mariadb or mysql client on this host}" --defaults-extra-file="$d/client.cnf""#;
/// The dump program on the remote side.
pub(crate) const REMOTE_DUMP: &str =
    r#""${dump:?no mariadb-dump or mysqldump on this host}" --defaults-extra-file="$d/client.cnf""#;

impl Login {
    /// Writes `db`'s option file into `dir` (which must be private) as `name.cnf`; or, for
    /// a server reached through `remote`, keeps its text for the remote commands.
    ///
    /// # Errors
    /// A check-stage error when the file cannot be written or the tools are missing.
    pub(crate) fn new(
        dir: &Path,
        name: &str,
        db: &Database,
        hide: &[&str],
        remote: Option<(&Arc<Connections>, &Remote)>,
    ) -> Result<Login, Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let text = option_text(db);
        let hide = hide.iter().map(|s| s.to_string()).collect();
        let describe = match remote {
            Some((_, r)) => format!("{} on {}", db.describe(), r.describe()),
            None => db.describe(),
        };
        if let Some((ssh, remote)) = remote {
            return Ok(Login {
                place: Place::Remote {
                    ssh: Arc::clone(ssh),
                    remote: remote.clone(),
                    options: text,
                },
                hide,
                describe,
            });
        }
        let tools = Tools::find()?;
        let path = dir.join(format!("{name}.cnf"));
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
            place: Place::Local {
                option_file: path,
                tools,
            },
            hide,
            describe,
        })
    }

    /// A login that only shows commands (for a dry run): `option_file` is not written.
    pub fn describe_only(option_file: &str, tools: &Tools) -> Login {
        Login {
            place: Place::Local {
                option_file: option_file.into(),
                tools: tools.clone(),
            },
            hide: Vec::new(),
            describe: String::new(),
        }
    }

    /// The machine the clients run on, when it is not this one.
    pub fn remote(&self) -> Option<&Remote> {
        match &self.place {
            Place::Local { .. } => None,
            Place::Remote { remote, .. } => Some(remote),
        }
    }

    /// `tool` logged in, with `args` after the login's.
    ///
    /// # Errors
    /// A `stage` error when the ssh connection cannot be made.
    pub(crate) fn invoke(
        &self,
        tool: Tool,
        args: &[String],
        stage: Stage,
    ) -> Result<Invocation, Error> {
        match &self.place {
            Place::Local { option_file, tools } => {
                let mut c = Command::new(match tool {
                    Tool::Client => &tools.client,
                    Tool::Dump => &tools.dump,
                });
                c.arg(format!("--defaults-extra-file={}", option_file.display()));
                if tool == Tool::Client {
                    c.arg(SKIP_RECONNECT);
                }
                c.args(args);
                self.hide_secrets(&mut c);
                Ok(Invocation {
                    cmd: c,
                    preamble: Vec::new(),
                })
            }
            Place::Remote { .. } => {
                let mut body = match tool {
                    Tool::Client => format!("{REMOTE_CLIENT} {SKIP_RECONNECT}"),
                    Tool::Dump => REMOTE_DUMP.to_string(),
                };
                for a in args {
                    body.push(' ');
                    body.push_str(&crate::ssh::quote(a));
                }
                self.remote_script(&body, stage)
            }
        }
    }

    /// A remote login's `body` (a shell script that may use [`REMOTE_CLIENT`] and
    /// [`REMOTE_DUMP`]) run on its machine, with the option file on its standard input.
    ///
    /// # Errors
    /// A `stage` error when the login is local or the ssh connection cannot be made.
    pub(crate) fn remote_script(&self, body: &str, stage: Stage) -> Result<Invocation, Error> {
        let Place::Remote {
            ssh,
            remote,
            options,
        } = &self.place
        else {
            return Err(Error::stage_failed(
                stage,
                "a remote script for a local login",
            ));
        };
        let script = format!("{REMOTE_PROLOGUE}{body}\n");
        // The user's login shell may not be a POSIX one (fish): sh runs the script.
        let mut cmd = ssh.command(
            remote,
            &format!("sh -c {}", crate::ssh::quote(&script)),
            stage,
        )?;
        self.hide_secrets(&mut cmd);
        let mut preamble = options.clone().into_bytes();
        preamble.push(b'\n');
        Ok(Invocation { cmd, preamble })
    }

    /// The ssh connections of a remote login.
    pub(crate) fn connections(&self) -> Option<(&Arc<Connections>, &Remote)> {
        match &self.place {
            Place::Local { .. } => None,
            Place::Remote { ssh, remote, .. } => Some((ssh, remote)),
        }
    }

    /// The client, logged in, with no database selected, for showing (a dry run).
    pub fn client(&self) -> Command {
        match &self.place {
            Place::Local { option_file, tools } => {
                let mut c = Command::new(&tools.client);
                c.arg(format!("--defaults-extra-file={}", option_file.display()));
                c.arg(SKIP_RECONNECT);
                c
            }
            Place::Remote { remote, .. } => {
                let mut c = Command::new("ssh");
                c.args([
                    &remote.describe(),
                    "mariadb",
                    "--defaults-extra-file=REMOTE-PRIVATE-DIR/client.cnf",
                    SKIP_RECONNECT,
                ]);
                c
            }
        }
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
        let mut args: Vec<String> = ["--batch", "--skip-column-names", "--raw"]
            .map(String::from)
            .to_vec();
        if let Some(db) = database {
            args.push(db.to_string());
        }
        let inv = self.invoke(Tool::Client, &args, stage)?;
        let out = run_with_input(inv, sql.as_bytes()).map_err(|e| Error::Stage {
            stage,
            message: format!("{} on {}: {}", first_line(sql), self.describe, e.0),
            stderr: e.1,
        })?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect())
    }

    /// Runs an SQL script (as `mariadb-dump` writes one: `DELIMITER`, versioned comments) in
    /// `database`.
    ///
    /// # Errors
    /// A `stage` error with the client's standard error.
    pub fn run_script(&self, stage: Stage, database: &str, script: &[u8]) -> Result<(), Error> {
        let args = ["--batch", "--binary-mode", database].map(String::from);
        let inv = self.invoke(Tool::Client, &args, stage)?;
        run_with_input(inv, script)
            .map(drop)
            .map_err(|e| Error::Stage {
                stage,
                message: format!("a script on {}: {}", self.describe, e.0),
                stderr: e.1,
            })
    }

    /// Runs the dump program with `args`; its standard output.
    ///
    /// # Errors
    /// A `stage` error with its standard error.
    pub(crate) fn dump_output(&self, stage: Stage, args: &[String]) -> Result<Vec<u8>, Error> {
        let inv = self.invoke(Tool::Dump, args, stage)?;
        run_with_input(inv, b"").map_err(|e| Error::Stage {
            stage,
            message: format!("mariadb-dump on {}: {}", self.describe, e.0),
            stderr: e.1,
        })
    }
}

/// The client reconnects by default when its connection drops (and runs the failed
/// statement again): a restore would go on into a server that restarted, or another one
/// now behind the same address, without the session settings the dump set at its start
/// (character set, time zone, foreign key checks), and the swap would put that copy in
/// place. Seen in the tests, where a killed server's port went to another.
const SKIP_RECONNECT: &str = "--skip-reconnect";

/// A `[client]` option file for `db`.
fn option_text(db: &Database) -> String {
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
    text
}

/// Runs `cmd` with `input` on its standard input (written from a thread, so a large
/// output cannot block against it); its output.
pub(crate) fn output_with_input(
    cmd: &mut Command,
    input: &[u8],
) -> std::io::Result<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
    });
    let out = child.wait_with_output();
    let _ = feeder.join();
    out
}

/// Runs `inv` with its preamble and `input` on its standard input; its standard output, or
/// what went wrong and the tail of its standard error.
fn run_with_input(mut inv: Invocation, input: &[u8]) -> Result<Vec<u8>, (String, String)> {
    let mut all = std::mem::take(&mut inv.preamble);
    all.extend_from_slice(input);
    let out = output_with_input(&mut inv.cmd, &all).map_err(|e| {
        (
            format!("cannot start {:?}: {e}", inv.cmd.get_program()),
            String::new(),
        )
    })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err((
            if out.status.code() == Some(255) && inv.cmd.get_program() == "ssh" {
                "the ssh connection failed".to_string()
            } else {
                format!("the client exited with {}", out.status)
            },
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
