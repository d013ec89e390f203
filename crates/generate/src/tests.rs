//! Every layout in every shape: it lexes back to itself with the lexer's counts equal to
//! the generator's, its serialized values parse (and unserialize in real PHP), MariaDB
//! loads it, and mariadb-dump writes the same bytes back.

use understudy_sqldump::literal::{decode_hex, unescape};
use understudy_sqldump::{DumpReader, Token, ValueKind};

use super::*;

const SIZE: u64 = 2 << 20;

const LAYOUTS: [Layout; 3] = [Layout::WordPress, Layout::Elgg, Layout::Drupal];
const SHAPES: [Shape; 6] = [
    Shape::Default,
    Shape::ManyTables,
    Shape::OneRowInserts,
    Shape::Serialized,
    Shape::HexBlob,
    Shape::Mix,
];

/// Every layout and shape that go together (Elgg has no many-tables form).
fn cases() -> Vec<(Layout, Shape)> {
    let mut out = Vec::new();
    for layout in LAYOUTS {
        for shape in SHAPES {
            if (layout, shape) != (Layout::Elgg, Shape::ManyTables) {
                out.push((layout, shape));
            }
        }
    }
    out
}

fn generate(layout: Layout, shape: Shape, size: u64, seed: u64) -> (Vec<u8>, Stats) {
    let mut g = DumpGenerator::new(size);
    g.layout(layout).shape(shape).seed(seed);
    g.generate()
}

/// What the lexer finds in a dump.
#[derive(Default, Debug)]
struct Walk {
    values: u64,
    rows: u64,
    inserts: u64,
    creates: u64,
    hex: u64,
    /// Rows with at least one serialized value.
    serialized_rows: u64,
    /// Every serialized value, decoded.
    serialized: Vec<Vec<u8>>,
    /// The longest `INSERT` of more than one row.
    longest_multi_row: usize,
}

fn walk(dump: &[u8]) -> Walk {
    let mut reader = DumpReader::new(dump);
    let mut copy = Vec::with_capacity(dump.len());
    let mut w = Walk::default();
    let mut scratch = Vec::new();
    let mut hex = Vec::new();
    let (mut len, mut rows_in_insert, mut row_serialized) = (0, 0, false);
    while let Some(item) = reader.next_token().expect("the dump lexes") {
        copy.extend_from_slice(item.bytes);
        len += item.bytes.len();
        match item.token {
            Token::Value(v) => {
                w.values += 1;
                let raw: &[u8] = match v.kind {
                    ValueKind::Str { quote, .. } => {
                        unescape(v.content.of(item.bytes), quote, &mut scratch)
                    }
                    ValueKind::Hex => {
                        w.hex += 1;
                        let digits = v.content.of(item.bytes);
                        let digits = digits.strip_prefix(b"0x").unwrap_or(digits);
                        hex.clear();
                        decode_hex(digits, &mut hex).expect("hex digits");
                        &hex
                    }
                    _ => continue,
                };
                if understudy_phpser::looks_serialized(raw) {
                    let mut p = understudy_phpser::Parser::new(raw);
                    let bad = |e| {
                        let v = String::from_utf8_lossy(raw);
                        panic!("bad serialized value ({e}): {v}")
                    };
                    while p.next().unwrap_or_else(bad).is_some() {}
                    w.serialized.push(raw.to_vec());
                    row_serialized = true;
                }
            }
            Token::RowOpen => {
                w.rows += 1;
                rows_in_insert += 1;
                row_serialized = false;
            }
            Token::RowClose => w.serialized_rows += u64::from(row_serialized),
            Token::InsertHead { .. } => {
                w.inserts += 1;
                (len, rows_in_insert) = (item.bytes.len(), 0);
            }
            Token::InsertEnd if rows_in_insert > 1 => {
                w.longest_multi_row = w.longest_multi_row.max(len);
            }
            Token::CreateTable { .. } => w.creates += 1,
            _ => {}
        }
    }
    assert!(copy == dump, "tokens do not give back the input");
    w
}

#[test]
fn sizes_parse() {
    assert_eq!(parse_size("100M"), Ok(100 << 20));
    assert_eq!(parse_size("1g"), Ok(1 << 30));
    assert_eq!(parse_size("512KiB"), Ok(512 << 10));
    assert_eq!(parse_size("1.5M"), Ok(3 << 19));
    assert_eq!(parse_size("4096"), Ok(4096));
    assert!(parse_size("12Q").is_err());
    assert!(parse_size("M").is_err());
    assert!(parse_size("-1M").is_err());
}

#[test]
fn deterministic_per_seed() {
    for (layout, shape) in cases() {
        let a = generate(layout, shape, 300_000, 3);
        let b = generate(layout, shape, 300_000, 3);
        let c = generate(layout, shape, 300_000, 4);
        assert!(
            a == b,
            "{layout:?} {shape:?}: the same seed gave different dumps"
        );
        assert_ne!(a.0, c.0, "{layout:?} {shape:?}");
    }
}

/// Settings that cannot work are refused before a byte is written.
#[test]
fn settings_that_do_not_go_together_are_refused() {
    let mut g = DumpGenerator::new(1 << 20);
    g.layout(Layout::Elgg).shape(Shape::ManyTables);
    assert_eq!(g.check().map_err(|e| e.kind()), Err(ErrorKind::Settings));
    let mut out = Vec::new();
    assert!(g.write_to(&mut out).is_err());
    assert!(out.is_empty());
    let mut g = DumpGenerator::new(1 << 20);
    g.tables(10_000);
    let e = g.check().unwrap_err();
    assert!(e.to_string().contains("10000 tables do not fit"), "{e}");
    let mut g = DumpGenerator::new(1 << 20);
    g.rows_per_insert(0);
    assert!(g.check().is_err());
}

/// Every case lexes without error; the lexer's counts are the generator's, its tokens give
/// back the input, the dump ends just after the requested size, every value that looks
/// serialized parses with correct lengths, and each shape is what it says.
#[test]
fn every_layout_and_shape_lexes_and_counts_match() {
    for (layout, shape) in cases() {
        let what = format!("{layout:?} {shape:?}");
        let (dump, stats) = generate(layout, shape, SIZE, 1);
        assert_eq!(stats.bytes, dump.len() as u64, "{what}");
        assert!(stats.bytes >= SIZE, "{what}");
        assert!(
            stats.bytes < SIZE + 64 * 1024,
            "{what}: {} bytes for {SIZE} asked",
            stats.bytes
        );
        assert!(dump.ends_with(b"-- Dump completed on 2025-01-15 12:00:00\n"));
        let w = walk(&dump);
        assert_eq!(w.values, stats.values, "{what}");
        assert_eq!(w.rows, stats.rows, "{what}");
        assert_eq!(w.inserts, stats.inserts, "{what}");
        assert_eq!(w.creates, stats.tables, "{what}");
        assert!(
            w.serialized.len() > 50,
            "{what}: {} serialized",
            w.serialized.len()
        );
        assert!(w.longest_multi_row < NET_BUFFER_LENGTH, "{what}");
        match shape {
            Shape::Default | Shape::Serialized => {
                assert!(w.creates < 30, "{what}: {} tables", w.creates);
                assert!(w.inserts < w.creates * 4, "{what}: statements not extended");
            }
            Shape::ManyTables => assert!(w.creates >= 90, "{what}: {} tables", w.creates),
            Shape::OneRowInserts => assert_eq!(w.inserts, w.rows, "{what}"),
            Shape::HexBlob => assert!(w.hex > 100, "{what}: {} hex values", w.hex),
            Shape::Mix => {
                assert!(
                    // Elgg's tables are one fixed set.
                    w.creates >= if layout == Layout::Elgg { 14 } else { 25 } && w.hex > 100,
                    "{what}: {} tables, {} hex values",
                    w.creates,
                    w.hex
                );
                assert!(w.inserts > w.creates && w.inserts < w.rows, "{what}");
            }
        }
        if shape != Shape::HexBlob && shape != Shape::Mix {
            assert_eq!(w.hex, 0, "{what}");
        }
        // Half the rows serialized; a quarter in the mix, which has the rest as well.
        let part = match shape {
            Shape::Serialized => 2,
            Shape::Mix => 4,
            _ => 0,
        };
        if part > 0 {
            assert!(
                w.serialized_rows * part >= w.rows,
                "{what}: {} of {} rows serialized",
                w.serialized_rows,
                w.rows
            );
        }
    }
}

/// With many tables, a WordPress dump is a multisite network: ten tables per site with the
/// same schemas, some empty, some with one row.
#[test]
fn many_tables_is_a_multisite_network() {
    let mut g = DumpGenerator::new(SIZE);
    g.tables(216);
    let (dump, stats) = g.generate();
    assert!((200..=220).contains(&stats.tables), "{}", stats.tables);
    let text = String::from_utf8_lossy(&dump);
    for table in [
        "wp_blogs",
        "wp_site",
        "wp_sitemeta",
        "wp_users",
        "wp_usermeta",
        "wp_options",
        "wp_21_posts",
        "wp_21_postmeta",
        "wp_21_options",
        "wp_21_comments",
        "wp_21_commentmeta",
        "wp_21_terms",
        "wp_21_termmeta",
        "wp_21_term_taxonomy",
        "wp_21_term_relationships",
        "wp_21_links",
    ] {
        assert!(
            text.contains(&format!("CREATE TABLE `{table}` (")),
            "no {table}"
        );
    }
    let empty = text
        .matches("DISABLE KEYS */;\n/*!40000 ALTER TABLE")
        .count();
    assert!(empty > 20, "{empty} empty tables");
    let one_row = text.matches("_links` VALUES\n(1,").count();
    assert!(one_row > 5, "{one_row}");
    assert!(text.contains("'siteurl','https://www.example.com/site21'"));
}

/// The real thing: PHP's `unserialize()` takes every serialized value the generator writes,
/// in every layout.
#[test]
fn php_unserializes_every_serialized_value() {
    let php = understudy_testkit::php::Php::require();
    let script = "function handle(array $f): array { \
        $v = @unserialize($f[0], ['allowed_classes' => false]); \
        return [($v === false && $f[0] !== 'b:0;') ? 'bad' : 'ok']; }";
    for layout in LAYOUTS {
        let (dump, _) = generate(layout, Shape::Mix, 1 << 20, 2);
        let w = walk(&dump);
        let cases: Vec<Vec<Vec<u8>>> = w.serialized.iter().map(|v| vec![v.clone()]).collect();
        let answers = php.run_batch(script, &cases).expect("php runs");
        for (answer, case) in answers.iter().zip(&cases) {
            assert_eq!(
                answer[0],
                b"ok",
                "{layout:?}: PHP cannot unserialize {}",
                String::from_utf8_lossy(&case[0])
            );
        }
        assert!(cases.len() > 100, "{layout:?}: {}", cases.len());
    }
}

/// MariaDB loads every case, and for each but the mix (whose tables alternate between
/// extended and one-row `INSERT`s, which no single mariadb-dump run writes) mariadb-dump
/// writes the same bytes back (apart from the `AUTO_INCREMENT` counters the generator
/// leaves out, the header and the date): statements are cut, values escaped and binary
/// columns written exactly as mariadb-dump does.
#[test]
fn mariadb_loads_every_case_and_dumps_it_back_identically() {
    let db = understudy_testkit::mariadb::MariaDb::start().expect("a throwaway mariadbd");
    for (i, (layout, shape)) in cases().into_iter().enumerate() {
        let what = format!("{layout:?} {shape:?}");
        let size = if shape == Shape::ManyTables {
            1 << 20
        } else {
            512 << 10
        };
        let (dump, _) = generate(layout, shape, size, 5);
        let name = format!("case{i}");
        db.create_database(&name).expect("create database");
        db.load(&name, &dump)
            .unwrap_or_else(|e| panic!("{what}: the dump does not load: {e}"));
        if shape == Shape::Mix {
            continue;
        }
        let mut flags = vec!["--skip-dump-date"];
        match shape {
            Shape::OneRowInserts => flags.push("--skip-extended-insert"),
            Shape::HexBlob => flags.push("--hex-blob"),
            _ => {}
        }
        let back = db.dump(&name, &flags).expect("mariadb-dump");
        let (ours, theirs) = (body(&dump), body(&back));
        assert!(
            ours.len() as u64 > size - 20_000,
            "{what}: the comparison covers the rows"
        );
        if ours != theirs {
            let line = ours.lines().zip(theirs.lines()).position(|(a, b)| a != b);
            let show = |s: &str| {
                line.and_then(|l| s.lines().nth(l))
                    .map(|l| l.chars().take(300).collect::<String>())
            };
            panic!(
                "{what}: mariadb-dump ({}) writes it differently from line {line:?} of the \
                 tables:\nours:   {:?}\ntheirs: {:?}",
                db.binaries().dump_version().unwrap_or_default(),
                show(&ours),
                show(&theirs)
            );
        }
        db.drop_database(&name).expect("drop database");
    }
}

/// The tables of a dump, from the first table's comment to the trailer, without
/// `AUTO_INCREMENT=` counters.
fn body(d: &[u8]) -> String {
    let s = String::from_utf8_lossy(d);
    let start = s.find("\n--\n-- Table structure").expect("a table");
    let end = s.rfind("-- Dump completed").expect("the last line");
    let mut out = String::new();
    for line in s[start..end].split_inclusive('\n') {
        match line.find(" AUTO_INCREMENT=") {
            Some(i) if line.starts_with(") ENGINE=") => {
                let rest = &line[i + " AUTO_INCREMENT=".len()..];
                out.push_str(&line[..i]);
                out.push_str(rest.trim_start_matches(|c: char| c.is_ascii_digit()));
            }
            _ => out.push_str(line),
        }
    }
    out
}

#[test]
fn site_url_is_everywhere_a_real_site_has_it() {
    let (dump, _) = DumpGenerator::new(SIZE).generate();
    let plain = memchr::memmem::find_iter(&dump, SITE_URL).count();
    let json = memchr::memmem::find_iter(&dump, r"https:\\/\\/www.example.com").count();
    // About one plain occurrence per 2 KB, and Elementor's escaped form as well.
    assert!(plain as u64 > SIZE / 4096, "{plain}");
    assert!(json > 20, "{json}");
}
