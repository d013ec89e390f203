//! `understudy scan`: the packs' fixture sites fail `--strict` as they are and pass once
//! rewritten with their pack; planted data is found (in serialized PHP and JSON too);
//! version strings, times and file hashes are not; the pipe form works on standard input;
//! the JSON report parses and counts; compressed input scans the same; every command in
//! `docs/scan.md` and README's scan section runs as shown.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use understudy_testkit::mariadb::MariaDb;

use crate::util::{fixtures, rewrite_with_pack, run_with_stdin, understudy};

const SECRET: &str = "scan-test-secret";

const WP_VARS: &[&str] = &[
    "src_url=https://www.example.com",
    "dst_url=https://staging.example.org",
    "src_root=/srv/wp/",
    "dst_root=/srv/staging/wp/",
];

const ELGG_VARS: &[&str] = &[
    "src_url=https://mitglieder.example.org/",
    "dst_url=https://int.example.org/",
    "src_data=/srv/elgg/data/",
    "dst_data=/srv/int/data/",
    "src_root=/srv/elgg/www/",
    "dst_root=/srv/int/www/",
];

const DRUPAL_VARS: &[&str] = &[
    "src_url=https://www.example.org",
    "dst_url=https://staging.example.com",
    "src_root=/var/www/example/web",
    "dst_root=/srv/staging/web",
    "src_data=/var/www/example/private",
    "dst_data=/srv/staging/private",
];

fn repo() -> PathBuf {
    fixtures().join("..")
}

/// `--rules rules/PACK --var …` for `pack`.
fn pack_args(pack: &str, vars: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--rules".to_owned(),
        repo().join("rules").join(pack).display().to_string(),
    ];
    for v in vars {
        args.push("--var".into());
        args.push((*v).into());
    }
    args
}

/// `understudy scan ARGS` reading `input` on standard input.
fn scan(input: &[u8], args: &[String]) -> Output {
    run_with_stdin(
        understudy()
            .arg("scan")
            .args(args)
            .env("UNDERSTUDY_SECRET", SECRET),
        input,
    )
}

/// The JSON report of a scan that must succeed.
fn scan_json(input: &[u8], args: &[String]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--format".into(), "json".into()]);
    let out = scan(input, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the JSON report parses")
}

/// Every `(table.column, kind)` with personal findings in a report.
fn personal(report: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for t in report["tables"].as_array().unwrap() {
        for c in t["columns"].as_array().unwrap() {
            for (kind, n) in c["findings"].as_object().unwrap() {
                if n["personal"].as_u64().unwrap() > 0 {
                    found.insert((
                        format!(
                            "{}.{}",
                            t["table"].as_str().unwrap(),
                            c["column"].as_str().unwrap()
                        ),
                        kind.clone(),
                    ));
                }
            }
        }
    }
    found
}

/// The report's entry for `table.column`.
fn column<'a>(report: &'a Value, table: &str, column: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["table"] == table)
        .flat_map(|t| t["columns"].as_array().unwrap())
        .find(|c| c["column"] == column)
        .unwrap_or_else(|| panic!("no {table}.{column} in the report"))
}

/// `--strict --rules PACK` fails on the site as dumped, naming a column and a kind, and
/// passes on its rewrite with the same pack and variables.
fn strict_fails_raw_and_passes_rewritten(dump: &[u8], pack: &str, vars: &[&str]) {
    let mut args = pack_args(pack, vars);
    args.push("--strict".into());
    let raw = scan(dump, &args);
    assert_eq!(
        raw.status.code(),
        Some(1),
        "{pack}: raw dump must fail --strict"
    );
    let stderr = String::from_utf8_lossy(&raw.stderr);
    assert!(stderr.contains("--strict:"), "{stderr}");
    assert!(stderr.contains("production_url"), "{pack}: {stderr}");

    let rewritten = rewrite_with_pack(dump, pack, vars, SECRET);
    let out = scan(&rewritten, &args);
    assert!(
        out.status.success(),
        "{pack}: rewritten dump fails --strict:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Without rules, the same copy still holds what masks wrote, all of it "uncovered".
    let json = scan_json(&rewritten, &pack_args(pack, vars));
    assert!(json["problems"].as_array().unwrap().is_empty(), "{json:#}");
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("dumps").join(name)).unwrap()
}

#[test]
fn wordpress_strict_fails_as_dumped_and_passes_rewritten() {
    let dump = fixture("wordpress.default.sql");
    strict_fails_raw_and_passes_rewritten(&dump, "wordpress.toml", WP_VARS);
    // As dumped, without rules: e-mail addresses in users and comments, inside serialized
    // options, IPs inside serialized session tokens, phpass hashes where passwords are.
    let report = scan_json(&dump, &[]);
    let found = personal(&report);
    for (col, kind) in [
        ("wp_users.user_email", "email"),
        ("wp_users.user_pass", "password_hash"),
        ("wp_comments.comment_author_email", "email"),
        ("wp_comments.comment_author_IP", "ipv4"),
        ("wp_comments.comment_author_IP", "ipv6"),
        ("wp_options.option_value", "email"),
        ("wp_usermeta.meta_value", "ipv4"),
        ("wp_usermeta.meta_value", "phone"),
    ] {
        assert!(
            found.contains(&(col.into(), kind.into())),
            "{col} {kind}: {found:?}"
        );
    }
    let ips = &column(&report, "wp_usermeta", "meta_value")["findings"]["ipv4"];
    assert_eq!(ips["in_serialized"], ips["personal"], "{ips}");
}

#[test]
fn elgg_strict_fails_as_dumped_and_passes_rewritten() {
    let dump = fixture("elgg3.default.sql");
    strict_fails_raw_and_passes_rewritten(&dump, "elgg.toml", ELGG_VARS);
}

/// Drupal and Elgg 2.3 have fixture sites as SQL only: loaded into a real MariaDB and
/// dumped, as `tests/packs.rs` does.
fn dumped(sql: &str) -> Vec<u8> {
    let server = MariaDb::start().unwrap();
    server.create_database("site").unwrap();
    server
        .load_file("site", &fixtures().join("sql").join(sql))
        .unwrap();
    server.dump("site", &[]).unwrap()
}

#[test]
fn drupal_strict_fails_as_dumped_and_passes_rewritten() {
    strict_fails_raw_and_passes_rewritten(&dumped("drupal.sql"), "drupal.toml", DRUPAL_VARS);
}

#[test]
fn elgg23_strict_fails_as_dumped_and_passes_rewritten() {
    let vars = [
        "src_url=https://mitglieder.example.org/",
        "dst_url=https://int.example.com/",
        "src_root=/srv/elgg/www/",
        "dst_root=/srv/int/www/",
        "src_data=/srv/elgg/data/",
        "dst_data=/srv/int/data/",
    ];
    strict_fails_raw_and_passes_rewritten(&dumped("elgg23.sql"), "elgg-2.3.toml", &vars);
}

/// mysqldump's escaping of a string's content, quoted.
fn sql(text: &str) -> String {
    let mut out = Vec::new();
    understudy_sqldump::literal::escape_into(text.as_bytes(), &mut out);
    format!("'{}'", String::from_utf8(out).unwrap())
}

/// `s:N:"…";` of PHP's serialize().
fn ser(s: &str) -> String {
    format!("s:{}:\"{s}\";", s.len())
}

const BCRYPT: &str = "$2y$10$bI2r3QwrE1pohQzE2a9gKOGpNGYWJMqAQF/FJQbFU6WQsB3x.Ywqe";
const PHPASS: &str = "$P$BvN5zUFy9Dl3nJ9fqnk6yxBXsAhl9h.";
const ARGON: &str = "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
const MD5: &str = "5f4dcc3b5aa765d61d8327deb882cf99";

/// A dump with addresses, IPs and hashes planted in plain text, serialized PHP (nested),
/// JSON, a password column, and a hex blob; and the same hex digest as a file checksum.
fn planted_dump() -> Vec<u8> {
    let plain = "Write to anna@example.org (from 203.0.113.9, 2001:db8::7) or call +49 30 1234567. It's fine.";
    let inner = format!("a:1:{{{}{}}}", ser("ip"), ser("198.51.100.23"));
    let serialized = format!(
        "a:3:{{{}{}{}{}{}{}}}",
        ser("email"),
        ser("bernd@example.net"),
        ser("nested"),
        ser(&inner),
        ser("password"),
        ser(MD5),
    );
    let json = r#"{"contact":{"mail":"carla@example.com","ipv6":"fe80::1ff:fe23:4567:890a"},"hash":"$2y$10$bI2r3QwrE1pohQzE2a9gKOGpNGYWJMqAQF/FJQbFU6WQsB3x.Ywqe","version":"6.1.1"}"#;
    let hex: String = "dora@example.de"
        .bytes()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!(
        "CREATE TABLE `people` (\n  `id` int NOT NULL,\n  `note` text,\n  `data` text,\n  `json` text,\n  `user_pass` varchar(255),\n  `checksum` char(32),\n  `blob` blob\n);\n\
         INSERT INTO `people` VALUES (1,{},{},{},{},{},0x{hex}),(2,'v10.11.19 at 12:30:00 on 2024-01-02, build 6.1.1',NULL,'[]',{},{},''),(3,'',NULL,NULL,{},NULL,NULL),(4,NULL,NULL,NULL,{},NULL,NULL);\n",
        sql(plain),
        sql(&serialized),
        sql(json),
        sql(BCRYPT),
        sql(MD5),
        sql(PHPASS),
        sql(MD5),
        sql(ARGON),
        sql(MD5),
    )
    .into_bytes()
}

#[test]
fn finds_every_planted_address_ip_and_hash() {
    let report = scan_json(&planted_dump(), &[]);
    let n = |col: &str, kind: &str, what: &str| {
        column(&report, "people", col)["findings"][kind][what]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(report["rows"], 4);
    assert_eq!(report["tables"][0]["rows"], 4);
    // Plain text, an escaped quote in it.
    assert_eq!(n("note", "email", "personal"), 1);
    assert_eq!(n("note", "ipv4", "personal"), 1);
    assert_eq!(n("note", "ipv6", "personal"), 1);
    assert_eq!(n("note", "phone", "personal"), 1);
    // Serialized, nested serialized, and an md5 under a `password` key.
    assert_eq!(n("data", "email", "in_serialized"), 1);
    assert_eq!(n("data", "ipv4", "in_serialized"), 1);
    assert_eq!(n("data", "password_hash", "in_serialized"), 1);
    // JSON.
    assert_eq!(n("json", "email", "in_json"), 1);
    assert_eq!(n("json", "ipv6", "in_json"), 1);
    assert_eq!(n("json", "password_hash", "in_json"), 1);
    // A password column: bcrypt, phpass, argon2id, and md5 where a password is.
    assert_eq!(n("user_pass", "password_hash", "personal"), 4);
    // The same md5 as a file checksum is not a password; a hex blob is looked into.
    assert!(column(&report, "people", "checksum")["findings"]
        .as_object()
        .unwrap()
        .is_empty());
    assert_eq!(n("blob", "email", "personal"), 1);
    // Nothing else: the version, time and date of row 2 are not IPs.
    let kinds: usize = report["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["findings"].as_object().unwrap().len())
        .sum();
    assert_eq!(kinds, 12, "{report:#}");
    // Without rules every column is uncovered: each finding is a problem.
    assert_eq!(report["problems"].as_array().unwrap().len(), 12);
    assert_eq!(report["rules"], Value::Null);
}

#[test]
fn no_false_positives_on_versions_times_and_file_hashes() {
    // WordPress: version strings and cron hashes in options, sha256 session-token keys in
    // user meta, dates in posts, a browser's user agent (`Firefox/121.0`) in comments.
    let wp = scan_json(&fixture("wordpress.default.sql"), &[]);
    let expected: BTreeSet<(String, String)> = [
        ("wp_comments.comment_author_email", "email"),
        ("wp_comments.comment_author_IP", "ipv4"),
        ("wp_comments.comment_author_IP", "ipv6"),
        ("wp_options.option_value", "email"),
        ("wp_posts.post_content", "email"),
        ("wp_posts.post_content", "phone"),
        ("wp_usermeta.meta_value", "email"),
        ("wp_usermeta.meta_value", "ipv4"),
        ("wp_usermeta.meta_value", "ipv6"),
        ("wp_usermeta.meta_value", "phone"),
        ("wp_users.user_email", "email"),
        ("wp_users.user_pass", "password_hash"),
    ]
    .iter()
    .map(|(c, k)| (c.to_string(), k.to_string()))
    .collect();
    assert_eq!(personal(&wp), expected);
    for (table, col) in [
        ("wp_options", "option_value"),
        ("wp_posts", "post_date"),
        ("wp_posts", "post_modified_gmt"),
        ("wp_comments", "comment_agent"),
        ("wp_comments", "comment_date"),
    ] {
        let f = &column(&wp, table, col)["findings"];
        for kind in ["ipv4", "ipv6", "phone", "card", "iban", "password_hash"] {
            assert!(f.get(kind).is_none(), "{table}.{col}: {kind} in {f}");
        }
    }
    // Elgg: plugin and upgrade versions (`1.11.2`, `2.3.0`) in serialized config and
    // settings, times in the system log: no IPs but the log's own.
    let elgg = scan_json(&fixture("elgg3.default.sql"), &[]);
    for (col, kind) in personal(&elgg) {
        assert!(
            kind != "ipv4" || col == "elgg_system_log.ip_address",
            "{col}: {kind}"
        );
        assert!(kind != "card" && kind != "iban", "{col}: {kind}");
    }
    // Every column type, the extremes of every number type, dates and times. The inet6
    // column's `::ffff:198.51.100.7` is one IPv6 address, not an IPv4 one too; `::` none.
    let types = scan_json(&fixture("types.default.sql"), &[]);
    assert_eq!(
        column(&types, "misc", "ip")["findings"]["ipv6"]["personal"],
        3
    );
    let expected: BTreeSet<(String, String)> = [("misc.ip", "ipv6"), ("misc.j", "email")]
        .iter()
        .map(|(c, k)| (c.to_string(), k.to_string()))
        .collect();
    assert_eq!(personal(&types), expected);
}

#[test]
fn json_report_has_coverage_and_url_counts() {
    let report = scan_json(
        &fixture("wordpress.default.sql"),
        &pack_args("wordpress.toml", WP_VARS),
    );
    assert!(report["rules"]
        .as_str()
        .unwrap()
        .ends_with("wordpress.toml"));
    assert_eq!(
        column(&report, "wp_users", "user_email")["coverage"],
        "masked"
    );
    assert_eq!(column(&report, "wp_users", "ID")["coverage"], "kept");
    assert_eq!(
        column(&report, "wp_users", "user_email")["findings"]["email"]["personal"],
        3
    );
    // The site URL stays in `guid` on purpose: counted, not a problem.
    let guid = &column(&report, "wp_posts", "guid")["urls"]["site URL"];
    assert_eq!(guid["applies"], false);
    assert!(guid["count"].as_u64().unwrap() > 0);
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems.iter().all(|p| p["kind"] == "production_url"),
        "{problems:?}"
    );
    assert!(problems
        .iter()
        .any(|p| p["table"] == "wp_posts" && p["column"] == "post_content"));
    assert!(!problems.iter().any(|p| p["column"] == "guid"));
    // Rows per table add up to the dump's.
    let rows: u64 = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(report["rows"], rows);
    assert!(rows > 0);
}

#[test]
fn the_pipe_form_reads_standard_input() {
    let pack = pack_args("wordpress.toml", WP_VARS);
    let mut rewrite = understudy()
        .arg("rewrite")
        .arg(fixtures().join("dumps/wordpress.default.sql"))
        .args(&pack)
        .env("UNDERSTUDY_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let piped = rewrite.stdout.take().unwrap();
    let out = understudy()
        .args(["scan", "--strict", "-"])
        .args(&pack)
        .env("UNDERSTUDY_SECRET", SECRET)
        .stdin(Stdio::from(piped))
        .output()
        .unwrap();
    assert!(rewrite.wait().unwrap().success());
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("wp_users.user_email"), "{table}");
    assert!(table.contains("mask output"), "{table}");
    // And the raw dump through the same pipe fails, exit 1, naming table.column and kind.
    let raw = scan(
        &fixture("wordpress.default.sql"),
        &[&["--strict".to_string()][..], &pack].concat(),
    );
    assert_eq!(raw.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&raw.stderr).contains("wp_posts.post_content: production_url"));
}

#[test]
fn compressed_input_scans_the_same() {
    use std::io::Write;
    let dump = fixture("wordpress.default.sql");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("dump.sql.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&dump).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let zst = dir.path().join("dump.sql.zst");
    std::fs::write(&zst, zstd::encode_all(&dump[..], 3).unwrap()).unwrap();
    let plain = scan_json(&dump, &[]);
    for file in [&gz, &zst] {
        let out = understudy()
            .args(["scan", "--format", "json"])
            .arg(file)
            .output()
            .unwrap();
        assert!(out.status.success());
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report, plain, "{}", file.display());
    }
}

#[test]
fn bad_input_and_arguments_exit_1_missing_files_exit_2() {
    let out = scan(b"INSERT INTO `t` VALUES ('unterminated", &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = scan(b"", &["--var".into(), "a=b".into()]);
    assert_eq!(out.status.code(), Some(1));
    let out = understudy()
        .args(["scan", "/nonexistent/dump.sql"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Clean input under --strict: exit 0.
    let out = scan(
        b"CREATE TABLE `t` (`v` text);\nINSERT INTO `t` VALUES ('6.1.1'),('10.11.19');\n",
        &["--strict".into()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The ```sh blocks of `text` that run `understudy scan`.
fn sh_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some((i + 1, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, body)), l) => {
                body.push_str(l);
                body.push('\n');
            }
            _ => {}
        }
    }
    blocks.retain(|(_, b)| b.contains("understudy scan"));
    blocks
}

/// Runs a documented block with `bash -o pipefail`, the binary under test first on `PATH`,
/// and no masking secret in the environment but what the block sets. A block states its expected exit status in a comment
/// (`# exit status 1`); otherwise it must succeed.
fn run_block(doc: &str, line: usize, body: &str) {
    let bin = Path::new(env!("CARGO_BIN_EXE_understudy"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A directory of its own, with the repository's fixtures and rules, so what a block
    // writes (`tee int.sql`, `> report.json`) lands there.
    let dir = tempfile::tempdir().unwrap();
    for name in ["fixtures", "rules"] {
        std::os::unix::fs::symlink(repo().join(name), dir.path().join(name)).unwrap();
    }
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c", body])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("UNDERSTUDY_SECRET")
        .output()
        .unwrap();
    let want = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("# exit status "))
        .map_or(0, |n| n.trim().parse::<i32>().unwrap());
    assert_eq!(
        out.status.code(),
        Some(want),
        "{doc} line {line}:\n{body}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_documented_scan_command_runs() {
    let mut total = 0;
    for doc in ["docs/scan.md", "README.md"] {
        let text = std::fs::read_to_string(repo().join(doc)).unwrap();
        let blocks = sh_blocks(&text);
        assert!(!blocks.is_empty(), "{doc} shows no scan command");
        for (line, body) in blocks {
            run_block(doc, line, &body);
            total += 1;
        }
    }
    assert!(total >= 4, "{total} blocks");
}

#[test]
fn the_report_is_the_same_with_any_number_of_threads() {
    let dump = fixture("wordpress.default.sql");
    let pack = pack_args("wordpress.toml", WP_VARS);
    let one = scan_json(&dump, &[&pack[..], &["-j".into(), "1".into()]].concat());
    for n in ["2", "5"] {
        let many = scan_json(&dump, &[&pack[..], &["-j".into(), n.into()]].concat());
        assert_eq!(many, one, "-j {n}");
    }
}
