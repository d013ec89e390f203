//! Hosts and paths, not strings: a site's URL and root move, and the longer hosts and
//! directory names that begin the same way stay byte for byte, in every encoding the
//! replacements handle.

use crate::util::{run_with_stdin, understudy};

const RULES: &str = r#"
[vars]
src_url = "https://www.prod-net.example"
dst_url = "http://int.prod-net.test"
src_root = "/var/www/prod/"
dst_root = "/srv/int/"
[[replace]]
name = "root"
from = "${src_root}"
to = "${dst_root}"
[[replace]]
name = "site URL"
from = "${src_url}"
to = "${dst_url}"
variants = ["json_escaped", "url_encoded", "http_https", "scheme_relative"]
"#;

/// `s:N:"…";` of `text`.
fn ser(text: &str) -> String {
    format!("s:{}:\"{text}\";", text.len())
}

/// A dump of one table whose rows hold `values` (SQL literals as written).
fn dump(values: &[String]) -> String {
    let rows: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("({i},{v})"))
        .collect();
    format!(
        "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `v` longblob\n);\nINSERT INTO `t` VALUES {};\n",
        rows.join(",")
    )
}

/// SQL string literal of `text` as mysqldump writes it.
fn lit(text: &str) -> String {
    format!(
        "'{}'",
        text.replace('\\', "\\\\")
            .replace('\'', "\\'")
            .replace('"', "\\\"")
    )
}

fn hex(text: &str) -> String {
    let digits: String = text.bytes().map(|b| format!("{b:02X}")).collect();
    format!("0x{digits}")
}

fn rewrite(input: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let out = run_with_stdin(
        understudy()
            .args(["rewrite", "--rules"])
            .arg(&rules)
            .args(args),
        input.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each neighbour of the site's host and root, as each encoding writes it.
fn neighbours() -> Vec<String> {
    let texts = [
        "https://www.prod-net.example.com/partner/",
        "http://www.prod-net.example.com/partner/",
        "https://www.prod-net.example-backup.net/",
        "//www.prod-net.example.com/x.js",
        "https://www.prod-net.examples.org/",
        "/var/www/production/x",
        "/var/www/prod-old/up",
        "/var/www/prod_2/",
        "/backup/var/www/prod/x",
    ];
    let mut values = Vec::new();
    for t in texts {
        values.push(lit(&format!("see {t} here")));
        values.push(lit(&t.replace('/', "\\/")));
        values.push(lit(&format!("a:1:{{i:0;{}}}", ser(t))));
        let inner = format!("a:1:{{s:1:\"u\";{}}}", ser(t));
        values.push(lit(&format!("a:1:{{s:1:\"n\";{}}}", ser(&inner))));
        values.push(lit(&format!("?redirect={}", percent(t))));
        values.push(hex(&format!("see {t}")));
        values.push(format!("_binary {}", lit(t)));
    }
    values
}

/// `rawurlencode`.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn longer_hosts_and_directories_stay_byte_for_byte() {
    let values = neighbours();
    let input = dump(&values);
    let out = rewrite(&input, &["-j", "1"]);
    assert_eq!(out, input, "a neighbour moved");
    let out = rewrite(&input, &["-j", "2", "--batch-size", "64"]);
    assert_eq!(out, input, "a neighbour moved with threads");
}

#[test]
fn the_site_and_its_root_move_in_every_encoding() {
    let cases = [
        (
            lit("see https://www.prod-net.example/x."),
            lit("see http://int.prod-net.test/x."),
        ),
        (
            lit("https://www.prod-net.example"),
            lit("http://int.prod-net.test"),
        ),
        (
            lit("(http://www.prod-net.example)"),
            lit("(http://int.prod-net.test)"),
        ),
        (
            lit("src=//www.prod-net.example/a.js"),
            lit("src=//int.prod-net.test/a.js"),
        ),
        (
            lit(r#"{"u":"https:\/\/www.prod-net.example\/a"}"#),
            lit(r#"{"u":"http:\/\/int.prod-net.test\/a"}"#),
        ),
        (
            lit(&format!(
                "a:1:{{i:0;{}}}",
                ser("https://www.prod-net.example/x")
            )),
            lit(&format!(
                "a:1:{{i:0;{}}}",
                ser("http://int.prod-net.test/x")
            )),
        ),
        (
            lit(&format!(
                "a:1:{{s:1:\"n\";{}}}",
                ser(&format!(
                    "a:1:{{s:1:\"u\";{}}}",
                    ser("https://www.prod-net.example")
                ))
            )),
            lit(&format!(
                "a:1:{{s:1:\"n\";{}}}",
                ser(&format!(
                    "a:1:{{s:1:\"u\";{}}}",
                    ser("http://int.prod-net.test")
                ))
            )),
        ),
        (
            lit("?r=https%3A%2F%2Fwww.prod-net.example%2Fx"),
            lit("?r=http%3A%2F%2Fint.prod-net.test%2Fx"),
        ),
        (
            hex("go https://www.prod-net.example/"),
            hex("go http://int.prod-net.test/"),
        ),
        (
            format!("_binary {}", lit("https://www.prod-net.example")),
            format!("_binary {}", lit("http://int.prod-net.test")),
        ),
        // The root, given with its slash, moves with and without one.
        (
            lit("DocumentRoot /var/www/prod"),
            lit("DocumentRoot /srv/int"),
        ),
        (
            lit("/var/www/prod/wp-content/x"),
            lit("/srv/int/wp-content/x"),
        ),
        (
            lit(&format!(
                "O:8:\"stdClass\":1:{{s:4:\"root\";{}}}",
                ser("/var/www/prod")
            )),
            lit(&format!(
                "O:8:\"stdClass\":1:{{s:4:\"root\";{}}}",
                ser("/srv/int")
            )),
        ),
        (
            lit(r#"{"p":"\/var\/www\/prod\/x"}"#),
            lit(r#"{"p":"\/srv\/int\/x"}"#),
        ),
    ];
    let (from, to): (Vec<String>, Vec<String>) = cases.into_iter().unzip();
    for threads in [&["-j", "1"][..], &["-j", "2", "--batch-size", "64"]] {
        let out = rewrite(&dump(&from), threads);
        assert_eq!(out, dump(&to), "{threads:?}");
    }
}

#[test]
fn replace_on_the_command_line_keeps_to_boundaries_too() {
    let input = dump(&[
        lit("/var/www/production/x /var/www/prod/x"),
        lit(&format!("a:1:{{i:0;{}}}", ser("/var/www/prod-old/up"))),
        lit("https://www.prod-net.example.com/ https://www.prod-net.example/"),
    ]);
    let out = run_with_stdin(
        understudy().args([
            "rewrite",
            "--replace",
            "/var/www/prod=/srv/int",
            "--replace",
            "https://www.prod-net.example=http://int.prod-net.test",
        ]),
        input.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = dump(&[
        lit("/var/www/production/x /srv/int/x"),
        lit(&format!("a:1:{{i:0;{}}}", ser("/var/www/prod-old/up"))),
        lit("https://www.prod-net.example.com/ http://int.prod-net.test/"),
    ]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn a_rule_may_opt_out_of_boundaries() {
    let rules = RULES.replace("name = \"root\"", "name = \"root\"\nboundaries = false");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    // Without boundaries the root keeps its slash (else it would match inside longer names).
    let input = dump(&[lit("/var/www/prod/x /var/www/production")]);
    let out = run_with_stdin(
        understudy().args(["rewrite", "--rules"]).arg(&path),
        input.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        dump(&[lit("/srv/int/x /var/www/production")])
    );
}

/// The network example of docs/rules.md ("Hosts with their subdomains"), after a site-URL
/// rule, as the WordPress pack has them.
const NETWORK: &str = r#"
[[replace]]
name = "site URL"
from = "https://www.prod-net.example"
to = "http://int-net.example"
variants = ["json_escaped", "url_encoded", "http_https", "scheme_relative"]
[[replace]]
name = "network hosts"
from = "www.prod-net.example"
to = "int-net.example"
subdomains = true
"#;

fn rewrite_network(input: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, NETWORK).unwrap();
    let out = run_with_stdin(
        understudy()
            .args(["rewrite", "--rules"])
            .arg(&rules)
            .args(args),
        input.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_network_moves_its_sites_hosts_in_every_encoding() {
    let moves = [
        (
            "https://www.prod-net.example/about",
            "http://int-net.example/about",
        ),
        ("www.prod-net.example", "int-net.example"),
        ("prod-net.example", "int-net.example"),
        (
            "https://de.prod-net.example/x",
            "https://de.int-net.example/x",
        ),
        (
            "//eu.shop.prod-net.example/a.js",
            "//eu.shop.int-net.example/a.js",
        ),
        ("de.prod-net.example.", "de.int-net.example."),
        ("mail@de.prod-net.example", "mail@de.int-net.example"),
    ];
    let mut from = Vec::new();
    let mut to = Vec::new();
    for (a, b) in moves {
        from.push(lit(&format!("see {a} here")));
        to.push(lit(&format!("see {b} here")));
        from.push(lit(&format!("{{\"u\":\"{}\"}}", a.replace('/', "\\/"))));
        to.push(lit(&format!("{{\"u\":\"{}\"}}", b.replace('/', "\\/"))));
        from.push(lit(&format!("a:1:{{i:0;{}}}", ser(a))));
        to.push(lit(&format!("a:1:{{i:0;{}}}", ser(b))));
        let nest = |t: &str| {
            let inner = format!("a:1:{{s:1:\"u\";{}}}", ser(t));
            lit(&format!("a:1:{{s:1:\"n\";{}}}", ser(&inner)))
        };
        from.push(nest(a));
        to.push(nest(b));
        from.push(lit(&format!("?redirect={}", percent(a))));
        to.push(lit(&format!("?redirect={}", percent(b))));
        from.push(hex(&format!("see {a}")));
        to.push(hex(&format!("see {b}")));
        from.push(format!("_binary {}", lit(a)));
        to.push(format!("_binary {}", lit(b)));
    }
    for threads in [&["-j", "1"][..], &["-j", "2", "--batch-size", "64"]] {
        assert_eq!(
            rewrite_network(&dump(&from), threads),
            dump(&to),
            "{threads:?}"
        );
    }
}

#[test]
fn a_network_leaves_its_neighbours_byte_for_byte() {
    let mut values = Vec::new();
    for t in [
        "https://xprod-net.example/",
        "https://de.prod-net.example.com/partner/",
        "https://de.prod-net.example-backup.net/",
        "de.prod-net.examples",
        "https://.prod-net.example/",
        "https://www.prod-net.example.org/",
        "prod-net.example_old",
    ] {
        values.push(lit(&format!("see {t} here")));
        values.push(lit(&t.replace('/', "\\/")));
        values.push(lit(&format!("a:1:{{i:0;{}}}", ser(t))));
        values.push(lit(&format!("?redirect={}", percent(t))));
        values.push(hex(&format!("see {t}")));
    }
    let input = dump(&values);
    assert_eq!(
        rewrite_network(&input, &["-j", "1"]),
        input,
        "a neighbour moved"
    );
}

#[test]
fn a_destination_under_the_source_moves_once() {
    // int.prod-net.example is under prod-net.example: what the site URL wrote stays.
    let rules = NETWORK.replace("int-net.example", "int.prod-net.example");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    let input = dump(&[
        lit("https://www.prod-net.example/ https://de.prod-net.example/ prod-net.example"),
        lit(&format!("a:1:{{i:0;{}}}", ser("//shop.prod-net.example/"))),
    ]);
    let out = run_with_stdin(
        understudy().args(["rewrite", "--rules"]).arg(&path),
        input.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = dump(&[
        lit("http://int.prod-net.example/ https://de.int.prod-net.example/ int.prod-net.example"),
        lit(&format!(
            "a:1:{{i:0;{}}}",
            ser("//shop.int.prod-net.example/")
        )),
    ]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}
