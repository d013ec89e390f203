//! Issue #6, acceptance 3: the Elgg-3-shaped queue and session rows of
//! `fixtures/dumps/elgg3-wrappers.default.sql` (sessions in the `php` handler's encoding with
//! objects inside, `Serializable` and `__serialize` notification events with serialized and
//! JSON strings inside) hold the site URL. After `understudy rewrite --replace` and a restore
//! into a real MariaDB, PHP, with the same classes, decodes every session and queue row, and
//! none holds the old URL.

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

use crate::util::{fixtures, run_with_stdin, understudy};

const OLD: &str = "https://mitglieder.example.org/";
const NEW: &str = "https://int.example.org/";
/// The same, `urlencode()`d, as in the unsubscribe link's `?u=` (the `url_encoded` variant).
const OLD_URL: &str = "https%3A%2F%2Fmitglieder.example.org%2F";
const NEW_URL: &str = "https%3A%2F%2Fint.example.org%2F";

/// Decodes one row (`session` or `queue`) with the real classes; answers the decoded value's
/// every string, nested serialized and JSON strings decoded too, one per line, or why not.
const SCRIPT: &str = r#"
ini_set('session.save_path', sys_get_temp_dir());
ini_set('session.use_cookies', '0');
ini_set('session.use_strict_mode', '0');
session_start();
function strings($v, array &$out): void {
    if (is_string($v)) {
        $u = @unserialize($v);
        if ($u !== false) { strings($u, $out); return; }
        $j = json_decode($v, true);
        if (is_array($j)) { strings($j, $out); return; }
        $out[] = $v;
        return;
    }
    if (is_array($v)) { foreach ($v as $k => $x) { strings($k, $out); strings($x, $out); } return; }
    if (is_object($v)) {
        foreach ((new ReflectionObject($v))->getProperties() as $p) {
            $p->setAccessible(true);
            strings($p->getValue($v), $out);
        }
    }
}
function handle(array $f): array {
    [$kind, $data] = $f;
    try {
        if ($kind === 'session') {
            $_SESSION = [];
            if (!session_decode($data)) { session_start(); return ['session does not decode']; }
            $v = $_SESSION;
        } else {
            $v = unserialize($data);
            if ($v === false) return ['does not unserialize'];
        }
    } catch (Throwable $e) {
        return ['throws: ' . $e->getMessage()];
    }
    $out = [];
    strings($v, $out);
    return ['ok', implode("\n", $out)];
}
"#;

/// Loads the classes' file (its `namespace {}` blocks cannot share the batch script's file).
fn classes() -> String {
    let path = fixtures().join("sql/elgg3-wrappers.classes.php");
    format!("require {:?};", path.to_str().unwrap())
}

/// `(kind, data)` of every session and queue row.
fn rows(db: &MariaDb, name: &str) -> Vec<Vec<Vec<u8>>> {
    let mut rows = Vec::new();
    for (kind, table) in [("session", "elgg_users_sessions"), ("queue", "elgg_queue")] {
        for r in db
            .query(name, &format!("SELECT HEX(data) FROM {table} ORDER BY 1"))
            .unwrap()
        {
            let mut raw = Vec::new();
            understudy_sqldump::literal::decode_hex(r[0].as_bytes(), &mut raw).unwrap();
            rows.push(vec![kind.as_bytes().to_vec(), raw]);
        }
    }
    rows
}

#[test]
fn elgg_sessions_and_queue_rows_decode_without_the_old_url() {
    let php = Php::require();
    let script = format!("{}\n{SCRIPT}", classes());
    let dump = std::fs::read(fixtures().join("dumps/elgg3-wrappers.default.sql")).unwrap();
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .arg("--replace")
            .arg(format!("{OLD}={NEW}"))
            .arg("--replace")
            .arg(format!("{OLD_URL}={NEW_URL}")),
        &dump,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let server = MariaDb::start().unwrap();
    for (name, sql) in [("original", &dump), ("rewritten", &out.stdout)] {
        server.create_database(name).unwrap();
        server.load(name, sql).unwrap();
    }
    let original = rows(&server, "original");
    let rewritten = rows(&server, "rewritten");
    assert_eq!(rewritten.len(), 7, "3 sessions and 4 queue rows");
    let before = php.run_batch(&script, &original).unwrap();
    let after = php.run_batch(&script, &rewritten).unwrap();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        let show = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        assert_eq!(show(&b[0]), "ok", "the fixture's row {i} decodes");
        assert!(
            show(&b[1]).contains(OLD),
            "row {i} holds the URL to begin with"
        );
        assert_eq!(show(&a[0]), "ok", "row {i}: {}", show(&rewritten[i][1]));
        // Every string as PHP sees it: the old URL replaced, nothing else changed.
        assert_eq!(
            show(&a[1]),
            show(&b[1]).replace(OLD, NEW).replace(OLD_URL, NEW_URL),
            "row {i}: {}",
            show(&rewritten[i][1])
        );
        assert!(
            !show(&rewritten[i][1]).contains("mitglieder.example.org"),
            "row {i}"
        );
    }
}
