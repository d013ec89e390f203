//! Checks before the first byte: paths that cannot be written stop the run before any input
//! is read, and checking a rule file needs no secret.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{fixtures, understudy};

/// Runs `rewrite ARGS` with a standard input that never ends: it must exit by itself,
/// non-zero, with `expected` in its message.
fn stops_before_reading(args: &[&std::ffi::OsStr], expected: &str) {
    let mut child = understudy()
        .arg("rewrite")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _held_open = child.stdin.take();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("{args:?}: still waiting for input");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(expected), "{stderr:?} lacks {expected:?}");
}

#[test]
fn unwritable_output_and_report_paths_stop_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing").join("out.sql");
    let report = dir.path().join("missing").join("r.json");
    let d = dir.path().as_os_str();
    stops_before_reading(&["-o".as_ref(), d], "is a directory");
    stops_before_reading(&["-o".as_ref(), missing.as_os_str()], "does not exist");
    stops_before_reading(&["--report".as_ref(), report.as_os_str()], "does not exist");
    stops_before_reading(&["--report".as_ref(), d], "is a directory");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn checking_a_pack_needs_no_secret() {
    let out = understudy()
        .args(["rules", "check"])
        .arg(fixtures().join("../rules/wordpress.toml"))
        .env_remove("UNDERSTUDY_SECRET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("wordpress.toml: ok"), "{stdout}");
    assert!(stdout.contains("needs the masking secret"), "{stdout}");
    // A rewrite still needs it.
    let out = understudy()
        .args(["rewrite", "--rules"])
        .arg(fixtures().join("../rules/wordpress.toml"))
        .arg(fixtures().join("dumps/wordpress.default.sql"))
        .args([
            "--var",
            "src_url=https://www.example.com",
            "--var",
            "dst_url=https://x.test",
        ])
        .env_remove("UNDERSTUDY_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
