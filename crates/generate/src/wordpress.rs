//! The WordPress tables: schemas as MariaDB 10.11 prints them for WordPress 6.x, and rows
//! shaped like a real site's (revisions and attachments outnumber posts; meta values are
//! serialized PHP or Elementor JSON; transients hold serialized objects with protected
//! properties and namespaced class names).

use std::borrow::Cow;
use std::io::{self, Write};

use crate::dump::{DumpWriter, WP_TABLE_OPTIONS};
use crate::text::{format_datetime, ser, slugify, Text, USER_AGENTS};
use crate::{mix, Content, Settings, Spec};

const COMMENTS: &str = "  `comment_ID` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `comment_post_ID` bigint(20) unsigned NOT NULL DEFAULT 0,
  `comment_author` tinytext NOT NULL,
  `comment_author_email` varchar(100) NOT NULL DEFAULT '',
  `comment_author_url` varchar(200) NOT NULL DEFAULT '',
  `comment_author_IP` varchar(100) NOT NULL DEFAULT '',
  `comment_date` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `comment_date_gmt` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `comment_content` text NOT NULL,
  `comment_karma` int(11) NOT NULL DEFAULT 0,
  `comment_approved` varchar(20) NOT NULL DEFAULT '1',
  `comment_agent` varchar(255) NOT NULL DEFAULT '',
  `comment_type` varchar(20) NOT NULL DEFAULT 'comment',
  `comment_parent` bigint(20) unsigned NOT NULL DEFAULT 0,
  `user_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`comment_ID`),
  KEY `comment_post_ID` (`comment_post_ID`),
  KEY `comment_approved_date_gmt` (`comment_approved`,`comment_date_gmt`),
  KEY `comment_date_gmt` (`comment_date_gmt`),
  KEY `comment_parent` (`comment_parent`),
  KEY `comment_author_email` (`comment_author_email`(10))";

const OPTIONS: &str = "  `option_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `option_name` varchar(191) NOT NULL DEFAULT '',
  `option_value` longtext NOT NULL,
  `autoload` varchar(20) NOT NULL DEFAULT 'yes',
  PRIMARY KEY (`option_id`),
  UNIQUE KEY `option_name` (`option_name`),
  KEY `autoload` (`autoload`)";

const POSTMETA: &str = "  `meta_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `post_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `meta_key` varchar(255) DEFAULT NULL,
  `meta_value` longtext DEFAULT NULL,
  PRIMARY KEY (`meta_id`),
  KEY `post_id` (`post_id`),
  KEY `meta_key` (`meta_key`(191))";

const POSTS: &str = "  `ID` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `post_author` bigint(20) unsigned NOT NULL DEFAULT 0,
  `post_date` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `post_date_gmt` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `post_content` longtext NOT NULL,
  `post_title` text NOT NULL,
  `post_excerpt` text NOT NULL,
  `post_status` varchar(20) NOT NULL DEFAULT 'publish',
  `comment_status` varchar(20) NOT NULL DEFAULT 'open',
  `ping_status` varchar(20) NOT NULL DEFAULT 'open',
  `post_password` varchar(255) NOT NULL DEFAULT '',
  `post_name` varchar(200) NOT NULL DEFAULT '',
  `to_ping` text NOT NULL,
  `pinged` text NOT NULL,
  `post_modified` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `post_modified_gmt` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `post_content_filtered` longtext NOT NULL,
  `post_parent` bigint(20) unsigned NOT NULL DEFAULT 0,
  `guid` varchar(255) NOT NULL DEFAULT '',
  `menu_order` int(11) NOT NULL DEFAULT 0,
  `post_type` varchar(20) NOT NULL DEFAULT 'post',
  `post_mime_type` varchar(100) NOT NULL DEFAULT '',
  `comment_count` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`ID`),
  KEY `post_name` (`post_name`(191)),
  KEY `type_status_date` (`post_type`,`post_status`,`post_date`,`ID`),
  KEY `post_parent` (`post_parent`),
  KEY `post_author` (`post_author`)";

const USERMETA: &str = "  `umeta_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `meta_key` varchar(255) DEFAULT NULL,
  `meta_value` longtext DEFAULT NULL,
  PRIMARY KEY (`umeta_id`),
  KEY `user_id` (`user_id`),
  KEY `meta_key` (`meta_key`(191))";

const USERS: &str = "  `ID` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `user_login` varchar(60) NOT NULL DEFAULT '',
  `user_pass` varchar(255) NOT NULL DEFAULT '',
  `user_nicename` varchar(50) NOT NULL DEFAULT '',
  `user_email` varchar(100) NOT NULL DEFAULT '',
  `user_url` varchar(100) NOT NULL DEFAULT '',
  `user_registered` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `user_activation_key` varchar(255) NOT NULL DEFAULT '',
  `user_status` int(11) NOT NULL DEFAULT 0,
  `display_name` varchar(250) NOT NULL DEFAULT '',
  PRIMARY KEY (`ID`),
  KEY `user_login_key` (`user_login`),
  KEY `user_nicename` (`user_nicename`),
  KEY `user_email` (`user_email`)";

const COMMENTMETA: &str = "  `meta_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `comment_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `meta_key` varchar(255) DEFAULT NULL,
  `meta_value` longtext DEFAULT NULL,
  PRIMARY KEY (`meta_id`),
  KEY `comment_id` (`comment_id`),
  KEY `meta_key` (`meta_key`(191))";

const LINKS: &str = "  `link_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `link_url` varchar(255) NOT NULL DEFAULT '',
  `link_name` varchar(255) NOT NULL DEFAULT '',
  `link_image` varchar(255) NOT NULL DEFAULT '',
  `link_target` varchar(25) NOT NULL DEFAULT '',
  `link_description` varchar(255) NOT NULL DEFAULT '',
  `link_visible` varchar(20) NOT NULL DEFAULT 'Y',
  `link_owner` bigint(20) unsigned NOT NULL DEFAULT 1,
  `link_rating` int(11) NOT NULL DEFAULT 0,
  `link_updated` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `link_rel` varchar(255) NOT NULL DEFAULT '',
  `link_notes` mediumtext NOT NULL,
  `link_rss` varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (`link_id`),
  KEY `link_visible` (`link_visible`)";

const TERM_RELATIONSHIPS: &str = "  `object_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `term_taxonomy_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `term_order` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`object_id`,`term_taxonomy_id`),
  KEY `term_taxonomy_id` (`term_taxonomy_id`)";

const TERM_TAXONOMY: &str = "  `term_taxonomy_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `term_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `taxonomy` varchar(32) NOT NULL DEFAULT '',
  `description` longtext NOT NULL,
  `parent` bigint(20) unsigned NOT NULL DEFAULT 0,
  `count` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`term_taxonomy_id`),
  UNIQUE KEY `term_id_taxonomy` (`term_id`,`taxonomy`),
  KEY `taxonomy` (`taxonomy`)";

const TERMMETA: &str = "  `meta_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `term_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `meta_key` varchar(255) DEFAULT NULL,
  `meta_value` longtext DEFAULT NULL,
  PRIMARY KEY (`meta_id`),
  KEY `term_id` (`term_id`),
  KEY `meta_key` (`meta_key`(191))";

const TERMS: &str = "  `term_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(200) NOT NULL DEFAULT '',
  `slug` varchar(200) NOT NULL DEFAULT '',
  `term_group` bigint(10) NOT NULL DEFAULT 0,
  PRIMARY KEY (`term_id`),
  KEY `slug` (`slug`(191)),
  KEY `name` (`name`(191))";

const BLOGS: &str = "  `blog_id` bigint(20) NOT NULL AUTO_INCREMENT,
  `site_id` bigint(20) NOT NULL DEFAULT 0,
  `domain` varchar(200) NOT NULL DEFAULT '',
  `path` varchar(100) NOT NULL DEFAULT '',
  `registered` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `last_updated` datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  `public` tinyint(2) NOT NULL DEFAULT 1,
  `archived` tinyint(2) NOT NULL DEFAULT 0,
  `mature` tinyint(2) NOT NULL DEFAULT 0,
  `spam` tinyint(2) NOT NULL DEFAULT 0,
  `deleted` tinyint(2) NOT NULL DEFAULT 0,
  `lang_id` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`blog_id`),
  KEY `domain` (`domain`(50),`path`(5)),
  KEY `lang_id` (`lang_id`)";

const BLOGMETA: &str = "  `meta_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `blog_id` bigint(20) NOT NULL DEFAULT 0,
  `meta_key` varchar(255) DEFAULT NULL,
  `meta_value` longtext DEFAULT NULL,
  PRIMARY KEY (`meta_id`),
  KEY `meta_key` (`meta_key`(191)),
  KEY `blog_id` (`blog_id`)";

const SITE: &str = "  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `domain` varchar(200) NOT NULL DEFAULT '',
  `path` varchar(100) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  KEY `domain` (`domain`(140),`path`(51))";

const SITEMETA: &str = "  `meta_id` bigint(20) NOT NULL AUTO_INCREMENT,
  `site_id` bigint(20) NOT NULL DEFAULT 0,
  `meta_key` varchar(255) DEFAULT NULL,
  `meta_value` longtext DEFAULT NULL,
  PRIMARY KEY (`meta_id`),
  KEY `meta_key` (`meta_key`(191)),
  KEY `site_id` (`site_id`)";

// Wordfence's tables: a security plugin on many sites, and where a WordPress dump has
// binary columns (IP addresses as BINARY(16), settings as LONGBLOB).
const WFCONFIG: &str = "  `name` varchar(100) NOT NULL,
  `val` longblob DEFAULT NULL,
  `autoload` enum('no','yes') NOT NULL DEFAULT 'yes',
  PRIMARY KEY (`name`)";

const WFHITS: &str = "  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `ctime` int(10) unsigned NOT NULL,
  `IP` binary(16) DEFAULT NULL,
  `statusCode` int(11) NOT NULL DEFAULT 200,
  `userID` int(10) unsigned NOT NULL,
  `URL` text DEFAULT NULL,
  `referer` text DEFAULT NULL,
  `UA` text DEFAULT NULL,
  `action` varchar(64) NOT NULL DEFAULT '',
  `actionData` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `k1` (`ctime`),
  KEY `k2` (`IP`,`ctime`)";

const WFLOGINS: &str = "  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `hitID` int(11) DEFAULT NULL,
  `ctime` int(10) unsigned NOT NULL,
  `fail` tinyint(3) unsigned NOT NULL,
  `action` varchar(40) NOT NULL,
  `username` varchar(255) NOT NULL,
  `userID` int(10) unsigned NOT NULL,
  `IP` binary(16) DEFAULT NULL,
  `UA` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `k1` (`IP`,`fail`),
  KEY `hitID` (`hitID`)";

/// The tables, what fills them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    CommentMeta,
    Comments,
    Links,
    Options,
    PostMeta,
    Posts,
    TermRelationships,
    TermTaxonomy,
    TermMeta,
    Terms,
    UserMeta,
    Users,
    Blogs,
    BlogMeta,
    Site,
    SiteMeta,
    WfConfig,
    WfHits,
    WfLogins,
}

/// A table of one site (`blog` 1 is the main site, `wp_*`; others `wp_N_*`) or of the
/// network.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    table: Table,
    blog: u64,
}

/// A site's own tables: name, schema, share of the site's bytes, most rows (for the main
/// site, and for the sites of a network, which are young and small: one term, no links).
#[rustfmt::skip]
const SITE_TABLES: &[(&str, Table, &str, f64, u64, u64)] = &[
    ("commentmeta", Table::CommentMeta, COMMENTMETA, 0.004, u64::MAX, 0),
    ("comments", Table::Comments, COMMENTS, 0.08, u64::MAX, 3),
    ("links", Table::Links, LINKS, 0.0005, 4, 2),
    ("options", Table::Options, OPTIONS, 0.06, u64::MAX, u64::MAX),
    ("postmeta", Table::PostMeta, POSTMETA, 0.28, u64::MAX, u64::MAX),
    ("posts", Table::Posts, POSTS, 0.52, u64::MAX, u64::MAX),
    ("term_relationships", Table::TermRelationships, TERM_RELATIONSHIPS, 0.003, 400, 40),
    ("term_taxonomy", Table::TermTaxonomy, TERM_TAXONOMY, 0.002, 400, 1),
    ("termmeta", Table::TermMeta, TERMMETA, 0.001, 200, 0),
    ("terms", Table::Terms, TERMS, 0.002, 400, 1),
];

/// Average generated row sizes, to size id ranges so that meta and comments point at posts
/// and users that exist.
const AVG_POST_ROW: f64 = 3000.0;
const AVG_USER_ROW: f64 = 330.0;

/// The tables of a dump with these settings, with their shares.
pub(crate) fn plan(settings: &Settings) -> Vec<Spec<Kind>> {
    let mut specs = Vec::new();
    let spec =
        |name: String, table: Table, blog: u64, schema: &'static str, share, max_rows| Spec {
            name,
            kind: Kind { table, blog },
            schema: Cow::Borrowed(schema),
            options: WP_TABLE_OPTIONS,
            share,
            max_rows,
        };
    let sites = sites(settings);
    let dense = settings.dense;
    let site_share = if dense { 0.85 } else { 0.93 };
    let (network, hex) = (sites > 1, settings.hex_blob);
    // The users (of the network, or of the one site), a network's own tables, and
    // Wordfence's, where the binary columns are: name, what fills it, schema, share, most
    // rows, whether the dump has it.
    #[rustfmt::skip]
    let global = [
        ("wp_usermeta", Table::UserMeta, USERMETA, if dense { 0.004 } else { 0.045 }, u64::MAX, true),
        ("wp_users", Table::Users, USERS, if dense { 0.004 } else { 0.015 }, u64::MAX, true),
        ("wp_blogs", Table::Blogs, BLOGS, 0.0005, sites, network),
        ("wp_blogmeta", Table::BlogMeta, BLOGMETA, 0.0005, 2 * sites, network),
        ("wp_site", Table::Site, SITE, 0.00001, 1, network),
        ("wp_sitemeta", Table::SiteMeta, SITEMETA, 0.004, 120, network),
        ("wp_wfconfig", Table::WfConfig, WFCONFIG, 0.01, 400, hex),
        ("wp_wfhits", Table::WfHits, WFHITS, 0.08, u64::MAX, hex),
        ("wp_wflogins", Table::WfLogins, WFLOGINS, 0.02, u64::MAX, hex),
    ];
    for (name, table, schema, share, max_rows, present) in global {
        if present {
            specs.push(spec(name.to_owned(), table, 1, schema, share, max_rows));
        }
    }
    for blog in 1..=sites {
        let prefix = prefix(blog);
        for &(name, table, schema, share, main_max, sub_max) in SITE_TABLES {
            let mut share = site_share * share / sites as f64;
            if dense {
                share *= match table {
                    Table::Options => 7.0,
                    Table::PostMeta => 1.1,
                    Table::Posts => 0.3,
                    Table::Comments => 0.3,
                    _ => 1.0,
                };
            }
            // Sites alternate between one link and none: one-row INSERTs and empty tables.
            let max_rows = match (blog, table) {
                (1, _) => main_max,
                (_, Table::Links) => blog % sub_max,
                _ => sub_max,
            };
            specs.push(spec(
                format!("{prefix}{name}"),
                table,
                blog,
                schema,
                share,
                max_rows,
            ));
        }
    }
    specs
}

/// Sites of the dump: one, or a network of them when many tables are asked for (the
/// network's own tables plus ten per site).
fn sites(settings: &Settings) -> u64 {
    match settings.tables {
        Some(n) => (n.saturating_sub(6) / SITE_TABLES.len() as u64).max(2),
        None => 1,
    }
}

fn prefix(blog: u64) -> String {
    if blog == 1 {
        "wp_".to_owned()
    } else {
        format!("wp_{blog}_")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PostKind {
    Post,
    Page,
    Revision,
    Attachment,
    NavMenuItem,
    Block,
}

pub struct Site {
    text: Text,
    seed: u64,
    /// Posts of the site being written, and of the main site and the others.
    posts: u64,
    main_posts: u64,
    site_posts: u64,
    users: u64,
    authors: u64,
    /// Sites of the network (1: a single site).
    sites: u64,
    /// The site being written.
    blog: u64,
    /// Serialized-dense content.
    dense: bool,
    /// Counter for unique transient names.
    transient: u64,
}

impl Site {
    pub fn new(text: Text, settings: &Settings, specs: &[Spec<Kind>]) -> Site {
        let size = settings.size as f64;
        let total: f64 = specs
            .iter()
            .map(|s| s.share)
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        let share = |table: Table, blog: u64| {
            specs
                .iter()
                .find(|s| s.kind.table == table && s.kind.blog == blog)
                .map_or(0.0, |s| s.share / total)
        };
        let posts = |blog| ((size * share(Table::Posts, blog) / AVG_POST_ROW) as u64).max(1);
        let users = ((size * share(Table::Users, 1) / AVG_USER_ROW) as u64).max(1);
        let sites = sites(settings);
        Site {
            text,
            seed: settings.seed,
            posts: posts(1),
            main_posts: posts(1),
            site_posts: posts(2.min(sites)),
            users,
            authors: users.min(8),
            sites,
            blog: 1,
            dense: settings.dense,
            transient: 0,
        }
    }

    /// The home URL of the site being written: a network's sites are in subdirectories.
    fn home(&self) -> String {
        if self.blog == 1 {
            self.text.site.to_owned()
        } else {
            format!("{}/site{}", self.text.site, self.blog)
        }
    }

    /// The kind of post `id` is, the same in wp_posts and wp_postmeta.
    fn kind(&self, id: u64) -> PostKind {
        let seed = self.seed
            ^ self
                .blog
                .wrapping_mul(0x2545_f491_4f6c_dd1d)
                .wrapping_sub(0x2545_f491_4f6c_dd1d);
        match mix(seed, id) % 100 {
            0..=44 => PostKind::Revision,
            45..=67 => PostKind::Attachment,
            68..=82 => PostKind::Post,
            83..=88 => PostKind::Page,
            89..=95 => PostKind::NavMenuItem,
            _ => PostKind::Block,
        }
    }

    fn date_pair(&mut self) -> (String, String) {
        let t = self.text.datetime();
        let offset = if self.text.chance(0.5) { 3600 } else { 7200 };
        (format_datetime(t + offset), format_datetime(t))
    }

    // ---- wp_comments -----------------------------------------------------------------------

    fn comments<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let t = &mut self.text;
            let post = t.range(1, self.posts + 1);
            let pingback = t.chance(0.05);
            let (first, last) = (t.first_name(), t.last_name());
            let author = format!("{first} {last}");
            let email = format!(
                "{}.{}@{}",
                slugify(first),
                slugify(last),
                t.pick(&["members.example.org", "mail.example.net", "example.org"])
            );
            let url = if pingback {
                format!("https://blog.example.net/{}/", t.slug())
            } else if t.chance(0.35) {
                format!("https://{}-{}.example.net/", slugify(first), slugify(last))
            } else {
                String::new()
            };
            let ip = t.ip();
            let mut content = String::new();
            if pingback {
                content.push_str("[&#8230;] ");
                t.sentence(&mut content, false);
                content.push_str(" [&#8230;]");
            } else {
                for p in 0..t.range(1, 4) {
                    if p > 0 {
                        content.push_str("\n\n");
                    }
                    for _ in 0..t.range(1, 4) {
                        t.sentence(&mut content, true);
                        content.push(' ');
                    }
                }
            }
            let approved = match t.range(0, 20) {
                0 => "0",
                1..=2 => "spam",
                _ => "1",
            };
            let agent = t.pick(USER_AGENTS);
            let parent = if id > 1 && t.chance(0.2) {
                t.range(1, id)
            } else {
                0
            };
            let user = if t.chance(0.1) {
                t.range(1, self.authors + 1)
            } else {
                0
            };
            let (date, gmt) = self.date_pair();
            w.row()
                .num(id)
                .num(post)
                .str(&author)
                .str(&email)
                .str(&url)
                .str(&ip)
                .str(&date)
                .str(&gmt)
                .str(&content)
                .num(0)
                .str(approved)
                .str(agent)
                .str(if pingback { "pingback" } else { "comment" })
                .num(parent)
                .num(user);
            w.push_row()?;
        }
        Ok(())
    }

    // ---- wp_options ------------------------------------------------------------------------

    fn options<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let core = self.core_options();
        let mut id = 0;
        let mut core = core.into_iter();
        while w.more() {
            id += 1;
            let (name, value, autoload) = match core.next() {
                Some(option) => option,
                None => self.generated_option(),
            };
            w.row().num(id).str(&name).str(&value).str(autoload);
            w.push_row()?;
        }
        Ok(())
    }

    fn core_options(&mut self) -> Vec<(String, String, &'static str)> {
        let site = self.text.site;
        let home = self.home();
        let roles_option = format!("{}user_roles", prefix(self.blog));
        let mut v: Vec<(String, String, &'static str)> = Vec::new();
        let mut add = |name: &str, value: String| v.push((name.to_owned(), value, "yes"));
        add("siteurl", home.clone());
        add("home", home);
        add("blogname", "Beispiel-Verein e.V.".to_owned());
        add(
            "blogdescription",
            "Freilichtbühne, Konzerte & \"Sommerfest\"".to_owned(),
        );
        add("users_can_register", "0".to_owned());
        add(
            "admin_email",
            "anna.beispiel@members.example.org".to_owned(),
        );
        add("start_of_week", "1".to_owned());
        add("use_balanceTags", "0".to_owned());
        add("mailserver_url", "mail.example.com".to_owned());
        add("posts_per_page", "10".to_owned());
        add("date_format", "j. F Y".to_owned());
        add("time_format", "G:i".to_owned());
        add(
            "permalink_structure",
            "/%year%/%monthnum%/%postname%/".to_owned(),
        );
        add(
            "upload_path",
            "/srv/www/www.example.com/wp-content/uploads".to_owned(),
        );
        add("upload_url_path", format!("{site}/wp-content/uploads"));
        add("template", "hello-elementor".to_owned());
        add("stylesheet", "hello-elementor-child".to_owned());
        add("WPLANG", "de_DE".to_owned());
        add("timezone_string", "Europe/Berlin".to_owned());
        add("db_version", "57155".to_owned());
        add(
            "active_plugins",
            ser(|s| {
                let plugins = [
                    "elementor/elementor.php",
                    "elementor-pro/elementor-pro.php",
                    "contact-form-7/wp-contact-form-7.php",
                    "wordpress-seo/wp-seo.php",
                    "woocommerce/woocommerce.php",
                    "wp-mail-smtp/wp_mail_smtp.php",
                    "updraftplus/updraftplus.php",
                ];
                s.array(plugins.len());
                for (i, p) in plugins.iter().enumerate() {
                    s.int(i as i64).str(p);
                }
                s.end();
            }),
        );
        add(&roles_option, user_roles());
        add(
            "sidebars_widgets",
            ser(|s| {
                s.array(3)
                    .str("wp_inactive_widgets")
                    .array(0)
                    .end()
                    .str("sidebar-1")
                    .array(3)
                    .int(0)
                    .str("block-2")
                    .int(1)
                    .str("text-3")
                    .int(2)
                    .str("nav_menu-2")
                    .end()
                    .ki("array_version", 3)
                    .end();
            }),
        );
        let mut text_widget = String::from("<p>Besuchen Sie uns: <a href=\"");
        text_widget.push_str(site);
        text_widget.push_str("/kontakt/\">Kontakt</a>\r\nTelefon: 02381 12345</p>");
        add(
            "widget_text",
            ser(|s| {
                s.array(2)
                    .int(3)
                    .array(4)
                    .kv("title", "Über uns")
                    .kv("text", &text_widget)
                    .str("filter")
                    .bool(true)
                    .str("visual")
                    .bool(true)
                    .end()
                    .ki("_multiwidget", 1)
                    .end();
            }),
        );
        add(
            "theme_mods_hello-elementor-child",
            ser(|s| {
                s.array(3)
                    .ki("custom_logo", 42)
                    .str("nav_menu_locations")
                    .array(1)
                    .ki("menu-1", 2)
                    .end()
                    .kv(
                        "header_image",
                        &format!("{site}/wp-content/uploads/2023/03/header.jpg"),
                    )
                    .end();
            }),
        );
        add(
            "elementor_pro_license_key",
            "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6".to_owned(),
        );
        add("rewrite_rules", self.rewrite_rules());
        add("cron", self.cron());
        add("_site_transient_update_plugins", self.update_plugins());
        v
    }

    fn rewrite_rules(&mut self) -> String {
        let bases = [
            "category",
            "tag",
            "type",
            "author",
            "veranstaltungen",
            "product",
            "shop",
            "product-category",
            "product-tag",
            "elementor_library",
            "e-landing-page",
        ];
        let patterns = [
            (
                "/(.+?)/feed/(feed|rdf|rss|rss2|atom)/?$",
                "&feed=$matches[2]",
            ),
            ("/(.+?)/(feed|rdf|rss|rss2|atom)/?$", "&feed=$matches[2]"),
            ("/(.+?)/embed/?$", "&embed=true"),
            ("/(.+?)/page/?([0-9]{1,})/?$", "&paged=$matches[2]"),
            ("/(.+?)/?$", ""),
        ];
        let mut s = String::new();
        let mut ser_ = crate::text::Ser(&mut s);
        ser_.array(bases.len() * patterns.len());
        for b in bases {
            for (p, q) in patterns {
                let key = format!("{b}{p}");
                let value = format!("index.php?{}=$matches[1]{q}", b.replace('-', "_"));
                ser_.kv(&key, &value);
            }
        }
        ser_.end();
        s
    }

    fn cron(&mut self) -> String {
        let hooks = [
            "wp_version_check",
            "wp_update_plugins",
            "wp_update_themes",
            "wp_scheduled_delete",
            "delete_expired_transients",
            "wp_privacy_delete_old_export_files",
            "woocommerce_cleanup_sessions",
            "action_scheduler_run_queue",
            "wpseo-reindex",
        ];
        let mut s = String::new();
        let mut c = crate::text::Ser(&mut s);
        c.array(hooks.len() + 1);
        for (i, hook) in hooks.iter().enumerate() {
            let key = self.text.hex(32);
            c.int(1_736_000_000 + 3600 * i as i64)
                .array(1)
                .str(hook)
                .array(1)
                .str(&key)
                .array(3)
                .kv("schedule", "twicedaily")
                .str("args")
                .array(0)
                .end()
                .ki("interval", 43200)
                .end()
                .end()
                .end();
        }
        c.ki("version", 2).end();
        s
    }

    /// A stdClass as WordPress stores update checks, with plugin URLs.
    fn update_plugins(&mut self) -> String {
        let plugins = [
            "elementor",
            "contact-form-7",
            "wordpress-seo",
            "woocommerce",
        ];
        ser(|s| {
            s.object("stdClass", 3)
                .ki("last_checked", 1_736_001_234)
                .str("response")
                .array(plugins.len());
            for p in plugins {
                s.str(&format!("{p}/{p}.php"))
                    .object("stdClass", 6)
                    .kv("id", &format!("w.org/plugins/{p}"))
                    .kv("slug", p)
                    .kv("new_version", "3.26.4")
                    .kv("url", &format!("https://wordpress.org/plugins/{p}/"))
                    .kv(
                        "package",
                        &format!("https://downloads.wordpress.org/plugin/{p}.3.26.4.zip"),
                    )
                    .str("icons")
                    .array(1)
                    .kv(
                        "1x",
                        &format!("https://ps.w.org/{p}/assets/icon-128x128.png?rev=3005087"),
                    )
                    .end()
                    .end();
            }
            s.end().str("translations").array(0).end().end();
        })
    }

    /// Transients and plugin settings, each name unique.
    fn generated_option(&mut self) -> (String, String, &'static str) {
        self.transient += 1;
        let hash = format!(
            "{:016x}{:016x}",
            mix(self.seed, self.transient),
            self.transient
        );
        let t = &mut self.text;
        // Serialized-dense: no plain timeouts; plugin settings, feeds and objects.
        let roll = match self.dense {
            true if t.chance(0.5) => 99,
            true => t.range(40, 100),
            false => t.range(0, 100),
        };
        match roll {
            0..=39 => (
                format!("_transient_timeout_feed_{hash}"),
                (1_736_000_000 + t.range(0, 86_400 * 30)).to_string(),
                "no",
            ),
            40..=64 => (
                format!("_transient_feed_{hash}"),
                self.feed_transient(),
                "no",
            ),
            65..=79 => (
                format!("_transient_wc_report_{hash}"),
                self.object_transient(),
                "no",
            ),
            80..=84 => {
                // A cache plugin's blob: a string of raw bytes (all ASCII here, so the
                // utf8mb4 column takes it), with NULs, ^Z, quotes and backslashes.
                let blob: String = (0..t.range(50, 400))
                    .map(|_| char::from(t.range(0, 128) as u8))
                    .collect();
                (
                    format!("_transient_cache_{hash}"),
                    ser(|s| {
                        s.array(2)
                            .kv("data", &blob)
                            .ki("expires", 1_736_000_000)
                            .end();
                    }),
                    "no",
                )
            }
            _ => (format!("plugin_{hash}_settings"), plugin_settings(t), "yes"),
        }
    }

    /// A SimplePie feed cache: nested arrays, item HTML, and a namespaced object with a
    /// protected property (`\0*\0data`), as WordPress's dashboard news widget leaves it.
    fn feed_transient(&mut self) -> String {
        let t = &mut self.text;
        let items = t.range(3, 10) as usize;
        let mut value = String::new();
        let mut s = crate::text::Ser(&mut value);
        s.array(4)
            .str("child")
            .array(1)
            .str("")
            .array(1)
            .str("rss")
            .array(1)
            .int(0)
            .array(2);
        s.kv("data", "\n\n\n")
            .str("child")
            .array(1)
            .str("")
            .array(1)
            .str("item")
            .array(items);
        for i in 0..items {
            let mut description = String::from("<p>");
            for _ in 0..t.range(2, 6) {
                t.sentence(&mut description, false);
                description.push(' ');
            }
            description.push_str("</p>");
            let title = t.title();
            let link = format!(
                "https://wordpress.org/news/2024/{:02}/{}/",
                t.range(1, 13),
                t.slug()
            );
            s.int(i as i64)
                .array(1)
                .str("child")
                .array(1)
                .str("")
                .array(3)
                .kv("title", &title)
                .kv("link", &link)
                .kv("description", &description)
                .end()
                .end()
                .end();
        }
        // Close item list, "", child, rss item 0, rss, "", child.
        s.end().end().end().end().end().end().end();
        s.ki("type", 128)
            .str("headers")
            .object("WpOrg\\Requests\\Utility\\CaseInsensitiveDictionary", 1)
            .str("\0*\0data")
            .array(2)
            .kv("content-type", "application/rss+xml; charset=UTF-8")
            .kv("last-modified", "Tue, 14 Jan 2025 10:00:00 GMT")
            .end()
            .end()
            .ki("build", 1_736_000_000)
            .end();
        value
    }

    /// An object with protected and private properties (NUL-wrapped names).
    fn object_transient(&mut self) -> String {
        let t = &mut self.text;
        let rows = t.range(2, 12) as usize;
        let site = t.site;
        ser(|s| {
            s.object("WC_Admin_Report_Cache", 4)
                .str("\0*\0data")
                .array(rows);
            for r in 0..rows {
                s.int(r as i64)
                    .array(3)
                    .kv("order_date", &format_datetime(t.datetime()))
                    .ki("total_sales", t.range(0, 100_000) as i64)
                    .kv(
                        "customer_url",
                        &format!("{site}/my-account/orders/{}/", t.range(1, 99_999)),
                    )
                    .end();
            }
            s.end()
                .str("\0WC_Admin_Report_Cache\0expires")
                .int(1_736_000_000)
                .str("\0*\0group")
                .str("reports")
                .str("\0*\0ratio")
                .float("0.30000000000000004")
                .end();
        })
    }

    // ---- wp_postmeta -----------------------------------------------------------------------

    fn postmeta<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut meta_id = 0;
        let mut post = 0;
        let mut metas: Vec<(Cow<'static, str>, Option<String>)> = Vec::new();
        while w.more() {
            post = post % self.posts + 1;
            metas.clear();
            self.post_meta(post, &mut metas);
            if self.dense {
                // Twice as many serialized custom fields as plain ones.
                let plain = metas
                    .iter()
                    .filter(|(_, v)| !v.as_deref().is_some_and(|v| v.starts_with("a:")))
                    .count();
                for k in 0..2 * plain {
                    let value = plugin_settings(&mut self.text);
                    metas.push((format!("_custom_settings_{k}").into(), Some(value)));
                }
            }
            for (key, value) in metas.drain(..) {
                meta_id += 1;
                let row = w.row().num(meta_id).num(post).str(&key);
                match value {
                    Some(v) => row.str(&v),
                    None => row.null(),
                };
                w.push_row()?;
                if !w.more() {
                    break;
                }
            }
        }
        Ok(())
    }

    fn post_meta(&mut self, post: u64, out: &mut Vec<(Cow<'static, str>, Option<String>)>) {
        let kind = self.kind(post);
        let t = &mut self.text;
        let lock = format!(
            "{}:{}",
            t.range(1_600_000_000, 1_736_000_000),
            t.range(1, self.authors + 1)
        );
        match kind {
            PostKind::Post => {
                out.push(("_edit_lock".into(), Some(lock)));
                out.push((
                    "_edit_last".into(),
                    Some(t.range(1, self.authors + 1).to_string()),
                ));
                out.push((
                    "_thumbnail_id".into(),
                    Some(t.range(1, self.posts + 1).to_string()),
                ));
                let mut desc = String::new();
                t.sentence(&mut desc, false);
                out.push(("_yoast_wpseo_metadesc".into(), Some(desc)));
                out.push(("_yoast_wpseo_focuskw".into(), Some(t.title())));
                out.push((
                    "_yoast_wpseo_primary_category".into(),
                    Some(t.range(1, 40).to_string()),
                ));
                if t.chance(0.3) {
                    out.push(("_wp_old_slug".into(), Some(t.slug())));
                }
                if t.chance(0.2) {
                    let key = t.hex(32);
                    out.push((
                        format!("_oembed_time_{key}").into(),
                        Some(format!("{}", t.range(1_600_000_000, 1_736_000_000))),
                    ));
                    out.push((
                        format!("_oembed_{key}").into(),
                        Some("<iframe title=\"Sommerfest 2023 – Rückblick\" width=\"640\" height=\"360\" src=\"https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed\" frameborder=\"0\" allow=\"accelerometer; autoplay; clipboard-write; encrypted-media\" allowfullscreen></iframe>".to_owned()),
                    ));
                }
            }
            PostKind::Page | PostKind::Revision => {
                if kind == PostKind::Page {
                    out.push(("_edit_lock".into(), Some(lock)));
                    out.push(("_edit_last".into(), Some("1".to_owned())));
                    out.push((
                        "_wp_page_template".into(),
                        Some("elementor_header_footer".to_owned()),
                    ));
                }
                if kind == PostKind::Page || t.chance(0.25) {
                    out.push(("_elementor_edit_mode".into(), Some("builder".to_owned())));
                    out.push((
                        "_elementor_template_type".into(),
                        Some("wp-page".to_owned()),
                    ));
                    out.push(("_elementor_version".into(), Some("3.26.4".to_owned())));
                    let len = 2_000 + t.range(0, 30_000) as usize;
                    out.push(("_elementor_data".into(), Some(t.elementor_json(len))));
                    let (bg, _) = t.upload("png");
                    out.push((
                        "_elementor_page_settings".into(),
                        Some(ser(|s| {
                            s.array(2)
                                .str("background_image")
                                .array(2)
                                .kv("url", &bg)
                                .ki("id", 11)
                                .end()
                                .kv("hide_title", "yes")
                                .end();
                        })),
                    ));
                    out.push((
                        "_elementor_css".into(),
                        Some(ser(|s| {
                            s.array(4)
                                .ki("time", 1_735_000_000)
                                .str("fonts")
                                .array(1)
                                .int(0)
                                .str("Roboto")
                                .end()
                                .str("icons")
                                .array(0)
                                .end()
                                .kv("status", "file")
                                .end();
                        })),
                    ));
                }
            }
            PostKind::Attachment => {
                let (_, file) = t.upload("jpg");
                out.push(("_wp_attached_file".into(), Some(file.clone())));
                out.push((
                    "_wp_attachment_metadata".into(),
                    Some(attachment_metadata(t, &file)),
                ));
                if t.chance(0.5) {
                    out.push(("_wp_attachment_image_alt".into(), Some(t.title())));
                }
            }
            PostKind::NavMenuItem => {
                let custom = t.chance(0.3);
                out.push((
                    "_menu_item_type".into(),
                    Some(if custom { "custom" } else { "post_type" }.to_owned()),
                ));
                out.push(("_menu_item_menu_item_parent".into(), Some("0".to_owned())));
                out.push((
                    "_menu_item_object_id".into(),
                    Some(t.range(1, self.posts + 1).to_string()),
                ));
                out.push((
                    "_menu_item_object".into(),
                    Some(if custom { "custom" } else { "page" }.to_owned()),
                ));
                out.push(("_menu_item_target".into(), Some(String::new())));
                out.push((
                    "_menu_item_classes".into(),
                    Some("a:1:{i:0;s:0:\"\";}".to_owned()),
                ));
                out.push(("_menu_item_xfn".into(), Some(String::new())));
                let mut url = String::new();
                if custom {
                    t.site_page_url(&mut url);
                }
                out.push(("_menu_item_url".into(), Some(url)));
            }
            PostKind::Block => {
                out.push(("_edit_lock".into(), Some(lock)));
                out.push(("_customer_note".into(), None));
            }
        }
    }

    // ---- wp_posts --------------------------------------------------------------------------

    fn posts_table<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let site = self.text.site;
        let mut id = 0;
        let mut content = String::new();
        while w.more() {
            id += 1;
            let kind = self.kind(id);
            let (date, gmt) = self.date_pair();
            let (modified, modified_gmt) = self.date_pair();
            let t = &mut self.text;
            let author = t.range(1, self.authors + 1);
            content.clear();
            let title = t.title();
            let mut excerpt = String::new();
            let mut name = slugify(&title);
            let mut guid = format!("{site}/?p={id}");
            let mut parent = 0;
            let mut mime = "";
            let mut status = "publish";
            let mut comments = "open";
            let mut menu_order = 0;
            let type_ = match kind {
                PostKind::Post | PostKind::Page | PostKind::Revision => {
                    // Sizes spread like real posts: many short ones, a long tail.
                    let len = 300 + (t.range(0, 80) * t.range(0, 80)) as usize * 2;
                    t.post_html(&mut content, len);
                    if t.chance(0.3) {
                        t.sentence(&mut excerpt, false);
                    }
                    match kind {
                        PostKind::Post => "post",
                        PostKind::Page => {
                            guid = format!("{site}/?page_id={id}");
                            comments = "closed";
                            "page"
                        }
                        _ => {
                            parent = t.range(1, id.max(2));
                            status = "inherit";
                            comments = "closed";
                            name = format!("{parent}-revision-v1");
                            "revision"
                        }
                    }
                }
                PostKind::Attachment => {
                    let (url, _) = t.upload("jpg");
                    guid = url;
                    mime = "image/jpeg";
                    status = "inherit";
                    parent = if t.chance(0.5) {
                        t.range(1, id.max(2))
                    } else {
                        0
                    };
                    "attachment"
                }
                PostKind::NavMenuItem => {
                    name = id.to_string();
                    comments = "closed";
                    menu_order = t.range(1, 12);
                    "nav_menu_item"
                }
                PostKind::Block => {
                    content.push_str("<!-- wp:paragraph -->\n<p>");
                    t.sentence(&mut content, true);
                    content.push_str("</p>\n<!-- /wp:paragraph -->");
                    comments = "closed";
                    "wp_block"
                }
            };
            let comment_count = if type_ == "post" { t.range(0, 12) } else { 0 };
            w.row()
                .num(id)
                .num(author)
                .str(&date)
                .str(&gmt)
                .str(&content)
                .str(&title)
                .str(&excerpt)
                .str(status)
                .str(comments)
                .str(comments)
                .str("")
                .str(&name)
                .str("")
                .str("")
                .str(&modified)
                .str(&modified_gmt)
                .str("")
                .num(parent)
                .str(&guid)
                .num(menu_order)
                .str(type_)
                .str(mime)
                .num(comment_count);
            w.push_row()?;
        }
        Ok(())
    }

    // ---- wp_usermeta -----------------------------------------------------------------------

    fn usermeta<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        let mut user = 0;
        while w.more() {
            user = user % self.users + 1;
            let t = &mut self.text;
            let role = if user == 1 {
                "administrator"
            } else if user <= self.authors {
                "editor"
            } else {
                t.pick(&["subscriber", "subscriber", "customer", "author"])
            };
            let mut description = String::new();
            if t.chance(0.2) {
                t.sentence(&mut description, true);
            }
            let ip = t.ip();
            let ua = t.pick(USER_AGENTS);
            let token = t.hex(64);
            let login = t.range(1_730_000_000, 1_736_000_000) as i64;
            let sessions = ser(|s| {
                s.array(1)
                    .str(&token)
                    .array(4)
                    .ki("expiration", login + 1_209_600)
                    .kv("ip", &ip)
                    .kv("ua", ua)
                    .ki("login", login)
                    .end()
                    .end();
            });
            let metas: [(&str, String); 16] = [
                ("nickname", format!("user{user}")),
                ("first_name", t.first_name().to_owned()),
                ("last_name", t.last_name().to_owned()),
                ("description", description),
                ("rich_editing", "true".to_owned()),
                ("syntax_highlighting", "true".to_owned()),
                ("comment_shortcuts", "false".to_owned()),
                ("admin_color", "fresh".to_owned()),
                ("use_ssl", "0".to_owned()),
                ("show_admin_bar_front", "true".to_owned()),
                ("locale", String::new()),
                (
                    "wp_capabilities",
                    ser(|s| {
                        s.array(1).str(role).bool(true).end();
                    }),
                ),
                (
                    "wp_user_level",
                    if user == 1 { "10" } else { "0" }.to_owned(),
                ),
                (
                    "dismissed_wp_pointers",
                    "theme_editor_notice,plugin_editor_notice".to_owned(),
                ),
                ("session_tokens", sessions),
                (
                    "community-events-location",
                    ser(|s| {
                        s.array(1).kv("ip", "192.0.2.0").end();
                    }),
                ),
            ];
            for (key, value) in metas {
                id += 1;
                w.row().num(id).num(user).str(key).str(&value);
                w.push_row()?;
                if !w.more() {
                    break;
                }
            }
        }
        Ok(())
    }

    // ---- wp_users --------------------------------------------------------------------------

    fn users_table<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let t = &mut self.text;
            let (first, last) = (t.first_name(), t.last_name());
            let login = format!("{}{id}", slugify(first));
            let pass = if t.chance(0.7) {
                format!("$P$B{}", t.phpass(30))
            } else {
                format!("$wp$2y$10${}", t.phpass(53))
            };
            let email = format!(
                "{}.{}{id}@members.example.org",
                slugify(first),
                slugify(last)
            );
            let url = if t.chance(0.2) {
                format!("https://{}.example.net", slugify(last))
            } else {
                String::new()
            };
            let registered = format_datetime(t.datetime());
            let key = if t.chance(0.1) {
                format!(
                    "{}:$P$B{}",
                    t.range(1_600_000_000, 1_736_000_000),
                    t.phpass(30)
                )
            } else {
                String::new()
            };
            w.row()
                .num(id)
                .str(&login)
                .str(&pass)
                .str(&login)
                .str(&email)
                .str(&url)
                .str(&registered)
                .str(&key)
                .num(0)
                .str(&format!("{first} {last}"));
            w.push_row()?;
        }
        Ok(())
    }
}

impl Content for Site {
    type Kind = Kind;

    fn fill<W: Write>(&mut self, kind: Kind, w: &mut DumpWriter<W>) -> io::Result<()> {
        self.blog = kind.blog;
        self.posts = if kind.blog == 1 {
            self.main_posts
        } else {
            self.site_posts
        };
        match kind.table {
            Table::CommentMeta => self.commentmeta(w),
            Table::Comments => self.comments(w),
            Table::Links => self.links(w),
            Table::Options => self.options(w),
            Table::PostMeta => self.postmeta(w),
            Table::Posts => self.posts_table(w),
            Table::TermRelationships => self.term_relationships(w),
            Table::TermTaxonomy => self.term_taxonomy(w),
            Table::TermMeta => self.termmeta(w),
            Table::Terms => self.terms(w),
            Table::UserMeta => self.usermeta(w),
            Table::Users => self.users_table(w),
            Table::Blogs => self.blogs(w),
            Table::BlogMeta => self.blogmeta(w),
            Table::Site => self.site(w),
            Table::SiteMeta => self.sitemeta(w),
            Table::WfConfig => self.wfconfig(w),
            Table::WfHits => self.wfhits(w),
            Table::WfLogins => self.wflogins(w),
        }
    }
}

/// Category names, the first being every site's default.
const CATEGORIES: &[&str] = &[
    "Allgemein",
    "Veranstaltungen",
    "Neuigkeiten",
    "Presse",
    "Vorstand",
    "Jugend",
    "Theater",
    "Konzerte",
    "Fotos",
    "Termine",
    "Mitglieder",
    "Sponsoren",
];

impl Site {
    // ---- wp_commentmeta, wp_links, wp_term* -------------------------------------------------

    fn commentmeta<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let t = &mut self.text;
            let comment = t.range(1, 1 + self.posts * 2);
            let (key, value) = match t.range(0, 4) {
                0 => ("akismet_result", "false".to_owned()),
                1 => ("akismet_history", {
                    let time = format!(
                        "{}.{}",
                        t.range(1_600_000_000, 1_736_000_000),
                        t.range(1000, 9999)
                    );
                    ser(|s| {
                        s.array(3)
                            .kv("time", &time)
                            .kv("event", "check-ham")
                            .kv("user", "")
                            .end();
                    })
                }),
                2 => ("rating", t.range(1, 6).to_string()),
                _ => ("_wp_trash_meta_status", "1".to_owned()),
            };
            w.row().num(id).num(comment).str(key).str(&value);
            w.push_row()?;
        }
        Ok(())
    }

    fn links<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let t = &mut self.text;
            let url = t.external_url();
            let name = t.title();
            let mut notes = String::new();
            t.sentence(&mut notes, false);
            let updated = format_datetime(t.datetime());
            w.row()
                .num(id)
                .str(url)
                .str(&name)
                .str("")
                .str("_blank")
                .str("")
                .str("Y")
                .num(1)
                .num(0)
                .str(&updated)
                .str("")
                .str(&notes)
                .str("");
            w.push_row()?;
        }
        Ok(())
    }

    fn terms<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let name = match CATEGORIES.get(id as usize - 1) {
                Some(n) => (*n).to_owned(),
                None => self.text.title(),
            };
            let slug = format!("{}-{id}", slugify(&name));
            w.row().num(id).str(&name).str(&slug).num(0);
            w.push_row()?;
        }
        Ok(())
    }

    fn termmeta<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let (url, _) = self.text.upload("jpg");
            w.row().num(id).num(id).str("thumbnail_url").str(&url);
            w.push_row()?;
        }
        Ok(())
    }

    fn term_taxonomy<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let t = &mut self.text;
            let taxonomy = match id {
                1 => "category",
                _ => t.pick(&["category", "post_tag", "post_tag", "nav_menu"]),
            };
            let mut description = String::new();
            if t.chance(0.3) {
                t.sentence(&mut description, true);
            }
            let count = t.range(0, 40);
            w.row()
                .num(id)
                .num(id)
                .str(taxonomy)
                .str(&description)
                .num(0)
                .num(count);
            w.push_row()?;
        }
        Ok(())
    }

    fn term_relationships<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut object = 0;
        while w.more() {
            object += 1;
            let term = 1 + self.text.range(0, 8);
            w.row().num(object).num(term).num(0);
            w.push_row()?;
        }
        Ok(())
    }

    // ---- the network's tables --------------------------------------------------------------

    fn blogs<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() && id < self.sites {
            id += 1;
            let path = if id == 1 {
                "/".to_owned()
            } else {
                format!("/site{id}/")
            };
            let t = &mut self.text;
            let registered = format_datetime(t.datetime());
            let updated = format_datetime(t.datetime());
            w.row()
                .num(id)
                .num(1)
                .str("www.example.com")
                .str(&path)
                .str(&registered)
                .str(&updated)
                .num(1)
                .num(0)
                .num(0)
                .num(0)
                .num(0)
                .num(0);
            w.push_row()?;
        }
        Ok(())
    }

    fn blogmeta<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let blog = (id + 1) / 2;
            let (key, value) = if id % 2 == 1 {
                ("db_version", "57155".to_owned())
            } else {
                ("db_last_updated", (1_736_000_000 + id).to_string())
            };
            w.row().num(id).num(blog).str(key).str(&value);
            w.push_row()?;
        }
        Ok(())
    }

    fn site<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        if w.more() {
            w.row().num(1).str("www.example.com").str("/");
            w.push_row()?;
        }
        Ok(())
    }

    fn sitemeta<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let site = self.text.site;
        let fixed: Vec<(&str, String)> = vec![
            ("site_name", "Beispiel-Netzwerk".to_owned()),
            (
                "admin_email",
                "anna.beispiel@members.example.org".to_owned(),
            ),
            ("admin_user_id", "1".to_owned()),
            ("registration", "none".to_owned()),
            ("upload_filetypes", "jpg jpeg png gif webp pdf".to_owned()),
            ("blog_upload_space", "100".to_owned()),
            ("fileupload_maxk", "1500".to_owned()),
            (
                "site_admins",
                ser(|s| {
                    s.array(1).int(0).str("anna1").end();
                }),
            ),
            ("siteurl", format!("{site}/")),
            ("subdomain_install", "0".to_owned()),
            (
                "active_sitewide_plugins",
                ser(|s| {
                    s.array(2)
                        .ki("wordfence/wordfence.php", 1_736_000_000)
                        .ki("wp-mail-smtp/wp_mail_smtp.php", 1_736_000_000)
                        .end();
                }),
            ),
        ];
        let mut fixed = fixed.into_iter();
        let mut id = 0;
        while w.more() {
            id += 1;
            let (key, value) = match fixed.next() {
                Some((k, v)) => (k.to_owned(), v),
                None => (
                    format!("_site_transient_timeout_{}", self.text.hex(32)),
                    (1_736_000_000 + id).to_string(),
                ),
            };
            w.row().num(id).num(1).str(&key).str(&value);
            w.push_row()?;
        }
        Ok(())
    }

    // ---- Wordfence: binary columns ---------------------------------------------------------

    fn wfconfig<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        // Rows in the order of the primary key (`name`, case-insensitive), as mariadb-dump
        // writes them: Wordfence's own settings, then scan results numbered in order.
        let fixed = [
            (
                "alertEmails",
                "anna.beispiel@members.example.org".to_owned(),
            ),
            ("alertOn_adminLogin", "1".to_owned()),
            ("alertOn_block", "1".to_owned()),
            ("apiKey", self.text.hex(128)),
            ("cbl_countries", "KP,RU".to_owned()),
            ("lastScanCompleted", "ok".to_owned()),
        ];
        let mut fixed = fixed.into_iter();
        let mut id = 0;
        while w.more() {
            match fixed.next() {
                Some((name, value)) => w.row().str(name).bin(value.as_bytes()).str("yes"),
                None => {
                    id += 1;
                    let value = plugin_settings(&mut self.text);
                    let name = format!("scanResult_{id:06}");
                    w.row().str(&name).bin(value.as_bytes()).str("no")
                }
            };
            w.push_row()?;
        }
        Ok(())
    }

    /// An IPv4 address as Wordfence stores it: IPv4-mapped IPv6 in 16 bytes.
    fn binary_ip(&mut self) -> [u8; 16] {
        let mut ip = [0u8; 16];
        ip[10] = 0xff;
        ip[11] = 0xff;
        ip[12] = 192 + self.text.range(0, 12) as u8;
        ip[13] = self.text.range(0, 256) as u8;
        ip[14] = self.text.range(0, 256) as u8;
        ip[15] = self.text.range(1, 255) as u8;
        ip
    }

    fn wfhits<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let ip = self.binary_ip();
            let t = &mut self.text;
            let ctime = t.range(1_700_000_000, 1_736_000_000);
            let mut url = String::new();
            t.site_page_url(&mut url);
            let referer = if t.chance(0.5) { t.external_url() } else { "" };
            let ua = t.pick(USER_AGENTS);
            let blocked = t.chance(0.1);
            let data = if blocked {
                format!(
                    "{{\"learningMode\":0,\"failedRules\":\"{}\",\"paramKey\":\"cmVxdWVzdC5xdWVyeVtwXQ==\"}}",
                    t.range(1, 200)
                )
            } else {
                String::new()
            };
            w.row()
                .num(id)
                .num(ctime)
                .bin(&ip)
                .num(if blocked { 403 } else { 200 })
                .num(0)
                .str(&url)
                .str(referer)
                .str(ua)
                .str(if blocked { "blocked:waf" } else { "" })
                .str(&data);
            w.push_row()?;
        }
        Ok(())
    }

    fn wflogins<W: Write>(&mut self, w: &mut DumpWriter<W>) -> io::Result<()> {
        let mut id = 0;
        while w.more() {
            id += 1;
            let ip = self.binary_ip();
            let t = &mut self.text;
            let fail = t.chance(0.3);
            let user = t.range(1, self.users + 1);
            let login = format!("{}{user}", slugify(t.first_name()));
            let ctime = t.range(1_700_000_000, 1_736_000_000);
            let ua = t.pick(USER_AGENTS);
            w.row()
                .num(id)
                .num(id * 7)
                .num(ctime)
                .num(u8::from(fail))
                .str(if fail {
                    "loginFailValidUsername"
                } else {
                    "loginOK"
                })
                .str(&login)
                .num(user)
                .bin(&ip)
                .str(ua);
            w.push_row()?;
        }
        Ok(())
    }
}

/// A plugin's settings: a serialized array of URLs, numbers, titles and flags, an upload
/// path on the server, and an already serialized array inside (WordPress often stores one
/// within another).
fn plugin_settings(t: &mut Text) -> String {
    let mut value = String::new();
    let mut s = crate::text::Ser(&mut value);
    let n = t.range(3, 15) as usize;
    s.array(n + 2);
    for k in 0..n {
        let key = format!("option_{k}");
        match k % 4 {
            0 => {
                let mut url = String::new();
                t.site_page_url(&mut url);
                s.kv(&key, &url);
            }
            1 => {
                s.ki(&key, t.range(0, 10_000) as i64);
            }
            2 => {
                let title = t.title();
                s.kv(&key, &title);
            }
            _ => {
                if t.chance(0.5) {
                    s.str(&key).bool(t.chance(0.5));
                } else {
                    s.str(&key).null();
                }
            }
        }
    }
    let path = format!(
        "/srv/www/www.example.com/wp-content/uploads/{}/{}/",
        t.range(2012, 2025),
        t.slug()
    );
    s.kv("upload_dir", &path);
    let inner = ser(|i| {
        i.array(1)
            .kv("logo", &format!("{}/wp-content/uploads/logo.png", t.site))
            .end();
    });
    s.kv("nested", &inner).end();
    value
}

/// `_wp_attachment_metadata` for an image: sizes and EXIF, as WordPress 6 writes it.
fn attachment_metadata(t: &mut Text, file: &str) -> String {
    let (w, h) = (t.range(800, 6000) as i64, t.range(600, 4000) as i64);
    let base = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".jpg")
        .to_owned();
    let sizes: &[(&str, i64, i64)] = &[
        ("medium", 300, 200),
        ("large", 1024, 683),
        ("thumbnail", 150, 150),
        ("medium_large", 768, 512),
        ("1536x1536", 1536, 1024),
        ("woocommerce_thumbnail", 300, 300),
    ];
    let mut caption = String::new();
    if t.chance(0.3) {
        t.sentence(&mut caption, false);
    }
    let camera = t.pick(&["Canon EOS 5D Mark IV", "NIKON D750", "iPhone 13", ""]);
    ser(|s| {
        s.array(6)
            .ki("width", w)
            .ki("height", h)
            .kv("file", file)
            .ki("filesize", t.range(50_000, 5_000_000) as i64)
            .str("sizes")
            .array(sizes.len());
        for &(name, sw, sh) in sizes {
            s.str(name)
                .array(5)
                .kv("file", &format!("{base}-{sw}x{sh}.jpg"))
                .ki("width", sw)
                .ki("height", sh)
                .kv("mime-type", "image/jpeg")
                .ki("filesize", t.range(5_000, 300_000) as i64)
                .end();
        }
        s.end().str("image_meta").array(12);
        s.kv("aperture", "2.8")
            .kv("credit", "Anna Beispiel")
            .kv("camera", camera)
            .kv("caption", &caption)
            .kv("created_timestamp", &t.datetime().to_string())
            .kv("copyright", "© Beispiel-Verein")
            .kv("focal_length", "50")
            .kv("iso", "400")
            .kv("shutter_speed", "0.004")
            .kv("title", "")
            .kv("orientation", "1")
            .str("keywords")
            .array(0)
            .end()
            .end()
            .end();
    })
}

/// The `wp_user_roles` option: roles with their capability lists (a large serialized array).
fn user_roles() -> String {
    #[rustfmt::skip]
    const CAPS: &[&str] = &[
        "switch_themes", "edit_themes", "activate_plugins", "edit_plugins", "edit_users",
        "edit_files", "manage_options", "moderate_comments", "manage_categories", "manage_links",
        "upload_files", "import", "unfiltered_html", "edit_posts", "edit_others_posts",
        "edit_published_posts", "publish_posts", "edit_pages", "read", "level_10", "level_9",
        "level_8", "level_7", "level_6", "level_5", "level_4", "level_3", "level_2", "level_1",
        "level_0", "edit_others_pages", "edit_published_pages", "publish_pages", "delete_pages",
        "delete_others_pages", "delete_published_pages", "delete_posts", "delete_others_posts",
        "delete_published_posts", "delete_private_posts", "edit_private_posts",
        "read_private_posts", "delete_private_pages", "edit_private_pages", "read_private_pages",
        "delete_users", "create_users", "unfiltered_upload", "edit_dashboard", "update_plugins",
        "delete_plugins", "install_plugins", "update_themes", "install_themes", "update_core",
        "list_users", "remove_users", "promote_users", "edit_theme_options", "delete_themes",
        "export", "manage_woocommerce", "view_woocommerce_reports", "wpseo_manage_options",
    ];
    let roles: &[(&str, &str, usize)] = &[
        ("administrator", "Administrator", CAPS.len()),
        ("editor", "Editor", 34),
        ("author", "Author", 10),
        ("contributor", "Contributor", 5),
        ("subscriber", "Subscriber", 2),
        ("customer", "Customer", 1),
        ("shop_manager", "Shop manager", 40),
    ];
    ser(|s| {
        s.array(roles.len());
        for &(key, name, n) in roles {
            s.str(key)
                .array(2)
                .kv("name", name)
                .str("capabilities")
                .array(n);
            for cap in &CAPS[..n] {
                s.str(cap).bool(true);
            }
            s.end().end();
        }
        s.end();
    })
}
