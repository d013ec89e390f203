//! JSON inside serialized strings and serialized PHP inside JSON strings, to any depth, with
//! `json_encode`'s escapes (`\"`, `\/`, `\u00fc`) and `urlencode`d URLs; checked against real
//! PHP's `json_decode` and `unserialize` (issue #6).

use proptest::prelude::*;
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};

use crate::util::{php_oracle, show};

/// The pairs a rule with the `json_escaped` and `url_encoded` variants expands to.
const PAIRS: [(&str, &str); 3] = [
    ("https://old.example.org", "https://new.example/ü"),
    (
        "https:\\/\\/old.example.org",
        "https:\\/\\/new.example\\/\\u00fc",
    ),
    (
        "https%3A%2F%2Fold.example.org",
        "https%3A%2F%2Fnew.example%2F%C3%BC",
    ),
];

fn rewrite(value: &[u8]) -> (Outcome, Vec<u8>) {
    let r = Replacer::new(PAIRS).unwrap();
    let mut out = Vec::new();
    let report = replace_in_value(
        value,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    assert!(report.warning.is_none(), "{}", show(value));
    match report.outcome {
        Outcome::Unchanged => (report.outcome, value.to_vec()),
        Outcome::Rewritten => (report.outcome, out),
    }
}

#[test]
fn serialized_php_in_a_json_string_gets_its_lengths() {
    // What a plugin storing serialize() output in a JSON setting writes, and sed breaks.
    let v = br#"{"opt":"a:1:{s:3:\"url\";s:25:\"https:\/\/old.example.org\/x\";}","n":1}"#;
    let (outcome, out) = rewrite(v);
    assert_eq!(outcome, Outcome::Rewritten);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"opt":"a:1:{s:3:\"url\";s:24:\"https:\/\/new.example\/\u00fc\/x\";}","n":1}"#
    );
    // And the other way round: JSON in a serialized string, written without escapes.
    let v = br#"a:1:{s:4:"json";s:33:"{"u":"https://old.example.org/x"}";}"#;
    let (_, out) = rewrite(v);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"a:1:{s:4:"json";s:32:"{"u":"https://new.example/ü/x"}";}"#
    );
}

#[test]
fn json_without_the_needle_or_not_json_stays_as_it_is() {
    for v in [
        &br#"{"a":"https:\/\/other.example","b":"\u00fc"}"#[..],
        br#"[not json https://old.example.org]"#,
    ] {
        let (outcome, out) = rewrite(v);
        if outcome == Outcome::Rewritten {
            // Not JSON: plain replacement.
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8_lossy(v)
                    .replace("https://old.example.org", "https://new.example/ü")
            );
        } else {
            assert_eq!(out, v);
        }
    }
}

/// `replace_in_value` with other pairs than [`PAIRS`]: whether it walked the JSON document
/// string by string ([`Report::json`](understudy_phpser::Report::json)), and the new value.
fn rewrite_with(pairs: &[(&str, &str)], value: &[u8]) -> (bool, Vec<u8>) {
    let r = Replacer::new(pairs.iter().copied()).unwrap();
    let mut out = Vec::new();
    let report = replace_in_value(
        value,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Rewritten, "{}", show(value));
    (report.json, out)
}

#[test]
fn a_needle_seen_as_it_is_and_elsewhere_only_escaped_is_replaced_in_both() {
    // The pairs give only the needle as it is; the second string holds it only `\/`-escaped,
    // which a plain replacement of the document would miss.
    let v = br#"{"a":"https://old.example.org/x","b":"https:\/\/old.example.org\/y"}"#;
    let (json, out) = rewrite_with(&[("https://old.example.org", "https://new.example")], v);
    assert!(json, "walked");
    let got: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        got,
        serde_json::json!({"a": "https://new.example/x", "b": "https://new.example/y"})
    );
    // Where a needle as it is (the host) overlaps the escaped form, the pairs decide, as in
    // any text: plain replacement, no walk.
    let v = br#"{"a":"https:\/\/old.example.org\/x"}"#;
    let pairs = [
        ("https://old.example.org", "https://new.example"),
        ("old.example.org", "new.example"),
    ];
    let (json, out) = rewrite_with(&pairs, v);
    assert!(!json, "not walked");
    assert_eq!(out, br#"{"a":"https:\/\/new.example\/x"}"#);
    // Also when that needle is found after the escaped form (it has another anchor): the
    // pairs replace `org\/x`, and say nothing of the escaped URL around it.
    let pairs = [
        ("https://old.example.org", "https://new.example"),
        (r"org\/x", r"org\/y"),
    ];
    let (json, out) = rewrite_with(&pairs, v);
    assert!(!json, "not walked");
    assert_eq!(out, br#"{"a":"https:\/\/old.example.org\/y"}"#);
}

#[test]
fn nest_marks_without_a_needle_in_their_string_leave_a_plain_replacement() {
    // Serialized PHP and JSON in strings of their own; the URL's string holds neither.
    let v = br#"{"o":"a:1:{s:1:\"k\";s:1:\"v\";}","j":"{\"a\":[\"b\"]}","u":"https:\/\/old.example.org\/x","s":"s:1:\"v\";"}"#;
    let r = Replacer::new(PAIRS).unwrap();
    let mut out = Vec::new();
    let report = replace_in_value(
        v,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Rewritten);
    assert!(!report.json, "not walked");
    // What the walk would write too: the pair's own escaped replacement, nothing else touched.
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"o":"a:1:{s:1:\"k\";s:1:\"v\";}","j":"{\"a\":[\"b\"]}","u":"https:\/\/new.example\/\u00fc\/x","s":"s:1:\"v\";"}"#
    );
}

/// Whatever comes first in the document, a serialized string holding the URL in a JSON string
/// is still walked, and `php` unserializes it with the new lengths.
#[test]
fn serialized_php_next_to_plain_strings_is_walked() {
    let url = |s: &str| Node::Str(format!("https://old.example.org/{s}"));
    let ser = |v: Node| Node::Wrap("ser", v.into());
    let plain = || Node::Map(vec![("a".into(), url("a")), ("b".into(), url("b"))]);
    let nested = || ser(Node::Map(vec![("u".into(), url("ü"))]));
    check(&[
        Node::List(vec![plain(), nested()]),
        Node::List(vec![nested(), plain()]),
        // Nest marks only where no URL is.
        Node::List(vec![ser(Node::Str("x".into())), plain()]),
        Node::Map(vec![("s".into(), ser(url("s"))), ("t".into(), url("t"))]),
    ])
    .unwrap();
    let v = br#"{"a":"https:\/\/old.example.org\/a","s":"a:1:{s:1:\"u\";s:25:\"https:\/\/old.example.org\/x\";}"}"#;
    let (json, out) = rewrite_with(&PAIRS, v);
    assert!(json, "walked");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":"https:\/\/new.example\/\u00fc\/a","s":"a:1:{s:1:\"u\";s:24:\"https:\/\/new.example\/\u00fc\/x\";}"}"#
    );
}

const SCRIPT: &str = r#"
const FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE;
function build($j) {
    if (!is_array($j)) return $j;
    if (isset($j['@'])) {
        $d = build($j['d']);
        switch ($j['@']) {
            case 'ser': return serialize($d);
            case 'json': return json_encode($d, JSON_THROW_ON_ERROR);
            case 'jsonu': return json_encode($d, FLAGS | JSON_THROW_ON_ERROR);
            case 'url': return urlencode($d);
            case 'b64ser': return base64_encode(serialize($d));
            case 'b64json': return base64_encode(json_encode($d, JSON_THROW_ON_ERROR));
        }
    }
    $out = [];
    foreach ($j as $k => $v) $out[$k] = build($v);
    return $out;
}
function is_ser(string $s): bool {
    if ($s === 'b:0;') return true;
    $v = @unserialize($s);
    return $v !== false && serialize($v) === $s;
}
// A JSON object or array (a JSON scalar is text: the escaped pair covers it).
function is_json(string $s): bool {
    $t = trim($s);
    if ($t === '' || !in_array($t[0], ['{', '['], true)) return false;
    json_decode($s, true);
    return json_last_error() === JSON_ERROR_NONE;
}
// The decoded bytes if $s is base64 of serialized PHP or of a JSON object or array.
function b64_inner(string $s): ?string {
    if (strlen($s) < 8 || !preg_match('~^[A-Za-z0-9+/]+=*$~', $s)) return null;
    $d = base64_decode($s, true);
    if ($d === false || base64_encode($d) !== $s) return null;
    return (is_ser($d) || is_json($d)) ? $d : null;
}
function rep(string $s): string { return str_replace($GLOBALS['N'], $GLOBALS['R'], $s); }
function replace_deep($v) {
    if (is_string($v)) {
        if (($d = b64_inner($v)) !== null) return base64_encode(replace_deep($d));
        if (is_ser($v)) return serialize(replace_deep(unserialize($v)));
        if (is_json($v)) return json_encode(replace_deep(json_decode($v, true)));
        return rep($v);
    }
    if (is_array($v)) {
        $out = [];
        foreach ($v as $k => $x) $out[is_string($k) ? rep($k) : $k] = replace_deep($x);
        return $out;
    }
    return $v;
}
// Nested serialized and JSON strings decoded, so the escaping style does not matter.
function norm($v) {
    if (is_string($v)) {
        if (($d = b64_inner($v)) !== null) return ['b64' => norm($d)];
        if (is_ser($v)) return ['ser' => norm(unserialize($v))];
        if (is_json($v)) return ['json' => norm(json_decode($v, true))];
        return $v;
    }
    if (is_array($v)) { $out = []; foreach ($v as $k => $x) $out[$k] = norm($x); return ['arr' => $out]; }
    return $v;
}
function decode(string $form, string $s) {
    if ($form === 'ser') {
        $v = @unserialize($s);
        if ($v === false && $s !== 'b:0;') throw new Exception('does not unserialize');
        return $v;
    }
    return json_decode($s, true, 512, JSON_THROW_ON_ERROR);
}
function handle(array $f): array {
    if ($f[0] === 'make') {
        $v = build(json_decode($f[1], true));
        return [serialize($v), json_encode(['v' => $v]), json_encode(['v' => $v], FLAGS)];
    }
    [$GLOBALS['N'], $GLOBALS['R']] = [[], []];
    for ($i = 3; $i + 1 < count($f); $i += 2) { $GLOBALS['N'][] = $f[$i]; $GLOBALS['R'][] = $f[$i + 1]; }
    try {
        $want = norm(replace_deep(decode($f[0], $f[1])));
        $got = norm(decode($f[0], $f[2]));
    } catch (Throwable $e) {
        return [$e->getMessage()];
    }
    if (serialize($got) !== serialize($want)) return ['differs: ' . var_export($got, true) . ' vs ' . var_export($want, true)];
    return ['ok'];
}
"#;

#[derive(Clone, Debug)]
enum Node {
    Str(String),
    Int(i64),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
    /// `serialize()`, `json_encode()` (default flags, or unescaped slashes and unicode),
    /// `urlencode()`, or `base64_encode()` of its `serialize()` or `json_encode()`, of the
    /// inner value, as a string.
    Wrap(&'static str, Box<Node>),
}

fn json(n: &Node) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap();
    match n {
        Node::Str(s) => q(s),
        Node::Int(i) => i.to_string(),
        Node::List(v) => format!("[{}]", v.iter().map(json).collect::<Vec<_>>().join(",")),
        Node::Map(kv) => format!(
            "{{{}}}",
            kv.iter()
                .map(|(k, v)| format!("{}:{}", q(k), json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Node::Wrap(how, v) => format!(r#"{{"@":"{how}","d":{}}}"#, json(v)),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,6}",
        "(https://old\\.example\\.org|x|/srv/)[a-zé/ü\"\\\\:;{}\\[\\]]{0,10}",
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        text().prop_map(Node::Str),
        any::<i16>().prop_map(|n| Node::Int(n.into())),
        text().prop_map(|s| Node::Wrap("url", Node::Str(s).into())),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Node::List),
            prop::collection::vec(
                ("(k|https://old\\.example\\.org)[a-z]{0,3}", inner.clone()),
                1..4
            )
            .prop_map(Node::Map),
            (
                prop_oneof![
                    Just("ser"),
                    Just("json"),
                    Just("jsonu"),
                    Just("b64ser"),
                    Just("b64json")
                ],
                inner
            )
                .prop_map(|(how, v)| Node::Wrap(how, v.into())),
        ]
    })
}

fn check(values: &[Node]) -> Result<(), TestCaseError> {
    let values = values.iter().map(|v| json(v).into_bytes()).collect();
    php_oracle(
        SCRIPT,
        values,
        &["ser", "json", "json"],
        &PAIRS,
        |v: &[u8]| rewrite(v).1,
    )
}

/// Three levels each way (base64 too), so the test cannot pass on luck.
#[test]
fn json_and_serialized_nested_three_deep() {
    let url = |s: &str| Node::Str(format!("https://old.example.org/{s}\"ü"));
    let wrap = |how, v: Node| Node::Wrap(how, v.into());
    let v = Node::Map(vec![
        (
            "a".into(),
            wrap(
                "json",
                Node::List(vec![wrap("ser", wrap("jsonu", Node::List(vec![url("a")])))]),
            ),
        ),
        (
            "https://old.example.org".into(),
            wrap(
                "ser",
                wrap("json", Node::Map(vec![("u".into(), wrap("url", url("q")))])),
            ),
        ),
        // base64, where no needle shows, inside serialized PHP inside JSON, and the other way.
        (
            "b".into(),
            wrap(
                "json",
                Node::List(vec![wrap(
                    "b64ser",
                    Node::List(vec![wrap("b64json", Node::List(vec![url("b")]))]),
                )]),
            ),
        ),
    ]);
    check(&[v]).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]
    #[test]
    fn php_decodes_our_json_like_its_own_replacement(values in prop::collection::vec(node(), 30..60)) {
        check(&values)?;
    }
}
