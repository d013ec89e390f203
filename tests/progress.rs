//! What a run shows while it runs: progress on a terminal for piped input, `--progress` for
//! logs, nothing with `-q`; and the closing summary.
//!
//! The terminal is a real pseudo-terminal: `script` (util-linux) runs the pipe in one, and
//! its standard output is what the terminal showed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{fixtures, understudy};

/// A dump fed in three pieces with pauses between them, so a meter drawing every 0.1 s
/// draws while the first piece is read and again after the second.
fn slow_input(dir: &Path) -> String {
    let dump = std::fs::read(fixtures().join("dumps/wordpress.default.sql")).unwrap();
    let third = dump.len() / 3;
    let mut pieces = Vec::new();
    for (i, piece) in [&dump[..third], &dump[third..2 * third], &dump[2 * third..]]
        .iter()
        .enumerate()
    {
        let path = dir.join(format!("piece{i}"));
        std::fs::write(&path, piece).unwrap();
        pieces.push(format!("cat '{}'", path.display()));
    }
    format!("({}) |", pieces.join("; sleep 1; "))
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_understudy"))
}

/// Runs `shell` in a pseudo-terminal; returns what the terminal showed.
fn in_terminal(shell: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", shell, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{shell}: {shown}");
    shown
}

/// The progress lines a terminal showed: each drawing starts with `\r` and an erase.
fn drawn_lines(shown: &str) -> Vec<&str> {
    shown
        .split("\r\x1b[2K")
        .map(|l| l.trim_end())
        .filter(|l| l.starts_with("understudy: ") && l.contains(" read, "))
        .filter(|l| !l.starts_with("understudy: done in "))
        .collect()
}

#[test]
fn a_piped_rewrite_shows_progress_that_moves_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let shell = format!(
        "{} '{}' rewrite --replace https://www.example.com=https://x.test \
         --progress-interval 0.1 > /dev/null",
        slow_input(dir.path()),
        binary().display()
    );
    let shown = in_terminal(&shell);
    let lines = drawn_lines(&shown);
    // Bytes read, rows, throughput, elapsed time; no share or time left without a size.
    let reads: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| {
            assert!(l.contains(" rows, ") && l.contains("/s, 0:0"), "{l:?}");
            assert!(!l.contains("left") && !l.contains('%'), "{l:?}");
            l.split(" read").next().unwrap()
        })
        .collect();
    assert!(reads.len() >= 2, "the count never moved: {shown:?}");
    // The last drawing is erased before the summary.
    let summary = shown.rsplit("\r\x1b[2K").next().unwrap();
    assert!(summary.starts_with("understudy: done in "), "{shown:?}");
    assert!(summary.contains(" read, ") && summary.contains(" written; "));
}

#[test]
fn quiet_shows_no_progress_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let shell = format!(
        "{} '{}' rewrite -q --replace https://www.example.com=https://x.test \
         --progress-interval 0.1 > /dev/null",
        slow_input(dir.path()),
        binary().display()
    );
    let shown = in_terminal(&shell);
    assert_eq!(shown, "", "-q showed something");
}

#[test]
fn a_scan_shows_progress_on_a_terminal_too() {
    let dir = tempfile::tempdir().unwrap();
    let shell = format!(
        "{} '{}' scan --progress-interval 0.1 > /dev/null",
        slow_input(dir.path()),
        binary().display()
    );
    let shown = in_terminal(&shell);
    assert!(drawn_lines(&shown).len() >= 2, "{shown:?}");
}

#[test]
fn progress_into_a_log_is_a_line_at_a_time_and_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let run = |flags: &str| {
        let shell = format!(
            "{} '{}' rewrite {flags} --progress-interval 0.1 > /dev/null",
            slow_input(dir.path()),
            binary().display()
        );
        let out = Command::new("sh")
            .args(["-c", &shell])
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let logged = run("--progress");
    assert!(
        !logged.contains('\r') && !logged.contains('\x1b'),
        "{logged:?}"
    );
    let lines: Vec<&str> = logged.lines().filter(|l| l.contains(" read, ")).collect();
    assert!(lines.len() >= 2, "{logged:?}");
    assert!(lines.iter().all(|l| l.starts_with("understudy: ")));
    // Standard error is not a terminal: no meter unless asked.
    assert_eq!(run(""), "");
}

#[test]
fn progress_and_quiet_conflict() {
    let out = understudy()
        .args(["rewrite", "-q", "--progress"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_summary_says_how_long_how_fast_how_much_in_good_english() {
    let out = understudy()
        .args(["rewrite", "--dry-run", "--replace", "x=y"])
        .arg(fixtures().join("dumps/wordpress.default.sql"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    let line = stderr.trim_end();
    assert!(line.starts_with("understudy: done in "), "{line}");
    for part in [
        " s (",
        "/s): ",
        " kB read, ",
        " written; ",
        " rows (0 dropped), ",
    ] {
        assert!(line.contains(part), "{line} lacks {part:?}");
    }
    assert!(line.ends_with(", 0 warnings"), "{line}");
}

/// Rules with a replacement that moves nothing (its variable not given) and one that
/// moves the URL.
const HALF_MOVED: &str = "[vars]\nsrc_url = \"\"\ndst_url = \"https://x.test\"\n\
    [[replace]]\nname = \"site URL\"\nfrom = \"${src_url}\"\nto = \"${dst_url}\"\n\
    [[replace]]\nfrom = \"https://www.example.com\"\nto = \"https://x.test\"\n";

#[test]
fn a_replacement_that_moves_nothing_is_a_warning_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, HALF_MOVED).unwrap();
    let report = dir.path().join("r.json");
    let run = |quiet: bool| {
        let mut cmd = understudy();
        cmd.args(["rewrite", "--dry-run", "--rules"])
            .arg(&rules)
            .arg("--report")
            .arg(&report)
            .arg(fixtures().join("dumps/wordpress.default.sql"));
        if quiet {
            cmd.arg("-q");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "{stderr}");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        (stderr, json)
    };
    let (stderr, json) = run(false);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("understudy: warning: ")
            && lines[0].ends_with(
                "site URL (line 4) moved nothing: `from` is empty (`src_url` not given)"
            ),
        "{stderr}"
    );
    assert!(lines[1].ends_with(", 1 warning"), "{stderr}");
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{json}");
    assert_eq!(warnings[0]["kind"], "replacement_unused");
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .contains("moved nothing"));
    // -q: nothing on standard error, the same report.
    let (stderr, quiet_json) = run(true);
    assert_eq!(stderr, "");
    assert_eq!(quiet_json["warnings"], json["warnings"]);
}
