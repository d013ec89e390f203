//! A throwaway OpenSSH server on 127.0.0.1: its own host key, config, port and pid file, an
//! authorized key made for the test, and a client config (`ssh -F`) that trusts exactly its
//! host key.
//!
//! It logs in as the user running the tests. As root (a CI container) sshd runs as root
//! with `AllowUsers root`; as another user it runs as that user, which OpenSSH allows for
//! logins of that user only. `StrictModes no`: the test's temporary directory is not laid
//! out as a home directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `sshd` and the client files to reach it.
pub struct Sshd {
    child: Child,
    port: u16,
    user: String,
    client_config: PathBuf,
    remote_tmp: PathBuf,
    _dir: tempfile::TempDir,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[error("sshd: {0}")]
pub struct Error(String);

fn run(cmd: &mut Command) -> Result<String, Error> {
    let out = cmd
        .output()
        .map_err(|e| Error(format!("cannot run {cmd:?}: {e}")))?;
    if !out.status.success() {
        return Err(Error(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_port() -> Result<u16, Error> {
    crate::ports::free().map_err(|e| Error(format!("no free port: {e}")))
}

impl Sshd {
    /// Starts a server (Debian's `openssh-server`) and waits until it accepts connections.
    ///
    /// # Errors
    /// When a key cannot be made or the server does not come up.
    pub fn start() -> Result<Sshd, Error> {
        let dir = tempfile::tempdir().map_err(|e| Error(e.to_string()))?;
        let d = dir.path();
        let p = |name: &str| d.join(name);
        for key in ["host_key", "client_key"] {
            run(Command::new("ssh-keygen")
                .args([
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "understudy-test",
                    "-f",
                ])
                .arg(p(key)))?;
        }
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path).map_err(|e| Error(format!("{}: {e}", path.display())))
        };
        let write = |path: PathBuf, text: &str| {
            std::fs::write(&path, text).map_err(|e| Error(format!("{}: {e}", path.display())))
        };
        write(p("authorized_keys"), &read(p("client_key.pub"))?)?;
        let user = run(Command::new("id").arg("-un"))?.trim().to_string();
        let root = user == "root";
        if root {
            // sshd's privilege separation directory, which the package's service makes.
            std::fs::create_dir_all("/run/sshd").map_err(|e| Error(format!("/run/sshd: {e}")))?;
        }
        let remote_tmp = p("remote-tmp");
        std::fs::create_dir_all(&remote_tmp).map_err(|e| Error(e.to_string()))?;
        let port = free_port()?;
        write(
            p("sshd_config"),
            &format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {pid}\n\
                 AuthorizedKeysFile {ak}\nStrictModes no\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nAllowUsers {user}\n\
                 PermitRootLogin {root_login}\nAcceptEnv TMPDIR\nLogLevel ERROR\n",
                hk = p("host_key").display(),
                pid = p("sshd.pid").display(),
                ak = p("authorized_keys").display(),
                root_login = if root { "prohibit-password" } else { "no" },
            ),
        )?;
        let host_key = read(p("host_key.pub"))?;
        let mut parts = host_key.split_whitespace();
        let (kind, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        write(
            p("known_hosts"),
            &format!("[127.0.0.1]:{port} {kind} {key}\n"),
        )?;
        // The remote side's temporary files go to a directory of this test's, so the test
        // can see them come and go.
        write(
            p("ssh_config"),
            &format!(
                "Host *\n  IdentityFile {ck}\n  IdentitiesOnly yes\n  UserKnownHostsFile {kh}\n  \
                 GlobalKnownHostsFile /dev/null\n  SetEnv TMPDIR={rt}\n  LogLevel ERROR\n",
                ck = p("client_key").display(),
                kh = p("known_hosts").display(),
                rt = remote_tmp.display(),
            ),
        )?;
        // sshd re-executes itself, so it is started by its absolute path.
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(p("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Its log (a test's probe of the port shows there) goes to a file of its own.
            .stderr(
                std::fs::File::create(p("sshd.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .map_err(|e| Error(format!("cannot start /usr/sbin/sshd (openssh-server): {e}")))?;
        let mut sshd = Sshd {
            child,
            port,
            user,
            client_config: p("ssh_config"),
            remote_tmp,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = sshd.child.try_wait() {
                return Err(Error(format!("sshd exited with {status}")));
            }
            if Instant::now() > deadline {
                return Err(Error("sshd did not start listening".into()));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        Ok(sshd)
    }

    /// `ssh://user@127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("ssh://{}@127.0.0.1:{}", self.user, self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The client config (`ssh -F`): the key, the host key, and the remote `TMPDIR`.
    pub fn client_config(&self) -> &Path {
        &self.client_config
    }

    /// The directory the remote side's `TMPDIR` points at.
    pub fn remote_tmp(&self) -> &Path {
        &self.remote_tmp
    }

    /// Cuts every connection: kills the server's processes serving them, not the commands
    /// they run (the listener stays, so new connections are accepted). Returns how many
    /// were killed.
    pub fn cut_connections(&self) -> usize {
        let main = self.child.id();
        let mut killed = 0;
        let is_sshd = |pid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end().starts_with("sshd"))
        };
        for pid in descendants(main).into_iter().filter(is_sshd) {
            if Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .is_ok_and(|s| s.success())
            {
                killed += 1;
            }
        }
        killed
    }
}

/// Every process below `pid`, from `/proc`, parents first.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces, so read after its last `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.push((p, ppid));
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for (p, pp) in &parents {
            if *pp == parent {
                out.push(*p);
                frontier.push(*p);
            }
        }
    }
    out
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
