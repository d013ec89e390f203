//! `examples/clone-wordpress.toml`, run as it is, on a real WordPress (Debian's `wordpress`
//! package): installed by its own installer into a source docroot and database (with its
//! own `wp-config.php`), filled through its API, cloned to a target docroot, database and
//! URL on a second server, then served by `php -S` and fetched over HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use understudy_testkit::mariadb::MariaDb;

use crate::util::{understudy, wordpress_dir};

const SRC_URL: &str = "http://www.example.com";
const SRC_PW: &str = "prod-db-password-5d1e";
const DST_PW: &str = "int-db-password-'8a2f";
const SECRET: &str = "clone-wordpress-test-secret";

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("starts");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A WordPress docroot: the package's files (its links made files, as on a site not
/// installed from the package), the test theme, and a `wp-config.php`
/// for `server`'s database `db`.
fn docroot(root: &Path, server: &MariaDb, db: &str) {
    // Debian links libraries into /usr/share/php: made files, as in a tarball install.
    run(Command::new("cp").arg("-rL").arg(wordpress_dir()).arg(root));
    std::fs::remove_file(root.join(".htaccess")).unwrap();
    std::fs::write(root.join(".htaccess"), "# production rewrite rules\n").unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(repo().join("tests/clone/theme"))
        .arg(root.join("wp-content/themes/understudy-test")));
    let sample = std::fs::read_to_string(root.join("wp-config-sample.php")).unwrap();
    let config = sample
        .replace("database_name_here", db)
        .replace("username_here", "wp_prod")
        .replace("password_here", SRC_PW)
        .replace("'localhost'", &format!("'127.0.0.1:{}'", server.port()))
        .replace("put your unique phrase here", "production-salt")
        // No network here: WordPress's update checks and its cron's loopback request to a
        // single-threaded `php -S` would each wait for a timeout.
        .replace(
            "define( 'WP_DEBUG', false );",
            "define( 'WP_DEBUG', false );\ndefine( 'WP_HTTP_BLOCK_EXTERNAL', true );\ndefine( 'DISABLE_WP_CRON', true );",
        );
    std::fs::write(root.join("wp-config.php"), config).unwrap();
}

/// `php -S` serving `root` on `port`.
struct Served {
    php: Child,
    port: u16,
    /// What php logged on standard error.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Served {
    /// Waits for php's own word that it listens: a port is only held until now, and a
    /// server another test starts meanwhile may take it. Then a connection would reach that
    /// server (a `mariadbd`, an `sshd`), not php, and php, refused the port, may not have
    /// exited yet when asked.
    fn start(root: &Path, port: u16) -> Served {
        let mut child = Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}"), "-t"])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (said, lines) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        // php logs every request to standard error: read it to the end, or php would block
        // once the pipe is full.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut kept) = kept.lock() {
                    kept.push(line.clone());
                }
                let _ = said.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if line.contains("Development Server") && line.contains("started") => {
                    break;
                }
                Ok(line) if line.contains("Failed to listen") => {
                    panic!("php -S: port {port} was taken by another process: {line}")
                }
                Ok(_) => {}
                Err(e) => panic!("php -S did not say it started: {e}"),
            }
        }
        Served {
            php: child,
            port,
            log,
        }
    }

    /// GET `path`: status line and body. php's built-in server, one process on a loaded
    /// machine, has closed a connection without a reply (seen in CI beside the tests that
    /// run WordPress themselves): such a try is made again, twice at most, and a failure
    /// shows what php logged.
    fn get(&self, path: &str) -> (String, String) {
        let mut tries = Vec::new();
        for _ in 0..3 {
            match get(self.port, path) {
                Ok((head, body)) if !head.is_empty() => return (head, body),
                Ok(_) => tries.push("an empty reply".to_string()),
                Err(e) => tries.push(e.to_string()),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let log = self.log.lock().map(|l| l.join("\n")).unwrap_or_default();
        panic!("GET {path}: {tries:?}; php -S logged:\n{log}")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.php.kill();
        let _ = self.php.wait();
    }
}

/// GET `path` from 127.0.0.1:`port`: status line and body.
fn get(port: u16, path: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut all = Vec::new();
    s.read_to_end(&mut all)?;
    let text = String::from_utf8_lossy(&all).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((head.to_string(), body.to_string()))
}

/// A real WordPress on a source server and docroot, filled through its API; a second
/// server with a login for the copy; the target docroot and address still to be made.
pub(crate) struct Wp {
    pub src: MariaDb,
    pub dst: MariaDb,
    pub dir: tempfile::TempDir,
    pub prod: PathBuf,
    pub int: PathBuf,
    upload_path: String,
    port: u16,
    /// Holds `port` until the copy is served on it: chosen minutes before, a port left free
    /// could be taken by another test's server in the meantime.
    port_hold: std::cell::Cell<Option<std::net::TcpListener>>,
    pub target_url: String,
}

/// The passwords and secret a WordPress clone must never show.
pub(crate) const WP_SECRETS: [&str; 3] = [SRC_PW, DST_PW, SECRET];

impl Wp {
    pub(crate) fn new() -> Wp {
        let src = MariaDb::start().unwrap();
        let dst = MariaDb::start().unwrap();
        src.create_database("wp_prod").unwrap();
        src.execute(&format!(
            "CREATE USER 'wp_prod'@'127.0.0.1' IDENTIFIED BY '{SRC_PW}'; GRANT ALL ON wp_prod.* TO 'wp_prod'@'127.0.0.1'"
        ))
        .unwrap();
        dst.execute(&format!(
            "CREATE USER 'wp_int'@'127.0.0.1' IDENTIFIED BY '{}'; GRANT ALL ON *.* TO 'wp_int'@'127.0.0.1'",
            DST_PW.replace('\'', "\\'")
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (prod, int) = (dir.path().join("prod"), dir.path().join("int"));
        docroot(&prod, &src, "wp_prod");
        let filled = run(Command::new("php")
            .arg(repo().join("tests/clone/wp-fill.php"))
            .arg(&prod)
            .arg(SRC_URL));
        assert!(filled.contains("hello.txt"), "{filled}");
        let upload_path = filled
            .split("/wp-content/uploads/")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(|p| format!("/wp-content/uploads/{}", p.replace("\\/", "/")))
            .unwrap();
        let hold = understudy_testkit::ports::hold().unwrap();
        let port = hold.local_addr().unwrap().port();
        Wp {
            src,
            dst,
            dir,
            prod,
            int,
            upload_path,
            port,
            port_hold: std::cell::Cell::new(Some(hold)),
            target_url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// `understudy clone ARGS PLAN` with the example's values in the environment.
    pub(crate) fn clone_command(&self, plan: &Path, args: &[&str]) -> Command {
        let mut cmd = understudy();
        cmd.current_dir(self.dir.path())
            .arg("clone")
            .args(args)
            .arg(plan)
            .env("SOURCE_ROOT", &self.prod)
            .env("TARGET_ROOT", &self.int)
            .env("TARGET_URL", &self.target_url)
            .env("TARGET_DB_HOST", "127.0.0.1")
            .env("TARGET_DB_PORT", self.dst.port().to_string())
            .env("TARGET_DB_USER", "wp_int")
            .env("TARGET_DB_PASSWORD", DST_PW)
            .env("TARGET_DB_NAME", "wp_int")
            .env("UNDERSTUDY_SECRET", SECRET);
        cmd
    }

    /// The copy: its config, no production address in its database, and WordPress serving
    /// it from the new address. `log` is the clone's output.
    pub(crate) fn assert_cloned(&self, log: &str) {
        let (int, dst, port) = (&self.int, &self.dst, self.port);
        // The config: the target's login, fresh salts, and php -l clean.
        let config = std::fs::read_to_string(int.join("wp-config.php")).unwrap();
        assert!(
            config.contains(&format!("'127.0.0.1:{}'", dst.port())),
            "{config}"
        );
        assert!(
            config.contains("'wp_int'") && !config.contains(SRC_PW),
            "{config}"
        );
        assert!(!config.contains("production-salt"), "{config}");
        run(Command::new("php").arg("-l").arg(int.join("wp-config.php")));
        assert_eq!(
            std::fs::read_to_string(int.join(".htaccess")).unwrap(),
            "# production rewrite rules\n"
        );

        // What the site's config said, shown; no production e-mail address anywhere in the
        // copy.
        assert!(
            log.contains("wp-config.php says: database wp_prod@127.0.0.1")
                && log.contains("table prefix \"wp_\""),
            "{log}"
        );
        let emails: Vec<String> = ["admin", "alice", "bob", "editor1", "visitor2"]
            .iter()
            .map(|n| format!("{n}@mail.example.net"))
            .collect();
        let prod_dump = self.src.dump("wp_prod", &[]).unwrap();
        let int_dump = dst.dump("wp_int", &[]).unwrap();
        for e in &emails {
            assert!(
                String::from_utf8_lossy(&prod_dump).contains(e.as_str()),
                "{e} not in production"
            );
        }
        // Every address of the site is at this domain: none may be left in any table.
        let int_text = String::from_utf8_lossy(&int_dump);
        assert!(
            !int_text.contains("@mail.example.net"),
            "a production address was copied"
        );

        // Served from its new address: 200, no redirect, links and widget and menu moved.
        let target_url = &self.target_url;
        drop(self.port_hold.take());
        let served = Served::start(int, port);
        let (head, body) = served.get("/");
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}\n{body}"
        );
        assert!(!body.contains("www.example.com"), "{body}");
        assert!(body.contains(&format!("{target_url}/page-1/")), "{body}");
        assert!(
            body.contains(&format!("{target_url}/about/")) && body.contains("About us"),
            "{body}"
        );
        assert!(
            body.contains(&format!("{target_url}/contact/")) && body.contains("Contact"),
            "{body}"
        );
        assert!(
            !body.contains("Notice") && !body.contains("Warning"),
            "{body}"
        );
        let (head, body) = served.get(&self.upload_path);
        assert!(head.contains(" 200"), "{}: {head}", self.upload_path);
        assert_eq!(body, "uploaded through WordPress\n");
        assert!(String::from_utf8_lossy(&int_dump).contains("[INTEGRATION] Production Site"));
    }
}

/// Runs `cmd`; its output, which must be a success.
pub(crate) fn succeeds(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what}: {log}");
    log
}

#[test]
fn the_wordpress_example_clones_a_real_site_that_serves_from_its_new_address() {
    let wp = Wp::new();
    let plan = repo().join("examples/clone-wordpress.toml");
    let example =
        |args: &[&str]| succeeds(&mut wp.clone_command(&plan, args), &format!("{args:?}"));
    // The doctor and the dry run first, as docs/clone.md shows them.
    let check = example(&["--check"]);
    assert!(
        !check.contains("PROBLEM") && check.contains("source wp_prod@127.0.0.1"),
        "{check}"
    );
    let dry = example(&["--dry-run"]);
    assert!(
        dry.contains("RENAME TABLE") && dry.contains("--single-transaction"),
        "{dry}"
    );
    assert!(!wp.int.exists(), "the dry run wrote files");
    let log = example(&["--report", "clone-report.json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wp.dir.path().join("clone-report.json")).unwrap())
            .unwrap();
    assert!(report["database"]["rows"].as_u64().unwrap() > 0, "{report}");
    assert!(
        report["files"][0]["files"].as_u64().unwrap() > 1000,
        "{report}"
    );
    assert_eq!(
        report["config"][0]["settings"][0], "define:DB_NAME",
        "{report}"
    );
    for secret in WP_SECRETS {
        assert!(!log.contains(secret) && !check.contains(secret) && !dry.contains(secret));
    }
    wp.assert_cloned(&log);
    let int = &wp.int;

    // Files and config again, the database left as it is (as docs/clone.md shows): the
    // config is patched anew (fresh salts) and still passes php -l.
    let before = std::fs::read_to_string(int.join("wp-config.php")).unwrap();
    example(&["--only", "files,config"]);
    let after = std::fs::read_to_string(int.join("wp-config.php")).unwrap();
    assert_ne!(before, after, "the salts were not renewed");
    run(Command::new("php").arg("-l").arg(int.join("wp-config.php")));
}
