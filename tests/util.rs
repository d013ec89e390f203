//! Shared helpers: the binary, fixture paths, running with stdin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
