//! The Drupal 8+ tables (no prefix): schemas as MariaDB 10.11 prints them, and rows shaped
//! like a real site's. Content is in `node_field_data` and the field tables (`node__body`,
//! `node_revision__body`, and with many tables `node__field_*` / `node_revision__field_*`,
//! two per field as Drupal makes them); configuration and state are serialized PHP in
//! BLOB columns (`config.data`, `key_value.value`), as are the caches (`cache_*`), the
//! sessions and the log's variables (`watchdog`).

use std::borrow::Cow;
use std::io::{self, Write};

use crate::dump::{DumpWriter, GENERAL_TABLE_OPTIONS};
use crate::text::{ser, slugify, Text};
use crate::{Content, Settings, Spec};

const CACHE: &str =
    "  `cid` varchar(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  `data` longblob DEFAULT NULL,
  `expire` int(11) NOT NULL DEFAULT 0,
  `created` decimal(14,3) NOT NULL DEFAULT 0.000,
  `serialized` smallint(6) NOT NULL DEFAULT 0,
  `tags` longtext DEFAULT NULL,
  `checksum` varchar(255) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  PRIMARY KEY (`cid`),
  KEY `expire` (`expire`),
  KEY `created` (`created`)";

const CONFIG: &str =
    "  `collection` varchar(255) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `name` varchar(255) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `data` longblob DEFAULT NULL,
  PRIMARY KEY (`collection`,`name`)";

const FILE_MANAGED: &str = "  `fid` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `uuid` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `langcode` varchar(12) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `uid` int(10) unsigned DEFAULT NULL,
  `filename` varchar(255) DEFAULT NULL,
  `uri` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `filemime` varchar(255) CHARACTER SET ascii COLLATE ascii_general_ci DEFAULT NULL,
  `filesize` bigint(20) unsigned DEFAULT NULL,
  `status` tinyint(4) NOT NULL,
  `created` int(11) DEFAULT NULL,
  `changed` int(11) NOT NULL,
  PRIMARY KEY (`fid`),
  UNIQUE KEY `file_field__uuid__value` (`uuid`),
  KEY `file_field__uid__target_id` (`uid`),
  KEY `file_field__uri` (`uri`(191))";

const KEY_VALUE: &str =
    "  `collection` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `name` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `value` longblob NOT NULL,
  PRIMARY KEY (`collection`,`name`)";

const KEY_VALUE_EXPIRE: &str =
    "  `collection` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `name` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `value` longblob NOT NULL,
  `expire` int(11) NOT NULL DEFAULT 2147483647,
  PRIMARY KEY (`collection`,`name`),
  KEY `all` (`name`,`collection`,`expire`),
  KEY `expire` (`expire`)";

const NODE: &str = "  `nid` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `vid` int(10) unsigned DEFAULT NULL,
  `type` varchar(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `uuid` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `langcode` varchar(12) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  PRIMARY KEY (`nid`),
  UNIQUE KEY `node_field__uuid__value` (`uuid`),
  UNIQUE KEY `node__vid` (`vid`),
  KEY `node_field__type__target_id` (`type`)";

const NODE_FIELD_DATA: &str = "  `nid` int(10) unsigned NOT NULL,
  `vid` int(10) unsigned NOT NULL,
  `type` varchar(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `langcode` varchar(12) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `status` tinyint(4) NOT NULL,
  `uid` int(10) unsigned NOT NULL,
  `title` varchar(255) NOT NULL,
  `created` int(11) NOT NULL,
  `changed` int(11) NOT NULL,
  `promote` tinyint(4) NOT NULL,
  `sticky` tinyint(4) NOT NULL,
  `default_langcode` tinyint(4) NOT NULL,
  `revision_translation_affected` tinyint(4) DEFAULT NULL,
  PRIMARY KEY (`nid`,`langcode`),
  KEY `node__id__default_langcode__langcode` (`nid`,`default_langcode`,`langcode`),
  KEY `node__vid` (`vid`),
  KEY `node_field__type__target_id` (`type`),
  KEY `node_field__uid__target_id` (`uid`)";

const SESSIONS: &str = "  `uid` int(10) unsigned NOT NULL,
  `sid` varchar(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `hostname` varchar(128) NOT NULL DEFAULT '',
  `timestamp` bigint(20) NOT NULL DEFAULT 0,
  `session` longblob DEFAULT NULL,
  PRIMARY KEY (`sid`),
  KEY `timestamp` (`timestamp`),
  KEY `uid` (`uid`)";

const USER_ROLES: &str =
    "  `bundle` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `deleted` tinyint(4) NOT NULL DEFAULT 0,
  `entity_id` int(10) unsigned NOT NULL,
  `revision_id` int(10) unsigned NOT NULL,
  `langcode` varchar(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `delta` int(10) unsigned NOT NULL,
  `roles_target_id` varchar(255) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  PRIMARY KEY (`entity_id`,`deleted`,`delta`,`langcode`),
  KEY `bundle` (`bundle`),
  KEY `revision_id` (`revision_id`),
  KEY `roles_target_id` (`roles_target_id`)";

const USERS: &str = "  `uid` int(10) unsigned NOT NULL,
  `uuid` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `langcode` varchar(12) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  PRIMARY KEY (`uid`),
  UNIQUE KEY `user_field__uuid__value` (`uuid`)";

const USERS_FIELD_DATA: &str = "  `uid` int(10) unsigned NOT NULL,
  `langcode` varchar(12) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  `preferred_langcode` varchar(12) CHARACTER SET ascii COLLATE ascii_general_ci DEFAULT NULL,
  `preferred_admin_langcode` varchar(12) CHARACTER SET ascii COLLATE ascii_general_ci DEFAULT NULL,
  `name` varchar(60) NOT NULL,
  `pass` varchar(255) DEFAULT NULL,
  `mail` varchar(254) DEFAULT NULL,
  `timezone` varchar(32) DEFAULT NULL,
  `status` tinyint(4) DEFAULT NULL,
  `created` int(11) NOT NULL,
  `changed` int(11) DEFAULT NULL,
  `access` int(11) NOT NULL,
  `login` int(11) DEFAULT NULL,
  `init` varchar(254) DEFAULT NULL,
  `default_langcode` tinyint(4) NOT NULL,
  PRIMARY KEY (`uid`,`langcode`),
  UNIQUE KEY `user__name` (`name`,`langcode`),
  KEY `user__id__default_langcode__langcode` (`uid`,`default_langcode`,`langcode`),
  KEY `user_field__mail` (`mail`(191)),
  KEY `user_field__created` (`created`),
  KEY `user_field__access` (`access`),
  KEY `user_field__login` (`login`)";

const WATCHDOG: &str = "  `wid` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `uid` int(10) unsigned NOT NULL DEFAULT 0,
  `type` varchar(64) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `message` longtext NOT NULL,
  `variables` longblob NOT NULL,
  `severity` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `link` text DEFAULT NULL,
  `location` text NOT NULL,
  `referer` text DEFAULT NULL,
  `hostname` varchar(128) NOT NULL DEFAULT '',
  `timestamp` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`wid`),
  KEY `type` (`type`),
  KEY `uid` (`uid`),
  KEY `severity` (`severity`)";

/// A field table of nodes (`node__NAME`) or of their revisions (`node_revision__NAME`),
/// with the columns of a formatted long text field, as Drupal's SQL storage makes them.
fn field_table(field: &str, revision: bool) -> String {
    let key = if revision {
        "`entity_id`,`revision_id`,`deleted`,`delta`,`langcode`"
    } else {
        "`entity_id`,`deleted`,`delta`,`langcode`"
    };
    format!(
        "  `bundle` varchar(128) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `deleted` tinyint(4) NOT NULL DEFAULT 0,
  `entity_id` int(10) unsigned NOT NULL,
  `revision_id` int(10) unsigned NOT NULL,
  `langcode` varchar(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
  `delta` int(10) unsigned NOT NULL,
  `{field}_value` longtext NOT NULL,
  `{field}_summary` longtext DEFAULT NULL,
  `{field}_format` varchar(255) CHARACTER SET ascii COLLATE ascii_general_ci DEFAULT NULL,
  PRIMARY KEY ({key}),
  KEY `bundle` (`bundle`),
  KEY `revision_id` (`revision_id`),
  KEY `{field}_format` (`{field}_format`)"
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Cache(CacheBin),
    Config,
    FileManaged,
    KeyValue,
    KeyValueExpire,
    Node,
    /// The body field (`None`) or another field (its number), of nodes or their revisions.
    Field {
        field: Option<u32>,
        revision: bool,
    },
    NodeFieldData,
    Sessions,
    UserRoles,
    Users,
    UsersFieldData,
    Watchdog,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheBin {
    Bootstrap,
    Config,
    Data,
    Render,
}

/// Average bytes of a node's body and its revision, to size the node range.
const AVG_NODE: f64 = 4000.0;

pub(crate) fn plan(settings: &Settings) -> Vec<Spec<Table>> {
    let dense = settings.dense;
    let spec = |name: &str, kind, schema: Cow<'static, str>, share: f64, max_rows| Spec {
        name: name.to_owned(),
        kind,
        schema,
        options: GENERAL_TABLE_OPTIONS,
        share,
        max_rows,
    };
    let b = Cow::Borrowed;
    let (content, settings_share) = if dense { (0.3, 3.0) } else { (1.0, 1.0) };
    let blob = if settings.hex_blob { 2.0 } else { 1.0 };
    let mut specs = vec![
        spec(
            "cache_bootstrap",
            Table::Cache(CacheBin::Bootstrap),
            b(CACHE),
            0.01 * blob,
            300,
        ),
        spec(
            "cache_config",
            Table::Cache(CacheBin::Config),
            b(CACHE),
            0.03 * blob * settings_share,
            u64::MAX,
        ),
        spec(
            "cache_data",
            Table::Cache(CacheBin::Data),
            b(CACHE),
            0.03 * blob * settings_share,
            u64::MAX,
        ),
        spec(
            "cache_render",
            Table::Cache(CacheBin::Render),
            b(CACHE),
            0.08 * blob,
            u64::MAX,
        ),
        spec(
            "config",
            Table::Config,
            b(CONFIG),
            0.03 * settings_share,
            u64::MAX,
        ),
        spec(
            "file_managed",
            Table::FileManaged,
            b(FILE_MANAGED),
            0.02,
            u64::MAX,
        ),
        spec(
            "key_value",
            Table::KeyValue,
            b(KEY_VALUE),
            0.03 * settings_share,
            u64::MAX,
        ),
        spec(
            "key_value_expire",
            Table::KeyValueExpire,
            b(KEY_VALUE_EXPIRE),
            0.01,
            u64::MAX,
        ),
        spec("node", Table::Node, b(NODE), 0.02 * content, u64::MAX),
        spec(
            "node__body",
            Table::Field {
                field: None,
                revision: false,
            },
            Cow::Owned(field_table("body", false)),
            0.30 * content,
            u64::MAX,
        ),
        spec(
            "node_field_data",
            Table::NodeFieldData,
            b(NODE_FIELD_DATA),
            0.04 * content,
            u64::MAX,
        ),
        spec(
            "node_revision__body",
            Table::Field {
                field: None,
                revision: true,
            },
            Cow::Owned(field_table("body", true)),
            0.20 * content,
            u64::MAX,
        ),
        spec(
            "sessions",
            Table::Sessions,
            b(SESSIONS),
            0.02 * blob,
            u64::MAX,
        ),
        spec(
            "user__roles",
            Table::UserRoles,
            b(USER_ROLES),
            0.002,
            u64::MAX,
        ),
        spec("users", Table::Users, b(USERS), 0.005, u64::MAX),
        spec(
            "users_field_data",
            Table::UsersFieldData,
            b(USERS_FIELD_DATA),
            0.02,
            u64::MAX,
        ),
        spec("watchdog", Table::Watchdog, b(WATCHDOG), 0.08, u64::MAX),
    ];
    if let Some(n) = settings.tables {
        let fields = (n.saturating_sub(specs.len() as u64) / 2).max(1) as u32;
        // The field tables share what the core's content tables would have had.
        let share = 0.3 / f64::from(fields);
        for f in 1..=fields {
            let name = format!("field_x{f}");
            for revision in [false, true] {
                let table = if revision {
                    format!("node_revision__{name}")
                } else {
                    format!("node__{name}")
                };
                specs.push(spec(
                    &table,
                    Table::Field {
                        field: Some(f),
                        revision,
                    },
                    Cow::Owned(field_table(&name, revision)),
                    share / 2.0,
                    u64::MAX,
                ));
            }
        }
    }
    specs
}

pub struct Site {
    text: Text,
    nodes: u64,
    users: u64,
}

impl Site {
    pub fn new(text: Text, settings: &Settings) -> Site {
        let size = settings.size as f64;
        Site {
            text,
            nodes: ((size * 0.5 / AVG_NODE) as u64).max(10),
            users: ((size * 0.02 / 400.0) as u64).max(3),
        }
    }

    fn uuid(&mut self) -> String {
        let h = self.text.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..]
        )
    }

    fn time(&mut self) -> u64 {
        self.text.range(1_500_000_000, 1_736_000_000)
    }

    /// A serialized configuration object, as `config.data` holds it: site mail and name,
    /// URLs, a path on the server, nested settings.
    fn config_data(&mut self, name: &str) -> String {
        let uuid = self.uuid();
        let t = &mut self.text;
        let n = t.range(2, 8) as usize;
        let mut urls = Vec::with_capacity(n);
        for _ in 0..n {
            let mut url = String::new();
            t.site_page_url(&mut url);
            urls.push(url);
        }
        let label = t.title();
        let (first, last) = (slugify(t.first_name()), slugify(t.last_name()));
        let mail = format!("{first}.{last}@people.example.org");
        // Where system.site, update.settings and contact forms keep addresses: the pack's
        // masks look for them there.
        ser(|s| {
            s.array(9)
                .kv("mail", &mail)
                .str("recipients")
                .array(1)
                .int(0)
                .str(&mail)
                .end()
                .str("notification")
                .array(1)
                .str("emails")
                .array(1)
                .int(0)
                .str(&mail)
                .end()
                .end()
                .kv("uuid", &uuid)
                .kv("langcode", "de")
                .kv("id", name)
                .kv("label", &label)
                .str("settings")
                .array(n + 2);
            for (i, url) in urls.iter().enumerate() {
                s.kv(&format!("url_{i}"), url);
            }
            s.kv("file_path", "/var/www/drupal/web/sites/default/files")
                .kv("mail", "webmaster@people.example.org")
                .end()
                .str("dependencies")
                .array(1)
                .str("module")
                .array(2)
                .int(0)
                .str("node")
                .int(1)
                .str("text")
                .end()
                .end()
                .end();
        })
    }

    /// HTML of about `len` bytes with links and images on the site.
    fn body(&mut self, len: usize) -> String {
        let mut html = String::new();
        self.text.post_html(&mut html, len);
        html.replace("/wp-content/uploads/", "/sites/default/files/")
    }
}

impl Content for Site {
    type Kind = Table;

    fn fill<W: Write>(&mut self, table: Table, w: &mut DumpWriter<W>) -> io::Result<()> {
        match table {
            Table::Cache(bin) => self.cache(bin, w),
            Table::Config => self.config(w),
            Table::FileManaged => self.file_managed(w),
            Table::KeyValue => self.key_value(w, false),
            Table::KeyValueExpire => self.key_value(w, true),
            Table::Node => self.node(w),
            Table::Field { field, revision } => self.field(field, revision, w),
            Table::NodeFieldData => self.node_field_data(w),
            Table::Sessions => self.sessions(w),
            Table::UserRoles => self.user_roles(w),
            Table::Users => self.users_table(w),
            Table::UsersFieldData => self.users_field_data(w),
            Table::Watchdog => self.watchdog(w),
        }
    }
}

impl Site {
    /// Keys (`cid`, `name`) carry the row number, zero-padded: the primary key orders the
    /// rows, and mariadb-dump writes them in its order.
    fn cache<W: Write>(&mut self, bin: CacheBin, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut n: u64 = 0;
        while w.more() {
            n += 1;
            let created = self.time();
            let (cid, data, tags) = match bin {
                CacheBin::Render => {
                    let node = self.text.range(1, self.nodes + 1);
                    let len = 500 + self.text.range(0, 3000) as usize;
                    let html = self.body(len);
                    let data = ser(|s| {
                        s.array(3)
                            .kv("#markup", &html)
                            .str("#attached")
                            .array(1)
                            .str("library")
                            .array(1)
                            .int(0)
                            .str("core/drupal")
                            .end()
                            .end()
                            .str("#cache")
                            .array(2)
                            .str("contexts")
                            .array(1)
                            .int(0)
                            .str("languages:language_interface")
                            .end()
                            .ki("max-age", -1)
                            .end()
                            .end();
                    });
                    (
                        format!("entity_view:node:{n:06}:full:[languages:language_interface]=de"),
                        data,
                        format!("node:{node} node_view rendered"),
                    )
                }
                _ => {
                    let name = format!("module_{n:06}.settings");
                    let data = self.config_data(&name);
                    (
                        format!("config:{name}"),
                        data,
                        "config:system.site".to_owned(),
                    )
                }
            };
            let checksum = self.text.range(0, 500);
            w.row()
                .str(&cid)
                .bin(data.as_bytes())
                .num(-1)
                .num(format!("{created}.{:03}", n % 1000))
                .num(1)
                .str(&tags)
                .str(&checksum.to_string());
            w.push_row()?;
        }
        Ok(())
    }

    fn config<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        const CORE: &[&str] = &[
            "contact.form.feedback",
            "core.extension",
            "system.date",
            "system.file",
            "system.mail",
            "system.performance",
            "system.site",
            "update.settings",
            "user.settings",
        ];
        let mut n = 0;
        while w.more() {
            n += 1;
            let name = match CORE.get(n - 1) {
                Some(name) => (*name).to_owned(),
                // After the core's names, in order.
                None => format!("views.view.content_{n:06}"),
            };
            let data = self.config_data(&name);
            w.row().str("").str(&name).bin(data.as_bytes());
            w.push_row()?;
        }
        Ok(())
    }

    fn file_managed<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut fid = 0;
        while w.more() {
            fid += 1;
            let uuid = self.uuid();
            let (_, file) = self.text.upload("jpg");
            let name = file.rsplit('/').next().unwrap_or(&file).to_owned();
            let uid = self.text.range(1, self.users + 1);
            let created = self.time();
            let t = &mut self.text;
            w.row()
                .num(fid)
                .str(&uuid)
                .str("de")
                .num(uid)
                .str(&name)
                .str(&format!("public://{file}"))
                .str("image/jpeg")
                .num(t.range(10_000, 5_000_000))
                .num(1)
                .num(created)
                .num(created + 60);
            w.push_row()?;
        }
        Ok(())
    }

    fn key_value<W: Write>(&mut self, w: &mut DumpWriter<W>, expire: bool) -> io::Result<()> {
        let mut n = 0;
        while w.more() {
            n += 1;
            let t = &mut self.text;
            // Collections in order, names in order within each.
            let (collection, name, value) = match (expire, n) {
                (true, _) => (
                    "form",
                    format!("form-{n:08x}{}", t.hex(32)),
                    ser(|s| {
                        s.array(2)
                            .kv("build_info", "node_article_edit_form")
                            .kv("url", "https://www.example.com/node/1/edit")
                            .end();
                    }),
                ),
                (false, 0..=40) => {
                    let name = format!("node.field_storage_definitions.{n:03}");
                    let value = self.config_data(&name);
                    ("entity.definitions.installed", name, value)
                }
                (false, 41..=60) => (
                    "post_update",
                    format!("existing_updates.{n:03}"),
                    format!("i:{};", 8000 + t.range(0, 999)),
                ),
                (false, _) if n % 2 == 0 => {
                    let name = format!("system.{n:08}.settings");
                    let value = self.config_data(&name);
                    ("state", name, value)
                }
                _ => (
                    "state",
                    format!("system.{n:08}.key"),
                    ser(|s| {
                        s.str(&t.phpass(43));
                    }),
                ),
            };
            let row = w.row().str(collection).str(&name).bin(value.as_bytes());
            if expire {
                row.num(1_736_000_000 + n);
            }
            w.push_row()?;
        }
        Ok(())
    }

    fn node<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut nid = 0;
        while w.more() {
            nid += 1;
            let uuid = self.uuid();
            let type_ = if nid % 3 == 0 { "page" } else { "article" };
            w.row().num(nid).num(nid).str(type_).str(&uuid).str("de");
            w.push_row()?;
        }
        Ok(())
    }

    fn node_field_data<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut nid = 0;
        while w.more() {
            nid += 1;
            let title = self.text.title();
            let uid = self.text.range(1, self.users + 1);
            let created = self.time();
            let type_ = if nid % 3 == 0 { "page" } else { "article" };
            w.row()
                .num(nid)
                .num(nid)
                .str(type_)
                .str("de")
                .num(1)
                .num(uid)
                .str(&title)
                .num(created)
                .num(created + 3600)
                .num(u8::from(nid % 5 == 0))
                .num(0)
                .num(1)
                .num(1);
            w.push_row()?;
        }
        Ok(())
    }

    fn field<W: Write>(
        &mut self,
        field: Option<u32>,
        revision: bool,
        w: &mut DumpWriter<W>,
    ) -> io::Result<()> {
        let mut nid = 0;
        // Revisions: the current one, and older ones of every third node.
        let mut revision_id = 0;
        while w.more() {
            nid += 1;
            let len = match field {
                None => 500 + (self.text.range(0, 60) * self.text.range(0, 60)) as usize * 2,
                Some(_) => 100 + self.text.range(0, 600) as usize,
            };
            let value = self.body(len);
            let summary = if self.text.chance(0.2) {
                let mut s = String::new();
                self.text.sentence(&mut s, false);
                Some(s)
            } else {
                None
            };
            let type_ = if nid % 3 == 0 { "page" } else { "article" };
            revision_id += 1;
            if revision && nid % 3 == 0 && w.table_rows().is_multiple_of(2) {
                // An older revision of the previous node: same entity, another revision.
                nid -= 1;
            }
            let row = w
                .row()
                .str(type_)
                .num(0)
                .num(nid)
                .num(revision_id)
                .str("de")
                .num(0)
                .str(&value);
            match summary {
                Some(s) => row.str(&s),
                None => row.null(),
            };
            row.str("basic_html");
            w.push_row()?;
        }
        Ok(())
    }

    fn sessions<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut n: u64 = 0;
        while w.more() {
            n += 1;
            let sid = format!("{n:08x}{}", self.text.phpass(35));
            let uid = self.text.range(0, self.users + 1);
            let ip = self.text.ip();
            let ts = self.time();
            let token = self.text.phpass(43);
            let mut page = String::new();
            self.text.site_page_url(&mut page);
            let attributes = ser(|s| {
                s.array(3)
                    .ki("uid", uid as i64)
                    .kv("csrf_token_seed", &token)
                    .kv("destination", &page)
                    .end();
            });
            let meta = ser(|s| {
                s.array(3)
                    .ki("u", ts as i64)
                    .ki("c", ts as i64 - 60)
                    .ki("l", 2_000_000)
                    .end();
            });
            let data = format!("_sf2_attributes|{attributes}_sf2_meta|{meta}");
            w.row()
                .num(uid)
                .str(&sid)
                .str(&ip)
                .num(ts)
                .bin(data.as_bytes());
            w.push_row()?;
        }
        Ok(())
    }

    fn user_roles<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut uid = 0;
        while w.more() {
            uid += 1;
            let role = if uid == 1 { "administrator" } else { "editor" };
            w.row()
                .str("user")
                .num(0)
                .num(uid)
                .num(uid)
                .str("en")
                .num(0)
                .str(role);
            w.push_row()?;
        }
        Ok(())
    }

    fn users_table<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut uid = 0;
        while w.more() {
            let uuid = self.uuid();
            w.row().num(uid).str(&uuid).str("de");
            w.push_row()?;
            uid += 1;
        }
        Ok(())
    }

    fn users_field_data<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut uid = 0;
        while w.more() {
            let t = &mut self.text;
            let created = t.range(1_500_000_000, 1_736_000_000);
            let row = w.row();
            if uid == 0 {
                // The anonymous user: no name, mail or password.
                row.num(0)
                    .str("de")
                    .str("en")
                    .null()
                    .str("")
                    .null()
                    .null()
                    .null()
                    .num(0)
                    .num(created)
                    .num(created)
                    .num(0)
                    .num(0)
                    .null()
                    .num(1);
            } else {
                let (first, last) = (t.first_name(), t.last_name());
                let name = format!("{}.{}{uid}", slugify(first), slugify(last));
                let mail = format!("{name}@people.example.org");
                let pass = format!("$S$E{}", t.phpass(51));
                row.num(uid)
                    .str("de")
                    .str("de")
                    .null()
                    .str(&name)
                    .str(&pass)
                    .str(&mail)
                    .str("Europe/Berlin")
                    .num(1)
                    .num(created)
                    .num(created + 100)
                    .num(created + 200)
                    .num(created + 200)
                    .str(&mail)
                    .num(1);
            }
            w.push_row()?;
            uid += 1;
        }
        Ok(())
    }

    fn watchdog<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut wid = 0;
        while w.more() {
            wid += 1;
            let uid = self.text.range(0, self.users + 1);
            let ts = self.time();
            let t = &mut self.text;
            let ip = t.ip();
            let mut location = String::new();
            t.site_page_url(&mut location);
            let referer = if t.chance(0.5) { t.external_url() } else { "" };
            let (type_, message, variables) = match t.range(0, 3) {
                0 => {
                    let name = format!("{}.{}", slugify(t.first_name()), slugify(t.last_name()));
                    (
                        "user",
                        "Session opened for %name.",
                        ser(|s| {
                            s.array(1).kv("%name", &name).end();
                        }),
                    )
                }
                1 => (
                    "page not found",
                    "@uri",
                    ser(|s| {
                        s.array(1).kv("@uri", &location).end();
                    }),
                ),
                _ => (
                    "php",
                    "%type: @message in %function (line %line of %file).",
                    ser(|s| {
                        s.array(5)
                            .kv("%type", "Warning")
                            .kv("@message", "Undefined array key \"value\"")
                            .kv("%function", "Drupal\\node\\NodeForm->form()")
                            .kv(
                                "%file",
                                "/var/www/drupal/web/core/modules/node/src/NodeForm.php",
                            )
                            .ki("%line", 120)
                            .end();
                    }),
                ),
            };
            w.row()
                .num(wid)
                .num(uid)
                .str(type_)
                .str(message)
                .bin(variables.as_bytes())
                .num(if type_ == "php" { 4 } else { 5 })
                .str("")
                .str(&location)
                .str(referer)
                .str(&ip)
                .num(ts);
            w.push_row()?;
        }
        Ok(())
    }
}
