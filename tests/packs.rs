//! The Drupal and Elgg 2.3 rule packs end to end: a fixture site (`fixtures/sql/drupal.sql`,
//! `fixtures/sql/elgg23.sql`) loaded into a real MariaDB, dumped, rewritten with the pack,
//! restored into a second server, and checked there with SQL and PHP. And every pack's
//! coverage policy: its rules decide every column of its fixtures, and a table it does not
//! know stops the run.

use std::collections::BTreeSet;

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

use crate::util::{
    count_unserializable, fixtures, rewrite_with_pack, run_with_stdin, stderr_of_failure,
    text_values, understudy, values,
};

const SECRET: &str = "packs-test-secret";
/// `password_hash` of both packs: bcrypt of "understudy".
const PASSWORD_HASH: &str = "$2y$10$bI2r3QwrE1pohQzE2a9gKOGpNGYWJMqAQF/FJQbFU6WQsB3x.Ywqe";

fn rewrite(dump: &[u8], pack: &str, vars: &[&str]) -> Vec<u8> {
    rewrite_with_pack(dump, pack, vars, SECRET)
}

fn count(server: &MariaDb, db: &str, table: &str) -> u64 {
    server
        .query_value(db, &format!("SELECT COUNT(*) FROM `{table}`"))
        .unwrap()
        .parse()
        .unwrap()
}

fn assert_disjoint(before: &BTreeSet<String>, after: &BTreeSet<String>, what: &str) {
    assert!(
        before.is_disjoint(after),
        "{what}: unmasked {:?}",
        before.intersection(after).collect::<Vec<_>>()
    );
}

/// Emptied tables are empty (and were not in the source); every other table keeps its rows.
fn assert_row_counts(source: &MariaDb, src_db: &str, target: &MariaDb, emptied: &[&str]) {
    let tables = source.tables(src_db).unwrap();
    assert_eq!(target.tables("copy").unwrap(), tables);
    for t in emptied {
        assert!(tables.iter().any(|x| x == t), "fixture lacks {t}");
    }
    for t in &tables {
        let (before, after) = (count(source, src_db, t), count(target, "copy", t));
        assert!(before > 0, "fixture table {t} is empty");
        if emptied.contains(&t.as_str()) {
            assert_eq!(after, 0, "{t} is not emptied");
        } else {
            assert_eq!(after, before, "rows of {t}");
        }
    }
}

/// With the emptied tables' rows deleted from the source, the same number of values
/// unserialize per column in source and copy.
fn assert_unserializable_kept(
    php: &Php,
    source: &MariaDb,
    src_db: &str,
    target: &MariaDb,
    emptied: &[&str],
) {
    for t in emptied {
        source
            .execute_in(src_db, &format!("DELETE FROM `{t}`"))
            .unwrap();
    }
    let before = count_unserializable(php, &text_values(source, src_db));
    assert!(
        before.iter().filter(|(_, n)| *n > 0).count() >= 2,
        "the fixture has serialized values: {before:?}"
    );
    assert_eq!(
        count_unserializable(php, &text_values(target, "copy")),
        before
    );
}

const DRUPAL_EMPTIED: &[&str] = &[
    "cache_bootstrap",
    "cache_config",
    "cache_data",
    "cache_render",
    "sessions",
    "watchdog",
    "flood",
    "semaphore",
    "queue",
    "key_value_expire",
];

const DRUPAL_VARS: &[&str] = &[
    "src_url=https://www.example.org",
    "dst_url=https://staging.example.com",
    "src_root=/var/www/example/web",
    "dst_root=/srv/staging/web",
    "src_data=/var/www/example/private",
    "dst_data=/srv/staging/private",
];

fn drupal_copy() -> (MariaDb, MariaDb) {
    let source = MariaDb::start().unwrap();
    let target = MariaDb::start().unwrap();
    source.create_database("drupal").unwrap();
    source
        .load_file("drupal", &fixtures().join("sql/drupal.sql"))
        .unwrap();
    let dump = source.dump("drupal", &[]).unwrap();
    let out = rewrite(&dump, "drupal.toml", DRUPAL_VARS);
    target.create_database("copy").unwrap();
    target.load("copy", &out).unwrap();
    (source, target)
}

#[test]
fn drupal_pack_masks_people_and_moves_the_site() {
    let php = Php::require();
    let (source, target) = drupal_copy();

    // Accounts, comment authors and configured e-mail addresses are masked.
    let masked = [
        "SELECT name FROM users_field_data",
        "SELECT mail FROM users_field_data",
        "SELECT init FROM users_field_data",
        "SELECT pass FROM users_field_data",
        "SELECT name FROM comment_field_data",
        "SELECT mail FROM comment_field_data",
        "SELECT homepage FROM comment_field_data",
        "SELECT hostname FROM comment_field_data",
        "SELECT data FROM config WHERE collection = '' AND (name IN ('system.site','update.settings') OR name LIKE 'contact.form.%')",
    ];
    let mut personal = BTreeSet::new();
    for sql in masked {
        let before = values(&source, "drupal", sql);
        assert!(!before.is_empty(), "{sql}");
        assert_disjoint(&before, &values(&target, "copy", sql), sql);
        personal.extend(before);
    }
    let all_values: BTreeSet<Vec<u8>> = text_values(&target, "copy")
        .into_iter()
        .flat_map(|(_, v)| v)
        .collect();
    for v in &personal {
        assert!(!all_values.contains(v.as_bytes()), "{v:?} survived");
    }
    let everything = String::from_utf8_lossy(&target.dump("copy", &[]).unwrap()).into_owned();
    assert!(
        !everything.contains("people.example.org"),
        "an address left in the copy"
    );
    // No IP address of the source is anywhere in the copy (fakes come from the same
    // documentation ranges, so compare whole addresses).
    let ips_in = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|w| w.parse::<std::net::Ipv4Addr>().is_ok())
            .map(str::to_owned)
            .collect()
    };
    let source_ips = ips_in(&String::from_utf8_lossy(
        &source.dump("drupal", &[]).unwrap(),
    ));
    assert!(source_ips.contains("192.0.2.14"), "{source_ips:?}");
    let copy_ips = ips_in(&everything);
    let left: Vec<_> = source_ips.intersection(&copy_ips).collect();
    assert!(left.is_empty(), "IP addresses left: {left:?}");
    // The imprint's address became the fake of that account's address; the text stays.
    let dieter = target
        .query_value("copy", "SELECT mail FROM users_field_data WHERE uid = 4")
        .unwrap();
    let imprint = target
        .query_value(
            "copy",
            "SELECT body_value FROM node__body WHERE entity_id = 3",
        )
        .unwrap();
    let (_, rest) = imprint
        .split_once(&format!(
            "Formular oder an {dieter}; Zugang zur Verwaltung nur von "
        ))
        .unwrap_or_else(|| panic!("{imprint}"));
    let fake_ip = rest.strip_suffix(" aus.</p>").unwrap();
    assert!(fake_ip.parse::<std::net::Ipv4Addr>().is_ok(), "{imprint}");
    // A registered author's comment name is their masked account name; anonymous
    // authors get a fake name.
    let names = "SELECT GROUP_CONCAT(IFNULL(c.name = u.name, 'anonymous') ORDER BY c.cid) FROM comment_field_data c \
                 LEFT JOIN users_field_data u ON u.uid = c.uid AND c.uid > 0";
    let registered = "1,1,anonymous,1,anonymous";
    assert_eq!(source.query_value("drupal", names).unwrap(), registered);
    assert_eq!(target.query_value("copy", names).unwrap(), registered);
    // Every account gets the known password; the anonymous user (uid 0) keeps NULL.
    assert_eq!(
        target
            .query_value(
                "copy",
                "SELECT GROUP_CONCAT(DISTINCT IFNULL(pass, 'NULL')) FROM users_field_data WHERE uid > 0"
            )
            .unwrap(),
        PASSWORD_HASH
    );
    // The same address becomes the same fake in `mail` and `init`; a changed one does not.
    let same =
        "SELECT GROUP_CONCAT(uid ORDER BY uid) FROM users_field_data WHERE uid > 0 AND mail = init";
    assert_eq!(source.query_value("drupal", same).unwrap(), "1,3,4");
    assert_eq!(target.query_value("copy", same).unwrap(), "1,3,4");
    // Masked config values are still e-mail addresses inside valid serialized arrays.
    let site_mail = target
        .query_value(
            "copy",
            "SELECT data FROM config WHERE collection = '' AND name = 'system.site'",
        )
        .unwrap();
    assert!(site_mail.contains("s:4:\"mail\";s:"), "{site_mail}");
    assert!(
        site_mail.contains("s:4:\"name\";s:13:\"Beispiel e.V.\""),
        "{site_mail}"
    );

    // The private key and cron key are regenerated; the rest of the state is kept.
    let keys = "SELECT value FROM key_value WHERE collection = 'state' AND name IN ('system.private_key','system.cron_key')";
    let (before, after) = (
        values(&source, "drupal", keys),
        values(&target, "copy", keys),
    );
    assert_eq!(after.len(), 2);
    assert_disjoint(&before, &after, "keys");
    let state = "SELECT GROUP_CONCAT(CONCAT(name, '=', value) ORDER BY name) FROM key_value \
                 WHERE name NOT IN ('system.private_key','system.cron_key')";
    assert_eq!(
        target.query_value("copy", state).unwrap(),
        source.query_value("drupal", state).unwrap()
    );

    // The site URL and the private files directory moved; stream wrapper URIs stay.
    let bodies = values(&target, "copy", "SELECT body_value FROM node__body");
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|b| !b.contains("www.example.org")),
        "{bodies:?}"
    );
    assert!(bodies
        .iter()
        .any(|b| b.contains("https://staging.example.com/verein")));
    let block = target
        .query_value(
            "copy",
            "SELECT data FROM config WHERE name = 'block.block.olivero_footer_links'",
        )
        .unwrap();
    assert!(
        block.contains("s:37:\"https://staging.example.com/impressum\""),
        "{block}"
    );
    assert!(
        !everything.contains("/var/www/example"),
        "the private directory did not move"
    );
    assert!(everything.contains("/srv/staging/private/translations"));
    let uris = "SELECT GROUP_CONCAT(uri ORDER BY fid) FROM file_managed";
    assert_eq!(
        target.query_value("copy", uris).unwrap(),
        source.query_value("drupal", uris).unwrap()
    );

    // Cache, log and per-visitor tables are empty; every other table keeps its rows, and
    // what unserialized still does.
    assert_row_counts(&source, "drupal", &target, DRUPAL_EMPTIED);
    assert_unserializable_kept(&php, &source, "drupal", &target, DRUPAL_EMPTIED);
}

/// The site URL inside a serialized config value that a mask of the same column also
/// rewrites (`contact.form.*`: `recipients` masked, `redirect` holds the URL).
#[test]
fn drupal_pack_moves_the_url_in_masked_config() {
    let (_source, target) = drupal_copy();
    let form = target
        .query_value(
            "copy",
            "SELECT data FROM config WHERE name = 'contact.form.vorstand'",
        )
        .unwrap();
    assert!(!form.contains("www.example.org"), "{form}");
    assert!(form.contains("https://staging.example.com/danke"), "{form}");
}

const ELGG_EMPTIED: &[&str] = &[
    "elgg_users_sessions",
    "elgg_users_remember_me_cookies",
    "elgg_users_apisessions",
    "elgg_hmac_cache",
    "elgg_geocode_cache",
    "elgg_queue",
    "elgg_system_log",
];

#[test]
fn elgg23_pack_masks_users_and_moves_the_site() {
    let php = Php::require();
    let source = MariaDb::start().unwrap();
    let target = MariaDb::start().unwrap();
    source.create_database("elgg").unwrap();
    source
        .load_file("elgg", &fixtures().join("sql/elgg23.sql"))
        .unwrap();
    let dump = source.dump("elgg", &[]).unwrap();
    let vars = [
        "src_url=https://mitglieder.example.org/",
        "dst_url=https://int.example.com/",
        "src_root=/srv/elgg/www/",
        "dst_root=/srv/int/www/",
        "src_data=/srv/elgg/data/",
        "dst_data=/srv/int/data/",
    ];
    let out = rewrite(&dump, "elgg-2.3.toml", &vars);
    target.create_database("copy").unwrap();
    target.load("copy", &out).unwrap();

    // users_entity: names, e-mails and hashes are gone; usernames are user<guid>; every
    // password is the known bcrypt hash and the legacy md5 columns are blank.
    for sql in [
        "SELECT name FROM elgg_users_entity",
        "SELECT username FROM elgg_users_entity",
        "SELECT email FROM elgg_users_entity",
        "SELECT password FROM elgg_users_entity",
        "SELECT password_hash FROM elgg_users_entity",
        "SELECT string FROM elgg_metastrings WHERE string LIKE '%@%'",
    ] {
        let before = values(&source, "elgg", sql);
        assert!(!before.is_empty(), "{sql}");
        assert_disjoint(&before, &values(&target, "copy", sql), sql);
    }
    // An address in an object's text became the fake of that user's address.
    let bernd = target
        .query_value("copy", "SELECT email FROM elgg_users_entity WHERE guid = 3")
        .unwrap();
    assert_eq!(
        target
            .query_value(
                "copy",
                "SELECT description FROM elgg_objects_entity WHERE guid = 8"
            )
            .unwrap(),
        format!(
            "Das Protokoll liegt unter https://int.example.com/file/view/8 (Fragen an {bernd})"
        )
    );
    let everything = String::from_utf8_lossy(&target.dump("copy", &[]).unwrap()).into_owned();
    assert!(
        !everything.contains("@people.example.org"),
        "an address left"
    );
    let users = "SELECT COUNT(*) FROM elgg_users_entity WHERE username = CONCAT('user', guid) \
                 AND password_hash = '{PASSWORD_HASH}' AND password = '' AND salt = '' AND email LIKE '%@%'"
        .replace("{PASSWORD_HASH}", PASSWORD_HASH);
    assert_eq!(target.query_value("copy", &users).unwrap(), "4");
    // After the restore, the user profile fields are blank (the append_sql); the e-mail
    // masking while streaming also reached the site's own address (guid 1).
    let profile = "SELECT v.string FROM elgg_metadata md \
         JOIN elgg_metastrings n ON n.id = md.name_id JOIN elgg_metastrings v ON v.id = md.value_id \
         JOIN elgg_entities e ON e.guid = md.entity_guid \
         WHERE e.type = 'user' AND n.string IN ('phone','location','website','contactemail','briefdescription')";
    assert_eq!(values(&source, "elgg", profile).len(), 19);
    assert_eq!(
        target
            .query("copy", profile)
            .unwrap()
            .into_iter()
            .filter(|r| !r[0].is_empty())
            .count(),
        0,
        "profile fields left"
    );
    // The documented limitation: a string shared with a group is blanked for it too.
    let group_location = "SELECT v.string FROM elgg_metadata md \
         JOIN elgg_metastrings n ON n.id = md.name_id JOIN elgg_metastrings v ON v.id = md.value_id \
         WHERE md.entity_guid = 6 AND n.string = 'location'";
    assert_eq!(source.query_value("elgg", group_location).unwrap(), "Hamm");
    assert_eq!(target.query_value("copy", group_location).unwrap(), "");
    let site_mail = "SELECT v.string FROM elgg_metadata md \
         JOIN elgg_metastrings n ON n.id = md.name_id JOIN elgg_metastrings v ON v.id = md.value_id \
         WHERE md.entity_guid = 1 AND n.string = 'email'";
    let masked_site_mail = target.query_value("copy", site_mail).unwrap();
    assert_ne!(
        masked_site_mail,
        source.query_value("elgg", site_mail).unwrap()
    );
    assert!(masked_site_mail.contains('@'), "{masked_site_mail}");
    // Metadata rows themselves, and metastrings no rule touches, are unchanged.
    for sql in [
        "SELECT GROUP_CONCAT(CONCAT_WS(':', id, entity_guid, name_id, value_id) ORDER BY id) FROM elgg_metadata",
        "SELECT GROUP_CONCAT(string ORDER BY id) FROM elgg_metastrings WHERE string IN ('ElggDiskFilestore','application/pdf','published')",
    ] {
        assert_eq!(
            target.query_value("copy", sql).unwrap(),
            source.query_value("elgg", sql).unwrap(),
            "{sql}"
        );
    }
    let everything =
        String::from_utf8_lossy(&target.dump("copy", &["--hex-blob"]).unwrap()).into_owned();
    for gone in [
        "people.example.org",
        "192.0.2.",
        "Anna Beispiel",
        "+49 2381 555 0201",
    ] {
        assert!(!everything.contains(gone), "{gone} left in the copy");
    }

    // Secrets are regenerated.
    for sql in [
        "SELECT value FROM elgg_datalists WHERE name = '__site_secret__'",
        "SELECT api_key FROM elgg_api_users",
        "SELECT secret FROM elgg_api_users",
    ] {
        assert_disjoint(
            &values(&source, "elgg", sql),
            &values(&target, "copy", sql),
            sql,
        );
    }
    let secret = target
        .query_value(
            "copy",
            "SELECT value FROM elgg_datalists WHERE name = '__site_secret__'",
        )
        .unwrap();
    assert!(secret.starts_with('z') && secret.len() == 32, "{secret}");

    // The site moved: the authoritative URL, the dataroot, the files' dir_root, serialized
    // config and content; nothing of the old URL or paths is left.
    for (sql, want) in [
        ("SELECT url FROM elgg_sites_entity WHERE guid = 1", "https://int.example.com/"),
        ("SELECT value FROM elgg_datalists WHERE name = 'dataroot'", "/srv/int/data/"),
        (
            "SELECT v.string FROM elgg_metadata md JOIN elgg_metastrings n ON n.id = md.name_id \
             JOIN elgg_metastrings v ON v.id = md.value_id WHERE n.string = 'filestore::dir_root'",
            "/srv/int/data/",
        ),
        (
            "SELECT value FROM elgg_config WHERE name = 'site_custom_menu_items'",
            "a:2:{s:9:\"Impressum\";s:33:\"https://int.example.com/impressum\";s:11:\"Datenschutz\";s:37:\"https://int.example.com/p/datenschutz\";}",
        ),
    ] {
        assert_eq!(target.query_value("copy", sql).unwrap(), want, "{sql}");
    }
    for gone in ["mitglieder.example.org", "/srv/elgg/"] {
        assert!(!everything.contains(gone), "{gone} left");
    }

    // Session, cookie, cache, queue and log tables are empty; the rest keep their rows,
    // and what unserialized still does.
    assert_row_counts(&source, "elgg", &target, ELGG_EMPTIED);
    assert_unserializable_kept(&php, &source, "elgg", &target, ELGG_EMPTIED);
}

/// Each pack, with every variable left empty, and the dumps of its application it must
/// cover: fixture sites, and the full WordPress multisite + WooCommerce schema.
const PACK_DUMPS: &[(&str, &[&str])] = &[
    (
        "wordpress.toml",
        &[
            "dumps/wordpress.default.sql",
            "mysql8/wordpress.databases.sql",
            "sql/wordpress.sql",
            "schemas/wordpress-woocommerce.sql",
        ],
    ),
    (
        "elgg.toml",
        &[
            "dumps/elgg3.default.sql",
            "dumps/elgg3-wrappers.default.sql",
            "sql/elgg3.sql",
        ],
    ),
    ("elgg-2.3.toml", &["sql/elgg23.sql"]),
    ("drupal.toml", &["sql/drupal.sql"]),
];

/// Every pack ships with `unlisted = "fail"`, and its masks, keeps and dropped tables decide
/// every column of every table of its fixtures: `rules check --dump` finds nothing.
#[test]
fn every_pack_covers_every_column_of_its_fixtures() {
    for (pack, dumps) in PACK_DUMPS {
        let rules = fixtures().join(format!("../rules/{pack}"));
        let text = std::fs::read_to_string(&rules).unwrap();
        assert!(
            text.contains("\n[policy]\nunlisted = \"fail\"\n"),
            "{pack} does not fail on unlisted columns"
        );
        for dump in *dumps {
            let out = understudy()
                .args(["rules", "check"])
                .arg(&rules)
                .arg("--dump")
                .arg(fixtures().join(dump))
                .env("UNDERSTUDY_SECRET", SECRET)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{pack} on {dump}: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.contains("is masked, kept or dropped"),
                "{pack} on {dump}: {stdout}"
            );
        }
    }
}

/// A table no pack knows (a new plugin's) stops the rewrite at its `CREATE TABLE`, naming
/// the table and its undecided columns, before any of its rows is written; `rules check`
/// lists the same columns.
#[test]
fn a_table_the_pack_does_not_know_stops_the_rewrite() {
    for (pack, dumps) in PACK_DUMPS {
        let prefix = match *pack {
            "wordpress.toml" => "wp_",
            "drupal.toml" => "",
            _ => "elgg_",
        };
        let table = format!("{prefix}myplugin_log");
        let mut dump = std::fs::read(fixtures().join(dumps[0])).unwrap();
        dump.extend_from_slice(
            format!(
                "CREATE TABLE `{table}` (\n  `id` int(11) NOT NULL,\n  `email` varchar(100) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n);\n\
                 INSERT INTO `{table}` VALUES (1,'anna.plugin@example.org');\n"
            )
            .as_bytes(),
        );
        let out = run_with_stdin(
            understudy()
                .arg("rewrite")
                .arg("--rules")
                .arg(fixtures().join(format!("../rules/{pack}")))
                // The site URL must be given; the plugin's table stops the run before the
                // end, where it would be looked for.
                .args(["--var", "src_url=https://www.example.com"])
                .args(["--var", "dst_url=https://int.example.org"])
                .env("UNDERSTUDY_SECRET", SECRET),
            &dump,
        );
        let stderr = stderr_of_failure(&out);
        assert_eq!(out.status.code(), Some(1), "{pack}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "table `{table}`: policy unlisted = \"fail\": no rule masks or keeps column(s) id, email"
            )),
            "{pack}: {stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("anna.plugin@example.org"),
            "{pack}: the plugin's row was written"
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.sql");
        std::fs::write(&path, &dump).unwrap();
        let out = understudy()
            .args(["rules", "check"])
            .arg(fixtures().join(format!("../rules/{pack}")))
            .arg("--dump")
            .arg(&path)
            .env("UNDERSTUDY_SECRET", SECRET)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{pack}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("columns no rule masks or keeps (2 of the dump's")
                && stdout.ends_with(&format!("  {table}.id\n  {table}.email\n")),
            "{pack}: {stdout}"
        );
    }
}
