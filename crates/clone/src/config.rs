//! Patching the target's config files: the application's own settings from the plan's
//! target (database login, address, data directory, fresh salts), and any file by PHP
//! setting or by regular expression. A patched PHP file must pass `php -l` before it
//! replaces the old one; it is written beside it and renamed, keeping its mode.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Stage};
use crate::host::Host;
use crate::phpconfig::{Patched, PhpFile, PhpValue, Setting};
use crate::plan::Database;
use crate::site::Kind;

/// A `[[config]]` patch.
#[derive(Debug, Clone)]
pub struct ConfigPatch {
    /// The file (under the target root when relative).
    pub file: PathBuf,
    /// PHP settings (`define:NAME`, `$var`, `$CONFIG->x`, `$a['k']`) and their values.
    pub set: Vec<(String, PhpValue)>,
    /// Regular-expression replacements (multi-line mode), applied in order.
    pub regex: Vec<(regex::Regex, String)>,
}

/// The application settings a clone writes into the target's config.
pub struct Preset<'a> {
    /// The application.
    pub kind: Kind,
    /// The target database (login and name).
    pub database: &'a Database,
    /// The target's address.
    pub url: Option<&'a str>,
    /// The target's data directory.
    pub data: Option<&'a Path>,
}

impl Preset<'_> {
    /// The settings, each with whether it is added when the file lacks it (else changed
    /// only where present).
    fn settings(&self) -> Vec<(String, PhpValue, bool)> {
        let db = self.database;
        let s = |v: &str| PhpValue::Str(v.to_string());
        let mut out = Vec::new();
        match self.kind {
            Kind::WordPress => {
                out.push(("define:DB_NAME".into(), s(&db.database), true));
                if let Some(u) = &db.user {
                    out.push(("define:DB_USER".into(), s(u), true));
                }
                if let Some(p) = &db.password {
                    out.push(("define:DB_PASSWORD".into(), s(p), true));
                }
                let host = match (&db.socket, &db.host, db.port) {
                    (Some(sock), h, _) => {
                        format!("{}:{}", h.as_deref().unwrap_or("localhost"), sock.display())
                    }
                    (None, Some(h), Some(p)) => format!("{h}:{p}"),
                    (None, Some(h), None) => h.clone(),
                    (None, None, Some(p)) => format!("127.0.0.1:{p}"),
                    (None, None, None) => "localhost".into(),
                };
                out.push(("define:DB_HOST".into(), s(&host), true));
                if let Some(url) = self.url {
                    let url = url.trim_end_matches('/');
                    out.push(("define:WP_HOME".into(), s(url), false));
                    out.push(("define:WP_SITEURL".into(), s(url), false));
                }
                // Fresh salts: sessions and cookies of production do not open the copy.
                for key in [
                    "AUTH_KEY",
                    "SECURE_AUTH_KEY",
                    "LOGGED_IN_KEY",
                    "NONCE_KEY",
                    "AUTH_SALT",
                    "SECURE_AUTH_SALT",
                    "LOGGED_IN_SALT",
                    "NONCE_SALT",
                ] {
                    out.push((format!("define:{key}"), s(&salt()), false));
                }
            }
            Kind::Elgg => {
                out.push(("$CONFIG->dbname".into(), s(&db.database), true));
                if let Some(u) = &db.user {
                    out.push(("$CONFIG->dbuser".into(), s(u), true));
                }
                if let Some(p) = &db.password {
                    out.push(("$CONFIG->dbpass".into(), s(p), true));
                }
                out.push((
                    "$CONFIG->dbhost".into(),
                    s(db.host.as_deref().unwrap_or("localhost")),
                    true,
                ));
                if let Some(p) = db.port {
                    out.push(("$CONFIG->dbport".into(), PhpValue::Int(i64::from(p)), false));
                }
                if let Some(url) = self.url {
                    out.push((
                        "$CONFIG->wwwroot".into(),
                        s(&format!("{}/", url.trim_end_matches('/'))),
                        false,
                    ));
                }
                if let Some(data) = self.data {
                    let d = data.to_string_lossy();
                    out.push((
                        "$CONFIG->dataroot".into(),
                        s(&format!("{}/", d.trim_end_matches('/'))),
                        false,
                    ));
                }
            }
            Kind::Drupal => {
                let k = |key: &str| format!("$databases['default']['default']['{key}']");
                out.push((k("database"), s(&db.database), true));
                if let Some(u) = &db.user {
                    out.push((k("username"), s(u), true));
                }
                if let Some(p) = &db.password {
                    out.push((k("password"), s(p), true));
                }
                out.push((
                    k("host"),
                    s(db.host.as_deref().unwrap_or("localhost")),
                    true,
                ));
                if let Some(p) = db.port {
                    out.push((k("port"), s(&p.to_string()), true));
                }
                if let Some(data) = self.data {
                    out.push((
                        "$settings['file_private_path']".into(),
                        s(&data.to_string_lossy()),
                        false,
                    ));
                }
                if let Some(host) = self.url.and_then(host_of) {
                    let pattern = format!("^{}$", regex::escape(&host));
                    out.push((
                        "$settings['trusted_host_patterns']".into(),
                        PhpValue::List(vec![pattern]),
                        false,
                    ));
                }
                out.push(("$settings['hash_salt']".into(), s(&salt()), false));
            }
        }
        out
    }
}

/// The host of `url`.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':', '?', '#']).next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// 64 random printable characters (no quotes or backslashes), as WordPress's own salt
/// generator makes them.
fn salt() -> String {
    const CHARS: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#%^&*()-_[]{}<>~+=,.;:/?|";
    let mut bytes = [0u8; 64];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No urandom: mix the clock and the process id; still unique per clone.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            ^ u128::from(std::process::id());
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i * 7) % 120)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
    bytes
        .iter()
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect()
}

/// Applies the application preset to its config file under `root`; returns the file and
/// what changed (setting names, never values).
pub(crate) fn apply_preset(
    host: Host<'_>,
    root: &Path,
    preset: &Preset<'_>,
) -> Result<(PathBuf, Vec<String>), Error> {
    let mut found = None;
    for c in preset.kind.config_candidates() {
        let path = root.join(c);
        if let Some(text) = host.read(&path, Stage::Config)? {
            found = Some((path, text));
            break;
        }
    }
    let (file, text) = found.ok_or_else(|| {
        Error::stage_failed(
            Stage::Config,
            format!(
                "no {} config in {} (looked for {})",
                preset.kind.name(),
                root.display(),
                preset.kind.config_candidates().join(", ")
            ),
        )
    })?;
    let settings: Vec<(String, PhpValue, bool)> = preset.settings();
    let changed = patch_file(host, &file, Some(text), |php| {
        let mut changed = Vec::new();
        for (name, value, add) in &settings {
            let setting =
                Setting::parse(name).map_err(|m| Error::stage_failed(Stage::Config, m))?;
            if php.set(&setting, value, *add) != Patched::Absent {
                changed.push(name.clone());
            }
        }
        Ok(changed)
    })?;
    Ok((file, changed))
}

/// Applies a `[[config]]` patch under `root`.
pub(crate) fn apply_patch(
    host: Host<'_>,
    root: &Path,
    patch: &ConfigPatch,
) -> Result<PathBuf, Error> {
    let file = if patch.file.is_absolute() {
        patch.file.clone()
    } else {
        root.join(&patch.file)
    };
    patch_file(host, &file, None, |php| {
        for (name, value) in &patch.set {
            let setting =
                Setting::parse(name).map_err(|m| Error::stage_failed(Stage::Config, m))?;
            php.set(&setting, value, true);
        }
        let mut text = php.text().to_string();
        for (re, with) in &patch.regex {
            if !re.is_match(&text) {
                return Err(Error::stage_failed(
                    Stage::Config,
                    format!(
                        "{}: the pattern {:?} matches nothing",
                        file.display(),
                        re.as_str()
                    ),
                ));
            }
            text = re.replace_all(&text, with.as_str()).into_owned();
        }
        *php = PhpFile::new(text);
        Ok(())
    })?;
    Ok(file)
}

/// Reads `file` on `host` (unless its `text` is given), patches it with `f`, checks it
/// (`php -l` for PHP), and puts it in place.
fn patch_file<T>(
    host: Host<'_>,
    file: &Path,
    text: Option<String>,
    f: impl FnOnce(&mut PhpFile) -> Result<T, Error>,
) -> Result<T, Error> {
    let failed = |m: String| Error::stage_failed(Stage::Config, m);
    let text = match text {
        Some(t) => t,
        None => host
            .read(file, Stage::Config)?
            .ok_or_else(|| failed(format!("{} is not a file", host.show(file))))?,
    };
    let mut php = PhpFile::new(text);
    let out = f(&mut php)?;
    if let Host::Remote(..) = host {
        let lint = file.extension().is_some_and(|e| e == "php");
        host.replace_remote(file, php.text(), lint)?;
        return Ok(out);
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".understudy-config-")
        .suffix(".php")
        .tempfile_in(dir)
        .map_err(|e| failed(format!("cannot write in {}: {e}", dir.display())))?;
    std::fs::write(temp.path(), php.text())
        .map_err(|e| failed(format!("cannot write {}: {e}", temp.path().display())))?;
    if let Ok(meta) = std::fs::metadata(file) {
        let _ = std::fs::set_permissions(temp.path(), meta.permissions());
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let _ = std::os::unix::fs::chown(temp.path(), Some(meta.uid()), Some(meta.gid()));
        }
    }
    if file.extension().is_some_and(|e| e == "php") {
        let lint = Command::new("php")
            .arg("-l")
            .arg(temp.path())
            .output()
            .map_err(|e| failed(format!("cannot run php -l: {e} (install php-cli)")))?;
        if !lint.status.success() {
            return Err(Error::Stage {
                stage: Stage::Config,
                message: format!(
                    "{} would not pass php -l after the patch; left unchanged",
                    file.display()
                ),
                stderr: crate::child::tail(&lint.stdout),
            });
        }
    }
    temp.persist(file)
        .map_err(|e| failed(format!("cannot replace {}: {}", file.display(), e.error)))?;
    Ok(out)
}
