//! Rule packs end to end: a fixture site loaded into a real MariaDB, dumped, rewritten with
//! the pack, restored into a second server, and checked there with SQL and PHP.

use std::collections::BTreeSet;

use understudy_testkit::mariadb::MariaDb;
use understudy_testkit::php::Php;

use crate::util::{
    count_unserializable, fixtures, rewrite_with_pack, run_with_stdin, stderr_of_failure,
    text_values, understudy, values,
};

const SECRET: &str = "integration-test-secret";

fn rewrite(dump: &[u8], pack: &str, vars: &[&str], secret: &str) -> Vec<u8> {
    rewrite_with_pack(dump, pack, vars, secret)
}

fn row_counts(server: &MariaDb, db: &str) -> Vec<(String, u64)> {
    server
        .tables(db)
        .unwrap()
        .into_iter()
        .map(|t| {
            let n = server
                .query_value(db, &format!("SELECT COUNT(*) FROM `{t}`"))
                .unwrap()
                .parse()
                .unwrap();
            (t, n)
        })
        .collect()
}

#[test]
fn wordpress_pack_masks_people_and_moves_the_site() {
    let php = Php::require();
    let source = MariaDb::start().unwrap();
    let target = MariaDb::start().unwrap();
    source.create_database("wordpress").unwrap();
    source
        .load_file("wordpress", &fixtures().join("sql/wordpress.sql"))
        .unwrap();
    let dump = source.dump("wordpress", &[]).unwrap();
    let vars = [
        "src_url=https://www.example.com",
        "dst_url=https://staging.example.org",
        "src_root=/srv/wp/",
        "dst_root=/srv/staging/wp/",
    ];
    let out = rewrite(&dump, "wordpress.toml", &vars, SECRET);

    // Deterministic: the same secret gives the same bytes, another secret other masks.
    assert!(rewrite(&dump, "wordpress.toml", &vars, SECRET) == out);
    assert!(rewrite(&dump, "wordpress.toml", &vars, "another-secret-of-16+") != out);

    target.create_database("copy").unwrap();
    target.load("copy", &out).unwrap();

    // Personal data of the source is nowhere in the target's people tables or options.
    let personal: BTreeSet<String> = [
        "SELECT user_email FROM wp_users",
        "SELECT user_login FROM wp_users",
        "SELECT user_pass FROM wp_users",
        "SELECT display_name FROM wp_users",
        "SELECT comment_author_email FROM wp_comments",
        "SELECT comment_author_IP FROM wp_comments",
        "SELECT comment_author FROM wp_comments",
        "SELECT meta_value FROM wp_usermeta WHERE meta_key IN ('first_name','last_name','billing_email','billing_phone','shipping_address_1','description')",
        "SELECT option_value FROM wp_options WHERE option_name = 'admin_email'",
    ]
    .iter()
    .flat_map(|q| values(&source, "wordpress", q))
    .collect();
    assert!(personal.len() > 10, "the fixture has people: {personal:?}");
    // No personal value is any whole value of any text column in the target, and no e-mail
    // address or IP address is inside one (content outside the people tables included).
    let target_values: BTreeSet<Vec<u8>> = text_values(&target, "copy")
        .into_iter()
        .flat_map(|(_, vals)| vals)
        .collect();
    let everything_text = String::from_utf8_lossy(&target.dump("copy", &[]).unwrap()).into_owned();
    for value in &personal {
        assert!(
            !target_values.contains(value.as_bytes()),
            "{value:?} survived masking"
        );
        let distinctive = value.contains('@') || value.parse::<std::net::IpAddr>().is_ok();
        if distinctive {
            assert!(
                !everything_text.contains(value.as_str()),
                "{value:?} survived inside a value"
            );
        }
    }
    // An address in free text (the imprint page, the contact widget's serialized HTML)
    // becomes the same fake as the user's own row; the text around it stays.
    let anna = target
        .query_value("copy", "SELECT user_email FROM wp_users WHERE ID = 1")
        .unwrap();
    let imprint = target
        .query_value("copy", "SELECT post_content FROM wp_posts WHERE ID = 2")
        .unwrap();
    assert!(
        imprint.contains(&format!("Tel. +49 2381 555 0101, {anna}</p>")),
        "{imprint}"
    );
    let widget = target
        .query_value(
            "copy",
            "SELECT option_value FROM wp_options WHERE option_name = 'widget_text'",
        )
        .unwrap();
    assert!(!widget.contains("info@example.com"), "{widget}");
    assert!(widget.contains("@example.invalid\">"), "{widget}");
    // Session tokens hold IP addresses inside serialized data.
    let sessions = values(
        &source,
        "wordpress",
        "SELECT meta_value FROM wp_usermeta WHERE meta_key = 'session_tokens'",
    );
    assert!(!sessions.is_empty());
    for ip in ["192.0.2.", "198.51.100.", "203.0.113."] {
        let before = sessions.iter().any(|s| s.contains(ip));
        let after = values(
            &target,
            "copy",
            "SELECT meta_value FROM wp_usermeta WHERE meta_key = 'session_tokens'",
        )
        .iter()
        .any(|s| s.contains(ip));
        assert!(!(before && after), "an IP {ip}… survived in session_tokens");
    }

    // Every URL moved, except the GUIDs that must not change.
    let everything =
        String::from_utf8_lossy(&target.dump("copy", &["--skip-extended-insert"]).unwrap())
            .into_owned();
    for line in everything
        .lines()
        .filter(|l| l.contains("https://www.example.com"))
    {
        assert!(
            line.starts_with("INSERT INTO `wp_posts`"),
            "old URL outside wp_posts.guid: {}",
            &line[..line.len().min(200)]
        );
    }
    let guids = values(&target, "copy", "SELECT guid FROM wp_posts");
    assert!(guids
        .iter()
        .all(|g| g.starts_with("https://www.example.com")));
    let content = values(&target, "copy", "SELECT post_content FROM wp_posts");
    assert!(content
        .iter()
        .all(|c| !c.contains("https://www.example.com")));
    assert!(everything.contains("/srv/staging/wp/"));

    // Serialized values still unserialize; structure and row counts are kept, except
    // transients, which the pack drops.
    let transients = source
        .query_value(
            "wordpress",
            "SELECT COUNT(*) FROM wp_options WHERE option_name REGEXP '^_(site_)?transient_'",
        )
        .unwrap();
    assert_ne!(transients, "0");
    for ((table, before), (_, after)) in row_counts(&source, "wordpress")
        .into_iter()
        .zip(row_counts(&target, "copy"))
    {
        let want = if table == "wp_options" {
            before - transients.parse::<u64>().unwrap()
        } else {
            before
        };
        assert_eq!(after, want, "rows of {table}");
    }
    // Without the dropped transients, the same values unserialize in both.
    source
        .execute_in(
            "wordpress",
            "DELETE FROM wp_options WHERE option_name REGEXP '^_(site_)?transient_'",
        )
        .unwrap();
    assert_eq!(
        count_unserializable(&php, &text_values(&target, "copy")),
        count_unserializable(&php, &text_values(&source, "wordpress")),
    );
    for sql in [
        "SELECT GROUP_CONCAT(ID ORDER BY ID) FROM wp_users",
        "SELECT GROUP_CONCAT(CONCAT(user_id, ':', meta_key) ORDER BY umeta_id) FROM wp_usermeta",
        "SELECT GROUP_CONCAT(CONCAT(post_id, ':', meta_key) ORDER BY meta_id) FROM wp_postmeta",
    ] {
        assert_eq!(
            target.query_value("copy", sql).unwrap(),
            source.query_value("wordpress", sql).unwrap(),
            "{sql}"
        );
    }
}

#[test]
fn elgg_pack_masks_users_by_entity_type() {
    let source = MariaDb::start().unwrap();
    let target = MariaDb::start().unwrap();
    source.create_database("elgg").unwrap();
    source
        .load_file("elgg", &fixtures().join("sql/elgg3.sql"))
        .unwrap();
    let dump = source.dump("elgg", &[]).unwrap();
    let vars = [
        "src_url=https://mitglieder.example.org/",
        "dst_url=https://int.example.org/",
        "src_data=/srv/elgg/data/",
        "dst_data=/srv/int/data/",
        "src_root=/srv/elgg/www/",
        "dst_root=/srv/int/www/",
        "announcement=Das ist die Integration, nicht die Produktion (it's a copy)",
    ];
    let out = rewrite(&dump, "elgg.toml", &vars, SECRET);
    target.create_database("copy").unwrap();
    target.load("copy", &out).unwrap();

    let user_values = "SELECT m.value FROM elgg_metadata m JOIN elgg_entities e ON e.guid = m.entity_guid \
         WHERE e.type = 'user' AND m.name IN ('email','name','username','password_hash','phone','location')";
    let personal = values(&source, "elgg", user_values);
    assert!(personal.len() >= 10, "{personal:?}");
    let after = values(&target, "copy", user_values);
    assert!(
        personal.is_disjoint(&after),
        "unmasked: {:?}",
        personal.intersection(&after).collect::<Vec<_>>()
    );
    // Nor is any of it a whole value of any text column (profile annotations included), and
    // no logged IP address is inside one. Known gap, kept visible: an address inside free
    // text (a plugin's JSON user setting in private_settings) is not found by any rule yet.
    let everywhere: BTreeSet<Vec<u8>> = text_values(&target, "copy")
        .into_iter()
        .flat_map(|(_, vals)| vals)
        .collect();
    let everything_text = String::from_utf8_lossy(&target.dump("copy", &[]).unwrap()).into_owned();
    let ips = values(&source, "elgg", "SELECT ip_address FROM elgg_system_log");
    assert!(!ips.is_empty());
    for value in personal.iter().chain(&ips) {
        assert!(!everywhere.contains(value.as_bytes()), "{value:?} survived");
        if value.parse::<std::net::IpAddr>().is_ok() {
            assert!(
                !everything_text.contains(value.as_str()),
                "{value:?} survived inside a value"
            );
        }
    }
    // No address is left anywhere, not in free text either: the blog post's text and the
    // plugin's JSON user setting carry the same fakes as the users' own `email` metadata.
    let left: Vec<&String> = personal
        .iter()
        .filter(|v| v.contains('@') && everything_text.contains(v.as_str()))
        .collect();
    assert!(left.is_empty(), "addresses left in the copy: {left:?}");
    let email_of = |db: &str, server: &MariaDb, guid: u32| {
        server
            .query_value(
                db,
                &format!(
                    "SELECT value FROM elgg_metadata WHERE entity_guid = {guid} AND name = 'email'"
                ),
            )
            .unwrap()
    };
    let (emma, bernd) = (email_of("copy", &target, 6), email_of("copy", &target, 3));
    assert!(emma.ends_with("@example.invalid") && bernd.ends_with("@example.invalid"));
    let blog = target
        .query_value("copy", "SELECT value FROM elgg_metadata WHERE id = 133")
        .unwrap();
    assert_eq!(blog, format!("Bitte bei Emma Probe ({emma}) melden."));
    let setting = target
        .query_value(
            "copy",
            "SELECT value FROM elgg_private_settings WHERE name = 'plugin:user_setting:menu_builder:json_object'",
        )
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&setting).unwrap();
    assert_eq!(json["u"], serde_json::Value::String(bernd.clone()));
    assert_eq!(
        json["home"],
        serde_json::Value::String("https://int.example.org/dashboard".into())
    );
    // The site entity's own metadata is not a person's and stays.
    let site = "SELECT GROUP_CONCAT(value ORDER BY id) FROM elgg_metadata WHERE entity_guid = 1 AND name = 'name'";
    assert_eq!(
        target.query_value("copy", site).unwrap(),
        source.query_value("elgg", site).unwrap()
    );
    // The announcement banner was appended and ran.
    let banner =
        "SELECT m.value FROM elgg_metadata m JOIN elgg_entities e ON e.guid = m.entity_guid \
         WHERE e.subtype = 'site_announcement' AND m.name = 'description'";
    assert_eq!(
        target.query_value("copy", banner).unwrap(),
        "Das ist die Integration, nicht die Produktion (it's a copy)"
    );
    // Sessions and queue are emptied; URLs and paths moved.
    assert_eq!(
        target
            .query_value("copy", "SELECT COUNT(*) FROM elgg_users_sessions")
            .unwrap(),
        "0"
    );
    let everything =
        String::from_utf8_lossy(&target.dump("copy", &["--hex-blob"]).unwrap()).into_owned();
    for gone in ["https://mitglieder.example.org", "/srv/elgg/"] {
        assert!(!everything.contains(gone), "{gone} left");
    }
}

const USERS: &str = "CREATE TABLE `users` (\n  `id` int(11) NOT NULL,\n  `email` varchar(100) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n);\nINSERT INTO `users` VALUES (1,'anna@example.org'),(2,NULL);\n";

fn fails_with(rules: &str, dump: &str, expected: &str) {
    fails_with_output(rules, dump, expected, true);
}

fn fails_with_output(rules: &str, dump: &str, expected: &str, check_leak: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .arg("--rules")
            .arg(&path)
            .env("UNDERSTUDY_SECRET", SECRET),
        dump.as_bytes(),
    );
    let stderr = stderr_of_failure(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains(expected), "{stderr}");
    if check_leak {
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("anna@example.org"),
            "unmasked output"
        );
    }
}

#[test]
fn mask_on_a_missing_column_fails_closed() {
    fails_with(
        "[[mask]]\ntable = \"users\"\ncolumn = \"mail\"\nstrategy = \"null\"\n",
        USERS,
        "byte 109 (line 6), table `users`: mask[0] (users.mail) masks column `mail`, which this table does not have (columns: id, email)",
    );
}

#[test]
fn rows_without_column_names_fail_closed() {
    fails_with(
        "[[mask]]\ntable = \"users\"\ncolumn = \"email\"\nstrategy = \"null\"\n",
        "INSERT INTO `users` VALUES (1,'anna@example.org');\n",
        "byte 0 (line 1), table `users`: the rules need this table's column names, but its rows come without them (no CREATE TABLE earlier in the dump and no column list in the INSERT): dump with `--complete-insert`, or keep the `CREATE TABLE`s (no `--no-create-info`)",
    );
}

#[test]
fn a_template_that_cannot_be_filled_fails_closed() {
    // Row 1 is written (its id becomes the e-mail, as the rule says) before row 2 fails.
    fails_with_output(
        "[[mask]]\ntable = \"users\"\ncolumn = \"id\"\nstrategy = \"template\"\ntemplate = \"{email}\"\n",
        USERS,
        "table `users`, column `id`, row 2 (key 2): mask[0] (users.id): the template needs column `email`, which is NULL in this row",
        false,
    );
}

#[test]
fn coverage_policy_stops_and_rules_check_lists_uncovered_columns() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("strict.toml");
    std::fs::write(
        &rules,
        "[policy]\nunlisted = \"fail\"\n[[mask]]\ntable = \"users\"\ncolumn = \"email\"\nstrategy = \"null\"\n",
    )
    .unwrap();
    let dump = dir.path().join("dump.sql");
    std::fs::write(&dump, USERS).unwrap();

    let out = understudy()
        .args(["rules", "check"])
        .arg(&rules)
        .arg("--dump")
        .arg(&dump)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("  users.id\n"), "{stdout}");
    assert!(!stdout.contains("users.email"), "{stdout}");

    fails_with(
        &std::fs::read_to_string(&rules).unwrap(),
        USERS,
        "byte 0 (line 1), table `users`: policy unlisted = \"fail\": no rule masks or keeps column(s) id",
    );

    // With the column kept explicitly, both pass.
    std::fs::write(
        &rules,
        "[policy]\nunlisted = \"fail\"\n[[keep]]\ntable = \"users\"\ncolumns = [\"id\"]\n[[mask]]\ntable = \"users\"\ncolumn = \"email\"\nstrategy = \"null\"\n",
    )
    .unwrap();
    let out = understudy()
        .args(["rules", "check"])
        .arg(&rules)
        .arg("--dump")
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run_with_stdin(
        understudy().arg("rewrite").arg("--rules").arg(&rules),
        USERS.as_bytes(),
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("(1,NULL),(2,NULL)"));
}

#[test]
fn the_same_email_masks_the_same_in_every_table() {
    let rules = "[vars]\nsecret = \"${env:UNDERSTUDY_SECRET}\"\n[[mask]]\ntable = [\"users\", \"comments\"]\ncolumn = \"email\"\nstrategy = \"fake\"\nkind = \"email\"\n";
    let dump = "CREATE TABLE `comments` (\n  `id` int(11) NOT NULL,\n  `email` varchar(100) DEFAULT NULL\n);\n\
                INSERT INTO `comments` VALUES (1,'anna@example.org'),(2,'bob@example.org');\n\
                CREATE TABLE `users` (\n  `id` int(11) NOT NULL,\n  `email` varchar(100) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `email` (`email`)\n);\n\
                INSERT INTO `users` VALUES (7,'bob@example.org'),(8,'anna@example.org');\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    let out = run_with_stdin(
        understudy()
            .arg("rewrite")
            .arg("--rules")
            .arg(&path)
            .env("UNDERSTUDY_SECRET", SECRET),
        dump.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("anna@example.org") && !text.contains("bob@example.org"));
    let emails = |table: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("INSERT INTO `{table}`")))
            .unwrap();
        line.split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let (comments, users) = (emails("comments"), emails("users"));
    assert_eq!(comments.len(), 2);
    assert_ne!(comments[0], comments[1]);
    assert_eq!(users, vec![comments[1].clone(), comments[0].clone()]);
}

#[test]
fn input_hygiene_strips_what_fails_on_another_server() {
    let rules = "[input]\nstrip_sandbox_line = true\nstrip_database_statements = true\nstrip_definers = true\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hygiene.toml");
    std::fs::write(&path, rules).unwrap();
    let source = MariaDb::start().unwrap();
    source.create_database("types").unwrap();
    source
        .load_file("types", &fixtures().join("sql/types.sql"))
        .unwrap();
    let dump = source
        .dump(
            "",
            &[
                "--databases",
                "types",
                "--routines",
                "--triggers",
                "--events",
            ],
        )
        .unwrap();
    let text = String::from_utf8_lossy(&dump);
    assert!(text.starts_with("/*M!999999\\- enable the sandbox mode */"));
    assert!(
        text.contains("CREATE DATABASE")
            && text.contains("USE `types`")
            && text.contains("DEFINER=")
    );

    let out = run_with_stdin(understudy().arg("rewrite").arg("--rules").arg(&path), &dump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cleaned = String::from_utf8_lossy(&out.stdout);
    assert!(!cleaned.contains("sandbox mode"));
    assert!(!cleaned.contains("CREATE DATABASE") && !cleaned.contains("USE `types`"));
    assert!(!cleaned.contains("DEFINER="));
    // It loads into a database of another name, and the data is the same.
    let target = MariaDb::start().unwrap();
    target.create_database("other_name").unwrap();
    target.load("other_name", &out.stdout).unwrap();
    assert_eq!(
        target.checksums("other_name").unwrap(),
        source.checksums("types").unwrap()
    );
    assert!(target.tables("types").map(|t| t.is_empty()).unwrap_or(true));
}

#[test]
fn warnings_in_masked_tables_name_the_row_key() {
    let rules = "[[mask]]\ntable = \"users\"\ncolumn = \"email\"\nstrategy = \"null\"\n";
    let dump = "CREATE TABLE `users` (\n  `id` int(11) NOT NULL,\n  `email` varchar(100) DEFAULT NULL,\n  `prefs` text,\n  PRIMARY KEY (`id`)\n);\n\
                INSERT INTO `users` VALUES (41,'a@example.org','a:1:{s:3:\\\"url\\\";s:99:\\\"https://old.example\\\";}');\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    let out = run_with_stdin(
        understudy()
            .args([
                "rewrite",
                "--replace",
                "https://old.example=https://new.example",
                "--rules",
            ])
            .arg(&path),
        dump.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "table `users`, column `prefs`, row 1 (key 41): looks serialized but does not parse"
        ),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("(41,NULL,'a:1:{s:3:\\\"url\\\";s:99:\\\"https://new.example\\\";}')"));
}

#[test]
fn a_skipped_table_takes_its_triggers_along() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skip.toml");
    std::fs::write(&path, "[[table]]\nname = \"parent\"\naction = \"skip\"\n").unwrap();
    let source = MariaDb::start().unwrap();
    source.create_database("types").unwrap();
    source
        .load_file("types", &fixtures().join("sql/types.sql"))
        .unwrap();
    let dump = source
        .dump("types", &["--routines", "--triggers", "--events"])
        .unwrap();
    assert!(String::from_utf8_lossy(&dump).contains("ON `parent` FOR EACH ROW"));

    let out = run_with_stdin(understudy().arg("rewrite").arg("--rules").arg(&path), &dump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for gone in [
        "CREATE TABLE `parent`",
        "DROP TABLE IF EXISTS `parent`",
        "INSERT INTO `parent` VALUES\n",
        "LOCK TABLES `parent`",
        "ON `parent` FOR EACH ROW",
    ] {
        assert!(!text.contains(gone), "{gone} is left");
    }
    let target = MariaDb::start().unwrap();
    target.create_database("copy").unwrap();
    target.load("copy", &out.stdout).unwrap();
    let tables = target.tables("copy").unwrap();
    assert!(!tables.contains(&"parent".to_string()) && tables.contains(&"child".to_string()));
    let triggers = values(
        &target,
        "information_schema",
        "SELECT TRIGGER_NAME FROM TRIGGERS WHERE TRIGGER_SCHEMA = 'copy'",
    );
    let source_triggers = values(
        &source,
        "information_schema",
        "SELECT TRIGGER_NAME FROM TRIGGERS WHERE TRIGGER_SCHEMA = 'types'",
    );
    assert!(
        triggers.len() < source_triggers.len()
            && !triggers.iter().any(|t| t.starts_with("parent_"))
    );
}

/// `scrub` replaces the addresses inside text, fixes serialized lengths around them, leaves
/// a cell an earlier mask replaced alone, and stops when the text no longer fits.
#[test]
fn scrub_replaces_addresses_inside_text() {
    let rules = "[vars]\nsecret = \"${env:UNDERSTUDY_SECRET}\"\n\
                 [[mask]]\ntable = \"notes\"\ncolumn = \"body\"\nwhen = { id = \"3\" }\nstrategy = \"fixed\"\nvalue = \"kept as fixed: anna@example.org\"\n\
                 [[mask]]\ntable = \"notes\"\ncolumn = \"body\"\nstrategy = \"scrub\"\n\
                 [[mask]]\ntable = \"users\"\ncolumn = \"email\"\nstrategy = \"fake\"\nkind = \"email\"\n";
    let dump = "CREATE TABLE `notes` (\n  `id` int(11) NOT NULL,\n  `body` text\n);\n\
                INSERT INTO `notes` VALUES (1,'Mail anna@example.org, from 203.0.113.9.'),\
                (2,'a:2:{s:4:\\\"mail\\\";s:16:\\\"anna@example.org\\\";s:2:\\\"ip\\\";s:12:\\\"2001:db8::42\\\";}'),\
                (3,'x'),(4,'version 1.2.3.4.5 at 12:30:00, no address'),(5,NULL);\n\
                CREATE TABLE `users` (\n  `id` int(11) NOT NULL,\n  `email` varchar(100) DEFAULT NULL\n);\n\
                INSERT INTO `users` VALUES (1,'anna@example.org');\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    let run = |dump: &str| {
        run_with_stdin(
            understudy()
                .args(["rewrite", "--rules"])
                .arg(&path)
                .env("UNDERSTUDY_SECRET", SECRET),
            dump.as_bytes(),
        )
    };
    let out = run(dump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let fake = text
        .split("INSERT INTO `users` VALUES (1,'")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap();
    assert!(fake.ends_with("@example.invalid"), "{fake}");
    let notes = text
        .lines()
        .find(|l| l.starts_with("INSERT INTO `notes`"))
        .unwrap();
    assert!(
        notes.contains(&format!("(1,'Mail {fake}, from ")),
        "{notes}"
    );
    assert!(
        !notes.contains("203.0.113.9") && !notes.contains("2001:db8::42"),
        "{notes}"
    );
    // The serialized value still unserializes, with the same fake inside.
    let serialized = notes
        .split("(2,'")
        .nth(1)
        .and_then(|r| r.split("'),").next())
        .unwrap()
        .replace("\\\"", "\"");
    assert!(
        serialized.contains(&format!("s:4:\"mail\";s:{}:\"{fake}\";", fake.len())),
        "{serialized}"
    );
    let php = understudy_testkit::php::Php::require();
    let decoded = php
        .run_batch(
            "function handle(array $f): array { $v = unserialize($f[0]); \
             return [$v === false ? 'broken' : $v['mail'] . ' ' . $v['ip']]; }",
            &[vec![serialized.into_bytes()]],
        )
        .unwrap();
    let decoded = String::from_utf8_lossy(&decoded[0][0]).into_owned();
    assert!(
        decoded.starts_with(&format!("{fake} 2001:db8:")),
        "{decoded}"
    );
    // The fixed mask's value is not scrubbed again; text without addresses stays.
    assert!(
        notes.contains("(3,'kept as fixed: anna@example.org')"),
        "{notes}"
    );
    assert!(notes.contains("(4,'version 1.2.3.4.5 at 12:30:00, no address'),(5,NULL);"));

    // Fails closed when the scrubbed text outgrows the column.
    let small = "CREATE TABLE `notes` (\n  `id` int(11) NOT NULL,\n  `body` varchar(20)\n);\n\
                 INSERT INTO `notes` VALUES (1,'to anna@example.org');\n";
    let out = run(small);
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of_failure(&out);
    assert!(
        stderr.contains("byte 98 (line 5), table `notes`, column `body`, row 1: mask[1] (notes.body): the scrubbed value has 43 characters, the column takes 20"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("anna@example.org"));
}
