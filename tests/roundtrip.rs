//! Round trip against real servers: load a fixture database into one MariaDB, dump it with real
//! `mariadb-dump`, pass the dump through `understudy rewrite`, load it into a second MariaDB, and
//! compare `CHECKSUM TABLE` for every table.

use understudy_testkit::mariadb::MariaDb;

use crate::util::{fixtures, run_with_stdin, understudy};

/// mariadb-dump option sets to round-trip, per fixture database.
const TYPES_OPTIONS: &[&[&str]] = &[
    &[],
    &["--skip-extended-insert"],
    &["--complete-insert"],
    &["--hex-blob"],
    &["--insert-ignore"],
    &["--replace"],
    &["--routines", "--triggers", "--events"],
    &["--compact"],
    &["--net-buffer-length=4096"],
];

#[test]
fn checksums_survive_dump_rewrite_restore() {
    let started = std::time::Instant::now();
    let source = MariaDb::start().expect("source server");
    let target = MariaDb::start().expect("target server");
    for db in ["types", "elgg3", "wordpress", "big"] {
        source.create_database(db).unwrap();
        source
            .load_file(db, &fixtures().join(format!("sql/{db}.sql")))
            .unwrap_or_else(|e| panic!("loading {db}: {e}"));
    }
    eprintln!("servers up, fixtures loaded: {:?}", started.elapsed());
    let mut cases: Vec<(&str, &[&str])> = TYPES_OPTIONS.iter().map(|o| ("types", *o)).collect();
    cases.extend([
        ("elgg3", &[][..]),
        ("wordpress", &[][..]),
        ("big", &["--hex-blob"][..]),
    ]);
    cases.push(("big", &[]));
    for (i, (db, options)) in cases.iter().enumerate() {
        let started = std::time::Instant::now();
        let dump = source.dump(db, options).unwrap();
        let out = run_with_stdin(understudy().arg("rewrite"), &dump);
        assert!(
            out.status.success(),
            "{db} {options:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout == dump,
            "{db} {options:?}: passthrough changed bytes"
        );
        let copy = format!("{db}_{i}");
        target.create_database(&copy).unwrap();
        // `--compact` leaves out the dump's own session settings; give them back.
        let mut load = b"SET FOREIGN_KEY_CHECKS=0, SQL_MODE='NO_AUTO_VALUE_ON_ZERO';\n".to_vec();
        load.extend_from_slice(&out.stdout);
        target
            .load(&copy, &load)
            .unwrap_or_else(|e| panic!("{db} {options:?} does not load: {e}"));
        let want = source.checksums(db).unwrap();
        assert!(!want.is_empty(), "{db} has tables");
        assert_eq!(target.checksums(&copy).unwrap(), want, "{db} {options:?}");
        eprintln!("{db} {options:?}: {:?}", started.elapsed());
    }
    // `--databases` names its database itself.
    let dump = source
        .dump("", &["--databases", "types", "wordpress"])
        .unwrap();
    let out = run_with_stdin(understudy().arg("rewrite"), &dump);
    assert!(out.status.success());
    target.load("", &out.stdout).unwrap();
    for db in ["types", "wordpress"] {
        assert_eq!(
            target.checksums(db).unwrap(),
            source.checksums(db).unwrap(),
            "{db}"
        );
    }
}
