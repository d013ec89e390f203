//! The machine that holds a side's files (its docroot, config, data): this one, or one
//! reached over ssh. Config files are read and patched here in memory either way; a remote
//! one is read with `cat` and written back through standard input, checked with `php -l`
//! there, and renamed into place there.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::error::{Error, Stage};
use crate::ssh::{quote, quote_path, remote_failed, Connections, Remote};

/// Where a side's files are.
#[derive(Clone, Copy)]
pub(crate) enum Host<'a> {
    /// This machine.
    Local,
    /// Another, through the clone's ssh connections.
    Remote(&'a Connections, &'a Remote),
}

/// The exit status a remote `read` gives for a file that is not there.
const ABSENT: i32 = 3;

impl<'a> Host<'a> {
    /// The host for `remote` (none: this machine).
    pub fn of(ssh: &'a Connections, remote: Option<&'a Remote>) -> Host<'a> {
        match remote {
            Some(r) => Host::Remote(ssh, r),
            None => Host::Local,
        }
    }

    /// `path` on this host, for messages.
    pub fn show(&self, path: &Path) -> String {
        match self {
            Host::Local => path.display().to_string(),
            Host::Remote(_, r) => format!("{} on {}", path.display(), r.describe()),
        }
    }

    /// The text of the regular file `path`, or `None` when there is none.
    pub fn read(&self, path: &Path, stage: Stage) -> Result<Option<String>, Error> {
        match self {
            Host::Local => {
                if !path.is_file() {
                    return Ok(None);
                }
                std::fs::read_to_string(path).map(Some).map_err(|e| {
                    Error::stage_failed(stage, format!("cannot read {}: {e}", path.display()))
                })
            }
            Host::Remote(ssh, r) => {
                let p = quote_path(path);
                let out = ssh.run(
                    r,
                    &format!("if [ -f {p} ]; then exec cat -- {p}; else exit {ABSENT}; fi"),
                    b"",
                    stage,
                )?;
                match out.status.code() {
                    Some(0) => Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned())),
                    Some(ABSENT) => Ok(None),
                    _ => Err(remote_failed(
                        r,
                        &format!("reading {}", path.display()),
                        &out,
                        stage,
                    )),
                }
            }
        }
    }

    /// Replaces `file` on the remote host with `text`: written beside it (mode 0600 while
    /// written, then the old file's mode and owner), checked with `php -l` when `lint`,
    /// renamed into place. The text goes through standard input, never argv.
    pub fn replace_remote(&self, file: &Path, text: &str, lint: bool) -> Result<(), Error> {
        let Host::Remote(ssh, r) = self else {
            return Err(Error::stage_failed(
                Stage::Config,
                "a remote write on a local host",
            ));
        };
        let f = quote_path(file);
        let dir = quote_path(file.parent().unwrap_or(Path::new(".")));
        let lint = if lint {
            "php -l \"$t\" >&2 || { echo 'the patched file would not pass php -l; left unchanged' >&2; exit 65; }\n"
        } else {
            ""
        };
        let script = format!(
            "umask 077\n\
             t=$(mktemp --suffix=.php {dir}/.understudy-config-XXXXXX) || exit 1\n\
             trap 'rm -f \"$t\"' EXIT\n\
             cat > \"$t\" || exit 1\n\
             chmod --reference={f} \"$t\" 2>/dev/null; chown --reference={f} \"$t\" 2>/dev/null\n\
             {lint}mv -f \"$t\" {f} || exit 1\n"
        );
        let out = ssh.run(r, &script, text.as_bytes(), Stage::Config)?;
        if !out.status.success() {
            return Err(remote_failed(
                r,
                &format!("writing {}", file.display()),
                &out,
                Stage::Config,
            ));
        }
        Ok(())
    }

    /// Creates `dir` and its parents.
    pub fn create_dir_all(&self, dir: &Path, stage: Stage) -> Result<(), Error> {
        match self {
            Host::Local => std::fs::create_dir_all(dir).map_err(|e| {
                Error::stage_failed(stage, format!("cannot create {}: {e}", dir.display()))
            }),
            Host::Remote(ssh, r) => {
                let out = ssh.run(r, &format!("mkdir -p -- {}", quote_path(dir)), b"", stage)?;
                if !out.status.success() {
                    return Err(remote_failed(
                        r,
                        &format!("creating {}", dir.display()),
                        &out,
                        stage,
                    ));
                }
                Ok(())
            }
        }
    }

    /// Symbolic links under `root` (a directory) with their targets, and `root` resolved:
    /// for the check that none points out of the tree.
    pub fn remote_links(
        &self,
        root: &Path,
        stage: Stage,
    ) -> Result<(PathBuf, Vec<(PathBuf, PathBuf)>), Error> {
        let Host::Remote(ssh, r) = self else {
            return Err(Error::stage_failed(stage, "remote links on a local host"));
        };
        let out = ssh.run(
            r,
            &format!(
                "cd -- {} && pwd -P && find . -type l -printf '%h/%f\\t%l\\0'",
                quote_path(root)
            ),
            b"",
            stage,
        )?;
        if !out.status.success() {
            return Err(remote_failed(
                r,
                &format!("listing {}", root.display()),
                &out,
                stage,
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let (top, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let top = PathBuf::from(top);
        let links = rest
            .split('\0')
            .filter_map(|rec| rec.split_once('\t'))
            .map(|(p, l)| (top.join(p.trim_start_matches("./")), PathBuf::from(l)))
            .collect();
        Ok((top, links))
    }

    /// Runs `argv` in `dir` (or the login directory) with no input; its output.
    pub fn run(
        &self,
        argv: &[String],
        dir: Option<&Path>,
        stage: Stage,
        hide: &[&str],
    ) -> Result<Output, Error> {
        match self {
            Host::Local => {
                let mut cmd = std::process::Command::new(&argv[0]);
                cmd.args(&argv[1..]);
                if let Some(d) = dir {
                    cmd.current_dir(d);
                }
                for name in hide {
                    cmd.env_remove(name);
                }
                cmd.stdin(std::process::Stdio::null())
                    .output()
                    .map_err(|e| {
                        Error::stage_failed(stage, format!("cannot start {:?}: {e}", argv[0]))
                    })
            }
            Host::Remote(ssh, r) => {
                let mut script = String::new();
                if let Some(d) = dir {
                    script.push_str(&format!("cd -- {} && ", quote_path(d)));
                }
                script.push_str(&argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "));
                let mut cmd = ssh.command(r, &format!("sh -c {}", quote(&script)), stage)?;
                for name in hide {
                    cmd.env_remove(name);
                }
                cmd.stdin(std::process::Stdio::null())
                    .output()
                    .map_err(|e| Error::stage_failed(stage, format!("cannot run ssh: {e}")))
            }
        }
    }
}
