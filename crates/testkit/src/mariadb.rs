//! Throwaway MariaDB servers for tests.
//!
//! [`MariaDb::start`] initialises a fresh datadir in a temporary directory with
//! `mariadb-install-db`, starts `mariadbd` on its own Unix socket and on a free
//! TCP port on `127.0.0.1`, and waits until `SELECT 1` answers. Dropping the
//! [`MariaDb`] kills the server and removes the directory (unless the
//! environment variable `UNDERSTUDY_KEEP_DB` is set: then the server is shut
//! down cleanly and the directory is kept and its path printed to stderr).
//!
//! Several servers can run side by side (e.g. a source and a target).
//!
//! ```no_run
//! use understudy_testkit::mariadb::MariaDb;
//! let db = MariaDb::start().unwrap();
//! db.create_database("src").unwrap();
//! db.execute_in("src", "CREATE TABLE t (a INT); INSERT INTO t VALUES (1),(2);").unwrap();
//! assert_eq!(db.query("src", "SELECT SUM(a) FROM t").unwrap(), vec![vec!["3".to_string()]]);
//! let dump = db.dump("src", &["--skip-dump-date"]).unwrap();
//! let other = MariaDb::start().unwrap();
//! other.create_database("dst").unwrap();
//! other.load("dst", &dump).unwrap();
//! assert_eq!(db.checksums("src").unwrap(), other.checksums("dst").unwrap());
//! ```
//!
//! Server flags: `--no-defaults`, `--user=root`, `--skip-log-bin`,
//! `--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci`,
//! `--max-allowed-packet=1G` (values of 16 MiB and more load), and settings that
//! keep it small and fast (`--innodb-log-file-size=16M`,
//! `--innodb-buffer-pool-size=64M`, `--performance-schema=OFF`,
//! `--innodb-flush-log-at-trx-commit=0`, `--innodb-doublewrite=0`,
//! `--skip-name-resolve`). Root has an empty password (`normal` auth method),
//! reachable through the socket and over TCP from 127.0.0.1.
//!
//! All clients are run with `--no-defaults` first, so no `~/.my.cnf` or
//! `/etc/mysql` configuration leaks into tests.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Environment variable: when set (to anything), the datadir is kept on drop.
pub const KEEP_ENV: &str = "UNDERSTUDY_KEEP_DB";

/// How long [`MariaDb::start`] waits for `SELECT 1` to answer.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

const INSTALL_HINT: &str =
    "install mariadb-server and mariadb-client (Debian: apt-get install mariadb-server mariadb-client)";

/// Errors from the MariaDB harness. Every variant says what was run and, for a
/// server that failed to come up, carries the server's error log.
#[derive(Debug, thiserror::Error)]
pub enum MariaDbError {
    /// A binary (mariadbd, mariadb-install-db, mariadb, mariadb-dump) is missing.
    #[error("`{name}` not found (looked in {looked}): {hint}")]
    MissingBinary {
        name: &'static str,
        looked: String,
        hint: &'static str,
    },
    /// A command could not be spawned or talked to.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },
    /// A command ran and exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    CommandFailed {
        command: String,
        status: ExitStatus,
        stderr: String,
    },
    /// The server did not answer `SELECT 1` in time.
    #[error(
        "mariadbd did not become ready within {timeout:?} (datadir {datadir}); error log:\n{log}"
    )]
    StartTimeout {
        timeout: Duration,
        datadir: PathBuf,
        log: String,
    },
    /// The server exited while starting.
    #[error("mariadbd exited during startup ({status}) (datadir {datadir}); error log:\n{log}")]
    ServerExited {
        status: ExitStatus,
        datadir: PathBuf,
        log: String,
    },
    /// Filesystem or other I/O trouble.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// Output of a client that could not be understood.
    #[error("unexpected output from `{command}`: {detail}")]
    Parse { command: String, detail: String },
}

/// Result alias for this module.
pub type Result<T, E = MariaDbError> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> MariaDbError {
    let context = context.into();
    move |source| MariaDbError::Io { context, source }
}

/// Paths of the MariaDB binaries used by the harness.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The server, usually `/usr/sbin/mariadbd`.
    pub mariadbd: PathBuf,
    /// `mariadb-install-db`.
    pub install_db: PathBuf,
    /// The command-line client `mariadb`.
    pub client: PathBuf,
    /// `mariadb-dump`.
    pub dump: PathBuf,
    /// `mariadb-admin` (used for a clean shutdown when the datadir is kept).
    pub admin: Option<PathBuf>,
}

fn find_binary(name: &'static str, alt: &'static str, extra_dirs: &[&str]) -> Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra_dirs.iter().map(PathBuf::from).collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    for n in [name, alt] {
        for d in &dirs {
            let p = d.join(n);
            if is_executable(&p) {
                return Ok(p);
            }
        }
    }
    Err(MariaDbError::MissingBinary {
        name,
        looked: format!(
            "{} and $PATH for `{name}`/`{alt}`",
            if extra_dirs.is_empty() {
                "-".to_string()
            } else {
                extra_dirs.join(", ")
            }
        ),
        hint: INSTALL_HINT,
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

impl Binaries {
    /// Locates the binaries: `mariadbd` in `/usr/sbin`, `/usr/local/sbin` or on
    /// `$PATH` (falling back to the `mysqld` name), the clients on `$PATH` or in
    /// `/usr/bin`. The error says "install mariadb-server" when one is missing.
    pub fn find() -> Result<Binaries> {
        let sbin = ["/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"];
        let bin = ["/usr/bin", "/usr/local/bin"];
        Ok(Binaries {
            mariadbd: find_binary("mariadbd", "mysqld", &sbin)?,
            install_db: find_binary("mariadb-install-db", "mysql_install_db", &bin)?,
            client: find_binary("mariadb", "mysql", &bin)?,
            dump: find_binary("mariadb-dump", "mysqldump", &bin)?,
            admin: find_binary("mariadb-admin", "mysqladmin", &bin).ok(),
        })
    }

    /// `mariadb-dump --version`, e.g.
    /// `mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)`.
    pub fn dump_version(&self) -> Result<String> {
        let mut cmd = Command::new(&self.dump);
        cmd.arg("--version");
        let out = run_capture(cmd, None)?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// `mariadbd --version`, e.g.
    /// `/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)`.
    pub fn server_version(&self) -> Result<String> {
        let mut cmd = Command::new(&self.mariadbd);
        cmd.arg("--version");
        let out = run_capture(cmd, None)?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }
}

/// Checks that the MariaDB server and client binaries are installed and answer
/// `--version`. Returns their paths. Use it to skip tests cleanly:
/// `if let Err(e) = mariadb::check_available() { eprintln!("skipping: {e}"); return; }`.
pub fn check_available() -> Result<Binaries> {
    let b = Binaries::find()?;
    b.server_version()?;
    b.dump_version()?;
    Ok(b)
}

/// The workspace's `fixtures/` directory (see `fixtures/README.md`), located
/// from this crate's manifest directory at compile time.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd`, feeding `stdin` (from a separate thread, so large inputs and
/// outputs don't deadlock), and returns stdout. Non-zero exit is an error that
/// carries stderr.
fn run_capture(mut cmd: Command, stdin: Option<&[u8]>) -> Result<Vec<u8>> {
    let command = describe(&cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| MariaDbError::Spawn {
        command: command.clone(),
        source,
    })?;
    let mut child_in = child.stdin.take();
    let mut child_out = child.stdout.take();
    let mut child_err = child.stderr.take();
    let (write_res, out, err) = std::thread::scope(|s| {
        let writer = s.spawn(move || -> io::Result<()> {
            if let (Some(mut w), Some(data)) = (child_in.take(), stdin) {
                match w.write_all(data) {
                    // The client may stop reading after an error; its exit
                    // status and stderr tell the real story.
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                    other => other?,
                }
            }
            Ok(())
        });
        let err_reader = s.spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = child_err.take() {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        });
        let mut out = Vec::new();
        let out_res = match child_out.take() {
            Some(mut r) => r.read_to_end(&mut out).map(|_| ()),
            None => Ok(()),
        };
        let w = writer.join().unwrap_or(Ok(())).and(out_res);
        let e = err_reader.join().unwrap_or_default();
        (w, out, e)
    });
    let status = child.wait().map_err(|source| MariaDbError::Spawn {
        command: command.clone(),
        source,
    })?;
    if !status.success() {
        return Err(MariaDbError::CommandFailed {
            command,
            status,
            stderr: String::from_utf8_lossy(&err).into_owned(),
        });
    }
    write_res.map_err(|source| MariaDbError::Spawn { command, source })?;
    Ok(out)
}

/// Quotes an identifier with backticks for use in SQL.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Quotes a string literal for use in SQL (backslash-escaping, as the server
/// runs with the default `sql_mode`).
pub fn quote_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A running throwaway `mariadbd`. Killed, and its directory removed, on drop.
pub struct MariaDb {
    bins: Binaries,
    /// `None` once the directory has been handed over (kept) on drop.
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    datadir: PathBuf,
    socket: PathBuf,
    error_log: PathBuf,
    port: u16,
    /// Server options beyond the defaults (kept for a restart).
    extra: Vec<String>,
    server: Child,
    watchdog: Option<Child>,
}

impl fmt::Debug for MariaDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MariaDb")
            .field("root", &self.root)
            .field("socket", &self.socket)
            .field("port", &self.port)
            .field("pid", &self.server.id())
            .finish()
    }
}

/// A port no other server of this process was given (see [`crate::ports`]; another
/// process could still take it before the server binds it: start() retries on a new port
/// when the server exits early).
fn free_port() -> Result<u16> {
    crate::ports::free().map_err(io_err("binding 127.0.0.1:0 to find a free port"))
}

fn read_log(p: &Path) -> String {
    match std::fs::read(p) {
        Ok(b) => {
            let s = String::from_utf8_lossy(&b);
            // The tail is what matters; keep errors readable.
            let lines: Vec<&str> = s.lines().collect();
            let start = lines.len().saturating_sub(60);
            lines[start..].join("\n")
        }
        Err(e) => format!("(could not read {}: {e})", p.display()),
    }
}

impl MariaDb {
    /// Initialises a datadir in a fresh temporary directory and starts a
    /// server on it; returns once `SELECT 1` answers (at most
    /// [`START_TIMEOUT`]). Takes about one second.
    pub fn start() -> Result<MariaDb> {
        MariaDb::start_with(&[])
    }

    /// As [`MariaDb::start`], with server options added (`--innodb-data-file-path=…`), also
    /// to the bootstrap that creates the datadir.
    pub fn start_with(extra: &[&str]) -> Result<MariaDb> {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let bins = Binaries::find()?;
        let dir = tempfile::Builder::new()
            .prefix("understudy-mariadb-")
            .tempdir()
            .map_err(io_err("creating a temporary directory for mariadbd"))?;
        // Unix socket paths are limited to ~107 bytes; fall back to /tmp when
        // TMPDIR is deep.
        let dir = if dir.path().as_os_str().len() > 80 {
            tempfile::Builder::new()
                .prefix("understudy-mariadb-")
                .tempdir_in("/tmp")
                .map_err(io_err(
                    "creating a temporary directory in /tmp for mariadbd",
                ))?
        } else {
            dir
        };
        let root = dir.path().to_path_buf();
        let datadir = root.join("data");
        let tmpdir = root.join("tmp");
        std::fs::create_dir(&tmpdir).map_err(io_err(format!("creating {}", tmpdir.display())))?;

        let mut install = Command::new(&bins.install_db);
        install
            .arg("--no-defaults")
            .arg(arg_path("--datadir=", &datadir))
            .arg("--user=root")
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            // Its bootstrap server makes temporary tables too: in a shared /tmp, servers being
            // installed side by side (parallel tests) remove each other's.
            .arg(arg_path("--tmpdir=", &tmpdir))
            .arg("--innodb-log-file-size=16M")
            .arg("--innodb-buffer-pool-size=64M")
            .args(&extra);
        run_capture(install, None)?;

        let socket = root.join("mariadbd.sock");
        let error_log = root.join("error.log");

        let mut last_err = None;
        for _attempt in 0..3 {
            let port = free_port()?;
            let mut cmd = server_command(&bins, &root, port, &extra);
            let command = describe(&cmd);
            let server = cmd
                .spawn()
                .map_err(|source| MariaDbError::Spawn { command, source })?;
            let watchdog = spawn_watchdog(server.id(), &root);
            let mut db = MariaDb {
                bins: bins.clone(),
                dir: None,
                root: root.clone(),
                datadir: datadir.clone(),
                socket: socket.clone(),
                error_log: error_log.clone(),
                port,
                extra: extra.clone(),
                server,
                watchdog,
            };
            match db.wait_ready() {
                Ok(()) => {
                    db.dir = Some(dir);
                    return Ok(db);
                }
                Err(e @ MariaDbError::ServerExited { .. }) => {
                    // Most likely the port was taken in the meantime; retry
                    // with a new one. `db` is dropped without a dir: nothing
                    // is removed yet.
                    last_err = Some(e);
                    drop(db);
                    let _ = std::fs::remove_file(&socket);
                    continue;
                }
                Err(e) => {
                    drop(db);
                    if std::env::var_os(KEEP_ENV).is_some() {
                        let kept = dir.keep();
                        eprintln!(
                            "{KEEP_ENV} set: keeping MariaDB directory {}",
                            kept.display()
                        );
                    }
                    return Err(e);
                }
            }
        }
        // Three attempts failed: keep the directory only when asked to.
        if std::env::var_os(KEEP_ENV).is_some() {
            let kept = dir.keep();
            eprintln!(
                "{KEEP_ENV} set: keeping MariaDB directory {}",
                kept.display()
            );
        }
        Err(last_err.unwrap_or_else(|| MariaDbError::Parse {
            command: "mariadbd".into(),
            detail: "could not start".into(),
        }))
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut delay = Duration::from_millis(20);
        loop {
            if let Some(status) = self
                .server
                .try_wait()
                .map_err(io_err("waiting for mariadbd"))?
            {
                return Err(MariaDbError::ServerExited {
                    status,
                    datadir: self.datadir.clone(),
                    log: read_log(&self.error_log),
                });
            }
            if self.socket.exists() {
                let mut cmd = self.client();
                cmd.args(["--batch", "--skip-column-names", "-e", "SELECT 1"]);
                if let Ok(out) = run_capture(cmd, None) {
                    if out.starts_with(b"1") {
                        return Ok(());
                    }
                }
            }
            if Instant::now() >= deadline {
                let log = read_log(&self.error_log);
                return Err(MariaDbError::StartTimeout {
                    timeout: START_TIMEOUT,
                    datadir: self.datadir.clone(),
                    log,
                });
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }

    /// Kills the server with SIGKILL, as a crash or the OOM killer would, and waits for it.
    pub fn kill(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }

    /// Starts the server again on the same datadir, socket and port (after [`MariaDb::kill`]
    /// it recovers its data first, as after a crash).
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        let _ = std::fs::remove_file(&self.socket);
        let mut cmd = server_command(&self.bins, &self.root, self.port, &self.extra);
        let command = describe(&cmd);
        self.server = cmd
            .spawn()
            .map_err(|source| MariaDbError::Spawn { command, source })?;
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        self.watchdog = spawn_watchdog(self.server.id(), &self.root);
        self.wait_ready()
    }

    /// The binaries this server and its clients use.
    pub fn binaries(&self) -> &Binaries {
        &self.bins
    }

    /// The server's Unix socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The datadir (inside [`MariaDb::root`]).
    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// The temporary directory holding datadir, socket, pid file, error log.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The server's error log file.
    pub fn error_log(&self) -> &Path {
        &self.error_log
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.server.id()
    }

    /// A `mariadb` client command connected to this server as root through the
    /// socket: `mariadb --no-defaults --socket=S --user=root
    /// --default-character-set=utf8mb4`. Add arguments (a database name,
    /// `-e`, `--batch` …) and run it.
    pub fn client(&self) -> Command {
        let mut cmd = Command::new(&self.bins.client);
        cmd.arg("--no-defaults")
            .arg(arg_path("--socket=", &self.socket))
            .arg("--user=root")
            .arg("--default-character-set=utf8mb4");
        cmd
    }

    /// A `mariadb-dump` command connected to this server: `mariadb-dump
    /// --no-defaults --socket=S --user=root`. Add options and database names.
    pub fn dump_command(&self) -> Command {
        let mut cmd = Command::new(&self.bins.dump);
        cmd.arg("--no-defaults")
            .arg(arg_path("--socket=", &self.socket))
            .arg("--user=root");
        cmd
    }

    /// Runs SQL (any number of `;`-separated statements) with no default
    /// database. The SQL is piped on stdin.
    pub fn execute(&self, sql: &str) -> Result<()> {
        run_capture(self.client(), Some(sql.as_bytes())).map(|_| ())
    }

    /// Runs SQL with `db` as the default database.
    pub fn execute_in(&self, db: &str, sql: &str) -> Result<()> {
        let mut cmd = self.client();
        cmd.arg(db);
        run_capture(cmd, Some(sql.as_bytes())).map(|_| ())
    }

    /// Runs a query in `db` and returns the raw output of
    /// `mariadb --batch --raw --skip-column-names`: one line per row, fields
    /// separated by TAB, SQL NULL printed as `NULL`, values unescaped (a value
    /// containing TAB or newline is ambiguous: use `HEX()` in the query).
    pub fn query_raw(&self, db: &str, sql: &str) -> Result<Vec<u8>> {
        let mut cmd = self.client();
        cmd.args(["--batch", "--raw", "--skip-column-names"])
            .arg(db);
        run_capture(cmd, Some(sql.as_bytes()))
    }

    /// Runs a query in `db` and returns its rows as strings (see
    /// [`MariaDb::query_raw`] for the format; bytes that are not UTF-8 are
    /// replaced lossily).
    pub fn query(&self, db: &str, sql: &str) -> Result<Vec<Vec<String>>> {
        let out = self.query_raw(db, sql)?;
        let text = String::from_utf8_lossy(&out);
        Ok(text
            .split_terminator('\n')
            .map(|line| line.split('\t').map(str::to_owned).collect())
            .collect())
    }

    /// Convenience: the single value of a one-row, one-column query.
    pub fn query_value(&self, db: &str, sql: &str) -> Result<String> {
        let rows = self.query(db, sql)?;
        match rows.as_slice() {
            [row] if row.len() == 1 => Ok(row[0].clone()),
            _ => Err(MariaDbError::Parse {
                command: sql.to_string(),
                detail: format!("expected one value, got {rows:?}"),
            }),
        }
    }

    /// `CREATE DATABASE `name`` (utf8mb4 / utf8mb4_unicode_ci, the server default).
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.execute(&format!("CREATE DATABASE {};", quote_ident(name)))
    }

    /// `DROP DATABASE IF EXISTS `name``.
    pub fn drop_database(&self, name: &str) -> Result<()> {
        self.execute(&format!("DROP DATABASE IF EXISTS {};", quote_ident(name)))
    }

    /// Pipes a dump (or any SQL) into `mariadb --max-allowed-packet=1G
    /// --binary-mode db`. Pass `""` as `db` for a dump made with
    /// `--databases` that selects its own databases.
    pub fn load(&self, db: &str, dump: &[u8]) -> Result<()> {
        let mut cmd = self.client();
        cmd.args(["--max-allowed-packet=1G", "--binary-mode"]);
        if !db.is_empty() {
            cmd.arg(db);
        }
        run_capture(cmd, Some(dump)).map(|_| ())
    }

    /// Like [`MariaDb::load`] but reads the dump from a file (streamed, not
    /// held in memory).
    pub fn load_file(&self, db: &str, path: &Path) -> Result<()> {
        let file =
            std::fs::File::open(path).map_err(io_err(format!("opening {}", path.display())))?;
        let mut cmd = self.client();
        cmd.args(["--max-allowed-packet=1G", "--binary-mode"]);
        if !db.is_empty() {
            cmd.arg(db);
        }
        run_streamed(cmd, Stdio::from(file), Stdio::null())
    }

    /// Runs `mariadb-dump --no-defaults --socket=S --user=root <extra_args> db`
    /// and returns its output. With `db` empty, only `extra_args` are passed
    /// (e.g. `&["--databases", "a", "b"]` or `&["--all-databases"]`).
    pub fn dump(&self, db: &str, extra_args: &[&str]) -> Result<Vec<u8>> {
        let mut cmd = self.dump_command();
        cmd.args(extra_args);
        if !db.is_empty() {
            cmd.arg(db);
        }
        run_capture(cmd, None)
    }

    /// Like [`MariaDb::dump`] but writes to a file (streamed, for big dumps).
    pub fn dump_to_file(&self, db: &str, extra_args: &[&str], path: &Path) -> Result<()> {
        let file =
            std::fs::File::create(path).map_err(io_err(format!("creating {}", path.display())))?;
        let mut cmd = self.dump_command();
        cmd.args(extra_args);
        if !db.is_empty() {
            cmd.arg(db);
        }
        run_streamed(cmd, Stdio::null(), Stdio::from(file))
    }

    /// Base tables of `db` (from information_schema), sorted by name.
    pub fn tables(&self, db: &str) -> Result<Vec<String>> {
        let rows = self.query(
            "information_schema",
            &format!(
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = {} AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                quote_str(db)
            ),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect())
    }

    /// `CHECKSUM TABLE` of every base table in `db`: table name → checksum.
    /// Equal maps on two servers of the same version mean equal contents.
    pub fn checksums(&self, db: &str) -> Result<BTreeMap<String, u64>> {
        let tables = self.tables(db)?;
        let mut map = BTreeMap::new();
        if tables.is_empty() {
            return Ok(map);
        }
        let list: Vec<String> = tables.iter().map(|t| quote_ident(t)).collect();
        let sql = format!("CHECKSUM TABLE {}", list.join(", "));
        let rows = self.query(db, &sql)?;
        let prefix = format!("{db}.");
        for row in rows {
            let (name, sum) = match row.as_slice() {
                [name, sum] => (name, sum),
                _ => {
                    return Err(MariaDbError::Parse {
                        command: sql,
                        detail: format!("row {row:?}"),
                    })
                }
            };
            let table = name.strip_prefix(&prefix).unwrap_or(name).to_string();
            let sum: u64 = sum.parse().map_err(|_| MariaDbError::Parse {
                command: sql.clone(),
                detail: format!("checksum of {name} is {sum:?}"),
            })?;
            map.insert(table, sum);
        }
        Ok(map)
    }

    /// Stops the server now (clean shutdown via `mariadb-admin shutdown`,
    /// then SIGKILL after 10 s) and removes the directory unless
    /// `UNDERSTUDY_KEEP_DB` is set. Equivalent to dropping, but reports errors.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown(true);
        self.cleanup()
    }

    fn shutdown(&mut self, graceful: bool) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        if let Ok(Some(_)) = self.server.try_wait() {
            return;
        }
        if graceful {
            if let Some(admin) = &self.bins.admin {
                let mut cmd = Command::new(admin);
                cmd.arg("--no-defaults")
                    .arg(arg_path("--socket=", &self.socket))
                    .arg("--user=root")
                    .arg("shutdown");
                if run_capture(cmd, None).is_ok() {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while Instant::now() < deadline {
                        if let Ok(Some(_)) = self.server.try_wait() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }

    fn cleanup(&mut self) -> Result<()> {
        if let Some(dir) = self.dir.take() {
            if std::env::var_os(KEEP_ENV).is_some() {
                let kept = dir.keep();
                eprintln!(
                    "{KEEP_ENV} set: keeping MariaDB directory {}",
                    kept.display()
                );
            } else {
                let p = dir.path().to_path_buf();
                dir.close()
                    .map_err(io_err(format!("removing {}", p.display())))?;
            }
        }
        Ok(())
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let keep = std::env::var_os(KEEP_ENV).is_some();
        // A kept datadir should be consistent: shut down cleanly then.
        self.shutdown(keep && self.dir.is_some());
        let _ = self.cleanup();
    }
}

/// The `mariadbd` command line of the server in `root` (datadir, socket, logs inside it).
fn server_command(bins: &Binaries, root: &Path, port: u16, extra: &[String]) -> Command {
    let datadir = root.join("data");
    let tmpdir = root.join("tmp");
    let socket = root.join("mariadbd.sock");
    let error_log = root.join("error.log");
    let pid_file = root.join("mariadbd.pid");
    let mut cmd = Command::new(&bins.mariadbd);
    cmd.arg("--no-defaults")
        .arg(arg_path("--datadir=", &datadir))
        .arg(arg_path("--socket=", &socket))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(arg_path("--pid-file=", &pid_file))
        .arg(arg_path("--log-error=", &error_log))
        .arg(arg_path("--tmpdir=", &tmpdir))
        .arg("--user=root")
        .arg("--skip-log-bin")
        .arg("--character-set-server=utf8mb4")
        .arg("--collation-server=utf8mb4_unicode_ci")
        .arg("--innodb-log-file-size=16M")
        .arg("--innodb-buffer-pool-size=64M")
        .arg("--innodb-flush-log-at-trx-commit=0")
        .arg("--innodb-doublewrite=0")
        .arg("--performance-schema=OFF")
        .arg("--max-allowed-packet=1G")
        .arg("--skip-name-resolve")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn arg_path(prefix: &str, p: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(prefix);
    s.push(p.as_os_str());
    s
}

/// Starts `sh` watching this process: if the test process dies without
/// dropping the [`MariaDb`] (SIGKILL, abort), the watchdog kills the server
/// and removes the directory. Dropping kills the watchdog first. Best effort:
/// `None` if `sh` is not available.
fn spawn_watchdog(server_pid: u32, root: &Path) -> Option<Child> {
    let script = r#"
while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
if kill -0 "$2" 2>/dev/null; then
  kill -9 "$2" 2>/dev/null
  sleep 1
  if [ -z "$4" ]; then rm -rf -- "$3"; fi
fi
"#;
    let keep = if std::env::var_os(KEEP_ENV).is_some() {
        "1"
    } else {
        ""
    };
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("understudy-mariadb-watchdog")
        .arg(std::process::id().to_string())
        .arg(server_pid.to_string())
        .arg(root.as_os_str())
        .arg(OsStr::new(keep))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

/// Runs `cmd` with the given stdin and stdout (files, streamed), capturing stderr for the error.
fn run_streamed(mut cmd: Command, stdin: Stdio, stdout: Stdio) -> Result<()> {
    let command = describe(&cmd);
    let out = cmd
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| MariaDbError::Spawn {
            command: command.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(MariaDbError::CommandFailed {
            command,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start_or_skip() -> Option<MariaDb> {
        if let Err(e) = check_available() {
            eprintln!("skipping: {e}");
            return None;
        }
        Some(MariaDb::start().expect("start mariadbd"))
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_str("it's\\\n"), "'it\\'s\\\\\\n'");
    }

    #[test]
    fn versions_are_reported() {
        let Ok(b) = check_available() else { return };
        assert!(b.dump_version().unwrap().contains("mariadb-dump"));
        assert!(b.server_version().unwrap().contains("MariaDB"));
    }

    #[test]
    fn start_create_insert_query() {
        let Some(db) = start_or_skip() else { return };
        assert!(db.socket().exists());
        assert!(db.port() > 0);
        db.create_database("t1").unwrap();
        db.execute_in(
            "t1",
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50), note TEXT NULL);\n\
             INSERT INTO people VALUES (1,'Anna Beispiel',NULL),(2,'Bernd 😀 Muster','it''s');",
        )
        .unwrap();
        let rows = db
            .query("t1", "SELECT id, name, note FROM people ORDER BY id")
            .unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["1".to_string(), "Anna Beispiel".into(), "NULL".into()],
                vec!["2".to_string(), "Bernd 😀 Muster".into(), "it's".into()],
            ]
        );
        assert_eq!(
            db.query_value("t1", "SELECT @@character_set_server")
                .unwrap(),
            "utf8mb4"
        );
        assert_eq!(db.tables("t1").unwrap(), vec!["people".to_string()]);
        let sums = db.checksums("t1").unwrap();
        assert_eq!(sums.len(), 1);
        assert_ne!(sums["people"], 0);

        // Dump and reload into a second database: same checksums.
        let dump = db.dump("t1", &["--skip-dump-date"]).unwrap();
        assert!(dump.windows(12).any(|w| w == b"INSERT INTO "));
        db.create_database("t2").unwrap();
        db.load("t2", &dump).unwrap();
        assert_eq!(db.checksums("t2").unwrap(), sums);

        // Errors carry the client's message.
        let err = db
            .execute_in("t1", "SELECT * FROM nope")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");

        // TCP works too.
        let out = Command::new(&db.binaries().client)
            .args([
                "--no-defaults",
                "--protocol=tcp",
                "--host=127.0.0.1",
                "--user=root",
            ])
            .arg(format!("--port={}", db.port()))
            .args(["--batch", "--skip-column-names", "-e", "SELECT 7"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "7");

        let root = db.root().to_path_buf();
        let pid = db.pid();
        if std::env::var_os(KEEP_ENV).is_none() {
            drop(db);
            assert!(!root.exists(), "{} not removed", root.display());
            assert!(!Path::new(&format!("/proc/{pid}")).exists() || !is_alive(pid));
        }
    }

    fn is_alive(pid: u32) -> bool {
        // A zombie has no cmdline; a reaped process has no /proc entry.
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| !c.is_empty())
            .unwrap_or(false)
    }

    /// The committed dumps hold the same data as the committed SQL sources
    /// (what scripts/make-fixtures checks, here without regenerating).
    #[test]
    fn committed_dumps_match_their_sources() {
        let Some(db) = start_or_skip() else { return };
        let dir = fixtures_dir();
        for (name, dumps) in [
            (
                "types",
                &[
                    "types.default.sql",
                    "types.hex-blob.sql",
                    "types.skip-extended-insert.sql",
                ][..],
            ),
            ("elgg3", &["elgg3.default.sql"][..]),
            ("wordpress", &["wordpress.default.sql"][..]),
        ] {
            db.create_database(name).unwrap();
            db.load_file(name, &dir.join("sql").join(format!("{name}.sql")))
                .unwrap();
            let want = db.checksums(name).unwrap();
            assert!(!want.is_empty());
            for (i, d) in dumps.iter().enumerate() {
                let copy = format!("{name}_{i}");
                db.create_database(&copy).unwrap();
                db.load_file(&copy, &dir.join("dumps").join(d)).unwrap();
                assert_eq!(db.checksums(&copy).unwrap(), want, "{d}");
            }
        }
    }

    #[test]
    fn two_servers_side_by_side() {
        let Some(src) = start_or_skip() else { return };
        let dst = MariaDb::start().expect("start second mariadbd");
        assert_ne!(src.port(), dst.port());
        assert_ne!(src.socket(), dst.socket());
        src.create_database("site").unwrap();
        src.execute_in(
            "site",
            "CREATE TABLE b (id INT PRIMARY KEY, v LONGBLOB);\
             INSERT INTO b VALUES (1, REPEAT(x'00FF5C27', 5000000));", // 20 MB value
        )
        .unwrap();
        let dump = src.dump("site", &["--skip-dump-date"]).unwrap();
        assert!(dump.len() > 20_000_000);
        dst.create_database("site").unwrap();
        dst.load("site", &dump).unwrap();
        assert_eq!(
            src.checksums("site").unwrap(),
            dst.checksums("site").unwrap()
        );
        assert_eq!(
            dst.query_value("site", "SELECT LENGTH(v) FROM b").unwrap(),
            "20000000"
        );
        // The servers are independent.
        dst.execute("DROP DATABASE site").unwrap();
        assert_eq!(src.tables("site").unwrap(), vec!["b".to_string()]);
    }
}
