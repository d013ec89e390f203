//! `plain_text`: a value it calls plain gets plain replacement from `replace_in_value`, and
//! nothing else. The engine relies on that to replace in SQL-escaped values without decoding
//! them, so every wrapper `replace_in_value` knows is generated here at the start of a value.

use proptest::prelude::*;
use understudy_phpser::hooks::{plain_text, PLAIN_HEAD};
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};

/// Starts of values: each wrapper, near misses of them, and text.
fn start() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        &b""[..],
        b"a:1:{i:0;s:23:\"https://old.example/x\";}",
        b"s:19:\"https://old.example\";",
        b"O:8:\"stdClass\":1:{s:1:\"u\";s:19:\"https://old.example\";}",
        b"N;",
        b"{\"u\":\"https://old.example\"}",
        b"[\"https:\\/\\/old.example\"]",
        b" {\"u\":\"https://old.example\"}",
        b"\n[1]",
        b"user|s:19:\"https://old.example\";",
        b"\x04names:19:\"https://old.example\";",
        b"\x84name",
        b"YToxOntpOjA7czoxOToiaHR0cHM6Ly9vbGQuZXhhbXBsZSI7fQ==",
        b"eyJ1IjoiaHR0cHM6Ly9vbGQuZXhhbXBsZSJ9",
        b"<!-- wp:paragraph -->",
        b"The site https://old.example",
        b"a: plain text",
        b"Wow|",
        b"hi! a|b",
        b"x",
    ])
    .prop_map(<[u8]>::to_vec)
}

fn piece() -> impl Strategy<Value = &'static [u8]> {
    prop::sample::select(vec![
        &b"https://old.example"[..],
        b"https:\\/\\/old.example",
        b"|",
        b"!",
        b";",
        b"}",
        b"]",
        b"\"",
        b" ",
        b"s:3:\"abc\";",
        b"text",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        max_global_rejects: 100_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn plain_values_get_plain_replacement(
        start in start(),
        rest in prop::collection::vec(piece(), 0..6),
        pad in 0usize..140,
    ) {
        // Padding moves the rest past the head, or not.
        let mut value = start;
        value.extend(std::iter::repeat_n(b'x', pad % 3 * pad / 2));
        value.extend(rest.concat());
        let head = &value[..value.len().min(PLAIN_HEAD)];
        prop_assume!(plain_text(head, &value));
        let replacer = Replacer::new([
            (&b"https://old.example"[..], &b"https://new.example.org"[..]),
            (b"https:\\/\\/old.example", b"https:\\/\\/new.example.org"),
        ])
        .unwrap();
        for mode in [Mode::Auto, Mode::Repair] {
            let mut out = Vec::new();
            let report = replace_in_value(
                &value,
                &replacer,
                &mut Scratch::default(),
                &mut out,
                Options::new(mode),
            )
            .unwrap();
            prop_assert!(
                !(report.serialized || report.base64 || report.session || report.json),
                "{:?} is not plain to replace_in_value",
                String::from_utf8_lossy(&value)
            );
            prop_assert!(report.warning.is_none());
            let mut plain = Vec::new();
            let changed = replacer.replace(&value, &mut plain, &mut Vec::new());
            prop_assert_eq!(report.outcome == Outcome::Rewritten, changed);
            if changed {
                prop_assert_eq!(&out, &plain);
            }
        }
    }
}

#[test]
fn wrappers_are_not_plain() {
    for value in [
        &b"a:1:{i:0;i:1;}"[..],
        b"N;",
        b"{\"a\":1}",
        b" [1]",
        b"user|s:1:\"x\";",
        b"\x04names:1:\"x\";",
        b"YToxOntpOjA7aToxO30=",
    ] {
        let head = &value[..value.len().min(PLAIN_HEAD)];
        assert!(
            !plain_text(head, value),
            "{:?}",
            String::from_utf8_lossy(value)
        );
    }
    assert!(plain_text(b"<p>hello</p>", b"<p>hello</p>"));
    assert!(plain_text(b"Thanks! a|b", b"Thanks! a|b"));
}
