//! Checks before the first byte: paths that cannot be written stop the run before any input
//! is read, and checking a rule file needs no secret.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{fixtures, understudy};

/// Runs `understudy ARGS` with a standard input that never ends: it must exit by itself
/// with `code`, with `expected` in its message.
fn stops_before_reading(args: &[&std::ffi::OsStr], code: i32, expected: &str) {
    let mut child = understudy()
        .args(args)
        .env("UNDERSTUDY_SECRET", "a-secret-long-enough-for-masks")
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
    assert_eq!(status.code(), Some(code), "{args:?}: {stderr}");
    assert!(
        stderr.contains(expected),
        "{args:?}: {stderr:?} lacks {expected:?}"
    );
}

/// `stops_before_reading` for arguments that are all text.
fn stops(args: &[&str], code: i32, expected: &str) {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    stops_before_reading(&args, code, expected);
}

#[test]
fn unwritable_output_and_report_paths_stop_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing").join("out.sql");
    let report = dir.path().join("missing").join("r.json");
    let d = dir.path().as_os_str();
    let rewrite = std::ffi::OsStr::new("rewrite");
    stops_before_reading(&[rewrite, "-o".as_ref(), d], 2, "is a directory");
    stops_before_reading(
        &[rewrite, "-o".as_ref(), missing.as_os_str()],
        2,
        "does not exist",
    );
    stops_before_reading(
        &[rewrite, "--report".as_ref(), report.as_os_str()],
        2,
        "does not exist",
    );
    stops_before_reading(&[rewrite, "--report".as_ref(), d], 2, "is a directory");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// README's exit status table, row by row, for every subcommand: what the user gave is
/// wrong (arguments, rules, plan) exits 1; a file that cannot be opened, read or written
/// exits 2. Each stops before reading a byte of its input.
#[test]
fn every_failure_before_the_first_byte_exits_as_the_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let bad_rules = path("bad.toml");
    std::fs::write(&bad_rules, "[[mask]]\ntable = \"users\"\n").unwrap();
    let good_rules = path("good.toml");
    std::fs::write(&good_rules, "[[replace]]\nfrom = \"a\"\nto = \"b\"\n").unwrap();
    let missing = path("missing.sql");
    let missing_rules = path("missing.toml");
    let missing_report = path("missing/r.json");

    // A usage error exits 1, like any argument that cannot work.
    stops(&["rewrite", "--no-such-flag"], 1, "--no-such-flag");
    stops(&["rewrite", "--threads", "0"], 1, "--threads");
    stops(&["scan", "--no-such-flag"], 1, "--no-such-flag");
    stops(&["clone"], 1, "PLAN");
    stops(&[], 1, "Usage");
    stops(&["rewrite", "--var", "a=b"], 1, "--var needs --rules");
    stops(&["scan", "--var", "a=b"], 1, "--var needs --rules");
    // Rules that are wrong exit 1.
    stops(&["rewrite", "--rules", &bad_rules], 1, "bad.toml");
    stops(&["scan", "--rules", &bad_rules], 1, "bad.toml");
    stops(&["rules", "check", &bad_rules], 1, "bad.toml");
    // A file that cannot be opened exits 2, whichever it is.
    stops(&["rewrite", &missing], 2, "missing.sql");
    stops(&["scan", &missing], 2, "missing.sql");
    stops(&["rewrite", "--rules", &missing_rules], 2, "missing.toml");
    stops(&["scan", "--rules", &missing_rules], 2, "missing.toml");
    stops(&["rules", "check", &missing_rules], 2, "missing.toml");
    stops(
        &["rules", "check", &good_rules, "--dump", &missing],
        2,
        "missing.sql",
    );
    stops(
        &["rewrite", "--rules", &good_rules, "--secret-file", &missing],
        2,
        "missing.sql",
    );
    stops(
        &["clone", &path("missing-plan.toml")],
        2,
        "missing-plan.toml",
    );
    stops(
        &["rewrite", "--dry-run", "--report", &missing_report],
        2,
        "does not exist",
    );
    // A clone's report is checked before anything is copied: with servers that do not
    // exist, the report is what it names.
    let plan = path("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "[source]\nhost = \"127.0.0.1\"\nport = 1\nuser = \"u\"\n\
             password = \"${{env:UNDERSTUDY_SECRET}}\"\ndatabase = \"a\"\n\
             [target]\nhost = \"127.0.0.1\"\nport = 1\nuser = \"u\"\n\
             password = \"${{env:UNDERSTUDY_SECRET}}\"\ndatabase = \"b\"\n\
             [rewrite]\nrules = \"{good_rules}\"\n"
        ),
    )
    .unwrap();
    stops(
        &["clone", &plan, "--report", &missing_report],
        2,
        "does not exist",
    );
    // Help and version are no errors.
    for flag in ["--help", "--version"] {
        let out = understudy().arg(flag).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}");
    }
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
