//! Bad input: a non-zero exit, an error naming the byte offset, line and table, and no partial
//! output file.

use crate::util::{run_with_stdin, stderr_of_failure, understudy};

const GOOD: &[u8] = b"-- dump\nCREATE TABLE `users` (\n  `id` int NOT NULL\n);\nINSERT INTO `users` VALUES (1,'anna@example.org'),\n(2,'bob@example.org');\n";

/// Runs a bad input both to stdout and to `-o FILE`; checks the message, exit code, and that no
/// file (not even a temporary one) is left behind.
fn check_bad(input: &[u8], expected: &str) {
    let out = run_with_stdin(understudy().arg("rewrite"), input);
    let stderr = stderr_of_failure(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(expected),
        "stderr {stderr:?} lacks {expected:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.sql");
    let out = run_with_stdin(understudy().arg("rewrite").arg("-o").arg(&target), input);
    stderr_of_failure(&out);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn cut_inside_a_string() {
    // Cut after `(2,'bo`.
    let cut = &GOOD[..GOOD.len() - 16];
    check_bad(
        cut,
        "byte 108 (line 6), table `users`: input ends inside a quoted literal that starts here",
    );
}

#[test]
fn cut_inside_a_statement() {
    check_bad(
        &GOOD[..30],
        "byte 8 (line 2), table `users`: input ends inside a statement that starts here",
    );
}

#[test]
fn cut_between_rows() {
    // Cut after `),\n`.
    let cut = &GOOD[..GOOD.len() - 23];
    check_bad(
        cut,
        "byte 105 (line 6), table `users`: input ends inside an INSERT statement: expected '(' to open a row",
    );
}

#[test]
fn unterminated_comment() {
    check_bad(
        b"SELECT 1;\n/*!40101 SET x=1 */;\n/* no end",
        "byte 31 (line 3): input ends inside a /* … */ comment that starts here",
    );
}

#[test]
fn unbalanced_parenthesis() {
    check_bad(
        b"INSERT INTO `users` VALUES (1,'a'),(2,'b';\n",
        "byte 41 (line 1), table `users`: unexpected ';' here: expected ',' and another value, or ')' to close the row",
    );
}

#[test]
fn invalid_gzip_data() {
    let mut bad = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    bad.extend_from_slice(b"this is not deflate data at all");
    check_bad(&bad, "byte 0 (line 1): reading input failed");
}

#[test]
fn invalid_zstd_data() {
    let mut good = zstd::encode_all(GOOD, 3).unwrap();
    let n = good.len();
    good.truncate(n - 5);
    check_bad(&good, "reading input failed");
}

#[test]
fn truncated_gzip_stream() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(GOOD).unwrap();
    let mut gz = enc.finish().unwrap();
    gz.truncate(gz.len() - 12);
    check_bad(&gz, "reading input failed");
}

#[test]
fn a_failed_stream_makes_the_restore_fail() {
    use understudy_testkit::mariadb::MariaDb;
    let cut = &GOOD[..GOOD.len() - 16];
    let out = run_with_stdin(understudy().arg("rewrite"), cut);
    stderr_of_failure(&out);
    let server = MariaDb::start().unwrap();
    server.create_database("restore").unwrap();
    assert!(
        server.load("restore", &out.stdout).is_err(),
        "a cut stream restored without error"
    );
}

#[test]
fn a_closed_pipe_downstream_is_a_failure() {
    use std::io::Read;
    use std::process::Stdio;
    // Enough output that it cannot all sit in the pipe buffer.
    let mut dump = Vec::new();
    for i in 0..20_000 {
        dump.extend_from_slice(
            format!("INSERT INTO `t` VALUES ({i},'{}');\n", "x".repeat(100)).as_bytes(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dump.sql");
    std::fs::write(&input, &dump).unwrap();
    let mut child = understudy()
        .arg("rewrite")
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("writing output failed"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, no panic: {stderr}");
}
