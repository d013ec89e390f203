//! Unit tests: loading errors (exact text), variables, conditions, lookups, masks,
//! replacements, coverage, and a property test that masks never echo their input.

use crate::testutil::*;
use crate::*;

type Row<'a> = Vec<(&'a str, Cell<'a>)>;

fn b(s: &str) -> Cell<'_> {
    Cell::Bytes(s.as_bytes())
}

fn text(v: MaskValue) -> String {
    match v {
        MaskValue::Null => "NULL".into(),
        MaskValue::Bytes(b) => String::from_utf8(b).unwrap(),
    }
}

/// Applies the only mask for `table` to `value` in `row`.
fn mask1(
    rules: &CompiledRules,
    table: &str,
    value: &str,
    row: &Row<'_>,
) -> Result<String, MaskError> {
    let store = LookupStore::new(rules);
    let m = rules.masks_for(table).next().expect("a mask");
    m.apply(b(value), row, &store, None, false).map(text)
}

mod errors {
    use super::*;

    #[test]
    fn unknown_key() {
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\nbogus = 1\n"),
            "t.toml:5:1: mask[0].bogus: unknown field `bogus`, expected one of `name`, `table`, `column`, `strategy`, `value`, `template`, `length`, `kind`, `domain`, `range`, `words`, `find`, `unique`, `when`, `inside`, `path`, `optional`, `path_optional`"
        );
        assert_eq!(
            err("[input]\nstrip_definers = true\nstrip_sandbox = true\n"),
            "t.toml:3:1: input.strip_sandbox: unknown field `strip_sandbox`, expected one of `strip_sandbox_line`, `strip_database_statements`, `strip_definers`"
        );
        assert_eq!(
            err("[[replace]]\nfrom = \"a\"\nto = \"b\"\n[[replace]]\nfrom = \"a\"\nto = \"b\"\nskip = []\n"),
            "t.toml:7:1: replace[1].skip: unknown field `skip`, expected one of `name`, `from`, `to`, `variants`, `serialized`, `base64`, `tables`, `skip_tables`, `columns`, `skip_columns`, `must_move`, `boundaries`, `subdomains`"
        );
        assert_eq!(
            err("[vars]\nx = \"1\"\n[policy]\nunlisted = \"fail\"\n[[bogus]]\n"),
            "t.toml:5:3: bogus: unknown field `bogus`, expected one of `meta`, `vars`, `vars_help`, `input`, `policy`, `prefix`, `replace`, `lookup`, `table`, `mask`, `keep`, `append_sql`"
        );
    }

    #[test]
    fn subdomains_need_hosts() {
        let rule = |from: &str, to: &str, extra: &str| {
            err(&format!(
                "[[replace]]\nfrom = \"{from}\"\nto = \"{to}\"\nsubdomains = true\n{extra}"
            ))
        };
        assert_eq!(
            rule("https://www.example.org", "https://int.example.org", ""),
            "t.toml:4:14: replace[0].subdomains: `subdomains` needs `from` and `to` to be host names (www.example.org), not URLs or paths; move URLs with a rule of their own"
        );
        assert_eq!(
            rule("www.example.org", "", ""),
            "t.toml:4:14: replace[0].subdomains: `subdomains` needs `from` and `to` to be host names (www.example.org), not URLs or paths; move URLs with a rule of their own"
        );
        assert_eq!(
            rule("www.example.org", "int.example.org", "boundaries = false\n"),
            "t.toml:4:14: replace[0].subdomains: `subdomains` moves hosts where they end; it cannot be used with boundaries = false"
        );
        assert_eq!(
            rule("www.example.org", "int.example.org", "variants = []\n"),
            "t.toml:4:14: replace[0].subdomains: `subdomains` takes no `variants`: a host is written the same as it is, JSON-escaped and URL-encoded; move URLs with a rule of their own"
        );
    }

    #[test]
    fn wrong_type_and_missing_key_and_syntax() {
        assert_eq!(
            err("[input]\nstrip_definers = \"yes\"\n"),
            "t.toml:2:18: input.strip_definers: invalid type: string \"yes\", expected a boolean"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\n"),
            "t.toml:1:1: mask[0]: missing field `strategy`"
        );
        assert_eq!(err("x = = 1"), "t.toml:1:5: extra `=`, expected nothing");
    }

    #[test]
    fn unknown_strategy_kind_action_variant() {
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fakee\"\n"),
            "t.toml:4:12: mask[0].strategy: unknown strategy \"fakee\", expected one of null, fixed, template, hash, fake, redact, scrub"
        );
        assert_eq!(
            err("[vars]\nsecret = \"s-is-a-16-byte-secret\"\n[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"mail\"\n"),
            "t.toml:7:8: mask[0].kind: unknown fake kind \"mail\", expected one of email, name, first_name, last_name, username, phone, street, city, postcode, ipv4, ipv6, url, lorem, date"
        );
        assert_eq!(
            err("[[table]]\nname = \"t\"\naction = \"truncate\"\n"),
            "t.toml:3:10: table[0].action: unknown action \"truncate\", expected one of \"keep\", \"drop_data\", \"skip\""
        );
        assert_eq!(
            err("[[replace]]\nfrom = \"a\"\nto = \"b\"\nvariants = [\"json\"]\n"),
            "t.toml:4:13: replace[0].variants: unknown variant \"json\", expected one of json_escaped, url_encoded, http_https, scheme_relative"
        );
        assert_eq!(
            err("[policy]\nunlisted = \"warn\"\n"),
            "t.toml:2:12: policy.unlisted: unknown policy \"warn\", expected one of \"keep\", \"fail\""
        );
    }

    #[test]
    fn strategy_parameters() {
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fixed\"\n"),
            "t.toml:4:12: mask[0].strategy: strategy \"fixed\" needs `value`"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\nvalue = \"x\"\n"),
            "t.toml:5:9: mask[0].value: `value` does not apply to strategy \"null\""
        );
        assert_eq!(
            err("[vars]\nsecret = \"s-is-a-16-byte-secret\"\n[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"hash\"\nlength = 65\n"),
            "t.toml:7:10: mask[0].length: `length` of a hash is 1 to 64 hex digits"
        );
        assert_eq!(
            err("[vars]\nsecret = \"s-is-a-16-byte-secret\"\n[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"name\"\ndomain = \"x.org\"\n"),
            "t.toml:8:10: mask[0].domain: `domain` only applies to kind \"email\" or \"url\""
        );
        assert_eq!(
            err("[vars]\nsecret = \"s-is-a-16-byte-secret\"\n[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"date\"\nrange = [\"2000-02-30\", \"2001-01-01\"]\n"),
            "t.toml:8:9: mask[0].range: `range` is two dates [\"YYYY-MM-DD\", \"YYYY-MM-DD\"], the first not after the second"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fixed\"\nvalue = \"x\"\nunique = true\n"),
            "t.toml:6:10: mask[0].unique: strategy \"fixed\" cannot make unique values: a fixed value is the same for every row"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\npath = [\"ip\"]\n"),
            "t.toml:5:8: mask[0].path: `path` needs `inside = \"serialized\"` or `inside = \"json\"`"
        );
    }

    #[test]
    fn bad_regex_and_glob() {
        assert_eq!(
            err("[[table]]\nname = \"t\"\ndrop_rows = { c = { regex = \"(\" } }\n"),
            "t.toml:3:29: table[0].drop_rows.c.regex: invalid regex: unclosed group"
        );
        assert_eq!(
            err("[[table]]\nname = \"wp_[0-9\"\naction = \"skip\"\n"),
            "t.toml:2:8: table[0].name: unclosed `[` in glob"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\nwhen = { c = { starts = \"x\" } }\n"),
            "t.toml:5:16: mask[0].when.c.starts: unknown condition operator `starts`; operators are: prefix, glob, regex, null, not"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\nwhen = { c = true }\n"),
            "t.toml:5:14: mask[0].when.c: a boolean compares with nothing; write { null = true } to test for NULL"
        );
    }

    #[test]
    fn unknown_variable() {
        assert_eq!(
            err("[vars]\na = \"x\"\n[[replace]]\nfrom = \"https://${b}/\"\nto = \"y\"\n"),
            "t.toml:4:17: replace[0].from: unknown variable `b`; [vars] declares: a"
        );
        assert_eq!(
            err("[[table]]\nname = \"${prefix}users\"\naction = \"skip\"\n"),
            "t.toml:2:9: table[0].name: unknown variable `prefix`; [vars] declares: (none)"
        );
        assert_eq!(
            err("[vars]\na = \"${b}\"\nb = \"${a}\"\n"),
            "t.toml:2:5: vars.a: variables refer to each other in a cycle: a -> b -> a"
        );
        assert_eq!(
            err("[vars]\na = \"${b\"\n"),
            "t.toml:2:6: vars.a: `${` without a closing `}` (write `$${` for a literal `${`)"
        );
        let e = Rules::new()
            .var("dst", "x")
            .env("X", "")
            .compile_str("[vars]\ndst_url = \"\"\n", "t.toml")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml: --var dst: unknown variable `dst`; [vars] declares: dst_url"
        );
        assert_eq!(e.kind(), ErrorKind::UnknownVariable);
        assert_eq!(e.line(), None);
    }

    const LOOKUP: &str = "[[lookup]]\nname = \"entity\"\ntable = \"elgg_entities\"\nkey = \"guid\"\nfields = [\"type\"]\n";

    #[test]
    fn lookup_used_before_its_table() {
        let e = compile(&format!(
            "{LOOKUP}[[mask]]\ntable = \"elgg_config\"\ncolumn = \"value\"\nstrategy = \"null\"\nwhen = {{ \"entity[guid].type\" = \"user\" }}\n"
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:10:10: mask[0].when.\"entity[guid].type\": lookup `entity` reads table `elgg_entities`, which is dumped after `elgg_config`, the table this rule is for (mysqldump writes tables in byte order of their names, so the lookup would still be empty)"
        );
        assert_eq!(e.kind(), ErrorKind::LookupOrder);
        assert_eq!(
            err(&format!(
                "{LOOKUP}[[table]]\nname = \"elgg_*\"\ndrop_rows = {{ \"entity[guid].type\" = \"user\" }}\n"
            )),
            "t.toml:8:15: table[0].drop_rows.\"entity[guid].type\": lookup `entity` reads table `elgg_entities`, which is not dumped before every table matching `elgg_*` (mysqldump writes tables in byte order of their names, so the lookup would still be empty)"
        );
        assert_eq!(
            err(&format!(
                "{LOOKUP}[[mask]]\ntable = \"elgg_entities\"\ncolumn = \"x\"\nstrategy = \"template\"\ntemplate = \"{{entity[guid].type}}\"\n"
            )),
            "t.toml:10:12: mask[0].template: lookup `entity` reads table `elgg_entities`, the same table this rule is for; mysqldump writes tables in byte order of their names, so the lookup would still be empty"
        );
        // Sorting after is fine, for a name and for a glob whose fixed part sorts after.
        compile(&format!(
            "{LOOKUP}[[mask]]\ntable = [\"elgg_metadata\", \"elgg_u*\"]\ncolumn = \"value\"\nstrategy = \"null\"\nwhen = {{ \"entity[entity_guid].type\" = \"user\" }}\n"
        ))
        .unwrap();
    }

    #[test]
    fn unknown_lookup_and_field() {
        assert_eq!(
            err(&format!(
                "{LOOKUP}[[mask]]\ntable = \"elgg_metadata\"\ncolumn = \"value\"\nstrategy = \"null\"\nwhen = {{ \"ent[guid].type\" = \"user\" }}\n"
            )),
            "t.toml:10:10: mask[0].when.\"ent[guid].type\": unknown lookup `ent`; [[lookup]] declares: entity"
        );
        assert_eq!(
            err(&format!(
                "{LOOKUP}[[mask]]\ntable = \"elgg_metadata\"\ncolumn = \"value\"\nstrategy = \"null\"\nwhen = {{ \"entity[guid].subtype\" = \"user\" }}\n"
            )),
            "t.toml:10:10: mask[0].when.\"entity[guid].subtype\": lookup `entity` has no field `subtype`; its fields are: type"
        );
        assert_eq!(
            err("[[lookup]]\nname = \"e\"\ntable = \"t_*\"\nkey = \"k\"\nfields = [\"f\"]\n"),
            "t.toml:3:9: lookup[0].table: a lookup reads one table: give its exact name, not a glob"
        );
    }

    #[test]
    fn missing_secret() {
        let fake =
            "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"email\"\n";
        let e = compile(&format!(
            "[vars]\nsecret = \"${{env:UNDERSTUDY_SECRET}}\"\n{fake}"
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:6:12: mask[0].strategy: strategy \"fake\" needs the masking secret, but `secret` is empty: environment variable UNDERSTUDY_SECRET is not set (set it, or give the secret in a file with --secret-file FILE)"
        );
        assert_eq!(e.kind(), ErrorKind::MissingSecret);
        assert_eq!(
            err(fake),
            "t.toml:4:12: mask[0].strategy: strategy \"fake\" needs the masking secret, but [vars] declares no `secret`; add secret = \"${env:UNDERSTUDY_SECRET}\" to [vars]"
        );
        assert_eq!(
            err("[vars]\nsecret = \"\"\n[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"hash\"\n"),
            "t.toml:6:12: mask[0].strategy: strategy \"hash\" needs the masking secret, but `secret` is empty (set UNDERSTUDY_SECRET, or pass --secret-file FILE)"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"template\"\ntemplate = \"z{hash(31)}\"\n"),
            "t.toml:5:12: mask[0].template: `{hash(N)}` needs the masking secret, but [vars] declares no `secret`; add secret = \"${env:UNDERSTUDY_SECRET}\" to [vars]"
        );
        // Given through the environment or --var, it compiles.
        compile_env(
            &format!("[vars]\nsecret = \"${{env:UNDERSTUDY_SECRET}}\"\n{fake}"),
            &[("UNDERSTUDY_SECRET", "k-is-a-16-byte-secret")],
        )
        .unwrap();
        let mut r = Rules::new();
        r.env("NONE", "").var("secret", "k-is-a-16-byte-secret");
        r.compile_str(
            &format!("[vars]\nsecret = \"${{env:UNDERSTUDY_SECRET}}\"\n{fake}"),
            "t.toml",
        )
        .unwrap();
    }

    #[test]
    fn other_semantic_errors() {
        assert_eq!(
            err("[[table]]\nname = \"t\"\naction = \"drop_data\"\ndrop_rows = { a = \"b\" }\n"),
            "t.toml:4:13: table[0].drop_rows: `drop_rows` only makes sense with action = \"keep\": this table has no rows to choose from"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"email\"\nstrategy = \"template\"\ntemplate = \"x{email}\"\n"),
            "t.toml:5:12: mask[0].template: the template uses `email`, the column it masks, which would copy the unmasked value"
        );
        assert_eq!(
            err("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"template\"\ntemplate = \"x{a\"\n"),
            "t.toml:5:12: mask[0].template: `{` without a closing `}` (write `{{` for a literal brace)"
        );
        assert_eq!(
            err("[vars]\ndst = \"\"\n[[replace]]\nfrom = \"/a/\"\nto = \"${dst}\"\n"),
            "t.toml:5:6: replace[0].to: `to` is empty after substitution (`dst` not given) but `from` is not, so every match would be deleted; give `dst`, or write to = \"\" to delete on purpose"
        );
        assert_eq!(
            err("[[replace]]\nfrom = \"/srv/a/\"\nto = \"/srv/b/\"\nvariants = [\"http_https\"]\n"),
            "t.toml:4:12: replace[0].variants: variant `http_https` needs `from` to start with http:// or https://"
        );
        assert_eq!(
            err(
                "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\nwhen = { c = [] }\n"
            ),
            "t.toml:5:14: mask[0].when.c: an empty list matches nothing"
        );
    }

    #[test]
    fn io_error() {
        let e = Rules::from_path("/nonexistent/rules.toml", &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(
            e.to_string()
                .starts_with("/nonexistent/rules.toml: cannot read rules: "),
            "{e}"
        );
    }
}

mod vars {
    use super::*;

    #[test]
    fn substitution_everywhere() {
        let r = compile(
            "[vars]\nprefix = \"wp_\"\nhost = \"a.org\"\nurl = \"https://${host}/\"\n\
             [[table]]\nname = \"${prefix}[0-9]*_options\"\naction = \"skip\"\n\
             [[mask]]\ntable = \"${prefix}users\"\ncolumn = \"user_${host}\"\nstrategy = \"fixed\"\nvalue = \"$${not} ${url}\"\n\
             [[replace]]\nfrom = \"${url}\"\nto = \"https://b.net/\"\nvariants = []\n",
        )
        .unwrap();
        assert_eq!(r.table_action("wp_12_options").action, Action::Skip);
        assert_eq!(r.table_action("wp_options").action, Action::Keep);
        let m = r.masks_for("wp_users").next().unwrap();
        assert_eq!(m.column(), "user_a.org");
        assert_eq!(
            mask1(&r, "wp_users", "x", &vec![]).unwrap(),
            "${not} https://a.org/"
        );
        // A URL's trailing slash is dropped on both sides (see `trim_url_slash`).
        let p = r.replacements()[0].pairs();
        assert_eq!(p[0].from(), b"https://a.org");
    }

    #[test]
    fn env_and_overrides() {
        let text = "[vars]\nsrc = \"${env:SRC_URL}\"\ndst = \"https://default/\"\n[[replace]]\nfrom = \"${src}\"\nto = \"${dst}\"\nvariants = []\n";
        let r = compile_env(text, &[("SRC_URL", "https://env/")]).unwrap();
        assert_eq!(r.replacements()[0].pairs()[0].from(), b"https://env");
        assert_eq!(r.replacements()[0].pairs()[0].to(), b"https://default");
        let r = Rules::new()
            .env("SRC_URL", "https://env/")
            .var("dst", "https://first/")
            .var("dst", "https://override/")
            .var("src", "https://cli/")
            .compile_str(text, "t.toml")
            .unwrap();
        assert_eq!(r.replacements()[0].pairs()[0].from(), b"https://cli");
        assert_eq!(r.replacements()[0].pairs()[0].to(), b"https://override");
        // Override values are literal.
        let r = Rules::from_str(text, "t.toml", &[("src".into(), "${dst}".into())]).unwrap();
        assert_eq!(r.replacements()[0].pairs()[0].from(), b"${dst}");
    }

    #[test]
    fn empty_from_is_dropped_and_reported() {
        let r = compile(
            "[vars]\nsrc_url = \"\"\ndst_url = \"\"\n[[replace]]\nname = \"site URL\"\nfrom = \"${src_url}\"\nto = \"${dst_url}\"\n\
             [[replace]]\nfrom = \"same\"\nto = \"same\"\n",
        )
        .unwrap();
        assert!(r.replacements().is_empty());
        let d: Vec<String> = r
            .dropped_replacements()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            d,
            [
                "site URL (line 4) moved nothing: `from` is empty (`src_url` not given)",
                "replace[1] (line 8) moved nothing: `from` equals `to`"
            ]
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let text = "[vars]\nsecret = \"hunter2-secret-value\"\nhidden = \"${env:HIDDEN}\"\n\
            [[replace]]\nfrom = \"${hidden}\"\nto = \"x-${secret}\"\n\
            [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fixed\"\nvalue = \"${hidden}\"\n\
            [[mask]]\ntable = \"t\"\ncolumn = \"d\"\nstrategy = \"template\"\ntemplate = \"{a}${hidden}\"\nwhen = { a = \"${hidden}\", b = { regex = \"${hidden}\" }, c = { glob = \"${hidden}*\" } }\n\
            [[append_sql]]\nsql = \"SELECT '${secret}';\"\n";
        let r = compile_env(text, &[("HIDDEN", "env-derived-value")]).unwrap();
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(!dbg.contains("env-derived"), "{dbg}");
        assert!(dbg.contains("redacted"), "{dbg}");
        // The values are still there for the engine.
        assert_eq!(
            r.append_sql().next(),
            Some("SELECT 'hunter2-secret-value';")
        );
        // An error about a secret-derived regex does not echo it.
        let e = compile_env(
            "[vars]\nhidden = \"${env:HIDDEN}\"\n[[table]]\nname = \"t\"\ndrop_rows = { a = { glob = \"${hidden}\" } }\n",
            &[("HIDDEN", "[unclosed-secret")],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:5:28: table[0].drop_rows.a.glob: unclosed `[` in glob"
        );
        // Regexes built from variables match the variable literally.
        let r = compile_env(
            "[vars]\nhidden = \"${env:HIDDEN}\"\n[[table]]\nname = \"t\"\ndrop_rows = { a = { regex = \"^${hidden}$\" } }\n",
            &[("HIDDEN", "a.(b")],
        )
        .unwrap();
        let c = r.table_action("t").drop_rows.unwrap();
        let s = LookupStore::new(&r);
        let row: Row = vec![("a", b("a.(b"))];
        assert!(c.matches(&row, &s).unwrap());
        let row: Row = vec![("a", b("ax(b"))];
        assert!(!c.matches(&row, &s).unwrap());
        // Messages that would quote a value read from the environment do not.
        let e = compile_env(
            "[vars]\nk = \"${env:KIND}\"\nsecret = \"s-is-a-16-byte-secret\"\n[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"${k}\"\n",
            &[("KIND", "emial-from-env")],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:8:8: mask[0].kind: unknown fake kind \"<redacted>\", expected one of email, name, first_name, last_name, username, phone, street, city, postcode, ipv4, ipv6, url, lorem, date"
        );
        // Values read from the environment outside [vars] are secret too.
        let r = compile_env(
            "[[lookup]]\nname = \"l\"\ntable = \"${env:LOOKUP_TABLE}\"\nkey = \"k\"\nfields = [\"f\"]\n",
            &[("LOOKUP_TABLE", "private_table_name")],
        )
        .unwrap();
        assert_eq!(r.lookups()[0].table(), "private_table_name");
        assert!(!format!("{r:?}").contains("private_table"), "{r:?}");
        assert!(!format!("{r:#?}").contains("private_table"), "{r:#?}");
        // The builder's Debug shows names, not values.
        let mut rb = Rules::new();
        rb.var("secret", "hunter2-hunter2-hunter2");
        assert!(!format!("{rb:?}").contains("hunter2"));
    }
}

mod conditions {
    use super::*;

    fn cond(when: &str) -> CompiledRules {
        compile(&format!("[[table]]\nname = \"t\"\ndrop_rows = {when}\n")).unwrap()
    }

    fn eval(r: &CompiledRules, row: &Row<'_>) -> Result<bool, EvalError> {
        let s = LookupStore::new(r);
        r.table_action("t").drop_rows.unwrap().matches(row, &s)
    }

    #[test]
    fn operators() {
        let cases: &[(&str, &str, Option<&str>, bool)] = &[
            ("{ a = \"x\" }", "a", Some("x"), true),
            ("{ a = \"x\" }", "a", Some("X"), false),
            ("{ a = \"x\" }", "a", None, false),
            ("{ a = 42 }", "a", Some("42"), true),
            ("{ a = [\"x\", 1] }", "a", Some("1"), true),
            ("{ a = [\"x\", 1] }", "a", Some("y"), false),
            ("{ a = [\"x\", 1] }", "a", None, false),
            (
                "{ a = { prefix = \"_transient_\" } }",
                "a",
                Some("_transient_x"),
                true,
            ),
            (
                "{ a = { prefix = \"_transient_\" } }",
                "a",
                Some("_site_transient_x"),
                false,
            ),
            (
                "{ a = { glob = \"*_transient_*\" } }",
                "a",
                Some("_site_transient_x"),
                true,
            ),
            ("{ a = { glob = \"*_transient_*\" } }", "a", None, false),
            (
                "{ a = { regex = \"^_(site_)?transient_\" } }",
                "a",
                Some("_site_transient_x"),
                true,
            ),
            (
                "{ a = { regex = \"^_(site_)?transient_\" } }",
                "a",
                Some("x_transient_"),
                false,
            ),
            ("{ a = { regex = \"x\" } }", "a", None, false),
            ("{ a = { null = true } }", "a", None, true),
            ("{ a = { null = true } }", "a", Some(""), false),
            ("{ a = { null = false } }", "a", Some(""), true),
            ("{ a = { not = \"x\" } }", "a", Some("y"), true),
            ("{ a = { not = \"x\" } }", "a", Some("x"), false),
            ("{ a = { not = \"x\" } }", "a", None, true),
            ("{ a = { not = [\"x\", \"y\"] } }", "a", Some("y"), false),
            ("{ a = { not = { null = true } } }", "a", Some("v"), true),
            (
                "{ a = { prefix = \"ab\", not = \"abc\" } }",
                "a",
                Some("abd"),
                true,
            ),
            (
                "{ a = { prefix = \"ab\", not = \"abc\" } }",
                "a",
                Some("abc"),
                false,
            ),
        ];
        let mut keyed = 0;
        for (when, col, val, want) in cases {
            let r = cond(when);
            let cell = val.map_or(Cell::Null, |v| b(v));
            let row: Row = vec![(col, cell)];
            assert_eq!(eval(&r, &row).unwrap(), *want, "{when} on {val:?}");
            // Where the condition is a column against texts, membership says the same.
            let c = r.table_action("t").drop_rows.unwrap();
            if let Some((column, texts)) = c.column_in() {
                assert_eq!(column, *col);
                let member = val.is_some_and(|v| texts.contains(&v.as_bytes()));
                assert_eq!(member, *want, "{when} on {val:?} as texts {texts:?}");
                keyed += 1;
            }
        }
        assert_eq!(keyed, 7, "the `=` and `[…]` cases");
        let two = cond("{ a = \"x\", b = \"y\" }");
        assert!(two
            .table_action("t")
            .drop_rows
            .unwrap()
            .column_in()
            .is_none());
    }

    #[test]
    fn all_keys_anded_and_missing_column() {
        let r = cond("{ a = \"1\", b = { prefix = \"x\" } }");
        assert!(eval(&r, &vec![("a", b("1")), ("b", b("xy"))]).unwrap());
        assert!(!eval(&r, &vec![("a", b("2")), ("b", b("xy"))]).unwrap());
        assert!(!eval(&r, &vec![("a", b("1")), ("b", b("y"))]).unwrap());
        assert_eq!(
            eval(&r, &vec![("b", b("x"))]).unwrap_err().to_string(),
            "table[0].drop_rows: the row has no column `a`"
        );
        let cols: Vec<&str> = r.table_action("t").drop_rows.unwrap().columns().collect();
        assert_eq!(cols, ["a", "b"]);
    }

    #[test]
    fn lookups() {
        let r = compile(
            "[[lookup]]\nname = \"entity\"\ntable = \"entities\"\nkey = \"guid\"\nfields = [\"type\", \"subtype\"]\n\
             [[table]]\nname = \"metadata\"\ndrop_rows = { name = \"email\", \"entity[entity_guid].type\" = \"user\" }\n\
             [[table]]\nname = \"river\"\ndrop_rows = { \"entity[subject_guid].subtype\" = { null = true } }\n",
        )
        .unwrap();
        let id = r.lookups_fed_by("entities").next().unwrap();
        assert_eq!(r.lookups()[id.index()].name(), "entity");
        let mut s = LookupStore::new(&r);
        for (guid, ty, sub) in [
            ("1", "site", None),
            ("7", "user", None),
            ("8", "object", Some("blog")),
        ] {
            let row: Row = vec![
                ("guid", b(guid)),
                ("type", b(ty)),
                ("subtype", sub.map_or(Cell::Null, b)),
            ];
            s.record(id, &row).unwrap();
        }
        let c = r.table_action("metadata").drop_rows.unwrap();
        let row: Row = vec![("name", b("email")), ("entity_guid", b("7"))];
        assert_eq!(
            c.matches(&row, &s).unwrap_err().to_string(),
            "table[0].drop_rows: lookup `entity` is not filled yet: its table `entities` has not been read completely"
        );
        s.mark_complete(id);
        assert!(c.matches(&row, &s).unwrap());
        let row: Row = vec![("name", b("email")), ("entity_guid", b("1"))];
        assert!(!c.matches(&row, &s).unwrap());
        // No entry, or a NULL key: reads as NULL.
        let row: Row = vec![("name", b("email")), ("entity_guid", b("99"))];
        assert!(!c.matches(&row, &s).unwrap());
        let c2 = r.table_action("river").drop_rows.unwrap();
        assert!(c2.matches(&vec![("subject_guid", b("99"))], &s).unwrap());
        assert!(c2.matches(&vec![("subject_guid", Cell::Null)], &s).unwrap());
        assert!(c2.matches(&vec![("subject_guid", b("7"))], &s).unwrap());
        assert!(!c2.matches(&vec![("subject_guid", b("8"))], &s).unwrap());
        // The row lacks the key column.
        assert_eq!(
            c2.matches(&vec![("x", b("8"))], &s)
                .unwrap_err()
                .to_string(),
            "table[1].drop_rows: the row has no column `subject_guid`"
        );
    }
}

mod lookups {
    use super::*;

    #[test]
    fn store_keys_values_and_errors() {
        let r =
            compile("[[lookup]]\nname = \"l\"\ntable = \"src\"\nkey = \"k\"\nfields = [\"v\"]\n")
                .unwrap();
        let id = LookupId(0);
        let mut s = LookupStore::new(&r);
        let rows: &[(&str, Option<&str>)] = &[
            ("1", Some("one")),
            ("001", Some("zero-padded")),
            ("abc", Some("text")),
            ("18446744073709551615", Some("max")),
            ("2", None),
            ("1", Some("one again")),
        ];
        for (k, v) in rows {
            let row: Row = vec![("k", b(k)), ("v", v.map_or(Cell::Null, b))];
            s.record(id, &row).unwrap();
        }
        s.record(id, &vec![("k", Cell::Null), ("v", b("ignored"))])
            .unwrap();
        assert_eq!(s.len(id), 5);
        assert_eq!(s.field(id, b"1", 0), Some(b("one again")));
        assert_eq!(s.field(id, b"001", 0), Some(b("zero-padded")));
        assert_eq!(s.field(id, b"abc", 0), Some(b("text")));
        assert_eq!(s.field(id, b"18446744073709551615", 0), Some(b("max")));
        assert_eq!(s.field(id, b"2", 0), Some(Cell::Null));
        assert_eq!(s.field(id, b"3", 0), None);
        assert_eq!(
            s.record(id, &vec![("k", b("1"))]).unwrap_err().to_string(),
            "lookup `l`: table `src` has no column `v`"
        );
        fn is_sync<T: Send + Sync>() {}
        is_sync::<LookupStore>();
        is_sync::<CompiledRules>();
    }
}

mod masks {
    use super::*;

    /// What a scanner asks to tell a mask's output from data left as it was.
    #[test]
    fn outputs_a_scanner_recognises() {
        let rules = with_secret(
            r#"
[[mask]]
table = "t"
column = "pass"
strategy = "fixed"
value = "$2y$10$fixed"
[[mask]]
table = "t"
column = "mail"
strategy = "fake"
kind = "email"
domain = "masked.example"
[[mask]]
table = "t"
column = "note"
strategy = "scrub"
find = ["email"]
[[mask]]
table = "t"
column = "contact"
strategy = "template"
template = "user{id}@example.invalid"
[[mask]]
table = "t"
column = "ip"
strategy = "fake"
kind = "ipv4"
[[mask]]
table = "t"
column = "name"
strategy = "redact"
"#,
        );
        let m = |column: &str| rules.masks().iter().find(|m| m.column() == column).unwrap();
        assert!(m("pass").writes_constant(b"$2y$10$fixed"));
        assert!(!m("pass").writes_constant(b"$2y$10$other"));
        assert!(!m("name").writes_constant(b""));
        assert_eq!(m("mail").email_domain(), Some("masked.example"));
        assert_eq!(m("note").email_domain(), Some("example.invalid"));
        assert_eq!(m("contact").email_domain(), Some("example.invalid"));
        assert_eq!(m("pass").email_domain(), None);
        assert!(m("ip").writes_ip_addresses());
        assert!(
            !m("note").writes_ip_addresses(),
            "finds e-mail addresses only"
        );
        assert!(!m("mail").writes_ip_addresses());
    }

    const MASKS: &str = "\
[[mask]]\ntable = \"users\"\ncolumn = \"email\"\nstrategy = \"fake\"\nkind = \"email\"\n\
[[mask]]\ntable = \"comments\"\ncolumn = \"author_email\"\nstrategy = \"fake\"\nkind = \"email\"\n\
[[mask]]\ntable = \"users\"\ncolumn = \"login\"\nstrategy = \"fake\"\nkind = \"username\"\n";

    fn apply(r: &CompiledRules, i: usize, v: &str, fit: Fit) -> Result<String, MaskError> {
        let s = LookupStore::new(r);
        let mut out = Vec::new();
        let row: Row = vec![];
        match r.masks()[i].apply_into(b(v), &row, &s, fit, &mut out)? {
            Masked::Null => Ok("NULL".into()),
            Masked::Value => Ok(String::from_utf8(out).unwrap()),
        }
    }

    #[test]
    fn deterministic_across_tables_and_secrets() {
        let r = with_secret(MASKS);
        let a = apply(&r, 0, "alice@example.org", Fit::default()).unwrap();
        let a2 = apply(&r, 1, "alice@example.org", Fit::default()).unwrap();
        let a3 = apply(&with_secret(MASKS), 0, "alice@example.org", Fit::default()).unwrap();
        assert_eq!(a, a2);
        assert_eq!(a, a3);
        assert!(a.ends_with("@example.invalid"), "{a}");
        assert!(!a.contains("alice"), "{a}");
        let other = compile(&format!(
            "[vars]\nsecret = \"other-16-byte-secret\"\n{MASKS}"
        ))
        .unwrap();
        assert_ne!(
            a,
            apply(&other, 0, "alice@example.org", Fit::default()).unwrap()
        );
        assert_ne!(a, apply(&r, 0, "bob@example.org", Fit::default()).unwrap());
        // Another attempt (after a collision) gives another value, also deterministically.
        let fit1 = Fit {
            attempt: 1,
            ..Fit::default()
        };
        let b1 = apply(&r, 0, "alice@example.org", fit1).unwrap();
        assert_ne!(a, b1);
        assert_eq!(b1, apply(&r, 0, "alice@example.org", fit1).unwrap());
        // Shape: name.name.8hex@domain
        let (local, domain) = a.split_once('@').unwrap();
        assert_eq!(domain, "example.invalid");
        let parts: Vec<&str> = local.split('.').collect();
        assert_eq!(parts.len(), 3, "{a}");
        assert_eq!(parts[2].len(), 8);
        assert!(parts[2].bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn ten_thousand_distinct() {
        let r = with_secret(&format!(
            "{MASKS}[[mask]]\ntable = \"x\"\ncolumn = \"h\"\nstrategy = \"hash\"\nlength = 16\n"
        ));
        for i in [0, 2, 3] {
            let mut seen = std::collections::HashSet::new();
            for n in 0..10_000 {
                let v = apply(
                    &r,
                    i,
                    &format!("user{n}@example.org"),
                    Fit {
                        unique: true,
                        ..Fit::default()
                    },
                )
                .unwrap();
                assert!(seen.insert(v.clone()), "mask {i}: collision on {v}");
            }
        }
    }

    #[test]
    fn fits_max_chars() {
        let r = with_secret(MASKS);
        let full = apply(&r, 0, "alice@example.org", Fit::default()).unwrap();
        let keep = &full[full.len() - 25..]; // ".xxxxxxxx@example.invalid"
        assert!(keep.starts_with('.'));
        for max in [40, 30, 27] {
            let v = apply(
                &r,
                0,
                "alice@example.org",
                Fit {
                    max_chars: Some(max),
                    unique: true,
                    attempt: 0,
                },
            )
            .unwrap();
            assert!(v.chars().count() <= max, "{v}");
            assert!(v.ends_with(keep), "{v} keeps {keep}");
            assert!(!v.starts_with('.'), "{v}");
        }
        // Only the suffix and domain fit: the name part goes.
        let v = apply(
            &r,
            0,
            "alice@example.org",
            Fit {
                max_chars: Some(25),
                unique: true,
                attempt: 0,
            },
        )
        .unwrap();
        assert_eq!(v, keep[1..]);
        // Less than that: an error for a UNIQUE column, cut for any other.
        assert_eq!(
            apply(&r, 0, "alice@example.org", Fit { max_chars: Some(20), unique: true, attempt: 0 }).unwrap_err().to_string(),
            "mask[0] (users.email): the masked value needs at least 25 characters, but the column holds 20"
        );
        let v = apply(
            &r,
            0,
            "alice@example.org",
            Fit {
                max_chars: Some(20),
                unique: false,
                attempt: 0,
            },
        )
        .unwrap();
        assert_eq!(v.chars().count(), 20);
        // Characters, not bytes.
        let r = with_secret("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"redact\"\n");
        assert_eq!(
            apply(
                &r,
                0,
                "Müller-Lüdenscheidt",
                Fit {
                    max_chars: Some(7),
                    ..Fit::default()
                }
            )
            .unwrap(),
            "Xxxxxx-"
        );
    }

    #[test]
    fn strategies() {
        let r = with_secret(
            "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fixed\"\nvalue = \"$2y$10$abc\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"hash\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"hash\"\nlength = 10\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"redact\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"template\"\ntemplate = \"z{hash(31)}\"\n",
        );
        let f = Fit::default();
        assert_eq!(apply(&r, 0, "x", f).unwrap(), "NULL");
        assert_eq!(apply(&r, 1, "x", f).unwrap(), "$2y$10$abc");
        assert_eq!(apply(&r, 1, "", f).unwrap(), "$2y$10$abc");
        // HMAC-SHA256("test-secret-of-16-bytes", "alice@example.org"), checked with Python's hmac.
        assert_eq!(
            apply(&r, 2, "alice@example.org", f).unwrap(),
            "3d193d2d9f1d2a7ba5b4692812883518dd7e73cfba8a0d1490fe986ffe93100a"
        );
        assert_eq!(apply(&r, 3, "alice@example.org", f).unwrap(), "3d193d2d9f");
        assert_eq!(apply(&r, 2, "", f).unwrap(), "");
        assert_eq!(
            apply(&r, 4, "Anna-Lena Müller, Hauptstr. 12 (2. OG)", f).unwrap(),
            "Xxxx-Xxxx Xxxxxx, Xxxxxxxx. 00 (0. XX)"
        );
        assert_eq!(
            apply(&r, 5, "zEqEYabcdefghijklmnopqrstuvwxyz1", f).unwrap(),
            "z5047e6a0c797ec8a4cb9cf8e97f0475"
        );
        // NULL stays NULL everywhere.
        let s = LookupStore::new(&r);
        for m in r.masks() {
            assert_eq!(
                m.apply(Cell::Null, &Vec::<(&str, Cell)>::new(), &s, None, false)
                    .unwrap(),
                MaskValue::Null
            );
        }
        // Fixed values and templates are never cut.
        assert_eq!(
            apply(
                &r,
                1,
                "x",
                Fit {
                    max_chars: Some(5),
                    ..f
                }
            )
            .unwrap_err()
            .to_string(),
            "mask[1] (t.c): the masked value needs at least 10 characters, but the column holds 5"
        );
        // Strategies that cannot be unique say so when the engine asks.
        for (i, s) in [(1, "fixed"), (4, "redact")] {
            assert_eq!(
                apply(&r, i, "x", Fit { unique: true, ..f }).unwrap_err().to_string(),
                format!("mask[{i}] (t.c): strategy `{s}` cannot make distinct values for a UNIQUE column")
            );
        }
        assert_eq!(
            apply(&r, 3, "x", Fit { unique: true, ..f })
                .unwrap_err()
                .to_string(),
            "mask[3] (t.c): the masked value needs at least 16 characters, but the column holds 10"
        );
        assert_eq!(
            apply(&r, 0, "x", Fit { unique: true, ..f }).unwrap(),
            "NULL"
        );
    }

    #[test]
    fn fake_kinds() {
        let kinds = [
            "email",
            "name",
            "first_name",
            "last_name",
            "username",
            "phone",
            "street",
            "city",
            "postcode",
            "ipv4",
            "ipv6",
            "url",
            "lorem",
            "date",
        ];
        let mut text = String::new();
        for k in kinds {
            text.push_str(&format!(
                "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"{k}\"\n"
            ));
        }
        text.push_str("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"date\"\nrange = [\"2020-02-28\", \"2020-03-01\"]\n");
        text.push_str("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"lorem\"\nwords = 3\n");
        text.push_str("[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"url\"\ndomain = \"test.example\"\n");
        let r = with_secret(&text);
        let f = Fit::default();
        for n in 0..200 {
            let input = format!("input value {n} with four words");
            let v: Vec<String> = (0..r.masks().len())
                .map(|i| apply(&r, i, &input, f).unwrap())
                .collect();
            assert!(v[0].ends_with("@example.invalid"), "{}", v[0]);
            assert_eq!(v[1].split(' ').count(), 2, "{}", v[1]);
            assert!(!v[2].is_empty() && !v[3].is_empty());
            assert!(v[4].split('.').count() == 3, "{}", v[4]);
            assert!(
                v[5].bytes().filter(u8::is_ascii_digit).count() >= 10,
                "{}",
                v[5]
            );
            assert!(
                v[6].split(' ').next().unwrap().parse::<u32>().is_ok(),
                "{}",
                v[6]
            );
            assert!(!v[7].is_empty());
            assert!(
                v[8].bytes().all(|c| c.is_ascii_digit() || c == b'-'),
                "{}",
                v[8]
            );
            assert!(v[9].parse::<std::net::Ipv4Addr>().is_ok(), "{}", v[9]);
            let ip6: std::net::Ipv6Addr = v[10].parse().unwrap();
            assert_eq!(ip6.segments()[..2], [0x2001, 0xdb8]);
            assert!(v[11].starts_with("https://example.invalid/~"), "{}", v[11]);
            assert_eq!(v[12].split(' ').count(), 6, "{}", v[12]);
            assert!(v[12].ends_with('.'));
            assert!(
                ("1940-01-01".."2006-01-01").contains(&v[13].as_str()),
                "{}",
                v[13]
            );
            assert!(
                ["2020-02-28", "2020-02-29", "2020-03-01"].contains(&v[14].as_str()),
                "{}",
                v[14]
            );
            assert_eq!(v[15].split(' ').count(), 3, "{}", v[15]);
            assert!(v[16].starts_with("https://test.example/~"), "{}", v[16]);
        }
        // Empty stays empty.
        assert_eq!(apply(&r, 0, "", f).unwrap(), "");
        // Unique variants carry the suffix; kinds without room refuse.
        let u = Fit { unique: true, ..f };
        assert_eq!(apply(&r, 1, "x", u).unwrap().split(' ').count(), 3);
        assert_eq!(
            apply(&r, 9, "x", u).unwrap_err().to_string(),
            "mask[9] (t.c): strategy `fake:ipv4` cannot make distinct values for a UNIQUE column"
        );
    }

    #[test]
    fn templates_with_columns_and_lookups() {
        let r = compile(
            "[vars]\nsecret = \"s-is-a-16-byte-secret\"\ndomain = \"ex{am}ple.invalid\"\n\
             [[lookup]]\nname = \"entity\"\ntable = \"entities\"\nkey = \"guid\"\nfields = [\"type\", \"subtype\"]\n\
             [[mask]]\ntable = \"metadata\"\ncolumn = \"value\"\nstrategy = \"template\"\n\
             template = \"{entity[entity_guid].type}{entity_guid}@${domain} {{literal}}\"\n\
             when = { name = \"email\" }\n",
        )
        .unwrap();
        let mut s = LookupStore::new(&r);
        let id = LookupId(0);
        s.record(
            id,
            &vec![
                ("guid", b("7")),
                ("type", b("user")),
                ("subtype", Cell::Null),
            ],
        )
        .unwrap();
        let m = &r.masks()[0];
        let row: Row = vec![
            ("name", b("email")),
            ("entity_guid", b("7")),
            ("value", b("a@b.c")),
        ];
        assert_eq!(
            m.apply(b("a@b.c"), &row, &s, None, false).unwrap_err().to_string(),
            "mask[0] (metadata.value): lookup `entity` is not filled yet: its table `entities` has not been read completely"
        );
        s.mark_complete(id);
        assert!(m.applies(&row, &s).unwrap());
        assert_eq!(
            text(m.apply(b("a@b.c"), &row, &s, None, false).unwrap()),
            "user7@ex{am}ple.invalid {literal}"
        );
        let cols: Vec<&str> = m.columns().collect();
        assert_eq!(cols, ["value", "name", "entity_guid", "entity_guid"]);
        // Fail closed: missing column, NULL column, no lookup entry, NULL field.
        let cases: &[(Row, &str)] = &[
            (vec![("name", b("email"))], "mask[0] (metadata.value): the template needs column `entity_guid`, which the row does not have"),
            (vec![("entity_guid", Cell::Null)], "mask[0] (metadata.value): lookup `entity` has no row whose key equals this row's `entity_guid`"),
            (vec![("entity_guid", b("8"))], "mask[0] (metadata.value): lookup `entity` has no row whose key equals this row's `entity_guid`"),
        ];
        for (row, want) in cases {
            assert_eq!(
                m.apply(b("x"), row, &s, None, false)
                    .unwrap_err()
                    .to_string(),
                *want
            );
        }
        let r = compile(
            "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"template\"\ntemplate = \"user{guid}\"\n",
        )
        .unwrap();
        let s = LookupStore::new(&r);
        assert_eq!(
            r.masks()[0]
                .apply(b("x"), &vec![("guid", Cell::Null)], &s, None, false)
                .unwrap_err()
                .to_string(),
            "mask[0] (t.c): the template needs column `guid`, which is NULL in this row"
        );
        assert_eq!(
            r.masks()[0]
                .apply(b("x"), &vec![("guid", b("12"))], &s, Some(5), false)
                .unwrap_err()
                .to_string(),
            "mask[0] (t.c): the masked value needs at least 6 characters, but the column holds 5"
        );
    }

    #[test]
    fn inside_and_path() {
        let r = with_secret(
            "[[mask]]\ntable = \"wp_usermeta\"\ncolumn = \"meta_value\"\nstrategy = \"fake\"\nkind = \"ipv4\"\n\
             inside = \"serialized\"\npath = [\"*\", \"ip\"]\nwhen = { meta_key = \"session_tokens\" }\n",
        );
        let m = &r.masks()[0];
        assert_eq!(m.inside(), Some(Inside::Serialized));
        assert_eq!(m.path(), [PathSegment::Any, PathSegment::Key("ip".into())]);
        assert_eq!(m.strategy(), StrategyKind::Fake);
        assert_eq!(m.strategy_name(), "fake:ipv4");
    }
}

mod replace_and_tables {
    use super::*;

    #[test]
    fn filters() {
        let r = compile(
            "[[replace]]\nfrom = \"https://a/\"\nto = \"https://b/\"\nskip_columns = [\"wp_posts.guid\", \"*_sessions.data\"]\n\
             [[replace]]\nfrom = \"/srv/a/\"\nto = \"/srv/b/\"\ntables = [\"wp_*\"]\nskip_tables = [\"wp_users\"]\ncolumns = [\"option_value\", \"wp_postmeta.meta_*\"]\nserialized = \"repair\"\n",
        )
        .unwrap();
        let [a, p] = r.replacements() else { panic!() };
        assert!(a.applies_to("wp_posts", "post_content"));
        assert!(!a.applies_to("wp_posts", "guid"));
        assert!(a.applies_to("wp_2_posts", "guid"));
        assert!(!a.applies_to("users_sessions", "data"));
        assert_eq!(a.serialized(), SerializedMode::Auto);
        assert!(p.applies_to("wp_options", "option_value"));
        assert!(p.applies_to("wp_postmeta", "meta_value"));
        assert!(!p.applies_to("wp_posts", "meta_value"));
        assert!(!p.applies_to("wp_users", "option_value"));
        assert!(!p.applies_to("other", "option_value"));
        assert!(p.applies_to_table("wp_options") && !p.applies_to_table("wp_users"));
        assert_eq!(p.serialized(), SerializedMode::Repair);
        assert_eq!(p.pairs().len(), 2);
        assert!(r.needs_columns("wp_posts"));
        assert!(r.needs_columns("wp_options"));
        assert!(!r.needs_columns("other"));
    }

    #[test]
    fn table_actions_first_match() {
        let r = compile(
            "[[table]]\nname = \"wp_options\"\ndrop_rows = { option_name = { prefix = \"_transient_\" } }\n\
             [[table]]\nname = [\"wp_*sessions\", \"cache_*\"]\naction = \"drop_data\"\n\
             [[table]]\nname = \"wp_*\"\naction = \"keep\"\n\
             [[table]]\nname = \"*\"\naction = \"skip\"\n",
        )
        .unwrap();
        assert!(r.table_action("wp_options").drop_rows.is_some());
        assert_eq!(r.table_action("wp_options").action, Action::Keep);
        assert_eq!(
            r.table_action("wp_woocommerce_sessions").action,
            Action::DropData
        );
        assert_eq!(r.table_action("cache_form").action, Action::DropData);
        assert_eq!(r.table_action("wp_posts").action, Action::Keep);
        assert_eq!(r.table_action("other").action, Action::Skip);
        assert!(r.needs_columns("wp_options"));
        assert!(!r.needs_columns("wp_posts"));
    }

    #[test]
    fn coverage_and_policy() {
        let r = with_secret(
            "[policy]\nunlisted = \"fail\"\n\
             [[table]]\nname = \"sessions\"\naction = \"drop_data\"\n\
             [[table]]\nname = \"cache\"\naction = \"skip\"\n\
             [[keep]]\ntable = \"users\"\ncolumns = [\"id\", \"created_*\"]\n\
             [[keep]]\ntable = [\"log\", \"config\"]\ncolumns = [\"*\"]\n\
             [[mask]]\ntable = \"users\"\ncolumn = \"email\"\nstrategy = \"fake\"\nkind = \"email\"\nwhen = { id = { not = \"1\" } }\n",
        );
        assert_eq!(r.unlisted(), Unlisted::Fail);
        for (t, c, want) in [
            ("sessions", "data", true),
            ("cache", "x", true),
            ("users", "id", true),
            ("users", "created_at", true),
            ("users", "email", true),
            ("users", "name", false),
            ("log", "anything", true),
            ("other", "x", false),
        ] {
            assert_eq!(r.is_covered(t, c), want, "{t}.{c}");
        }
        // The same answers for whole tables at once.
        let columns = ["id", "created_at", "email", "name", "anything", "data", "x"];
        for table in ["sessions", "cache", "users", "log", "other"] {
            let one_by_one: Vec<&str> = columns
                .iter()
                .copied()
                .filter(|c| !r.is_covered(table, c))
                .collect();
            assert_eq!(r.uncovered(table, columns), one_by_one, "{table}");
        }
        assert_eq!(
            r.uncovered("users", columns),
            ["name", "anything", "data", "x"]
        );
        assert!(r.needs_columns("other"));
        assert!(!r.needs_columns("sessions"));
        assert_eq!(compile("").unwrap().unlisted(), Unlisted::Keep);
        assert!(!compile("").unwrap().needs_columns("x"));
    }

    #[test]
    fn input_and_append_sql() {
        let r = compile(
            "[vars]\nannouncement = \"\"\nprefix = \"elgg_\"\n\
             [input]\nstrip_sandbox_line = true\nstrip_definers = true\n\
             [[append_sql]]\nsql = \"INSERT INTO ${prefix}x VALUES ('${announcement}');\"\nrequires = [\"announcement\"]\n\
             [[append_sql]]\nsql = \"DELETE FROM ${prefix}queue;\"\n",
        )
        .unwrap();
        assert_eq!(
            r.input(),
            InputOptions {
                strip_sandbox_line: true,
                strip_database_statements: false,
                strip_definers: true
            }
        );
        assert_eq!(
            r.append_sql().collect::<Vec<_>>(),
            ["DELETE FROM elgg_queue;"]
        );
        let r = Rules::from_str(
            "[vars]\nannouncement = \"\"\n[[append_sql]]\nsql = \"SELECT '${announcement}';\"\nrequires = [\"announcement\"]\n",
            "t.toml",
            &[("announcement".into(), "Don't \\ log in".into())],
        )
        .unwrap();
        assert_eq!(
            r.append_sql().collect::<Vec<_>>(),
            [r"SELECT 'Don\'t \\ log in';"]
        );
    }
}

mod prop {
    //! Masks never echo the original value.
    //!
    //! What is guaranteed: `null`, `fixed` and placeholder-free templates ignore the
    //! original; `hash` and `fake` see it only through a keyed digest; `redact` keeps only
    //! its shape (non-alphanumeric characters, and letter case). So the output can contain
    //! the original only by coincidence of vocabulary:
    //! - constant outputs: when the original is a substring of the constant;
    //! - `hash`: lowercase hex only, so never for an original with an upper-case letter
    //!   or a character outside `[0-9a-f]`;
    //! - `redact`: when every letter of the original is `x`/`X`, every digit `0`;
    //! - `fake`: the word lists have no token mixing upper case, lower case and digits
    //!   without a separator, so never for an original with all three in a row of ≥ 6
    //!   alphanumerics. (Generated originals here always have that.)
    use super::*;
    use proptest::prelude::*;

    fn rules() -> CompiledRules {
        let kinds = [
            "email",
            "name",
            "first_name",
            "last_name",
            "username",
            "phone",
            "street",
            "city",
            "postcode",
            "ipv4",
            "ipv6",
            "url",
            "lorem",
            "date",
        ];
        let mut t = String::from(
            "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fixed\"\nvalue = \"masked@example.invalid\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"template\"\ntemplate = \"user{id}@example.invalid\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"template\"\ntemplate = \"u{hash(12)}\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"hash\"\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"hash\"\nlength = 8\n\
             [[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"redact\"\n",
        );
        for k in kinds {
            t.push_str(&format!(
                "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"fake\"\nkind = \"{k}\"\n"
            ));
        }
        with_secret(&t)
    }

    fn could_echo(strategy: &str, orig: &str, constant: Option<&str>) -> bool {
        if let Some(c) = constant {
            return c.contains(orig);
        }
        match strategy {
            "null" => false,
            "hash" => orig.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
            "redact" => orig
                .chars()
                .filter(|c| c.is_alphanumeric())
                .all(|c| matches!(c, 'x' | 'X' | '0')),
            _ => {
                // fake: needs a run of ≥ 6 alphanumerics with upper, lower and digit.
                let has_mixed_run = orig.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
                    w.len() >= 6
                        && w.bytes().any(|c| c.is_ascii_uppercase())
                        && w.bytes().any(|c| c.is_ascii_lowercase())
                        && w.bytes().any(|c| c.is_ascii_digit())
                });
                !has_mixed_run
            }
        }
    }

    fn originals() -> impl Strategy<Value = String> {
        prop_oneof![
            // E-mail-like and name-like values with a mixed run.
            "[a-z]{0,6}[A-Z][a-z][0-9][A-Za-z0-9]{3,20}(@[a-z]{2,8}\\.(org|de))?",
            // Anything printable, including non-ASCII, at least 6 bytes.
            "\\PC{6,30}",
            // Things that look like the vocabulary.
            "(example|invalid|user|masked|https|[a-f0-9]{6,12}|[xX0 .-]{6,12})",
        ]
        .prop_filter("at least 6 bytes", |s| s.len() >= 6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn masks_never_echo(orig in originals(), i in 0usize..21, max in proptest::option::of(6usize..64)) {
            let r = rules();
            let s = LookupStore::new(&r);
            let m = &r.masks()[i];
            let row: Row = vec![("id", b("42")), ("c", b(&orig))];
            let fit = Fit { max_chars: max, unique: false, attempt: 0 };
            let mut out = Vec::new();
            let res = m.apply_into(b(&orig), &row, &s, fit, &mut out);
            let masked = match res {
                Ok(Masked::Null) => return Ok(()),
                Ok(Masked::Value) => String::from_utf8_lossy(&out).into_owned(),
                // Constants that do not fit refuse; that is not an echo.
                Err(MaskError::DoesNotFit { .. }) => return Ok(()),
                Err(e) => panic!("{e}"),
            };
            if let Some(max) = max {
                prop_assert!(masked.chars().count() <= max);
            }
            let kind = m.strategy_name().split(':').next().unwrap();
            let constant = match i {
                1 => Some("masked@example.invalid"),
                2 => Some("user42@example.invalid"),
                _ => None,
            };
            if !could_echo(kind, &orig, constant) {
                prop_assert!(!masked.contains(&orig), "{} echoed {:?} in {:?}", m.label(), orig, masked);
            }
            // Determinism: same input, same output.
            let again = m.apply(b(&orig), &row, &s, max, false).unwrap();
            prop_assert_eq!(again, MaskValue::Bytes(out.clone()));
        }
    }
}

mod fail_closed {
    use super::*;

    #[test]
    fn url_pairs_lose_their_trailing_slash_together() {
        let pairs = |from: &str, to: &str| {
            let r = compile(&format!(
                "[[replace]]\nfrom = \"{from}\"\nto = \"{to}\"\nvariants = []\n"
            ))
            .unwrap();
            let p = &r.replacements()[0].pairs()[0];
            (
                String::from_utf8(p.from().to_vec()).unwrap(),
                String::from_utf8(p.to().to_vec()).unwrap(),
            )
        };
        let bare = ("https://a.org".to_owned(), "https://b.net".to_owned());
        assert_eq!(pairs("https://a.org/", "https://b.net"), bare);
        assert_eq!(pairs("https://a.org", "https://b.net/"), bare);
        assert_eq!(pairs("https://a.org/", "https://b.net/"), bare);
        assert_eq!(
            pairs("https://a.org/blog/", "https://b.net/"),
            ("https://a.org/blog".to_owned(), "https://b.net".to_owned())
        );
        // Directories too (they keep to boundaries), so a root given as ABSPATH gives it
        // also moves where it is written without its slash.
        assert_eq!(
            pairs("/var/www/", "/srv/"),
            ("/var/www".to_owned(), "/srv".to_owned())
        );
        let r = compile("[[replace]]\nfrom = \"/var/www/\"\nto = \"/srv/\"\nvariants = []\nboundaries = false\n")
            .unwrap();
        assert_eq!(r.replacements()[0].pairs()[0].from(), b"/var/www/");
        assert!(!r.replacements()[0].boundaries());
        // Other text keeps its slash.
        assert_eq!(
            pairs("https://a.org/", "a path/"),
            ("https://a.org/".to_owned(), "a path/".to_owned())
        );
    }

    #[test]
    fn must_move_needs_its_from_and_names_where() {
        let text = "[vars]\nsrc_url = \"\"\nprefix = \"wp_\"\n[[replace]]\nname = \"site URL\"\nfrom = \"${src_url}\"\nto = \"https://int.example\"\n\
                    must_move = { table = \"${prefix}options\", column = \"option_value\", when = { option_name = \"home\" } }\n";
        // It compiles (so a rule file can be checked without it), dropped, and says why.
        let r = compile(text).unwrap();
        let dropped = &r.dropped_replacements()[0];
        assert_eq!(
            dropped.must_move.as_deref(),
            Some("wp_options.option_value")
        );
        assert_eq!(
            dropped.to_string(),
            "site URL (line 4) must move and its `from` is empty: give --var src_url=… (the value the dump holds in wp_options.option_value), or the copy keeps pointing at production"
        );
        let r =
            compile(&text.replace("src_url = \"\"", "src_url = \"https://a.example\"")).unwrap();
        let must = r.replacements()[0].must_move().expect("must_move");
        assert!(must.applies_to_table("wp_options") && !must.applies_to_table("wp_2_options"));
        assert_eq!(must.column(), "option_value");
        assert_eq!(must.from(), "https://a.example");
        assert_eq!(must.shown(), "wp_options.option_value");
        assert!(must.condition().is_some());
    }

    #[test]
    fn optional_masks_and_paths() {
        let r = with_secret(
            "[[mask]]\ntable = \"t\"\ncolumn = \"c\"\nstrategy = \"null\"\n\
             [[mask]]\ntable = \"u\"\noptional = true\ncolumn = \"c\"\ninside = \"json\"\npath = [\"a\"]\npath_optional = true\nstrategy = \"null\"\n",
        );
        assert!(!r.masks()[0].is_optional() && !r.masks()[0].path_is_optional());
        assert!(r.masks()[1].is_optional() && r.masks()[1].path_is_optional());
    }

    #[test]
    fn a_prefix_check_finds_the_application_under_another_prefix() {
        let r = compile(
            "[vars]\nprefix = \"wp_\"\n[prefix]\nvar = \"prefix\"\nmarker_tables = [\"usermeta\", \"postmeta\"]\n",
        )
        .unwrap();
        let check = r.prefix_check().expect("[prefix]");
        assert_eq!((check.var(), check.value()), ("prefix", "wp_"));
        assert_eq!(check.foreign_prefix("wpx_usermeta"), Some("wpx_"));
        assert_eq!(check.foreign_prefix("usermeta"), Some(""));
        assert_eq!(check.foreign_prefix("blog_postmeta"), Some("blog_"));
        for same in [
            "wp_usermeta",
            "wp_2_postmeta",
            "wp_plugin_usermeta",
            "wpx_users",
        ] {
            assert_eq!(check.foreign_prefix(same), None, "{same}");
        }
        assert_eq!(
            err("[prefix]\nvar = \"prefix\"\nmarker_tables = [\"x\"]\n"),
            "t.toml:2:7: prefix.var: unknown variable `prefix`"
        );
    }

    #[test]
    fn a_short_secret_is_refused_without_showing_it() {
        let e = compile("[vars]\nsecret = \"fifteen-bytes!!\"\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WeakSecret);
        assert!(!e.to_string().contains("fifteen"), "{e}");
        assert!(compile("[vars]\nsecret = \"sixteen-bytes!!!\"\n").is_ok());
        // An empty secret is no secret (masks that need one say so).
        assert!(compile("[vars]\nsecret = \"\"\n").is_ok());
    }
}

/// `[vars_help]` and `Rules::vars_of_str`: what `understudy rules vars` lists.
mod vars_help {
    use super::*;

    #[test]
    fn listed_in_file_order_with_help() {
        let text =
            "[vars]\nsrc_url = \"\"\nprefix = \"wp_\"\nsecret = \"${env:UNDERSTUDY_SECRET}\"\n\
                    [vars_help]\nsrc_url = \"the production URL\"\n";
        let vars = Rules::vars_of_str(text, "t.toml").unwrap();
        let got: Vec<(&str, &str, Option<&str>)> = vars
            .iter()
            .map(|v| (v.name.as_str(), v.default.as_str(), v.help.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("src_url", "", Some("the production URL")),
                ("prefix", "wp_", None),
                ("secret", "${env:UNDERSTUDY_SECRET}", None),
            ]
        );
        // And the rules compile with it.
        compile(text).unwrap();
    }

    #[test]
    fn a_secret_written_out_is_not_shown() {
        let vars =
            Rules::vars_of_str("[vars]\nsecret = \"hunter2hunter2hunter2\"\n", "t.toml").unwrap();
        assert!(!vars[0].default.contains("hunter2"), "{:?}", vars[0]);
    }

    #[test]
    fn help_for_an_unknown_variable_is_an_error() {
        let text = "[vars]\nsrc_url = \"\"\n[vars_help]\nsrc_ulr = \"typo\"\n";
        let expected = "t.toml:4:1: vars_help.src_ulr: help for unknown variable `src_ulr`; \
                        [vars] declares: src_url";
        assert_eq!(err(text), expected);
        assert_eq!(
            Rules::vars_of_str(text, "t.toml").unwrap_err().to_string(),
            expected
        );
    }
}

/// `name` on `[[mask]]`: the report's label for the mask.
mod mask_name {
    use super::*;

    #[test]
    fn named_and_unnamed() {
        let rules = with_secret(
            "[[mask]]\nname = \"user e-mail\"\ntable = \"u\"\ncolumn = \"email\"\nstrategy = \"null\"\n\
             [[mask]]\ntable = \"u\"\ncolumn = \"name\"\nstrategy = \"null\"\n",
        );
        let masks = rules.masks();
        assert_eq!(masks[0].name(), "user e-mail");
        assert_eq!(masks[0].label(), "mask[0] \"user e-mail\" (u.email)");
        assert_eq!(masks[1].name(), "mask[1]");
        assert_eq!(masks[1].label(), "mask[1] (u.name)");
    }

    #[test]
    fn empty_name_is_an_error() {
        assert_eq!(
            err("[[mask]]\nname = \"\"\ntable = \"u\"\ncolumn = \"c\"\nstrategy = \"null\"\n"),
            "t.toml:2:8: mask[0].name: empty name"
        );
    }
}

/// `ReplaceScope`: `--skip-tables`, `--skip-columns`, `--include-columns`.
mod replace_scope {
    use super::*;

    #[test]
    fn as_wp_cli_takes_them() {
        let s = |t: &[&str], sc: &[&str], ic: &[&str]| {
            let v = |l: &[&str]| l.iter().map(|x| x.to_string()).collect::<Vec<_>>();
            ReplaceScope::new(&v(t), &v(sc), &v(ic)).unwrap()
        };
        let everything = s(&[], &[], &[]);
        assert!(everything.is_everything());
        assert!(everything.applies_to("wp_posts", "guid"));
        let skip = s(&["wp_*_log", "wp_users"], &["guid"], &[]);
        assert!(!skip.table_ok("wp_2_log"));
        assert!(!skip.table_ok("wp_users"));
        assert!(skip.table_ok("wp_usermeta"));
        assert!(!skip.applies_to("wp_posts", "guid"));
        assert!(skip.applies_to("wp_posts", "post_content"));
        assert!(!skip.needs_columns("wp_users"));
        assert!(skip.needs_columns("wp_posts"));
        let include = s(
            &[],
            &["wp_posts.post_title"],
            &["post_content", "post_title"],
        );
        assert!(include.applies_to("wp_posts", "post_content"));
        assert!(!include.applies_to("wp_posts", "post_title"));
        assert!(include.applies_to("wp_pages", "post_title"));
        assert!(!include.applies_to("wp_posts", "guid"));
    }

    #[test]
    fn a_bad_glob_names_its_option() {
        let e = ReplaceScope::new(&["wp_[".into()], &[], &[]).unwrap_err();
        assert!(e.starts_with("--skip-tables \"wp_[\": "), "{e}");
    }
}
