//! Other machines, over the system's OpenSSH client: the user's own config, agent and
//! `known_hosts`, one control master connection per host for every step of a clone.
//!
//! Why the system client and not a crate: it is what operators already trust and configure
//! (jump hosts, agents, certificates, `known_hosts`), and `rsync -e ssh` needs it anyway.
//!
//! - `BatchMode=yes`: nothing ever waits for a password or a yes/no prompt; an unknown host
//!   key is an error that says how to add it (no `StrictHostKeyChecking=no`).
//! - The master's control socket lives in a private directory (mode 0700) of the clone's,
//!   removed with it. The master runs `cat > /dev/null` on the remote side with its standard
//!   input a pipe from this process: when this process ends in any way, that pipe closes,
//!   the remote `cat` ends, and with it the master (`ControlPersist=no`).
//! - Every other command is a client of that master (`ControlMaster=no`); if the master is
//!   gone (the connection was cut), ssh connects anew by itself.
//! - Secrets never travel on argv: a remote command reads them from its standard input
//!   ([`crate::client`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Stage};

/// How long a first connection may take before the clone gives up on the host.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A machine reached over ssh: `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Remote {
    /// The login name (default: ssh's, from its config or the local user).
    pub user: Option<String>,
    /// Host name or address (or a `Host` alias of the ssh config).
    pub host: String,
    /// The port (default: ssh's).
    pub port: Option<u16>,
}

impl Remote {
    /// Parses `ssh://[user@]host[:port]`; `[::1]` for an IPv6 address.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn parse(text: &str) -> Result<Remote, String> {
        let rest = text
            .strip_prefix("ssh://")
            .ok_or_else(|| format!("{text:?}: expected ssh://[user@]host[:port]"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{text:?}: `[` without its `]`"))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| format!("{text:?}: {p:?} is not a port number"))
            })
            .transpose()?;
        // A name starting with `-` would be read by ssh as an option.
        let bad = |s: &str| {
            s.is_empty()
                || s.starts_with('-')
                || s.contains(|c: char| {
                    c.is_whitespace() || c.is_control() || "/'\"\\`$;&|<>".contains(c)
                })
        };
        if bad(host) {
            return Err(format!("{text:?}: {host:?} is not a host name"));
        }
        if let Some(u) = &user {
            if bad(u) {
                return Err(format!("{text:?}: {u:?} is not a user name"));
            }
        }
        Ok(Remote {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// `ssh://user@host:port`, as the plan gives it.
    pub fn describe(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("ssh://{user}{host}{port}")
    }

    /// `user@host` as ssh and rsync take it.
    fn destination(&self) -> String {
        match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        }
    }

    /// `user@host:` before a path, for rsync.
    pub(crate) fn rsync_prefix(&self) -> String {
        if self.host.contains(':') {
            format!(
                "{}[{}]:",
                self.user
                    .as_deref()
                    .map(|u| format!("{u}@"))
                    .unwrap_or_default(),
                self.host
            )
        } else {
            format!("{}:", self.destination())
        }
    }
}

/// How ssh is run: the plan's `[ssh]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `ssh -F FILE` (default: the user's own `~/.ssh/config`).
    pub config_file: Option<PathBuf>,
    /// `-o` options, `Name=value` each.
    pub options: Vec<String>,
    /// Compress the dump and the restore with `zstd` when the remote has it.
    pub compress: bool,
}

/// The ssh connections of a clone: one master per host, opened when first needed, closed
/// when this is dropped.
pub struct Connections {
    settings: Settings,
    dir: OnceLock<crate::PrivateDir>,
    masters: Mutex<Vec<Master>>,
}

struct Master {
    remote: Remote,
    socket: PathBuf,
    child: Child,
    /// Programs found on the remote side (asked once).
    tools: Option<Vec<String>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Connections {
    /// Connections made as `settings` say; none is opened yet.
    pub fn new(settings: Settings) -> Connections {
        Connections {
            settings,
            dir: OnceLock::new(),
            masters: Mutex::new(Vec::new()),
        }
    }

    /// The options every ssh command of a clone gets (without the control socket).
    fn base_args(&self, remote: &Remote) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(f) = &self.settings.config_file {
            args.push("-F".into());
            args.push(f.to_string_lossy().into_owned());
        }
        // ssh takes the first value it gets for an option: the plan's come before ours.
        for o in &self.settings.options {
            args.push("-o".into());
            args.push(o.clone());
        }
        // Never a prompt: a password, passphrase or host key question fails instead.
        args.extend(["-o".into(), "BatchMode=yes".into()]);
        args.extend([
            "-o".into(),
            format!("ConnectTimeout={}", CONNECT_TIMEOUT.as_secs()),
        ]);
        // A cut connection is noticed within a minute even when nothing is sent.
        args.extend(["-o".into(), "ServerAliveInterval=15".into()]);
        if let Some(p) = remote.port {
            args.push("-p".into());
            args.push(p.to_string());
        }
        args
    }

    /// The control socket of `remote`'s master, started if it is not running.
    fn master(&self, remote: &Remote, stage: Stage) -> Result<PathBuf, Error> {
        let mut masters = self
            .masters
            .lock()
            .map_err(|_| Error::stage_failed(stage, "the ssh connections are poisoned"))?;
        if let Some(m) = masters.iter_mut().find(|m| &m.remote == remote) {
            // A master that ended (its connection cut) is not started again: the clients
            // connect on their own, and the stage that lost the connection fails.
            return Ok(m.socket.clone());
        }
        let dir = match self.dir.get() {
            Some(d) => d,
            None => {
                let d = crate::private_dir()?;
                self.dir.get_or_init(|| d)
            }
        };
        let socket = dir.path().join(format!("ssh-{}", masters.len()));
        let mut cmd = Command::new("ssh");
        cmd.args(self.base_args(remote))
            .args(["-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-S"])
            .arg(&socket)
            .arg("--")
            .arg(remote.destination())
            .arg("cat > /dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            Error::stage_failed(
                stage,
                format!("cannot start ssh: {e} (install the openssh-client package)"),
            )
        })?;
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = Vec::new();
                if let Some(mut s) = child.stderr.take() {
                    let _ = s.read_to_end(&mut err);
                }
                return Err(connect_error(remote, status, &err, stage));
            }
            if socket.exists() && self.check(remote, &socket) {
                break;
            }
            if start.elapsed() > CONNECT_TIMEOUT + Duration::from_secs(5) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::stage_failed(
                    stage,
                    format!(
                        "{}: no ssh connection within {} s",
                        remote.describe(),
                        CONNECT_TIMEOUT.as_secs()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        // Its standard error is not read any more: a pipe nobody reads could fill; the
        // master writes little, but send it nowhere from here on.
        drop(child.stderr.take());
        masters.push(Master {
            remote: remote.clone(),
            socket: socket.clone(),
            child,
            tools: None,
        });
        Ok(socket)
    }

    fn check(&self, remote: &Remote, socket: &Path) -> bool {
        Command::new("ssh")
            .args(self.base_args(remote))
            .arg("-S")
            .arg(socket)
            .args(["-O", "check", "--"])
            .arg(remote.destination())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `ssh … HOST -- SCRIPT`: `script` is run by the remote user's shell. It must hold no
    /// secret (it is on argv on both sides).
    pub(crate) fn command(
        &self,
        remote: &Remote,
        script: &str,
        stage: Stage,
    ) -> Result<Command, Error> {
        let socket = self.master(remote, stage)?;
        let mut cmd = Command::new("ssh");
        cmd.args(self.base_args(remote))
            .args(["-o", "ControlMaster=no", "-S"])
            .arg(socket)
            .arg("--")
            .arg(remote.destination())
            .arg(script);
        Ok(cmd)
    }

    /// The `-e` of rsync: ssh through the master.
    pub(crate) fn rsync_shell(&self, remote: &Remote, stage: Stage) -> Result<String, Error> {
        let socket = self.master(remote, stage)?;
        let mut words = vec!["ssh".to_string()];
        words.extend(self.base_args(remote));
        words.extend(["-o".into(), "ControlMaster=no".into(), "-S".into()]);
        words.push(socket.to_string_lossy().into_owned());
        // rsync splits its -e on spaces and honours quotes (but no escapes inside them).
        let mut shell = Vec::new();
        for w in &words {
            shell.push(if !w.contains([' ', '\'', '"']) {
                w.clone()
            } else if !w.contains('\'') {
                format!("'{w}'")
            } else if !w.contains('"') {
                format!("\"{w}\"")
            } else {
                return Err(Error::stage_failed(
                    stage,
                    format!("{w:?} holds both kinds of quote, which rsync's -e cannot carry"),
                ));
            });
        }
        Ok(shell.join(" "))
    }

    /// Runs `script` (POSIX sh) on `remote` with `input` on its standard input; its output.
    ///
    /// # Errors
    /// A `stage` error with the end of its standard error.
    pub(crate) fn run(
        &self,
        remote: &Remote,
        script: &str,
        input: &[u8],
        stage: Stage,
    ) -> Result<std::process::Output, Error> {
        // The user's login shell may not be a POSIX one (fish): sh runs the script.
        let mut cmd = self.command(remote, &format!("sh -c {}", quote(script)), stage)?;
        crate::client::output_with_input(&mut cmd, input).map_err(|e| {
            Error::stage_failed(stage, format!("{}: cannot run ssh: {e}", remote.describe()))
        })
    }

    /// Which of `names` the remote has on its `PATH` (asked once per host).
    pub(crate) fn tools(&self, remote: &Remote, stage: Stage) -> Result<Vec<String>, Error> {
        self.master(remote, stage)?;
        if let Ok(masters) = self.masters.lock() {
            if let Some(t) = masters
                .iter()
                .find(|m| &m.remote == remote)
                .and_then(|m| m.tools.clone())
            {
                return Ok(t);
            }
        }
        let names = REMOTE_TOOLS.join(" ");
        let out = self.run(
            remote,
            &format!(
                "for t in {names}; do command -v \"$t\" >/dev/null 2>&1 && echo \"$t\"; done; true"
            ),
            b"",
            stage,
        )?;
        if !out.status.success() {
            return Err(remote_failed(remote, "listing its programs", &out, stage));
        }
        let found: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        if let Ok(mut masters) = self.masters.lock() {
            if let Some(m) = masters.iter_mut().find(|m| &m.remote == remote) {
                m.tools = Some(found.clone());
            }
        }
        Ok(found)
    }

    /// Whether the dump and restore to and from `remote` are compressed with zstd.
    pub(crate) fn compress(&self, remote: &Remote, stage: Stage) -> Result<bool, Error> {
        Ok(self.settings.compress && self.tools(remote, stage)?.iter().any(|t| t == "zstd"))
    }
}

/// The programs `--check` and the clone look for on a remote machine.
pub(crate) const REMOTE_TOOLS: [&str; 8] = [
    "mariadb",
    "mysql",
    "mariadb-dump",
    "mysqldump",
    "rsync",
    "php",
    "zstd",
    "df",
];

impl Drop for Connections {
    fn drop(&mut self) {
        let Ok(masters) = self.masters.get_mut() else {
            return;
        };
        for m in masters.iter_mut() {
            // Its input closed, the remote `cat` ends and the master with it; a master
            // that does not end in a moment (clients still attached) is stopped.
            drop(m.child.stdin.take());
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(2) {
                if let Ok(Some(_)) = m.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = m.child.kill();
            let _ = m.child.wait();
        }
    }
}

/// The error for a master that could not connect: an unknown host key says how to add it.
fn connect_error(
    remote: &Remote,
    status: std::process::ExitStatus,
    stderr: &[u8],
    stage: Stage,
) -> Error {
    let text = String::from_utf8_lossy(stderr);
    let mut message = format!(
        "cannot connect to {} (ssh exited with {status})",
        remote.describe()
    );
    if text.contains("Host key verification failed") || text.contains("host key is known") {
        let port = remote.port.map(|p| format!("-p {p} ")).unwrap_or_default();
        message.push_str(&format!(
            "; its host key is not in known_hosts: check it with its administrator, then add it \
             (`ssh-keyscan {port}{host} >> ~/.ssh/known_hosts`, or ssh to it once by hand)",
            host = remote.host
        ));
    } else if text.contains("Permission denied") {
        message.push_str(
            "; the login was refused: the clone uses your ssh agent or keys without prompting \
             (BatchMode), so load the key into the agent or name it in the ssh config",
        );
    }
    Error::Stage {
        stage,
        message,
        stderr: crate::child::tail(stderr),
    }
}

/// A remote command that failed.
pub(crate) fn remote_failed(
    remote: &Remote,
    what: &str,
    out: &std::process::Output,
    stage: Stage,
) -> Error {
    Error::Stage {
        stage,
        message: format!(
            "{what} on {} failed ({})",
            remote.describe(),
            if out.status.code() == Some(255) {
                "the ssh connection failed".to_string()
            } else {
                format!("exit {}", out.status)
            }
        ),
        stderr: crate::child::tail(&out.stderr),
    }
}

/// `text` quoted for a POSIX shell.
pub(crate) fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A path quoted for a POSIX shell.
pub(crate) fn quote_path(path: &Path) -> String {
    quote(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ssh_addresses() {
        let r = Remote::parse("ssh://deploy@www.example.com:2222").unwrap();
        assert_eq!(
            (r.user.as_deref(), r.host.as_str(), r.port),
            (Some("deploy"), "www.example.com", Some(2222))
        );
        assert_eq!(r.describe(), "ssh://deploy@www.example.com:2222");
        let r = Remote::parse("ssh://db1").unwrap();
        assert_eq!((r.user, r.host.as_str(), r.port), (None, "db1", None));
        let r = Remote::parse("ssh://u@[::1]:22").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("::1", Some(22)));
        assert_eq!(r.rsync_prefix(), "u@[::1]:");
        for bad in [
            "deploy@host",
            "ssh://-oProxyCommand=x",
            "ssh://host:port",
            "ssh://a b",
            "ssh://u@",
            "ssh://h;rm",
        ] {
            assert!(Remote::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(quote("/var/www"), "/var/www");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b$c"), "'a b$c'");
    }
}
