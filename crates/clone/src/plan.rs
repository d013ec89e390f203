//! The plan file: what to copy from where to where, checked before anything runs.
//!
//! Every key is documented in `docs/clone.md`. Unknown keys are errors (a misspelt key
//! that were ignored would copy with a default the user did not choose), and so is a
//! password written into the plan: it comes from `${env:NAME}` or a file only its owner
//! can read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use serde::Deserialize;

use crate::error::{Error, Stage};
use crate::ssh::{Connections, Remote};

/// The longest database name MariaDB accepts.
const MAX_DB_NAME: usize = 64;

/// Suffixes of the two databases an atomic clone uses beside the target.
pub(crate) const STAGE_SUFFIX: &str = "__understudy_stage";
pub(crate) const OLD_SUFFIX: &str = "__understudy_old";

/// A checked plan: paths resolved against the plan file's directory, passwords read.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan file.
    pub file: PathBuf,
    /// Where the database is copied from.
    pub source: Database,
    /// Where it is copied to.
    pub target: Database,
    /// How the dump is made.
    pub dump: DumpCommand,
    /// The rewrite between dump and restore.
    pub rewrite: Rewrite,
    /// SQL run on the copy before it is put in place, in order.
    pub post_sql: Vec<PostSql>,
    /// The application, when the plan names one: its roots, address and facts.
    pub site: Option<Site>,
    /// File copies, in order.
    pub copies: Vec<crate::files::Copy>,
    /// Config patches, in order (after the application's own).
    pub configs: Vec<crate::config::ConfigPatch>,
    /// Commands run at the end, in order.
    pub post_commands: Vec<PostCommand>,
    /// Environment variables the plan reads passwords from.
    pub password_env: Vec<String>,
    /// The machine holding the source's files (`site.source_ssh`), when not this one.
    pub source_files: Option<Remote>,
    /// The machine holding the target's files (`site.target_ssh`), when not this one.
    pub target_files: Option<Remote>,
    /// The ssh connections to the remote machines, opened when first used.
    pub connections: Arc<Connections>,
}

/// The application being cloned.
#[derive(Debug, Clone)]
pub struct Site {
    /// Which application.
    pub kind: crate::site::Kind,
    /// Its directory on the source.
    pub source_root: PathBuf,
    /// Its directory on the target.
    pub target_root: PathBuf,
    /// The target's address.
    pub target_url: Option<String>,
    /// The target's data directory (Elgg's dataroot, Drupal's private files).
    pub target_data: Option<PathBuf>,
    /// What the source's config file says.
    pub facts: crate::site::Facts,
    /// Patch the target's config file with the target's settings.
    pub patch_config: bool,
}

/// One `[[post_command]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostCommand {
    /// What it is, for progress and errors.
    pub name: String,
    /// Program and arguments.
    pub command: Vec<String>,
    /// Where it runs (default: the target root).
    pub dir: Option<PathBuf>,
}

/// A database on a server, and how to log in to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Database {
    /// Host name or address; `None` with a socket (or the client's default).
    pub host: Option<String>,
    /// TCP port.
    pub port: Option<u16>,
    /// Unix socket of a local server.
    pub socket: Option<PathBuf>,
    /// User name.
    pub user: Option<String>,
    /// The password, never shown (`Debug` hides it).
    pub password: Option<String>,
    /// The database.
    pub database: String,
    /// The machine its client programs run on (`ssh`), when not this one: `host` and
    /// `socket` are then as that machine sees them.
    pub ssh: Option<Remote>,
}

/// A secret as `Debug` shows it: whether there is one, never what it is.
pub(crate) fn hidden(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "(hidden)")
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("socket", &self.socket)
            .field("user", &self.user)
            .field("password", &hidden(&self.password))
            .field("database", &self.database)
            .field("ssh", &self.ssh.as_ref().map(Remote::describe))
            .finish()
    }
}

impl Database {
    /// `user@host:port/database` (or the socket), for messages: never the password.
    pub fn describe(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let place = match (&self.socket, &self.host, self.port) {
            (Some(s), _, _) => s.display().to_string(),
            (None, Some(h), Some(p)) => format!("{h}:{p}"),
            (None, Some(h), None) => h.clone(),
            (None, None, Some(p)) => format!("localhost:{p}"),
            (None, None, None) => "localhost".into(),
        };
        format!("{user}{place}/{}", self.database)
    }

    /// Whether both name the same database on the same server, as far as the plan says.
    fn same_as(&self, other: &Database) -> bool {
        let host = |d: &Database| match d.host.as_deref() {
            None | Some("localhost" | "127.0.0.1" | "::1") => None,
            Some(h) => Some(h.to_ascii_lowercase()),
        };
        self.database == other.database
            && self.ssh == other.ssh
            && host(self) == host(other)
            && self.port.unwrap_or(3306) == other.port.unwrap_or(3306)
            && self.socket == other.socket
    }

    /// The staging database of an atomic clone.
    pub fn stage_name(&self) -> String {
        format!("{}{STAGE_SUFFIX}", self.database)
    }

    /// Where the target's old tables go for the moment of the swap.
    pub fn old_name(&self) -> String {
        format!("{}{OLD_SUFFIX}", self.database)
    }
}

/// The dump command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpCommand {
    /// The program and arguments before the ones Understudy adds; `None`: `mariadb-dump`
    /// (or `mysqldump`) with a consistent snapshot.
    pub command: Option<Vec<String>>,
    /// Arguments added after the defaults.
    pub args: Vec<String>,
}

/// The rewrite: rules and their variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrite {
    /// The rule file; `None`: the dump is copied as it is.
    pub rules: Option<PathBuf>,
    /// Rule variables (`src_url`, `dst_url`, `prefix`, …).
    pub vars: BTreeMap<String, String>,
    /// A file holding the masking secret (mode 0600); else `UNDERSTUDY_SECRET`.
    pub secret_file: Option<PathBuf>,
    /// Plain `OLD=NEW` replacements, as `rewrite --replace` takes them.
    pub replace: Vec<String>,
    /// A dump of some tables only: masks that meet no table are not an error (as
    /// `rewrite --allow-missing-tables`).
    pub allow_missing_tables: bool,
}

/// One `[[post_sql]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostSql {
    /// What it is, for progress and errors.
    pub name: String,
    /// The statements.
    pub sql: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    site: Option<SiteFile>,
    source: Option<DatabaseFile>,
    target: DatabaseFile,
    #[serde(default)]
    dump: DumpFile,
    #[serde(default)]
    rewrite: RewriteFile,
    #[serde(default)]
    post_sql: Vec<PostSqlFile>,
    #[serde(default)]
    copy: Vec<CopyFile>,
    #[serde(default)]
    config: Vec<ConfigFile>,
    #[serde(default)]
    post_command: Vec<PostCommandFile>,
    #[serde(default)]
    ssh: SshFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SshFile {
    config_file: Option<PathBuf>,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default = "yes")]
    compress: bool,
}

impl Default for SshFile {
    fn default() -> SshFile {
        SshFile {
            config_file: None,
            options: Vec::new(),
            compress: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    kind: crate::site::Kind,
    source_root: PathBuf,
    target_root: PathBuf,
    target_url: Option<String>,
    target_data: Option<PathBuf>,
    #[serde(default = "yes")]
    patch_config: bool,
    source_ssh: Option<String>,
    target_ssh: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CopyFile {
    from: PathBuf,
    to: PathBuf,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    delete: bool,
    #[serde(default)]
    keep: Vec<String>,
    owner: Option<String>,
    chmod: Option<String>,
    #[serde(default)]
    outside_links: OutsideLinks,
}

/// What a copy does with a symbolic link that points out of its tree.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum OutsideLinks {
    /// Stop: the copy would point at the source's files.
    #[default]
    Refuse,
    /// Copy the file it points at.
    Copy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    file: PathBuf,
    #[serde(default)]
    set: toml::Table,
    #[serde(default)]
    replace: Vec<RegexFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexFile {
    pattern: String,
    with: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostCommandFile {
    name: Option<String>,
    command: Vec<String>,
    dir: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DatabaseFile {
    host: Option<String>,
    port: Option<PortFile>,
    socket: Option<PathBuf>,
    user: Option<String>,
    password: Option<toml::Spanned<String>>,
    password_file: Option<PathBuf>,
    database: Option<toml::Spanned<String>>,
    ssh: Option<String>,
}

/// A port: a number, or a string (`"${env:DB_PORT:-3306}"`).
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum PortFile {
    Number(u16),
    Text(String),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DumpFile {
    command: Option<Vec<String>>,
    #[serde(default)]
    args: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RewriteFile {
    rules: Option<PathBuf>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    secret_file: Option<PathBuf>,
    #[serde(default)]
    replace: Vec<String>,
    #[serde(default)]
    allow_missing_tables: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostSqlFile {
    name: Option<String>,
    sql: String,
}

/// Where a process's environment comes from: the real one, or a test's.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Plan {
    /// The environment variables that hold secrets of this clone: the passwords' and the
    /// masking secret's. Children that need none of them do not get them.
    pub fn secret_env_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.password_env.iter().map(String::as_str).collect();
        names.push("UNDERSTUDY_SECRET");
        names
    }

    /// Reads and checks the plan at `path`, with `${env:NAME}` read from the process's
    /// environment.
    ///
    /// # Errors
    /// [`Error::Plan`] naming file, line and key.
    pub fn from_path(path: &Path) -> Result<Plan, Error> {
        Plan::from_path_with_env(path, &|name| std::env::var(name).ok())
    }

    /// As [`Plan::from_path`], with the environment given.
    ///
    /// # Errors
    /// [`Error::Plan`] naming file, line and key.
    pub fn from_path_with_env(path: &Path, env: Env<'_>) -> Result<Plan, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Plan {
            file: path.to_path_buf(),
            line: None,
            key: String::new(),
            message: format!("cannot read the plan: {e}"),
        })?;
        Plan::from_str(&text, path, env)
    }

    /// Parses `text` as the plan at `path` (relative paths in it are relative to its
    /// directory).
    ///
    /// # Errors
    /// [`Error::Plan`] naming file, line and key.
    pub fn from_str(text: &str, path: &Path, env: Env<'_>) -> Result<Plan, Error> {
        let at = |span: Option<std::ops::Range<usize>>, key: &str, message: String| Error::Plan {
            file: path.to_path_buf(),
            line: span.map(|s| line_column(text, s.start)),
            key: key.to_string(),
            message,
        };
        let mut raw: PlanFile = toml::from_str(text).map_err(|e| {
            at(
                e.span(),
                "",
                e.message().trim_end().replace('\n', "; ").to_string(),
            )
        })?;
        expand_all(&mut raw, env).map_err(|(key, m)| at(None, &key, m))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { dir.join(p) };
        // Each side's database clients and files are on the machine its `ssh` key names;
        // one key given serves both (`"local"`: this machine).
        let remote = |key: &str, v: &Option<String>| -> Result<Option<Option<Remote>>, Error> {
            match v.as_deref() {
                None => Ok(None),
                Some("local") => Ok(Some(None)),
                Some(t) => Remote::parse(t)
                    .map(|r| Some(Some(r)))
                    .map_err(|m| at(None, key, m)),
            }
        };
        let site_ssh =
            |f: fn(&SiteFile) -> &Option<String>| raw.site.as_ref().and_then(|s| f(s).clone());
        let (src_db_ssh, src_files_ssh) = (
            remote(
                "source.ssh",
                &raw.source.as_ref().and_then(|s| s.ssh.clone()),
            )?,
            remote("site.source_ssh", &site_ssh(|s| &s.source_ssh))?,
        );
        let (dst_db_ssh, dst_files_ssh) = (
            remote("target.ssh", &raw.target.ssh)?,
            remote("site.target_ssh", &site_ssh(|s| &s.target_ssh))?,
        );
        let both = |db: &Option<Option<Remote>>, files: &Option<Option<Remote>>| {
            (
                db.clone().or_else(|| files.clone()).flatten(),
                files.clone().or_else(|| db.clone()).flatten(),
            )
        };
        let (source_db_remote, source_files) = both(&src_db_ssh, &src_files_ssh);
        let (target_db_remote, target_files) = both(&dst_db_ssh, &dst_files_ssh);
        let connections = Arc::new(Connections::new(crate::ssh::Settings {
            config_file: raw.ssh.config_file.clone().map(resolve),
            options: raw.ssh.options.clone(),
            compress: raw.ssh.compress,
        }));
        let site = match raw.site {
            Some(site) => {
                for (key, p) in [
                    ("site.source_root", &site.source_root),
                    ("site.target_root", &site.target_root),
                ] {
                    crate::files::check_no_parent(p, key).map_err(|m| at(None, key, m))?;
                }
                let source_root = resolve(site.source_root);
                let facts = match &source_files {
                    None => crate::site::read_facts(site.kind, &source_root)
                        .map_err(|m| at(None, "site.source_root", m))?,
                    Some(r) => {
                        // Read first (an ssh failure is the environment's, not the plan's).
                        let host = crate::host::Host::Remote(&connections, r);
                        let mut files = Vec::new();
                        for c in site.kind.config_candidates() {
                            let p = source_root.join(c);
                            let text = host.read(&p, Stage::Check)?;
                            files.push((p, text));
                        }
                        crate::site::read_facts_from(site.kind, &source_root, &|p: &Path| {
                            Ok(files
                                .iter()
                                .find(|(f, _)| f == p)
                                .and_then(|(_, t)| t.clone()))
                        })
                        .map_err(|m| at(None, "site.source_root", m))?
                    }
                };
                Some(Site {
                    kind: site.kind,
                    source_root,
                    target_root: resolve(site.target_root),
                    target_url: site.target_url,
                    target_data: site.target_data.map(resolve),
                    facts,
                    patch_config: site.patch_config,
                })
            }
            None => None,
        };
        let database = |which: &str,
                        d: DatabaseFile,
                        facts: Option<&crate::site::Facts>,
                        remote_side: bool|
         -> Result<Database, Error> {
            let name = match (&d.database, facts.and_then(|f| f.database.clone())) {
                (Some(n), Some(fact)) if *n.get_ref() != fact => {
                    return Err(at(
                        Some(n.span()),
                        &format!("{which}.database"),
                        format!("{:?}, but the site's config says {fact:?}", n.get_ref()),
                    ))
                }
                (Some(n), _) => {
                    check_db_name(n.get_ref())
                        .map_err(|m| at(Some(n.span()), &format!("{which}.database"), m))?;
                    n.get_ref().clone()
                }
                (None, Some(fact)) => {
                    check_db_name(&fact).map_err(|m| at(None, &format!("{which}.database"), m))?;
                    fact
                }
                (None, None) => {
                    return Err(at(None, &format!("{which}.database"), "is missing".into()))
                }
            };
            let password = match (d.password, d.password_file) {
                (Some(_), Some(_)) => {
                    return Err(at(
                        None,
                        &format!("{which}.password"),
                        "give password or password_file, not both".into(),
                    ))
                }
                (Some(p), None) => Some(
                    env_password(&p, env)
                        .map_err(|m| at(Some(p.span()), &format!("{which}.password"), m))?,
                ),
                (None, Some(file)) => Some(
                    understudy_rules::read_secret_file(&resolve(file))
                        .map_err(|e| at(None, &format!("{which}.password_file"), e.to_string()))?,
                ),
                (None, None) => None,
            };
            let mut db = Database {
                host: d.host,
                port: match d.port {
                    None => None,
                    Some(PortFile::Number(n)) => Some(n),
                    Some(PortFile::Text(t)) => Some(t.trim().parse().map_err(|_| {
                        at(
                            None,
                            &format!("{which}.port"),
                            format!("{t:?} is not a port number"),
                        )
                    })?),
                },
                socket: d.socket.map(|s| if remote_side { s } else { resolve(s) }),
                user: d.user,
                password,
                database: name,
                ssh: None,
            };
            if let Some(f) = facts {
                merge_facts(&mut db, f)
                    .map_err(|(key, m)| at(None, &format!("{which}.{key}"), m))?;
            }
            if let Some(p) = &db.password {
                check_option_value(p).map_err(|m| at(None, &format!("{which}.password"), m))?;
            }
            for (key, value) in [("host", db.host.as_deref()), ("user", db.user.as_deref())] {
                if let Some(v) = value {
                    check_option_value(v).map_err(|m| at(None, &format!("{which}.{key}"), m))?;
                }
            }
            Ok(db)
        };
        let env_name = |d: &Option<DatabaseFile>| {
            d.as_ref().and_then(|d| d.password.as_ref()).and_then(|p| {
                p.get_ref()
                    .strip_prefix("${env:")
                    .and_then(|r| r.strip_suffix('}'))
                    .map(str::to_string)
            })
        };
        let raw_password_env = (
            env_name(&raw.source),
            env_name(&Some(DatabaseFile {
                password: raw.target.password.clone(),
                ..DatabaseFile::default()
            })),
        );
        let facts = site.as_ref().map(|s| &s.facts);
        let source_file = match raw.source {
            Some(d) => d,
            None if facts.is_some() => DatabaseFile::default(),
            None => {
                return Err(at(
                    None,
                    "source",
                    "is missing (or give [site] to read it from the site's config)".into(),
                ))
            }
        };
        let mut source = database("source", source_file, facts, source_db_remote.is_some())?;
        source.ssh = source_db_remote;
        let target_span = raw.target.database.as_ref().map(|d| d.span());
        let mut target = database("target", raw.target, None, target_db_remote.is_some())?;
        target.ssh = target_db_remote;
        if source.same_as(&target) {
            return Err(at(
                target_span,
                "target.database",
                format!(
                    "the target is the source ({}): a clone would overwrite it",
                    source.describe()
                ),
            ));
        }
        if let Some(cmd) = &raw.dump.command {
            if cmd.is_empty() || cmd[0].is_empty() {
                return Err(at(None, "dump.command", "names no program".into()));
            }
        }
        let post_sql = raw
            .post_sql
            .into_iter()
            .enumerate()
            .map(|(i, p)| PostSql {
                name: p.name.unwrap_or_else(|| format!("post_sql[{i}]")),
                sql: p.sql,
            })
            .collect();
        let source_root = site.as_ref().map(|s| s.source_root.clone());
        let target_root = site.as_ref().map(|s| s.target_root.clone());
        let under = |root: &Option<PathBuf>, p: PathBuf, key: &str| -> Result<PathBuf, Error> {
            crate::files::check_no_parent(&p, key).map_err(|m| at(None, key, m))?;
            let joined = match root {
                Some(r) if p.is_relative() => r.join(p),
                _ => resolve(p),
            };
            // `.` parts say nothing, and a trailing one trips directory creation.
            Ok(joined
                .components()
                .filter(|c| *c != std::path::Component::CurDir)
                .collect())
        };
        if !raw.copy.is_empty() && source_files.is_some() && target_files.is_some() {
            return Err(at(
                None,
                "copy",
                "both sides' files are on other machines: rsync copies between this machine \
                 and one other; run the clone on one of them"
                    .into(),
            ));
        }
        let mut copies = Vec::new();
        for (i, c) in raw.copy.into_iter().enumerate() {
            copies.push(crate::files::Copy {
                from: under(&source_root, c.from, &format!("copy[{i}].from"))?,
                to: under(&target_root, c.to, &format!("copy[{i}].to"))?,
                exclude: c.exclude,
                delete: c.delete,
                keep: c.keep,
                owner: c.owner,
                chmod: c.chmod,
                copy_outside_links: c.outside_links == OutsideLinks::Copy,
            });
        }
        let mut configs = Vec::new();
        for (i, c) in raw.config.into_iter().enumerate() {
            let key = format!("config[{i}]");
            let mut set = Vec::new();
            for (name, value) in c.set {
                crate::phpconfig::Setting::parse(&name)
                    .map_err(|m| at(None, &format!("{key}.set"), m))?;
                set.push((
                    name.clone(),
                    php_value(&value).map_err(|m| at(None, &format!("{key}.set.{name}"), m))?,
                ));
            }
            let mut regex = Vec::new();
            for (j, r) in c.replace.into_iter().enumerate() {
                let re = regex::RegexBuilder::new(&r.pattern)
                    .multi_line(true)
                    .build()
                    .map_err(|e| at(None, &format!("{key}.replace[{j}].pattern"), e.to_string()))?;
                regex.push((re, r.with));
            }
            configs.push(crate::config::ConfigPatch {
                file: under(&target_root, c.file, &format!("{key}.file"))?,
                set,
                regex,
            });
        }
        let mut post_commands = Vec::new();
        for (i, c) in raw.post_command.into_iter().enumerate() {
            if c.command.first().is_none_or(|p| p.is_empty()) {
                return Err(at(
                    None,
                    &format!("post_command[{i}].command"),
                    "names no program".into(),
                ));
            }
            post_commands.push(PostCommand {
                name: c.name.unwrap_or_else(|| format!("post_command[{i}]")),
                command: c.command,
                dir: c.dir.map(resolve),
            });
        }
        let password_env = [&raw_password_env.0, &raw_password_env.1]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let mut vars = raw.rewrite.vars;
        if let Some(site) = &site {
            fill_vars(&mut vars, site)
                .map_err(|(key, m)| at(None, &format!("rewrite.vars.{key}"), m))?;
        }
        Ok(Plan {
            file: path.to_path_buf(),
            source,
            target,
            dump: DumpCommand {
                command: raw.dump.command,
                args: raw.dump.args,
            },
            rewrite: Rewrite {
                rules: raw.rewrite.rules.map(resolve),
                vars,
                secret_file: raw.rewrite.secret_file.map(resolve),
                replace: raw.rewrite.replace,
                allow_missing_tables: raw.rewrite.allow_missing_tables,
            },
            post_sql,
            site,
            copies,
            configs,
            post_commands,
            password_env,
            source_files,
            target_files,
            connections,
        })
    }
}

/// Fills the source login from the site's config where the plan leaves it out; a plan value
/// that contradicts the config is an error (key, message), which never shows a password.
fn merge_facts(db: &mut Database, f: &crate::site::Facts) -> Result<(), (&'static str, String)> {
    let file = f.file.display().to_string();
    fn merge<T: PartialEq + Clone + std::fmt::Debug>(
        key: &'static str,
        plan: &mut Option<T>,
        fact: &Option<T>,
        file: &str,
        show: bool,
    ) -> Result<(), (&'static str, String)> {
        match (plan.as_ref(), fact) {
            (Some(p), Some(f)) if p != f => Err((
                key,
                if show {
                    format!("{p:?}, but {file} says {f:?}")
                } else {
                    format!("differs from the one in {file}")
                },
            )),
            (None, Some(f)) => {
                *plan = Some(f.clone());
                Ok(())
            }
            _ => Ok(()),
        }
    }
    merge("host", &mut db.host, &f.host, &file, true)?;
    merge("port", &mut db.port, &f.port, &file, true)?;
    merge("socket", &mut db.socket, &f.socket, &file, true)?;
    merge("user", &mut db.user, &f.user, &file, true)?;
    merge("password", &mut db.password, &f.password, &file, false)?;
    Ok(())
}

/// The rule variables the site's facts give: a plan value that contradicts one is an error.
fn fill_vars(vars: &mut BTreeMap<String, String>, site: &Site) -> Result<(), (String, String)> {
    let file = site.facts.file.display().to_string();
    let mut put = |key: &str, value: Option<String>, from: &str| -> Result<(), (String, String)> {
        let Some(value) = value else { return Ok(()) };
        match vars.get(key) {
            Some(v) if v.trim_end_matches('/') != value.trim_end_matches('/') => {
                Err((key.to_string(), format!("{v:?}, but {from} says {value:?}")))
            }
            Some(_) => Ok(()),
            None => {
                vars.insert(key.to_string(), value);
                Ok(())
            }
        }
    };
    let path = |p: &Path| p.to_string_lossy().into_owned();
    put("prefix", site.facts.prefix.clone(), &file)?;
    put("src_url", site.facts.url.clone(), &file)?;
    put(
        "src_root",
        Some(path(&site.source_root)),
        "site.source_root",
    )?;
    put(
        "dst_root",
        Some(path(&site.target_root)),
        "site.target_root",
    )?;
    put("dst_url", site.target_url.clone(), "site.target_url")?;
    put("src_data", site.facts.data.as_deref().map(path), &file)?;
    put(
        "dst_data",
        site.target_data.as_deref().map(path),
        "site.target_data",
    )?;
    Ok(())
}

/// A TOML value as a PHP value.
fn php_value(v: &toml::Value) -> Result<crate::phpconfig::PhpValue, String> {
    use crate::phpconfig::PhpValue;
    Ok(match v {
        toml::Value::String(s) => PhpValue::Str(s.clone()),
        toml::Value::Integer(i) => PhpValue::Int(*i),
        toml::Value::Boolean(b) => PhpValue::Bool(*b),
        toml::Value::Array(items) => PhpValue::List(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or("a list holds strings only")
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err("expected a string, integer, boolean or list of strings".into()),
    })
}

/// Replaces `${env:NAME}` and `${env:NAME:-default}` in `text` with the environment's value
/// (or the default when it is unset or empty).
fn expand(text: &str, env: Env<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${env:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 6..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("{text:?}: `${{env:` without its closing `}}`"))?;
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (env(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => return Err(format!("the environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands `${env:…}` in every string of the plan but the passwords (which must be only
/// that, and are read where they are checked).
fn expand_all(raw: &mut PlanFile, env: Env<'_>) -> Result<(), (String, String)> {
    let s = |key: &str, v: &mut String| -> Result<(), (String, String)> {
        *v = expand(v, env).map_err(|m| (key.to_string(), m))?;
        Ok(())
    };
    let p = |key: &str, v: &mut PathBuf| -> Result<(), (String, String)> {
        let mut text = v.to_string_lossy().into_owned();
        s(key, &mut text)?;
        *v = PathBuf::from(text);
        Ok(())
    };
    if let Some(site) = &mut raw.site {
        p("site.source_root", &mut site.source_root)?;
        p("site.target_root", &mut site.target_root)?;
        if let Some(u) = &mut site.target_url {
            s("site.target_url", u)?;
        }
        if let Some(d) = &mut site.target_data {
            p("site.target_data", d)?;
        }
        if let Some(h) = &mut site.source_ssh {
            s("site.source_ssh", h)?;
        }
        if let Some(h) = &mut site.target_ssh {
            s("site.target_ssh", h)?;
        }
    }
    for (which, db) in [
        ("source", raw.source.as_mut()),
        ("target", Some(&mut raw.target)),
    ] {
        let Some(db) = db else { continue };
        if let Some(h) = &mut db.host {
            s(&format!("{which}.host"), h)?;
        }
        if let Some(PortFile::Text(t)) = &mut db.port {
            s(&format!("{which}.port"), t)?;
        }
        if let Some(sock) = &mut db.socket {
            p(&format!("{which}.socket"), sock)?;
        }
        if let Some(u) = &mut db.user {
            s(&format!("{which}.user"), u)?;
        }
        if let Some(f) = &mut db.password_file {
            p(&format!("{which}.password_file"), f)?;
        }
        if let Some(h) = &mut db.ssh {
            s(&format!("{which}.ssh"), h)?;
        }
        if let Some(d) = &mut db.database {
            let mut text = d.get_ref().clone();
            s(&format!("{which}.database"), &mut text)?;
            *d = toml::Spanned::new(d.span(), text);
        }
    }
    if let Some(f) = &mut raw.ssh.config_file {
        p("ssh.config_file", f)?;
    }
    for (i, o) in raw.ssh.options.iter_mut().enumerate() {
        s(&format!("ssh.options[{i}]"), o)?;
    }
    if let Some(r) = &mut raw.rewrite.rules {
        p("rewrite.rules", r)?;
    }
    if let Some(f) = &mut raw.rewrite.secret_file {
        p("rewrite.secret_file", f)?;
    }
    for (k, v) in raw.rewrite.vars.iter_mut() {
        s(&format!("rewrite.vars.{k}"), v)?;
    }
    for (i, c) in raw.copy.iter_mut().enumerate() {
        p(&format!("copy[{i}].from"), &mut c.from)?;
        p(&format!("copy[{i}].to"), &mut c.to)?;
    }
    for (i, c) in raw.config.iter_mut().enumerate() {
        p(&format!("config[{i}].file"), &mut c.file)?;
    }
    for (i, c) in raw.post_command.iter_mut().enumerate() {
        for arg in c.command.iter_mut() {
            s(&format!("post_command[{i}].command"), arg)?;
        }
        if let Some(d) = &mut c.dir {
            p(&format!("post_command[{i}].dir"), d)?;
        }
    }
    Ok(())
}

/// A password must come from the environment: `${env:NAME}`.
fn env_password(p: &toml::Spanned<String>, env: Env<'_>) -> Result<String, String> {
    let text = p.get_ref();
    let Some(name) = text
        .strip_prefix("${env:")
        .and_then(|r| r.strip_suffix('}'))
    else {
        return Err(
            "a password is not written into the plan: use \"${env:NAME}\" or \
                    password_file = \"FILE\" (mode 0600)"
                .into(),
        );
    };
    match env(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("the environment variable {name} is not set")),
    }
}

fn check_db_name(name: &str) -> Result<(), String> {
    let longest = MAX_DB_NAME - STAGE_SUFFIX.len().max(OLD_SUFFIX.len());
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > longest {
        return Err(format!(
            "is longer than {longest} bytes (the clone's staging database adds {STAGE_SUFFIX:?})"
        ));
    }
    if name.contains(['`', '/', '\\', '.', '\0']) || name.ends_with(' ') {
        return Err(format!(
            "{name:?} is not a database name this clone accepts"
        ));
    }
    Ok(())
}

/// Values go into a client option file, one per line: no line breaks, and not both quotes.
fn check_option_value(v: &str) -> Result<(), String> {
    if v.contains(['\n', '\r', '\0']) {
        return Err("holds a line break or NUL, which a client option file cannot carry".into());
    }
    if v.contains('"') && v.contains('\'') {
        return Err("holds both kinds of quote, which a client option file cannot carry".into());
    }
    Ok(())
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "PW").then(|| "s3cret\"pw".to_string())
    }

    fn plan(text: &str) -> Result<Plan, Error> {
        Plan::from_str(text, Path::new("/plans/site.toml"), &env)
    }

    const MINIMAL: &str = r#"
[source]
host = "db.prod"
user = "reader"
password = "${env:PW}"
database = "wp"

[target]
socket = "run/mysqld.sock"
database = "wp_int"

[rewrite]
rules = "../rules/wordpress.toml"
vars = { src_url = "https://www.example.com", dst_url = "https://int.example.org" }

[[post_sql]]
name = "banner"
sql = "UPDATE wp_options SET option_value = 'INT' WHERE option_name = 'blogname'"
"#;

    #[test]
    fn reads_a_plan_with_paths_relative_to_it_and_the_password_from_the_environment() {
        let p = plan(MINIMAL).unwrap();
        assert_eq!(p.source.password.as_deref(), Some("s3cret\"pw"));
        assert_eq!(
            p.target.socket.as_deref(),
            Some(Path::new("/plans/run/mysqld.sock"))
        );
        assert_eq!(
            p.rewrite.rules.as_deref(),
            Some(Path::new("/plans/../rules/wordpress.toml"))
        );
        assert_eq!(p.post_sql[0].name, "banner");
        assert_eq!(p.target.stage_name(), "wp_int__understudy_stage");
        assert!(!format!("{p:?}").contains("s3cret"));
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let e = plan(&MINIMAL.replace("user = \"reader\"", "usr = \"reader\"")).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("/plans/site.toml:4:1: "), "{text}");
        assert!(text.contains("usr"), "{text}");
    }

    #[test]
    fn a_password_in_the_plan_is_refused_without_being_shown() {
        let e = plan(&MINIMAL.replace("${env:PW}", "hunter2-literal")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("source.password"), "{text}");
        assert!(text.contains(":5:"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn an_unset_variable_is_named() {
        let e = plan(&MINIMAL.replace("${env:PW}", "${env:NOPE}")).unwrap_err();
        assert!(e.to_string().contains("NOPE is not set"), "{e}");
    }

    #[test]
    fn env_references_with_defaults_are_expanded_outside_passwords() {
        let text = MINIMAL
            .replace(
                "host = \"db.prod\"",
                "host = \"${env:NOPE:-db.prod}\"\nport = \"${env:NOPE:-3307}\"",
            )
            .replace("\"wp_int\"", "\"${env:DB:-wp}_int\"");
        let p = plan(&text).unwrap();
        assert_eq!(p.source.host.as_deref(), Some("db.prod"));
        assert_eq!(p.source.port, Some(3307));
        assert_eq!(p.target.database, "wp_int");
        let e = plan(&MINIMAL.replace("\"wp_int\"", "\"${env:NOPE}\"")).unwrap_err();
        assert!(
            e.to_string().contains("target.database") && e.to_string().contains("NOPE"),
            "{e}"
        );
    }

    #[test]
    fn the_source_as_target_is_refused() {
        let text = MINIMAL
            .replace("socket = \"run/mysqld.sock\"", "host = \"DB.prod\"")
            .replace("\"wp_int\"", "\"wp\"");
        let e = plan(&text).unwrap_err();
        assert!(e.to_string().contains("the target is the source"), "{e}");
    }

    #[test]
    fn ssh_keys_name_the_machines_and_one_serves_both_parts_of_its_side() {
        let text = MINIMAL.replace(
            "[target]\n",
            "[target]\nssh = \"ssh://deploy@int.example.org:2222\"\n",
        );
        let p = plan(&text).unwrap();
        let r = p.target.ssh.as_ref().unwrap();
        assert_eq!(r.describe(), "ssh://deploy@int.example.org:2222");
        assert_eq!(p.target_files.as_ref(), Some(r));
        assert!(p.source.ssh.is_none() && p.source_files.is_none());
        // A socket on the other machine is not resolved against the plan's directory.
        assert_eq!(
            p.target.socket.as_deref(),
            Some(Path::new("run/mysqld.sock"))
        );
        let e = plan(&MINIMAL.replace("[source]\n", "[source]\nssh = \"db.prod\"\n")).unwrap_err();
        assert!(e.to_string().contains("source.ssh"), "{e}");
        // The same database name and address on two machines are two databases.
        let same = MINIMAL
            .replace("socket = \"run/mysqld.sock\"", "host = \"db.prod\"")
            .replace("\"wp_int\"", "\"wp\"")
            .replace("[target]\n", "[target]\nssh = \"ssh://int\"\n");
        assert!(plan(&same).is_ok());
    }

    #[test]
    fn a_copy_between_two_remote_machines_is_refused() {
        let text = format!(
            "{}\n[[copy]]\nfrom = \"/srv/a\"\nto = \"/srv/b\"\n",
            MINIMAL
                .replace("[source]\n", "[source]\nssh = \"ssh://prod\"\n")
                .replace("[target]\n", "[target]\nssh = \"ssh://int\"\n")
        );
        let e = plan(&text).unwrap_err();
        assert!(
            e.to_string().contains("run the clone on one of them"),
            "{e}"
        );
        // "local" is this machine.
        let p = plan(&text.replace("ssh://int", "local")).unwrap();
        assert!(p.target.ssh.is_none() && p.target_files.is_none());
        assert!(p.source_files.is_some());
    }

    #[test]
    fn database_names_that_cannot_stage_are_refused() {
        let long = "x".repeat(50);
        let e = plan(&MINIMAL.replace("\"wp_int\"", &format!("\"{long}\""))).unwrap_err();
        assert!(e.to_string().contains("target.database"), "{e}");
        let e = plan(&MINIMAL.replace("\"wp_int\"", "\"a`b\"")).unwrap_err();
        assert!(e.to_string().contains("not a database name"), "{e}");
    }
}
