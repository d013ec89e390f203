//! Edge cases, one line each: `name: Mode "input" [needle => replacement, …] => expected;`.
//!
//! Inputs and outputs are written with `\0` for NUL (see `util::b`). Every case runs through
//! `replace_in_value` twice with the same `Scratch` (buffer reuse), in strict mode, and, for
//! serialized values, through `rewrite` with an equivalent callback; rewritten serialized
//! output must parse again.

use understudy_phpser::{
    looks_serialized, replace_in_value, rewrite, Edit, ErrorKind, Mode, Options, Outcome, Parser,
    Replacer, Role, Scratch,
};

use crate::util::{b, parses, show};

const U: &str = "https://mitglieder.example.org";
const N: &str = "https://int.example.org";

/// What a case must produce.
#[derive(Debug)]
enum Want {
    /// `Outcome::Unchanged`.
    Same,
    /// Rewritten to this.
    To(&'static str),
    /// Did not parse at this offset: plain replacement to this, plus a warning.
    Warn(&'static str, usize),
    /// `Mode::Repair` fixed lengths (and replaced) to this.
    Repaired(&'static str),
}
use Want::*;

macro_rules! rewrites_to {
    ($($name:ident: $mode:ident $input:literal [$($n:expr => $r:expr),*] => $want:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(Mode::$mode, $input, &[$(($n, $r)),*], $want);
            }
        )*
    };
}

fn check(mode: Mode, input: &str, pairs: &[(&str, &str)], want: Want) {
    let input = b(input);
    let replacer = Replacer::new(pairs.iter().map(|(n, r)| (b(n), b(r)))).unwrap();
    let mut scratch = Scratch::new();
    let mut out = b"dirty".to_vec();
    for round in 0..2 {
        let report = replace_in_value(
            &input,
            &replacer,
            &mut scratch,
            &mut out,
            Options::new(mode),
        )
        .unwrap_or_else(|e| panic!("round {round}: unexpected error {e}"));
        let got = match report.outcome {
            Outcome::Unchanged => {
                assert!(out.is_empty(), "Unchanged must leave `out` empty");
                None
            }
            Outcome::Rewritten => Some(show(&out)),
        };
        match &want {
            Same => {
                assert_eq!(got, None, "round {round}");
                assert_eq!(report.warning, None);
            }
            To(s) | Repaired(s) => {
                assert_eq!(got.as_deref(), Some(show(&b(s)).as_str()), "round {round}");
                assert_eq!(report.warning, None, "round {round}");
                assert_eq!(
                    report.repaired,
                    matches!(want, Repaired(_)),
                    "round {round}"
                );
                if report.serialized {
                    assert!(parses(&out), "output does not parse: {}", show(&out));
                }
            }
            Warn(s, offset) => {
                assert_eq!(got.as_deref(), Some(show(&b(s)).as_str()), "round {round}");
                let w = report.warning.expect("a warning");
                assert_eq!(w.offset(), *offset, "warning {w}");
                assert!(!report.serialized);
            }
        }
    }
    // Strict mode: the same answer, except that a warning becomes an error.
    let strict = replace_in_value(
        &input,
        &replacer,
        &mut scratch,
        &mut out,
        Options::new(mode).strict(true),
    );
    match (&want, strict) {
        (Warn(_, offset), Err(e)) => assert_eq!(e.offset(), *offset),
        (Warn(..), Ok(r)) => panic!("strict mode accepted a corrupt value: {r:?}"),
        (_, Err(e)) => panic!("strict mode failed: {e}"),
        (_, Ok(_)) => {}
    }
    // The same replacement through the callback API.
    if mode == Mode::Auto && looks_serialized(&input) && parses(&input) {
        let mut tmp = Vec::new();
        let outcome = rewrite(&input, &mut out, |role, s, scratch| {
            if role != Role::ClassName && replacer.replace(s, scratch, &mut tmp) {
                Edit::Replaced
            } else {
                Edit::Keep
            }
        })
        .unwrap();
        match &want {
            Same => assert_eq!(outcome, Outcome::Unchanged),
            To(s) => assert_eq!(show(&out), show(&b(s))),
            _ => unreachable!(),
        }
    }
}

rewrites_to! {
    url_is_whole_string: Auto r#"s:30:"https://mitglieder.example.org";"# [U => N] => To(r#"s:23:"https://int.example.org";"#);
    url_is_prefix: Auto r#"s:48:"https://mitglieder.example.org/file/download/123";"# [U => N] => To(r#"s:41:"https://int.example.org/file/download/123";"#);
    url_several_times: Auto r#"s:98:"https://mitglieder.example.org and https://mitglieder.example.org/x https://mitglieder.example.org";"# [U => N] => To(r#"s:77:"https://int.example.org and https://int.example.org/x https://int.example.org";"#);
    replacement_longer: Auto r#"a:1:{i:0;s:25:"https://int.example.org/a";}"# [N => U] => To(r#"a:1:{i:0;s:32:"https://mitglieder.example.org/a";}"#);
    replacement_empty: Auto r#"a:1:{i:0;s:32:"https://mitglieder.example.org/a";}"# [U => ""] => To(r#"a:1:{i:0;s:2:"/a";}"#);
    key_changes: Auto r#"a:2:{s:30:"https://mitglieder.example.org";i:1;s:3:"url";s:30:"https://mitglieder.example.org";}"# [U => N] => To(r#"a:2:{s:23:"https://int.example.org";i:1;s:3:"url";s:23:"https://int.example.org";}"#);
    key_becomes_numeric_string: Auto r#"a:1:{s:2:"x1";b:1;}"# ["x" => ""] => To(r#"a:1:{s:1:"1";b:1;}"#);
    empty_string_untouched: Auto r#"a:2:{i:0;s:0:"";i:1;s:30:"https://mitglieder.example.org";}"# [U => N] => To(r#"a:2:{i:0;s:0:"";i:1;s:23:"https://int.example.org";}"#);
    empty_string_alone: Auto r#"s:0:"";"# [U => N] => Same;
    no_needle_is_unchanged: Auto r#"a:1:{i:0;s:4:"blog";}"# [U => N] => Same;
    needle_only_in_structure: Auto r#"a:1:{i:0;s:4:"blog";}"# ["a:1" => "a:2"] => Same;
    needle_across_strings: Auto r#"a:2:{i:0;s:2:"ab";i:1;s:2:"cd";}"# ["b\";i:1;s:2:\"c" => "X"] => Same;
    protected_and_private_names: Auto r#"O:4:"Task":2:{s:9:"\0*\0action";s:30:"https://mitglieder.example.org";s:9:"\0Task\0url";s:32:"https://mitglieder.example.org/t";}"# [U => N] => To(r#"O:4:"Task":2:{s:9:"\0*\0action";s:23:"https://int.example.org";s:9:"\0Task\0url";s:25:"https://int.example.org/t";}"#);
    property_name_changes: Auto r#"O:4:"Task":2:{s:9:"\0*\0action";s:30:"https://mitglieder.example.org";s:9:"\0Task\0url";s:32:"https://mitglieder.example.org/t";}"# ["action" => "task"] => To(r#"O:4:"Task":2:{s:7:"\0*\0task";s:30:"https://mitglieder.example.org";s:9:"\0Task\0url";s:32:"https://mitglieder.example.org/t";}"#);
    nul_in_needle: Auto r#"a:1:{i:0;s:5:"a\0b\0c";}"# ["\0b\0" => "-"] => To(r#"a:1:{i:0;s:3:"a-c";}"#);
    class_name_untouched: Auto r#"O:4:"Task":1:{s:4:"Task";s:4:"Task";}"# ["Task" => "Job"] => To(r#"O:4:"Task":1:{s:3:"Job";s:3:"Job";}"#);
    custom_serialized_payload: Auto r#"C:11:"ArrayObject":63:{x:i:0;a:1:{i:0;s:30:"https://mitglieder.example.org";};m:a:0:{}}"# [U => N] => To(r#"C:11:"ArrayObject":56:{x:i:0;a:1:{i:0;s:23:"https://int.example.org";};m:a:0:{}}"#);
    custom_opaque_payload: Auto r#"C:3:"Foo":39:{raw https://mitglieder.example.org data}"# [U => N] => To(r#"C:3:"Foo":32:{raw https://int.example.org data}"#);
    custom_in_array: Auto r#"a:2:{i:0;C:3:"Foo":39:{raw https://mitglieder.example.org data}i:1;s:30:"https://mitglieder.example.org";}"# [U => N] => To(r#"a:2:{i:0;C:3:"Foo":32:{raw https://int.example.org data}i:1;s:23:"https://int.example.org";}"#);
    custom_empty_payload: Auto r#"a:2:{i:0;C:3:"Foo":0:{}i:1;s:1:"x";}"# ["x" => "yy"] => To(r#"a:2:{i:0;C:3:"Foo":0:{}i:1;s:2:"yy";}"#);
    enum_untouched: Auto r#"a:2:{i:0;E:11:"Suit:Hearts";i:1;s:11:"Suit:Hearts";}"# ["Hearts" => "Spades"] => To(r#"a:2:{i:0;E:11:"Suit:Hearts";i:1;s:11:"Suit:Spades";}"#);
    floats_untouched: Auto r#"a:7:{i:0;d:INF;i:1;d:-INF;i:2;d:NAN;i:3;d:1.0E+25;i:4;d:0.30000000000000004;i:5;d:1.50;i:6;s:1:"1";}"# ["1" => "2"] => To(r#"a:7:{i:0;d:INF;i:1;d:-INF;i:2;d:NAN;i:3;d:1.0E+25;i:4;d:0.30000000000000004;i:5;d:1.50;i:6;s:1:"2";}"#);
    float_exponent_forms: Auto r#"a:5:{i:0;d:-1.5e-7;i:1;d:.5;i:2;d:1.;i:3;d:+2E+3;i:4;s:1:"e";}"# ["e" => "E"] => To(r#"a:5:{i:0;d:-1.5e-7;i:1;d:.5;i:2;d:1.;i:3;d:+2E+3;i:4;s:1:"E";}"#);
    ints_untouched: Auto r#"a:2:{i:-5;i:+7;i:12;s:1:"5";}"# ["5" => "6"] => To(r#"a:2:{i:-5;i:+7;i:12;s:1:"6";}"#);
    references: Auto r#"a:3:{i:0;O:8:"stdClass":1:{s:1:"u";s:30:"https://mitglieder.example.org";}i:1;r:2;i:2;R:3;}"# [U => N] => To(r#"a:3:{i:0;O:8:"stdClass":1:{s:1:"u";s:23:"https://int.example.org";}i:1;r:2;i:2;R:3;}"#);
    escaped_string: Auto r#"S:30:"https://mitglieder\\2eexample\\2Eorg";"# [U => N] => To(r#"s:23:"https://int.example.org";"#);
    escaped_string_kept: Auto r#"a:2:{i:0;S:3:"\\00ab";i:1;s:1:"x";}"# ["x" => "y"] => To(r#"a:2:{i:0;S:3:"\\00ab";i:1;s:1:"y";}"#);
    escaped_string_needle_hidden: Auto r#"S:3:"\\61\\62c";"# ["abc" => "x"] => To(r#"s:1:"x";"#);
    corrupt_length_plain_and_warn: Auto r#"s:40:"https://mitglieder.example.org";"# [U => N] => Warn(r#"s:40:"https://int.example.org";"#, 2);
    corrupt_short_length: Auto r#"a:1:{i:0;s:20:"https://mitglieder.example.org";}"# [U => N] => Warn(r#"a:1:{i:0;s:20:"https://int.example.org";}"#, 35);
    corrupt_without_needle_is_not_parsed: Auto r#"s:40:"blog";"# [U => N] => Same;
    trailing_bytes_warn: Auto r#"i:1;s:1:"x";"# ["x" => "y"] => Warn(r#"i:1;s:1:"y";"#, 4);
    mode_off_is_plain: Off r#"s:30:"https://mitglieder.example.org";"# [U => N] => To(r#"s:30:"https://int.example.org";"#);
    plain_text: Auto r#"see https://mitglieder.example.org/x"# [U => N] => To(r#"see https://int.example.org/x"#);
    plain_text_like_serialized: Auto r#"a: https://mitglieder.example.org"# [U => N] => To(r#"a: https://int.example.org"#);
    replacements_in_order: Auto r#"s:3:"abc";"# ["a" => "b", "b" => "c"] => To(r#"s:3:"ccc";"#);
    replacement_looks_like_structure: Auto r#"a:1:{i:0;s:1:"x";}"# ["x" => "\";s:1:\"y"] => To(r#"a:1:{i:0;s:8:"";s:1:"y";}"#);
    ref_programm_tickets: Auto r#"a:2:{s:8:"Programm";s:33:"https://www.example.org/programm/";s:7:"Tickets";s:38:"https://mitglieder.example.org/tickets";}"# [U => N] => To(r#"a:2:{s:8:"Programm";s:33:"https://www.example.org/programm/";s:7:"Tickets";s:31:"https://int.example.org/tickets";}"#);
    ref_featured_menu: Auto r#"a:3:{i:0;s:4:"blog";i:1;s:6:"groups";i:2;s:7:"members";}"# ["groups" => "gruppen"] => To(r#"a:3:{i:0;s:4:"blog";i:1;s:7:"gruppen";i:2;s:7:"members";}"#);
    ref_site_url: Auto r#"s:31:"https://mitglieder.example.org/";"# [U => N] => To(r#"s:24:"https://int.example.org/";"#);
    ref_dataroot: Auto r#"s:15:"/srv/elgg/data/";"# ["/srv/elgg/data/" => "/srv/int/data/"] => To(r#"s:14:"/srv/int/data/";"#);
    ref_multibyte: Auto r#"s:10:"Waldbühne";"# ["Wald" => "Wäldchen"] => To(r#"s:15:"Wäldchenbühne";"#);
    ref_json_escaped_slashes: Auto r#"a:1:{s:6:"config";s:35:"https:\\/\\/mitglieder.example.org\\/x";}"# ["https:\\/\\/mitglieder.example.org" => "https:\\/\\/int.example.org"] => To(r#"a:1:{s:6:"config";s:28:"https:\\/\\/int.example.org\\/x";}"#);
    ref_scalars_unchanged: Auto r#"a:4:{i:0;i:10;i:1;b:1;i:2;N;i:3;a:0:{}}"# ["1" => "2"] => Same;
    ref_view_default: Auto r#"s:7:"default";"# ["default" => "mobile"] => To(r#"s:6:"mobile";"#);
    nested_two_levels: Auto r#"a:1:{s:4:"opts";s:50:"a:1:{i:0;s:32:"https://mitglieder.example.org/a";}";}"# [U => N] => To(r#"a:1:{s:4:"opts";s:43:"a:1:{i:0;s:25:"https://int.example.org/a";}";}"#);
    nested_three_levels: Auto r#"a:1:{s:1:"w";s:70:"a:1:{s:1:"k";s:48:"a:1:{i:0;s:30:"https://mitglieder.example.org";}";}";}"# [U => N] => To(r#"a:1:{s:1:"w";s:63:"a:1:{s:1:"k";s:41:"a:1:{i:0;s:23:"https://int.example.org";}";}";}"#);
    nested_top_level: Auto r#"s:38:"s:30:"https://mitglieder.example.org";";"# [U => N] => To(r#"s:31:"s:23:"https://int.example.org";";"#);
    nested_corrupt_inner_is_plain: Auto r#"a:1:{i:0;s:38:"s:99:"https://mitglieder.example.org";";}"# [U => N] => To(r#"a:1:{i:0;s:31:"s:99:"https://int.example.org";";}"#);
    nested_key_is_not_recursed: Auto r#"a:1:{s:8:"s:1:"x";";i:0;}"# ["s:1:" => "s:2:"] => To(r#"a:1:{s:8:"s:2:"x";";i:0;}"#);
    nested_in_property: Auto r#"O:8:"stdClass":1:{s:1:"p";s:38:"s:30:"https://mitglieder.example.org";";}"# [U => N] => To(r#"O:8:"stdClass":1:{s:1:"p";s:31:"s:23:"https://int.example.org";";}"#);
    repair_stale_lengths: Repair r#"a:2:{s:8:"Programm";s:33:"https://int.example.org/programm/";s:7:"Tickets";s:38:"https://int.example.org/tickets";}"# [] => Repaired(r#"a:2:{s:8:"Programm";s:33:"https://int.example.org/programm/";s:7:"Tickets";s:31:"https://int.example.org/tickets";}"#);
    repair_and_replace: Repair r#"a:2:{i:0;s:38:"https://int.example.org/tickets";i:1;s:15:"/srv/int/data/";}"# ["/srv/int/" => "/srv/test/"] => Repaired(r#"a:2:{i:0;s:31:"https://int.example.org/tickets";i:1;s:15:"/srv/test/data/";}"#);
    repair_nested: Repair r#"a:1:{s:4:"opts";s:50:"a:1:{i:0;s:32:"https://int.example.org/a";}";}"# [] => Repaired(r#"a:1:{s:4:"opts";s:43:"a:1:{i:0;s:25:"https://int.example.org/a";}";}"#);
    repair_string_with_quote_semicolon: Repair r#"a:2:{i:0;s:3:"a";b";i:1;s:1:"c";}"# [] => Repaired(r#"a:2:{i:0;s:4:"a";b";i:1;s:1:"c";}"#);
    repair_leaves_lookalike_text: Repair r#"a:1:{i:0;s:10:"s:1:"abc";";}"# [] => Same;
    repair_nested_only_where_damaged: Repair r#"a:2:{i:0;s:10:"s:1:"abc";";i:1;s:8:"s:1:"é";";}"# [] => Repaired(r#"a:2:{i:0;s:10:"s:1:"abc";";i:1;s:9:"s:2:"é";";}"#);
    repair_well_formed_is_unchanged: Repair r#"a:1:{i:0;s:4:"blog";}"# [] => Same;
    repair_plain_text: Repair r#"no serialized data"# ["data" => "text"] => To(r#"no serialized text"#);
    repair_cannot_fix_structure: Repair r#"a:2:{i:0;s:4:"blog";}"# ["blog" => "b"] => Warn(r#"a:2:{i:0;s:4:"b";}"#, 20);
}

#[test]
fn depth_limit_is_an_error_in_strict_mode() {
    let mut deep = String::new();
    for _ in 0..200 {
        deep.push_str("a:1:{i:0;");
    }
    deep.push_str("s:1:\"x\";");
    deep.push_str(&"}".repeat(200));
    let r = Replacer::new([("x", "y")]).unwrap();
    let mut out = Vec::new();
    let err = replace_in_value(
        deep.as_bytes(),
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto).strict(true),
    )
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::DepthLimit { limit: 128 });
    // Not strict: plain replacement plus a warning.
    let report = replace_in_value(
        deep.as_bytes(),
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::default(),
    )
    .unwrap();
    assert!(report.warning.is_some());
    // A higher limit parses it.
    let report = replace_in_value(
        deep.as_bytes(),
        &r,
        &mut Scratch::with_max_depth(300),
        &mut out,
        Options::default(),
    )
    .unwrap();
    assert!(report.serialized && report.warning.is_none());
    let mut p = Parser::new(&out).with_max_depth(300);
    while p.next().unwrap().is_some() {}
}

#[test]
fn depth_limit_counts_nested_strings() {
    // Ten levels of serialized strings inside strings.
    let mut v = b"s:1:\"x\";".to_vec();
    for _ in 0..10 {
        let mut outer = format!("s:{}:\"", v.len()).into_bytes();
        outer.extend_from_slice(&v);
        outer.extend_from_slice(b"\";");
        v = outer;
    }
    let r = Replacer::new([("x", "yy")]).unwrap();
    let mut out = Vec::new();
    let ok = replace_in_value(&v, &r, &mut Scratch::new(), &mut out, Options::default()).unwrap();
    assert!(ok.serialized && ok.warning.is_none() && parses(&out));
    let err = replace_in_value(
        &v,
        &r,
        &mut Scratch::with_max_depth(5),
        &mut out,
        Options::default().strict(true),
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DepthLimit { limit: 5 }),
        "{err}"
    );
}

#[test]
fn callback_sees_every_role() {
    let input = b(r#"a:2:{s:1:"k";O:3:"Foo":1:{s:4:"\0*\0p";E:5:"E:Cas";}i:0;C:3:"Bar":3:{raw}}"#);
    let mut seen = Vec::new();
    let outcome = rewrite(&input, &mut Vec::new(), |role, s, _| {
        seen.push((role, show(s)));
        Edit::Keep
    })
    .unwrap();
    assert_eq!(outcome, Outcome::Unchanged);
    let want = [
        (Role::Key, "k"),
        (Role::ClassName, "Foo"),
        (Role::PropertyName, "\\0*\\0p"),
        (Role::ClassName, "E:Cas"),
        (Role::ClassName, "Bar"),
        (Role::Value, "raw"),
    ];
    let want: Vec<(Role, String)> = want.iter().map(|(r, s)| (*r, s.to_string())).collect();
    assert_eq!(seen, want);
}

#[test]
fn class_names_can_be_replaced() {
    let input = b(r#"a:3:{i:0;O:3:"Foo":0:{}i:1;C:3:"Foo":4:{N;N;}i:2;E:7:"Foo:Bar";}"#);
    let mut r = Replacer::new([("Foo", "Quux")]).unwrap();
    r.class_names(true);
    let mut out = Vec::new();
    replace_in_value(
        &input,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::default(),
    )
    .unwrap();
    assert_eq!(
        show(&out),
        r#"a:3:{i:0;O:4:"Quux":0:{}i:1;C:4:"Quux":4:{N;N;}i:2;E:8:"Quux:Bar";}"#
    );
    assert!(parses(&out));
}
