//! `rewrite --report`: JSON keyed by bare column names and mask names, NULL and empty
//! values a mask left alone counted apart, and the same figures as an HTML page; and the
//! command line's `--skip-tables`, `--skip-columns`, `--include-columns`.

use serde_json::Value;

use crate::util::{fixtures, run_with_stdin, understudy};

const DUMP: &str = "\
CREATE TABLE `u` (
  `id` int NOT NULL,
  `email` varchar(100) DEFAULT NULL,
  `name` varchar(100) DEFAULT NULL,
  PRIMARY KEY (`id`)
);
INSERT INTO `u` VALUES (1,'a@example.net','Al'),(2,NULL,NULL),(3,'',''),(4,'<b>@example.net','Bo');
";

const RULES: &str = r#"
[vars]
secret = "${env:UNDERSTUDY_SECRET}"

[[mask]]
name = "e-mail <hash>"
table = "u"
column = "email"
strategy = "hash"

[[mask]]
table = "u"
column = "name"
strategy = "fixed"
value = "x"
"#;

/// Runs `rewrite` over `dump` with `args`, a report at `report`; returns the output.
fn rewrite(dump: &[u8], args: &[&str], report: &std::path::Path) -> Vec<u8> {
    let out = run_with_stdin(
        understudy()
            .args(["rewrite", "--quiet", "--report"])
            .arg(report)
            .args(args)
            .env("UNDERSTUDY_SECRET", "report-test-secret-16"),
        dump,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn masks_are_counted_by_name_and_blanks_apart() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.toml");
    std::fs::write(&rules, RULES).unwrap();
    let report = dir.path().join("report.json");
    rewrite(
        DUMP.as_bytes(),
        &["--rules", rules.to_str().unwrap()],
        &report,
    );
    let r = json(&report);
    let columns = &r["tables"]["u"]["columns"];
    // Bare names: what the user writes in rules and queries.
    let keys: Vec<&str> = columns
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["email", "name"]);
    let email = &columns["email"];
    assert_eq!(email["masked"], serde_json::json!({"e-mail <hash>": 2}));
    assert_eq!(email["left_null"], serde_json::json!({"e-mail <hash>": 1}));
    assert_eq!(email["left_empty"], serde_json::json!({"e-mail <hash>": 1}));
    // Unnamed: `mask[N]`. `fixed` writes its value into an empty string (masked) but leaves
    // NULL as NULL.
    let name = &columns["name"];
    assert_eq!(name["masked"], serde_json::json!({"mask[1]": 3}));
    assert_eq!(name["left_null"], serde_json::json!({"mask[1]": 1}));
    assert_eq!(name["left_empty"], serde_json::json!({}));
    assert_eq!(r["values_masked"], 5);
    assert_eq!(r["values_left_null"], 2);
    assert_eq!(r["values_left_empty"], 1);

    // The same run as a page: the figures, names escaped, nothing fetched.
    let page_path = dir.path().join("report.html");
    rewrite(
        DUMP.as_bytes(),
        &["--rules", rules.to_str().unwrap()],
        &page_path,
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("e-mail &lt;hash&gt;: 2"), "{page}");
    assert!(!page.contains("<hash>"), "unescaped: {page}");
    assert!(page.contains("<th>values masked</th><td class=\"n\">5</td>"));
    for fetch in ["src=", "href=", "url(", "<script", "<link"] {
        assert!(!page.contains(fetch), "{fetch} in {page}");
    }
}

#[test]
fn html_report_lists_warnings_with_offsets() {
    // A value that looks serialized but does not parse: a warning with its byte offset.
    let dump = "CREATE TABLE `s` (`id` int, `data` text);\n\
                INSERT INTO `s` VALUES (1,'a:1:{s:9:\"old.example\";}');\n";
    let dir = tempfile::tempdir().unwrap();
    let page_path = dir.path().join("r.html");
    rewrite(
        dump.as_bytes(),
        &["--replace", "old.example=new.example"],
        &page_path,
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.contains("<h2>Warnings (1)</h2>"), "{page}");
    // The offset the JSON report gives.
    let json_path = dir.path().join("r.json");
    rewrite(
        dump.as_bytes(),
        &["--replace", "old.example=new.example"],
        &json_path,
    );
    let offset = json(&json_path)["warnings"][0]["byte"].as_u64().unwrap();
    assert!(offset > 40, "{offset}");
    assert!(
        page.contains(&format!("<tr class=\"warn\"><td class=\"n\">{offset}</td>")),
        "no offset {offset}: {page}"
    );
}

/// The tables and columns `--replace www.example.com=…` changed, from the JSON report.
fn replaced_columns(extra: &[&str]) -> Vec<String> {
    let dump = std::fs::read(fixtures().join("dumps/wordpress.default.sql")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let mut args = vec!["--replace", "www.example.com=int.example.org"];
    args.extend_from_slice(extra);
    rewrite(&dump, &args, &report);
    let r = json(&report);
    let mut out = Vec::new();
    for (table, t) in r["tables"].as_object().unwrap() {
        for (column, c) in t["columns"].as_object().unwrap() {
            if c["replaced"].as_object().is_some_and(|m| !m.is_empty()) {
                out.push(format!("{table}.{column}"));
            }
        }
    }
    out
}

#[test]
fn skip_and_include_as_wp_search_replace() {
    let all = replaced_columns(&[]);
    assert_eq!(
        all,
        [
            "wp_comments.comment_content",
            "wp_links.link_url",
            "wp_options.option_value",
            "wp_postmeta.meta_value",
            "wp_posts.guid",
            "wp_posts.post_content"
        ]
    );
    let without = |gone: &[&str]| -> Vec<String> {
        all.iter()
            .filter(|c| !gone.contains(&c.as_str()))
            .cloned()
            .collect()
    };
    assert_eq!(
        replaced_columns(&["--skip-columns=guid"]),
        without(&["wp_posts.guid"])
    );
    assert_eq!(
        replaced_columns(&["--skip-tables", "wp_posts,wp_*meta"]),
        without(&[
            "wp_posts.guid",
            "wp_posts.post_content",
            "wp_postmeta.meta_value"
        ])
    );
    assert_eq!(
        replaced_columns(&[
            "--include-columns",
            "post_content",
            "--include-columns",
            "link_url"
        ]),
        ["wp_links.link_url", "wp_posts.post_content"]
    );
    assert_eq!(
        replaced_columns(&["--skip-columns", "wp_posts.guid", "--skip-tables=wp_links"]),
        without(&["wp_posts.guid", "wp_links.link_url"])
    );
}

#[test]
fn skip_flags_need_replace_and_names() {
    let out = understudy()
        .args(["rewrite", "--skip-columns", "guid"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a usage error (README's exit table)"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    // Rows without column names cannot be told apart by column.
    let dump = "INSERT INTO `t` VALUES (1,'old.example');\n";
    let out = run_with_stdin(
        understudy().args([
            "rewrite",
            "--replace",
            "old.example=new.example",
            "--skip-columns",
            "c",
        ]),
        dump.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--skip-columns or --include-columns"),
        "{stderr}"
    );
    // A table the scope skips needs no names.
    let out = run_with_stdin(
        understudy().args([
            "rewrite",
            "--replace",
            "old.example=new.example",
            "--skip-tables",
            "t",
            "--skip-columns",
            "c",
        ]),
        dump.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, dump.as_bytes());
}

/// A dump of more tables than the engine keeps in memory (1,024: the rest of their report
/// entries goes to a temporary file): the report still lists every table once, with all
/// of its rows, and a table that comes back after the others numbers its rows on.
#[test]
fn reports_of_thousands_of_tables_are_whole_and_rows_count_on() {
    let mut dump = String::from(
        "CREATE TABLE `a` (`v` text);\nINSERT INTO `a` VALUES ('x'),('http://old.example/');\n",
    );
    for i in 0..1500 {
        dump.push_str(&format!(
            "CREATE TABLE `t{i:04}` (`id` int, `v` text);\n\
             INSERT INTO `t{i:04}` VALUES ({i},'http://old.example/{i}');\n"
        ));
    }
    // The 4th row of `a` looks serialized and does not parse: its warning names the row.
    dump.push_str("INSERT INTO `a` VALUES ('y'),('a:1:{s:9:\"old.example\";}');\n");
    let dir = tempfile::tempdir().unwrap();
    for threads in ["1", "2"] {
        let path = dir.path().join(format!("r{threads}.json"));
        let args = [
            "--replace",
            "old.example=new.example",
            "--threads",
            threads,
            "--batch-size",
            "4096",
        ];
        let out = rewrite(dump.as_bytes(), &args, &path);
        assert_eq!(out, dump.replace("old.example", "new.example").as_bytes());
        let r = json(&path);
        let tables = r["tables"].as_object().unwrap();
        assert_eq!(tables.len(), 1501, "threads {threads}");
        let names: Vec<&String> = tables.keys().collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "in name order");
        assert_eq!(tables["a"]["rows"], 4);
        assert_eq!(tables["a"]["columns"]["v"]["replaced"]["--replace"], 2);
        assert_eq!(tables["a"]["columns"]["v"]["corrupt_serialized"], 1);
        for (name, t) in tables.iter().filter(|(n, _)| *n != "a") {
            assert_eq!(t["rows"], 1, "{name}");
            assert_eq!(t["columns"]["v"]["replaced"]["--replace"], 1, "{name}");
        }
        assert_eq!(r["warnings"][0]["table"], "a");
        assert_eq!(r["warnings"][0]["row"], "4", "threads {threads}");
        // The page lists them all too.
        let page_path = dir.path().join(format!("r{threads}.html"));
        rewrite(dump.as_bytes(), &args, &page_path);
        let page = std::fs::read_to_string(&page_path).unwrap();
        assert_eq!(page.matches("<tr><td><code>t").count(), 1500);
    }
}

/// A site once moved with `sed` holds broken serialized values by the thousand. Past the
/// thousands the run keeps in memory, its warnings go to a temporary file: all of them are
/// still printed and reported, in the dump's order, with one thread or two; without a
/// temporary directory the run stops rather than lose them.
#[test]
fn thousands_of_warnings_are_all_printed_and_reported_in_order() {
    const ROWS: usize = 5000;
    let mut dump = String::from("CREATE TABLE `o` (`id` int, `v` text, PRIMARY KEY (`id`));\n");
    for chunk in (1..=ROWS).collect::<Vec<_>>().chunks(250) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!("({i},'a:1:{{s:3:\\\"url\\\";s:99:\\\"https://old.example/{i}\\\";}}')")
            })
            .collect();
        dump.push_str(&format!("INSERT INTO `o` VALUES {};\n", rows.join(",")));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for threads in ["1", "2"] {
        let path = dir.path().join(format!("r{threads}.json"));
        let out = run_with_stdin(
            understudy()
                .args(["rewrite", "--report"])
                .arg(&path)
                .args(["--replace", "https://old.example=https://new.example"])
                .args(["--threads", threads, "--batch-size", "8192"]),
            dump.as_bytes(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let printed: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("understudy: warning: "))
            .collect();
        assert_eq!(printed.len(), ROWS, "threads {threads}");
        let r = json(&path);
        let warnings = r["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), ROWS, "threads {threads}");
        for (i, (w, line)) in warnings.iter().zip(&printed).enumerate() {
            let row = format!("{} (key {})", i + 1, i + 1);
            assert_eq!(w["row"], row.as_str(), "threads {threads}");
            assert!(line.contains(&format!("row {row}:")), "{line}");
        }
        assert!(stderr.contains(&format!("{ROWS} warnings")) || stderr.contains("5,000 warnings"));
        reports.push(r["warnings"].clone());
    }
    assert_eq!(reports[0], reports[1]);

    let nowhere = dir.path().join("no such directory");
    let out = run_with_stdin(
        understudy()
            .args([
                "rewrite",
                "-q",
                "--replace",
                "https://old.example=https://new.example",
            ])
            .env("TMPDIR", &nowhere),
        dump.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TMPDIR"), "{stderr}");
}
