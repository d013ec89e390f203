//! Fail closed: every situation in which a rewrite used to end with exit 0 and personal data
//! (or the production URL) in the output now either masks correctly or stops with a clear
//! error, a non-zero exit, no output file, and no masked source value in what was streamed.

use std::path::Path;

use crate::util::{fixtures, run_with_stdin, stderr_of_failure, understudy};

const SECRET: &str = "failclosed-test-secret";

/// A small rule file: `users.email` is masked, `users.id` kept.
const RULES: &str = r#"
[vars]
secret = "${env:UNDERSTUDY_SECRET}"
src_url = "https://www.example.org"
[[replace]]
from = "${src_url}"
to = "https://int.example.org"
[[mask]]
table = "users"
column = "email"
strategy = "fake"
kind = "email"
"#;

/// The dump the statements below are appended to: `anna@…` is masked by `RULES`.
const BASE: &str = "CREATE TABLE `users` (\n  `id` int(11) NOT NULL,\n  `email` varchar(100) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n);\nINSERT INTO `users` VALUES (1,'anna@example.org');\n";

/// The value no output may hold.
const LEAK: &str = "leak@personal.example";

fn rules_file(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("rules.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `rewrite --rules RULES` on `dump` to stdout and to `-o FILE`: exit 1, `expected` in
/// the message, no personal value in what was streamed, no file left behind.
fn refuses(rules: &str, dump: &str, expected: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), rules);
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .arg("--rules")
            .arg(&rules)
            .env("UNDERSTUDY_SECRET", SECRET),
        dump.as_bytes(),
    );
    let stderr = stderr_of_failure(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for e in expected {
        assert!(stderr.contains(e), "{stderr:?} lacks {e:?}");
    }
    let streamed = String::from_utf8_lossy(&out.stdout);
    for value in [LEAK, "anna@example.org"] {
        assert!(!streamed.contains(value), "{value} streamed: {streamed}");
    }
    let target = dir.path().join("out").join("copy.sql");
    std::fs::create_dir(target.parent().unwrap()).unwrap();
    stderr_of_failure(&rewrite_to(&rules, &target, dump, &[]));
    nothing_left_beside(&target);
    stderr
}

/// Runs `rewrite --rules RULES -o TARGET` on `dump` with the variables `env` set.
fn rewrite_to(
    rules: &Path,
    target: &Path,
    dump: &str,
    env: &[(&str, &Path)],
) -> std::process::Output {
    let mut rewrite = understudy();
    rewrite
        .arg("rewrite")
        .arg("--rules")
        .arg(rules)
        .arg("-o")
        .arg(target)
        .env("UNDERSTUDY_SECRET", SECRET);
    for (name, value) in env {
        rewrite.env(name, value);
    }
    run_with_stdin(&mut rewrite, dump.as_bytes())
}

/// A run that failed left no file where it was to write `target`.
fn nothing_left_beside(target: &Path) {
    let left: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

/// Runs `rewrite --rules RULES` on `dump`; asserts success and returns the output.
fn rewrites(rules: &str, dump: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), rules);
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .arg("--rules")
            .arg(&rules)
            .args(args)
            .env("UNDERSTUDY_SECRET", SECRET),
        dump.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

// --- 1. a pack on a dump with another table prefix ------------------------------------------

fn wordpress_dump() -> String {
    std::fs::read_to_string(fixtures().join("dumps/wordpress.default.sql")).unwrap()
}

fn pack(dump: &str, vars: &[&str], extra: &[&str]) -> std::process::Output {
    let mut cmd = understudy();
    cmd.arg("rewrite")
        .arg("--rules")
        .arg(fixtures().join("../rules/wordpress.toml"))
        .env("UNDERSTUDY_SECRET", SECRET)
        .args(extra);
    for v in vars {
        cmd.arg("--var").arg(v);
    }
    run_with_stdin(&mut cmd, dump.as_bytes())
}

const URLS: [&str; 2] = [
    "src_url=https://www.example.com",
    "dst_url=https://staging.example.org",
];

#[test]
fn another_table_prefix_stops_the_pack_and_names_it() {
    let dump = wordpress_dump().replace("`wp_", "`wpx_");
    let out = pack(&dump, &URLS, &[]);
    let stderr = stderr_of_failure(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("table prefix `wpx_`") && stderr.contains("--var prefix=wpx_"),
        "{stderr}"
    );
    // It stops at the first table, before any row went out.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("INSERT INTO"));
    // With the prefix it names, the same dump is masked.
    let mut vars = URLS.to_vec();
    vars.push("prefix=wpx_");
    let out = pack(&dump, &vars, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = String::from_utf8_lossy(&out.stdout);
    let users = copy
        .lines()
        .skip_while(|l| !l.starts_with("INSERT INTO `wpx_users`"))
        .nth(1)
        .unwrap();
    let source = dump
        .lines()
        .skip_while(|l| !l.starts_with("INSERT INTO `wpx_users`"))
        .nth(1)
        .unwrap();
    assert_ne!(users, source, "the users were masked");
}

#[test]
fn masks_that_meet_no_table_are_an_error() {
    // The dump without its users table: the pack's user masks meet nothing.
    let whole = wordpress_dump();
    let start = whole
        .find("--\n-- Table structure for table `wp_users`")
        .unwrap();
    let end = whole
        .find("/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;")
        .unwrap();
    assert!(start < end, "wp_users is the last table");
    let dump = format!("{}{}", &whole[..start], &whole[end..]);
    let out = pack(&dump, &URLS, &[]);
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("met no table of the dump") && stderr.contains("(wp_users.user_email)"),
        "{stderr}"
    );
    // Optional masks (WooCommerce, multisite) are not named.
    assert!(!stderr.contains("wc_orders"), "{stderr}");
    let out = pack(&dump, &URLS, &["--allow-missing-tables"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_optional_mask_passes_over_a_column_its_table_lacks() {
    let phone = "[[mask]]\ntable = \"users\"\ncolumn = \"phone\"\nstrategy = \"null\"\n";
    let dump = format!("{BASE}INSERT INTO `users` VALUES (2,'{LEAK}');\n");
    refuses(
        &format!("{RULES}{phone}"),
        &dump,
        &["masks column `phone`, which this table does not have"],
    );
    let optional = phone.replace("column =", "optional = true\ncolumn =");
    let out = rewrites(&format!("{RULES}{optional}"), &dump, &[]);
    assert!(!out.contains(LEAK), "{out}");
}

#[test]
fn a_table_named_in_another_case_is_an_error() {
    let dump = format!("{BASE}INSERT INTO `USERS` VALUES (2,'{LEAK}');\n").replace(
        "CREATE TABLE `users`",
        "CREATE TABLE `USERS` (`id` int, `email` text);\nCREATE TABLE `users`",
    );
    let stderr = refuses(RULES, &dump, &["table `USERS`", "only if case is ignored"]);
    assert!(stderr.contains("mask[0]"), "{stderr}");
}

// --- 2. a site URL that does not match ------------------------------------------------------

#[test]
fn a_site_url_with_a_trailing_slash_moves_the_same() {
    let dump = wordpress_dump();
    let plain = pack(&dump, &URLS, &[]);
    let slash = pack(
        &dump,
        &[
            "src_url=https://www.example.com/",
            "dst_url=https://staging.example.org/",
        ],
        &[],
    );
    assert!(plain.status.success() && slash.status.success());
    assert_eq!(plain.stdout, slash.stdout);
    let copy = String::from_utf8_lossy(&plain.stdout);
    for option in ["siteurl", "home"] {
        let row = format!("'{option}','https://staging.example.org',");
        assert!(copy.contains(&row), "{option} not moved");
    }
    assert!(!copy.contains("staging.example.org//"));
    assert!(!copy.contains("staging.example.orgwp-"));
}

#[test]
fn a_site_url_the_dump_does_not_hold_stops_and_shows_the_one_it_holds() {
    let out = pack(
        &wordpress_dump(),
        &[
            "src_url=https://www.example.net",
            "dst_url=https://staging.example.org",
        ],
        &[],
    );
    let stderr = stderr_of_failure(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("\"https://www.example.net\" nowhere in wp_options.option_value")
            && stderr.contains("it holds \"https://www.example.com\""),
        "{stderr}"
    );
    // Not giving it at all is an error too.
    let out = pack(
        &wordpress_dump(),
        &["dst_url=https://staging.example.org"],
        &[],
    );
    let stderr = stderr_of_failure(&out);
    assert!(stderr.contains("give --var src_url=…"), "{stderr}");
}

#[test]
fn elgg_pack_checks_the_site_entity_url() {
    let dump = std::fs::read(fixtures().join("dumps/elgg3.default.sql")).unwrap();
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .arg("--rules")
            .arg(fixtures().join("../rules/elgg.toml"))
            .args(["--var", "src_url=https://www.example.org/"])
            .args(["--var", "dst_url=https://int.example.org/"])
            .env("UNDERSTUDY_SECRET", SECRET),
        &dump,
    );
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("elgg_metadata.value")
            && stderr.contains("it holds \"https://mitglieder.example.org/\""),
        "{stderr}"
    );
}

// --- 3. rows whose value count differs from the table's columns -----------------------------

#[test]
fn a_row_with_fewer_or_more_values_than_columns_is_an_error() {
    for (row, values) in [
        ("(2)", "1 value, the table has 2 columns"),
        (
            "(2,'x@personal.example','leak@personal.example')",
            "3 values, the table has 2 columns",
        ),
    ] {
        let dump = format!("{BASE}INSERT INTO `users` VALUES {row};\n");
        let stderr = refuses(RULES, &dump, &["table `users`", "row 2", values]);
        // Where the row's token starts: the space before its `(`.
        let at = BASE.len() + "INSERT INTO `users` VALUES".len();
        assert!(stderr.contains(&format!("byte {at} (line 7)")), "{stderr}");
    }
    // The same with a table no rule reads by name but --replace reads value by value.
    let dump = format!("{BASE}INSERT INTO `users` VALUES (2,'https://www.example.org/','x');\n");
    let out = run_with_stdin(
        understudy().args(["rewrite", "--replace", "https://www.example.org=https://x"]),
        dump.as_bytes(),
    );
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("3 values, the table has 2 columns"),
        "{stderr}"
    );
}

#[test]
fn an_insert_with_a_column_list_does_not_shape_the_next_one() {
    // The first INSERT names its columns in another order; the second has no list and
    // takes the CREATE TABLE's order, so the mask must land on `email` again.
    let dump = format!(
        "{BASE}INSERT INTO `users` (`email`, `id`) VALUES ('{LEAK}',2);\nINSERT INTO `users` VALUES (3,'{LEAK}');\n"
    );
    let out = rewrites(RULES, &dump, &[]);
    assert!(!out.contains(LEAK), "{out}");
}

// --- 4. statements that carry data but are not INSERT … VALUES ------------------------------

#[test]
fn statements_that_write_rows_the_rewrite_cannot_see_are_refused() {
    for (statement, says) in [
        (
            format!("INSERT INTO `users` VALUES (2,'a@b.c') ON DUPLICATE KEY UPDATE `email` = '{LEAK}';"),
            "ON DUPLICATE KEY UPDATE assigns literal values",
        ),
        (
            format!("/*!40000 INSERT INTO `users` VALUES (2,'{LEAK}') */;"),
            "INSERT writes rows into a table the rules mask",
        ),
        (
            format!("UPDATE `users` SET `email` = '{LEAK}' WHERE `id` = 1;"),
            "UPDATE writes rows",
        ),
        (
            "INSERT INTO `users` SELECT 2, CONCAT('leak', '@personal.example');".to_owned(),
            "INSERT writes rows",
        ),
        (
            format!("REPLACE INTO `users` SET `id` = 2, `email` = '{LEAK}';"),
            "REPLACE writes rows",
        ),
        (
            "LOAD DATA LOCAL INFILE 'people.csv' INTO TABLE `users`;".to_owned(),
            "LOAD DATA writes rows",
        ),
        (
            format!("ALTER TABLE `users` ADD COLUMN `nick` text FIRST;\nINSERT INTO `users` VALUES ('x',2,'{LEAK}');"),
            "ALTER TABLE adds, drops, renames or moves columns",
        ),
        (
            "CREATE TABLE `tmp` (`id` int, `email` text);\nINSERT INTO `tmp` VALUES (2,'renamed@personal.example');\nRENAME TABLE `tmp` TO `users`;".to_owned(),
            "RENAME TABLE moves data",
        ),
        (
            format!("PREPARE s FROM 'INSERT INTO users VALUES (2, \\'{LEAK}\\')';"),
            "PREPARE / EXECUTE",
        ),
    ] {
        let dump = format!("{BASE}{statement}\n");
        refuses(RULES, &dump, &[says]);
    }
}

#[test]
fn a_byte_order_mark_or_nul_bytes_before_an_insert_are_not_a_dump() {
    for (prefix, says) in [("\u{feff}", "byte-order mark"), ("\0\0", "NUL bytes")] {
        let dump = format!("{BASE}{prefix}INSERT INTO `users` VALUES (2,'{LEAK}');\n");
        refuses(RULES, &dump, &["not a MySQL dump", says]);
    }
}

#[test]
fn statements_holding_the_production_url_are_refused_even_without_masks() {
    let dump = format!(
        "{BASE}UPDATE `users` SET `email` = 'https://www.example.org/contact' WHERE `id` = 1;\n"
    );
    let out = run_with_stdin(
        understudy().args(["rewrite", "--replace", "https://www.example.org=https://x"]),
        dump.as_bytes(),
    );
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("UPDATE holds text that --replace moves"),
        "{stderr}"
    );
}

#[test]
fn statements_that_change_nothing_the_rules_read_pass() {
    let dump = format!(
        "{BASE}/*!40000 ALTER TABLE `users` DISABLE KEYS */;\nALTER TABLE `users` ADD KEY `e` (`email`), MODIFY `id` int(11) NOT NULL AUTO_INCREMENT;\nINSERT INTO `users` VALUES (2,'{LEAK}') ON DUPLICATE KEY UPDATE `email` = VALUES(`email`);\nUPDATE `other` SET `x` = 1;\n"
    );
    let out = rewrites(RULES, &dump, &[]);
    assert!(!out.contains(LEAK), "{out}");
    assert!(out.contains("VALUES(`email`)"));
}

// --- 5. masks inside structured values whose path does not fit -------------------------------

const INSIDE: &str = r#"
[vars]
secret = "${env:UNDERSTUDY_SECRET}"
[[mask]]
table = "meta"
column = "v"
inside = "serialized"
path = ["*", "ip"]
strategy = "fixed"
value = "0.0.0.0"
[[mask]]
table = "json"
column = "v"
inside = "json"
path = ["ip"]
strategy = "fixed"
value = "0.0.0.0"
"#;

fn meta_dump(table: &str, value: &str) -> String {
    format!(
        "CREATE TABLE `{table}` (\n  `id` int(11) NOT NULL,\n  `v` text\n);\nINSERT INTO `{table}` VALUES (1,'{}');\n",
        value.replace('\\', "\\\\").replace('\'', "\\'").replace('"', "\\\"")
    )
}

#[test]
fn a_mask_path_that_does_not_fit_the_value_is_an_error() {
    let ip = "203.0.113.9";
    for (table, value, says) in [
        (
            "meta",
            format!(r#"a:1:{{s:1:"t";a:1:{{s:2:"IP";s:11:"{ip}";}}}}"#),
            "is an array without the key `ip`",
        ),
        (
            "meta",
            format!(r#"a:1:{{s:1:"t";a:1:{{s:2:"ip";a:1:{{i:0;s:11:"{ip}";}}}}}}"#),
            "`t.ip` is an array, not a string",
        ),
        (
            "meta",
            format!(
                r#"a:2:{{s:1:"t";a:1:{{s:2:"ip";s:11:"{ip}";}}s:1:"u";a:1:{{s:2:"ip";R:3;}}}}"#
            ),
            "is a reference",
        ),
        (
            "json",
            format!(r#"[{{"ip":"{ip}"}}]"#),
            "is an array without the key `ip`",
        ),
        (
            "json",
            format!(r#"{{"ip":{{"v4":"{ip}"}}}}"#),
            "`ip` is an object, not a string",
        ),
    ] {
        let dump = meta_dump(table, &value);
        let dir = tempfile::tempdir().unwrap();
        let rules = rules_file(dir.path(), INSIDE);
        let out = run_with_stdin(
            understudy()
                .arg("rewrite")
                .arg("--rules")
                .arg(&rules)
                .env("UNDERSTUDY_SECRET", SECRET),
            dump.as_bytes(),
        );
        let stderr = stderr_of_failure(&out);
        assert!(
            stderr.contains(says) && stderr.contains("row 1") && stderr.contains("path_optional"),
            "{value}: {stderr}"
        );
        assert!(!stderr.contains(ip), "the message shows the data: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains(ip));
    }
}

#[test]
fn escaped_serialized_strings_are_masked_and_optional_paths_pass() {
    // `S:` strings (hex escapes) are leaves like `s:` ones.
    let value = r#"a:1:{s:1:"t";a:1:{s:2:"ip";S:11:"203.0.113.\39";}}"#;
    let out = rewrites(
        INSIDE,
        &meta_dump("meta", value),
        &["--allow-missing-tables"],
    );
    assert!(!out.contains("203.0.113."), "{out}");
    assert!(out.contains("0.0.0.0"));
    // A row without the path passes when the rule says it may.
    let optional = INSIDE.replace(
        "path = [\"*\", \"ip\"]",
        "path = [\"*\", \"ip\"]\npath_optional = true",
    );
    let value = r#"a:1:{s:1:"t";a:1:{s:2:"IP";s:3:"n/a";}}"#;
    let out = rewrites(
        &optional,
        &meta_dump("meta", value),
        &["--allow-missing-tables"],
    );
    assert!(out.contains("n/a"));
    // An empty collection under `*` is no mismatch.
    rewrites(
        INSIDE,
        &meta_dump("meta", "a:0:{}"),
        &["--allow-missing-tables"],
    );
}

// --- 6. scrubs on serialized data deeper than the parser follows ----------------------------

#[test]
fn a_scrub_on_too_deeply_nested_serialized_data_stops() {
    let rules = "[vars]\nsecret = \"${env:UNDERSTUDY_SECRET}\"\n[[mask]]\ntable = \"meta\"\ncolumn = \"v\"\nstrategy = \"scrub\"\nfind = [\"email\"]\n";
    let mut value = format!("s:{}:\"{LEAK}\";", LEAK.len());
    for _ in 0..200 {
        value = format!("a:1:{{i:0;{value}}}");
    }
    let dump = meta_dump("meta", &value);
    let dir = tempfile::tempdir().unwrap();
    let path = rules_file(dir.path(), rules);
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .arg("--rules")
            .arg(&path)
            .arg("--strict")
            .env("UNDERSTUDY_SECRET", SECRET),
        dump.as_bytes(),
    );
    let stderr = stderr_of_failure(&out);
    assert!(stderr.contains("nested deeper than"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(LEAK));
}

// --- 7. truncated and foreign input ---------------------------------------------------------

#[test]
fn a_dump_cut_at_a_statement_boundary_is_an_error() {
    let dump = wordpress_dump();
    let cut = &dump[..dump.find("-- Dump completed").unwrap()];
    // Cut at the last statement boundary before the trailer, and one table earlier.
    let earlier = &dump[..dump
        .find("\n--\n-- Table structure for table `wp_users`")
        .unwrap()
        + 1];
    for input in [cut, earlier] {
        let out = run_with_stdin(understudy().arg("rewrite"), input.as_bytes());
        let stderr = stderr_of_failure(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr.contains("without its \"-- Dump completed\" trailer"),
            "{stderr}"
        );
        assert!(String::from_utf8_lossy(&out.stdout).ends_with("UNDERSTUDY REWRITE FAILED;\n"));
    }
    let out = run_with_stdin(
        understudy().args(["rewrite", "--allow-incomplete"]),
        cut.as_bytes(),
    );
    assert!(out.status.success());
    assert_eq!(out.stdout, cut.as_bytes());
}

#[test]
fn empty_and_foreign_input_is_not_a_dump() {
    let mut passwd =
        b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin;\n"
            .to_vec();
    let mut random = vec![0u8; 4096];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for b in &mut random {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    random.extend_from_slice(b";\n");
    for (input, says) in [
        (Vec::new(), "the input is empty"),
        (
            b"\n\n-- only a comment\n".to_vec(),
            "holds no SQL statement",
        ),
        (
            std::mem::take(&mut passwd),
            "not a MySQL dump: a statement here begins with \"root:x:0",
        ),
        (random, "not a MySQL dump"),
    ] {
        let out = run_with_stdin(understudy().arg("rewrite"), &input);
        let stderr = stderr_of_failure(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}

// --- 8. signals -----------------------------------------------------------------------------

#[test]
fn a_signal_removes_the_unfinished_output_file() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    for signal in [
        libc_signal::SIGINT,
        libc_signal::SIGTERM,
        libc_signal::SIGHUP,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("copy.sql");
        let mut child = understudy()
            .args(["rewrite", "--replace", "aaaa=bbbb", "-o"])
            .arg(&target)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"-- MariaDB dump 10.19\nCREATE TABLE t (a text);\n")
            .unwrap();
        // Write until the temporary file has data, then keep the pipe open and signal.
        let row = "INSERT INTO t VALUES ('aaaa');\n".repeat(10_000);
        let started = std::time::Instant::now();
        loop {
            stdin.write_all(row.as_bytes()).unwrap();
            let partial: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(Result::ok)
                .filter(|e| e.metadata().is_ok_and(|m| m.len() > 0))
                .collect();
            if !partial.is_empty() {
                break;
            }
            assert!(started.elapsed().as_secs() < 30, "no output file appeared");
        }
        let pid = child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{}", signal.1), &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        drop(stdin);
        assert_eq!(status.signal(), Some(signal.0), "{status:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{}: files left behind: {left:?}", signal.1);
    }
}

/// Signal numbers and names, as Linux has them.
mod libc_signal {
    pub const SIGHUP: (i32, &str) = (1, "HUP");
    pub const SIGINT: (i32, &str) = (2, "INT");
    pub const SIGTERM: (i32, &str) = (15, "TERM");
}

// --- 9. secrets on the command line ---------------------------------------------------------

fn with_secret(args: &[&str], env: Option<&str>) -> std::process::Output {
    let mut cmd = understudy();
    cmd.arg("rewrite")
        .arg("--rules")
        .arg(fixtures().join("../rules/wordpress.toml"))
        .args(URLS.iter().flat_map(|v| ["--var", v]))
        .args(args)
        .env_remove("UNDERSTUDY_SECRET");
    if let Some(secret) = env {
        cmd.env("UNDERSTUDY_SECRET", secret);
    }
    run_with_stdin(&mut cmd, wordpress_dump().as_bytes())
}

#[test]
fn the_secret_is_never_taken_or_echoed_from_the_command_line() {
    let secret = "a-secret-of-more-than-16-bytes";
    let out = with_secret(&["--var", &format!("secret={secret}")], None);
    let stderr = stderr_of_failure(&out);
    assert!(stderr.contains("--secret-file") && stderr.contains("UNDERSTUDY_SECRET"));
    assert!(!stderr.contains(secret));
    // A value given without its name is not shown either.
    let out = with_secret(&["--var", secret], Some(SECRET));
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("expected NAME=VALUE") && !stderr.contains(secret),
        "{stderr}"
    );
    // The message for a missing secret points at the two ways that are safe.
    let out = with_secret(&[], None);
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("--secret-file") && !stderr.contains("--var secret"),
        "{stderr}"
    );
}

#[test]
fn a_secret_file_must_be_private_and_the_secret_long_enough() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let arg = file.to_str().unwrap();
    let out = with_secret(&["--secret-file", arg], None);
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("chmod 600") && stderr.contains("0644"),
        "{stderr}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let from_file = with_secret(&["--secret-file", arg], None);
    assert!(
        from_file.status.success(),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
    let from_env = with_secret(&[], Some(SECRET));
    assert_eq!(
        from_file.stdout, from_env.stdout,
        "the same secret, the same masks"
    );
    let out = with_secret(&[], Some("too-short"));
    let stderr = stderr_of_failure(&out);
    assert!(stderr.contains("needs at least 16"), "{stderr}");
}

/// Beyond a few thousand tables the rewrite keeps its per-table state (schemas, report
/// entries) in temporary files: where none can be made, it stops with exit 2 and says so,
/// and leaves no output file.
#[test]
fn thousands_of_tables_without_a_temporary_directory_stop() {
    let mut dump = String::from(BASE);
    for i in 0..3000 {
        dump.push_str(&format!(
            "CREATE TABLE `t{i}` (`id` int);\nINSERT INTO `t{i}` VALUES ({i});\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), RULES);
    let target = dir.path().join("out").join("copy.sql");
    std::fs::create_dir(target.parent().unwrap()).unwrap();
    let nowhere = dir.path().join("no such directory");
    let out = rewrite_to(&rules, &target, &dump, &[("TMPDIR", &nowhere)]);
    let stderr = stderr_of_failure(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("temporary file"), "{stderr}");
    nothing_left_beside(&target);
    // With one, the same dump goes through.
    let out = rewrite_to(&rules, &target, &dump, &[("TMPDIR", dir.path())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = std::fs::read_to_string(&target).unwrap();
    assert!(copy.contains("INSERT INTO `t2999` VALUES (2999);"));
    assert!(!copy.contains("anna@example.org"));
}
