//! Every example rule file in `docs/rules.md` (each ```toml block) is run: through
//! `understudy rewrite` over the WordPress- and Elgg-shaped fixture dumps. An example must
//! either succeed or stop with a rule error that names a table (never crash, never a usage
//! error). Examples written for tables these dumps do not have (a generic `users`) run
//! without changing anything (with `--allow-missing-tables`); the WordPress and Elgg ones
//! must change the dumps.

use crate::util::{fixtures, run_with_stdin, understudy};

fn examples() -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(fixtures().join("../docs/rules.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some((i + 1, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, body)), l) => {
                body.push_str(l);
                body.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn every_docs_example_runs_over_the_fixture_dumps() {
    let examples = examples();
    assert!(examples.len() >= 15, "found {} examples", examples.len());
    let dir = tempfile::tempdir().unwrap();
    let dumps: Vec<Vec<u8>> = ["wordpress.default.sql", "elgg3.default.sql"]
        .iter()
        .map(|d| std::fs::read(fixtures().join("dumps").join(d)).unwrap())
        .collect();
    let mut changing = 0;
    let total = examples.len();
    for (line, body) in examples {
        let path = dir.path().join(format!("example-{line}.toml"));
        std::fs::write(&path, &body).unwrap();
        let mut changed = false;
        for dump in &dumps {
            let out = run_with_stdin(
                understudy()
                    // Examples are written for tables these dumps may lack.
                    .args(["rewrite", "--quiet", "--allow-missing-tables", "--rules"])
                    .arg(&path)
                    .env("UNDERSTUDY_SECRET", "docs-secret-of-16-bytes")
                    .env("DB_PASSWORD", "docs-password"),
                dump,
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => changed |= out.stdout != *dump,
                Some(1) => assert!(
                    stderr.contains(", table `"),
                    "docs/rules.md example at line {line} failed without naming a table: {stderr}"
                ),
                other => panic!("docs/rules.md example at line {line}: exit {other:?}: {stderr}"),
            }
        }
        changing += usize::from(changed);
    }
    // 11 of 20 today: the complete example, [input], [[replace]], [[table]], conditions,
    // lookups, masks for wp_ and elgg_ tables, inside-serialized, append_sql.
    assert!(
        changing >= 11,
        "only {changing} of {total} examples change a fixture dump"
    );
}
