//! `--threads N` writes exactly what `--threads 1` writes: the same bytes, the same report,
//! the same error at the same position. Tiny batches (`--batch-size`) make every statement
//! a batch of its own, so each batch boundary, `DELIMITER` block, statement longer than a
//! batch and table change goes through the parallel pass's checks.

use std::path::Path;

use understudy_generate::{DumpGenerator, Shape};

use crate::util::{fixture_dumps, fixtures, run_with_stdin, understudy};

const SECRET: &str = "threads-test-secret";

/// Argument sets: none, replacements, and every pack.
pub(crate) fn configs() -> Vec<Vec<String>> {
    let rules = |pack: &str, vars: &[&str]| {
        let mut args = vec![
            "--rules".to_owned(),
            fixtures()
                .join(format!("../rules/{pack}"))
                .to_string_lossy()
                .into_owned(),
        ];
        for v in vars {
            args.push("--var".into());
            args.push((*v).into());
        }
        args
    };
    vec![
        vec![],
        [
            "--replace",
            "https://www.example.com=https://int.example.org",
            "--replace",
            "https://mitglieder.example.org/=https://int.example.org/",
            "--replace",
            "example.org=example.net",
        ]
        .map(String::from)
        .to_vec(),
        rules(
            "wordpress.toml",
            &[
                "src_url=https://www.example.com",
                "dst_url=https://int.example.org",
            ],
        ),
        rules(
            "elgg.toml",
            &[
                "src_url=https://mitglieder.example.org/",
                "dst_url=https://int.example.org/",
            ],
        ),
        rules(
            "elgg-2.3.toml",
            &[
                "src_url=https://mitglieder.example.org/",
                "dst_url=https://int.example.org/",
            ],
        ),
        rules(
            "drupal.toml",
            &[
                "src_url=https://www.example.org",
                "dst_url=https://staging.example.com",
            ],
        ),
    ]
}

/// Status, stdout, stderr and report of one run.
fn rewrite(
    dir: &Path,
    input: &[u8],
    args: &[String],
    threads: &str,
    batch: Option<&str>,
) -> (Option<i32>, Vec<u8>, String, String) {
    let report = dir.join(format!(
        "report-{threads}-{}.json",
        batch.unwrap_or("default")
    ));
    let _ = std::fs::remove_file(&report);
    let mut cmd = understudy();
    cmd.args(["rewrite", "--quiet", "--threads", threads, "--report"])
        .arg(&report)
        .args(args)
        .env("UNDERSTUDY_SECRET", SECRET);
    if let Some(b) = batch {
        cmd.args(["--batch-size", b]);
    }
    let out = run_with_stdin(&mut cmd, input);
    let report = std::fs::read_to_string(&report).unwrap_or_default();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        report,
    )
}

pub(crate) fn assert_same_as_one_thread(
    dir: &Path,
    name: &str,
    input: &[u8],
    args: &[String],
    runs: &[(&str, Option<&str>)],
) {
    let one = rewrite(dir, input, args, "1", None);
    for &(threads, batch) in runs {
        let many = rewrite(dir, input, args, threads, batch);
        assert_eq!(
            many.0, one.0,
            "{name} {args:?}: exit status with {threads} threads, batch {batch:?}: {}",
            many.2
        );
        assert_eq!(
            many.2, one.2,
            "{name} {args:?}: stderr with {threads} threads, batch {batch:?}"
        );
        assert!(
            many.1 == one.1,
            "{name} {args:?}: output differs with {threads} threads, batch {batch:?}"
        );
        assert_eq!(
            many.3, one.3,
            "{name} {args:?}: report with {threads} threads, batch {batch:?}"
        );
    }
}

#[test]
fn every_fixture_is_rewritten_the_same_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = fixture_dumps();
    files.extend(
        ["elgg3", "wordpress", "drupal", "elgg23"].map(|f| fixtures().join(format!("sql/{f}.sql"))),
    );
    assert!(files.len() >= 20, "{files:?}");
    for file in &files {
        let input = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy();
        for args in configs() {
            assert_same_as_one_thread(
                dir.path(),
                &name,
                &input,
                &args,
                &[("2", None), ("2", Some("1")), ("3", Some("300"))],
            );
        }
    }
}

/// Cut off anywhere, a dump fails the same way: same message, position, table, and the same
/// bytes written before the failure.
#[test]
fn truncated_dumps_fail_the_same_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "dumps/wordpress.default.sql",
        "dumps/types.routines-triggers-events.sql",
        "handwritten/edge-cases.sql",
    ] {
        let input = std::fs::read(fixtures().join(f)).unwrap();
        let args = &configs()[1];
        for i in 1..16 {
            let cut = input.len() * i / 16 + i;
            let cut = cut.min(input.len() - 1);
            let truncated = &input[..cut];
            assert_same_as_one_thread(
                dir.path(),
                &format!("{f}[..{cut}]"),
                truncated,
                args,
                &[("2", Some("1")), ("2", Some("200"))],
            );
        }
    }
}

/// A generated WordPress-shaped dump of several default-size batches, statements longer than
/// small batches, with replacements and the WordPress pack.
#[test]
fn a_generated_dump_is_rewritten_the_same_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (dump, _) = DumpGenerator::new(6 << 20).seed(11).generate();
    for args in &configs()[1..3] {
        assert_same_as_one_thread(
            dir.path(),
            "generated",
            &dump,
            args,
            &[("2", None), ("4", Some("65536"))],
        );
    }
}

/// Thousands of small tables (a multisite dump): batches dense with `CREATE TABLE`s are lexed
/// by the pass itself, the others by workers that take the schemas the pass published. By
/// default every batch is dense; 200 KB batches mix both kinds, 4 KB batches hold one table
/// or none each.
#[test]
fn a_dump_of_many_tables_is_rewritten_the_same_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (dump, _) = DumpGenerator::new(3 << 20)
        .seed(5)
        .shape(Shape::ManyTables)
        .generate();
    for args in &configs()[1..3] {
        assert_same_as_one_thread(
            dir.path(),
            "many-tables",
            &dump,
            args,
            &[("2", None), ("2", Some("200000")), ("3", Some("4096"))],
        );
    }
}

/// One-row `INSERT`s whose statements a small batch cuts: the pass reads such bytes itself,
/// and a row filter's skim there once started at a value the batch had cut, whose progress
/// the lexer kept, and counted a row's values into the next row's ("the row has 32 values,
/// the table has 23 columns") where one thread read the dump fine.
#[test]
fn one_row_inserts_cut_by_small_batches_are_rewritten_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (dump, _) = DumpGenerator::new(1 << 20)
        .seed(6)
        .shape(Shape::Mix)
        .generate();
    assert_same_as_one_thread(
        dir.path(),
        "mix",
        &dump,
        &configs()[1],
        &[
            ("2", Some("2048")),
            ("2", Some("4096")),
            ("3", Some("8192")),
        ],
    );
}

/// A read that fails (a gzip stream cut short) stops both the same way, at the same byte,
/// line and table.
#[test]
fn a_failed_read_fails_the_same_with_threads() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let dump = std::fs::read(fixtures().join("dumps/wordpress.default.sql")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&dump).unwrap();
    let mut gz = enc.finish().unwrap();
    gz.truncate(gz.len() * 2 / 3);
    let (status, _, stderr, _) = rewrite(dir.path(), &gz, &[], "1", None);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("reading input failed"), "{stderr}");
    assert_same_as_one_thread(
        dir.path(),
        "cut gzip",
        &gz,
        &[],
        &[("2", None), ("2", Some("100"))],
    );
}

/// Rules in `dir` that fill `users.id` from a template of `email` (a NULL email fails the
/// rewrite), and the `CREATE TABLE` of `users`, for a dump to follow.
fn users_masked_by_template(dir: &Path) -> (Vec<String>, String) {
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "[[mask]]\ntable = \"users\"\ncolumn = \"id\"\nstrategy = \"template\"\ntemplate = \"{email}\"\n",
    )
    .unwrap();
    let args = vec!["--rules".to_owned(), rules.to_string_lossy().into_owned()];
    let dump = String::from(
        "CREATE TABLE `users` (\n  `id` varchar(100) NOT NULL,\n  `email` varchar(100) DEFAULT NULL\n);\n",
    );
    (args, dump)
}

/// A rule that fails in a statement a worker rewrites whole (the mask cannot be filled in
/// row 41 of the second statement) stops both the same way, after the same output.
#[test]
fn a_rule_failing_in_a_worker_fails_the_same_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (args, mut dump) = users_masked_by_template(dir.path());
    for statement in 0..3 {
        let rows: Vec<String> = (0..60)
            .map(|i| {
                let email = if statement == 1 && i == 40 {
                    "NULL".to_owned()
                } else {
                    format!("'user{statement}-{i}@example.org'")
                };
                format!("({i},{email})")
            })
            .collect();
        dump.push_str(&format!("INSERT INTO `users` VALUES {};\n", rows.join(",")));
    }
    let (status, stdout, stderr, _) = rewrite(dir.path(), dump.as_bytes(), &args, "1", None);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("row 101"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&stdout).contains("user0-59@example.org"),
        "the first statement is written"
    );
    assert_same_as_one_thread(
        dir.path(),
        "failing template",
        dump.as_bytes(),
        &args,
        &[("2", None), ("2", Some("1")), ("3", Some("200"))],
    );
}

/// One row per `INSERT`, with a value that warns (serialized PHP that does not parse) in
/// the middle of runs of statements a worker rewrites as one: the warnings name the same
/// rows, and the report and output are the same, however the batches cut the runs.
#[test]
fn warnings_inside_runs_of_one_row_inserts_are_reported_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut dump = String::from("CREATE TABLE `o` (\n  `id` int NOT NULL,\n  `v` longtext\n);\n");
    for i in 0..300 {
        let v = if [0, 1, 2, 57, 58, 150, 299].contains(&i) {
            format!("a:1:{{i:0;s:99:\"https://www.example.com/{i}\";}}")
        } else {
            let url = format!("https://www.example.com/{i}");
            format!("a:1:{{i:0;s:{}:\"{url}\";}}", url.len())
        };
        dump.push_str(&format!("INSERT INTO `o` VALUES ({i},'{v}');\n"));
        if i == 200 {
            dump.push_str("-- a comment ends a run\n");
        }
    }
    let args = configs()[1].clone();
    let (status, _, stderr, report) = rewrite(dir.path(), dump.as_bytes(), &args, "1", None);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(report.contains("\"row\": \"58\""), "{report}");
    assert!(report.contains("\"corrupt_serialized\": 7"), "{report}");
    assert_same_as_one_thread(
        dir.path(),
        "warnings in one-row inserts",
        dump.as_bytes(),
        &args,
        &[
            ("2", None),
            ("2", Some("1000")),
            ("2", Some("4096")),
            ("3", Some("700")),
        ],
    );
}

/// A rule failing in the 40th of one-row `INSERT`s, which a worker would rewrite as one run,
/// stops both the same way, after the same output.
#[test]
fn a_rule_failing_inside_a_run_of_one_row_inserts_fails_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (args, mut dump) = users_masked_by_template(dir.path());
    for i in 0..100 {
        let email = if i == 40 {
            "NULL".to_owned()
        } else {
            format!("'user{i}@example.org'")
        };
        dump.push_str(&format!("INSERT INTO `users` VALUES ({i},{email});\n"));
    }
    let (status, stdout, stderr, _) = rewrite(dir.path(), dump.as_bytes(), &args, "1", None);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("row 41"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&stdout).contains("user39@example.org"),
        "the statements before it are written"
    );
    assert_same_as_one_thread(
        dir.path(),
        "failing template in one-row inserts",
        dump.as_bytes(),
        &args,
        &[("2", None), ("2", Some("1")), ("3", Some("600"))],
    );
}
