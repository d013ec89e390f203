//! `--replace` end to end on the WordPress- and Elgg-shaped fixtures: load into a real MariaDB,
//! dump, rewrite, load into a second server; then PHP checks that every value that unserialized
//! before still unserializes, and no old URL or path is left anywhere.

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

use crate::util::{fixtures, run_with_stdin, understudy};

/// Every string-ish column's values, hex-encoded, in primary-key order: `(table.column, values)`.
fn text_values(db: &MariaDb, name: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    let columns = db
        .query(
            "information_schema",
            &format!(
                "SELECT c.TABLE_NAME, c.COLUMN_NAME FROM COLUMNS c JOIN TABLES t \
                 ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
                 WHERE c.TABLE_SCHEMA = '{name}' AND t.TABLE_TYPE = 'BASE TABLE' \
                 AND c.DATA_TYPE IN ('char','varchar','tinytext','text','mediumtext','longtext',\
                 'binary','varbinary','tinyblob','blob','mediumblob','longblob') \
                 ORDER BY 1, 2"
            ),
        )
        .unwrap();
    columns
        .into_iter()
        .map(|row| {
            let (table, column) = (&row[0], &row[1]);
            let values = db
                .query(
                    name,
                    &format!("SELECT HEX(`{column}`) FROM `{table}` WHERE `{column}` IS NOT NULL ORDER BY 1"),
                )
                .unwrap()
                .into_iter()
                .map(|r| {
                    let hex = r[0].as_bytes();
                    let mut raw = Vec::new();
                    understudy_sqldump::literal::decode_hex(hex, &mut raw).unwrap();
                    raw
                })
                .collect();
            (format!("{table}.{column}"), values)
        })
        .collect()
}

const UNSERIALIZES: &str = r#"
function handle(array $f): array {
    $v = $f[0];
    if ($v === 'b:0;') { return ['1']; }
    return [@unserialize($v) !== false ? '1' : '0'];
}
"#;

fn count_unserializable(php: &Php, values: &[(String, Vec<Vec<u8>>)]) -> Vec<(String, usize)> {
    values
        .iter()
        .map(|(col, vals)| {
            let cases: Vec<Vec<Vec<u8>>> = vals.iter().map(|v| vec![v.clone()]).collect();
            let answers = php.run_batch(UNSERIALIZES, &cases).unwrap();
            let ok = answers.iter().filter(|a| a[0] == b"1").count();
            (col.clone(), ok)
        })
        .collect()
}

fn check_site(db: &str, replaces: &[&str], gone: &[&str]) {
    let php = Php::require();
    let source = MariaDb::start().unwrap();
    let target = MariaDb::start().unwrap();
    source.create_database(db).unwrap();
    source
        .load_file(db, &fixtures().join(format!("sql/{db}.sql")))
        .unwrap();
    for options in [&[][..], &["--hex-blob"][..]] {
        let dump = source.dump(db, options).unwrap();
        let mut cmd = understudy();
        cmd.arg("rewrite");
        for r in replaces {
            cmd.arg("--replace").arg(r);
        }
        let out = run_with_stdin(&mut cmd, &dump);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let copy = format!("{db}_copy{}", options.len());
        target.create_database(&copy).unwrap();
        target.load(&copy, &out.stdout).unwrap();

        let before = count_unserializable(&php, &text_values(&source, db));
        let after = count_unserializable(&php, &text_values(&target, &copy));
        assert!(
            before.iter().map(|(_, n)| n).sum::<usize>() > 10,
            "{db} has serialized values"
        );
        assert_eq!(after, before, "{db} {options:?}: values that unserialize");

        let restored = target.dump(&copy, &["--hex-blob"]).unwrap();
        let text = String::from_utf8_lossy(&restored);
        let plain = target.dump(&copy, &[]).unwrap();
        for needle in gone {
            assert!(
                !text.contains(needle),
                "{db} {options:?}: {needle} left (hex-blob dump)"
            );
            let hex: String = needle.bytes().map(|b| format!("{b:02X}")).collect();
            assert!(
                !text.contains(&hex),
                "{db} {options:?}: {needle} left inside a blob"
            );
            assert!(
                !String::from_utf8_lossy(&plain).contains(needle),
                "{db} {options:?}: {needle} left"
            );
        }
    }
}

#[test]
fn wordpress_moves_completely_and_stays_unserializable() {
    check_site(
        "wordpress",
        &[
            "www.example.com=staging.example.org",
            "/srv/wp=/srv/staging/wp",
        ],
        &["www.example.com", "/srv/wp/"],
    );
}

#[test]
fn elgg_moves_completely_and_stays_unserializable() {
    check_site(
        "elgg3",
        &[
            "https://mitglieder.example.org=https://int.example.org",
            "mitglieder.example.org=int.example.org",
            "/srv/elgg/=/srv/int/",
        ],
        &["mitglieder.example.org", "/srv/elgg/"],
    );
}
