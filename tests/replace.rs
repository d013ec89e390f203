//! `--replace` end to end on the WordPress- and Elgg-shaped fixtures: load into a real MariaDB,
//! dump, rewrite, load into a second server; then PHP checks that every value that unserialized
//! before still unserializes, and no old URL or path is left anywhere.

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

use crate::util::{count_unserializable, fixtures, run_with_stdin, text_values, understudy};

fn check_site(db: &str, replaces: &[&str], gone: &[&str]) {
    let php = Php::require();
    let source = MariaDb::start().unwrap();
    let target = MariaDb::start().unwrap();
    source.create_database(db).unwrap();
    source
        .load_file(db, &fixtures().join(format!("sql/{db}.sql")))
        .unwrap();
    for options in [&[][..], &["--hex-blob"][..]] {
        let dump = source.dump(db, options).unwrap();
        let mut cmd = understudy();
        cmd.arg("rewrite");
        for r in replaces {
            cmd.arg("--replace").arg(r);
        }
        let out = run_with_stdin(&mut cmd, &dump);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let copy = format!("{db}_copy{}", options.len());
        target.create_database(&copy).unwrap();
        target.load(&copy, &out.stdout).unwrap();

        let before = count_unserializable(&php, &text_values(&source, db));
        let after = count_unserializable(&php, &text_values(&target, &copy));
        assert!(
            before.iter().map(|(_, n)| n).sum::<usize>() > 10,
            "{db} has serialized values"
        );
        assert_eq!(after, before, "{db} {options:?}: values that unserialize");

        let restored = target.dump(&copy, &["--hex-blob"]).unwrap();
        let text = String::from_utf8_lossy(&restored);
        let plain = target.dump(&copy, &[]).unwrap();
        for needle in gone {
            assert!(
                !text.contains(needle),
                "{db} {options:?}: {needle} left (hex-blob dump)"
            );
            let hex: String = needle.bytes().map(|b| format!("{b:02X}")).collect();
            assert!(
                !text.contains(&hex),
                "{db} {options:?}: {needle} left inside a blob"
            );
            assert!(
                !String::from_utf8_lossy(&plain).contains(needle),
                "{db} {options:?}: {needle} left"
            );
        }
    }
}

#[test]
fn wordpress_moves_completely_and_stays_unserializable() {
    check_site(
        "wordpress",
        &[
            "www.example.com=staging.example.org",
            "/srv/wp=/srv/staging/wp",
        ],
        &["www.example.com", "/srv/wp/"],
    );
}

#[test]
fn elgg_moves_completely_and_stays_unserializable() {
    check_site(
        "elgg3",
        &[
            "https://mitglieder.example.org=https://int.example.org",
            "mitglieder.example.org=int.example.org",
            "/srv/elgg/=/srv/int/",
        ],
        &["mitglieder.example.org", "/srv/elgg/"],
    );
}

/// `understudy rewrite ARGS --report FILE` on `dump`, which must succeed: its standard output,
/// its standard error and the report.
fn rewrite_with_report(args: &[&str], dump: &[u8]) -> (String, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .args(args)
            .arg("--report")
            .arg(&report),
        dump,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let report = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (String::from_utf8(out.stdout).unwrap(), stderr, report)
}

#[test]
fn the_report_says_where_the_url_lived() {
    let dump = std::fs::read(fixtures().join("dumps/elgg3.default.sql")).unwrap();
    let (_, _, report) = rewrite_with_report(
        &[
            "--quiet",
            "--replace",
            "https://mitglieder.example.org=https://int.example.org",
        ],
        &dump,
    );
    let encodings =
        |table: &str, column: &str| report["tables"][table]["columns"][column]["encodings"].clone();
    assert!(
        encodings("elgg_users_sessions", "data")["session"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        encodings("elgg_config", "value")["serialized"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        encodings("elgg_metadata", "value")["plain"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        report["values_replaced"].as_u64().unwrap(),
        report["tables"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|t| t["columns"].as_object().unwrap().values())
            .flat_map(|c| c["encodings"].as_object().unwrap().values())
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>()
    );
}

/// base64 of serialized PHP, as a whole value and inside a serialized string, is decoded,
/// rewritten (lengths fixed) and encoded again; a hex blob of serialized PHP too; and the
/// report says so per column. `base64 = false` in a rule leaves its columns' base64 alone.
#[test]
fn base64_is_looked_into_unless_a_rule_says_not() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let inner = br#"a:1:{s:3:"url";s:25:"https://old.example.org/x";}"#;
    let encoded = b64.encode(inner);
    let nested = format!(r#"a:1:{{s:3:"job";s:{}:"{encoded}";}}"#, encoded.len());
    let hex: String = inner.iter().map(|b| format!("{b:02x}")).collect();
    let dump = format!(
        "CREATE TABLE `jobs` (\n  `id` int(11) NOT NULL,\n  `payload` text,\n  `state` blob,\n  \
         `note` text,\n  PRIMARY KEY (`id`)\n);\n\
         INSERT INTO `jobs` VALUES (1,'{encoded}',0x{hex},'{}');\n",
        nested.replace('"', "\\\"")
    );
    let moved = br#"a:1:{s:3:"url";s:28:"https://int.example.com.au/x";}"#;
    let dir = tempfile::tempdir().unwrap();
    let run = |rules: &str| {
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, rules).unwrap();
        let path = path.to_str().unwrap();
        let (out, _, report) = rewrite_with_report(&["--quiet", "--rules", path], dump.as_bytes());
        (out, report)
    };
    let pair = "from = \"https://old.example.org\"\nto = \"https://int.example.com.au\"\n";

    let (out, report) = run(&format!("[[replace]]\n{pair}"));
    let new_b64 = b64.encode(moved);
    assert!(out.contains(&format!("(1,'{new_b64}',")), "{out}");
    let new_hex: String = moved.iter().map(|b| format!("{b:02x}")).collect();
    assert!(out.contains(&format!(",0x{new_hex},")), "{out}");
    let new_nested = format!(r#"a:1:{{s:3:\"job\";s:{}:\"{new_b64}\";}}"#, new_b64.len());
    assert!(out.contains(&new_nested), "{out}");
    let encodings = |report: &serde_json::Value, column: &str| {
        report["tables"]["jobs"]["columns"][column]["encodings"].clone()
    };
    assert_eq!(encodings(&report, "payload")["base64"], 1);
    assert_eq!(encodings(&report, "state")["hex blob, serialized"], 1);
    assert_eq!(encodings(&report, "note")["serialized"], 1);

    // Off for one column: its base64 stays as it was, the others' still moves.
    let (out, _) = run(&format!(
        "[[replace]]\n{pair}columns = [\"jobs.payload\"]\nbase64 = false\n\n\
         [[replace]]\n{pair}skip_columns = [\"jobs.payload\"]\n"
    ));
    assert!(out.contains(&format!("(1,'{encoded}',")), "{out}");
    assert!(out.contains(&new_nested), "{out}");
}

/// Values that only look like a wrapper and hold the needle: replaced as plain text, and the
/// report and standard error say where (a broken session, a base64-looking word).
#[test]
fn look_alikes_with_the_needle_are_replaced_as_text_with_a_warning() {
    let dump = b"CREATE TABLE `s` (\n  `id` int(11) NOT NULL,\n  `data` text,\n  PRIMARY KEY (`id`)\n);\n\
        INSERT INTO `s` VALUES (1,'user|s:30:\\\"olddomain'),(2,'YToolddomainToken'),(3,'a | olddomain');\n";
    let (stdout, stderr, report) = rewrite_with_report(&["--replace", "olddomain=newdomain"], dump);
    assert!(
        stdout
            .contains("(1,'user|s:30:\\\"newdomain'),(2,'YTonewdomainToken'),(3,'a | newdomain')"),
        "{stdout}"
    );
    let warnings = report["warnings"].as_array().unwrap();
    let rows: Vec<&str> = warnings
        .iter()
        .map(|w| w["row"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["1 (key 1)", "2 (key 2)"], "{warnings:?}");
    assert!(warnings
        .iter()
        .all(|w| w["table"] == "s" && w["column"] == "`data`"));
    assert!(warnings[1]["message"]
        .as_str()
        .unwrap()
        .contains("looks like base64"));
    assert_eq!(stderr.matches("warning:").count(), 2, "{stderr}");
}

/// Rows without a needle are copied through whole, found by a search of their escaped bytes;
/// rows where that search cannot see a needle (escapes mysqldump does not write, hex, base64)
/// must still be taken value by value, wherever they sit among clean rows.
#[test]
fn needles_a_byte_search_cannot_see_are_still_replaced() {
    let clean = "(0,'nothing to see here, https://other.example')";
    let hidden = [
        // (row, what it must become)
        (
            r"(1,'see https:\/\/old.example\/x')",
            "(1,'see https://new.example/x')",
        ),
        (r"(2,'https://old\.example')", "(2,'https://new.example')"),
        (
            "(3,0x68747470733A2F2F6F6C642E6578616D706C65)",
            "(3,0x68747470733A2F2F6E65772E6578616D706C65)",
        ),
        (
            "(4,'YToxOntpOjA7czoxOToiaHR0cHM6Ly9vbGQuZXhhbXBsZSI7fQ==')",
            "(4,'YToxOntpOjA7czoxOToiaHR0cHM6Ly9uZXcuZXhhbXBsZSI7fQ==')",
        ),
        ("(5,'it''s plain')", "(5,'it''s plain')"),
        // base64 in a serialized string, after `\"`.
        (
            r#"(6,'a:1:{s:3:\"job\";s:52:\"YToxOntpOjA7czoxOToiaHR0cHM6Ly9vbGQuZXhhbXBsZSI7fQ==\";}')"#,
            r#"(6,'a:1:{s:3:\"job\";s:52:\"YToxOntpOjA7czoxOToiaHR0cHM6Ly9uZXcuZXhhbXBsZSI7fQ==\";}')"#,
        ),
        // The same in JSON whose quotes are not escaped as mysqldump escapes them (the
        // changed value is written in mysqldump's escaping).
        (
            r#"(7,'{"job":"YToxOntpOjA7czoxOToiaHR0cHM6Ly9vbGQuZXhhbXBsZSI7fQ=="}')"#,
            r#"(7,'{\"job\":\"YToxOntpOjA7czoxOToiaHR0cHM6Ly9uZXcuZXhhbXBsZSI7fQ==\"}')"#,
        ),
        // Pretty-printed JSON, whose base64 starts `ew`.
        (
            "(8,'ewogICAgInVybCI6ICJodHRwczovL29sZC5leGFtcGxlIgp9')",
            "(8,'ewogICAgInVybCI6ICJodHRwczovL25ldy5leGFtcGxlIgp9')",
        ),
        // base64 in a JSON document with a line break before it.
        (
            r#"(9,'\n[\"YToxOntpOjA7czoxOToiaHR0cHM6Ly9vbGQuZXhhbXBsZSI7fQ==\"]')"#,
            r#"(9,'\n[\"YToxOntpOjA7czoxOToiaHR0cHM6Ly9uZXcuZXhhbXBsZSI7fQ==\"]')"#,
        ),
    ];
    let mut dump = String::from(
        "CREATE TABLE `t` (`id` int, `v` text);\n\
         CREATE TABLE `u` (`id` int, `a` text, `v` text, `b` text);\n",
    );
    let mut want = dump.clone();
    for (row, new) in hidden {
        // Clean rows on both sides, so the hidden one is never first or last.
        dump += &format!("INSERT INTO `t` VALUES {clean},{clean},{row},{clean};\n");
        want += &format!("INSERT INTO `t` VALUES {clean},{clean},{new},{clean};\n");
        // And among clean values of its row, after a needle the search does see.
        let (value, new_value) = (&row[3..row.len() - 1], &new[3..new.len() - 1]);
        let (a, b) = ("'https://old.example/a'", "'clean'");
        let new_a = "'https://new.example/a'";
        dump += &format!(
            "INSERT INTO `u` VALUES {clean2},(1,{a},{value},{b}),{clean2};\n",
            clean2 = "(0,'x','y','z')"
        );
        want += &format!(
            "INSERT INTO `u` VALUES {clean2},(1,{new_a},{new_value},{b}),{clean2};\n",
            clean2 = "(0,'x','y','z')"
        );
    }
    for threads in ["1", "2"] {
        let (out, _, report) = rewrite_with_report(
            &[
                "--quiet",
                "--threads",
                threads,
                "--batch-size",
                "64",
                "--replace",
                "https://old.example=https://new.example",
            ],
            dump.as_bytes(),
        );
        assert_eq!(out, want, "--threads {threads}");
        assert_eq!(report["values_replaced"], 25, "--threads {threads}");
    }
}
