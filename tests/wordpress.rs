//! The WordPress pack on WordPress itself: Debian's `wordpress` package installed by its own
//! installer into a throwaway MariaDB and filled through its own API (users, posts with
//! links and addresses, comments, serialized options and meta, a page builder's JSON, a
//! transient), dumped with mariadb-dump, rewritten with `rules/wordpress.toml`, restored
//! into a second server, and read back by WordPress (`tests/wordpress/site.php`). Where the
//! other pack tests check a fixture's rows, this one checks what the application makes of
//! the copy.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

use crate::util::rewrite_with_pack;

const SECRET: &str = "wordpress-test-secret";
const SRC_URL: &str = "https://www.example.com";
const DST_URL: &str = "https://staging.example.org";

/// Where Debian's package puts WordPress (`WORDPRESS_DIR` for another copy).
fn wordpress_dir() -> PathBuf {
    let dir = std::env::var_os("WORDPRESS_DIR")
        .map_or_else(|| PathBuf::from("/usr/share/wordpress"), PathBuf::from);
    assert!(
        dir.join("wp-settings.php").is_file(),
        "no WordPress in {} (scripts/test installs Debian's wordpress and php-mysql)",
        dir.display()
    );
    dir
}

/// The distinct non-empty values `sql` selects.
fn column(server: &MariaDb, db: &str, sql: &str) -> BTreeSet<String> {
    let rows = server.query(db, sql).unwrap();
    rows.into_iter()
        .map(|mut r| r.swap_remove(0))
        .filter(|v| !v.is_empty() && v != "NULL")
        .collect()
}

/// Runs `tests/wordpress/site.php` against `db` on `server`; its standard output.
fn site(php: &Php, server: &MariaDb, db: &str, action: &str) -> Vec<u8> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wordpress/site.php");
    let mut dir = wordpress_dir().into_os_string();
    dir.push("/");
    let out = Command::new(php.program())
        .arg(script)
        .arg(server.socket())
        .arg(db)
        .arg(action)
        .env("WORDPRESS_DIR", dir)
        .output()
        .expect("php starts");
    assert!(
        out.status.success(),
        "site.php {action}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
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
