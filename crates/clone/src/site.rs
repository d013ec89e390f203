//! What a site says about itself: the application's own config file read for its database
//! login, table prefix, address and data directory, so a plan gives only what changes.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::phpconfig::{PhpFile, Setting};

/// The applications whose config a clone reads and patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// WordPress: `wp-config.php`.
    WordPress,
    /// Elgg 3.x (`elgg-config/settings.php`) or 2.3 (`engine/settings.php`).
    Elgg,
    /// Drupal 8 and later: `sites/default/settings.php`.
    Drupal,
}

impl Kind {
    /// The config files the application reads, in the order it looks, relative to its root.
    pub fn config_candidates(self) -> &'static [&'static str] {
        match self {
            // WordPress also looks one directory above its own.
            Kind::WordPress => &["wp-config.php", "../wp-config.php"],
            Kind::Elgg => &["elgg-config/settings.php", "engine/settings.php"],
            Kind::Drupal => &["sites/default/settings.php"],
        }
    }

    /// The config file under `root`, the first that exists.
    pub fn config_file(self, root: &Path) -> Option<PathBuf> {
        self.config_candidates()
            .iter()
            .map(|c| root.join(c))
            .find(|p| p.is_file())
    }

    /// The rule pack's name for this application.
    pub fn name(self) -> &'static str {
        match self {
            Kind::WordPress => "wordpress",
            Kind::Elgg => "elgg",
            Kind::Drupal => "drupal",
        }
    }
}

/// What the source's config file says.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The config file read.
    pub file: PathBuf,
    /// Database host, port or socket, user, password and name.
    pub host: Option<String>,
    /// TCP port.
    pub port: Option<u16>,
    /// Unix socket.
    pub socket: Option<PathBuf>,
    /// User.
    pub user: Option<String>,
    /// Password (never shown).
    pub password: Option<String>,
    /// Database name.
    pub database: Option<String>,
    /// Table prefix.
    pub prefix: Option<String>,
    /// The site's address, where the config holds it (Elgg's `wwwroot`, WordPress's
    /// `WP_HOME`).
    pub url: Option<String>,
    /// The data directory outside the application (Elgg's `dataroot`, Drupal's private
    /// files).
    pub data: Option<PathBuf>,
}

impl std::fmt::Debug for Facts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facts")
            .field("file", &self.file)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("socket", &self.socket)
            .field("user", &self.user)
            .field("password", &crate::plan::hidden(&self.password))
            .field("database", &self.database)
            .field("prefix", &self.prefix)
            .field("url", &self.url)
            .field("data", &self.data)
            .finish()
    }
}

/// Reads the facts of the `kind` site in `root`.
///
/// # Errors
/// When no config file is found or it cannot be read. Settings that are not literals
/// (`getenv('DB_PASSWORD')`) are left unknown: the plan must give them.
pub fn read_facts(kind: Kind, root: &Path) -> Result<Facts, String> {
    read_facts_from(kind, root, &|p: &Path| {
        if !p.is_file() {
            return Ok(None);
        }
        std::fs::read_to_string(p)
            .map(Some)
            .map_err(|e| format!("cannot read {}: {e}", p.display()))
    })
}

/// As [`read_facts`], the files read by `read` (`None`: no such file), for a site on
/// another machine.
pub(crate) fn read_facts_from(
    kind: Kind,
    root: &Path,
    read: &dyn Fn(&Path) -> Result<Option<String>, String>,
) -> Result<Facts, String> {
    let mut found = None;
    for c in kind.config_candidates() {
        let path = root.join(c);
        if let Some(text) = read(&path)? {
            found = Some((path, text));
            break;
        }
    }
    let (file, text) = found.ok_or_else(|| {
        format!(
            "no {} config in {} (looked for {})",
            kind.name(),
            root.display(),
            kind.config_candidates().join(", ")
        )
    })?;
    let php = PhpFile::new(text);
    let get = |name: &str| Setting::parse(name).ok().and_then(|s| php.get_literal(&s));
    let mut facts = Facts {
        file: file.clone(),
        ..Facts::default()
    };
    match kind {
        Kind::WordPress => {
            facts.database = get("define:DB_NAME");
            facts.user = get("define:DB_USER");
            facts.password = get("define:DB_PASSWORD");
            if let Some(host) = get("define:DB_HOST") {
                split_wordpress_host(&host, &mut facts);
            }
            facts.prefix = get("$table_prefix");
            facts.url = get("define:WP_HOME");
        }
        Kind::Elgg => {
            facts.database = get("$CONFIG->dbname");
            facts.user = get("$CONFIG->dbuser");
            facts.password = get("$CONFIG->dbpass");
            facts.host = get("$CONFIG->dbhost");
            facts.port = get("$CONFIG->dbport").and_then(|p| p.parse().ok());
            facts.prefix = get("$CONFIG->dbprefix");
            facts.url = get("$CONFIG->wwwroot");
            facts.data = get("$CONFIG->dataroot").map(PathBuf::from);
        }
        Kind::Drupal => {
            let db = |k: &str| get(&format!("$databases['default']['default']['{k}']"));
            facts.database = db("database");
            facts.user = db("username");
            facts.password = db("password");
            facts.host = db("host");
            facts.port = db("port").and_then(|p| p.parse().ok());
            facts.prefix = db("prefix");
            facts.data = get("$settings['file_private_path']").map(PathBuf::from);
            // Drupal 8+ rarely sets it: the address then comes from the request, and the plan
            // gives `src_url`.
            facts.url = get("$base_url");
        }
    }
    Ok(facts)
}

/// WordPress's `DB_HOST`: `host`, `host:port` or `host:/path/to/socket`.
fn split_wordpress_host(value: &str, facts: &mut Facts) {
    match value.split_once(':') {
        Some((host, rest)) if rest.starts_with('/') => {
            facts.host = Some(host.to_string());
            facts.socket = Some(PathBuf::from(rest));
        }
        Some((host, rest)) if rest.parse::<u16>().is_ok() => {
            facts.host = Some(host.to_string());
            facts.port = rest.parse().ok();
        }
        _ => facts.host = Some(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(kind: Kind, file: &str, text: &str) -> (tempfile::TempDir, Facts) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let facts = read_facts(kind, dir.path()).unwrap();
        (dir, facts)
    }

    #[test]
    fn wordpress_login_prefix_and_host_with_port() {
        let (_d, f) = site(
            Kind::WordPress,
            "wp-config.php",
            "<?php\ndefine( 'DB_NAME', 'wp' );\ndefine( 'DB_USER', 'u' );\ndefine( 'DB_PASSWORD', 'p\\'w' );\ndefine( 'DB_HOST', '127.0.0.1:3307' );\n$table_prefix = 'wpx_';\nrequire_once ABSPATH . 'wp-settings.php';\n",
        );
        assert_eq!(f.database.as_deref(), Some("wp"));
        assert_eq!(f.password.as_deref(), Some("p'w"));
        assert_eq!((f.host.as_deref(), f.port), (Some("127.0.0.1"), Some(3307)));
        assert_eq!(f.prefix.as_deref(), Some("wpx_"));
        assert!(!format!("{f:?}").contains("p'w"));
    }

    #[test]
    fn elgg_3_and_its_data_root() {
        let (_d, f) = site(
            Kind::Elgg,
            "elgg-config/settings.php",
            "<?php\nglobal $CONFIG;\n$CONFIG = new \\stdClass;\n$CONFIG->dbuser = 'elgg';\n$CONFIG->dbpass = 'x';\n$CONFIG->dbname = 'elgg';\n$CONFIG->dbhost = 'localhost';\n$CONFIG->dbport = '3306';\n$CONFIG->dbprefix = 'elgg_';\n$CONFIG->wwwroot = 'https://www.example.org/';\n$CONFIG->dataroot = '/var/lib/elgg/';\n",
        );
        assert_eq!(f.prefix.as_deref(), Some("elgg_"));
        assert_eq!(f.port, Some(3306));
        assert_eq!(f.url.as_deref(), Some("https://www.example.org/"));
        assert_eq!(f.data.as_deref(), Some(Path::new("/var/lib/elgg/")));
    }

    #[test]
    fn drupal_database_array() {
        let (_d, f) = site(
            Kind::Drupal,
            "sites/default/settings.php",
            "<?php\n$databases['default']['default'] = [\n  'database' => 'drupal',\n  'username' => 'd',\n  'password' => 'pw',\n  'host' => 'db',\n  'port' => '3306',\n  'driver' => 'mysql',\n  'prefix' => '',\n];\n$settings['file_private_path'] = '/srv/private';\n",
        );
        assert_eq!(f.database.as_deref(), Some("drupal"));
        assert_eq!(f.host.as_deref(), Some("db"));
        assert_eq!(f.prefix.as_deref(), Some(""));
        assert_eq!(f.data.as_deref(), Some(Path::new("/srv/private")));
    }

    #[test]
    fn no_config_is_an_error_naming_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_facts(Kind::Elgg, dir.path()).unwrap_err();
        assert!(e.contains("elgg-config/settings.php"), "{e}");
    }
}
