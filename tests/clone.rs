//! `understudy clone` between two real, throwaway MariaDB servers: the WordPress fixture
//! on the source, a target database with content of its own, a plan file that logs in over
//! TCP with passwords from the environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use understudy_testkit::mariadb::MariaDb;

use crate::util::{fixtures, understudy};

pub(crate) const SRC_PW: &str = "src-Pa55word-\"quoted\"-7f3a";
pub(crate) const DST_PW: &str = "dst-Pa55word-'single'-91c2";
pub(crate) const SECRET: &str = "clone-test-secret-0123456789";

/// Two servers, the source filled with the WordPress fixture, the target with a site of
/// its own (another table set, another URL), and a login with a password on each.
pub(crate) struct Sites {
    pub src: MariaDb,
    pub dst: MariaDb,
    pub dir: tempfile::TempDir,
}

impl Sites {
    pub(crate) fn new() -> Sites {
        let src = MariaDb::start().unwrap();
        let dst = MariaDb::start().unwrap();
        src.create_database("wp").unwrap();
        src.load_file("wp", &fixtures().join("dumps/wordpress.default.sql"))
            .unwrap();
        dst.create_database("wp_int").unwrap();
        dst.execute_in(
            "wp_int",
            "CREATE TABLE legacy (id INT PRIMARY KEY, note TEXT); \
             INSERT INTO legacy VALUES (1, 'from an older copy'); \
             CREATE TABLE wp_options (option_id INT PRIMARY KEY, option_name VARCHAR(191), option_value LONGTEXT); \
             INSERT INTO wp_options VALUES (1, 'siteurl', 'https://old-int.example.org');",
        )
        .unwrap();
        for (server, pw) in [(&src, SRC_PW), (&dst, DST_PW)] {
            let quoted = pw.replace('\\', "\\\\").replace('\'', "\\'");
            server
                .execute(&format!(
                    "CREATE USER 'cloner'@'127.0.0.1' IDENTIFIED BY '{quoted}'; \
                     GRANT ALL ON *.* TO 'cloner'@'127.0.0.1'"
                ))
                .unwrap();
        }
        Sites {
            src,
            dst,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A plan file; `extra` is appended (more sections), `vars` replace the rewrite's.
    pub(crate) fn plan(&self, vars: &str, extra: &str) -> PathBuf {
        let rules = fixtures().join("../rules/wordpress.toml");
        let text = format!(
            r#"[source]
host = "127.0.0.1"
port = {src_port}
user = "cloner"
password = "${{env:SRC_DB_PASSWORD}}"
database = "wp"

[target]
host = "127.0.0.1"
port = {dst_port}
user = "cloner"
password = "${{env:DST_DB_PASSWORD}}"
database = "wp_int"

[rewrite]
rules = "{rules}"
vars = {{ {vars} }}

[[post_sql]]
name = "banner"
sql = "UPDATE wp_options SET option_value = 'INTEGRATION - not production' WHERE option_name = 'blogname'"
{extra}"#,
            src_port = self.src.port(),
            dst_port = self.dst.port(),
            rules = rules.display(),
        );
        let path = self.dir.path().join("plan.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn clone(&self, plan: &Path, args: &[&str]) -> Output {
        clone_command(plan, args).output().unwrap()
    }

    pub(crate) fn target_checksums(&self) -> BTreeMap<String, u64> {
        self.dst.checksums("wp_int").unwrap()
    }

    /// Starts `cmd` (a clone whose dump pauses, [`paused_dump`]) and returns once the
    /// restore is in the staging database.
    pub(crate) fn paused_clone(&self, mut cmd: Command) -> std::process::Child {
        let child = cmd.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self
            .dst
            .tables("wp_int__understudy_stage")
            .map_or(true, |t| t.is_empty())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the restore never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child
    }

    pub(crate) fn databases(&self) -> Vec<String> {
        self.dst
            .query("mysql", "SHOW DATABASES")
            .unwrap()
            .into_iter()
            .map(|mut r| r.swap_remove(0))
            .collect()
    }
}

/// Two servers: the source with `file` loaded into `db`, and a login on each
/// (`src_user` with [`SRC_PW`], `dst_user` with [`DST_PW`]) over TCP.
pub(crate) fn servers(db: &str, file: &str, src_user: &str, dst_user: &str) -> (MariaDb, MariaDb) {
    let src = MariaDb::start().unwrap();
    let dst = MariaDb::start().unwrap();
    src.create_database(db).unwrap();
    src.load_file(db, &fixtures().join(file)).unwrap();
    for (server, user, pw) in [(&src, src_user, SRC_PW), (&dst, dst_user, DST_PW)] {
        let quoted = pw.replace('\\', "\\\\").replace('\'', "\\'");
        server
            .execute(&format!(
                "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{quoted}'; \
                 GRANT ALL ON *.* TO '{user}'@'127.0.0.1'"
            ))
            .unwrap();
    }
    (src, dst)
}

/// Runs `examples/NAME` as it is, its values from `env` and the target login's.
fn run_example(name: &str, dst: &MariaDb, dst_user: &str, env: &[(&str, &Path)]) -> Output {
    let mut cmd = understudy();
    cmd.arg("clone")
        .arg(fixtures().join("../examples").join(name))
        .env("TARGET_DB_HOST", "127.0.0.1")
        .env("TARGET_DB_PORT", dst.port().to_string())
        .env("TARGET_DB_USER", dst_user)
        .env("TARGET_DB_PASSWORD", DST_PW)
        .env("TARGET_DB_NAME", dst_user)
        .env("UNDERSTUDY_SECRET", SECRET);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().unwrap()
}

/// A `[dump]` whose dump pauses after its first tables, while the restore is in the
/// staging database (long enough for a loaded machine to notice and act within the pause).
pub(crate) fn paused_dump() -> String {
    format!(
        "[dump]\ncommand = [\"sh\", \"-c\", \"head -c 12000 {f}; sleep 8; tail -c +12001 {f}\"]\n",
        f = fixtures().join("dumps/wordpress.default.sql").display()
    )
}

pub(crate) const GOOD_VARS: &str =
    r#"src_url = "https://www.example.com", dst_url = "https://int.example.org""#;

pub(crate) fn clone_command(plan: &Path, args: &[&str]) -> Command {
    let mut cmd = understudy();
    cmd.arg("clone")
        .arg(plan)
        .args(args)
        .env("SRC_DB_PASSWORD", SRC_PW)
        .env("DST_DB_PASSWORD", DST_PW)
        .env("UNDERSTUDY_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Fails when `text` holds a password or the masking secret.
pub(crate) fn assert_no_secrets(text: &str) {
    for secret in [SRC_PW, DST_PW, SECRET] {
        assert!(!text.contains(secret), "a secret in: {text}");
    }
}

pub(crate) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every process's argv that holds `needle`, sampled until `stop` is set.
pub(crate) fn watch_argv(
    needles: Vec<String>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(entries) = std::fs::read_dir("/proc") {
                for e in entries.flatten() {
                    if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
                        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                        if needles.iter().any(|n| line.contains(n.as_str())) {
                            seen.push(line);
                        }
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        seen
    })
}

/// Files that appear under `dir` while `stop` is unset, other than client option files.
fn watch_files(dir: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let seen = Mutex::new(Vec::new());
        fn walk(dir: &Path, seen: &Mutex<Vec<String>>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, seen);
                } else if path.extension().is_none_or(|x| x != "cnf") {
                    if let Ok(mut s) = seen.lock() {
                        s.push(path.display().to_string());
                    }
                }
            }
        }
        while !stop.load(Ordering::Relaxed) {
            walk(&dir, &seen);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        seen.into_inner().unwrap_or_default()
    })
}

#[test]
fn clone_copies_rewrites_and_swaps_with_no_password_on_argv_and_no_dump_file() {
    let sites = Sites::new();
    // A post command that records its environment, where it runs.
    let post = tempfile::tempdir().unwrap();
    let plan = sites.plan(
        GOOD_VARS,
        &format!(
            "[[post_command]]\nname = \"record\"\ncommand = [\"sh\", \"-c\", \"env > env.txt\"]\ndir = \"{}\"\n",
            post.path().display()
        ),
    );
    let report = sites.dir.path().join("report.json");
    let tmp = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let argv = watch_argv(
        vec![SRC_PW.into(), DST_PW.into(), SECRET.into()],
        stop.clone(),
    );
    let files = watch_files(tmp.path().to_path_buf(), stop.clone());
    let work = watch_files(sites.dir.path().to_path_buf(), stop.clone());
    let out = clone_command(&plan, &["--report", report.to_str().unwrap()])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let (argv, files) = (argv.join().unwrap(), files.join().unwrap());
    let work: Vec<String> = work
        .join()
        .unwrap()
        .into_iter()
        .filter(|f| !f.ends_with("plan.toml") && !f.ends_with("report.json"))
        .collect();
    assert!(work.is_empty(), "files written beside the plan: {work:?}");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(argv.is_empty(), "a secret on a command line: {argv:?}");
    assert!(
        files.is_empty(),
        "files written beside the option files: {files:?}"
    );
    let report_text = std::fs::read_to_string(&report).unwrap();
    for secret in [SRC_PW, DST_PW, SECRET] {
        assert!(!all.contains(secret) && !report_text.contains(secret));
    }
    assert!(all.contains("swap"), "{all}");
    let env = std::fs::read_to_string(post.path().join("env.txt")).unwrap();
    assert!(env.contains("PATH="), "{env}");
    for secret in [SRC_PW, DST_PW, SECRET] {
        assert!(
            !env.contains(secret),
            "a post command inherited a secret: {env}"
        );
    }

    // The copy: the site moved, the banner set, people masked, the old target's own table gone.
    let option = |name: &str| {
        sites
            .dst
            .query_value(
                "wp_int",
                &format!("SELECT option_value FROM wp_options WHERE option_name = '{name}'"),
            )
            .unwrap()
    };
    assert_eq!(option("siteurl"), "https://int.example.org");
    assert_eq!(option("blogname"), "INTEGRATION - not production");
    let src_emails = sites
        .src
        .query("wp", "SELECT user_email FROM wp_users")
        .unwrap();
    let dst_emails = sites
        .dst
        .query("wp_int", "SELECT user_email FROM wp_users")
        .unwrap();
    assert_eq!(src_emails.len(), dst_emails.len());
    assert!(!src_emails.is_empty());
    for e in &src_emails {
        assert!(!dst_emails.contains(e), "{e:?} was copied unmasked");
    }
    let tables = sites.dst.tables("wp_int").unwrap();
    assert!(!tables.contains(&"legacy".to_string()), "{tables:?}");
    assert_eq!(tables, sites.src.tables("wp").unwrap());
    let dbs = sites.databases();
    assert!(!dbs.iter().any(|d| d.contains("understudy")), "{dbs:?}");
    let report: serde_json::Value = serde_json::from_str(&report_text).unwrap();
    assert_eq!(report["mode"], "atomic");
    assert_eq!(
        report["database"]["tables_dropped"],
        serde_json::json!(["legacy"])
    );
    assert!(report["database"]["rows"].as_u64().unwrap() > 0);
}

#[test]
fn a_failing_stage_leaves_the_target_as_it_was() {
    let sites = Sites::new();
    let before = sites.target_checksums();
    let dump = fixtures().join("dumps/wordpress.default.sql");

    // The dump command dies half-way.
    let half = format!(
        "[dump]\ncommand = [\"sh\", \"-c\", \"head -c 15000 {}; echo 'mariadb-dump: Lost connection' >&2; exit 3\"]\n",
        dump.display()
    );
    let out = sites.clone(&sites.plan(GOOD_VARS, &half), &[]);
    let all = text(&out);
    assert_no_secrets(&all);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("dump failed") && all.contains("Lost connection"),
        "{all}"
    );

    // The rewrite fails closed: the dump's tables are under another prefix than the plan says.
    let wrong = format!("{GOOD_VARS}, prefix = \"wpx_\"");
    let out = sites.clone(&sites.plan(&wrong, ""), &[]);
    let all = text(&out);
    assert_no_secrets(&all);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("rewrite failed") && all.contains("wp_"),
        "{all}"
    );

    // The site URL the plan gives is not the dump's.
    let other = r#"src_url = "https://www.example.net", dst_url = "https://int.example.org""#;
    let out = sites.clone(&sites.plan(other, ""), &[]);
    let all = text(&out);
    assert_no_secrets(&all);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("https://www.example.com"), "{all}");

    // A post command fails: after the swap, so the message says the database is in place.
    let failing = "[[post_command]]\nname = \"cache clear\"\ncommand = [\"sh\", \"-c\", \"echo no cache here >&2; exit 4\"]\n";
    let out = sites.clone(&sites.plan(GOOD_VARS, failing), &["--only", "post"]);
    let all = text(&out);
    assert_no_secrets(&all);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("post_command failed: cache clear exited") && all.contains("no cache here"),
        "{all}"
    );

    // A post-SQL statement fails after the whole restore.
    let bad_sql = "[[post_sql]]\nname = \"typo\"\nsql = \"UPDATE no_such_table SET x = 1\"\n";
    let out = sites.clone(&sites.plan(GOOD_VARS, bad_sql), &[]);
    let all = text(&out);
    assert_no_secrets(&all);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("post_sql failed") && all.contains("typo"),
        "{all}"
    );

    assert_eq!(sites.target_checksums(), before);
    let dbs = sites.databases();
    assert!(!dbs.iter().any(|d| d.contains("understudy")), "{dbs:?}");
}

#[test]
fn dry_run_and_check_show_the_steps_without_secrets() {
    let sites = Sites::new();
    let plan = sites.plan(GOOD_VARS, "");
    let out = sites.clone(&plan, &["--dry-run"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("--single-transaction") && all.contains("RENAME TABLE"),
        "{all}"
    );
    let out = sites.clone(&plan, &["--check"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("PROBLEM"), "{all}");
    assert!(
        all.contains("ok      target disk: the copy takes about"),
        "{all}"
    );
    for secret in [SRC_PW, DST_PW, SECRET] {
        assert!(!all.contains(secret));
    }
    // A wrong password is a problem the doctor names, and shows no password.
    let out = clone_command(&plan, &["--check"])
        .env("DST_DB_PASSWORD", "wrong-password-123")
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("PROBLEM target") && all.contains("Access denied"),
        "{all}"
    );
    assert!(!all.contains("wrong-password-123"), "{all}");
    assert_eq!(
        sites.dst.tables("wp_int").unwrap(),
        vec!["legacy".to_string(), "wp_options".to_string()]
    );
}

#[test]
fn a_target_server_killed_during_the_restore_leaves_its_database_as_it_was() {
    let mut sites = Sites::new();
    let before = sites.target_checksums();
    let child = sites.paused_clone(clone_command(&sites.plan(GOOD_VARS, &paused_dump()), &[]));
    // Killed, and back at the same address (as systemd restarts a crashed server) before
    // the dump goes on: the restore must still fail, not reconnect and carry on.
    sites.dst.kill();
    sites.dst.restart().unwrap();
    let out = child.wait_with_output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    // Which stage meets the dead server depends on when the restore client connected: the
    // engine reads ahead, so the pause need not fall inside the restore (seen in CI: the
    // restore had finished and the swap failed). Whichever it is, the clone stops and the
    // target is as it was.
    assert!(
        ["restore failed", "post_sql failed", "swap failed"]
            .iter()
            .any(|stage| all.contains(stage)),
        "{all}"
    );
    assert!(all.contains("the target database is as it was"), "{all}");
    assert_eq!(sites.target_checksums(), before);
    // The staging database the dead server kept is dropped by the next clone.
    let out = sites.clone(&sites.plan(GOOD_VARS, ""), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let dbs = sites.databases();
    assert!(!dbs.iter().any(|d| d.contains("understudy")), "{dbs:?}");
}

/// The reference plan of `docs/clone.md`, with every key, loads and dry-runs: its roots and
/// secret files pointed at a temporary site.
#[test]
fn the_reference_plan_in_the_docs_loads_with_every_key() {
    let doc = std::fs::read_to_string(fixtures().join("../docs/clone.md")).unwrap();
    let block = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    for key in [
        "kind",
        "source_root",
        "target_root",
        "target_url",
        "target_data",
        "patch_config",
        "host",
        "port",
        "user",
        "password",
        "password_file",
        "database",
        "command",
        "args",
        "rules",
        "vars",
        "secret_file",
        "replace",
        "allow_missing_tables",
        "name",
        "sql",
        "from",
        "to",
        "exclude",
        "delete",
        "keep",
        "owner",
        "chmod",
        "outside_links",
        "file",
        "set",
        "dir",
        "ssh",
        "target_ssh",
        "config_file",
        "options",
        "compress",
    ] {
        assert!(
            block.contains(&format!("\n{key} = ")),
            "docs/clone.md's plan lacks {key}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("www");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("wp-config.php"),
        "<?php\ndefine('DB_NAME', 'wordpress');\ndefine('DB_USER', 'backup');\n\
         define('DB_PASSWORD', 'source-pw');\ndefine('DB_HOST', 'db.example.com:3306');\n\
         $table_prefix = 'wp_';\n",
    )
    .unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    for file in ["target.pw", "secret", "source.pw"] {
        let path = etc.join(file);
        std::fs::write(&path, "docs-secret-0123456789\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
    }
    let plan = block
        .replace("/var/www/www.example.com", site.to_str().unwrap())
        .replace(
            "/var/www/int.example.com",
            dir.path().join("int").to_str().unwrap(),
        )
        .replace("/etc/understudy/", &format!("{}/", etc.display()))
        .replace(
            "../rules/",
            &format!("{}/", fixtures().join("../rules").display()),
        );
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    let out = understudy()
        .args(["clone", "--dry-run"])
        .arg(&path)
        .env("SOURCE_DB_PASSWORD", "source-pw")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("mariadb-dump --defaults-extra-file=/etc") || all.contains("source.cnf"),
        "{all}"
    );
    assert!(
        !all.contains("source-pw") && !all.contains("docs-secret"),
        "{all}"
    );
    assert!(!dir.path().join("int").exists(), "the dry run wrote files");
}

/// An Elgg 3 site on disk for `src`'s `elgg` database: an application directory whose
/// `settings.php` logs in as `elgg` with [`SRC_PW`], a data directory with a cache, and the
/// paths of the target's two (not created).
pub(crate) struct ElggSite {
    pub www: PathBuf,
    pub data: PathBuf,
    pub int_www: PathBuf,
    pub int_data: PathBuf,
    _dir: tempfile::TempDir,
}

impl ElggSite {
    pub fn new(src: &MariaDb) -> ElggSite {
        let dir = tempfile::tempdir().unwrap();
        let p = |s: &str| dir.path().join(s);
        let (www, data, int_www, int_data) = (p("www"), p("data"), p("int/www"), p("int/data"));
        for d in ["www/elgg-config", "data/1/2", "data/caches/views"] {
            std::fs::create_dir_all(p(d)).unwrap();
        }
        std::fs::write(
            www.join("index.php"),
            "<?php\nrequire 'vendor/autoload.php';\n",
        )
        .unwrap();
        std::fs::write(www.join(".htaccess"), "RewriteEngine on\n").unwrap();
        let settings = format!(
            "<?php\nglobal $CONFIG;\nif (!isset($CONFIG)) {{\n\t$CONFIG = new \\stdClass;\n}}\n\
             $CONFIG->dbuser = 'elgg';\n$CONFIG->dbpass = '{}';\n$CONFIG->dbname = 'elgg';\n\
             $CONFIG->dbhost = '127.0.0.1';\n$CONFIG->dbport = '{}';\n$CONFIG->dbprefix = 'elgg_';\n\
             $CONFIG->wwwroot = 'https://mitglieder.example.org/';\n$CONFIG->dataroot = '{}/';\n\
             $CONFIG->cacheroot = '{}/caches/';\n",
            SRC_PW.replace('\'', "\\'"),
            src.port(),
            data.display(),
            data.display()
        );
        std::fs::write(www.join("elgg-config/settings.php"), settings).unwrap();
        std::fs::write(data.join("1/2/avatar.jpg"), b"JPEG").unwrap();
        std::fs::write(data.join("caches/views/x.css"), b"cached").unwrap();
        ElggSite {
            www,
            data,
            int_www,
            int_data,
            _dir: dir,
        }
    }
}

/// `examples/clone-elgg.toml`, run as it is, on an Elgg-3-shaped database with an
/// application directory (its `settings.php` read for the source's facts) and a data
/// directory.
#[test]
fn the_elgg_example_copies_database_application_and_data() {
    let (src, dst) = servers("elgg", "dumps/elgg3.default.sql", "elgg", "elgg_int");
    let site = ElggSite::new(&src);
    let (www, data) = (site.www.as_path(), site.data.as_path());
    let (int_www, int_data) = (site.int_www.as_path(), site.int_data.as_path());

    let url = PathBuf::from("https://int.members.example.org/");
    let out = run_example(
        "clone-elgg.toml",
        &dst,
        "elgg_int",
        &[
            ("SOURCE_ROOT", www),
            ("SOURCE_DATA", data),
            ("TARGET_ROOT", int_www),
            ("TARGET_DATA", int_data),
            ("TARGET_URL", &url),
        ],
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains(SRC_PW) && !all.contains(DST_PW), "{all}");

    // Files: the application with its .htaccess, the data without its caches.
    assert_eq!(
        std::fs::read(int_www.join(".htaccess")).unwrap(),
        b"RewriteEngine on\n"
    );
    assert_eq!(
        std::fs::read(int_data.join("1/2/avatar.jpg")).unwrap(),
        b"JPEG"
    );
    assert!(!int_data.join("caches").exists());
    // settings.php: the target's login and directories, php -l clean.
    let patched = std::fs::read_to_string(int_www.join("elgg-config/settings.php")).unwrap();
    for want in [
        "$CONFIG->dbuser = 'elgg_int';".to_string(),
        "$CONFIG->dbname = 'elgg_int';".to_string(),
        format!("$CONFIG->dbport = {};", dst.port()),
        "$CONFIG->wwwroot = 'https://int.members.example.org/';".to_string(),
        format!("$CONFIG->dataroot = '{}/';", int_data.display()),
    ] {
        assert!(patched.contains(&want), "{want} not in {patched}");
    }
    assert!(!patched.contains(SRC_PW), "{patched}");
    let lint = Command::new("php")
        .arg("-l")
        .arg(int_www.join("elgg-config/settings.php"))
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    // The database: the banner, the site moved, no member's address.
    assert_eq!(
        dst.query_value(
            "elgg_int",
            "SELECT value FROM elgg_config WHERE name = 'understudy_banner'"
        )
        .unwrap(),
        "s:28:\"INTEGRATION - not production\";"
    );
    let copy = String::from_utf8_lossy(&dst.dump("elgg_int", &[]).unwrap()).into_owned();
    assert!(
        !copy.contains("mitglieder.example.org"),
        "the production URL is in the copy"
    );
    assert!(copy.contains("https://int.members.example.org/"));
    let emails = src
        .query(
            "elgg",
            "SELECT value FROM elgg_metadata WHERE name = 'email'",
        )
        .unwrap();
    assert!(!emails.is_empty());
    for e in emails {
        assert!(!copy.contains(&e[0]), "{} copied", e[0]);
    }
}

/// The target runs out of space mid-restore: its InnoDB tablespace is capped (all tables in
/// one system tablespace of at most 24 MiB), which fails the restore as a full disk does
/// ("The table is full"), without filling the machine's disk or mounting a small one.
#[test]
fn a_target_that_runs_out_of_space_leaves_its_database_as_it_was() {
    let src = MariaDb::start().unwrap();
    let dst = MariaDb::start_with(&[
        "--innodb-file-per-table=0",
        "--innodb-data-file-path=ibdata1:12M:autoextend:max:24M",
    ])
    .unwrap();
    src.create_database("wp").unwrap();
    src.load_file("wp", &fixtures().join("dumps/wordpress.default.sql"))
        .unwrap();
    dst.create_database("wp_int").unwrap();
    dst.execute_in(
        "wp_int",
        "CREATE TABLE legacy (id INT PRIMARY KEY, note TEXT); \
         INSERT INTO legacy VALUES (1, 'the integration site as it was');",
    )
    .unwrap();
    let before = dst.checksums("wp_int").unwrap();
    let sites = Sites {
        src,
        dst,
        dir: tempfile::tempdir().unwrap(),
    };
    for (server, pw) in [(&sites.src, SRC_PW), (&sites.dst, DST_PW)] {
        let quoted = pw.replace('\\', "\\\\").replace('\'', "\\'");
        server
            .execute(&format!(
                "CREATE USER 'cloner'@'127.0.0.1' IDENTIFIED BY '{quoted}'; \
                 GRANT ALL ON *.* TO 'cloner'@'127.0.0.1'"
            ))
            .unwrap();
    }
    // The dump, then 40 MB more rows, then the dump's trailer.
    let dump = fixtures().join("dumps/wordpress.default.sql");
    let script = sites.dir.path().join("big-dump.sh");
    std::fs::write(
        &script,
        format!(
            "sed '/^-- Dump completed/d' '{}'\n\
             echo 'CREATE TABLE filler (v LONGTEXT);'\n\
             x=$(head -c 100000 /dev/zero | tr '\\0' x)\n\
             i=0\n\
             while [ $i -lt 400 ]; do echo \"INSERT INTO filler VALUES ('$x');\"; i=$((i+1)); done\n\
             echo '-- Dump completed on 2026-12-04 22:00:00'\n",
            dump.display()
        ),
    )
    .unwrap();
    let big = format!("[dump]\ncommand = [\"sh\", \"{}\"]\n", script.display());
    // A plain copy: the filler table is no rule pack's business.
    let plan = sites.plan(GOOD_VARS, &big);
    let plain: String = std::fs::read_to_string(&plan)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("rules =") && !l.starts_with("vars ="))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&plan, plain).unwrap();
    let out = sites.clone(&plan, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("restore failed") && all.contains("is full"),
        "{all}"
    );
    assert_eq!(sites.dst.checksums("wp_int").unwrap(), before);
    // A full InnoDB may not even drop the staging database (its DDL log needs space too,
    // until the rollback of the failed statement has freed some): then the error says so,
    // and that the next clone drops it first.
    let dbs = sites.databases();
    if dbs.iter().any(|d| d.contains("understudy")) {
        assert!(
            all.contains("could not be dropped") && all.contains("the next clone drops it first"),
            "{dbs:?}: {all}"
        );
    }
}

/// `examples/clone-drupal.toml`, run as it is, on the Drupal fixture site with a code
/// directory (its `settings.php` read for the source's facts and patched by key inside the
/// `$databases` array) and a private files directory.
#[test]
fn the_drupal_example_patches_settings_inside_the_databases_array() {
    let (src, dst) = servers("drupal", "sql/drupal.sql", "drupal", "drupal_int");
    let dir = tempfile::tempdir().unwrap();
    let p = |s: &str| dir.path().join(s);
    for d in [
        "web/sites/default/files/css",
        "web/sites/default/files/2026-12",
        "private",
    ] {
        std::fs::create_dir_all(p(d)).unwrap();
    }
    std::fs::write(p("web/sites/default/files/css/agg.css"), "a{}").unwrap();
    std::fs::write(p("web/sites/default/files/2026-12/photo.jpg"), "JPEG").unwrap();
    std::fs::write(p("private/invoice.pdf"), "PDF").unwrap();
    let settings = format!(
        "<?php\n\n$databases['default']['default'] = array (\n  'database' => 'drupal',\n  \
         'username' => 'drupal',\n  'password' => '{}',\n  'prefix' => '',\n  \
         'host' => '127.0.0.1',\n  'port' => '{}',\n  \
         'namespace' => 'Drupal\\\\mysql\\\\Driver\\\\Database\\\\mysql',\n  'driver' => 'mysql',\n);\n\
         $settings['hash_salt'] = 'production-salt';\n\
         $settings['file_private_path'] = '{}';\n\
         $settings['trusted_host_patterns'] = ['^www\\.example\\.org$'];\n",
        SRC_PW.replace('\'', "\\'"),
        src.port(),
        p("private").display()
    );
    std::fs::write(p("web/sites/default/settings.php"), &settings).unwrap();

    let url = PathBuf::from("https://int.example.org");
    let out = run_example(
        "clone-drupal.toml",
        &dst,
        "drupal_int",
        &[
            ("SOURCE_ROOT", &p("web")),
            ("SOURCE_DATA", &p("private")),
            ("TARGET_ROOT", &p("int/web")),
            ("TARGET_DATA", &p("int/private")),
            ("TARGET_URL", &url),
        ],
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");

    assert!(!p("int/web/sites/default/files/css").exists());
    assert_eq!(
        std::fs::read(p("int/web/sites/default/files/2026-12/photo.jpg")).unwrap(),
        b"JPEG"
    );
    assert_eq!(std::fs::read(p("int/private/invoice.pdf")).unwrap(), b"PDF");
    let patched = std::fs::read_to_string(p("int/web/sites/default/settings.php")).unwrap();
    for want in [
        "'database' => 'drupal_int',".to_string(),
        "'username' => 'drupal_int',".to_string(),
        format!("'port' => '{}',", dst.port()),
        "'namespace' => 'Drupal\\\\mysql\\\\Driver\\\\Database\\\\mysql',".to_string(),
        format!(
            "$settings['file_private_path'] = '{}';",
            p("int/private").display()
        ),
        "$settings['trusted_host_patterns'] = ['^int\\\\.example\\\\.org$'];".to_string(),
    ] {
        assert!(patched.contains(&want), "{want} not in {patched}");
    }
    assert!(
        !patched.contains("production-salt") && !patched.contains(SRC_PW),
        "{patched}"
    );
    let lint = Command::new("php")
        .arg("-l")
        .arg(p("int/web/sites/default/settings.php"))
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    let copy = String::from_utf8_lossy(&dst.dump("drupal_int", &[]).unwrap()).into_owned();
    assert!(
        !copy.contains("https://www.example.org"),
        "the production URL is in the copy"
    );
    let mails = src
        .query(
            "drupal",
            "SELECT mail FROM users_field_data WHERE mail LIKE '%@%'",
        )
        .unwrap();
    assert!(!mails.is_empty());
    for m in mails {
        assert!(!copy.contains(&m[0]), "{} copied", m[0]);
    }
    assert_eq!(
        dst.query_value("drupal_int", "SELECT COUNT(*) FROM cache_render")
            .unwrap(),
        "0"
    );
}

/// Views, triggers, routines and events follow the tables through the swap: the copy's
/// replace the target's (a trigger cannot be renamed into another database, so they are
/// moved as SQL). Tables a snapshot cannot cover are named in a warning.
#[test]
fn views_triggers_and_routines_follow_the_swap() {
    let sites = Sites::new();
    sites
        .src
        .execute_in(
            "wp",
            "ALTER TABLE wp_terms ENGINE=MyISAM; \
             CREATE VIEW recent_posts AS SELECT ID, post_title FROM wp_posts; \
             CREATE TRIGGER term_slug BEFORE INSERT ON wp_terms FOR EACH ROW \
               SET NEW.slug = LOWER(NEW.slug); \
             CREATE FUNCTION posts_count() RETURNS INT READS SQL DATA \
               RETURN (SELECT COUNT(*) FROM wp_posts); \
             CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM wp_comments WHERE 0",
        )
        .unwrap();
    sites
        .dst
        .execute_in(
            "wp_int",
            "CREATE VIEW old_view AS SELECT id FROM legacy; \
             CREATE TRIGGER old_trigger BEFORE INSERT ON legacy FOR EACH ROW SET NEW.note = 'x'",
        )
        .unwrap();
    let out = sites.clone(&sites.plan(GOOD_VARS, ""), &[]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("not transactional (wp_terms)"), "{all}");
    let names = |sql: &str| -> Vec<String> {
        sites
            .dst
            .query("wp_int", sql)
            .unwrap()
            .into_iter()
            .map(|mut r| r.swap_remove(0))
            .collect()
    };
    assert_eq!(
        names("SELECT table_name FROM information_schema.views WHERE table_schema = 'wp_int'"),
        ["recent_posts"]
    );
    assert_eq!(
        names(
            "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = 'wp_int'"
        ),
        ["term_slug"]
    );
    assert_eq!(
        names("SELECT event_name FROM information_schema.events WHERE event_schema = 'wp_int'"),
        ["nightly"]
    );
    let posts = sites
        .dst
        .query_value("wp_int", "SELECT COUNT(*) FROM wp_posts")
        .unwrap();
    assert_eq!(
        sites
            .dst
            .query_value("wp_int", "SELECT posts_count()")
            .unwrap(),
        posts
    );
    assert_eq!(
        sites
            .dst
            .query_value("wp_int", "SELECT COUNT(*) FROM recent_posts")
            .unwrap(),
        posts
    );
    sites
        .dst
        .execute_in(
            "wp_int",
            "INSERT INTO wp_terms (name, slug) VALUES ('New', 'MIXED-Case')",
        )
        .unwrap();
    assert_eq!(
        sites
            .dst
            .query_value("wp_int", "SELECT slug FROM wp_terms WHERE name = 'New'")
            .unwrap(),
        "mixed-case"
    );
    let dbs = sites.databases();
    assert!(!dbs.iter().any(|d| d.contains("understudy")), "{dbs:?}");
}

/// SIGTERM during the restore: the process ends with the signal's status, its private
/// directory of option files (passwords) is gone, and the target database is as it was.
#[test]
fn a_signal_removes_the_option_files_and_leaves_the_target() {
    let sites = Sites::new();
    let before = sites.target_checksums();
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = clone_command(&sites.plan(GOOD_VARS, &paused_dump()), &[]);
    cmd.env("TMPDIR", tmp.path());
    let child = sites.paused_clone(cmd);
    let options: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert_eq!(options.len(), 1, "the option files' directory: {options:?}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    // Ended by the signal itself, as the default action would (a shell shows 143).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(15), "{}", text(&out));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(sites.target_checksums(), before);
}
