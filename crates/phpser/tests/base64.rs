//! base64 that holds serialized PHP or JSON: decoded, rewritten, encoded again with the same
//! alphabet and padding; checked against real PHP's `base64_decode`, `unserialize` and
//! `json_decode`.

use proptest::prelude::*;
use understudy_phpser::hooks::{
    may_be_base64, may_hold_base64, may_nest_base64, starts_like_base64,
};
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};
use understudy_testkit::php::Php;

fn replacer() -> Replacer {
    Replacer::new([
        ("https://old.example.org", "https://new.example"),
        ("https:\\/\\/old.example.org", "https:\\/\\/new.example"),
    ])
    .unwrap()
}

fn rewrite(value: &[u8]) -> (Outcome, Vec<u8>, bool) {
    let mut out = Vec::new();
    let report = replace_in_value(
        value,
        &replacer(),
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    (report.outcome, out, report.base64)
}

#[test]
fn words_that_only_look_like_base64_stay() {
    // "a:1:this" is not complete serialized data; "eyJ…" decoding to broken JSON neither.
    for word in [
        &b"YToxOnRoaXM="[..],
        b"eyJ1cmwiOiJodHRwczovL29sZC5leGFtcGxlLm9yZy",
        b"YTo",
    ] {
        let (outcome, _, base64) = rewrite(word);
        assert_eq!(
            outcome,
            Outcome::Unchanged,
            "{}",
            String::from_utf8_lossy(word)
        );
        assert!(!base64);
    }
    assert!(!may_be_base64(b"YToxOnRoaXM= with spaces"));
}

#[test]
fn a_word_that_only_looks_like_base64_and_holds_a_needle_gets_a_warning() {
    let replacer = Replacer::new([("old", "new")]).unwrap();
    let run = |options: Options| {
        let mut out = Vec::new();
        replace_in_value(
            b"YTooldToken",
            &replacer,
            &mut Scratch::new(),
            &mut out,
            options,
        )
        .map(|report| (report, out))
    };
    let (report, out) = run(Options::new(Mode::Auto)).unwrap();
    assert_eq!(report.outcome, Outcome::Rewritten);
    assert_eq!(out, b"YTonewToken");
    assert!(!report.base64);
    assert_eq!(
        report.warning.map(|e| *e.kind()),
        Some(understudy_phpser::ErrorKind::NotBase64Data)
    );
    assert!(run(Options::new(Mode::Auto).strict(true)).is_err());
    // With base64 off it is a word like any other.
    let (report, out) = run(Options::new(Mode::Auto).base64(false)).unwrap();
    assert_eq!(out, b"YTonewToken");
    assert!(report.warning.is_none());
}

const SCRIPT: &str = r#"
function replace_all($v) {
    if (is_string($v)) { return str_replace('https://old.example.org', 'https://new.example', $v); }
    if (is_array($v)) {
        $out = [];
        foreach ($v as $k => $x) { $out[is_string($k) ? replace_all($k) : $k] = replace_all($x); }
        return $out;
    }
    return $v;
}
function handle(array $f): array {
    [$op, $a, $b] = $f;
    if ($op === 'make') {
        $v = json_decode($a, true);
        return [base64_encode(serialize($v)), base64_encode(json_encode($v)), rtrim(strtr(base64_encode(serialize($v)), '+/', '-_'), '='), base64_encode(json_encode($v, JSON_PRETTY_PRINT))];
    }
    // $a original, $b ours, op = ser | json | url
    $dec = fn($s) => $op === 'url' ? base64_decode(strtr($s, '-_', '+/')) : base64_decode($s, true);
    $parse = fn($s) => $op === 'json' ? json_decode($s, true) : unserialize($s);
    $want = replace_all($parse($dec($a)));
    $got = $parse($dec($b));
    if ($op !== 'url' && base64_encode(base64_decode($b, true)) !== $b) { return ['not canonical base64']; }
    return [serialize($got) === serialize($want) ? 'ok' : 'differs: ' . serialize($got) . ' vs ' . serialize($want)];
}
"#;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ü]{0,8}",
        "(https://old\\.example\\.org)?[a-z/é\"]{0,12}"
    ]
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        text().prop_map(|s| format!("{s:?}")),
        any::<i32>().prop_map(|n| n.to_string())
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            // A key that starts with a digit encodes to `eyI`, not `eyJ`.
            prop::collection::vec(("(k|1|https://old\\.example\\.org)[a-z]{0,3}", inner), 1..4)
                .prop_map(|kv| format!(
                    "{{{}}}",
                    kv.iter()
                        .map(|(k, v)| format!("{k:?}:{v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]
    #[test]
    fn php_decodes_our_base64_like_its_own_replacement(values in prop::collection::vec(json_value().prop_map(|v| if v.starts_with(['{', '[']) { v } else { format!("[{v}]") }), 40..80)) {
        let php = Php::require();
        let make: Vec<Vec<Vec<u8>>> = values.iter().map(|v| vec![b"make".to_vec(), v.clone().into_bytes(), Vec::new()]).collect();
        let made = php.run_batch(SCRIPT, &make).unwrap();
        let mut checks = Vec::new();
        for forms in &made {
            for (op, original) in ["ser", "json", "url", "json"].iter().zip(forms) {
                let (outcome, ours, base64) = rewrite(original);
                let ours = if outcome == Outcome::Unchanged { original.clone() } else { ours };
                if outcome == Outcome::Rewritten {
                    prop_assert!(base64);
                }
                checks.push(vec![op.as_bytes().to_vec(), original.clone(), ours]);
            }
        }
        for (answer, check) in php.run_batch(SCRIPT, &checks).unwrap().iter().zip(&checks) {
            prop_assert_eq!(
                String::from_utf8_lossy(&answer[0]).into_owned(),
                "ok".to_string(),
                "{} {}",
                String::from_utf8_lossy(&check[0]),
                String::from_utf8_lossy(&check[1])
            );
        }
    }
}

/// Pieces of SQL-escaped string content: base64 prefixes and near misses, quotes as they are
/// escaped, serialized and JSON starts, text.
fn escaped_piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "YTo", "Tzo", "czo", "Qzo", "ey", "eyJ", "eyI", "ew", "e3", "W", "J", "z", "Y", "e", "y",
        "AAAA", "aHR0cHM6", "==", "+/", "-_", "\\\"", "\\'", "a:", "s:", "O:", "C:", "{", "[", " ",
        "x", "\\n", ":",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    /// A value whose base64 [`may_be_base64`] or [`may_hold_base64`] may find shows it to
    /// [`starts_like_base64`] where a string starts or after one of its `"`: where the dump
    /// lexer asks while it copies rows through unread.
    #[test]
    fn base64_a_value_may_hold_starts_where_a_string_does(
        pieces in prop::collection::vec(escaped_piece(), 0..10),
    ) {
        let value = pieces.concat();
        // In the dump the value is followed by its closing quote and more.
        let text = format!("{value}',1)");
        let text = text.as_bytes();
        // Inside only values that may nest strings, as the lexer asks.
        let shown = starts_like_base64(text)
            || may_nest_base64(text)
                && (0..value.len()).any(|i| text[i] == b'"' && starts_like_base64(&text[i + 1..]));
        let holds = may_be_base64(value.as_bytes()) || may_hold_base64(value.as_bytes());
        prop_assert!(!holds || shown, "{}", value);
    }
}

#[test]
fn base64_starts_of_every_prefix_are_seen() {
    for value in [
        &b"YToxOntzOjE6IngiO2k6MTt9"[..],
        b"eyAidSI6IDF9AAAA",
        b"ewogICJ1cmwiOiAx",
        b"W3sidXJsIjoxfV0=",
    ] {
        assert!(may_be_base64(value), "{}", String::from_utf8_lossy(value));
        let nested = [&b"a:1:{i:0;s:16:\""[..], value, b"\";}"].concat();
        assert!(
            may_hold_base64(&nested),
            "{}",
            String::from_utf8_lossy(&nested)
        );
        let json = [&b"{\"k\":\""[..], value, b"\"}"].concat();
        assert!(may_hold_base64(&json), "{}", String::from_utf8_lossy(&json));
    }
    // `{}` encoded is `e30=`: nothing to replace in.
    assert!(!may_be_base64(b"e30="));
    assert!(!may_hold_base64(b"a:1:{i:0;s:6:\"about YToxOnRoaXM\";}"));
}
