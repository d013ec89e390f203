//! The Elgg 3 to 5 tables (`elgg_` prefix): schemas as MariaDB 10.11 prints them, and rows
//! shaped like a members' site's. Entities are sites, users, groups and objects; what they
//! say lives in `elgg_metadata` (users' names, e-mail addresses and password hashes too,
//! since Elgg 3); settings are serialized PHP (`elgg_config`, `elgg_private_settings`);
//! the notification queue and the sessions are blobs of serialized PHP.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::dump::{DumpWriter, GENERAL_TABLE_OPTIONS};
use crate::text::{format_datetime, json_str, ser, slugify, Text, USER_AGENTS};
use crate::{mix, Content, Settings, Spec};

const ACCESS_COLLECTION_MEMBERSHIP: &str = "  `user_guid` bigint(20) unsigned NOT NULL,
  `access_collection_id` int(11) NOT NULL,
  PRIMARY KEY (`user_guid`,`access_collection_id`)";

const ACCESS_COLLECTIONS: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` text NOT NULL,
  `owner_guid` bigint(20) unsigned NOT NULL,
  `subtype` varchar(252) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `owner_guid` (`owner_guid`),
  KEY `subtype` (`subtype`(191))";

const ANNOTATIONS: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `entity_guid` bigint(20) unsigned NOT NULL,
  `name` text NOT NULL,
  `value` longtext NOT NULL,
  `value_type` enum('integer','text') NOT NULL,
  `owner_guid` bigint(20) unsigned NOT NULL,
  `access_id` int(11) NOT NULL,
  `time_created` int(11) NOT NULL,
  `enabled` enum('yes','no') NOT NULL DEFAULT 'yes',
  PRIMARY KEY (`id`),
  KEY `entity_guid` (`entity_guid`),
  KEY `name` (`name`(50)),
  KEY `value` (`value`(50)),
  KEY `owner_guid` (`owner_guid`),
  KEY `access_id` (`access_id`)";

const CONFIG: &str = "  `name` varchar(255) NOT NULL,
  `value` longtext NOT NULL,
  PRIMARY KEY (`name`)";

const ENTITIES: &str = "  `guid` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `type` enum('object','user','group','site') NOT NULL,
  `subtype` varchar(252) DEFAULT NULL,
  `owner_guid` bigint(20) unsigned NOT NULL,
  `container_guid` bigint(20) unsigned NOT NULL,
  `access_id` int(11) NOT NULL,
  `time_created` int(11) NOT NULL,
  `time_updated` int(11) NOT NULL,
  `last_action` int(11) NOT NULL DEFAULT 0,
  `enabled` enum('yes','no') NOT NULL DEFAULT 'yes',
  PRIMARY KEY (`guid`),
  KEY `type` (`type`),
  KEY `subtype` (`subtype`(50)),
  KEY `owner_guid` (`owner_guid`),
  KEY `container_guid` (`container_guid`),
  KEY `access_id` (`access_id`),
  KEY `time_created` (`time_created`),
  KEY `time_updated` (`time_updated`)";

const ENTITY_RELATIONSHIPS: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `guid_one` bigint(20) unsigned NOT NULL,
  `relationship` varchar(50) NOT NULL,
  `guid_two` bigint(20) unsigned NOT NULL,
  `time_created` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `guid_one` (`guid_one`,`relationship`,`guid_two`),
  KEY `relationship` (`relationship`),
  KEY `guid_two` (`guid_two`)";

const METADATA: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `entity_guid` bigint(20) unsigned NOT NULL,
  `name` text NOT NULL,
  `value` longtext NOT NULL,
  `value_type` enum('integer','text') NOT NULL,
  `owner_guid` bigint(20) unsigned DEFAULT NULL,
  `access_id` int(11) DEFAULT NULL,
  `time_created` int(11) NOT NULL,
  `enabled` enum('yes','no') NOT NULL DEFAULT 'yes',
  PRIMARY KEY (`id`),
  KEY `entity_guid` (`entity_guid`),
  KEY `name` (`name`(50)),
  KEY `value` (`value`(50))";

const MIGRATIONS: &str = "  `version` bigint(20) NOT NULL,
  `migration_name` varchar(100) DEFAULT NULL,
  `start_time` timestamp NULL DEFAULT NULL,
  `end_time` timestamp NULL DEFAULT NULL,
  `breakpoint` tinyint(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`version`)";

const PRIVATE_SETTINGS: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `entity_guid` bigint(20) unsigned NOT NULL,
  `name` varchar(128) NOT NULL,
  `value` longtext NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `entity_guid` (`entity_guid`,`name`),
  KEY `name` (`name`),
  KEY `value` (`value`(50))";

const QUEUE: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `data` mediumblob NOT NULL,
  `timestamp` int(11) NOT NULL,
  `worker` varchar(32) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `name` (`name`(50)),
  KEY `retrieve` (`timestamp`,`worker`)";

const RIVER: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `action_type` varchar(32) NOT NULL,
  `view` text NOT NULL,
  `subject_guid` bigint(20) unsigned NOT NULL,
  `object_guid` bigint(20) unsigned NOT NULL,
  `target_guid` bigint(20) unsigned NOT NULL,
  `annotation_id` int(11) NOT NULL,
  `posted` int(11) NOT NULL,
  `enabled` enum('yes','no') NOT NULL DEFAULT 'yes',
  PRIMARY KEY (`id`),
  KEY `action_type` (`action_type`),
  KEY `subject_guid` (`subject_guid`),
  KEY `object_guid` (`object_guid`),
  KEY `target_guid` (`target_guid`),
  KEY `annotation_id` (`annotation_id`),
  KEY `posted` (`posted`)";

const SYSTEM_LOG: &str = "  `id` int(11) NOT NULL AUTO_INCREMENT,
  `object_id` int(11) NOT NULL,
  `object_class` varchar(50) NOT NULL,
  `object_type` varchar(50) NOT NULL,
  `object_subtype` varchar(252) NOT NULL,
  `event` varchar(50) NOT NULL,
  `performed_by_guid` bigint(20) unsigned NOT NULL,
  `owner_guid` bigint(20) unsigned NOT NULL,
  `access_id` int(11) NOT NULL,
  `enabled` enum('yes','no') NOT NULL DEFAULT 'yes',
  `time_created` int(11) NOT NULL,
  `ip_address` varchar(46) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `object_id` (`object_id`),
  KEY `object_class` (`object_class`),
  KEY `event` (`event`),
  KEY `performed_by_guid` (`performed_by_guid`),
  KEY `time_created` (`time_created`)";

const REMEMBER_ME: &str = "  `code` varchar(32) NOT NULL,
  `guid` bigint(20) unsigned NOT NULL,
  `timestamp` int(11) unsigned NOT NULL,
  PRIMARY KEY (`code`),
  KEY `timestamp` (`timestamp`)";

const SESSIONS: &str = "  `session` varchar(255) NOT NULL,
  `ts` int(11) unsigned NOT NULL DEFAULT 0,
  `data` mediumblob DEFAULT NULL,
  PRIMARY KEY (`session`),
  KEY `ts` (`ts`)";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Membership,
    AccessCollections,
    Annotations,
    Config,
    Entities,
    Relationships,
    Metadata,
    Migrations,
    PrivateSettings,
    Queue,
    River,
    SystemLog,
    RememberMe,
    Sessions,
}

/// Name, what fills it, schema, share of the dump (plain, serialized-dense), most rows.
#[rustfmt::skip]
const TABLES: &[(&str, Table, &str, f64, f64, u64)] = &[
    ("elgg_access_collection_membership", Table::Membership, ACCESS_COLLECTION_MEMBERSHIP, 0.002, 0.0005, u64::MAX),
    ("elgg_access_collections", Table::AccessCollections, ACCESS_COLLECTIONS, 0.002, 0.0005, u64::MAX),
    ("elgg_annotations", Table::Annotations, ANNOTATIONS, 0.08, 0.005, u64::MAX),
    ("elgg_config", Table::Config, CONFIG, 0.001, 0.001, 40),
    ("elgg_entities", Table::Entities, ENTITIES, 0.10, 0.005, u64::MAX),
    ("elgg_entity_relationships", Table::Relationships, ENTITY_RELATIONSHIPS, 0.04, 0.003, u64::MAX),
    ("elgg_metadata", Table::Metadata, METADATA, 0.48, 0.08, u64::MAX),
    ("elgg_migrations", Table::Migrations, MIGRATIONS, 0.0005, 0.0005, 12),
    ("elgg_private_settings", Table::PrivateSettings, PRIVATE_SETTINGS, 0.06, 0.70, u64::MAX),
    ("elgg_queue", Table::Queue, QUEUE, 0.03, 0.06, u64::MAX),
    ("elgg_river", Table::River, RIVER, 0.05, 0.003, u64::MAX),
    ("elgg_system_log", Table::SystemLog, SYSTEM_LOG, 0.08, 0.003, u64::MAX),
    ("elgg_users_remember_me_cookies", Table::RememberMe, REMEMBER_ME, 0.005, 0.001, u64::MAX),
    ("elgg_users_sessions", Table::Sessions, SESSIONS, 0.05, 0.05, u64::MAX),
];

/// Average bytes of metadata per entity, to size the guid range.
const AVG_ENTITY_METADATA: f64 = 900.0;

pub(crate) fn plan(settings: &Settings) -> Vec<Spec<Table>> {
    TABLES
        .iter()
        .map(|&(name, table, schema, plain, dense, max_rows)| {
            let mut share = if settings.dense { dense } else { plain };
            if settings.hex_blob && matches!(table, Table::Queue | Table::Sessions) {
                share *= 3.0;
            }
            Spec {
                name: name.to_owned(),
                kind: table,
                schema: Cow::Borrowed(schema),
                options: GENERAL_TABLE_OPTIONS,
                share,
                max_rows,
            }
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EntityKind {
    Site,
    User,
    Group,
    Blog,
    File,
    Comment,
    Discussion,
    Page,
}

impl EntityKind {
    fn type_subtype(self) -> (&'static str, &'static str) {
        match self {
            EntityKind::Site => ("site", "site"),
            EntityKind::User => ("user", "user"),
            EntityKind::Group => ("group", "group"),
            EntityKind::Blog => ("object", "blog"),
            EntityKind::File => ("object", "file"),
            EntityKind::Comment => ("object", "comment"),
            EntityKind::Discussion => ("object", "discussion"),
            EntityKind::Page => ("object", "page"),
        }
    }
}

pub struct Site {
    text: Text,
    seed: u64,
    entities: u64,
    dense: bool,
}

impl Site {
    pub fn new(text: Text, settings: &Settings) -> Site {
        let share: f64 = TABLES
            .iter()
            .find(|t| t.1 == Table::Metadata)
            .map_or(0.5, |t| if settings.dense { t.4 } else { t.3 });
        let entities = ((settings.size as f64 * share / AVG_ENTITY_METADATA) as u64).max(20);
        Site {
            text,
            seed: settings.seed,
            entities,
            dense: settings.dense,
        }
    }

    /// What entity `guid` is, the same in every table.
    fn kind(&self, guid: u64) -> EntityKind {
        if guid == 1 {
            return EntityKind::Site;
        }
        match mix(self.seed, guid) % 100 {
            0..=14 => EntityKind::User,
            15..=17 => EntityKind::Group,
            18..=37 => EntityKind::Blog,
            38..=52 => EntityKind::File,
            53..=84 => EntityKind::Comment,
            85..=94 => EntityKind::Discussion,
            _ => EntityKind::Page,
        }
    }

    /// A guid in range whose entity is of `kind` (the site if none is found quickly).
    fn guid_of(&mut self, kind: EntityKind) -> u64 {
        for _ in 0..64 {
            let guid = self.text.range(2, self.entities + 1);
            if self.kind(guid) == kind {
                return guid;
            }
        }
        1
    }

    fn time(&mut self) -> u64 {
        self.text.range(1_500_000_000, 1_736_000_000)
    }

    fn entity_url(&mut self, guid: u64) -> String {
        let (_, subtype) = self.kind(guid).type_subtype();
        let slug = self.text.slug();
        format!("{}/{subtype}/view/{guid}/{slug}", self.text.site)
    }
}

impl Content for Site {
    type Kind = Table;

    fn fill<W: Write>(&mut self, table: Table, w: &mut DumpWriter<W>) -> io::Result<()> {
        match table {
            Table::Membership => self.membership(w),
            Table::AccessCollections => self.access_collections(w),
            Table::Annotations => self.annotations(w),
            Table::Config => self.config(w),
            Table::Entities => self.entities_table(w),
            Table::Relationships => self.relationships(w),
            Table::Metadata => self.metadata(w),
            Table::Migrations => self.migrations(w),
            Table::PrivateSettings => self.private_settings(w),
            Table::Queue => self.queue(w),
            Table::River => self.river(w),
            Table::SystemLog => self.system_log(w),
            Table::RememberMe => self.remember_me(w),
            Table::Sessions => self.sessions(w),
        }
    }
}

impl Site {
    fn membership<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut n = 0;
        while w.more() {
            n += 1;
            // Distinct pairs: every user in collection n % 7 + 1 … by position.
            w.row().num(n + 1).num(n % 7 + 1);
            w.push_row()?;
        }
        Ok(())
    }

    fn access_collections<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let owner = self.guid_of(EntityKind::User);
            let (name, subtype) = match id % 3 {
                0 => ("friends".to_owned(), "friends"),
                1 => (format!("Gruppe: {}", self.text.title()), "group_acl"),
                _ => (
                    format!("{}s Freunde", self.text.first_name()),
                    "friends_collection",
                ),
            };
            w.row().num(id).str(&name).num(owner).str(subtype);
            w.push_row()?;
        }
        Ok(())
    }

    fn annotations<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let time = self.time();
            let owner = self.guid_of(EntityKind::User);
            let t = &mut self.text;
            let entity = t.range(2, self.entities + 1);
            let (name, value, integer) = match t.range(0, 10) {
                0..=3 => ("likes", "1".to_owned(), true),
                4 => ("generic_rating", t.range(1, 6).to_string(), true),
                5 => (
                    "profile:phone",
                    format!("+49 2381 {} {:04}", t.range(100, 999), t.range(0, 9999)),
                    false,
                ),
                6 => (
                    "profile:location",
                    t.pick(&["Hamm, Westfalen", "Münster", "Dortmund"])
                        .to_owned(),
                    false,
                ),
                _ => {
                    let (first, last) = (t.first_name(), t.last_name());
                    let mut html = format!(
                        "<p>{first} {last}: <a href=\"mailto:{}.{}@members.example.org\">Mail</a> ",
                        slugify(first),
                        slugify(last)
                    );
                    t.sentence(&mut html, true);
                    html.push_str("</p>");
                    ("group_topic_post", html, false)
                }
            };
            w.row()
                .num(id)
                .num(entity)
                .str(name)
                .str(&value)
                .str(if integer { "integer" } else { "text" })
                .num(owner)
                .num(t.range(0, 3))
                .num(time)
                .str("yes");
            w.push_row()?;
        }
        Ok(())
    }

    fn config<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let site = self.text.site;
        let mut rows: Vec<(String, String)> = vec![
            ("allow_registration".into(), "b:1;".into()),
            (
                "dataroot".into(),
                ser(|s| {
                    s.str("/srv/elgg/data/");
                }),
            ),
            ("default_access".into(), "i:1;".into()),
            ("default_limit".into(), "i:10;".into()),
            ("installed".into(), "i:1523989534;".into()),
            (
                "language".into(),
                ser(|s| {
                    s.str("de");
                }),
            ),
            (
                "path".into(),
                ser(|s| {
                    s.str("/srv/elgg/www/");
                }),
            ),
            (
                "processed_upgrades".into(),
                ser(|s| {
                    s.array(2)
                        .int(0)
                        .str("2016110700-2.3.0-elgg_upgrade_notifications-2b7d7b9b1f4b8c4a.php")
                        .int(1)
                        .str("Elgg\\Upgrades\\AlterDatabaseToMultiByteCharset")
                        .end();
                }),
            ),
            ("simplecache_enabled".into(), "i:1;".into()),
            (
                "site_custom_menu_items".into(),
                ser(|s| {
                    s.array(3)
                        .kv("Programm", &format!("{site}/programm/"))
                        .kv("Tickets", &format!("{site}/tickets"))
                        .kv("Downloads", &format!("{site}/file/download/123"))
                        .end();
                }),
            ),
            ("version_float".into(), "d:4.3;".into()),
            (
                "view".into(),
                ser(|s| {
                    s.str("default");
                }),
            ),
            ("walled_garden".into(), "b:0;".into()),
            (
                "__site_secret__".into(),
                ser(|s| {
                    s.str("zEqEY4rQm1sWc9Tn3Jd7Lp0Ux5Kf2Hb8");
                }),
            ),
        ];
        // More plugin-made entries, each name unique.
        for n in 0..26 {
            let value = settings_array(&mut self.text);
            rows.push((format!("plugin_cache_{n:02}"), value));
        }
        // In the order of the primary key's collation (case-insensitive: `_` after letters),
        // as mariadb-dump writes them.
        rows.sort_by_key(|(name, _)| name.to_uppercase());
        for (name, value) in rows {
            if !w.more() {
                break;
            }
            w.row().str(&name).str(&value);
            w.push_row()?;
        }
        Ok(())
    }

    fn entities_table<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut guid = 0;
        while w.more() {
            guid += 1;
            let kind = self.kind(guid);
            let (type_, subtype) = kind.type_subtype();
            let created = self.time();
            let (owner, container) = match kind {
                EntityKind::Site | EntityKind::User => (0, 0),
                EntityKind::Group => {
                    let u = self.guid_of(EntityKind::User);
                    (u, u)
                }
                EntityKind::Comment => {
                    let u = self.guid_of(EntityKind::User);
                    (u, self.guid_of(EntityKind::Blog))
                }
                _ => {
                    let u = self.guid_of(EntityKind::User);
                    let c = if self.text.chance(0.3) {
                        self.guid_of(EntityKind::Group)
                    } else {
                        u
                    };
                    (u, c)
                }
            };
            let access = self.text.range(0, 3);
            w.row()
                .num(guid)
                .str(type_)
                .str(subtype)
                .num(owner)
                .num(container)
                .num(access)
                .num(created)
                .num(created + 60)
                .num(created + 120)
                .str("yes");
            w.push_row()?;
        }
        Ok(())
    }

    fn relationships<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let time = self.time();
            // `guid_one` is the row number, so (guid_one, relationship, guid_two) is unique.
            let (relationship, two) = match id % 4 {
                0 => ("member_of_site", 1),
                1 => ("friend", self.guid_of(EntityKind::User)),
                2 => ("member", self.guid_of(EntityKind::Group)),
                _ => ("notify:email", self.guid_of(EntityKind::Blog)),
            };
            w.row()
                .num(id)
                .num(id + 1)
                .str(relationship)
                .num(two)
                .num(time);
            w.push_row()?;
        }
        Ok(())
    }

    /// The metadata of entity `guid`: (name, value, is integer).
    fn entity_metadata(&mut self, guid: u64, out: &mut Vec<(&'static str, String, bool)>) {
        let site = self.text.site;
        let kind = self.kind(guid);
        let t = &mut self.text;
        match kind {
            EntityKind::Site => {
                out.push(("name", "Waldbühne Mitglieder".into(), false));
                out.push((
                    "description",
                    format!("Mitgliederbereich der Waldbühne – {site}/"),
                    false,
                ));
                out.push(("url", format!("{site}/"), false));
                out.push(("email", "webmaster@members.example.org".into(), false));
            }
            EntityKind::User => {
                let (first, last) = (t.first_name(), t.last_name());
                let username = format!("{}{guid}", slugify(first));
                out.push(("name", format!("{first} {last}"), false));
                out.push(("username", username, false));
                out.push((
                    "email",
                    format!(
                        "{}.{}{guid}@members.example.org",
                        slugify(first),
                        slugify(last)
                    ),
                    false,
                ));
                out.push(("password_hash", format!("$2y$10${}", t.phpass(53)), false));
                out.push(("language", "de".into(), false));
                out.push(("banned", "no".into(), false));
                out.push(("admin", if guid < 10 { "yes" } else { "no" }.into(), false));
                out.push(("validated", "1".into(), true));
                out.push(("validated_method", "email".into(), false));
                out.push((
                    "last_login",
                    t.range(1_700_000_000, 1_736_000_000).to_string(),
                    true,
                ));
                out.push((
                    "prev_last_login",
                    t.range(1_600_000_000, 1_700_000_000).to_string(),
                    true,
                ));
                out.push((
                    "icontime",
                    t.range(1_600_000_000, 1_736_000_000).to_string(),
                    true,
                ));
            }
            EntityKind::Group => {
                out.push(("name", t.title(), false));
                let mut html = String::from("<p>");
                t.sentence(&mut html, true);
                html.push_str("</p>");
                out.push(("description", html, false));
                out.push(("membership", "2".into(), true));
                out.push(("group_acl", t.range(1, 50).to_string(), true));
            }
            EntityKind::File => {
                let (url, file) = t.upload("pdf");
                let name = file.rsplit('/').next().unwrap_or(&file).to_owned();
                out.push(("title", t.title(), false));
                out.push(("filename", format!("file/{name}"), false));
                out.push(("originalfilename", name, false));
                out.push(("mimetype", "application/pdf".into(), false));
                out.push(("simpletype", "document".into(), false));
                out.push(("filestore::dir_root", "/srv/elgg/data/".into(), false));
                out.push(("filestore::filestore", "ElggDiskFilestore".into(), false));
                out.push(("source_url", url, false));
            }
            EntityKind::Blog | EntityKind::Discussion | EntityKind::Page | EntityKind::Comment => {
                if kind != EntityKind::Comment {
                    out.push(("title", t.title(), false));
                }
                let mut html = String::new();
                let len = 200 + t.range(0, 1500) as usize;
                t.post_html(&mut html, len);
                out.push(("description", html, false));
                if kind == EntityKind::Blog {
                    let mut excerpt = String::new();
                    t.sentence(&mut excerpt, false);
                    out.push(("excerpt", excerpt, false));
                    out.push(("status", "published".into(), false));
                    out.push(("comments_on", "On".into(), false));
                    for _ in 0..t.range(0, 4) {
                        out.push(("tags", t.word().to_owned(), false));
                    }
                }
            }
        }
    }

    fn metadata<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        let mut guid = 0;
        let mut rows = Vec::new();
        while w.more() {
            guid = guid % self.entities + 1;
            rows.clear();
            self.entity_metadata(guid, &mut rows);
            let time = self.time();
            for (name, value, integer) in rows.drain(..) {
                id += 1;
                w.row()
                    .num(id)
                    .num(guid)
                    .str(name)
                    .str(&value)
                    .str(if integer { "integer" } else { "text" })
                    .num(0)
                    .num(2)
                    .num(time)
                    .str("yes");
                w.push_row()?;
                if !w.more() {
                    break;
                }
            }
        }
        Ok(())
    }

    fn migrations<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        const NAMES: &[&str] = &[
            "RemoveSiteGuid",
            "MigrateDatalistsToConfig",
            "DenormalizeMetastrings",
            "AlterConfigValueLongtext",
            "ChangeUserNotificationSettingsNamespace",
            "AddDeliveryMethodToNotificationQueue",
        ];
        let mut n = 0;
        while w.more() {
            let name = NAMES[n % NAMES.len()];
            n += 1;
            let start = format_datetime(1_577_836_800 + 10 * n as i64);
            let end = format_datetime(1_577_836_805 + 10 * n as i64);
            w.row()
                .num(20_170_728_010_000 + n as u64 * 10_000)
                .str(name)
                .str(&start)
                .str(&end)
                .num(0);
            w.push_row()?;
        }
        Ok(())
    }

    fn private_settings<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            // (entity_guid, name) is unique: the name carries the row number.
            let entity = self.text.range(1, self.entities + 1);
            let roll = if self.dense {
                self.text.range(0, 2)
            } else {
                self.text.range(0, 6)
            };
            let (name, value) = match roll {
                0 => (
                    format!("plugin:settings:{id}"),
                    settings_array(&mut self.text),
                ),
                1 => (format!("menu_site_cached_{id}"), {
                    let json = self.menu_json();
                    ser(|s| {
                        s.array(1).kv("json", &json).end();
                    })
                }),
                2 => (format!("menu_site_config_{id}"), self.menu_json()),
                3 => (format!("plugin:user_setting:blog:notify_url_{id}"), {
                    let slug = self.text.slug();
                    format!("{}/blog/owner/{slug}", self.text.site)
                }),
                _ => (format!("widget_title_{id}"), self.text.title()),
            };
            w.row().num(id).num(entity).str(&name).str(&value);
            w.push_row()?;
        }
        Ok(())
    }

    /// A menu as JSON, as the menu builder plugin stores it (`json_encode()`: `\/`).
    fn menu_json(&mut self) -> String {
        let mut json = String::from("[");
        for i in 0..self.text.range(2, 6) {
            if i > 0 {
                json.push(',');
            }
            json.push_str("{\"title\":");
            let title = self.text.title();
            json_str(&mut json, &title);
            json.push_str(",\"url\":");
            let mut url = String::new();
            self.text.site_page_url(&mut url);
            json_str(&mut json, &url);
            json.push_str(",\"access_id\":2}");
        }
        json.push(']');
        json
    }

    fn queue<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let object = self.guid_of(EntityKind::Blog);
            let actor = self.guid_of(EntityKind::User);
            let url = self.entity_url(object);
            let time = self.time();
            let class = "Elgg\\Notifications\\SubscriptionNotificationEvent";
            let data = ser(|s| {
                s.object(class, 6)
                    .str("\0*\0action")
                    .str("create")
                    .str("\0*\0object_type")
                    .str("object")
                    .str("\0*\0object_subtype")
                    .str("blog")
                    .str("\0*\0object_id")
                    .int(object as i64)
                    .str("\0*\0actor_guid")
                    .int(actor as i64)
                    .str(&format!("\0{class}\0url"))
                    .str(&url)
                    .end();
            });
            let worker = self.text.chance(0.5).then(|| self.text.hex(32));
            let row = w
                .row()
                .num(id)
                .str("notifications")
                .bin(data.as_bytes())
                .num(time);
            match worker {
                Some(worker) => row.str(&worker),
                None => row.null(),
            };
            w.push_row()?;
        }
        Ok(())
    }

    fn river<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let subject = self.guid_of(EntityKind::User);
            let object = self.guid_of(EntityKind::Blog);
            let posted = self.time();
            let (action, view) = match id % 3 {
                0 => ("create", "river/object/blog/create"),
                1 => ("comment", "river/object/comment/create"),
                _ => ("join", "river/relationship/member/create"),
            };
            w.row()
                .num(id)
                .str(action)
                .str(view)
                .num(subject)
                .num(object)
                .num(0)
                .num(0)
                .num(posted)
                .str("yes");
            w.push_row()?;
        }
        Ok(())
    }

    fn system_log<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let user = self.guid_of(EntityKind::User);
            let time = self.time();
            let t = &mut self.text;
            let (class, type_, subtype, event) = match t.range(0, 3) {
                0 => ("ElggUser", "user", "user", "login:after"),
                1 => ("ElggBlog", "object", "blog", "create"),
                _ => ("ElggMetadata", "metadata", "", "update"),
            };
            let ip = t.ip();
            w.row()
                .num(id)
                .num(t.range(1, self.entities + 1))
                .str(class)
                .str(type_)
                .str(subtype)
                .str(event)
                .num(user)
                .num(user)
                .num(2)
                .str("yes")
                .num(time)
                .str(&ip);
            w.push_row()?;
        }
        Ok(())
    }

    fn remember_me<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut n: u64 = 0;
        while w.more() {
            n += 1;
            // Unique codes: the row number in the first hex digits.
            let code = format!("{n:08x}{}", self.text.hex(24));
            let user = self.guid_of(EntityKind::User);
            let time = self.time();
            w.row().str(&code).num(user).num(time);
            w.push_row()?;
        }
        Ok(())
    }

    fn sessions<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut n: u64 = 0;
        while w.more() {
            n += 1;
            let session = format!("{n:08x}{}", self.text.hex(24));
            let ts = self.time();
            let user = self.guid_of(EntityKind::User);
            let guid = self.text.range(2, self.entities + 1);
            let page = self.entity_url(guid);
            let token = self.text.phpass(20);
            let ua = self.text.pick(USER_AGENTS);
            let attributes = ser(|s| {
                s.array(4)
                    .kv("__elgg_session", &token)
                    .ki("guid", user as i64)
                    .kv("last_forward_from", &page)
                    .kv("user_agent", ua)
                    .end();
            });
            let meta = ser(|s| {
                s.array(3)
                    .ki("u", ts as i64)
                    .ki("c", ts as i64 - 60)
                    .ki("l", 0)
                    .end();
            });
            let data = format!("_sf2_attributes|{attributes}_sf2_meta|{meta}");
            w.row().str(&session).num(ts).bin(data.as_bytes());
            w.push_row()?;
        }
        Ok(())
    }
}

/// Plugin settings: a serialized array with URLs on the site, a path on the server, numbers
/// and flags.
fn settings_array(t: &mut Text) -> String {
    let n = t.range(2, 8) as usize;
    let mut urls = Vec::with_capacity(n);
    for _ in 0..n {
        let mut url = String::new();
        t.site_page_url(&mut url);
        urls.push(url);
    }
    let limit = t.range(5, 50) as i64;
    let title = t.title();
    ser(|s| {
        s.array(n + 4);
        for (i, url) in urls.iter().enumerate() {
            s.kv(&format!("link_{i}"), url);
        }
        s.kv("upload_path", "/srv/elgg/data/uploads/")
            .ki("limit", limit)
            .kv("title", &title)
            .str("enabled")
            .bool(true)
            .end();
    })
}
