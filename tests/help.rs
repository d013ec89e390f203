//! What an installed binary tells its user without the source tree: `--help` with EXAMPLES,
//! shell completions that the shells accept, a man page that renders, and `rules vars`.

use std::path::Path;
use std::process::Command;

use crate::util::{fixtures, understudy};

/// Every command path, as typed after `understudy`.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["rewrite"],
    &["scan"],
    &["clone"],
    &["generate"],
    &["rules"],
    &["rules", "check"],
    &["rules", "vars"],
    &["completions"],
    &["man"],
];

fn help(args: &[&str]) -> String {
    let out = understudy().args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = understudy().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "understudy {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_help_has_examples_and_no_source_tree_path() {
    for args in COMMANDS {
        let text = help(args);
        assert!(
            text.contains("\nEXAMPLES\n    # "),
            "{args:?} --help: no EXAMPLES section:\n{text}"
        );
        for path in ["docs/", "rules/", ".md"] {
            assert!(
                !text.contains(path),
                "{args:?} --help points at {path}, which an installed binary's user lacks:\n{text}"
            );
        }
    }
}

#[test]
fn help_of_masking_commands_names_both_secret_sources() {
    for args in [
        &["rewrite"][..],
        &["rules", "check"],
        &["rules", "vars"],
        &["clone"],
    ] {
        let text = help(args);
        for name in ["UNDERSTUDY_SECRET", "secret-file"] {
            assert!(text.contains(name), "{args:?} --help lacks {name}:\n{text}");
        }
    }
}

#[test]
fn bash_completions_pass_bash_n() {
    let script = stdout_of(&["completions", "bash"]);
    for word in ["rewrite", "--skip-columns", "--secret-file", "vars"] {
        assert!(script.contains(word), "bash completions lack {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("understudy.bash");
    std::fs::write(&path, &script).unwrap();
    let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// zsh and fish are checked by the shells themselves where they are installed; without
/// them, what can be checked without the shell is (the script names every command and
/// option, and its first line is the shell's).
#[test]
fn zsh_and_fish_completions() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, first, check) in [
        ("zsh", "#compdef understudy", &["-n"][..]),
        ("fish", "# Print an optspec", &["--no-execute"][..]),
    ] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.trim_start().starts_with(first),
            "{shell}: starts {:?}",
            &script[..script.len().min(80)]
        );
        for word in [
            "rewrite",
            "skip-columns",
            "include-columns",
            "secret-file",
            "vars",
        ] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
        let path = dir.path().join(format!("understudy.{shell}"));
        std::fs::write(&path, &script).unwrap();
        match Command::new(shell).args(check).arg(&path).output() {
            Ok(out) => assert!(
                out.status.success(),
                "{shell} {check:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("note: {shell} is not installed; its script was checked by content only")
            }
            Err(e) => panic!("{shell}: {e}"),
        }
    }
}

/// Renders a page as a user would (`man -l`), and has troff list every warning.
fn render(page: &Path) -> String {
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("`man` runs (Debian: apt-get install man-db; scripts/test installs it)");
    assert!(
        out.status.success(),
        "man -l {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let out_groff = Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(page)
        .output()
        .expect("groff runs (it comes with man-db)");
    assert!(
        out_groff.stderr.is_empty(),
        "troff warnings for {}: {}",
        page.display(),
        String::from_utf8_lossy(&out_groff.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn man_page_renders_with_man_l() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("understudy.1");
    std::fs::write(&page, stdout_of(&["man"])).unwrap();
    let text = render(&page);
    for part in [
        "NAME",
        "SYNOPSIS",
        "EXAMPLES",
        "SEE ALSO",
        "understudy-rewrite(1)",
    ] {
        assert!(text.contains(part), "understudy.1 lacks {part}:\n{text}");
    }
    // Example commands stay one per line (not filled into a paragraph).
    assert!(
        text.contains("\n       $ understudy rules vars wordpress.toml\n"),
        "{text}"
    );

    let pages = dir.path().join("pages");
    std::fs::create_dir(&pages).unwrap();
    stdout_of(&["man", "--dir", pages.to_str().unwrap()]);
    for name in [
        "understudy",
        "understudy-rewrite",
        "understudy-scan",
        "understudy-clone",
        "understudy-generate",
        "understudy-rules",
        "understudy-rules-check",
        "understudy-rules-vars",
        "understudy-completions",
        "understudy-man",
    ] {
        let text = render(&pages.join(format!("{name}.1")));
        assert!(text.contains("EXAMPLES"), "{name}.1 lacks EXAMPLES");
    }
    let rewrite = render(&pages.join("understudy-rewrite.1"));
    for part in ["--skip-tables", "UNDERSTUDY_SECRET", "--secret-file"] {
        assert!(rewrite.contains(part), "understudy-rewrite.1 lacks {part}");
    }
    assert_eq!(std::fs::read_dir(&pages).unwrap().count(), 10);
}

/// Every pack's variables are listed with a default and a meaning.
#[test]
fn rules_vars_lists_every_pack_variable_with_its_meaning() {
    let packs = fixtures().join("../rules");
    let mut seen = 0;
    for entry in std::fs::read_dir(&packs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        seen += 1;
        let text = stdout_of(&["rules", "vars", path.to_str().unwrap()]);
        assert!(
            !text.contains("no description"),
            "{}:\n{text}",
            path.display()
        );
        let toml: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let vars = toml["vars"].as_table().unwrap();
        for name in vars.keys() {
            assert!(
                text.contains(&format!("\n{name}  (default: ")),
                "{}: {name} not listed:\n{text}",
                path.display()
            );
        }
        assert!(text.contains("secret  (default: \"${env:UNDERSTUDY_SECRET}\")"));
    }
    assert!(seen >= 4, "{seen} packs");
    let wp = stdout_of(&[
        "rules",
        "vars",
        packs.join("wordpress.toml").to_str().unwrap(),
    ]);
    assert!(
        wp.contains("src_url  (default: empty)\n    the production home URL"),
        "{wp}"
    );
}

#[test]
fn rules_vars_refuses_help_for_an_unknown_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.toml");
    std::fs::write(
        &path,
        "[vars]\nsrc_url = \"\"\n[vars_help]\nsrc = \"typo\"\n",
    )
    .unwrap();
    let out = understudy()
        .args(["rules", "vars"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("vars_help.src: help for unknown variable `src`"),
        "{stderr}"
    );
}
