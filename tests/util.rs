//! Shared helpers: the binary, fixture paths, running with stdin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

/// The `understudy` binary under test.
pub fn understudy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_understudy"))
}

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every committed dump fixture (`fixtures/dumps`, `fixtures/mysql8`).
pub fn fixture_dumps() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["dumps", "mysql8", "handwritten"] {
        for entry in std::fs::read_dir(fixtures().join(dir)).expect("fixtures exist") {
            let path = entry.expect("readable fixture dir").path();
            if path.extension().is_some_and(|e| e == "sql") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `cmd` with `stdin` piped in; returns the finished process output.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("understudy starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    // Write from a thread so a large output cannot deadlock against a full stdin pipe.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let output = child.wait_with_output().expect("understudy runs");
    writer.join().expect("stdin writer");
    output
}

/// Asserts the process failed, returns its stderr.
pub fn stderr_of_failure(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "expected failure, got success; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every string-ish column's values, hex-encoded, in primary-key order: `(table.column, values)`.
pub fn text_values(db: &MariaDb, name: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    let columns = db
        .query(
            "information_schema",
            &format!(
                "SELECT c.TABLE_NAME, c.COLUMN_NAME FROM COLUMNS c JOIN TABLES t \
                 ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
                 WHERE c.TABLE_SCHEMA = '{name}' AND t.TABLE_TYPE = 'BASE TABLE' \
                 AND c.DATA_TYPE IN ('char','varchar','tinytext','text','mediumtext','longtext',\
                 'binary','varbinary','tinyblob','blob','mediumblob','longblob') \
                 ORDER BY 1, 2"
            ),
        )
        .unwrap();
    columns
        .into_iter()
        .map(|row| {
            let (table, column) = (&row[0], &row[1]);
            let values = db
                .query(
                    name,
                    &format!("SELECT HEX(`{column}`) FROM `{table}` WHERE `{column}` IS NOT NULL ORDER BY 1"),
                )
                .unwrap()
                .into_iter()
                .map(|r| {
                    let hex = r[0].as_bytes();
                    let mut raw = Vec::new();
                    understudy_sqldump::literal::decode_hex(hex, &mut raw).unwrap();
                    raw
                })
                .collect();
            (format!("{table}.{column}"), values)
        })
        .collect()
}

const UNSERIALIZES: &str = r#"
function handle(array $f): array {
    $v = $f[0];
    if ($v === 'b:0;') { return ['1']; }
    return [@unserialize($v) !== false ? '1' : '0'];
}
"#;

pub fn count_unserializable(php: &Php, values: &[(String, Vec<Vec<u8>>)]) -> Vec<(String, usize)> {
    values
        .iter()
        .map(|(col, vals)| {
            let cases: Vec<Vec<Vec<u8>>> = vals.iter().map(|v| vec![v.clone()]).collect();
            let answers = php.run_batch(UNSERIALIZES, &cases).unwrap();
            let ok = answers.iter().filter(|a| a[0] == b"1").count();
            (col.clone(), ok)
        })
        .collect()
}

/// `understudy rewrite --rules rules/PACK` with `--var`s and the masking secret; asserts
/// success and returns the output.
pub fn rewrite_with_pack(dump: &[u8], pack: &str, vars: &[&str], secret: &str) -> Vec<u8> {
    let mut cmd = understudy();
    cmd.arg("rewrite")
        .arg("--rules")
        .arg(fixtures().join(format!("../rules/{pack}")))
        .env("UNDERSTUDY_SECRET", secret);
    for v in vars {
        cmd.arg("--var").arg(v);
    }
    let out = run_with_stdin(&mut cmd, dump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Non-NULL values of `sql` (one column) in `db`, at least 4 bytes long.
pub fn values(server: &MariaDb, db: &str, sql: &str) -> std::collections::BTreeSet<String> {
    server
        .query(db, sql)
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone())
        .filter(|v| v.len() >= 4 && v != "NULL")
        .collect()
}

/// Where Debian's package puts WordPress (`WORDPRESS_DIR` for another copy).
pub fn wordpress_dir() -> PathBuf {
    let dir = std::env::var_os("WORDPRESS_DIR")
        .map_or_else(|| PathBuf::from("/usr/share/wordpress"), PathBuf::from);
    assert!(
        dir.join("wp-settings.php").is_file(),
        "no WordPress in {} (scripts/test installs Debian's wordpress and php-mysql)",
        dir.display()
    );
    dir
}
