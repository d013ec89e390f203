//! The rule packs in `rules/` and the examples in `docs/rules.md` compile (and the ones
//! marked as errors fail with the error text the docs show).

use std::path::{Path, PathBuf};

use understudy_rules::{
    Action, Cell, CompiledRules, ErrorKind, LookupStore, MaskValue, Rules, StrategyKind,
};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn packs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(workspace().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

const URL_VARS: [(&str, &str); 6] = [
    ("src_url", "https://www.example.org/"),
    ("dst_url", "https://int.example.net/"),
    ("src_root", "/srv/www/site/"),
    ("dst_root", "/srv/int/site/"),
    ("src_data", "/srv/www/data/"),
    ("dst_data", "/srv/int/data/"),
];

fn load(path: &Path, vars: &[(&str, &str)]) -> CompiledRules {
    let mut r = Rules::new();
    r.env("UNDERSTUDY_SECRET", "pack-test-secret");
    for (k, v) in vars {
        r.var(*k, *v);
    }
    r.compile_path(path).unwrap_or_else(|e| panic!("{e}"))
}

fn pack(name: &str) -> PathBuf {
    workspace().join("rules").join(name)
}

#[test]
fn every_pack_compiles_with_and_without_url_vars() {
    let packs = packs();
    let names: Vec<String> = packs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "drupal.toml",
            "elgg-2.3.toml",
            "elgg.toml",
            "wordpress.toml"
        ]
    );
    for p in &packs {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            text.starts_with("# Understudy rules for "),
            "{} starts with its comment block",
            p.display()
        );
        // Without URL variables: masks, and moves nothing, and says so.
        let r = load(p, &[]);
        assert!(r.replacements().is_empty(), "{}", p.display());
        assert!(r.dropped_replacements().len() >= 3, "{}", p.display());
        assert!(r.has_secret());
        assert!(!r.masks().is_empty());
        // With them: every pack declares the same names (an undeclared --var is an error).
        let mut all = URL_VARS.to_vec();
        all.push(("prefix", "x_"));
        all.push(("secret", "given-secret-of-16+"));
        let r = load(p, &all);
        assert_eq!(r.replacements().len(), 3, "{}", p.display());
        for rep in r.replacements() {
            assert!(!rep.pairs().is_empty());
        }
        // Without a secret the masks refuse, naming the environment variable.
        let e = Rules::new().env("NOTHING", "").compile_path(p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingSecret, "{e}");
        assert!(
            e.to_string()
                .contains("environment variable UNDERSTUDY_SECRET is not set"),
            "{e}"
        );
    }
}

#[test]
fn elgg_masks_only_user_metadata() {
    let r = load(&pack("elgg.toml"), &[]);
    assert_eq!(
        r.table_action("elgg_users_sessions").action,
        Action::DropData
    );
    assert_eq!(r.table_action("elgg_metadata").action, Action::Keep);
    let mut store = LookupStore::new(&r);
    let id = r.lookups_fed_by("elgg_entities").next().unwrap();
    for (guid, ty, sub) in [
        ("1", "site", ""),
        ("7", "user", ""),
        ("9", "object", "messages"),
    ] {
        let row = [
            ("guid", Cell::Bytes(guid.as_bytes())),
            ("type", Cell::Bytes(ty.as_bytes())),
            ("subtype", Cell::Bytes(sub.as_bytes())),
        ];
        store.record(id, &row).unwrap();
    }
    store.mark_complete(id);
    let masked = |guid: &str, name: &str, value: &str| -> Option<String> {
        let row = [
            ("entity_guid", Cell::Bytes(guid.as_bytes())),
            ("name", Cell::Bytes(name.as_bytes())),
            ("value", Cell::Bytes(value.as_bytes())),
        ];
        let mut v = value.to_owned();
        let mut hit = false;
        // The free-text scrub (last in the file) is the engine's business; here, which
        // rows the specific masks take.
        for m in r.masks_for("elgg_metadata") {
            if m.strategy() == StrategyKind::Scrub {
                continue;
            }
            if m.applies(&row, &store).unwrap() {
                hit = true;
                match m
                    .apply(Cell::Bytes(v.as_bytes()), &row, &store, None, false)
                    .unwrap()
                {
                    MaskValue::Bytes(b) => v = String::from_utf8(b).unwrap(),
                    MaskValue::Null => v = "NULL".into(),
                }
            }
        }
        hit.then_some(v)
    };
    assert_eq!(masked("1", "email", "site@example.org"), None);
    let e = masked("7", "email", "anna@example.org").unwrap();
    assert!(
        e.ends_with("@example.invalid") && !e.contains("anna@"),
        "{e}"
    );
    assert_eq!(masked("7", "username", "anna").unwrap(), "user7");
    assert_eq!(masked("7", "language", "de"), None);
    assert!(masked("7", "password_hash", "$2y$10$x")
        .unwrap()
        .starts_with("$2y$10$bI2r"));
    assert!(masked("9", "description", "Private words here").is_some());
    assert_eq!(masked("9", "tags", "x"), None);
    let scrubs: Vec<&str> = r
        .masks()
        .iter()
        .filter(|m| m.strategy() == StrategyKind::Scrub)
        .map(|m| m.label())
        .collect();
    assert_eq!(
        scrubs,
        [
            "mask[20] (elgg_metadata.value)",
            "mask[21] (elgg_annotations.value)",
            "mask[22] (elgg_private_settings.value)",
            "mask[23] (elgg_config.value)"
        ]
    );
    // The pack's own rule set is complete for the core tables it lists.
    assert!(r.is_covered("elgg_metadata", "value"));
    assert!(r.is_covered("elgg_entities", "guid"));
    assert!(!r.is_covered("elgg_some_plugin", "x"));
}

#[test]
fn wordpress_transients_guid_and_multisite() {
    let r = load(&pack("wordpress.toml"), &URL_VARS);
    let site = r
        .replacements()
        .iter()
        .find(|x| x.label() == "site URL")
        .unwrap();
    assert!(site.applies_to("wp_posts", "post_content"));
    assert!(!site.applies_to("wp_posts", "guid"));
    assert!(!site.applies_to("wp_3_posts", "guid"));
    assert!(site.applies_to("wp_postmeta", "meta_value"));
    let store = LookupStore::new(&r);
    for t in ["wp_options", "wp_12_options"] {
        let drop = r.table_action(t).drop_rows.expect("transients are dropped");
        for (name, want) in [
            ("_transient_timeout_x", true),
            ("_site_transient_update_core", true),
            ("siteurl", false),
            ("my_transient_", false),
        ] {
            let row = [("option_name", Cell::Bytes(name.as_bytes()))];
            assert_eq!(drop.matches(&row, &store).unwrap(), want, "{t} {name}");
        }
    }
    assert_eq!(
        r.table_action("wp_woocommerce_sessions").action,
        Action::DropData
    );
    // The same login masks the same way in wp_users and in site_admins.
    let login = r
        .masks_for("wp_users")
        .find(|m| m.column() == "user_login")
        .unwrap();
    let admins = r
        .masks_for("wp_sitemeta")
        .find(|m| m.path().len() == 1)
        .unwrap();
    let row = [("meta_key", Cell::Bytes(b"site_admins"))];
    assert_eq!(
        login
            .apply(Cell::Bytes(b"admin"), &row, &store, Some(60), true)
            .unwrap(),
        admins
            .apply(Cell::Bytes(b"admin"), &row, &store, None, false)
            .unwrap()
    );
    // Author name, e-mail, URL, IP, browser, and the scrub of the text.
    assert_eq!(r.masks_for("wp_2_comments").count(), 6);
    // Multisite domains only when given.
    let r = Rules::new()
        .env("UNDERSTUDY_SECRET", "s-is-a-16-byte-secret")
        .var("src_domain", "www.example.org")
        .var("dst_domain", "int.example.net")
        .compile_path(pack("wordpress.toml"))
        .unwrap();
    let d = &r.replacements()[0];
    assert_eq!(d.label(), "network hosts");
    assert!(d.subdomains());
    assert!(d.applies_to("wp_blogs", "domain") && d.applies_to("wp_2_options", "option_value"));
    assert!(!d.applies_to("wp_2_posts", "guid"));
    let pairs: Vec<_> = d.pairs().iter().map(|p| format!("{p:?}")).collect();
    assert_eq!(
        pairs,
        [
            r#""www.example.org" -> "int.example.net""#,
            r#""example.org" -> "int.example.net""#,
            r#"".example.org" -> ".int.example.net""#,
        ]
    );
}

/// ```toml blocks of docs/rules.md: each compiles; ```toml,error blocks fail, and when a
/// ```text block follows, with exactly that text.
#[test]
fn docs_examples_compile() {
    let path = workspace().join("docs/rules.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let mut blocks: Vec<(String, usize, String)> = Vec::new(); // (info, line, body)
    let mut lines = doc.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let info = info.trim().to_owned();
            let mut body = String::new();
            for (_, l) in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            blocks.push((info, n + 2, body));
        }
    }
    let mut ok = 0;
    let mut errors = 0;
    for (i, (info, line, body)) in blocks.iter().enumerate() {
        let origin = "example.toml";
        let compile = || {
            Rules::new()
                .env("UNDERSTUDY_SECRET", "docs-secret-of-16-bytes")
                .compile_str(body, origin)
        };
        match info.as_str() {
            "toml" => {
                if let Err(e) = compile() {
                    panic!("docs/rules.md block at line {line} does not compile:\n{e}");
                }
                ok += 1;
            }
            "toml,error" => {
                let Err(e) = compile() else {
                    panic!("docs/rules.md block at line {line} is marked error but compiles");
                };
                if let Some((next, _, text)) = blocks.get(i + 1) {
                    if next == "text" {
                        assert_eq!(
                            e.to_string(),
                            text.trim_end(),
                            "docs/rules.md block at line {line}: the error text shown differs"
                        );
                    }
                }
                errors += 1;
            }
            _ => {}
        }
    }
    assert!(ok >= 20, "only {ok} toml examples");
    assert!(errors >= 3, "only {errors} error examples");
}
