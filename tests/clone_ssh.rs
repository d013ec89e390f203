//! `understudy clone` across machines: the source or the target reached over ssh, through a
//! throwaway `sshd` on 127.0.0.1 (its own host key, an authorized key made for the test, a
//! client config given to the plan as `[ssh] config_file`). The "remote" machine is this
//! one, so the test can look at both sides: no password on any command line, no option
//! file left, and a target that a cut connection leaves as it was.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use understudy_testkit::sshd::Sshd;

use crate::clone::{
    clone_command, paused_dump, text, watch_argv, Sites, DST_PW, GOOD_VARS, SRC_PW,
};
use crate::clone_wordpress::{repo, succeeds, Wp, WP_SECRETS};
use crate::util::understudy;

/// The `[ssh]` section that reaches the test's server.
fn ssh_section(sshd: &Sshd) -> String {
    format!(
        "\n[ssh]\nconfig_file = \"{}\"\n",
        sshd.client_config().display()
    )
}

/// Names of the files that appear under `dir` while `stop` is unset.
fn watch_names(dir: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let seen = Mutex::new(Vec::new());
        fn walk(dir: &Path, seen: &Mutex<Vec<String>>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, seen);
                } else if let Ok(mut s) = seen.lock() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if !s.contains(&name) {
                        s.push(name);
                    }
                }
            }
        }
        while !stop.load(Ordering::Relaxed) {
            walk(&dir, &seen);
            std::thread::sleep(Duration::from_millis(5));
        }
        seen.into_inner().unwrap_or_default()
    })
}

/// Waits (a remote command may still be ending) until `dir` is empty; what is left.
fn left_in(dir: &Path, wait: Duration) -> Vec<PathBuf> {
    let deadline = Instant::now() + wait;
    loop {
        let left: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_wordpress_example_clones_with_the_source_then_the_target_over_ssh() {
    let sshd = Sshd::start().unwrap();
    let wp = Wp::new();
    let example = std::fs::read_to_string(repo().join("examples/clone-wordpress.toml")).unwrap();
    let local_tmp = wp.dir.path().join("local-tmp");
    std::fs::create_dir_all(&local_tmp).unwrap();
    for side in ["source", "target"] {
        // The example as it is, one side's site (and with it its database) on the
        // "remote" machine.
        let plan = wp.dir.path().join(format!("{side}-over-ssh.toml"));
        let plan_text = example
            .replace(
                "[site]\n",
                &format!("[site]\n{side}_ssh = \"{}\"\n", sshd.url()),
            )
            .replace("../rules/", &format!("{}/rules/", repo().display()))
            + &ssh_section(&sshd)
            // Run where the target's files are, in its root, without the clone's secrets.
            + "\n[[post_command]]\nname = \"record\"\ncommand = [\"sh\", \"-c\", \"pwd > post.txt; env >> post.txt\"]\n";
        std::fs::write(&plan, plan_text).unwrap();
        if side == "target" {
            // A fresh target, so the second clone is checked as fully as the first.
            std::fs::remove_dir_all(&wp.int).unwrap();
            wp.dst.execute("DROP DATABASE wp_int").unwrap();
        }
        let check = succeeds(
            wp.clone_command(&plan, &["--check"])
                .env("TMPDIR", &local_tmp),
            "--check",
        );
        assert!(
            !check.contains("PROBLEM") && check.contains("reachable over ssh, has mariadb"),
            "{check}"
        );

        let stop = Arc::new(AtomicBool::new(false));
        let argv = watch_argv(
            vec![SRC_PW.into(), DST_PW.into(), "prod-db-password".into()],
            Arc::clone(&stop),
        );
        let remote_files = watch_names(sshd.remote_tmp().to_path_buf(), Arc::clone(&stop));
        let out = wp
            .clone_command(&plan, &[])
            .env("TMPDIR", &local_tmp)
            .output()
            .unwrap();
        stop.store(true, Ordering::Relaxed);
        let (argv, remote_files) = (argv.join().unwrap(), remote_files.join().unwrap());
        let log = text(&out);
        assert!(out.status.success(), "{side}: {log}");
        for secret in WP_SECRETS {
            assert!(!log.contains(secret) && !check.contains(secret), "{log}");
        }
        assert!(argv.is_empty(), "a password on a command line: {argv:?}");
        // The remote clients read their login from an option file on their side …
        assert!(
            remote_files.iter().any(|f| f == "client.cnf"),
            "{remote_files:?}"
        );
        // zstd is on both ends here: the dump (or the restore) streamed compressed.
        assert!(
            check.contains("zstd there: the database streams compressed"),
            "{check}"
        );
        let compressed = if side == "source" {
            "the dump"
        } else {
            "the restore"
        };
        assert!(
            log.contains(&format!(
                "{compressed} streams over ssh compressed with zstd"
            )),
            "{log}"
        );
        // … and none is left there or here.
        assert_eq!(
            left_in(sshd.remote_tmp(), Duration::from_secs(5)),
            Vec::<PathBuf>::new()
        );
        assert_eq!(left_in(&local_tmp, Duration::ZERO), Vec::<PathBuf>::new());
        assert!(log.contains(&sshd.url()), "{log}");
        wp.assert_cloned(&log);
        let post = std::fs::read_to_string(wp.int.join("post.txt")).unwrap();
        assert!(
            post.starts_with(&format!("{}\n", wp.int.display())),
            "{post}"
        );
        for secret in WP_SECRETS {
            assert!(!post.contains(secret), "{post}");
        }
        // The patched config keeps its mode (the temporary file it was written to is 0600).
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let copied = mode(&wp.prod.join("wp-config.php"));
        assert_ne!(copied, 0o600);
        assert_eq!(mode(&wp.int.join("wp-config.php")), copied, "{side}");
    }
}

/// Whether a process runs with exactly `argv`.
fn running(argv: &[&str]) -> bool {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == want))
}

#[test]
fn a_cut_ssh_connection_fails_the_stage_and_leaves_the_target_as_it_was() {
    let sshd = Sshd::start().unwrap();
    let sites = Sites::new();
    for (side, stage) in [("source", "dump failed"), ("target", "restore failed")] {
        let before = sites.target_checksums();
        // `paused_dump`'s pause, made one no other test runs.
        let dump = paused_dump().replace("sleep 8;", "sleep 8.5;");
        let plan = sites.plan(GOOD_VARS, &format!("{dump}{}", ssh_section(&sshd)));
        let text_of_plan = std::fs::read_to_string(&plan).unwrap().replace(
            &format!("[{side}]\n"),
            &format!("[{side}]\nssh = \"{}\"\n", sshd.url()),
        );
        std::fs::write(&plan, text_of_plan).unwrap();
        // Cut while the dump pauses, half sent (its `sleep` runs), with the dump and
        // the restore both started.
        let child = clone_command(&plan, &[]).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !running(&["sleep", "8.5"]) {
            assert!(Instant::now() < deadline, "{side}: the dump never paused");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let n = sshd.cut_connections();
        assert!(n > 0, "no connection to cut");
        let out = child.wait_with_output().unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{side}: {all}");
        assert!(all.contains(stage), "{side}: {all}");
        assert!(
            all.contains("ssh: the connection to the other machine failed or was cut"),
            "{side}: {all}"
        );
        assert!(
            all.contains("the target database is as it was"),
            "{side}: {all}"
        );
        assert_eq!(sites.target_checksums(), before, "{side}");
        // The remote commands end by themselves (their input or output is gone) and
        // remove their option files as they do.
        assert_eq!(
            left_in(sshd.remote_tmp(), Duration::from_secs(20)),
            Vec::<PathBuf>::new(),
            "{side}"
        );
    }
    let dbs = sites.databases();
    assert!(!dbs.iter().any(|d| d.contains("understudy")), "{dbs:?}");
}

#[test]
fn an_unknown_host_key_is_an_error_that_says_how_to_add_it() {
    let sshd = Sshd::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The test's client config, with a known_hosts that lacks the server's key.
    let config = std::fs::read_to_string(sshd.client_config()).unwrap();
    let empty = dir.path().join("known_hosts");
    std::fs::write(&empty, "").unwrap();
    let config = config
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("UserKnownHostsFile") {
                format!("  UserKnownHostsFile {}", empty.display())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config_file = dir.path().join("ssh_config");
    std::fs::write(&config_file, config).unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "[source]\nssh = \"{url}\"\nhost = \"127.0.0.1\"\nport = 1\ndatabase = \"a\"\n\n\
             [target]\nhost = \"127.0.0.1\"\nport = 2\ndatabase = \"b\"\n\n\
             [ssh]\nconfig_file = \"{cfg}\"\n",
            url = sshd.url(),
            cfg = config_file.display()
        ),
    )
    .unwrap();
    let out = understudy()
        .args(["clone", "--check"])
        .arg(&plan)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("PROBLEM") && all.contains("host key is not in known_hosts"),
        "{all}"
    );
    assert!(
        all.contains(&format!("ssh-keyscan -p {} 127.0.0.1", sshd.port())),
        "{all}"
    );
    // Nothing was added to it behind the user's back.
    assert_eq!(std::fs::read_to_string(&empty).unwrap(), "");
}
