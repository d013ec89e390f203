//! The WordPress pack on WordPress itself: Debian's `wordpress` package installed by its own
//! installer into a throwaway MariaDB and filled through its own API (users, posts with
//! links and addresses, comments, serialized options and meta, a page builder's JSON, a
//! transient), dumped with mariadb-dump, rewritten with `rules/wordpress.toml`, restored
//! into a second server, and read back by WordPress (`tests/wordpress/site.php`). Where the
//! other pack tests check a fixture's rows, this one checks what the application makes of
//! the copy. A multisite network (`tests/wordpress/network.php`), in subdomain and in
//! subdirectory mode with a domain-mapped site, moves in one run and is served by WordPress
//! on every site's new host.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

use crate::util::{rewrite_with_pack, wordpress_dir};

const SECRET: &str = "wordpress-test-secret";
const SRC_URL: &str = "https://www.example.com";
const DST_URL: &str = "https://staging.example.org";

/// The distinct non-empty values `sql` selects.
fn column(server: &MariaDb, db: &str, sql: &str) -> BTreeSet<String> {
    let rows = server.query(db, sql).unwrap();
    rows.into_iter()
        .map(|mut r| r.swap_remove(0))
        .filter(|v| !v.is_empty() && v != "NULL")
        .collect()
}

/// Runs `tests/wordpress/SCRIPT` with `args` against `db` on `server`; its standard output.
fn run_php(php: &Php, script: &str, server: &MariaDb, db: &str, args: &[&str]) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wordpress")
        .join(script);
    let mut dir = wordpress_dir().into_os_string();
    dir.push("/");
    let out = Command::new(php.program())
        .arg(path)
        .arg(server.socket())
        .arg(db)
        .args(args)
        .env("WORDPRESS_DIR", dir)
        .output()
        .expect("php starts");
    assert!(
        out.status.success(),
        "{script} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `tests/wordpress/site.php` against `db` on `server`; its standard output.
fn site(php: &Php, server: &MariaDb, db: &str, action: &str) -> Vec<u8> {
    run_php(php, "site.php", server, db, &[action])
}

#[test]
fn wordpress_reads_the_copy_with_the_site_moved_and_people_masked() {
    let php = Php::require();
    let source = MariaDb::start().unwrap();
    source.create_database("wp").unwrap();
    site(&php, &source, "wp", "install");
    let dump = source.dump("wp", &[]).unwrap();

    let vars = [format!("src_url={SRC_URL}"), format!("dst_url={DST_URL}")];
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    let copy = rewrite_with_pack(&dump, "wordpress.toml", &vars, SECRET);
    let (before, after) = (
        String::from_utf8_lossy(&dump),
        String::from_utf8_lossy(&copy),
    );
    // A transient (dropped), and addresses in text and in columns.
    for gone in [
        "_transient_feed_cache",
        "@mail.example.net",
        "81.2.69.",
        "93.184.216.",
        "admin@www.example.com",
    ] {
        assert!(before.contains(gone), "{gone} not in the source");
        assert!(!after.contains(gone), "{gone} in the copy");
    }

    let target = MariaDb::start().unwrap();
    target.create_database("copy").unwrap();
    target.load("copy", &copy).unwrap();
    // Every value WordPress stored about people is another in the copy.
    for sql in [
        "SELECT user_login FROM wp_users",
        "SELECT user_nicename FROM wp_users",
        "SELECT user_email FROM wp_users",
        "SELECT user_url FROM wp_users",
        "SELECT display_name FROM wp_users",
        "SELECT meta_value FROM wp_usermeta WHERE meta_key IN ('first_name', 'last_name', 'nickname', 'description')",
        "SELECT comment_author FROM wp_comments",
        "SELECT comment_author_email FROM wp_comments",
        "SELECT comment_author_IP FROM wp_comments",
        "SELECT comment_author_url FROM wp_comments",
    ] {
        let (before, after) = (column(&source, "wp", sql), column(&target, "copy", sql));
        assert!(before.len() >= 3, "{sql}: {before:?}");
        assert_eq!(after.len(), before.len(), "{sql}: {after:?}");
        assert!(before.is_disjoint(&after), "{sql}: {before:?} {after:?}");
    }
    let read: serde_json::Value = serde_json::from_slice(&site(&php, &target, "copy", "read"))
        .expect("site.php read prints JSON");

    assert_eq!(read["siteurl"], DST_URL);
    assert_eq!(read["home"], DST_URL);
    assert!(read["serialized"].as_u64().unwrap() > 50, "{read}");
    assert_eq!(
        read["broken"],
        serde_json::json!([]),
        "values PHP cannot unserialize"
    );
    assert_eq!(
        read["widget_text"],
        format!("Visit <a href=\"{DST_URL}/about\">us</a>")
    );
    assert_eq!(read["plugin_endpoint"], format!("{DST_URL}/api"));
    assert_eq!(
        read["post_links"],
        serde_json::json!([format!("{DST_URL}/p/1"), format!("{DST_URL}/deep/1")])
    );
    assert_eq!(
        read["elementor"],
        format!("{DST_URL}/wp-content/uploads/e1.png")
    );
    let profile = read["profile_links"].as_array().unwrap();
    assert!(
        profile
            .iter()
            .all(|l| l.as_str().unwrap().starts_with(DST_URL)),
        "{profile:?}"
    );
    let content = read["post_content"].as_str().unwrap();
    assert!(
        content.contains(&format!("href=\"{DST_URL}/page-1/\"")) && !content.contains(SRC_URL),
        "{content}"
    );
    // The scrub's fakes: an address still, but not the one written.
    assert!(content.contains("@example.invalid"), "{content}");
    // Every user logs in on the copy with the pack's password, none with their own.
    let logins = read["understudy_logs_in"].as_array().unwrap();
    assert_eq!(logins.len(), 4);
    assert!(logins.iter().all(|ok| ok == true), "{read}");
    for login in read["logins"].as_array().unwrap() {
        assert!(
            !["admin", "alice", "bob", "carol"].contains(&login.as_str().unwrap()),
            "{login}"
        );
    }
    assert_eq!(read["transient"], false);
}

/// Runs `tests/wordpress/network.php` with `args` against `db` on `server`; its output.
fn network(php: &Php, server: &MariaDb, db: &str, args: &[&str]) -> Vec<u8> {
    run_php(php, "network.php", server, db, args)
}

/// The hosts of every `http(s)://` link in `text`.
fn link_hosts(text: &str) -> BTreeSet<String> {
    let mut hosts = BTreeSet::new();
    for (at, _) in text.match_indices("://") {
        let host: String = text[at + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect();
        if !host.is_empty() {
            hosts.insert(host);
        }
    }
    hosts
}

/// `dump` of the network at `www.prod-net.example` rewritten with the pack to
/// `int-net.example`, with `args` added, run in `dir`.
fn move_network(dump: &[u8], args: &[&str], dir: &Path) -> Vec<u8> {
    let out = crate::util::run_with_stdin(
        crate::util::understudy()
            .args(["rewrite", "--rules"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/wordpress.toml"))
            .args([
                "--var",
                "src_url=https://www.prod-net.example",
                "--var",
                "dst_url=https://int-net.example",
                "--var",
                "src_domain=www.prod-net.example",
                "--var",
                "dst_domain=int-net.example",
            ])
            .args(args)
            .env("UNDERSTUDY_SECRET", SECRET)
            .current_dir(dir),
        dump,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A multisite network in `mode` (subdomain or subdirectory), installed and filled by
/// WordPress, moved with the pack in one run as docs/rules.md shows it (the domain-mapped
/// site by `--replace`), and served by WordPress on every site's new host.
fn network_moves_in_one_run(mode: &str) {
    let php = Php::require();
    let source = MariaDb::start().unwrap();
    source.create_database("wp").unwrap();
    for action in ["install", "fill"] {
        network(&php, &source, "wp", &[action, mode, "prod-net.example"]);
    }
    let dump = source.dump("wp", &[]).unwrap();
    // The command of docs/rules.md, "Hosts with their subdomains".
    let dir = tempfile::tempdir().unwrap();
    let copy = move_network(
        &dump,
        &["--replace", "shop-brand.example=shop-brand.int-net.example"],
        dir.path(),
    );
    let target = MariaDb::start().unwrap();
    target.create_database("copy").unwrap();
    target.load("copy", &copy).unwrap();

    let sites: Vec<(u64, &str, &str)> = if mode == "subdomain" {
        vec![
            (1, "int-net.example", "/"),
            (2, "de.int-net.example", "/"),
            (3, "shop.int-net.example", "/"),
            (4, "shop-brand.int-net.example", "/"),
        ]
    } else {
        vec![
            (1, "int-net.example", "/"),
            (2, "int-net.example", "/de/"),
            (3, "int-net.example", "/shop/"),
            (4, "shop-brand.int-net.example", "/"),
        ]
    };
    let new_hosts: BTreeSet<String> = sites.iter().map(|s| s.1.to_string()).collect();
    for (id, host, path) in &sites {
        let served = network(
            &php,
            &target,
            "copy",
            &["serve", mode, "int-net.example", host, path],
        );
        let read: serde_json::Value = serde_json::from_slice(&served)
            .unwrap_or_else(|e| panic!("{host}{path}: {e}: {}", String::from_utf8_lossy(&served)));
        let at = format!("{mode}: {host}{path}");
        assert_eq!(read["blog_id"], *id, "{at}: {read}");
        assert_eq!(read["redirects"], serde_json::json!([]), "{at}: {read}");
        assert_eq!(read["notices"], serde_json::json!([]), "{at}: {read}");
        let home = read["home"].as_str().unwrap();
        assert!(
            link_hosts(home).contains(*host) && home.ends_with(path.trim_end_matches('/')),
            "{at}: {home}"
        );
        let widget = read["widget"].as_str().unwrap();
        assert!(widget.contains("our sister</a>"), "{at}: {widget}");
        let menu = read["menu"].as_str().unwrap();
        assert_eq!(menu.matches("<li ").count(), 4, "{at}: {menu}");
        let text = read.to_string();
        assert!(!text.contains("prod-net.example"), "{at}: {text}");
        let hosts = link_hosts(&read.to_string().replace("\\/", "/"));
        assert!(hosts.is_subset(&new_hosts), "{at}: {hosts:?}");
        // Every site's links reach the other three.
        assert!(hosts.len() == new_hosts.len(), "{at}: {hosts:?}");
    }
    assert!(!String::from_utf8_lossy(&copy).contains("shop-brand.example'"));
}

#[test]
fn a_subdomain_network_moves_in_one_run() {
    network_moves_in_one_run("subdomain");
}

#[test]
fn a_subdirectory_network_moves_in_one_run() {
    network_moves_in_one_run("subdirectory");
}

/// A network of a few hundred sites, as multisites in the field are: more tables than the
/// rewrite keeps in memory (its report's entries go to temporary files past 1,024 tables,
/// the schemas past 2,048). Two threads in small batches give what one thread gives, every
/// table is in the report once, and WordPress serves the first, a middle and the last site
/// of the copy on the new host with its people masked.
#[test]
fn a_network_of_hundreds_of_sites_moves_whole() {
    const SITES: u64 = 300;
    let php = Php::require();
    let source = MariaDb::start().unwrap();
    source.create_database("wp").unwrap();
    network(
        &php,
        &source,
        "wp",
        &["install", "subdirectory", "prod-net.example"],
    );
    let count = SITES.to_string();
    network(
        &php,
        &source,
        "wp",
        &["grow", "subdirectory", "prod-net.example", &count],
    );
    let dump = source.dump("wp", &[]).unwrap();
    let text = String::from_utf8_lossy(&dump);
    let created: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("CREATE TABLE `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    // A site has 7 tables of its own here: past 2,048 in all.
    assert!(created.len() > 2_048, "{} tables", created.len());
    let filled: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("INSERT INTO `"))
        .filter_map(|l| l.split('`').next())
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let copies: Vec<(Vec<u8>, serde_json::Value)> = [["1", "1048576"], ["2", "65536"]]
        .iter()
        .map(|[threads, batch]| {
            let report = dir.path().join(format!("report-{threads}.json"));
            let report_arg = report.to_str().unwrap();
            let copy = move_network(
                &dump,
                &[
                    "--threads",
                    threads,
                    "--batch-size",
                    batch,
                    "--report",
                    report_arg,
                ],
                dir.path(),
            );
            let report = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            (copy, report)
        })
        .collect();
    assert!(copies[0].0 == copies[1].0, "two threads wrote another copy");
    assert_eq!(copies[0].1["tables"], copies[1].1["tables"]);
    let (copy, report) = &copies[1];
    let listed: BTreeSet<&str> = report["tables"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Each table with rows, once; no other table's rows.
    let unlisted: Vec<_> = filled.difference(&listed).collect();
    assert!(unlisted.is_empty(), "not in the report: {unlisted:?}");
    let unknown: Vec<_> = listed.difference(&created).collect();
    assert!(unknown.is_empty(), "never created: {unknown:?}");
    assert!(filled.len() > 1_024, "{} tables with rows", filled.len());
    for n in [1, SITES] {
        let options = format!("wp_{}_options", n + 1);
        assert_eq!(report["tables"][&options]["action"], "keep", "{options}");
    }
    let copy_text = String::from_utf8_lossy(copy);
    assert!(!copy_text.contains("@mail.example.net"));

    let target = MariaDb::start().unwrap();
    target.create_database("copy").unwrap();
    target.load("copy", copy).unwrap();
    // The old host is left only in GUIDs, which the pack keeps as they are.
    let in_guids = created
        .iter()
        .filter(|t| t.ends_with("_posts"))
        .map(|t| format!("SELECT guid FROM `{t}`"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let guids = target.query("copy", &in_guids).unwrap();
    let old_host = |text: &str| text.matches("prod-net.example").count();
    let in_guids: usize = guids.iter().map(|row| old_host(&row[0])).sum();
    assert!(in_guids > 0);
    assert_eq!(old_host(&copy_text), in_guids);
    for n in [1, SITES / 2, SITES] {
        let path = format!("/s{n}/");
        let served = network(
            &php,
            &target,
            "copy",
            &[
                "serve",
                "subdirectory",
                "int-net.example",
                "int-net.example",
                &path,
            ],
        );
        let read: serde_json::Value = serde_json::from_slice(&served)
            .unwrap_or_else(|e| panic!("{path}: {e}: {}", String::from_utf8_lossy(&served)));
        assert_eq!(read["blog_id"], n + 1, "{path}: {read}");
        assert_eq!(read["redirects"], serde_json::json!([]), "{path}: {read}");
        assert_eq!(read["notices"], serde_json::json!([]), "{path}: {read}");
        let home = format!("https://int-net.example/s{n}");
        assert_eq!(read["home"], home.as_str(), "{path}: {read}");
        let link = format!("<a href=\"{home}/about/\">");
        let posts = read["posts"].as_array().unwrap();
        assert!(
            posts.iter().any(|p| p.as_str().unwrap().contains(&link)),
            "{path}: {posts:?}"
        );
        assert!(
            !read.to_string().contains("prod-net.example"),
            "{path}: {read}"
        );
    }
    let logins = column(&target, "copy", "SELECT user_login FROM wp_users");
    assert!(logins.len() as u64 > SITES);
    let kept = |l: &String| {
        l.strip_prefix("user")
            .is_some_and(|n| n.parse::<u64>().is_ok())
    };
    assert!(!logins.iter().any(kept), "{logins:?}");
}
