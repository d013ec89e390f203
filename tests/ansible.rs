//! The Ansible role of `contrib/ansible/` (issue 21): real `ansible-playbook -c local` runs
//! the Elgg example clone on localhost, its plan rendered from inventory variables, between
//! two throwaway MariaDB servers. It must copy the site, report `changed` only when the
//! target changed, and fail with understudy's own message, with no secret in its output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use understudy_testkit::mariadb::MariaDb;

use crate::clone::{servers, ElggSite, DST_PW, SECRET, SRC_PW};

const BANNER: &str = "REPLACE INTO elgg_config (name, value) \
                      VALUES ('understudy_banner', 's:28:\"INTEGRATION - not production\";')";

/// `examples/clone-elgg.toml`, as the role's inventory variables, with `password` as the
/// target's.
fn inventory(dir: &Path, site: &ElggSite, dst: &MariaDb, password: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vars = json!({
        "ansible_python_interpreter": "/usr/bin/python3",
        "understudy_executable": env!("CARGO_BIN_EXE_understudy"),
        "understudy_name": "elgg-int",
        "understudy_plan_dir": dir.join("plans"),
        "understudy_site": {
            "kind": "elgg",
            "source_root": site.www,
            "target_root": site.int_www,
            "target_url": "https://int.members.example.org/",
            "target_data": site.int_data,
        },
        "understudy_target_db": {
            "host": "127.0.0.1",
            "port": dst.port(),
            "user": "elgg_int",
            "database": "elgg_int",
            "password_env": "TARGET_DB_PASSWORD",
        },
        "understudy_rules": repo.join("rules/elgg.toml"),
        "understudy_post_sql": [{ "name": "banner", "sql": BANNER }],
        "understudy_copies": [
            { "from": ".", "to": ".", "exclude": [".git/"], "delete": true },
            { "from": site.data, "to": site.int_data, "exclude": ["caches/"], "delete": true },
        ],
        "understudy_secrets": {
            "TARGET_DB_PASSWORD": password,
            "UNDERSTUDY_SECRET": SECRET,
        },
    });
    let path = dir.join("inventory.json");
    let inventory = json!({ "all": { "hosts": { "localhost": vars } } });
    std::fs::write(&path, serde_json::to_vec_pretty(&inventory).unwrap()).unwrap();
    path
}

/// A run of the playbook on one host: its output, the recap's `changed` count, and the
/// clone task's result (the `tree` callback keeps each host's last result: the role ends
/// with it).
struct Run {
    out: Output,
    changed: u32,
    result: Value,
}

fn playbook(dir: &Path, inventory: &Path, args: &[&str]) -> Run {
    let tree = dir.join("tree");
    let _ = std::fs::remove_dir_all(&tree);
    let out = Command::new("ansible-playbook")
        .args(["-c", "local", "-i"])
        .arg(inventory)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/clone.yml"))
        .args(args)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", dir.join("ansible-remote"))
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_CALLBACKS_ENABLED", "tree")
        .env("ANSIBLE_CALLBACK_TREE_DIR", &tree)
        // What the role is given must be all it has.
        .env_remove("UNDERSTUDY_SECRET")
        .output()
        .expect("ansible-playbook (Debian's ansible-core; scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let changed = stdout
        .lines()
        .find(|l| l.contains(" : ok=") && l.contains("changed="))
        .and_then(|l| l.split("changed=").nth(1))
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no recap in:\n{}", all(&out)));
    // One host: one file, named after it.
    let result = std::fs::read_dir(&tree)
        .ok()
        .and_then(|mut d| d.next())
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .unwrap_or(Value::Null);
    for secret in [SRC_PW, DST_PW, SECRET] {
        assert!(!all(&out).contains(secret), "a secret in:\n{}", all(&out));
    }
    Run {
        out,
        changed,
        result,
    }
}

fn all(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn changed_parts(run: &Run) -> Vec<String> {
    run.result["changed_parts"]
        .as_array()
        .unwrap_or_else(|| panic!("no changed_parts in {}", run.result))
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_role_clones_the_elgg_example_and_reports_only_what_changed() {
    let (src, dst) = servers("elgg", "dumps/elgg3.default.sql", "elgg", "elgg_int");
    let site = ElggSite::new(&src);
    let dir = tempfile::tempdir().unwrap();
    let good = inventory(dir.path(), &site, &dst, DST_PW);

    // The first run renders the plan (no secret in it) and copies the site.
    let first = playbook(dir.path(), &good, &[]);
    assert!(first.out.status.success(), "{}", all(&first.out));
    let plan = std::fs::read_to_string(dir.path().join("plans/elgg-int.toml")).unwrap();
    assert!(
        plan.contains("password = \"${env:TARGET_DB_PASSWORD}\""),
        "{plan}"
    );
    for secret in [SRC_PW, DST_PW, SECRET] {
        assert!(!plan.contains(secret), "{plan}");
    }
    assert_eq!(first.result["changed"], true, "{}", first.result);
    let target = format!("database elgg_int@127.0.0.1:{}/elgg_int", dst.port());
    let mut parts = changed_parts(&first);
    parts.sort();
    assert_eq!(
        parts,
        [
            format!(
                "config {}",
                site.int_www.join("elgg-config/settings.php").display()
            ),
            target.clone(),
            format!("files {}", site.int_data.display()),
            format!("files {}", site.int_www.display()),
        ]
    );
    assert_eq!(
        dst.query_value(
            "elgg_int",
            "SELECT value FROM elgg_config WHERE name = 'understudy_banner'"
        )
        .unwrap(),
        "s:28:\"INTEGRATION - not production\";"
    );
    let settings = std::fs::read_to_string(site.int_www.join("elgg-config/settings.php")).unwrap();
    assert!(
        settings.contains("$CONFIG->dbname = 'elgg_int';"),
        "{settings}"
    );
    assert!(settings.contains("$CONFIG->wwwroot = 'https://int.members.example.org/';"));
    assert_eq!(
        std::fs::read(site.int_data.join("1/2/avatar.jpg")).unwrap(),
        b"JPEG"
    );
    assert!(!site.int_data.join("caches").exists());
    let copy = String::from_utf8_lossy(&dst.dump("elgg_int", &[]).unwrap()).into_owned();
    assert!(!copy.contains("mitglieder.example.org"));

    // Nothing changed at the source: the clone runs again, and nothing is reported.
    let second = playbook(dir.path(), &good, &[]);
    assert!(second.out.status.success(), "{}", all(&second.out));
    assert_eq!(second.changed, 0, "{}", all(&second.out));
    assert_eq!(second.result["changed"], false, "{}", second.result);
    assert!(changed_parts(&second).is_empty());

    // Check mode: the doctor and the steps, nothing copied, nothing claimed.
    let checked = playbook(dir.path(), &good, &["--check"]);
    assert!(checked.out.status.success(), "{}", all(&checked.out));
    assert_eq!(checked.changed, 0, "{}", all(&checked.out));
    let steps = checked.result["steps"].to_string();
    assert!(steps.contains("RENAME TABLE"), "{}", checked.result);

    // A new row and a new data file at the source: exactly those parts change.
    src.execute_in(
        "elgg",
        "INSERT INTO elgg_config (name, value) VALUES ('understudy_test', 'i:1;')",
    )
    .unwrap();
    std::fs::write(site.data.join("1/2/new.jpg"), b"JPEG 2").unwrap();
    let third = playbook(dir.path(), &good, &[]);
    assert!(third.out.status.success(), "{}", all(&third.out));
    assert_eq!(third.changed, 1, "{}", all(&third.out));
    assert_eq!(
        changed_parts(&third),
        [target, format!("files {}", site.int_data.display())]
    );

    // A wrong password: the task fails with understudy's message, the target untouched.
    let before = dst.checksums("elgg_int").unwrap();
    let bad = inventory(dir.path(), &site, &dst, "not-the-password-3b1d");
    let failed = playbook(dir.path(), &bad, &[]);
    assert!(!failed.out.status.success(), "{}", all(&failed.out));
    let text = all(&failed.out);
    assert!(
        text.contains("Access denied for user 'elgg_int'"),
        "no understudy message in:\n{text}"
    );
    assert!(!text.contains("not-the-password-3b1d"), "{text}");
    assert_eq!(dst.checksums("elgg_int").unwrap(), before);
}

/// `contrib/ansible/inventory.example.yml` renders a plan that is TOML with the keys a plan
/// has, and, on a machine without its site, fails with understudy's message naming it.
#[test]
fn the_example_inventory_renders_a_plan_and_fails_with_understudys_message() {
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans");
    // Extra variables from a file: a password on ansible-playbook's argv would be public.
    let extra = dir.path().join("extra.json");
    let vars = json!({
        "understudy_plan_dir": plans,
        "understudy_executable": env!("CARGO_BIN_EXE_understudy"),
        "vault_database_destination_password": DST_PW,
        "vault_understudy_secret": SECRET,
    });
    std::fs::write(&extra, vars.to_string()).unwrap();
    let run = playbook(
        dir.path(),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/inventory.example.yml"),
        &["-e", &format!("@{}", extra.display())],
    );
    let text = all(&run.out);
    assert!(!run.out.status.success(), "{text}");
    assert!(
        text.contains("understudy: ") && text.contains("/srv/elgg/www"),
        "no understudy message naming the source in:\n{text}"
    );
    let plan = std::fs::read_to_string(plans.join("members-int.toml")).unwrap();
    let parsed: toml::Table = toml::from_str(&plan).unwrap_or_else(|e| panic!("{e}\n{plan}"));
    let keys: Vec<&str> = parsed.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "copy",
            "post_command",
            "post_sql",
            "rewrite",
            "site",
            "target"
        ]
    );
    assert_eq!(
        parsed["target"]["password"].as_str(),
        Some("${env:TARGET_DB_PASSWORD}")
    );
    assert_eq!(
        parsed["copy"][0]["owner"].as_str(),
        Some("www-data:www-data")
    );
    assert!(!plan.contains(DST_PW) && !plan.contains(SECRET), "{plan}");
}
