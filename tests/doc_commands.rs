//! Every `understudy` command shown in README.md and docs/ is run by a test: this one runs
//! those it can run as they are written (with the paths they name, in a sandbox holding
//! the fixtures under the names the docs use, and real MariaDB servers behind
//! `mariadb-dump prod` and `mariadb staging`), and checks that the others are run by the
//! test that owns them. A command added to the docs and to neither list fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

use understudy_testkit::mariadb::MariaDb;

use crate::util::fixtures;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every command line of a document that runs `understudy`, continuation lines joined:
/// from indented code, fenced blocks, and `$ ` prompts. With the line it starts on.
fn commands(doc: &str) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(repo().join(doc)).unwrap();
    let mut out = Vec::new();
    let mut fenced = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        if raw.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let code = fenced || raw.starts_with("    ");
        if !code {
            pending = None;
            continue;
        }
        let line = raw.trim().trim_start_matches("$ ");
        let (start, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
        if !joined.is_empty() {
            joined.push(' ');
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head.trim());
                pending = Some((start, joined));
            }
            None => {
                joined.push_str(line);
                let words: Vec<&str> = joined.split_whitespace().collect();
                if words.contains(&"understudy") && !joined.starts_with('#') {
                    out.push((start, words.join(" ")));
                }
            }
        }
    }
    out
}

/// Where a command that this test does not run is run.
const RUN_ELSEWHERE: &[(&str, &str, &[&str])] = &[
    // (command as shown, the test file that runs it, what that file must hold)
    (
        "TARGET_DB_PASSWORD=… UNDERSTUDY_SECRET=… understudy clone examples/clone-wordpress.toml",
        "tests/clone_wordpress.rs",
        &["examples/clone-wordpress.toml", "TARGET_DB_PASSWORD", "UNDERSTUDY_SECRET"],
    ),
    (
        "understudy clone examples/clone-wordpress.toml",
        "tests/clone_wordpress.rs",
        &["examples/clone-wordpress.toml", "let log = example(&[\"--report\""],
    ),
    (
        "understudy clone --check examples/clone-wordpress.toml",
        "tests/clone_wordpress.rs",
        &["example(&[\"--check\"])"],
    ),
    (
        "understudy clone --dry-run examples/clone-wordpress.toml",
        "tests/clone_wordpress.rs",
        &["example(&[\"--dry-run\"])"],
    ),
    (
        "understudy clone examples/clone-wordpress.toml --report clone-report.json",
        "tests/clone_wordpress.rs",
        &["\"--report\"", "clone-report.json"],
    ),
    (
        "understudy clone examples/clone-wordpress.toml --only files,config",
        "tests/clone_wordpress.rs",
        &["\"--only\"", "\"files,config\""],
    ),
    (
        "understudy rewrite --rules rules/wordpress.toml --var src_url=https://www.prod-net.example --var dst_url=https://int-net.example --var src_domain=www.prod-net.example --var dst_domain=int-net.example --replace shop-brand.example=shop-brand.int-net.example < prod.sql > int.sql",
        "tests/wordpress.rs",
        &["shop-brand.example=shop-brand.int-net.example", "src_domain=www.prod-net.example"],
    ),
];

/// Documents whose ```sh blocks `tests/scan.rs` runs, each as a whole.
const SH_BLOCKS_RUN_BY_SCAN: &[&str] = &["README.md", "docs/scan.md"];

/// The ```sh blocks' commands of a document.
fn sh_block_commands(doc: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(doc)).unwrap();
    let mut out = Vec::new();
    for block in text.split("```sh\n").skip(1) {
        let body = block.split("```").next().unwrap_or("");
        let joined = body.replace("\\\n", " ");
        for line in joined.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.contains(&"understudy") {
                out.push(words.join(" "));
            }
        }
    }
    out
}

/// A directory holding what the docs' commands name: the repository's rules, fixtures and
/// examples, `dump.sql.gz` and `prod.sql.gz`, a home for completions.
struct Sandbox {
    dir: tempfile::TempDir,
    wp: MariaDb,
    elgg: MariaDb,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for name in ["rules", "fixtures", "examples"] {
            std::os::unix::fs::symlink(repo().join(name), dir.path().join(name)).unwrap();
        }
        let gz = |fixture: &str, to: &str| {
            let out = Command::new("gzip")
                .arg("-c")
                .arg(fixtures().join(fixture))
                .output()
                .unwrap();
            std::fs::write(dir.path().join(to), out.stdout).unwrap();
        };
        gz("dumps/wordpress.default.sql", "dump.sql.gz");
        std::fs::copy(
            fixtures().join("dumps/wordpress.default.sql"),
            dir.path().join("prod.sql"),
        )
        .unwrap();
        gz("dumps/elgg3.default.sql", "prod.sql.gz");
        for d in [
            "home/.local/share/bash-completion/completions",
            "home/.zfunc",
            "home/.config/fish/completions",
        ] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        // `prod` is the WordPress fixture on one server and the Elgg one on another: the
        // commands name `prod` for both sites.
        let wp = MariaDb::start().unwrap();
        let elgg = MariaDb::start().unwrap();
        for (server, fixture) in [
            (&wp, "dumps/wordpress.default.sql"),
            (&elgg, "dumps/elgg3.default.sql"),
        ] {
            server
                .execute(
                    "CREATE DATABASE prod; CREATE DATABASE staging; CREATE DATABASE integration",
                )
                .unwrap();
            server.load_file("prod", &fixtures().join(fixture)).unwrap();
        }
        Sandbox { dir, wp, elgg }
    }

    /// Runs `command` with bash in the sandbox: `understudy` is the binary under test,
    /// `mariadb-dump` and `mariadb` are the real tools logged in to `server`.
    fn run(&self, command: &str, server: &MariaDb) -> std::process::Output {
        let bin = Path::new(env!("CARGO_BIN_EXE_understudy"))
            .parent()
            .unwrap();
        let sock = server.socket().display().to_string();
        let script = format!(
            "set -o pipefail\n\
             mariadb-dump() {{ command mariadb-dump --no-defaults --socket={sock} --user=root \"$@\"; }}\n\
             mariadb() {{ command mariadb --no-defaults --socket={sock} --user=root \"$@\"; }}\n\
             {command}\n"
        );
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(self.dir.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", self.dir.path().join("home"))
            .env("UNDERSTUDY_SECRET", "docs-commands-secret-0123")
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap()
    }
}

/// The commands this test runs as written (`…` filled in where the docs leave a value
/// out), with the server behind `prod` and the exit status they must end with.
fn run_here(command: &str) -> Option<(String, &'static str, i32)> {
    // `generate` runs as written, with sizes a test can afford.
    if command.starts_with("understudy generate ") {
        let shrunk = command
            .replace("--tables 18000 --size 350M", "--tables 200 --size 2M")
            .replace("--size 1G", "--size 1M")
            .replace("--size 500M", "--size 1M")
            .replace("--size 200M", "--size 1M")
            .replace("--size 100M", "--size 1M");
        assert!(!shrunk.contains("00M"), "a size to shrink: {command}");
        // A database of its own, so the restore does not land on what other commands
        // restored and the test checks.
        let shrunk = if shrunk.ends_with("| mariadb bench") {
            format!("mariadb -e 'CREATE DATABASE IF NOT EXISTS bench' && {shrunk}")
        } else {
            shrunk
        };
        return Some((shrunk, "wp", 0));
    }
    let elgg_vars =
        "--var src_url=https://mitglieder.example.org/ --var dst_url=https://int.example.org/";
    Some(match command {
        "mariadb-dump prod | understudy rewrite --rules rules/elgg.toml --var src_url=… --var dst_url=… | mariadb integration" => (
            command.replace("--var src_url=… --var dst_url=…", elgg_vars),
            "elgg",
            0,
        ),
        "mariadb-dump --single-transaction prod | understudy rewrite --rules rules/wordpress.toml --var src_url=https://www.example.com --var dst_url=https://staging.example.org | mariadb staging"
        | "understudy rewrite dump.sql.gz --replace https://www.example.org=https://int.example.org -o int.sql.zst"
        | "understudy completions bash > ~/.local/share/bash-completion/completions/understudy"
        | "understudy completions zsh > ~/.zfunc/_understudy"
        | "understudy completions fish > ~/.config/fish/completions/understudy.fish"
        | "understudy man | man -l -"
        | "understudy rules vars rules/wordpress.toml # variables: default, meaning"
        | "understudy rules check rules/wordpress.toml # validate" => (command.to_string(), "wp", 0),
        "understudy rules check rules/elgg.toml --dump prod.sql.gz # list columns no rule covers" => {
            (command.to_string(), "elgg", 0)
        }
        // The secret the docs leave out is the sandbox's.
        "UNDERSTUDY_SECRET=… understudy rewrite --rules rules/wordpress.toml --var src_url=https://www.example.com --var dst_url=https://int.example.org < prod.sql > int.sql" => (
            command.replace("UNDERSTUDY_SECRET=… ", ""),
            "wp",
            0,
        ),
        // Into the sandbox rather than /usr/local, and without sudo.
        "sudo understudy man --dir /usr/local/share/man/man1" => (
            "mkdir -p man1 && understudy man --dir man1 && test -s man1/understudy-rewrite.1".into(),
            "wp",
            0,
        ),
        _ => return None,
    })
}

#[test]
fn every_command_in_readme_and_docs_is_run() {
    let mut docs = vec!["README.md".to_string()];
    for e in std::fs::read_dir(repo().join("docs")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "md") {
            docs.push(format!("docs/{}", e.file_name().to_string_lossy()));
        }
    }
    docs.sort();
    let sandbox = Sandbox::new();
    let mut ran = 0;
    let mut unowned = Vec::new();
    for doc in &docs {
        let by_scan = if SH_BLOCKS_RUN_BY_SCAN.contains(&doc.as_str()) {
            sh_block_commands(doc)
        } else {
            Vec::new()
        };
        for (line, command) in commands(doc) {
            if by_scan.contains(&command) {
                continue;
            }
            if let Some((_, file, marks)) = RUN_ELSEWHERE.iter().find(|(c, _, _)| *c == command) {
                let text = std::fs::read_to_string(repo().join(file)).unwrap();
                for mark in *marks {
                    assert!(
                        text.contains(mark),
                        "{doc}:{line}: {file} does not run `{command}` ({mark} missing)"
                    );
                }
                continue;
            }
            if command == "understudy rules vars example.toml" {
                rules_vars_example(&sandbox, doc);
                ran += 1;
                continue;
            }
            let Some((script, site, want)) = run_here(&command) else {
                unowned.push(format!("{doc}:{line}: {command}"));
                continue;
            };
            let server = if site == "elgg" {
                &sandbox.elgg
            } else {
                &sandbox.wp
            };
            let out = sandbox.run(&script, server);
            assert_eq!(
                out.status.code(),
                Some(want),
                "{doc}:{line}: {script}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(
        unowned.is_empty(),
        "commands no test runs:\n{}",
        unowned.join("\n")
    );
    assert!(ran >= 10, "ran {ran}");
    // What the pipes restored is there, moved.
    let url = |server: &MariaDb, db: &str, sql: &str| server.query_value(db, sql).unwrap();
    assert_eq!(
        url(
            &sandbox.wp,
            "staging",
            "SELECT option_value FROM wp_options WHERE option_name = 'siteurl'"
        ),
        "https://staging.example.org"
    );
    assert!(
        std::fs::metadata(sandbox.dir.path().join("int.sql.zst"))
            .unwrap()
            .len()
            > 0
    );
    assert!(sandbox
        .dir
        .path()
        .join("home/.local/share/bash-completion/completions/understudy")
        .is_file());
}

/// `rules vars example.toml` on the rule file the document shows just before it.
fn rules_vars_example(sandbox: &Sandbox, doc: &str) {
    let text = std::fs::read_to_string(repo().join(doc)).unwrap();
    let at = text.find("$ understudy rules vars example.toml").unwrap();
    let before = &text[..at];
    let toml_start = before.rfind("```toml\n").unwrap() + "```toml\n".len();
    let toml = &before[toml_start..before[toml_start..].find("```").unwrap() + toml_start];
    std::fs::write(sandbox.dir.path().join("example.toml"), toml).unwrap();
    let out = sandbox.run("understudy rules vars example.toml", &sandbox.wp);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = text[at..].lines().nth(1).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some(shown)
    );
}
